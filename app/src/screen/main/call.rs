//! 1:1 calls: the account's phone, the current call's state, and call records
//! in words.
//!
//! The phone ([`natter_media::phone::Phone`]) lives in a subscription keyed by
//! the account and the chosen devices, present while the session has a client:
//! its first update hands the screen a handle, the rest are the phone's events.
//! The relay's call notices arrive on the session and are passed to the phone.
//! While a call is on, two more subscriptions run: a one-second tick (duration,
//! stats, repeated ring, the short "ended" state) and, for video, the peer's
//! frames, paced to at most ~30 a second with the latest frame winning.
//! Drawing is in [`view`](self::view).

mod phone;
pub(super) mod share;
pub mod view;
pub(super) use view::{media_line, participant_line, stats_line};

use phone::VideoKey;
pub(super) use phone::ice_servers;
pub use phone::{Devices, FRAME_GAP, Handle, frames, media_config, phone, start};

use std::time::{Duration, Instant};

use iced::widget::image;
use iced::{Subscription, Task};
use natter_i18n::{Arg, I18n};
use natter_media::CallStats;
use natter_media::VideoSource;
use natter_media::phone::PhoneEvent;
use natter_media::source::screen::{ScreenChoice, ScreenTarget};
use natter_proto::call::{CallNotice, EndReason};
use natter_proto::model::{
    CallMedia, CallOutcome, ConversationId, ConversationKind, MessageBody, UserId,
};
use natter_store::model::PreviewKind;

use super::{Context, Main};

/// How long the peer's picture may stand still before it counts as paused.
pub const VIDEO_STALE: Duration = Duration::from_secs(2);

/// How long the "Call ended · 2:31" state stays before the strip goes away.
pub const ENDED_FOR: Duration = Duration::from_secs(3);

/// What the phone subscription yields.
#[derive(Debug, Clone)]
pub enum Update {
    /// The phone started.
    Ready(Handle),
    /// One of its events.
    Event(PhoneEvent),
}

/// Whose video a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feed {
    /// The peer's.
    Remote,
    /// This device's own camera (self-view).
    Local,
}

/// Messages about calls.
#[derive(Debug, Clone)]
pub enum Message {
    /// From the phone subscription.
    Phone(Update),
    /// Call the peer of a 1:1 conversation.
    Dial(ConversationId, UserId, CallMedia),
    /// The invitation went out (with its id), or the phone was busy.
    Dialed(Option<String>),
    /// Answer the ringing call.
    Accept,
    /// Decline the ringing call.
    Decline,
    /// Hang up (or cancel while it rings).
    HangUp,
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
    /// Close the "ended" state now.
    Dismiss,
    /// A second passed.
    Tick,
    /// Fresh statistics.
    Stats(Option<CallStats>),
    /// A video frame, ready to draw.
    Frame(Feed, image::Handle),
}

/// Where a call stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// Inviting (outgoing).
    Dialing,
    /// It rings on the peer's side (outgoing).
    Ringing,
    /// It rings here (incoming).
    Incoming,
    /// Answered; media being set up.
    Connecting,
    /// Media flows since then.
    Connected(Instant),
    /// Over; shown briefly.
    Ended(Ending),
}

/// How a call ended, from this side's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Talked for this long.
    Completed(u64),
    /// The callee declined.
    Declined,
    /// The callee did not answer (outgoing).
    NoAnswer,
    /// Nobody answered here (incoming).
    Missed,
    /// The caller gave up.
    Cancelled,
    /// The callee was in another call.
    Busy,
    /// Another device of this account took it.
    AnsweredElsewhere,
    /// The peer's connection was lost.
    ConnectionLost,
    /// Could not be placed.
    Failed,
}

