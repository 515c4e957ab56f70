//! The main window: conversation list, chat pane, friends, groups, settings.
//!
//! Everything shown comes from the local store; the live session (a
//! subscription keyed by the profile's database) keeps the store current and
//! tells this screen what changed. Sending writes to the outbox first, so a
//! message typed offline is kept and sent when the connection returns.

pub mod attach;
pub mod call;
pub mod group_info;
mod live;
mod panels;
pub mod profile;
pub mod session;
mod view;
pub mod voice;

use std::collections::{BTreeSet, HashMap};

use iced::widget::{image, text_editor};
use iced::{Subscription, Task};
use natter_i18n::{I18n, Language};
use natter_net::Client;
use natter_proto::model::{
    ConversationId, Friend, FriendRequest, Group, Message as ChatMessage, MessageBody, Profile,
    UserId, UserSummary,
};
use natter_store::{Account, Conversation, OutboxEntry, Store};

use crate::app::{Settings, Shared, ThemeChoice};

/// How many messages the chat pane holds at most; older ones load on demand.
pub const WINDOW: usize = 300;
/// Messages loaded per page.
pub const PAGE: usize = 50;

/// What the screen needs from the app.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// Translations.
    pub i18n: &'a I18n,
    /// Preferences.
    pub settings: &'a Settings,
    /// Whether the window has focus.
    pub focused: bool,
}

/// The left-hand panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// Conversations.
    Chats,
    /// Friends and requests.
    Contacts,
    /// Groups.
    Groups,
    /// Profile and settings.
    Settings,
}

/// Connection status for the header.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Dialling.
    Connecting,
    /// Connected, catching up.
    Syncing,
    /// Connected and current.
    Online,
    /// Lost; retrying in this many seconds.
    Offline(u64),
}

/// The main window's state.
pub struct Main {
    /// New-message chimes this screen asked for.
    chimes: u64,
    store: Store,
    account: Account,
    client: Option<Client>,
    status: Status,
    panel: Panel,
    conversations: Vec<Conversation>,
    selected: Option<ConversationId>,
    messages: Vec<ChatMessage>,
    pending: Vec<OutboxEntry>,
    more_above: bool,
    composer: text_editor::Content,
    emoji_open: bool,
    users: HashMap<UserId, UserSummary>,
    friends: Vec<Friend>,
    requests: Vec<FriendRequest>,
    groups: Vec<Group>,
    online: BTreeSet<UserId>,
    typing: HashMap<ConversationId, UserId>,
    search: String,
    results: Vec<ChatMessage>,
    friend_query: String,
    found: Vec<UserSummary>,
    request_note: String,
    group_name: String,
    group_pick: BTreeSet<UserId>,
    notice: Option<String>,
    show_chat_narrow: bool,
    last_typing: Option<std::time::Instant>,
    shown: bool,
    group_info: Option<group_info::GroupInfo>,
    nickname: Option<String>,
    avatar_busy: bool,
    avatars: HashMap<String, image::Handle>,
    /// Pictures of image messages, by file id, once fetched and decoded.
    pictures: HashMap<String, image::Handle>,
    pictures_requested: BTreeSet<String>,
    /// A voice message being recorded.
    recording: Option<voice::Recording>,
    /// The voice message being played, by file id, and its stop switch.
    playing: Option<(String, std::sync::Arc<std::sync::atomic::AtomicBool>)>,
    avatar_requested: BTreeSet<String>,
    phone: Option<natter_media::phone::Phone>,
    call: Option<call::Call>,
    devices: call::Devices,
    device_list: Option<natter_media::device::DeviceList>,
    early_notices: Vec<natter_proto::call::CallNotice>,
    call_records: HashMap<ConversationId, ChatMessage>,
}

