//! The phone: one account's calls, tying the relay's call signalling to a
//! [`CallEngine`].
//!
//! It speaks the protocol's [`CallRequest`]s and [`CallNotice`]s but not the
//! transport: the owner passes a function that sends requests (the live session's
//! `call` command) and feeds every notice it receives to [`Phone::notice`]. One
//! task owns the state and handles commands, notices and engine events one at a
//! time, so SDP and candidates are applied in the order they came.
//!
//! The caller creates the engine (as offerer) when the callee accepts; the callee
//! creates it (as answerer) when the user answers, before the offer arrives. Both
//! trickle candidates. Whatever ends the call — a hang-up on either side, the
//! relay's timeout, a failed connection — closes the engine and is reported once
//! as [`PhoneEvent::Ended`].

use std::sync::Arc;

use natter_proto::call::{CallNotice, CallRequest, EndReason, SdpType};
use natter_proto::model::{CallMedia, ConversationId, UserId};
use tokio::sync::{mpsc, oneshot};

use crate::call::{CallEngine, CallEvent, CallStats, Role};
use crate::config::{IceServer, MediaConfig, VideoSource};
use crate::frame::FrameSlot;

/// Sends one request to the relay.
pub type Signal = Arc<dyn Fn(CallRequest) + Send + Sync>;

/// What the phone tells its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum PhoneEvent {
    /// Someone calls; answer with [`Phone::answer`] or [`Phone::decline`].
    Incoming {
        /// The call.
        call_id: String,
        /// The 1:1 conversation.
        conversation: ConversationId,
        /// The caller.
        from: UserId,
        /// Audio or video.
        media: CallMedia,
    },
    /// An outgoing call rings on the callee's side.
    Ringing {
        /// The call.
        call_id: String,
    },
    /// Answered; media is being set up.
    Connecting {
        /// The call.
        call_id: String,
    },
    /// Media flows.
    Connected {
        /// The call.
        call_id: String,
    },
    /// The first sound from the peer was played.
    FirstAudio {
        /// The call.
        call_id: String,
    },
    /// The first picture from the peer is in [`Phone::remote_video`].
    FirstVideo {
        /// The call.
        call_id: String,
    },
    /// Something the user should know that does not end the call (a device that
    /// could not be opened, say).
    Problem {
        /// The call.
        call_id: String,
        /// What happened, in words.
        message: String,
    },
    /// The call is over.
    Ended {
        /// The call.
        call_id: String,
        /// Why.
        reason: EndReason,
        /// Talk time, when it was answered.
        duration_ms: u64,
    },
}

enum Command {
    Dial {
        conversation: ConversationId,
        media: CallMedia,
        ice: Vec<IceServer>,
        reply: oneshot::Sender<Option<String>>,
    },
    Answer(Vec<IceServer>),
    Decline,
    HangUp,
    Notice(CallNotice),
    Muted(bool),
    Camera(bool),
    SendVideo(Option<crate::config::VideoSource>),
    Stats(oneshot::Sender<Option<CallStats>>),
    Video(oneshot::Sender<Option<FrameSlot>>),
    LocalVideo(oneshot::Sender<Option<FrameSlot>>),
}

/// Handle to the phone task; cheap to clone. The task ends when every handle is
/// dropped.
#[derive(Clone)]
pub struct Phone {
    commands: mpsc::UnboundedSender<Command>,
}

