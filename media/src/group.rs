//! Taking part in a group call (protocol 4): one device's side of a call that
//! runs through the relay's forwarding unit.
//!
//! Like [`crate::phone::Phone`], it speaks [`CallRequest`]s and
//! [`CallNotice`]s and leaves the transport to its owner: requests go out
//! through a [`Signal`], and every notice of this call is fed to
//! [`GroupCall::notice`]. One task applies the relay's offers and candidates
//! in order and sends the answers back; the media engine (one connection to
//! the relay, one track per other participant) is reachable through
//! [`GroupCall::engine`] for pictures, levels, mute and camera.

use std::sync::Arc;

use natter_proto::call::{CallNotice, CallRequest, EndReason, SdpType};
use natter_proto::model::{CallMedia, ConversationId, UserId};
use tokio::sync::mpsc;

use crate::Result;
use crate::call::{CallEngine, CallEvent};
use crate::config::{MediaConfig, VideoSource};
use crate::phone::{Signal, new_call_id};

/// What a group call tells its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupEvent {
    /// The relay let this device in; media is being set up.
    Joined,
    /// Media to and from the relay flows.
    Connected,
    /// Who takes part now (this account included), in the order they joined.
    Participants(Vec<UserId>),
    /// Who of them has their microphone muted (this account included), as
    /// the relay last said; sent when it changes. Relays before protocol 7
    /// never say.
    Muted(Vec<UserId>),
    /// The first sound or picture from one participant arrived.
    StreamStarted {
        /// Whose.
        from: UserId,
        /// A picture (else sound).
        video: bool,
    },
    /// Something the user should know that does not end the call.
    Problem(String),
    /// This device is out of the call.
    Ended {
        /// Why.
        reason: EndReason,
        /// How long the call ran while more than one took part.
        duration_ms: u64,
    },
}

/// How long a hang-up waits for the relay's `ended`.
const LEAVE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

enum Command {
    Notice(CallNotice),
    Mute(bool),
    HangUp,
}

/// Handle to one group call; cheap to clone.
#[derive(Clone)]
pub struct GroupCall {
    call_id: String,
    engine: Arc<CallEngine>,
    commands: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for GroupCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCall")
            .field("call_id", &self.call_id)
            .finish_non_exhaustive()
    }
}

impl GroupCall {
    /// Starts a group call in `conversation` and takes part in it, as the
    /// account `me`. `config` brings the sources, sink and ICE servers; an
    /// audio call drops its video source. Must be called inside a Tokio
    /// runtime.
    pub async fn start(
        signal: Signal,
        config: MediaConfig,
        me: UserId,
        conversation: ConversationId,
        media: CallMedia,
    ) -> Result<(GroupCall, mpsc::UnboundedReceiver<GroupEvent>)> {
        let call_id = new_call_id();
        let started = Self::open(signal.clone(), config, me, call_id.clone(), media).await?;
        signal(CallRequest::Invite {
            call_id,
            conversation,
            media,
        });
        Ok(started)
    }

    /// Joins the group call `call_id` (ringing here, or in progress) as the
    /// account `me`.
    pub async fn join(
        signal: Signal,
        config: MediaConfig,
        me: UserId,
        call_id: String,
        media: CallMedia,
    ) -> Result<(GroupCall, mpsc::UnboundedReceiver<GroupEvent>)> {
        let started = Self::open(signal.clone(), config, me, call_id.clone(), media).await?;
        signal(CallRequest::Accept { call_id });
        Ok(started)
    }

    async fn open(
        signal: Signal,
        mut config: MediaConfig,
        me: UserId,
        call_id: String,
        media: CallMedia,
    ) -> Result<(GroupCall, mpsc::UnboundedReceiver<GroupEvent>)> {
        if media == CallMedia::Audio {
            config.video_source = VideoSource::None;
        }
        let (engine, engine_events) = CallEngine::new_group(config).await?;
        let engine = Arc::new(engine);
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let task = Task {
            me,
            call_id: call_id.clone(),
            signal,
            engine: engine.clone(),
            events,
            participants: Vec::new(),
            muted: Vec::new(),
            mute: MuteState::default(),
            over: false,
        };
        tokio::spawn(task.run(commands_rx, engine_events));
        Ok((
            GroupCall {
                call_id,
                engine,
                commands,
            },
            events_rx,
        ))
    }

    /// The call's id.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The media engine: [`CallEngine::participant_video`],
    /// [`CallEngine::participant_level`], mute, camera, stats.
    pub fn engine(&self) -> &CallEngine {
        &self.engine
    }

    /// A notice from the relay. Notices of other calls are ignored.
    pub fn notice(&self, notice: CallNotice) {
        let _ = self.commands.send(Command::Notice(notice));
    }

    /// Mutes or unmutes this device's microphone, and tells the others
    /// through the relay (protocol 7; an older relay is not told).
    pub fn set_muted(&self, muted: bool) {
        self.engine.set_muted(muted);
        let _ = self.commands.send(Command::Mute(muted));
    }

    /// Leaves the call.
    pub fn hang_up(&self) {
        let _ = self.commands.send(Command::HangUp);
    }
}

struct Task {
    /// This device's account.
    me: UserId,
    call_id: String,
    signal: Signal,
    engine: Arc<CallEngine>,
    events: mpsc::UnboundedSender<GroupEvent>,
    participants: Vec<UserId>,
    /// Who the relay last said is muted.
    muted: Vec<UserId>,
    mute: MuteState,
    over: bool,
}

