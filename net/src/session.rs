//! The live session: one task that keeps a WebSocket to the relay open through
//! every disconnect and keeps the local store in step with the relay.
//!
//! On each (re)connect it says hello, catches up from the store's cursors, fills
//! any gaps with history ranges, then sends the outbox in order. Live messages
//! go straight into the store; a message whose seq skips ahead triggers a range
//! fetch of what is missing. Lost connections are retried with capped
//! exponential backoff and jitter; an expired token is refreshed; a relay that
//! goes silent or talks nonsense is dropped and dialled again.
//!
//! The UI talks to it through a [`Handle`] (commands in) and receives
//! [`Event`]s (out) — the shape an iced `Subscription` wants.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use natter_proto::call::{CallNotice, CallRequest};
use natter_proto::frame::{ClientFrame, ServerFrame};
use natter_proto::model::{ConversationId, Message, UserId, UserSummary};
use natter_proto::{ErrorCode, PROTOCOL_VERSIONS};
use natter_store::{Conversation, OutboxEntry, OutboxState, Store};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::auth::Auth;
use crate::error::Error;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Messages buffered during catch-up before they are written in one transaction.
const CATCH_UP_BATCH: usize = 2_000;
/// Longest wait between reconnect attempts: short, so a person whose relay
/// came back is not left looking at "retrying" for long (the jitter still
/// spreads many clients over the last half of it).
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Time allowed to connect and get `welcome`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the UI asks of the session.
#[derive(Debug, Clone)]
pub enum Command {
    /// The outbox changed: send what is waiting.
    Flush,
    /// Tell the relay this account read up to `seq`.
    Read {
        /// The conversation.
        conversation: ConversationId,
        /// Highest seq read.
        seq: u64,
    },
    /// Tell the conversation this account is typing.
    Typing {
        /// The conversation.
        conversation: ConversationId,
    },
    /// Fetch messages `after < seq < before` from the relay into the store.
    Fetch {
        /// The conversation.
        conversation: ConversationId,
        /// Exclusive lower bound.
        after: u64,
        /// Exclusive upper bound.
        before: u64,
    },
    /// Call signalling for the relay; dropped when not connected (a call needs
    /// the live connection, and the relay ends calls whose party is gone).
    Call(CallRequest),
    /// Drop the connection and dial again now.
    Reconnect,
    /// End the session.
    Shutdown,
}

/// What the session tells the UI. Everything in it is already in the store.
#[derive(Debug, Clone)]
pub enum Event {
    /// Dialling the relay.
    Connecting {
        /// Attempts since the last successful connection.
        attempt: u32,
    },
    /// Connected and signed in; catch-up is starting.
    Connected {
        /// The account.
        user: UserSummary,
    },
    /// The connection was lost; the next attempt comes after `retry_in`.
    Disconnected {
        /// Why.
        reason: String,
        /// Backoff before the next attempt.
        retry_in: Duration,
    },
    /// Catch-up finished; the store holds everything the relay had.
    Synced,
    /// Messages of one conversation were stored.
    Messages {
        /// The conversation after the change.
        conversation: Conversation,
        /// New messages, oldest first.
        new: Vec<Message>,
        /// Earlier messages changed by recall, edit or reaction.
        updated: Vec<Message>,
    },
    /// Outbox entries changed state (sent, failed).
    Outbox,
    /// An account event was applied (friends, groups, profile).
    Account(natter_proto::Event),
    /// Someone read up to `seq`.
    ReadReceipt {
        /// The conversation.
        conversation: ConversationId,
        /// Who.
        user: UserId,
        /// Up to where.
        seq: u64,
    },
    /// Someone is typing.
    Typing {
        /// The conversation.
        conversation: ConversationId,
        /// Who.
        user: UserId,
    },
    /// A friend came online or went offline.
    Presence {
        /// The friend.
        user: UserId,
        /// Online now.
        online: bool,
    },
    /// Call signalling from the relay.
    Call(CallNotice),
    /// Something went wrong that the session works around; for display or logs.
    Problem(Error),
    /// The session ended for good: the account must sign in again.
    SignedOut,
}

