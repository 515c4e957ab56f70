//! Group calls in the window: which groups have a call running (from the
//! relay's `participants` notices), starting and joining one from the group's
//! header, and while in one a strip of tiles — each participant's picture or
//! initial, their name, the one speaking outlined — with mute, camera and leave.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iced::Task;
use iced::widget::image;
use natter_media::VideoSource;
use natter_media::group::{GroupCall, GroupEvent};
use natter_media::source::screen::{ScreenChoice, ScreenTarget};
use natter_proto::call::CallNotice;
use natter_proto::model::{CallMedia, ConversationId, UserId};

use natter_proto::model::ConversationKind;

use super::Main;
use super::call::share::{self, Share};
mod ring;
mod view;

/// A picture tile's size.
const TILE_W: f32 = 128.0;
const TILE_H: f32 = 96.0;
/// Level above which a participant counts as speaking.
const SPEAKING: f32 = 0.02;

/// Group call messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// Start a call in this group.
    Start(ConversationId, CallMedia),
    /// Join the call running in this group.
    Join(ConversationId),
    /// Do not join the call ringing in this group (it rings no more here).
    Decline(ConversationId),
    /// Time to ring again for a call ringing here.
    Ring,
    /// The call was set up (or could not be).
    Opened(Result<Opened, String>),
    /// From the call (also taken on every tick).
    Event(GroupEvent),
    /// Leave the call.
    Leave,
    /// Mute or unmute the microphone.
    ToggleMute,
    /// Camera off or on.
    ToggleCamera,
    /// Share the screen (or pick which first).
    ShareScreen,
    /// What can be shared, or why nothing can.
    ScreensListed(Result<Vec<ScreenChoice>, natter_media::Error>),
    /// Share this screen or window.
    ShareChosen(ScreenTarget),
    /// Close the picker without sharing.
    ShareCancelled,
    /// Stop sharing; the camera comes back if it was on.
    StopSharing,
    /// The video source changed, or why it could not.
    VideoChanged(Result<(), String>),
    /// Time to take the call's events and fresh pictures and levels.
    Tick,
    /// Fresh numbers on the link to the relay.
    Stats(Option<natter_media::CallStats>),
}

/// A call set up, with its events (taken once).
#[derive(Debug, Clone)]
pub struct Opened {
    conversation: ConversationId,
    call: GroupCall,
    events: Arc<Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<GroupEvent>>>>,
}

/// A call running in a group, as the relay announced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Running {
    /// The call.
    pub call_id: String,
    /// Audio or video.
    pub media: CallMedia,
    /// Who takes part.
    pub participants: Vec<UserId>,
    /// Whether this account's devices ring for it.
    pub ringing: bool,
    /// Who started it, when this device was rung.
    pub from: Option<UserId>,
}

/// The call this device takes part in.
pub struct InCall {
    conversation: ConversationId,
    call: GroupCall,
    events: tokio::sync::mpsc::UnboundedReceiver<GroupEvent>,
    participants: Vec<UserId>,
    muted: bool,
    /// Who the relay says has their microphone muted.
    muted_users: Vec<UserId>,
    camera: bool,
    share: Share,
    connected: bool,
    problem: Option<String>,
    pictures: HashMap<UserId, image::Handle>,
    speaking: Option<UserId>,
    stats: Option<natter_media::CallStats>,
    /// Ticks since the numbers were last asked for.
    ticks: u32,
}

impl InCall {
    /// The conversation of the call.
    pub fn conversation(&self) -> ConversationId {
        self.conversation
    }

    /// Who takes part, as the relay last said.
    pub fn participants(&self) -> &[UserId] {
        &self.participants
    }

    /// Whose pictures arrived.
    pub fn pictured(&self) -> usize {
        self.pictures.len()
    }

    /// Whether media to and from the relay flows.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Whether `user`'s microphone is muted: this device's own state for
    /// this account, else what the relay last said.
    pub fn is_muted(&self, user: UserId, me: UserId) -> bool {
        if user == me {
            self.muted
        } else {
            self.muted_users.contains(&user)
        }
    }
}

