//! The main window: conversation list, chat pane, friends, groups, settings.
//!
//! Everything shown comes from the local store; the live session (a
//! subscription keyed by the profile's database) keeps the store current and
//! tells this screen what changed. Sending writes to the outbox first, so a
//! message typed offline is kept and sent when the connection returns.

mod actions;
pub mod attach;
pub mod call;
pub mod chat;
pub mod composer;
pub mod contacts;
pub mod forward;
pub mod group_call;
pub mod group_info;
pub mod groups;
pub mod incoming;
mod live;
mod loading;
pub mod mention;
mod notice;
mod panels;
mod preview;
pub mod profile;
pub mod session;
pub mod settings;
pub mod sidebar;
pub mod transfer;
mod view;
pub mod viewer;
pub mod voice;

pub use notice::{NOTICE_SHOWN, Notice};

use std::collections::{BTreeSet, HashMap};

use iced::widget::image;
use iced::{Subscription, Task};
use natter_i18n::{I18n, Language};
use natter_net::Client;
use natter_proto::model::{
    ConversationId, Friend, FriendRequest, Group, Message as ChatMessage, Profile, UserId,
    UserSummary,
};
use natter_store::{Account, Conversation, Store};

use crate::app::{Settings, Shared, ThemeChoice};

pub use chat::{PAGE, WINDOW};

/// How long a typing indicator lasts after the last typing frame.
pub const TYPING_SHOWN: std::time::Duration = std::time::Duration::from_secs(5);

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
    sidebar: sidebar::Sidebar,
    conversations: Vec<Conversation>,
    selected: Option<ConversationId>,
    chat: chat::Chat,
    composer: composer::Composer,
    forward: Option<forward::Forward>,
    users: HashMap<UserId, UserSummary>,
    friends: Vec<Friend>,
    requests: Vec<FriendRequest>,
    groups: Vec<Group>,
    online: BTreeSet<UserId>,
    /// Who is typing where, and when they last said so.
    typing: HashMap<ConversationId, (UserId, std::time::Instant)>,
    contacts: contacts::Contacts,
    groups_panel: groups::Groups,
    notice: Notice,
    show_chat_narrow: bool,
    shown: bool,
    group_info: Option<group_info::GroupInfo>,
    settings: settings::Settings,
    avatars: HashMap<String, image::Handle>,
    /// Pictures of image messages, by file id, once fetched and decoded.
    pictures: HashMap<String, image::Handle>,
    pictures_requested: BTreeSet<String>,
    /// Files dropped and pictures pasted, waiting to be sent.
    incoming: incoming::Incoming,
    /// Uploads and downloads, running or stopped.
    transfers: transfer::Transfers,
    /// The picture viewer, while open.
    viewer: Option<viewer::Viewer>,
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
    /// Group calls running in this account's groups.
    group_calls: HashMap<ConversationId, group_call::Running>,
    /// The group call this device takes part in.
    group_call: Option<group_call::InCall>,
    /// A group call being set up: what the relay says about it meanwhile
    /// (its offer, who takes part) waits here for the call.
    group_opening: Option<Vec<natter_proto::call::CallNotice>>,
    /// When a group call last rang here.
    group_ring: Option<std::time::Instant>,
    /// Group calls that rang with the window in the background.
    group_alerts: u32,
    /// Media for group calls other than the chosen devices (headless clients).
    group_call_media: Option<natter_media::MediaConfig>,
    call_records: HashMap<ConversationId, ChatMessage>,
    /// Conversations with an unread message mentioning the reader.
    mentioned: BTreeSet<ConversationId>,
    /// Read cursors of the open group's members.
    reads: HashMap<UserId, u64>,
}

