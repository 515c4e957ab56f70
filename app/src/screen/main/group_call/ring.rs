//! Ringing for group calls: the ringtone while one rings here, the system
//! told when the window is in the background, and what is forgotten after a
//! reconnect.

use iced::Task;
use natter_i18n::Arg;
use natter_proto::model::ConversationId;

use super::super::Main;
use super::Running;

impl Main {
    /// How often a group call ringing with the window in the background
    /// asked for the reader's attention.
    pub fn group_call_alerts(&self) -> u32 {
        self.group_alerts
    }

    /// Forgets the group calls heard of, but the one this device takes
    /// part in (after a reconnect the relay tells them again).
    pub(in crate::screen::main) fn forget_group_calls(&mut self) {
        let keep = self.group_call.as_ref().map(|c| c.conversation);
        self.group_calls.retain(|c, _| Some(*c) == keep);
    }

    /// Whether a group call rang on this device since it started.
    pub fn group_call_rang(&self) -> bool {
        self.group_ring.is_some()
    }

    /// The group call ringing on this device, if any: not while it takes
    /// part in a call of any kind.
    pub(in crate::screen::main) fn ringing_group_call(&self) -> Option<(ConversationId, &Running)> {
        if self.group_call.is_some()
            || self.group_opening.is_some()
            || self.call.as_ref().is_some_and(|c| c.is_live())
        {
            return None;
        }
        self.group_calls
            .iter()
            .filter(|(_, r)| r.ringing)
            .min_by_key(|(c, _)| c.0)
            .map(|(c, r)| (*c, r))
    }

    /// A group call started ringing while the window is in the background:
    /// the system is told (unless the group is muted here), as for a 1:1
    /// call.
    pub(in crate::screen::main) fn notify_group_ring(
        &mut self,
        ctx: super::super::Context<'_>,
        conversation: ConversationId,
    ) -> Task<super::super::Message> {
        let Some((ringing, running)) = self.ringing_group_call() else {
            return Task::none();
        };
        let (from, media) = (running.from, running.media);
        let muted = self.group_muted(conversation);
        if ringing != conversation || muted {
            return Task::none();
        }
        self.group_alerts += 1;
        if ctx.settings.notifications {
            let from = from.map(|u| self.user_name(u)).unwrap_or_default();
            let group = super::super::panels::group_name(self, conversation);
            let title = ctx.i18n.tr_args(
                "group-call-incoming",
                &[("name", Arg::from(from)), ("group", Arg::from(group))],
            );
            super::super::live::os_notification(
                title,
                ctx.i18n.tr(super::super::call::media_key(media)),
            );
        }
        iced::window::latest().and_then(|id| {
            iced::window::request_user_attention(id, Some(iced::window::UserAttention::Critical))
        })
    }

    /// Plays one ring for the call ringing in `conversation`, unless the
    /// group is muted here (its banner still shows) or it rang a moment ago.
    pub(in crate::screen::main) fn ring_for_group(&mut self, conversation: ConversationId) {
        if self.ringing_group_call().is_none() {
            return;
        }
        let muted = self.group_muted(conversation);
        if muted
            || self
                .group_ring
                .is_some_and(|t| t.elapsed() < crate::sound::RING_EVERY)
        {
            return;
        }
        self.group_ring = Some(std::time::Instant::now());
        crate::sound::play_ringtone();
    }

    /// Whether the reader muted `conversation` here.
    fn group_muted(&self, conversation: ConversationId) -> bool {
        self.conversations
            .iter()
            .any(|c| c.id == conversation && c.muted)
    }
}