/// This device's mute as wanted here and as the relay knows it.
#[derive(Default)]
struct MuteState {
    wanted: bool,
    /// What the relay holds, as it last said (or as last sent since).
    sent: bool,
    /// The relay takes `media_state` (its `participants` name who is muted).
    relay_takes_it: bool,
    /// This device takes part (the relay answered `accepted`).
    joined: bool,
}

impl Task {
    /// Tells the relay this device's mute if it may and it does not know it.
    fn sync_mute(&mut self) {
        let m = &mut self.mute;
        if m.joined && m.relay_takes_it && m.wanted != m.sent {
            m.sent = m.wanted;
            (self.signal)(CallRequest::MediaState {
                call_id: self.call_id.clone(),
                muted: m.wanted,
            });
        }
    }

    fn emit(&self, event: GroupEvent) {
        let _ = self.events.send(event);
    }

    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut engine_events: mpsc::UnboundedReceiver<CallEvent>,
    ) {
        // After a hang-up, the relay's `ended` (with the talk time) closes the
        // call here, so a quick rejoin of the same call never sees it; if it
        // does not come, the call ends here anyway.
        let mut leaving: Option<tokio::time::Instant> = None;
        let mut handles = true;
        while !self.over {
            let give_up = async {
                match leaving {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv(), if handles => match command {
                    Some(Command::Notice(notice)) => self.on_notice(notice).await,
                    Some(Command::Mute(muted)) => {
                        self.mute.wanted = muted;
                        self.sync_mute();
                    }
                    Some(Command::HangUp) | None => {
                        // Every handle gone: nobody can feed notices any more.
                        handles = command.is_some();
                        if leaving.is_none() {
                            (self.signal)(CallRequest::Hangup { call_id: self.call_id.clone() });
                            let _ = self.engine.close().await;
                            leaving = Some(tokio::time::Instant::now() + LEAVE_WAIT);
                        }
                    }
                },
                event = engine_events.recv(), if leaving.is_none() => match event {
                    Some(event) => self.on_engine(event).await,
                    None => break,
                },
                () = give_up => self.end(EndReason::Completed, 0).await,
            }
        }
    }

    async fn end(&mut self, reason: EndReason, duration_ms: u64) {
        if self.over {
            return;
        }
        self.over = true;
        let _ = self.engine.close().await;
        self.emit(GroupEvent::Ended {
            reason,
            duration_ms,
        });
    }

    async fn on_notice(&mut self, notice: CallNotice) {
        match notice {
            CallNotice::Accepted { call_id } if call_id == self.call_id => {
                self.mute.joined = true;
                self.emit(GroupEvent::Joined);
                self.sync_mute();
            }
            CallNotice::Sdp {
                call_id,
                sdp_type: SdpType::Offer,
                sdp,
            } if call_id == self.call_id => {
                if let Err(error) = self.engine.set_remote_sdp(SdpType::Offer, sdp).await {
                    tracing::warn!(%error, "group call offer not applied");
                    self.emit(GroupEvent::Problem(error.to_string()));
                }
            }
            CallNotice::Ice { call_id, candidate } if call_id == self.call_id => {
                if let Err(error) = self.engine.add_remote_candidate(candidate).await {
                    tracing::debug!(%error, "relay candidate not applied");
                }
            }
            CallNotice::Participants {
                call_id,
                participants,
                muted,
                ..
            } if call_id == self.call_id => {
                if let Some(muted) = muted {
                    self.mute.relay_takes_it = true;
                    // What the relay holds, whatever was sent: a change sent
                    // while the connection was down is sent again below.
                    self.mute.sent = muted.contains(&self.me);
                    if muted != self.muted {
                        self.muted = muted.clone();
                        self.emit(GroupEvent::Muted(muted));
                    }
                }
                for gone in self
                    .participants
                    .iter()
                    .filter(|p| !participants.contains(p))
                {
                    self.engine.forget_participant(*gone);
                }
                for present in &participants {
                    self.engine.admit_participant(*present);
                }
                self.participants = participants.clone();
                self.emit(GroupEvent::Participants(participants));
                self.sync_mute();
            }
            CallNotice::Ended {
                call_id,
                reason,
                duration_ms,
            } if call_id == self.call_id => self.end(reason, duration_ms).await,
            _ => {}
        }
    }

    async fn on_engine(&mut self, event: CallEvent) {
        match event {
            CallEvent::LocalSdp { sdp_type, sdp } => (self.signal)(CallRequest::Sdp {
                call_id: self.call_id.clone(),
                sdp_type,
                sdp,
            }),
            CallEvent::LocalCandidate(candidate) => (self.signal)(CallRequest::Ice {
                call_id: self.call_id.clone(),
                candidate,
            }),
            CallEvent::Connected => self.emit(GroupEvent::Connected),
            CallEvent::StreamStarted { from, video } => {
                self.emit(GroupEvent::StreamStarted { from, video });
            }
            CallEvent::DeviceFailed { reason, .. } => self.emit(GroupEvent::Problem(reason)),
            CallEvent::Failed(reason) => {
                self.emit(GroupEvent::Problem(reason));
                (self.signal)(CallRequest::Hangup {
                    call_id: self.call_id.clone(),
                });
                self.end(EndReason::ConnectionLost, 0).await;
            }
            CallEvent::Disconnected
            | CallEvent::FirstAudio
            | CallEvent::FirstVideo
            | CallEvent::Closed => {}
        }
    }
}
