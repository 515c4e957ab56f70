//! What the main window loads: conversations, friends and groups from the
//! store and the relay, the selected chat's history, mentions and read
//! cursors, and the device list while the settings show.

use super::*;

impl Main {
    pub(super) fn reload_conversations(&self) -> Task<Message> {
        let store = self.store.clone();
        Task::perform(
            async move { store.conversations().await.unwrap_or_default() },
            Message::Conversations,
        )
    }

    pub(super) fn reload_social(&self) -> Task<Message> {
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

    /// Reads the open conversation's newest page again.
    pub(super) fn load_selected(&mut self) -> Task<Message> {
        let ctx = chat::Ctx {
            store: &self.store,
            client: self.client.as_ref(),
            me: self.account.id(),
        };
        self.chat.refresh(ctx).map(Message::Chat)
    }

    /// Looks through unread group messages for mentions of the reader.
    pub(super) fn find_mentions(&self) -> Task<Message> {
        let me = self.me();
        let wanted: Vec<(ConversationId, u64, u64)> = self
            .conversations
            .iter()
            .filter(|c| {
                c.unread > 0
                    && matches!(c.kind, natter_proto::model::ConversationKind::Group { .. })
            })
            .map(|c| (c.id, c.read_seq + 1, c.last_seq))
            .collect();
        if wanted.is_empty() && self.mentioned.is_empty() {
            return Task::none();
        }
        let store = self.store.clone();
        Task::perform(
            async move {
                let mut found = BTreeSet::new();
                for (id, from, to) in wanted {
                    let unread = store
                        .messages(id, from, to, 500, true)
                        .await
                        .unwrap_or_default();
                    if unread
                        .iter()
                        .any(|m| m.sender != me && m.extras.mentions(me))
                    {
                        found.insert(id);
                    }
                }
                found
            },
            Message::Mentioned,
        )
    }

    pub(super) fn mark_read(&self) -> Task<Message> {
        let (Some(id), Some(client)) = (self.selected, self.client.clone()) else {
            return Task::none();
        };
        let Some(last) = self.chat.messages().last().map(|m| m.seq) else {
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

    /// Reads the members' read cursors of a group (nothing for 1:1 chats,
    /// whose read state comes with the conversation).
    pub(super) fn fetch_reads(&self, id: ConversationId) -> Task<Message> {
        let group = self.groups.iter().any(|g| g.id == id);
        let Some(client) = self.client.clone().filter(|_| group) else {
            return Task::none();
        };
        Task::perform(
            async move {
                let token = client.token().await.ok()?;
                client.http().reads(&token, id).await.ok()
            },
            move |r| Message::Reads(id, r.map(|r| r.reads).unwrap_or_default()),
        )
    }

    /// Opens a conversation from another panel.
    pub(super) fn open_chat(&mut self, id: ConversationId) -> Task<Message> {
        self.sidebar.show(Panel::Chats);
        self.select(id)
    }

    pub(super) fn select(&mut self, id: ConversationId) -> Task<Message> {
        // Keep the draft of the conversation being left.
        let mut tasks = Vec::new();
        if let Some(prev) = self.selected
            && prev != id
        {
            let draft = self.composer.text().trim_end().to_string();
            if let Some(c) = self.conversations.iter_mut().find(|c| c.id == prev) {
                c.draft = draft.clone();
            }
            let store = self.store.clone();
            tasks.push(Task::perform(
                async move { store.set_draft(prev, draft).await.ok() },
                |_| Message::Nothing,
            ));
        }
        if self.selected != Some(id) {
            self.group_info = None;
            // What waited for the conversation left is not sent to this one.
            let _ = self.incoming.take();
            self.viewer = None;
            let draft = self
                .conversations
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.draft.clone())
                .unwrap_or_default();
            self.composer = composer::Composer::new(&draft);
        }
        self.selected = Some(id);
        self.show_chat_narrow = true;
        self.reads.clear();
        tasks.push(self.fetch_reads(id));
        let (chat, load) = chat::Chat::open(
            id,
            chat::Ctx {
                store: &self.store,
                client: self.client.as_ref(),
                me: self.account.id(),
            },
        );
        self.chat = chat;
        tasks.push(load.map(Message::Chat));
        // A conversation just created (a new friend, a new group) may not be in
        // the list yet.
        if !self.conversations.iter().any(|c| c.id == id) {
            tasks.push(self.reload_conversations());
        }
        Task::batch(tasks)
    }
}

/// Device lists as they change, re-listed every two seconds off the UI thread.
pub(super) fn device_watch() -> impl iced::futures::Stream<Item = natter_media::device::DeviceList>
{
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