impl Main {
    /// A call notice about a group call: kept here (and handed to the call
    /// this device takes part in). Returns the notice back if it is not one.
    pub(super) fn on_group_notice(&mut self, notice: CallNotice) -> Option<CallNotice> {
        let is_group = |c: ConversationId| {
            self.groups.iter().any(|g| g.id == c)
                || self
                    .conversations
                    .iter()
                    .any(|conv| conv.id == c && matches!(conv.kind, ConversationKind::Group { .. }))
        };
        match &notice {
            CallNotice::Incoming {
                call_id,
                conversation,
                media,
                from,
            } if is_group(*conversation) => {
                // A call this device did not hear the end of gives way.
                let fresh = || Running {
                    call_id: call_id.clone(),
                    media: *media,
                    participants: Vec::new(),
                    ringing: true,
                    from: Some(*from),
                };
                let running = self.group_calls.entry(*conversation).or_insert_with(&fresh);
                if running.call_id != *call_id {
                    *running = fresh();
                }
                running.ringing = true;
                running.from = Some(*from);
                let conversation = *conversation;
                self.ring_for_group(conversation);
                None
            }
            CallNotice::Participants {
                call_id,
                conversation,
                media,
                participants,
                ..
            } => {
                if participants.is_empty() {
                    self.group_calls.remove(conversation);
                } else {
                    let same = self
                        .group_calls
                        .get(conversation)
                        .filter(|r| r.call_id == *call_id);
                    let ringing = same.is_some_and(|r| r.ringing);
                    let from = same.and_then(|r| r.from);
                    self.group_calls.insert(
                        *conversation,
                        Running {
                            call_id: call_id.clone(),
                            media: *media,
                            participants: participants.clone(),
                            ringing,
                            from,
                        },
                    );
                }
                if let Some(in_call) = &self.group_call {
                    in_call.call.notice(notice);
                } else if let Some(early) = &mut self.group_opening {
                    early.push(notice);
                }
                None
            }
            _ => {
                let id = notice_call_id(&notice)?;
                let ours = self
                    .group_call
                    .as_ref()
                    .filter(|c| c.call.call_id() == id)
                    .map(|c| c.call.clone());
                let known = self.group_calls.values_mut().find(|r| r.call_id == id);
                let is_known = known.is_some();
                if let (Some(running), CallNotice::Ended { .. }) = (known, &notice) {
                    running.ringing = false;
                }
                if ours.is_none() {
                    // While a call is being set up, what the relay says about it
                    // (it may answer before the call is ready) waits for it.
                    let early = is_known
                        || matches!(notice, CallNotice::Sdp { .. } | CallNotice::Ice { .. });
                    if early && let Some(waiting) = &mut self.group_opening {
                        waiting.push(notice);
                        return None;
                    }
                    if !is_known {
                        return Some(notice);
                    }
                }
                if let Some(call) = ours {
                    call.notice(notice);
                }
                None
            }
        }
    }

    /// Hands what arrived while the group call was being set up to it (or,
    /// if it was not set up, to whoever else it concerns).
    fn replay_early_group_notices(&mut self) {
        for notice in self.group_opening.take().unwrap_or_default() {
            self.on_call_notice(notice);
        }
    }

    /// The call running in `conversation`, if any.
    pub(super) fn group_call_in(&self, conversation: ConversationId) -> Option<&Running> {
        self.group_calls.get(&conversation)
    }

    /// Whether this device takes part in a group call.
    pub(super) fn in_group_call(&self) -> bool {
        self.group_call.is_some()
    }

    /// The group call this device takes part in.
    pub fn group_call(&self) -> Option<&InCall> {
        self.group_call.as_ref()
    }

    /// Group calls running in this account's groups.
    pub fn group_calls(&self) -> &HashMap<ConversationId, Running> {
        &self.group_calls
    }

    /// Group calls use `config` instead of the devices chosen in the settings
    /// (a headless client: test tone and pattern on loopback).
    pub fn use_media_for_group_calls(&mut self, config: natter_media::MediaConfig) {
        self.group_call_media = Some(config);
    }

    /// Pictures and levels while in a call; the ring while one rings here.
    pub(super) fn group_call_subscription(&self) -> iced::Subscription<Message> {
        if self.group_call.is_some() {
            iced::time::every(Duration::from_millis(100)).map(|_| Message::Tick)
        } else if self.ringing_group_call().is_some() {
            iced::time::every(Duration::from_secs(1)).map(|_| Message::Ring)
        } else {
            iced::Subscription::none()
        }
    }