impl Ending {
    fn from_reason(reason: EndReason, duration_ms: u64, outgoing: bool) -> Ending {
        match reason {
            EndReason::Completed => Ending::Completed(duration_ms),
            EndReason::Rejected => Ending::Declined,
            EndReason::Missed if outgoing => Ending::NoAnswer,
            EndReason::Missed => Ending::Missed,
            EndReason::Cancelled => Ending::Cancelled,
            EndReason::Busy => Ending::Busy,
            EndReason::AnsweredElsewhere => Ending::AnsweredElsewhere,
            EndReason::ConnectionLost if duration_ms > 0 => Ending::Completed(duration_ms),
            EndReason::ConnectionLost => Ending::ConnectionLost,
        }
    }

    /// In words: "Call ended · 2:31", "Declined", "No answer", ….
    pub fn text(self, i18n: &I18n) -> String {
        match self {
            Ending::Completed(ms) => {
                i18n.tr_args("call-ended", &[("duration", Arg::from(duration(ms)))])
            }
            Ending::Declined => i18n.tr("call-ended-declined"),
            Ending::NoAnswer => i18n.tr("call-ended-no-answer"),
            Ending::Missed => i18n.tr("call-ended-missed"),
            Ending::Cancelled => i18n.tr("call-ended-cancelled"),
            Ending::Busy => i18n.tr("call-ended-busy"),
            Ending::AnsweredElsewhere => i18n.tr("call-ended-elsewhere"),
            Ending::ConnectionLost => i18n.tr("call-ended-lost"),
            Ending::Failed => i18n.tr("call-ended-failed"),
        }
    }
}

/// The current (or just ended) call.
#[derive(Debug, Clone)]
pub struct Call {
    /// The relay's id, once known.
    pub id: Option<String>,
    /// The 1:1 conversation.
    pub conversation: ConversationId,
    /// The other party.
    pub peer: UserId,
    /// Audio or video.
    pub media: CallMedia,
    /// Placed by this device.
    pub outgoing: bool,
    /// Where it stands.
    pub stage: Stage,
    /// Microphone muted.
    pub muted: bool,
    /// Camera on (video calls).
    pub camera: bool,
    /// Screen sharing (replaces the camera while on).
    pub share: share::Share,
    /// The peer's latest frame.
    pub remote: Option<image::Handle>,
    /// When it arrived: a picture that stops changing means the peer's camera
    /// is off (or their video stalled).
    pub remote_at: Option<Instant>,
    /// The self-view's latest frame.
    pub local: Option<image::Handle>,
    /// Frames drawn from the peer so far.
    pub frames: u64,
    /// The latest statistics.
    pub stats: Option<CallStats>,
    /// Device problems and the like, in the media layer's words.
    pub problems: Vec<String>,
    ended_at: Option<Instant>,
    last_ring: Option<Instant>,
}

impl Call {
    fn new(
        id: Option<String>,
        conversation: ConversationId,
        peer: UserId,
        media: CallMedia,
        outgoing: bool,
    ) -> Call {
        Call {
            id,
            conversation,
            peer,
            media,
            outgoing,
            stage: if outgoing {
                Stage::Dialing
            } else {
                Stage::Incoming
            },
            muted: false,
            camera: media == CallMedia::Video,
            share: share::Share::Off,
            remote: None,
            remote_at: None,
            local: None,
            frames: 0,
            stats: None,
            problems: Vec::new(),
            ended_at: None,
            last_ring: None,
        }
    }

    /// Whether the call is still on (not in its short "ended" state).
    pub fn is_live(&self) -> bool {
        !matches!(self.stage, Stage::Ended(_))
    }

    /// Whether the peer's picture stopped changing a while ago (camera off).
    pub fn remote_paused(&self) -> bool {
        self.remote_at.is_some_and(|t| t.elapsed() >= VIDEO_STALE)
    }

    /// Whether media flows.
    pub fn is_connected(&self) -> bool {
        matches!(self.stage, Stage::Connected(_))
    }

    fn is(&self, call_id: &str) -> bool {
        // An outgoing call learns its id when the invitation goes out; its first
        // events may come before that.
        self.id.as_deref().is_none_or(|id| id == call_id)
    }

    fn end(&mut self, ending: Ending) {
        self.stage = Stage::Ended(ending);
        self.ended_at = Some(Instant::now());
        self.remote = None;
        self.local = None;
    }
}