impl Phone {
    /// Starts the phone. `media` is the template for every call (sources, sinks,
    /// bind address); audio calls drop its video source, and each call brings its
    /// own ICE servers. Must be called inside a Tokio runtime.
    pub fn start(
        signal: Signal,
        media: MediaConfig,
    ) -> (Phone, mpsc::UnboundedReceiver<PhoneEvent>) {
        let (commands, rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let task = Task {
            signal,
            media,
            events,
            call: None,
        };
        tokio::spawn(task.run(rx));
        (Phone { commands }, events_rx)
    }

    /// Calls the peer of a 1:1 conversation. Returns the new call's id, or `None`
    /// when a call is already in progress.
    pub async fn dial(
        &self,
        conversation: ConversationId,
        media: CallMedia,
        ice: Vec<IceServer>,
    ) -> Option<String> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Dial {
            conversation,
            media,
            ice,
            reply,
        });
        rx.await.ok().flatten()
    }

    /// Answers the ringing call.
    pub fn answer(&self, ice: Vec<IceServer>) {
        self.send(Command::Answer(ice));
    }

    /// Declines the ringing call.
    pub fn decline(&self) {
        self.send(Command::Decline);
    }

    /// Ends the current call (cancels it while it rings).
    pub fn hang_up(&self) {
        self.send(Command::HangUp);
    }

    /// Feeds a notice from the relay.
    pub fn notice(&self, notice: CallNotice) {
        self.send(Command::Notice(notice));
    }

    /// Mutes or unmutes the microphone.
    pub fn set_muted(&self, muted: bool) {
        self.send(Command::Muted(muted));
    }

    /// Turns the camera off or on.
    pub fn set_camera(&self, on: bool) {
        self.send(Command::Camera(on));
    }

    /// Sends video from `source` — a camera or a shared screen, which replaces
    /// the camera while shared — or stops sending video (`VideoSource::None`).
    /// Renegotiates the call when it adds or stops the video stream, so an
    /// audio call can become a video call. A failure is a [`PhoneEvent::Problem`].
    pub fn send_video(&self, source: crate::config::VideoSource) {
        self.send(Command::SendVideo(Some(source)));
    }

    /// Sends the camera the phone was started with (after a screen share, or
    /// to turn a voice call into a video call), renegotiating if needed.
    pub fn send_camera(&self) {
        self.send(Command::SendVideo(None));
    }

    /// The current call's statistics, once media is set up.
    pub async fn stats(&self) -> Option<CallStats> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Stats(reply));
        rx.await.ok().flatten()
    }

    /// The peer's video of the current call (latest frame wins).
    pub async fn remote_video(&self) -> Option<FrameSlot> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Video(reply));
        rx.await.ok().flatten()
    }

    /// This device's own camera picture of the current call (self-view, latest
    /// frame wins).
    pub async fn local_video(&self) -> Option<FrameSlot> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::LocalVideo(reply));
        rx.await.ok().flatten()
    }

    fn send(&self, command: Command) {
        // The task only ends when every handle is gone, so this cannot fail while
        // `self` exists.
        let _ = self.commands.send(command);
    }
}

/// The phone's state.
struct Task {
    signal: Signal,
    media: MediaConfig,
    events: mpsc::UnboundedSender<PhoneEvent>,
    call: Option<Call>,
}

struct Call {
    id: String,
    media: CallMedia,
    outgoing: bool,
    /// Set once answered (either side) and the engine is built.
    engine: Option<Arc<CallEngine>>,
    /// The engine's events, while it runs.
    engine_events: Option<mpsc::UnboundedReceiver<CallEvent>>,
    /// Whether we already asked the relay to end it.
    hung_up: bool,
}

