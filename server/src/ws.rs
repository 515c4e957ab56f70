//! One WebSocket session: `hello`, then frames both ways until either side goes.
//!
//! A session is one task. It reads client frames and answers them in order,
//! writes what the hub queues for it, pings on a timer and drops the peer when it
//! has been silent for three heartbeats. Client mistakes — bad JSON, unknown
//! types, oversize frames, too many frames — are answered with an error frame and
//! the session carries on.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{
    CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade, close_code,
};
use axum::response::Response;
use futures_util::SinkExt;
use natter_proto::frame::{ClientFrame, Cursor, ServerFrame, decode_client};
use natter_proto::model::UserId;
use natter_proto::{ErrorBody, ErrorCode, PROTOCOL_VERSIONS};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval, timeout};

use crate::error::Error;
use crate::hub::Outbound;
use crate::service::calls::Origin;
use crate::service::{Authed, Service, encode};
use crate::util::now_ms;

/// The peer is gone or the session must end.
struct Closed;

type Flow = Result<(), Closed>;

/// `GET /v1/ws`.
pub async fn upgrade(State(svc): State<Arc<Service>>, ws: WebSocketUpgrade) -> Response {
    let cfg = &svc.config;
    // Frames a little over the limit are read and refused with an error frame;
    // only far larger ones make the WebSocket layer close the connection.
    let hard_max = (cfg.limits.max_frame_bytes as usize)
        .saturating_mul(4)
        .clamp(16 * 1024, 1 << 20);
    ws.read_buffer_size(cfg.ws_read_buffer)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(8 << 20)
        .max_message_size(hard_max)
        .max_frame_size(hard_max)
        .on_upgrade(move |socket| run(socket, svc))
}

async fn run(mut socket: WebSocket, svc: Arc<Service>) {
    let hello = timeout(
        Duration::from_secs(svc.config.hello_timeout_secs),
        hello(&mut socket, &svc),
    )
    .await;
    let (authed, protocol) = match hello {
        Ok(Ok(ok)) => ok,
        Ok(Err(Some(err))) => {
            let _ = send_error_and_close(&mut socket, err.body()).await;
            return;
        }
        Ok(Err(None)) => return,
        Err(_) => {
            let body = ErrorBody::new(ErrorCode::HelloRequired, "no hello in time");
            let _ = send_error_and_close(&mut socket, body).await;
            return;
        }
    };
    let (tx, rx) = mpsc::channel(svc.config.outbound_queue.max(16));
    let user = authed.id();
    let (conn_id, was_offline) = svc
        .connect(user, &authed.session.device, protocol, tx)
        .await;
    let welcome = ServerFrame::Welcome {
        protocol,
        user: authed.user.summary(),
        device: authed.session.device.clone(),
        server_ts: now_ms(),
        heartbeat_ms: svc.config.heartbeat().as_millis() as u64,
        limits: svc.config.limits.clone(),
    };
    let mut session = Session {
        svc: svc.clone(),
        socket,
        user,
        device: authed.session.device.clone().into(),
        conn_id,
        bucket: Bucket::new(
            svc.config.limits.frames_per_sec,
            svc.config.limits.frames_burst,
        ),
        last_seen: Instant::now(),
    };
    tracing::debug!(user = user.0, conn = conn_id, "session open");
    if session.send(&welcome).await.is_ok() {
        announce_presence(&svc, user, was_offline, conn_id).await;
        svc.call_device_connected(user, &session.device, conn_id)
            .await;
        svc.group_call_device_connected(user, &session.device, conn_id)
            .await;
        let _ = session.serve(rx).await;
    }
    let _ = session.socket.flush().await;
    svc.disconnect(user, conn_id).await;
    if !svc.is_device_online(user, &session.device).await {
        svc.call_device_disconnected(user, &session.device).await;
        svc.group_call_device_disconnected(user, &session.device)
            .await;
    }
    svc.announce_offline(user).await;
    tracing::debug!(user = user.0, conn = conn_id, "session closed");
}