/// Messages of the main window.
#[derive(Debug, Clone)]
pub enum Message {
    /// From the live session.
    Session(session::Update),
    /// The conversation list was reloaded.
    Conversations(Vec<Conversation>),
    /// Friends, requests and groups were reloaded.
    Social(
        Vec<Friend>,
        Vec<FriendRequest>,
        Vec<Group>,
        Vec<UserSummary>,
    ),
    /// A panel was picked.
    Panel(Panel),
    /// A conversation was opened.
    Select(ConversationId),
    /// Back to the list (narrow layout).
    Back,
    /// History of the open conversation loaded (messages, pending, more above).
    Loaded(ConversationId, Vec<ChatMessage>, Vec<OutboxEntry>, bool),
    /// Load older messages.
    LoadOlder,
    /// Older messages loaded.
    Older(ConversationId, Vec<ChatMessage>),
    /// Composer edit.
    Edit(text_editor::Action),
    /// Send the composer's text.
    Send,
    /// Toggle the emoji picker.
    ToggleEmoji,
    /// Insert an emoji.
    Emoji(&'static str),
    /// Pin or unpin a conversation.
    Pin(ConversationId, bool),
    /// Mute or unmute a conversation.
    Mute(ConversationId, bool),
    /// Resend a failed message.
    Resend(ConversationId, String),
    /// Search field.
    Search(String),
    /// Search results.
    Results(Vec<ChatMessage>),
    /// Friend search field.
    FriendQuery(String),
    /// Find an account.
    FindFriend,
    /// Accounts found.
    Found(Result<Vec<UserSummary>, Shared<natter_net::Error>>),
    /// Request note field.
    RequestNote(String),
    /// Ask someone to be friends.
    Request(UserId),
    /// Answer a request.
    Answer(u64, bool),
    /// Open the chat with a friend.
    Chat(ConversationId),
    /// New group name field.
    GroupName(String),
    /// Pick a friend for the new group.
    Pick(UserId, bool),
    /// Create the group.
    CreateGroup,
    /// Leave a group.
    LeaveGroup(ConversationId),
    /// Open (or close) the info panel of a group.
    OpenGroupInfo(ConversationId),
    /// From the group info panel.
    GroupInfo(group_info::Message),
    /// The nickname field changed.
    NicknameEdit(String),
    /// Save the nickname.
    SaveNickname,
    /// Open the picture picker for the avatar.
    ChooseAvatar,
    /// A picture was picked (or the picker was closed).
    AvatarPicked(Option<std::path::PathBuf>),
    /// The relay saved the profile.
    ProfileSaved(Result<Profile, profile::ProfileError>),
    /// An avatar picture was fetched and decoded (or could not be).
    AvatarLoaded(String, Option<image::Handle>),
    /// A REST call finished; show its error, or this notice.
    Done(Result<String, Shared<natter_net::Error>>),
    /// Language picked.
    Language(Language),
    /// Theme picked.
    Theme(ThemeChoice),
    /// Text size changed.
    FontSize(f32),
    /// Notifications toggled.
    Notifications(bool),
    /// Calls.
    Call(call::Message),
    /// Pictures and files.
    Attach(attach::Message),
    /// Voice messages.
    Voice(voice::Message),
    /// Devices chosen for calls.
    Devices(call::Devices),
    /// The devices present, listed.
    DeviceList(natter_media::device::DeviceList),
    /// Call records shown as conversation previews were loaded.
    CallRecords(Vec<ChatMessage>),
    /// Sign out.
    SignOut,
    /// Signed out.
    SignedOut,
    /// Nothing to do (a background write finished).
    Nothing,
}

/// What the app must act on.
#[derive(Debug, Clone)]
pub enum Event {
    /// Switch language.
    Language(Language),
    /// Switch theme.
    Theme(ThemeChoice),
    /// Change text size.
    FontSize(f32),
    /// Toggle notifications.
    Notifications(bool),
    /// Devices for calls chosen.
    Devices(call::Devices),
    /// Back to the login screen.
    SignedOut,
}

impl Main {
    /// The main window for a signed-in account; loads the lists.
    pub fn new(store: Store, account: Account) -> (Main, Task<Message>) {
        let mut users = HashMap::new();
        users.insert(account.id(), account.profile.user.clone());
        let main = Main {
            chimes: 0,
            store,
            account,
            client: None,
            status: Status::Connecting,
            panel: Panel::Chats,
            conversations: Vec::new(),
            selected: None,
            messages: Vec::new(),
            pending: Vec::new(),
            more_above: false,
            composer: text_editor::Content::new(),
            emoji_open: false,
            users,
            friends: Vec::new(),
            requests: Vec::new(),
            groups: Vec::new(),
            online: BTreeSet::new(),
            typing: HashMap::new(),
            search: String::new(),
            results: Vec::new(),
            friend_query: String::new(),
            found: Vec::new(),
            request_note: String::new(),
            group_name: String::new(),
            group_pick: BTreeSet::new(),
            notice: None,
            show_chat_narrow: false,
            last_typing: None,
            shown: false,
            group_info: None,
            nickname: None,
            avatar_busy: false,
            avatars: HashMap::new(),
            pictures: HashMap::new(),
            pictures_requested: BTreeSet::new(),
            recording: None,
            playing: None,
            avatar_requested: BTreeSet::new(),
            phone: None,
            call: None,
            devices: call::Devices::default(),
            device_list: None,
            early_notices: Vec::new(),
            call_records: HashMap::new(),
        };
        let task = Task::batch([main.reload_conversations(), main.reload_social()]);
        (main, task)
    }