impl Task {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command).await,
                    None => break,
                },
                event = next_engine_event(&mut self.call) => match event {
                    Some(event) => self.on_engine(event).await,
                    None => {
                        if let Some(call) = self.call.as_mut() {
                            call.engine_events = None;
                        }
                    }
                },
            }
        }
        if let Some(call) = self.call.take() {
            if !call.hung_up {
                (self.signal)(CallRequest::Hangup { call_id: call.id });
            }
            if let Some(engine) = call.engine {
                let _ = engine.close().await;
            }
        }
    }

    fn emit(&self, event: PhoneEvent) {
        let _ = self.events.send(event);
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::Dial {
                conversation,
                media,
                ice,
                reply,
            } => {
                if self.call.is_some() {
                    let _ = reply.send(None);
                    return;
                }
                let id = new_call_id();
                self.call = Some(Call {
                    id: id.clone(),
                    media,
                    outgoing: true,
                    engine: None,
                    engine_events: None,
                    hung_up: false,
                });
                self.media.ice_servers = ice;
                (self.signal)(CallRequest::Invite {
                    call_id: id.clone(),
                    conversation,
                    media,
                });
                let _ = reply.send(Some(id));
            }
            Command::Answer(ice) => {
                let Some(call) = self
                    .call
                    .as_ref()
                    .filter(|c| !c.outgoing && c.engine.is_none())
                else {
                    return;
                };
                let id = call.id.clone();
                self.media.ice_servers = ice;
                (self.signal)(CallRequest::Accept {
                    call_id: id.clone(),
                });
                self.emit(PhoneEvent::Connecting {
                    call_id: id.clone(),
                });
                self.start_engine(Role::Answerer).await;
            }
            Command::Decline => {
                if let Some(call) = self.call.as_mut().filter(|c| !c.outgoing) {
                    call.hung_up = true;
                    (self.signal)(CallRequest::Reject {
                        call_id: call.id.clone(),
                    });
                }
            }
            Command::HangUp => self.hang_up(),
            Command::Notice(notice) => self.on_notice(notice).await,
            Command::Muted(muted) => {
                if let Some(engine) = self.engine() {
                    engine.set_muted(muted);
                }
            }
            Command::Camera(on) => {
                let source = self.media.video_source.clone();
                self.send_video(if on { source } else { VideoSource::None })
                    .await;
            }
            Command::SendVideo(source) => {
                let source = source.unwrap_or_else(|| self.media.video_source.clone());
                self.send_video(source).await;
            }
            Command::Stats(reply) => {
                let stats = match self.engine() {
                    Some(engine) => Some(engine.stats().await),
                    None => None,
                };
                let _ = reply.send(stats);
            }
            Command::Video(reply) => {
                let _ = reply.send(self.engine().map(|e| e.remote_video()));
            }
            Command::LocalVideo(reply) => {
                let _ = reply.send(self.engine().map(|e| e.local_video()));
            }
        }
    }

    /// Starts (or switches, or with `VideoSource::None` stops) the video this
    /// side sends; the engine renegotiates when the stream comes or goes.
    async fn send_video(&mut self, source: VideoSource) {
        let Some(engine) = self.engine() else {
            return;
        };
        let stopping = !source.is_some();
        let result = engine.start_video(source).await;
        if stopping && engine.has_video_track() {
            // What the camera button resumes next is the camera, not a screen
            // that was shared.
            let _ = engine.set_video_source(self.media.video_source.clone());
        }
        if let Err(e) = result
            && let Some(id) = self.call.as_ref().map(|c| c.id.clone())
        {
            self.emit(PhoneEvent::Problem {
                call_id: id,
                message: e.to_string(),
            });
        }
    }

    fn engine(&self) -> Option<Arc<CallEngine>> {
        self.call.as_ref().and_then(|c| c.engine.clone())
    }

    fn hang_up(&mut self) {
        if let Some(call) = self.call.as_mut().filter(|c| !c.hung_up) {
            call.hung_up = true;
            let call_id = call.id.clone();
            (self.signal)(if call.outgoing && call.engine.is_none() {
                CallRequest::Cancel { call_id }
            } else {
                CallRequest::Hangup { call_id }
            });
        }
    }

    fn is_current(&self, call_id: &str) -> bool {
        self.call.as_ref().is_some_and(|c| c.id == call_id)
    }

    async fn on_notice(&mut self, notice: CallNotice) {
        match notice {
            CallNotice::Incoming {
                call_id,
                conversation,
                from,
                media,
            } => {
                if self.call.is_some() {
                    // The relay answers `busy` for calls while one is in progress;
                    // a second device's ring for the same call is a repeat.
                    return;
                }
                self.call = Some(Call {
                    id: call_id.clone(),
                    media,
                    outgoing: false,
                    engine: None,
                    engine_events: None,
                    hung_up: false,
                });
                (self.signal)(CallRequest::Ringing {
                    call_id: call_id.clone(),
                });
                self.emit(PhoneEvent::Incoming {
                    call_id,
                    conversation,
                    from,
                    media,
                });
            }
            CallNotice::Ringing { call_id } if self.is_current(&call_id) => {
                self.emit(PhoneEvent::Ringing { call_id });
            }
            CallNotice::Accepted { call_id } if self.is_current(&call_id) => {
                let outgoing = self.call.as_ref().is_some_and(|c| c.outgoing);
                if outgoing {
                    self.emit(PhoneEvent::Connecting {
                        call_id: call_id.clone(),
                    });
                    self.start_engine(Role::Offerer).await;
                }
            }
            CallNotice::Sdp {
                call_id,
                sdp_type,
                sdp,
            } if self.is_current(&call_id) => {
                if let Some(engine) = self.engine()
                    && let Err(e) = engine.set_remote_sdp(sdp_type, sdp).await
                {
                    self.fail(&call_id, e.to_string());
                }
            }
            CallNotice::Ice { call_id, candidate } if self.is_current(&call_id) => {
                if let Some(engine) = self.engine()
                    && let Err(e) = engine.add_remote_candidate(candidate).await
                {
                    tracing::debug!(error = %e, "remote candidate not applied");
                }
            }
            CallNotice::Ended {
                call_id,
                reason,
                duration_ms,
            } if self.is_current(&call_id) => {
                if let Some(call) = self.call.take()
                    && let Some(engine) = call.engine
                {
                    let _ = engine.close().await;
                }
                self.emit(PhoneEvent::Ended {
                    call_id,
                    reason,
                    duration_ms,
                });
            }
            // Notices about calls this phone does not hold (already over, or
            // another device's).
            _ => {}
        }
    }

    async fn start_engine(&mut self, role: Role) {
        let Some(call) = self.call.as_ref() else {
            return;
        };
        let id = call.id.clone();
        let mut config = self.media.clone();
        if call.media == CallMedia::Audio {
            config.video_source = VideoSource::None;
        }
        match CallEngine::new(config, role).await {
            Ok((engine, events)) => {
                if let Some(call) = self.call.as_mut() {
                    call.engine = Some(Arc::new(engine));
                    call.engine_events = Some(events);
                }
            }
            Err(e) => self.fail(&id, e.to_string()),
        }
    }

    /// Media could not be set up or broke for good: tell the user and end it.
    fn fail(&mut self, call_id: &str, message: String) {
        tracing::warn!(%message, "call media failed");
        self.emit(PhoneEvent::Problem {
            call_id: call_id.to_string(),
            message,
        });
        self.hang_up();
    }

    async fn on_engine(&mut self, event: CallEvent) {
        let Some(call_id) = self.call.as_ref().map(|c| c.id.clone()) else {
            return;
        };
        match event {
            CallEvent::LocalSdp { sdp_type, sdp } => {
                debug_assert!(matches!(sdp_type, SdpType::Offer | SdpType::Answer));
                (self.signal)(CallRequest::Sdp {
                    call_id,
                    sdp_type,
                    sdp,
                });
            }
            CallEvent::LocalCandidate(candidate) => {
                (self.signal)(CallRequest::Ice { call_id, candidate });
            }
            CallEvent::Connected => self.emit(PhoneEvent::Connected { call_id }),
            CallEvent::FirstAudio => self.emit(PhoneEvent::FirstAudio { call_id }),
            CallEvent::FirstVideo => self.emit(PhoneEvent::FirstVideo { call_id }),
            CallEvent::DeviceFailed { reason, .. } => self.emit(PhoneEvent::Problem {
                call_id,
                message: reason,
            }),
            CallEvent::Failed(reason) => self.fail(&call_id, reason),
            CallEvent::Disconnected | CallEvent::Closed | CallEvent::StreamStarted { .. } => {}
        }
    }
}

/// The next event of the current call's engine; pending while there is none.
async fn next_engine_event(call: &mut Option<Call>) -> Option<CallEvent> {
    match call.as_mut().and_then(|c| c.engine_events.as_mut()) {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Converts the relay's ICE server list for the engine.
pub fn ice_servers(servers: &[natter_proto::rest::IceServer]) -> Vec<IceServer> {
    servers
        .iter()
        .map(|s| IceServer {
            urls: s.urls.clone(),
            username: s.username.clone().unwrap_or_default(),
            credential: s.credential.clone().unwrap_or_default(),
        })
        .collect()
}

/// A fresh call id: 32 hex digits.
pub(crate) fn new_call_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}