    pub(super) fn update_group_call(
        &mut self,
        message: Message,
        ctx: super::Context<'_>,
    ) -> Task<super::Message> {
        match message {
            Message::Start(conversation, media) => self.open_group_call(conversation, None, media),
            Message::Join(conversation) => match self.group_calls.get(&conversation) {
                Some(running) => {
                    let (id, media) = (running.call_id.clone(), running.media);
                    self.open_group_call(conversation, Some(id), media)
                }
                None => Task::none(),
            },
            Message::Decline(conversation) => {
                if let Some(running) = self.group_calls.get_mut(&conversation) {
                    running.ringing = false;
                    if let Some(client) = &self.client {
                        client.call(natter_proto::call::CallRequest::Reject {
                            call_id: running.call_id.clone(),
                        });
                    }
                }
                Task::none()
            }
            Message::Ring => {
                if let Some((conversation, _)) = self.ringing_group_call() {
                    self.ring_for_group(conversation);
                }
                Task::none()
            }
            Message::Opened(Ok(opened)) => {
                let events = opened
                    .events
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                let Some(events) = events else {
                    return Task::none();
                };
                let camera = opened.call.engine().is_camera_on();
                if let Some(running) = self.group_calls.get_mut(&opened.conversation) {
                    running.ringing = false;
                }
                self.group_call = Some(InCall {
                    conversation: opened.conversation,
                    call: opened.call,
                    events,
                    participants: Vec::new(),
                    muted: false,
                    muted_users: Vec::new(),
                    camera,
                    share: Share::Off,
                    connected: false,
                    problem: None,
                    pictures: HashMap::new(),
                    speaking: None,
                    stats: None,
                    ticks: 0,
                });
                self.replay_early_group_notices();
                Task::none()
            }
            Message::Opened(Err(e)) => {
                self.replay_early_group_notices();
                tracing::warn!(error = %e, "group call not set up");
                self.notice.set(Some(ctx.i18n.tr("group-call-failed")));
                Task::none()
            }
            Message::Event(event) => {
                self.on_group_event(event);
                Task::none()
            }
            Message::Leave => {
                if let Some(in_call) = self.group_call.take() {
                    in_call.call.hang_up();
                }
                Task::none()
            }
            Message::ToggleMute => {
                if let Some(in_call) = self.group_call.as_mut() {
                    in_call.muted = !in_call.muted;
                    in_call.call.set_muted(in_call.muted);
                }
                Task::none()
            }
            Message::ToggleCamera => {
                let camera = super::call::media_config(&self.devices).video_source;
                match self.group_call.as_mut() {
                    Some(in_call) => {
                        in_call.camera = !in_call.camera;
                        if in_call.share.is_on() {
                            // The screen stays shared; the camera waits for its end.
                            Task::none()
                        } else if in_call.camera {
                            send_video(&in_call.call, camera)
                        } else {
                            send_video(&in_call.call, VideoSource::None)
                        }
                    }
                    None => Task::none(),
                }
            }
            Message::ShareScreen => {
                if let Some(in_call) = self.group_call.as_mut() {
                    in_call.share = Share::Listing;
                }
                share::list().map(|l| super::Message::GroupCall(Message::ScreensListed(l)))
            }
            Message::ScreensListed(listing) => {
                let Some(in_call) = self.group_call.as_mut() else {
                    return Task::none();
                };
                in_call.share = Share::Off;
                match share::listed(listing) {
                    Ok(Ok(target)) => {
                        Task::done(super::Message::GroupCall(Message::ShareChosen(target)))
                    }
                    Ok(Err(choices)) => {
                        in_call.share = Share::Picking(choices);
                        Task::none()
                    }
                    Err(problem) => {
                        in_call.problem = Some(problem);
                        Task::none()
                    }
                }
            }
            Message::ShareChosen(target) => match self.group_call.as_mut() {
                Some(in_call) => {
                    in_call.share = Share::On;
                    send_video(&in_call.call, VideoSource::Screen(target))
                }
                None => Task::none(),
            },
            Message::ShareCancelled | Message::StopSharing => {
                let camera = super::call::media_config(&self.devices).video_source;
                match self.group_call.as_mut() {
                    Some(in_call) if in_call.share.is_on() => {
                        in_call.share = Share::Off;
                        let back = if in_call.camera {
                            camera
                        } else {
                            VideoSource::None
                        };
                        send_video(&in_call.call, back)
                    }
                    Some(in_call) => {
                        in_call.share = Share::Off;
                        Task::none()
                    }
                    None => Task::none(),
                }
            }
            Message::VideoChanged(result) => {
                if let (Err(problem), Some(in_call)) = (result, self.group_call.as_mut()) {
                    in_call.problem = Some(problem);
                }
                Task::none()
            }
            Message::Tick => {
                // The call's events, as they came since the last tick.
                let mut events = Vec::new();
                if let Some(in_call) = self.group_call.as_mut() {
                    while let Ok(event) = in_call.events.try_recv() {
                        events.push(event);
                    }
                }
                for event in events {
                    self.on_group_event(event);
                }
                let me = self.me();
                if let Some(in_call) = self.group_call.as_mut() {
                    let engine = in_call.call.engine();
                    // The self-view, while the camera is on.
                    match engine.local_video().latest().filter(|_| in_call.camera) {
                        Some(frame) => {
                            in_call.pictures.insert(
                                me,
                                image::Handle::from_rgba(
                                    frame.width as u32,
                                    frame.height as u32,
                                    frame.data.clone(),
                                ),
                            );
                        }
                        None => {
                            in_call.pictures.remove(&me);
                        }
                    }
                    let mut loudest = (None, SPEAKING);
                    for user in in_call.participants.iter().filter(|u| **u != me) {
                        if let Some(frame) =
                            engine.participant_video(*user).and_then(|s| s.latest())
                        {
                            in_call.pictures.insert(
                                *user,
                                image::Handle::from_rgba(
                                    frame.width as u32,
                                    frame.height as u32,
                                    frame.data.clone(),
                                ),
                            );
                        }
                        let level = engine.participant_level(*user);
                        if level > loudest.1 {
                            loudest = (Some(*user), level);
                        }
                    }
                    in_call.speaking = loudest.0;
                    // The numbers once a second.
                    in_call.ticks += 1;
                    if in_call.ticks >= 10 {
                        in_call.ticks = 0;
                        let call = in_call.call.clone();
                        return Task::perform(
                            async move { Some(call.engine().stats().await) },
                            |s| super::Message::GroupCall(Message::Stats(s)),
                        );
                    }
                }
                Task::none()
            }
            Message::Stats(stats) => {
                if let Some(in_call) = self.group_call.as_mut() {
                    in_call.stats = stats;
                }
                Task::none()
            }
        }
    }