    /// The signed-in account's nickname.
    pub fn me_name(&self) -> &str {
        &self.account.profile.user.nickname
    }

    /// How many new-message chimes this screen has asked for.
    pub fn chimes(&self) -> u64 {
        self.chimes
    }

    fn me(&self) -> UserId {
        self.account.id()
    }

    /// The signed-in account's profile as this window knows it.
    pub fn profile(&self) -> &Profile {
        &self.account.profile
    }

    /// The live client, once the session has one.
    pub fn client(&self) -> Option<&Client> {
        self.client.as_ref()
    }

    /// The group whose info panel is open.
    pub fn group_info_open(&self) -> Option<ConversationId> {
        self.group_info.as_ref().map(|g| g.id)
    }

    /// The live session, for as long as this screen shows, and the phone while
    /// the session has a client.
    pub fn subscription(&self) -> Subscription<Message> {
        let mut subs = vec![
            session::subscription(&self.store).map(Message::Session),
            self.call_subscriptions().map(Message::Call),
            self.voice_subscription(),
        ];
        if self.panel == Panel::Settings {
            // The device pickers follow devices plugged in or out while they show.
            subs.push(Subscription::run(device_watch).map(Message::DeviceList));
        }
        Subscription::batch(subs)
    }

    fn reload_conversations(&self) -> Task<Message> {
        let store = self.store.clone();
        Task::perform(
            async move { store.conversations().await.unwrap_or_default() },
            Message::Conversations,
        )
    }

    fn reload_social(&self) -> Task<Message> {
        let store = self.store.clone();
        Task::perform(
            async move {
                let friends = store.friends().await.unwrap_or_default();
                let requests = store.friend_requests().await.unwrap_or_default();
                let groups = store.groups().await.unwrap_or_default();
                // Friends last: their profile changes reach this account, while a
                // group's member list keeps what members looked like on joining.
                let mut users: Vec<UserSummary> = groups
                    .iter()
                    .flat_map(|g| g.members.iter().map(|m| m.user.clone()))
                    .collect();
                users.extend(friends.iter().map(|f| f.user.clone()));
                (friends, requests, groups, users)
            },
            |(f, r, g, u)| Message::Social(f, r, g, u),
        )
    }

    fn load_selected(&self) -> Task<Message> {
        let Some(id) = self.selected else {
            return Task::none();
        };
        let store = self.store.clone();
        let client = self.client.clone();
        Task::perform(
            async move {
                let messages = match &client {
                    Some(c) => c.history(id, None, PAGE).await.unwrap_or_default(),
                    None => store.history(id, None, PAGE).await.unwrap_or_default(),
                };
                let pending: Vec<OutboxEntry> = store
                    .outbox()
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|e| e.conversation == id)
                    .collect();
                let conv = store.conversation(id).await.ok().flatten();
                let first = messages.first().map(|m| m.seq).unwrap_or(u64::MAX);
                let more = conv.is_some_and(|c| first > c.first_seq && c.last_seq > 0);
                (id, messages, pending, more)
            },
            |(id, m, p, more)| Message::Loaded(id, m, p, more),
        )
    }