/// `m:ss`, or `h:mm:ss` from an hour on.
pub fn duration(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// A call record in words, and whether it is a call this account missed (to
/// make it stand out). `None` for other bodies.
pub fn record(i18n: &I18n, body: &MessageBody, mine: bool) -> Option<(String, bool)> {
    let MessageBody::Call {
        media,
        outcome,
        duration_ms,
        ..
    } = body
    else {
        return None;
    };
    let video = *media == CallMedia::Video;
    // Not ▶, which reads as something to play.
    let icon = if video { "📹" } else { "☎" };
    let (key, missed) = match outcome {
        CallOutcome::Completed => {
            let key = if video {
                "chat-call-completed-video"
            } else {
                "chat-call-completed-audio"
            };
            let words = i18n.tr_args(key, &[("duration", Arg::from(duration(*duration_ms)))]);
            return Some((format!("{icon} {words}"), false));
        }
        CallOutcome::Missed if mine => ("chat-call-no-answer", false),
        CallOutcome::Missed if video => ("chat-call-missed-video", true),
        CallOutcome::Missed => ("chat-call-missed-audio", true),
        CallOutcome::Rejected => ("chat-call-declined", false),
        CallOutcome::Cancelled => ("chat-call-cancelled", !mine),
        CallOutcome::Busy => ("chat-call-busy", false),
    };
    Some((format!("{icon} {}", i18n.tr(key)), missed))
}

impl Main {
    /// The current call, if any (also in its short "ended" state).
    pub fn call(&self) -> Option<&Call> {
        self.call.as_ref()
    }

    /// The phone, the tick and the video feeds, as relevant.
    pub(super) fn call_subscriptions(&self) -> Subscription<Message> {
        let mut subs = Vec::new();
        if let Some(client) = &self.client {
            subs.push(phone(client, self.me(), &self.devices).map(Message::Phone));
        }
        if let Some(call) = &self.call {
            subs.push(iced::time::every(Duration::from_secs(1)).map(|_| Message::Tick));
            // Every connected call: either side may start video mid-call.
            if let (Some(phone), Some(id), true) = (&self.phone, &call.id, call.is_connected()) {
                for feed in [Feed::Remote, Feed::Local] {
                    subs.push(Subscription::run_with(
                        VideoKey {
                            call_id: id.clone(),
                            feed,
                            phone: phone.clone(),
                        },
                        VideoKey::stream,
                    ));
                }
            }
        }
        Subscription::batch(subs)
    }

    /// A call notice from the session: the phone handles it (kept until the
    /// phone is up).
    pub(super) fn on_call_notice(&mut self, notice: CallNotice) {
        let Some(notice) = self.on_group_notice(notice) else {
            return;
        };
        match &self.phone {
            Some(phone) => phone.notice(notice),
            None => self.early_notices.push(notice),
        }
    }

    /// Takes the devices chosen in the settings, unless a call is on: a change
    /// restarts the phone, so it waits for the call to end.
    pub(super) fn follow_devices(&mut self, ctx: Context<'_>) {
        if self.devices != ctx.settings.devices && self.call.as_ref().is_none_or(|c| !c.is_live()) {
            self.devices = ctx.settings.devices.clone();
            // The subscription starts a new phone; notices wait for it rather
            // than go to the old one, whose events no one reads any more.
            self.phone = None;
        }
    }

    /// Handles a call message.
    pub(super) fn update_call(
        &mut self,
        message: Message,
        ctx: Context<'_>,
    ) -> Task<super::Message> {
        let task = match message {
            Message::Phone(Update::Ready(Handle(phone))) => {
                for notice in self.early_notices.drain(..) {
                    phone.notice(notice);
                }
                self.phone = Some(phone);
                Task::none()
            }
            Message::Phone(Update::Event(event)) => self.on_phone(event, ctx),
            Message::Dial(conversation, peer, media) => {
                if self.call.as_ref().is_some_and(Call::is_live) {
                    return Task::none();
                }
                let mut call = Call::new(None, conversation, peer, media, true);
                let (Some(phone), Some(client)) = (self.phone.clone(), self.client.clone()) else {
                    call.end(Ending::Failed);
                    self.call = Some(call);
                    return Task::none();
                };
                self.call = Some(call);
                Task::perform(
                    async move {
                        let ice = ice_servers(&client).await;
                        phone.dial(conversation, media, ice).await
                    },
                    Message::Dialed,
                )
            }
            Message::Dialed(id) => {
                if let Some(call) = self.call.as_mut().filter(|c| c.outgoing && c.is_live()) {
                    match id {
                        Some(id) => call.id = Some(id),
                        None => call.end(Ending::Failed),
                    }
                }
                Task::none()
            }
            Message::Accept => {
                let Some(call) = self.call.as_mut().filter(|c| c.stage == Stage::Incoming) else {
                    return Task::none();
                };
                call.stage = Stage::Connecting;
                let conversation = call.conversation;
                let (Some(phone), Some(client)) = (self.phone.clone(), self.client.clone()) else {
                    return Task::none();
                };
                let answer = Task::perform(
                    async move {
                        let ice = ice_servers(&client).await;
                        phone.answer(ice);
                    },
                    |_| Message::Tick,
                );
                // The chat with the caller opens beside the call.
                self.sidebar.show(super::Panel::Chats);
                let open = self.select(conversation);
                return Task::batch([answer.map(super::Message::Call), open]);
            }
            Message::Decline => {
                if let (Some(phone), Some(call)) = (&self.phone, self.call.as_mut())
                    && call.stage == Stage::Incoming
                {
                    phone.decline();
                    call.end(Ending::Declined);
                }
                Task::none()
            }
            Message::HangUp => {
                if let Some(phone) = &self.phone {
                    phone.hang_up();
                }
                if let Some(call) = self.call.as_mut().filter(|c| c.is_live()) {
                    match call.stage {
                        Stage::Dialing | Stage::Ringing => call.end(Ending::Cancelled),
                        // The relay's notice brings the talk time.
                        _ => {}
                    }
                }
                Task::none()
            }
            Message::ToggleMute => {
                if let (Some(phone), Some(call)) = (&self.phone, self.call.as_mut()) {
                    call.muted = !call.muted;
                    phone.set_muted(call.muted);
                }
                Task::none()
            }
            Message::ToggleCamera => {
                if let (Some(phone), Some(call)) = (&self.phone, self.call.as_mut()) {
                    call.camera = !call.camera;
                    if !call.camera {
                        call.local = None;
                    }
                    phone.set_camera(call.camera);
                }
                Task::none()
            }
            Message::ShareScreen => {
                if let Some(call) = self.call.as_mut() {
                    call.share = share::Share::Listing;
                }
                share::list().map(Message::ScreensListed)
            }
            Message::ScreensListed(listing) => {
                let Some(call) = self.call.as_mut() else {
                    return Task::none();
                };
                call.share = share::Share::Off;
                match share::listed(listing) {
                    Ok(Ok(target)) => Task::done(Message::ShareChosen(target)),
                    Ok(Err(choices)) => {
                        call.share = share::Share::Picking(choices);
                        Task::none()
                    }
                    Err(problem) => {
                        if !call.problems.contains(&problem) {
                            call.problems.push(problem);
                        }
                        Task::none()
                    }
                }
            }
            Message::ShareChosen(target) => {
                if let (Some(phone), Some(call)) = (&self.phone, self.call.as_mut()) {
                    call.share = share::Share::On;
                    phone.send_video(VideoSource::Screen(target));
                }
                Task::none()
            }
            Message::ShareCancelled | Message::StopSharing => {
                if let (Some(phone), Some(call)) = (&self.phone, self.call.as_mut()) {
                    if call.share.is_on() && call.camera && call.media == CallMedia::Video {
                        phone.send_camera();
                    } else if call.share.is_on() {
                        phone.send_video(VideoSource::None);
                    }
                    call.share = share::Share::Off;
                }
                Task::none()
            }
            Message::Dismiss => {
                if self.call.as_ref().is_some_and(|c| !c.is_live()) {
                    self.call = None;
                }
                Task::none()
            }
            Message::Tick => self.tick(),
            Message::Stats(stats) => {
                if let Some(call) = self.call.as_mut().filter(|c| c.is_connected()) {
                    call.stats = stats;
                }
                Task::none()
            }
            Message::Frame(feed, handle) => {
                if let Some(call) = self.call.as_mut().filter(|c| c.is_connected()) {
                    match feed {
                        Feed::Remote => {
                            call.remote = Some(handle);
                            call.remote_at = Some(Instant::now());
                            call.frames += 1;
                        }
                        Feed::Local if call.camera => call.local = Some(handle),
                        Feed::Local => {}
                    }
                }
                Task::none()
            }
        };
        task.map(super::Message::Call)
    }

    /// The call records that are the last message of a conversation, so the
    /// list can say "Missed voice call" rather than a generic label.
    pub(super) fn load_call_records(&self) -> Task<super::Message> {
        let wanted: Vec<(ConversationId, u64)> = self
            .conversations
            .iter()
            .filter_map(|c| {
                c.last_message
                    .as_ref()
                    .filter(|p| p.kind == PreviewKind::Call)
                    .map(|p| (c.id, p.seq))
            })
            .filter(|(id, seq)| self.call_records.get(id).is_none_or(|m| m.seq != *seq))
            .collect();
        if wanted.is_empty() {
            return Task::none();
        }
        let store = self.store.clone();
        Task::perform(
            async move {
                let mut records = Vec::new();
                for (id, seq) in wanted {
                    if let Ok(found) = store.messages(id, seq, seq, 1, false).await {
                        records.extend(
                            found
                                .into_iter()
                                .filter(|m| matches!(m.body, MessageBody::Call { .. })),
                        );
                    }
                }
                records
            },
            super::Message::CallRecords,
        )
    }

    fn tick(&mut self) -> Task<Message> {
        let Some(call) = self.call.as_mut() else {
            return Task::none();
        };
        match &call.stage {
            Stage::Ended(_) => {
                if call.ended_at.is_none_or(|t| t.elapsed() >= ENDED_FOR) {
                    self.call = None;
                }
                Task::none()
            }
            Stage::Incoming => {
                if call
                    .last_ring
                    .is_none_or(|t| t.elapsed() >= crate::sound::RING_EVERY)
                {
                    call.last_ring = Some(Instant::now());
                    crate::sound::play_ringtone();
                }
                Task::none()
            }
            Stage::Connected(_) => match self.phone.clone() {
                Some(phone) => Task::perform(async move { phone.stats().await }, Message::Stats),
                None => Task::none(),
            },
            _ => Task::none(),
        }
    }

    fn on_phone(&mut self, event: PhoneEvent, ctx: Context<'_>) -> Task<Message> {
        match event {
            PhoneEvent::Incoming {
                call_id,
                conversation,
                from,
                media,
            } => {
                let mut call = Call::new(Some(call_id), conversation, from, media, false);
                // A call rings whatever the notification setting; the OS
                // notification follows it, for when the window is in the
                // background.
                crate::sound::play_ringtone();
                call.last_ring = Some(Instant::now());
                self.call = Some(call);
                if !ctx.focused {
                    if ctx.settings.notifications {
                        self.notify_incoming(ctx, from, media);
                    }
                    // Also ask the window manager to flag the window.
                    return iced::window::latest().and_then(|id| {
                        iced::window::request_user_attention(
                            id,
                            Some(iced::window::UserAttention::Critical),
                        )
                    });
                }
            }
            PhoneEvent::Ringing { call_id } => {
                if let Some(call) = self.call_for(&call_id)
                    && call.stage == Stage::Dialing
                {
                    call.stage = Stage::Ringing;
                }
            }
            PhoneEvent::Connecting { call_id } => {
                if let Some(call) = self.call_for(&call_id) {
                    call.stage = Stage::Connecting;
                }
            }
            PhoneEvent::Connected { call_id } => {
                if let Some(call) = self.call_for(&call_id)
                    && !call.is_connected()
                {
                    call.stage = Stage::Connected(Instant::now());
                }
            }
            PhoneEvent::FirstAudio { .. } | PhoneEvent::FirstVideo { .. } => {}
            PhoneEvent::Problem { call_id, message } => {
                tracing::info!(%message, "call problem");
                if let Some(call) = self.call_for(&call_id)
                    && !call.problems.contains(&message)
                {
                    call.problems.push(message);
                }
            }
            PhoneEvent::Ended {
                call_id,
                reason,
                duration_ms,
            } => {
                if let Some(call) = self.call_for(&call_id) {
                    let outgoing = call.outgoing;
                    call.end(Ending::from_reason(reason, duration_ms, outgoing));
                }
            }
        }
        Task::none()
    }

    fn call_for(&mut self, call_id: &str) -> Option<&mut Call> {
        self.call.as_mut().filter(|c| c.is_live() && c.is(call_id))
    }

    fn notify_incoming(&self, ctx: Context<'_>, from: UserId, media: CallMedia) {
        let name = self.user_name(from);
        let title = ctx
            .i18n
            .tr_args("call-incoming", &[("name", Arg::from(name))]);
        super::live::os_notification(title, ctx.i18n.tr(media_key(media)));
    }

    pub(super) fn user_name(&self, id: UserId) -> String {
        // The 1:1 conversation's title names the peer before the friend list
        // has loaded.
        self.users
            .get(&id)
            .map(|u| u.nickname.clone())
            .or_else(|| {
                self.conversations
                    .iter()
                    .find(|c| matches!(c.kind, ConversationKind::Direct { peer } if peer == id))
                    .map(|c| c.title.clone())
            })
            .unwrap_or_else(|| id.to_string())
    }
}

/// "Voice call" / "Video call".
pub fn media_key(media: CallMedia) -> &'static str {
    match media {
        CallMedia::Audio => "call-audio",
        CallMedia::Video => "call-video",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(7_400), "0:07");
        assert_eq!(duration(65_000), "1:05");
        assert_eq!(duration(151_000), "2:31");
        assert_eq!(duration(3_725_000), "1:02:05");
    }

    #[test]
    fn endings_from_each_side() {
        assert_eq!(
            Ending::from_reason(EndReason::Missed, 0, true),
            Ending::NoAnswer
        );
        assert_eq!(
            Ending::from_reason(EndReason::Missed, 0, false),
            Ending::Missed
        );
        assert_eq!(
            Ending::from_reason(EndReason::Completed, 151_000, false),
            Ending::Completed(151_000)
        );
    }

    #[test]
    fn records_in_words_and_missed_ones_stand_out() {
        let i18n = I18n::new(natter_i18n::Language::EnUs).unwrap();
        let body = |media, outcome, duration_ms| MessageBody::Call {
            call_id: "c".into(),
            media,
            outcome,
            duration_ms,
            participants: Vec::new(),
        };
        let r = |b: MessageBody, mine| record(&i18n, &b, mine).unwrap();
        assert_eq!(
            r(
                body(CallMedia::Video, CallOutcome::Completed, 151_000),
                true
            ),
            ("📹 Video call · 2:31".into(), false)
        );
        assert_eq!(
            r(body(CallMedia::Audio, CallOutcome::Missed, 0), false),
            ("☎ Missed voice call".into(), true)
        );
        assert_eq!(
            r(body(CallMedia::Audio, CallOutcome::Missed, 0), true),
            ("☎ No answer".into(), false)
        );
        assert_eq!(
            r(body(CallMedia::Video, CallOutcome::Rejected, 0), true).0,
            "📹 Declined"
        );
        assert_eq!(
            r(body(CallMedia::Audio, CallOutcome::Busy, 0), true).0,
            "☎ Busy"
        );
        assert!(record(&i18n, &MessageBody::Recalled, true).is_none());
    }
}
