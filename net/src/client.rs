//! The headless client: sign-in, the live session, sending through the outbox,
//! and reading history and search from the local store. The app, the tests and
//! tools use this; it knows nothing of any UI toolkit.

use std::sync::Arc;

use natter_proto::call::CallRequest;
use natter_proto::model::{ConversationId, FileRef, Message, MessageBody, Profile};
use natter_proto::rest::{IceServers, LoginRequest, RegisterRequest};
use natter_store::{Account, Conversation, OutboxEntry, Store};
use tokio::sync::mpsc;

use crate::auth::Auth;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::session::{self, Command, Event, Handle};

/// Creates an account on the relay at `server`.
pub async fn register(server: &str, req: &RegisterRequest) -> Result<Profile> {
    Http::new(server)?.register(req).await
}

/// Signs in to the relay at `server` as `account` and saves the session in
/// `store`. The device id is created once per store and reused.
pub async fn sign_in(
    server: &str,
    store: &Store,
    account: &str,
    password: &str,
    device_name: Option<String>,
) -> Result<Account> {
    let http = Http::new(server)?;
    let device_id = match store.setting::<String>("device_id").await? {
        Some(d) => d,
        None => {
            let d = natter_store::new_client_id();
            store.set_setting("device_id", &d).await?;
            d
        }
    };
    let session = http
        .login(&LoginRequest {
            account: account.into(),
            password: password.into(),
            device_id: Some(device_id),
            device_name,
        })
        .await?;
    let acc = Account {
        server: http.base().to_string(),
        profile: session.profile,
        device_id: session.device_id,
        access_token: session.access_token,
        access_expires_ts: session.access_expires_ts,
        refresh_token: session.refresh_token,
        refresh_expires_ts: session.refresh_expires_ts,
    };
    store.set_account(acc.clone()).await?;
    Ok(acc)
}

/// The stream of session events.
pub struct Events {
    rx: mpsc::Receiver<Event>,
}

impl Events {
    /// The next event; `None` once the session has ended.
    pub async fn next(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// As a `futures` stream (for an iced `Subscription`).
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Event> + Send + 'static {
        futures_util::stream::unfold(
            self.rx,
            |mut rx| async move { rx.recv().await.map(|e| (e, rx)) },
        )
    }
}

/// A signed-in client with its live session running.
#[derive(Clone)]
pub struct Client {
    auth: Arc<Auth>,
    store: Store,
    session: Handle,
    me: natter_proto::model::UserId,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("me", &self.me).finish()
    }
}

impl Client {
    /// Starts the live session for the account saved in `store`.
    pub async fn resume(store: Store) -> Result<(Client, Events)> {
        let account = store.account().await?.ok_or(Error::SignedOut)?;
        Client::start(store, account)
    }

    /// Starts the live session for `account`.
    pub fn start(store: Store, account: Account) -> Result<(Client, Events)> {
        let http = Http::new(&account.server)?;
        let me = account.id();
        let auth = Arc::new(Auth::new(http, store.clone(), account));
        let (session, rx) = session::spawn(auth.clone(), store.clone(), me);
        Ok((
            Client {
                auth,
                store,
                session,
                me,
            },
            Events { rx },
        ))
    }

    /// The account's id.
    pub fn me(&self) -> natter_proto::model::UserId {
        self.me
    }

    /// The local store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The REST client (pair it with [`Client::token`]).
    pub fn http(&self) -> &Http {
        self.auth.http()
    }

    /// A valid access token for REST calls.
    pub async fn token(&self) -> Result<String> {
        self.auth.token().await
    }

    /// Commands for the live session.
    pub fn session(&self) -> &Handle {
        &self.session
    }

    /// Queues a message; it is sent now if connected, else after reconnecting.
    pub async fn send(
        &self,
        conversation: ConversationId,
        body: MessageBody,
        reply_to: Option<u64>,
    ) -> Result<OutboxEntry> {
        self.send_with(conversation, body, reply_to, Default::default())
            .await
    }

    /// Queues a message with mentions, or a forwarded copy.
    pub async fn send_with(
        &self,
        conversation: ConversationId,
        body: MessageBody,
        reply_to: Option<u64>,
        extras: natter_proto::model::Extras,
    ) -> Result<OutboxEntry> {
        let entry = self
            .store
            .enqueue_with(conversation, body, reply_to, extras)
            .await?;
        self.session.send(Command::Flush);
        Ok(entry)
    }