    fn mark_read(&self) -> Task<Message> {
        let (Some(id), Some(client)) = (self.selected, self.client.clone()) else {
            return Task::none();
        };
        let Some(last) = self.messages.last().map(|m| m.seq) else {
            return Task::none();
        };
        let unread = self
            .conversations
            .iter()
            .any(|c| c.id == id && c.unread > 0);
        if !unread {
            return Task::none();
        }
        Task::perform(async move { client.mark_read(id, last).await.ok() }, |_| {
            Message::Nothing
        })
        .chain(self.reload_conversations())
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message, ctx: Context<'_>) -> (Task<Message>, Option<Event>) {
        self.follow_devices(ctx);
        let task = match message {
            Message::Session(update) => return self.on_session(update, ctx),
            Message::Conversations(list) => {
                if !self.shown
                    && let Some(start) = crate::STARTED.get()
                {
                    self.shown = true;
                    tracing::info!(
                        ms = start.elapsed().as_millis() as u64,
                        conversations = list.len(),
                        "conversation list ready"
                    );
                }
                self.conversations = list;
                self.load_call_records()
            }
            Message::CallRecords(records) => {
                for m in records {
                    self.call_records.insert(m.conversation, m);
                }
                Task::none()
            }
            Message::Call(m) => self.update_call(m, ctx),
            Message::Devices(devices) => return (Task::none(), Some(Event::Devices(devices))),
            Message::DeviceList(list) => {
                self.device_list = Some(list);
                Task::none()
            }
            Message::Social(friends, requests, groups, users) => {
                self.friends = friends;
                self.requests = requests;
                self.groups = groups;
                for u in users {
                    self.users.insert(u.id, u);
                }
                let me = self.account.profile.user.clone();
                self.users.insert(me.id, me);
                self.fetch_avatars()
            }
            Message::Panel(p) => {
                self.panel = p;
                self.notice = None;
                if p == Panel::Settings {
                    // Listing devices can block on the sound system.
                    Task::perform(
                        async {
                            tokio::task::spawn_blocking(natter_media::device::list_devices)
                                .await
                                .unwrap_or_default()
                        },
                        Message::DeviceList,
                    )
                } else {
                    Task::none()
                }
            }
            Message::Select(id) => self.select(id),
            Message::Chat(id) => {
                self.panel = Panel::Chats;
                self.select(id)
            }
            Message::Back => {
                self.show_chat_narrow = false;
                Task::none()
            }
            Message::Loaded(id, messages, pending, more) => {
                if Some(id) == self.selected {
                    self.messages = messages;
                    self.pending = pending;
                    self.more_above = more;
                    Task::batch([self.mark_read(), self.fetch_pictures()])
                } else {
                    Task::none()
                }
            }
            Message::LoadOlder => {
                let (Some(id), Some(first)) = (self.selected, self.messages.first().map(|m| m.seq))
                else {
                    return (Task::none(), None);
                };
                let client = self.client.clone();
                let store = self.store.clone();
                Task::perform(
                    async move {
                        let page = match client {
                            Some(c) => c.history(id, Some(first), PAGE).await.unwrap_or_default(),
                            None => store
                                .history(id, Some(first), PAGE)
                                .await
                                .unwrap_or_default(),
                        };
                        (id, page)
                    },
                    |(id, page)| Message::Older(id, page),
                )
            }
            Message::Older(id, page) => {
                if Some(id) == self.selected {
                    self.more_above = page.len() == PAGE;
                    let mut merged = page;
                    merged.append(&mut self.messages);
                    // Keep a window: while reading back, drop the newest beyond it.
                    merged.truncate(WINDOW.max(PAGE));
                    self.messages = merged;
                    return (self.fetch_pictures(), None);
                }
                Task::none()
            }
            Message::Edit(action) => {
                let typed = action.is_edit();
                self.composer.perform(action);
                // Tell the conversation at most every three seconds.
                let due = self
                    .last_typing
                    .is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(3));
                if typed
                    && due
                    && let (Some(id), Some(c)) = (self.selected, &self.client)
                {
                    c.typing(id);
                    self.last_typing = Some(std::time::Instant::now());
                }
                Task::none()
            }
            Message::Send => self.send(),
            Message::ToggleEmoji => {
                self.emoji_open = !self.emoji_open;
                Task::none()
            }
            Message::Emoji(e) => {
                for ch in e.chars() {
                    self.composer
                        .perform(text_editor::Action::Edit(text_editor::Edit::Insert(ch)));
                }
                Task::none()
            }
            Message::Pin(id, on) => {
                let store = self.store.clone();
                Task::perform(async move { store.set_pinned(id, on).await.ok() }, |_| {
                    Message::Nothing
                })
                .chain(self.reload_conversations())
            }
            Message::Mute(id, on) => {
                let store = self.store.clone();
                Task::perform(async move { store.set_muted(id, on).await.ok() }, |_| {
                    Message::Nothing
                })
                .chain(self.reload_conversations())
            }
            Message::Resend(conv, client_id) => match self.client.clone() {
                Some(c) => {
                    Task::perform(async move { c.resend(conv, &client_id).await.ok() }, |_| {
                        Message::Nothing
                    })
                    .chain(self.load_selected())
                }
                None => Task::none(),
            },
            Message::Search(q) => {
                self.search = q.clone();
                if q.trim().is_empty() {
                    self.results.clear();
                    return (Task::none(), None);
                }
                let store = self.store.clone();
                Task::perform(
                    async move { store.search(&q, None, 50).await.unwrap_or_default() },
                    Message::Results,
                )
            }
            Message::Results(r) => {
                self.results = r;
                Task::none()
            }
            Message::OpenGroupInfo(id) => {
                self.group_info = match &self.group_info {
                    Some(open) if open.id == id => None,
                    _ => Some(group_info::GroupInfo::new(id)),
                };
                Task::none()
            }
            Message::GroupInfo(m) => {
                let Some(info) = &mut self.group_info else {
                    return (Task::none(), None);
                };
                let group = self.groups.iter().find(|g| g.id == info.id);
                match info.update(m, group) {
                    Some(group_info::Event::Close) => {
                        self.group_info = None;
                        Task::none()
                    }
                    Some(group_info::Event::Request(id, request)) => {
                        panels::group_request(self, id, request, ctx.i18n)
                    }
                    None => Task::none(),
                }
            }
            m @ (Message::NicknameEdit(_)
            | Message::SaveNickname
            | Message::ChooseAvatar
            | Message::AvatarPicked(_)
            | Message::ProfileSaved(_)
            | Message::AvatarLoaded(..)) => self.update_profile(m, ctx.i18n),
            Message::Attach(m) => self.update_attach(m, ctx.i18n),
            Message::Voice(m) => self.update_voice(m, ctx.i18n),
            other => return panels::update(self, other, ctx),
        };
        (task, None)
    }

    fn select(&mut self, id: ConversationId) -> Task<Message> {
        // Keep the draft of the conversation being left.
        let mut tasks = Vec::new();
        if let Some(prev) = self.selected
            && prev != id
        {
            let draft = self.composer.text().trim_end().to_string();
            let store = self.store.clone();
            tasks.push(Task::perform(
                async move { store.set_draft(prev, draft).await.ok() },
                |_| Message::Nothing,
            ));
            if let Some(c) = self.conversations.iter_mut().find(|c| c.id == prev) {
                c.draft = self.composer.text().trim_end().to_string();
            }
        }
        if self.selected != Some(id) {
            self.group_info = None;
            let draft = self
                .conversations
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.draft.clone())
                .unwrap_or_default();
            self.composer = text_editor::Content::with_text(&draft);
        }
        self.selected = Some(id);
        self.show_chat_narrow = true;
        self.messages.clear();
        self.pending.clear();
        tasks.push(self.load_selected());
        // A conversation just created (a new friend, a new group) may not be in
        // the list yet.
        if !self.conversations.iter().any(|c| c.id == id) {
            tasks.push(self.reload_conversations());
        }
        Task::batch(tasks)
    }

    fn send(&mut self) -> Task<Message> {
        let text = self.composer.text().trim().to_string();
        let (Some(id), Some(client)) = (self.selected, self.client.clone()) else {
            return Task::none();
        };
        if text.is_empty() {
            return Task::none();
        }
        self.composer = text_editor::Content::new();
        self.emoji_open = false;
        let store = self.store.clone();
        Task::perform(
            async move {
                let _ = client.send(id, MessageBody::Text { text }, None).await;
                let _ = store.set_draft(id, String::new()).await;
            },
            |_| Message::Nothing,
        )
        .chain(self.load_selected())
    }
}

/// Device lists as they change, re-listed every two seconds off the UI thread.
fn device_watch() -> impl iced::futures::Stream<Item = natter_media::device::DeviceList> {
    use iced::futures::SinkExt;
    iced::stream::channel(2, async |mut out| {
        let watch = tokio::task::spawn_blocking(|| {
            natter_media::device::watch_devices(std::time::Duration::from_secs(2))
        })
        .await;
        let Ok(Ok(mut rx)) = watch else {
            tracing::warn!("cannot watch media devices");
            return;
        };
        while rx.changed().await.is_ok() {
            let list = rx.borrow_and_update().clone();
            if out.send(list).await.is_err() {
                break;
            }
        }
    })
}