/// Commands into a running session. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Handle {
    tx: mpsc::UnboundedSender<Command>,
}

impl Handle {
    /// Sends a command; `false` if the session has ended.
    pub fn send(&self, command: Command) -> bool {
        self.tx.send(command).is_ok()
    }
}

/// Starts a session for the account in `auth`.
pub fn spawn(auth: Arc<Auth>, store: Store, me: UserId) -> (Handle, mpsc::Receiver<Event>) {
    let (tx, commands) = mpsc::unbounded_channel();
    let (events, rx) = mpsc::channel(1024);
    let runner = Runner {
        auth,
        store,
        me,
        events,
        commands,
        pending_reads: HashMap::new(),
    };
    tokio::spawn(runner.run());
    (Handle { tx }, rx)
}

/// How a connection ended.
enum Exit {
    Lost(String),
    Shutdown,
    SignedOut,
}

struct Runner {
    auth: Arc<Auth>,
    store: Store,
    me: UserId,
    events: mpsc::Sender<Event>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// Read cursors to tell the relay once connected.
    pending_reads: HashMap<ConversationId, u64>,
}

/// The wait before reconnect attempt `attempt + 1`: doubling from 250 ms up
/// to [`MAX_BACKOFF`], each somewhere in the upper half of its step.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(250)
        .saturating_mul(1 << attempt.min(8))
        .min(MAX_BACKOFF);
    // Full jitter in the upper half, so many clients do not reconnect in step.
    let half = base / 2;
    half + Duration::from_millis(rand::random::<u64>() % (half.as_millis() as u64 + 1))
}

impl Runner {
    async fn emit(&self, e: Event) -> bool {
        self.events.send(e).await.is_ok()
    }

    async fn run(mut self) {
        let mut attempt = 0u32;
        loop {
            if !self.emit(Event::Connecting { attempt }).await {
                return;
            }
            let exit = self.connect_and_serve(&mut attempt).await;
            let reason = match exit {
                Exit::Shutdown => return,
                Exit::SignedOut => {
                    let _ = self.emit(Event::SignedOut).await;
                    return;
                }
                Exit::Lost(reason) => reason,
            };
            let delay = backoff(attempt);
            attempt = attempt.saturating_add(1);
            tracing::debug!(%reason, ?delay, "session lost");
            if !self
                .emit(Event::Disconnected {
                    reason,
                    retry_in: delay,
                })
                .await
            {
                return;
            }
            let wake = tokio::time::sleep(delay);
            tokio::pin!(wake);
            loop {
                tokio::select! {
                    _ = &mut wake => break,
                    cmd = self.commands.recv() => match cmd {
                        None | Some(Command::Shutdown) => return,
                        Some(Command::Reconnect) => break,
                        Some(Command::Read { conversation, seq }) => {
                            let e = self.pending_reads.entry(conversation).or_default();
                            *e = (*e).max(seq);
                        }
                        // Sent after the next catch-up anyway.
                        Some(_) => {}
                    }
                }
            }
        }
    }