/// Messages of the main window.
#[derive(Debug, Clone)]
pub enum Message {
    /// From the live session.
    Session(session::Update),
    /// The conversation list was reloaded.
    Conversations(Vec<Conversation>),
    /// Conversations with an unread mention of the reader.
    Mentioned(BTreeSet<ConversationId>),
    /// Open a conversation at a message (a search hit).
    OpenAt(ConversationId, u64),
    /// Read cursors of a group's members arrived.
    Reads(ConversationId, Vec<natter_proto::rest::ReadCursor>),
    /// Friends, requests and groups were reloaded.
    Social(
        Vec<Friend>,
        Vec<FriendRequest>,
        Vec<Group>,
        Vec<UserSummary>,
    ),
    /// From the sidebar.
    Sidebar(sidebar::Message),
    /// Back to the list (narrow layout).
    Back,
    /// From the chat.
    Chat(chat::Message),
    /// From the composer.
    Composer(composer::Message),
    /// From the forward picker.
    Forward(forward::Message),
    /// Typing indicators are looked at again.
    TypingTick,
    /// Operations the relay refused (recall, edit, reaction), by error code.
    OpsRefused(Vec<natter_proto::ErrorCode>),
    /// Pin or unpin a conversation.
    Pin(ConversationId, bool),
    /// Mute or unmute a conversation.
    Mute(ConversationId, bool),
    /// From the contacts panel.
    Contacts(contacts::Message),
    /// From the groups panel.
    Groups(groups::Message),
    /// Open (or close) the info panel of a group.
    OpenGroupInfo(ConversationId),
    /// From the group info panel.
    GroupInfo(group_info::Message),
    /// From the settings panel.
    Settings(settings::Message),
    /// An avatar picture was fetched and decoded (or could not be).
    AvatarLoaded(String, Option<image::Handle>),
    /// A REST call finished; show its error, or this notice.
    Done(Result<String, Shared<natter_net::Error>>),
    /// Calls.
    Call(call::Message),
    /// Group calls.
    GroupCall(group_call::Message),
    /// Pictures and files.
    Attach(attach::Message),
    /// Voice messages.
    Voice(voice::Message),
    /// From the picture viewer.
    Viewer(viewer::Message),
    /// Devices chosen for calls.
    Devices(call::Devices),
    /// The devices present, listed.
    DeviceList(natter_media::device::DeviceList),
    /// Call records shown as conversation previews were loaded.
    CallRecords(Vec<ChatMessage>),
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
    /// An emoji picked in the composer, to put first among the recent ones.
    EmojiUsed(&'static str),
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
            sidebar: sidebar::Sidebar::default(),
            conversations: Vec::new(),
            selected: None,
            chat: chat::Chat::default(),
            composer: composer::Composer::default(),
            forward: None,
            users,
            friends: Vec::new(),
            requests: Vec::new(),
            groups: Vec::new(),
            online: BTreeSet::new(),
            typing: HashMap::new(),
            contacts: contacts::Contacts::default(),
            groups_panel: groups::Groups::default(),
            notice: Notice::default(),
            show_chat_narrow: false,
            shown: false,
            group_info: None,
            settings: settings::Settings::default(),
            avatars: HashMap::new(),
            pictures: HashMap::new(),
            pictures_requested: BTreeSet::new(),
            incoming: incoming::Incoming::default(),
            transfers: transfer::Transfers::default(),
            viewer: None,
            recording: None,
            playing: None,
            avatar_requested: BTreeSet::new(),
            phone: None,
            call: None,
            devices: call::Devices::default(),
            device_list: None,
            early_notices: Vec::new(),
            group_calls: HashMap::new(),
            group_call: None,
            group_opening: None,
            group_ring: None,
            group_alerts: 0,
            group_call_media: None,
            call_records: HashMap::new(),
            mentioned: BTreeSet::new(),
            reads: HashMap::new(),
        };
        let transfers = Task::perform(transfer::load(main.store.clone()), |saved| {
            Message::Attach(attach::Message::TransfersLoaded(saved))
        });
        let task = Task::batch([main.reload_conversations(), main.reload_social(), transfers]);
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

    /// The open conversation's chat.
    pub fn chat(&self) -> &chat::Chat {
        &self.chat
    }

    /// What the composer holds.
    pub fn composer_text(&self) -> String {
        self.composer.text()
    }

    /// The conversation list.
    pub fn conversations(&self) -> &[Conversation] {
        &self.conversations
    }