/// Reads the `hello`. `Err(None)` means the peer went away.
async fn hello(socket: &mut WebSocket, svc: &Service) -> Result<(Authed, u32), Option<Error>> {
    loop {
        let msg = match socket.recv().await {
            Some(Ok(m)) => m,
            _ => return Err(None),
        };
        let text = match msg {
            WsMessage::Text(t) => t,
            WsMessage::Ping(_) | WsMessage::Pong(_) => continue,
            WsMessage::Binary(_) => {
                return Err(Some(Error::client(
                    ErrorCode::HelloRequired,
                    "first frame must be hello",
                )));
            }
            WsMessage::Close(_) => return Err(None),
        };
        return match decode_client(&text) {
            Ok(ClientFrame::Hello { protocols, token }) => {
                let protocol = PROTOCOL_VERSIONS
                    .iter()
                    .rev()
                    .find(|v| protocols.contains(v))
                    .copied()
                    .ok_or_else(|| {
                        Error::client(
                            ErrorCode::UnsupportedVersion,
                            format!("this relay speaks protocol versions {PROTOCOL_VERSIONS:?}"),
                        )
                    })?;
                let authed = svc.authenticate(&token).await?;
                Ok((authed, protocol))
            }
            _ => Err(Some(Error::client(
                ErrorCode::HelloRequired,
                "first frame must be hello",
            ))),
        };
    }
}

async fn send_error_and_close(socket: &mut WebSocket, body: ErrorBody) -> Result<(), axum::Error> {
    let frame = ServerFrame::Error {
        error: body,
        rid: None,
        client_id: None,
    };
    socket.send(WsMessage::Text(encode(&frame))).await?;
    socket
        .send(WsMessage::Close(Some(CloseFrame {
            code: close_code::POLICY,
            reason: "session refused".into(),
        })))
        .await
}

/// Tells friends the account came online, and this connection which friends are.
async fn announce_presence(svc: &Service, user: UserId, was_offline: bool, conn: u64) {
    let Ok(friends) = svc.storage.friends(user).await else {
        return;
    };
    let ids: Vec<UserId> = friends.iter().map(|f| f.friend).collect();
    if was_offline {
        svc.push(&ids, &ServerFrame::Presence { user, online: true }, None);
    }
    for f in svc.online_among(&ids).await {
        svc.hub.send_to_conn(
            user,
            conn,
            &encode(&ServerFrame::Presence {
                user: f,
                online: true,
            }),
        );
    }
}

/// A token bucket: `rate` frames a second, up to `burst` at once.
struct Bucket {
    tokens: f32,
    rate: f32,
    burst: f32,
    at: Instant,
}