    async fn connect_and_serve(&mut self, attempt: &mut u32) -> Exit {
        let token = match self.auth.token().await {
            Ok(t) => t,
            Err(Error::SignedOut) => return Exit::SignedOut,
            Err(e) => return Exit::Lost(e.to_string()),
        };
        let url = self.auth.http().ws_url();
        let config = WebSocketConfig::default().read_buffer_size(16 * 1024);
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            url.as_str(),
            Some(config),
            false,
            crate::tls::ws_connector(),
        );
        let mut ws = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok((ws, _))) => ws,
            Ok(Err(e)) => {
                return Exit::Lost(match crate::tls::certificate_problem(&e) {
                    Some(reason) => format!("the relay's certificate is not trusted: {reason}"),
                    None => format!("cannot reach the relay: {e}"),
                });
            }
            Err(_) => return Exit::Lost("connecting timed out".into()),
        };
        let hello = ClientFrame::Hello {
            protocols: PROTOCOL_VERSIONS.to_vec(),
            token: token.clone(),
        };
        if send(&mut ws, &hello).await.is_err() {
            return Exit::Lost("connection closed".into());
        }
        let welcome = match tokio::time::timeout(CONNECT_TIMEOUT, next_frame(&mut ws)).await {
            Ok(Ok(f)) => f,
            Ok(Err(reason)) => return Exit::Lost(reason),
            Err(_) => return Exit::Lost("no welcome from the relay".into()),
        };
        let (user, heartbeat) = match welcome {
            ServerFrame::Welcome {
                user, heartbeat_ms, ..
            } => (user, Duration::from_millis(heartbeat_ms.max(100))),
            ServerFrame::Error { error, .. } => {
                return match error.code {
                    ErrorCode::TokenExpired | ErrorCode::Unauthorized => {
                        match self.auth.refresh(&token).await {
                            Ok(_) => Exit::Lost("session token renewed".into()),
                            Err(Error::SignedOut) => Exit::SignedOut,
                            Err(e) => Exit::Lost(e.to_string()),
                        }
                    }
                    ErrorCode::UnsupportedVersion => {
                        let _ = self
                            .emit(Event::Problem(Error::Api {
                                status: 0,
                                code: error.code,
                                message: error.message,
                                retry_after_ms: error.retry_after_ms,
                            }))
                            .await;
                        Exit::SignedOut
                    }
                    _ => Exit::Lost(error.message),
                };
            }
            other => return Exit::Lost(format!("unexpected first frame: {other:?}")),
        };
        *attempt = 0;
        if !self.emit(Event::Connected { user }).await {
            return Exit::Shutdown;
        }
        let mut conn = Connection {
            ws,
            next_rid: 1,
            sync_rid: 0,
            synced: false,
            buffered: HashMap::new(),
            buffered_len: 0,
            fetches: HashMap::new(),
            in_flight: HashMap::new(),
            events_seq: 0,
            last_rx: Instant::now(),
            heartbeat,
            retry_flush: false,
        };
        match self.serve(&mut conn).await {
            Ok(exit) => exit,
            Err(e) => Exit::Lost(e),
        }
    }

    async fn serve(&mut self, c: &mut Connection) -> Result<Exit, String> {
        self.start_sync(c).await?;
        let mut ticker = tokio::time::interval(c.heartbeat / 2);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = c.ws.next() => {
                    let text = match msg {
                        Some(Ok(WsMessage::Text(t))) => t,
                        Some(Ok(WsMessage::Close(_))) | None => return Ok(Exit::Lost("the relay closed the connection".into())),
                        Some(Ok(WsMessage::Binary(_))) => return Err(self.garbage("binary frame").await),
                        Some(Ok(_)) => { c.last_rx = Instant::now(); continue; }
                        Some(Err(e)) => return Ok(Exit::Lost(format!("connection error: {e}"))),
                    };
                    c.last_rx = Instant::now();
                    let frame: ServerFrame = match serde_json::from_str(&text) {
                        Ok(f) => f,
                        Err(e) => return Err(self.garbage(&e.to_string()).await),
                    };
                    if let Some(exit) = self.on_frame(c, frame).await? {
                        return Ok(exit);
                    }
                }
                cmd = self.commands.recv() => {
                    let Some(cmd) = cmd else { return Ok(Exit::Shutdown) };
                    match cmd {
                        Command::Shutdown => {
                            let _ = c.ws.close(None).await;
                            return Ok(Exit::Shutdown);
                        }
                        Command::Reconnect => return Ok(Exit::Lost("reconnect requested".into())),
                        Command::Flush => if c.synced { self.flush(c).await? },
                        Command::Read { conversation, seq } => {
                            if c.synced {
                                send(&mut c.ws, &ClientFrame::Read { conversation, seq, rid: None }).await?;
                            } else {
                                let e = self.pending_reads.entry(conversation).or_default();
                                *e = (*e).max(seq);
                            }
                        }
                        Command::Typing { conversation } => send(&mut c.ws, &ClientFrame::Typing { conversation, rid: None }).await?,
                        Command::Call(call) => send(&mut c.ws, &ClientFrame::Call { call, rid: None }).await?,
                        Command::Fetch { conversation, after, before } => self.fetch(c, conversation, after, before).await?,
                    }
                }
                _ = ticker.tick() => {
                    let silent = c.last_rx.elapsed();
                    if silent > c.heartbeat * 3 {
                        return Ok(Exit::Lost("the relay stopped answering".into()));
                    }
                    if silent > c.heartbeat {
                        send(&mut c.ws, &ClientFrame::Ping { nonce: 0 }).await?;
                    }
                    if c.retry_flush && c.synced {
                        c.retry_flush = false;
                        self.flush(c).await?;
                    }
                }
            }
        }
    }

    async fn garbage(&self, what: &str) -> String {
        let msg = format!("the relay sent an unreadable frame ({what})");
        let _ = self
            .emit(Event::Problem(Error::Protocol(msg.clone())))
            .await;
        msg
    }

    async fn start_sync(&mut self, c: &mut Connection) -> Result<(), String> {
        let events_after = self.store.events_seq().await.map_err(|e| e.to_string())?;
        let cursors = self.store.cursors().await.map_err(|e| e.to_string())?;
        c.events_seq = events_after;
        c.synced = false;
        c.sync_rid = c.rid();
        send(
            &mut c.ws,
            &ClientFrame::Sync {
                rid: c.sync_rid,
                events_after,
                cursors,
            },
        )
        .await
    }

    async fn fetch(
        &mut self,
        c: &mut Connection,
        conversation: ConversationId,
        after: u64,
        before: u64,
    ) -> Result<(), String> {
        if after + 1 >= before || c.fetches.values().any(|f| f.0 == conversation) {
            return Ok(());
        }
        let rid = c.rid();
        c.fetches.insert(rid, (conversation, before));
        send(
            &mut c.ws,
            &ClientFrame::History {
                rid,
                conversation,
                after: Some(after),
                before: Some(before),
                limit: None,
            },
        )
        .await
    }

    async fn store_messages(
        &mut self,
        conversation: ConversationId,
        messages: Vec<Message>,
    ) -> Result<Option<Conversation>, String> {
        let applied = self
            .store
            .apply_messages(self.me, conversation, messages)
            .await
            .map_err(|e| e.to_string())?;
        let conv = applied.conversation.clone();
        let settled = !applied.settled.is_empty();
        if (!applied.new.is_empty() || !applied.updated.is_empty())
            && let Some(conversation) = applied.conversation
        {
            self.emit(Event::Messages {
                conversation,
                new: applied.new,
                updated: applied.updated,
            })
            .await;
        }
        if settled {
            self.emit(Event::Outbox).await;
        }
        Ok(conv)
    }

    async fn flush_buffers(&mut self, c: &mut Connection) -> Result<(), String> {
        let buffered = std::mem::take(&mut c.buffered);
        c.buffered_len = 0;
        for (conversation, messages) in buffered {
            self.store_messages(conversation, messages).await?;
        }
        Ok(())
    }

    /// Sends every waiting outbox entry not already sent on this connection.
    async fn flush(&mut self, c: &mut Connection) -> Result<(), String> {
        let outbox = self.store.outbox().await.map_err(|e| e.to_string())?;
        for e in outbox {
            if e.state != OutboxState::Sending || c.in_flight.contains_key(&e.client_id) {
                continue;
            }
            let frame = ClientFrame::Send {
                client_id: e.client_id.clone(),
                conversation: e.conversation,
                body: e.body.clone(),
                reply_to: e.reply_to,
                extras: e.extras.clone(),
            };
            send(&mut c.ws, &frame).await?;
            c.in_flight.insert(e.client_id.clone(), e);
        }
        Ok(())
    }

    /// Handles one frame; `Some` ends the connection.
    async fn on_frame(
        &mut self,
        c: &mut Connection,
        frame: ServerFrame,
    ) -> Result<Option<Exit>, String> {
        match frame {
            ServerFrame::Events { events, .. } => {
                c.events_seq = events
                    .last()
                    .map(|e| e.seq)
                    .unwrap_or(c.events_seq)
                    .max(c.events_seq);
                self.store
                    .apply_events(self.me, events.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                for e in events {
                    self.emit(Event::Account(e)).await;
                }
            }
            ServerFrame::Messages {
                rid,
                conversation,
                messages,
                more,
            } => {
                if rid == c.sync_rid {
                    c.buffered_len += messages.len();
                    c.buffered.entry(conversation).or_default().extend(messages);
                    if c.buffered_len >= CATCH_UP_BATCH {
                        self.flush_buffers(c).await?;
                    }
                } else if let Some((conv, before)) = c.fetches.remove(&rid) {
                    let last = messages.last().map(|m| m.seq);
                    self.store_messages(conv, messages).await?;
                    if more && let Some(last) = last {
                        self.fetch(c, conv, last, before).await?;
                    }
                }
            }
            ServerFrame::Synced {
                rid, conversations, ..
            } if rid == c.sync_rid => {
                self.flush_buffers(c).await?;
                self.store
                    .apply_states(self.me, conversations)
                    .await
                    .map_err(|e| e.to_string())?;
                c.synced = true;
                self.emit(Event::Synced).await;
                // Fill what catch-up could not (a gap below a cursor the relay
                // trusted, or pages lost to a race).
                for conv in self
                    .store
                    .conversations()
                    .await
                    .map_err(|e| e.to_string())?
                {
                    if !conv.closed && conv.held_seq < conv.last_seq {
                        self.fetch(c, conv.id, conv.held_seq, conv.last_seq + 1)
                            .await?;
                    }
                }
                for (conversation, seq) in std::mem::take(&mut self.pending_reads) {
                    send(
                        &mut c.ws,
                        &ClientFrame::Read {
                            conversation,
                            seq,
                            rid: None,
                        },
                    )
                    .await?;
                }
                self.flush(c).await?;
            }
            ServerFrame::Synced { .. } => {}
            ServerFrame::Message { message } => {
                let (conversation, seq) = (message.conversation, message.seq);
                let conv = self.store_messages(conversation, vec![message]).await?;
                if c.synced
                    && let Some(conv) = conv
                    && conv.held_seq + 1 < seq
                {
                    self.fetch(c, conversation, conv.held_seq, seq).await?;
                }
            }
            ServerFrame::Event { event } => {
                if c.synced && event.seq > c.events_seq + 1 {
                    // Events are missing in between: catch up instead of skipping them.
                    self.start_sync(c).await?;
                } else if event.seq > c.events_seq {
                    c.events_seq = event.seq;
                    self.store
                        .apply_events(self.me, vec![event.clone()])
                        .await
                        .map_err(|e| e.to_string())?;
                    self.emit(Event::Account(event)).await;
                }
            }
            ServerFrame::Ack {
                client_id,
                conversation,
                seq,
                ts,
            } => {
                if let Some(entry) = c.in_flight.remove(&client_id) {
                    let message = acked(entry, self.me, seq, ts);
                    self.store_messages(conversation, vec![message]).await?;
                }
            }
            ServerFrame::Error {
                error,
                rid,
                client_id,
            } => {
                let err = Error::Api {
                    status: 0,
                    code: error.code,
                    message: error.message.clone(),
                    retry_after_ms: error.retry_after_ms,
                };
                if let Some(id) = client_id {
                    if let Some(entry) = c.in_flight.remove(&id) {
                        if err.is_transient() {
                            c.retry_flush = true;
                        } else {
                            self.store
                                .outbox_failed(entry.conversation, id, format!("{:?}", error.code))
                                .await
                                .map_err(|e| e.to_string())?;
                            self.emit(Event::Outbox).await;
                        }
                    }
                } else if let Some(rid) = rid {
                    if rid == c.sync_rid {
                        return Ok(Some(Exit::Lost(format!(
                            "catch-up failed: {}",
                            error.message
                        ))));
                    }
                    c.fetches.remove(&rid);
                    self.emit(Event::Problem(err)).await;
                } else {
                    match error.code {
                        ErrorCode::Unauthorized
                        | ErrorCode::TokenExpired
                        | ErrorCode::ShuttingDown => {
                            return Ok(Some(Exit::Lost(error.message)));
                        }
                        _ => {
                            self.emit(Event::Problem(err)).await;
                        }
                    }
                }
            }
            ServerFrame::ReadReceipt {
                conversation,
                user,
                seq,
            } => {
                self.store
                    .apply_receipt(self.me, conversation, user, seq)
                    .await
                    .map_err(|e| e.to_string())?;
                self.emit(Event::ReadReceipt {
                    conversation,
                    user,
                    seq,
                })
                .await;
            }
            ServerFrame::Typing { conversation, user } => {
                self.emit(Event::Typing { conversation, user }).await;
            }
            ServerFrame::Presence { user, online } => {
                self.emit(Event::Presence { user, online }).await;
            }
            ServerFrame::Call { call } => {
                self.emit(Event::Call(call)).await;
            }
            ServerFrame::Welcome { .. } | ServerFrame::Pong { .. } => {}
        }
        Ok(None)
    }
}