    /// The picture viewer, while open.
    pub fn viewer(&self) -> Option<&viewer::Viewer> {
        self.viewer.as_ref()
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
            self.group_call_subscription().map(Message::GroupCall),
            self.voice_subscription(),
        ];
        if !self.typing.is_empty() || self.notice.is_up() {
            subs.push(
                iced::time::every(std::time::Duration::from_secs(1)).map(|_| Message::TypingTick),
            );
        }
        if self.viewer.is_some() {
            subs.push(
                iced::keyboard::listen()
                    .filter_map(viewer::key)
                    .map(Message::Viewer),
            );
        }
        if self.sidebar.panel() == Panel::Settings {
            // The device pickers follow devices plugged in or out while they show.
            subs.push(Subscription::run(loading::device_watch).map(Message::DeviceList));
        }
        Subscription::batch(subs)
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
                Task::batch([self.load_call_records(), self.find_mentions()])
            }
            Message::Reads(id, reads) => {
                if self.selected == Some(id) {
                    self.reads = reads.into_iter().map(|r| (r.user, r.seq)).collect();
                }
                Task::none()
            }
            Message::Mentioned(set) => {
                self.mentioned = set;
                Task::none()
            }
            Message::OpenAt(id, seq) => {
                self.sidebar.show(Panel::Chats);
                let open = self.select(id);
                let (jump, _) = self.chat.update(
                    chat::Message::Jump(seq),
                    chat::Ctx {
                        store: &self.store,
                        client: self.client.as_ref(),
                        me: self.account.id(),
                    },
                );
                open.chain(jump.map(Message::Chat))
            }
            Message::CallRecords(records) => {
                for m in records {
                    self.call_records.insert(m.conversation, m);
                }
                Task::none()
            }
            Message::Call(m) => self.update_call(m, ctx),
            Message::GroupCall(m) => self.update_group_call(m, ctx),
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
            Message::Sidebar(m) => {
                let (task, event) = self.sidebar.update(m, &self.store);
                let more = match event {
                    None => Task::none(),
                    Some(sidebar::Event::Select(id)) => {
                        // A chat picked beside the settings shows the chat.
                        self.sidebar.show(Panel::Chats);
                        self.select(id)
                    }
                    Some(sidebar::Event::RetryNow) => {
                        if let Some(client) = &self.client
                            && client
                                .session()
                                .send(natter_net::session::Command::Reconnect)
                        {
                            self.status = Status::Connecting;
                        }
                        Task::none()
                    }
                    Some(sidebar::Event::OpenAt(id, seq)) => {
                        return self.update(Message::OpenAt(id, seq), ctx);
                    }
                    Some(sidebar::Event::Panel(p)) => {
                        self.notice.set(None);
                        // A tab (or the way back from the settings) shows
                        // its list, not the chat last open.
                        self.show_chat_narrow = false;
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
                };
                Task::batch([task.map(Message::Sidebar), more])
            }
            Message::Contacts(m) => {
                let (task, event) = self.contacts.update(m, self.client.as_ref(), ctx.i18n);
                let more = match event {
                    Some(e) => self.on_panel(e, ctx.i18n),
                    None => Task::none(),
                };
                Task::batch([task.map(Message::Contacts), more])
            }
            Message::Groups(m) => {
                let (task, event) = self.groups_panel.update(m, self.client.as_ref(), ctx.i18n);
                let more = match event {
                    None => Task::none(),
                    Some(groups::Event::Panel(e)) => self.on_panel(e, ctx.i18n),
                    Some(groups::Event::Leaving(id)) => {
                        if self.selected == Some(id) {
                            self.selected = None;
                            self.chat = chat::Chat::default();
                        }
                        Task::none()
                    }
                };
                Task::batch([task.map(Message::Groups), more])
            }
            Message::Back => {
                self.show_chat_narrow = false;
                Task::none()
            }
            Message::Chat(m) => return self.update_chat(m, ctx),
            Message::Composer(m) => return self.update_composer(m, ctx),
            Message::Forward(m) => self.update_forward(m, ctx),
            Message::TypingTick => {
                self.typing.retain(|_, (_, at)| at.elapsed() < TYPING_SHOWN);
                self.notice.expire();
                Task::none()
            }
            Message::OpsRefused(codes) => {
                if let Some(code) = codes.last() {
                    self.notice.set(Some(crate::code_text(ctx.i18n, *code)));
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
            Message::AvatarLoaded(id, handle) => {
                self.avatar_loaded(id, handle);
                Task::none()
            }
            Message::Settings(m) => {
                let me = self.account.profile.user.clone();
                let (task, event) = self.settings.update(m, self.client.as_ref(), &me, ctx.i18n);
                let task = task.map(Message::Settings);
                return match event {
                    None => (task, None),
                    Some(settings::Event::Language(l)) => (task, Some(Event::Language(l))),
                    Some(settings::Event::Theme(t)) => (task, Some(Event::Theme(t))),
                    Some(settings::Event::FontSize(s)) => (task, Some(Event::FontSize(s))),
                    Some(settings::Event::Notifications(on)) => {
                        (task, Some(Event::Notifications(on)))
                    }
                    Some(settings::Event::Devices(d)) => (task, Some(Event::Devices(d))),
                    Some(settings::Event::SignOut) => match self.client.clone() {
                        Some(c) => (
                            Task::batch([
                                task,
                                Task::perform(async move { c.sign_out().await.ok() }, |_| {
                                    Message::SignedOut
                                }),
                            ]),
                            None,
                        ),
                        None => (Task::batch([task, Task::done(Message::SignedOut)]), None),
                    },
                    Some(settings::Event::Notice(n)) => {
                        self.notice.set(Some(n));
                        (task, None)
                    }
                    Some(settings::Event::Saved(profile)) => {
                        let more = self.profile_saved(profile, ctx.i18n);
                        (Task::batch([task, more]), None)
                    }
                    Some(settings::Event::Failed(e)) => {
                        self.profile_failed(&e, ctx.i18n);
                        (task, None)
                    }
                };
            }
            Message::Attach(m) => self.update_attach(m, ctx.i18n),
            Message::Voice(m) => self.update_voice(m, ctx.i18n),
            Message::Viewer(m) => match self.viewer.as_mut().and_then(|v| v.update(m)) {
                Some(viewer::Event::Save(file)) => {
                    self.update_attach(attach::Message::Save(file), ctx.i18n)
                }
                Some(viewer::Event::Close) => {
                    self.viewer = None;
                    Task::none()
                }
                None => Task::none(),
            },
            other => return panels::update(self, other, ctx),
        };
        (task, None)
    }
}