    /// Queues a text message.
    pub async fn send_text(&self, conversation: ConversationId, text: &str) -> Result<OutboxEntry> {
        self.send(conversation, MessageBody::Text { text: text.into() }, None)
            .await
    }

    /// Sends a failed message again (same client id, so never twice).
    pub async fn resend(&self, conversation: ConversationId, client_id: &str) -> Result<()> {
        self.store
            .outbox_retry(conversation, client_id.into())
            .await?;
        self.session.send(Command::Flush);
        Ok(())
    }

    /// Messages not yet acknowledged.
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        Ok(self.store.outbox().await?)
    }

    /// Marks a conversation read up to `seq`, here and on the relay.
    pub async fn mark_read(&self, conversation: ConversationId, seq: u64) -> Result<Conversation> {
        let c = self.store.mark_read(self.me, conversation, seq).await?;
        self.session.send(Command::Read { conversation, seq });
        Ok(c)
    }

    /// Tells the conversation this account is typing.
    pub fn typing(&self, conversation: ConversationId) {
        self.session.send(Command::Typing { conversation });
    }

    /// Sends call signalling (invite, accept, SDP, ICE, hang-up...). Replies
    /// arrive as [`Event::Call`](crate::session::Event::Call).
    pub fn call(&self, request: CallRequest) {
        self.session.send(Command::Call(request));
    }

    /// STUN/TURN servers with credentials for a call about to start.
    pub async fn ice_servers(&self) -> Result<IceServers> {
        let token = self.auth.token().await?;
        self.http().ice_servers(&token).await
    }

    /// Uploads a file (a picture, a document, a voice clip) to the relay.
    pub async fn upload(&self, name: &str, mime: &str, bytes: Vec<u8>) -> Result<FileRef> {
        let token = self.auth.token().await?;
        self.http().upload(&token, name, mime, bytes).await
    }

    /// Downloads a stored file's bytes.
    pub async fn download(&self, id: &str) -> Result<Vec<u8>> {
        let token = self.auth.token().await?;
        Ok(self.http().download(&token, id).await?.0)
    }

    /// Downloads a stored file into `dest`, continuing where an earlier,
    /// interrupted download of it stopped ([`Http::download_to`]).
    pub async fn download_to(
        &self,
        id: &str,
        dest: &std::path::Path,
        progress: impl FnMut(u64, u64) + Send,
    ) -> Result<u64> {
        let token = self.auth.token().await?;
        self.http().download_to(&token, id, dest, progress).await
    }

    /// Conversations from the store, pinned first then newest.
    pub async fn conversations(&self) -> Result<Vec<Conversation>> {
        Ok(self.store.conversations().await?)
    }

    /// The newest `limit` stored messages below `before`. If the store has a hole
    /// there, it asks the relay for it; the messages arrive as an event.
    pub async fn history(
        &self,
        conversation: ConversationId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Message>> {
        let page = self.store.history(conversation, before, limit).await?;
        let top = before.map(|b| b.saturating_sub(1)).unwrap_or(u64::MAX);
        if let Some(c) = self.store.conversation(conversation).await? {
            let top = top.min(c.last_seq);
            let bottom = top.saturating_sub(limit as u64).max(c.first_seq);
            let holes = self.store.missing(conversation, bottom, top, 1).await?;
            if let Some(first) = holes.first() {
                self.session.send(Command::Fetch {
                    conversation,
                    after: first.saturating_sub(1),
                    before: top + 1,
                });
            }
        }
        Ok(page)
    }

    /// Local full-text search.
    pub async fn search(
        &self,
        query: &str,
        conversation: Option<ConversationId>,
        limit: usize,
    ) -> Result<Vec<Message>> {
        Ok(self.store.search(query, conversation, limit).await?)
    }

    /// Signs this device out: the relay ends the session, the store forgets the
    /// tokens (history stays), the live session stops.
    pub async fn sign_out(&self) -> Result<()> {
        let token = self.auth.token().await;
        if let Ok(t) = token {
            // Offline sign-out still forgets the tokens locally.
            let _ = self.auth.http().logout(&t).await;
        }
        self.session.send(Command::Shutdown);
        self.store.clear_account().await?;
        Ok(())
    }

    /// Stops the live session (the account stays signed in).
    pub fn shutdown(&self) {
        self.session.send(Command::Shutdown);
    }
}