impl Bucket {
    fn new(rate: u32, burst: u32) -> Bucket {
        Bucket {
            tokens: burst as f32,
            rate: rate as f32,
            burst: burst as f32,
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f32() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

struct Session {
    svc: Arc<Service>,
    socket: WebSocket,
    user: UserId,
    device: Box<str>,
    conn_id: u64,
    bucket: Bucket,
    last_seen: Instant,
}

impl Session {
    async fn serve(&mut self, mut rx: mpsc::Receiver<Outbound>) -> Flow {
        let heartbeat = self.svc.config.heartbeat();
        let mut ticker = interval(heartbeat);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticker.tick().await;
        // Made once, not on every turn of the loop.
        let mut shutdown = self.svc.shutdown.clone();
        let shutdown = shutdown.changed();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                msg = self.socket.recv() => {
                    let Some(Ok(msg)) = msg else { return Err(Closed) };
                    self.last_seen = Instant::now();
                    match msg {
                        WsMessage::Text(text) => self.on_text(&text, &mut rx).await?,
                        WsMessage::Binary(_) => {
                            self.send_error(ErrorCode::MalformedFrame, "binary frames are not used; send JSON text", None, None).await?;
                        }
                        WsMessage::Ping(_) | WsMessage::Pong(_) => {}
                        WsMessage::Close(_) => return Err(Closed),
                    }
                }
                out = rx.recv() => {
                    match out {
                        Some(out) => {
                            self.forward(out).await?;
                            self.drain(&mut rx).await?;
                        }
                        None => {
                            // The hub dropped this connection (slow, replaced, logged out).
                            let _ = self.socket.send(WsMessage::Close(Some(CloseFrame {
                                code: close_code::AGAIN,
                                reason: "reconnect".into(),
                            }))).await;
                            return Err(Closed);
                        }
                    }
                }
                _ = ticker.tick() => {
                    if self.last_seen.elapsed() > heartbeat * 3 {
                        tracing::debug!(user = self.user.0, conn = self.conn_id, "peer silent, dropping");
                        return Err(Closed);
                    }
                    self.socket.send(WsMessage::Ping(Default::default())).await.map_err(|_| Closed)?;
                }
                _ = &mut shutdown => {
                    let _ = self.send_error(ErrorCode::ShuttingDown, "relay is restarting", None, None).await;
                    let _ = self.socket.send(WsMessage::Close(Some(CloseFrame {
                        code: close_code::RESTART,
                        reason: "restarting".into(),
                    }))).await;
                    return Err(Closed);
                }
            }
        }
    }

    /// Writes one queued item; `Close` ends the session.
    async fn forward(&mut self, out: Outbound) -> Flow {
        match out {
            Outbound::Frame(text) => {
                self.svc.metrics.frame_out();
                self.socket
                    .feed(WsMessage::Text(text))
                    .await
                    .map_err(|_| Closed)
            }
            Outbound::Close(code, why) => {
                let _ = self.send_error(code, why, None, None).await;
                let _ = self
                    .socket
                    .send(WsMessage::Close(Some(CloseFrame {
                        code: close_code::POLICY,
                        reason: why.into(),
                    })))
                    .await;
                Err(Closed)
            }
        }
    }

    /// Writes whatever else is queued, then flushes once.
    async fn drain(&mut self, rx: &mut mpsc::Receiver<Outbound>) -> Flow {
        for _ in 0..256 {
            match rx.try_recv() {
                Ok(out) => self.forward(out).await?,
                Err(_) => break,
            }
        }
        self.socket.flush().await.map_err(|_| Closed)
    }

    async fn send(&mut self, frame: &ServerFrame) -> Flow {
        self.svc.metrics.frame_out();
        self.socket
            .send(WsMessage::Text(encode(frame)))
            .await
            .map_err(|_| Closed)
    }

    async fn send_error(
        &mut self,
        code: ErrorCode,
        message: &str,
        rid: Option<u64>,
        client_id: Option<String>,
    ) -> Flow {
        self.svc.metrics.error(code);
        let frame = ServerFrame::Error {
            error: ErrorBody::new(code, message),
            rid,
            client_id,
        };
        self.send(&frame).await
    }

    async fn reply_err(&mut self, err: Error, rid: Option<u64>, client_id: Option<String>) -> Flow {
        match &err {
            Error::Internal(detail) => {
                tracing::error!(%detail, user = self.user.0, "request failed")
            }
            Error::Unavailable(detail) => {
                tracing::warn!(%detail, user = self.user.0, "request refused")
            }
            _ => {}
        }
        let body = err.body();
        self.send_error(body.code, &body.message, rid, client_id)
            .await
    }

    /// Refuses a frame that was not decoded, naming it by the ids its text
    /// carries.
    async fn refuse_undecoded(&mut self, text: &str, code: ErrorCode, message: &str) -> Flow {
        let (rid, client_id) = natter_proto::frame::peek_ids(text);
        self.send_error(code, message, rid, client_id).await
    }

    async fn on_text(&mut self, text: &str, rx: &mut mpsc::Receiver<Outbound>) -> Flow {
        self.svc.metrics.frame_in();
        let received = Instant::now();
        if !self.bucket.take() {
            return self
                .refuse_undecoded(text, ErrorCode::RateLimited, "too many frames; slow down")
                .await;
        }
        let max = self.svc.config.limits.max_frame_bytes as usize;
        if text.len() > max {
            let msg = format!("frame of {} bytes is over the {max}-byte limit", text.len());
            return self.refuse_undecoded(text, ErrorCode::TooLarge, &msg).await;
        }
        let frame = match decode_client(text) {
            Ok(f) => f,
            Err(e) => return self.refuse_undecoded(text, e.code, &e.message).await,
        };
        let svc = self.svc.clone();
        let user = self.user;
        match frame {
            ClientFrame::Hello { .. } => {
                self.send_error(
                    ErrorCode::BadRequest,
                    "hello was already received",
                    None,
                    None,
                )
                .await
            }
            ClientFrame::Ping { nonce } => self.send(&ServerFrame::Pong { nonce }).await,
            ClientFrame::Send {
                client_id,
                conversation,
                body,
                reply_to,
                extras,
            } => {
                let out = crate::service::Outgoing {
                    client_id: client_id.clone(),
                    conversation,
                    body,
                    reply_to,
                    extras,
                };
                let res = svc.send_message(user, Some(self.conn_id), out).await;
                match res {
                    Ok(ack) => {
                        let sent = self
                            .send(&ServerFrame::Ack {
                                client_id,
                                conversation,
                                seq: ack.message.seq,
                                ts: ack.message.ts,
                            })
                            .await;
                        self.svc.metrics.ack(received.elapsed());
                        sent
                    }
                    Err(e) => self.reply_err(e, None, Some(client_id)).await,
                }
            }
            ClientFrame::Sync {
                rid,
                events_after,
                cursors,
            } => match self.sync(rid, events_after, &cursors, rx).await {
                Ok(flow) => flow,
                Err(e) => self.reply_err(e, Some(rid), None).await,
            },
            ClientFrame::History {
                rid,
                conversation,
                after,
                before,
                limit,
            } => match svc.history(user, conversation, after, before, limit).await {
                Ok((messages, more)) => {
                    self.send(&ServerFrame::Messages {
                        rid,
                        conversation,
                        messages,
                        more,
                    })
                    .await
                }
                Err(e) => self.reply_err(e, Some(rid), None).await,
            },
            ClientFrame::Read {
                conversation,
                seq,
                rid,
            } => match svc.mark_read(user, conversation, seq).await {
                Ok(()) => Ok(()),
                Err(e) => self.reply_err(e, rid, None).await,
            },
            ClientFrame::Typing { conversation, rid } => {
                match svc.typing(user, conversation).await {
                    Ok(()) => Ok(()),
                    Err(e) => self.reply_err(e, rid, None).await,
                }
            }
            ClientFrame::Call { call, rid } => {
                let from = Origin {
                    user,
                    device: &self.device,
                    conn: self.conn_id,
                };
                match svc.call(from, call).await {
                    Ok(()) => Ok(()),
                    Err(e) => self.reply_err(e, rid, None).await,
                }
            }
        }
    }

    /// Catch-up: events, then every conversation's missed messages, then `synced`.
    /// Live frames queued meanwhile are written between pages so the queue never
    /// overflows; clients apply messages by seq, so the interleaving is harmless.
    async fn sync(
        &mut self,
        rid: u64,
        events_after: u64,
        cursors: &[Cursor],
        rx: &mut mpsc::Receiver<Outbound>,
    ) -> Result<Flow, Error> {
        let svc = self.svc.clone();
        let page = svc.config.limits.page_size as usize;
        let mut after = events_after;
        loop {
            let events = svc.storage.events(self.user, after, page).await?;
            let Some(last) = events.last() else { break };
            after = last.seq;
            let full = events.len() == page;
            svc.metrics.catchup_page();
            if let Err(c) = self.send(&ServerFrame::Events { rid, events }).await {
                return Ok(Err(c));
            }
            if let Err(c) = self.drain(rx).await {
                return Ok(Err(c));
            }
            if !full {
                break;
            }
        }
        let conversations = svc.conversations(self.user).await?;
        for state in &conversations {
            let cursor = cursors
                .iter()
                .find(|c| c.conversation == state.id)
                .map(|c| c.after)
                .unwrap_or(0);
            let mut from = cursor.max(state.first_seq.saturating_sub(1));
            while from < state.last_seq {
                let messages = svc
                    .storage
                    .messages(state.id, from, state.last_seq + 1, page, false)
                    .await?;
                let Some(last) = messages.last() else { break };
                from = last.seq;
                svc.metrics.catchup_page();
                let frame = ServerFrame::Messages {
                    rid,
                    conversation: state.id,
                    messages,
                    more: from < state.last_seq,
                };
                if let Err(c) = self.send(&frame).await {
                    return Ok(Err(c));
                }
                if let Err(c) = self.drain(rx).await {
                    return Ok(Err(c));
                }
            }
        }
        let events_seq = svc.storage.event_seq(self.user).await?;
        Ok(self
            .send(&ServerFrame::Synced {
                rid,
                events_seq,
                conversations,
            })
            .await)
    }
}