    fn on_group_event(&mut self, event: GroupEvent) {
        let Some(in_call) = self.group_call.as_mut() else {
            return;
        };
        match event {
            GroupEvent::Participants(p) => {
                in_call.pictures.retain(|u, _| p.contains(u));
                in_call.participants = p;
            }
            GroupEvent::Muted(m) => in_call.muted_users = m,
            GroupEvent::Connected => in_call.connected = true,
            GroupEvent::Problem(p) => in_call.problem = Some(p),
            GroupEvent::Ended { .. } => self.group_call = None,
            GroupEvent::Joined | GroupEvent::StreamStarted { .. } => {}
        }
    }

    fn open_group_call(
        &mut self,
        conversation: ConversationId,
        call_id: Option<String>,
        media: CallMedia,
    ) -> Task<super::Message> {
        if self.group_call.is_some()
            || self.group_opening.is_some()
            || self.call.as_ref().is_some_and(|c| c.is_live())
        {
            return Task::none();
        }
        let Some(client) = self.client.clone() else {
            return Task::none();
        };
        let mut config = self
            .group_call_media
            .clone()
            .unwrap_or_else(|| super::call::media_config(&self.devices));
        self.group_opening = Some(Vec::new());
        let me = self.me();
        Task::perform(
            async move {
                config.ice_servers = super::call::ice_servers(&client).await;
                let signaller = client.clone();
                let signal: natter_media::phone::Signal = Arc::new(move |req| signaller.call(req));
                let opened = match call_id {
                    Some(id) => GroupCall::join(signal, config, me, id, media).await,
                    None => GroupCall::start(signal, config, me, conversation, media).await,
                };
                opened
                    .map(|(call, events)| Opened {
                        conversation,
                        call,
                        events: Arc::new(Mutex::new(Some(events))),
                    })
                    .map_err(|e| e.to_string())
            },
            |r| super::Message::GroupCall(Message::Opened(r)),
        )
    }
}

/// Sends `source` (a camera, a screen, or none) on the call's video stream.
fn send_video(call: &GroupCall, source: VideoSource) -> Task<super::Message> {
    let call = call.clone();
    Task::perform(
        async move {
            call.engine()
                .start_video(source)
                .await
                .map_err(|e| e.to_string())
        },
        |result| super::Message::GroupCall(Message::VideoChanged(result)),
    )
}

/// The call a notice is about.
fn notice_call_id(notice: &CallNotice) -> Option<&str> {
    match notice {
        CallNotice::Incoming { call_id, .. }
        | CallNotice::Ringing { call_id }
        | CallNotice::Accepted { call_id }
        | CallNotice::Ended { call_id, .. }
        | CallNotice::Sdp { call_id, .. }
        | CallNotice::Ice { call_id, .. }
        | CallNotice::Participants { call_id, .. } => Some(call_id),
    }
}