/// The stored form of an acknowledged outbox entry.
fn acked(e: OutboxEntry, me: UserId, seq: u64, ts: i64) -> Message {
    Message {
        conversation: e.conversation,
        seq,
        sender: me,
        client_id: e.client_id,
        ts,
        body: e.body,
        reply_to: e.reply_to,
        edited_ts: None,
        reactions: Default::default(),
        extras: e.extras,
    }
}

struct Connection {
    ws: Socket,
    next_rid: u64,
    sync_rid: u64,
    synced: bool,
    buffered: HashMap<ConversationId, Vec<Message>>,
    buffered_len: usize,
    /// History requests in flight: rid → (conversation, exclusive upper bound).
    fetches: HashMap<u64, (ConversationId, u64)>,
    /// Sent on this connection, waiting for an ack.
    in_flight: HashMap<String, OutboxEntry>,
    events_seq: u64,
    last_rx: Instant,
    heartbeat: Duration,
    retry_flush: bool,
}

impl Connection {
    fn rid(&mut self) -> u64 {
        self.next_rid += 1;
        self.next_rid
    }
}

async fn send(ws: &mut Socket, frame: &ClientFrame) -> Result<(), String> {
    let text = serde_json::to_string(frame).map_err(|e| e.to_string())?;
    ws.send(WsMessage::Text(text.into()))
        .await
        .map_err(|e| format!("send failed: {e}"))
}

async fn next_frame(ws: &mut Socket) -> Result<ServerFrame, String> {
    loop {
        match ws.next().await {
            Some(Ok(WsMessage::Text(t))) => {
                return serde_json::from_str(&t).map_err(|e| format!("unreadable frame: {e}"));
            }
            Some(Ok(WsMessage::Close(_))) | None => return Err("connection closed".into()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_stays_within_the_cap() {
        for attempt in 0..64 {
            let d = backoff(attempt);
            assert!(d <= MAX_BACKOFF, "attempt {attempt}: {d:?}");
        }
        assert!(backoff(0) <= Duration::from_millis(250));
        assert!(backoff(20) >= MAX_BACKOFF / 2);
    }
}
