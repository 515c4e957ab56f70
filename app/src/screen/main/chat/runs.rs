//! Runs of messages: consecutive messages from one sender within a few
//! minutes are drawn together, with one name and one avatar, and the day
//! each run was written heads it.

use natter_proto::model::{Message as ChatMessage, MessageBody};

/// Messages from one sender closer together than this form one run, drawn
/// with one name and one avatar.
pub const RUN_GAP_MS: i64 = 5 * 60 * 1000;
/// Where a message sits in a run of messages from one sender: the first
/// carries the name, the last the avatar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Starts a run.
    pub first: bool,
    /// Ends a run.
    pub last: bool,
}

/// Whether `next` continues the run of `prev`: one sender, one day, at most
/// [`RUN_GAP_MS`] apart. Call records stand alone.
fn continues(prev: &ChatMessage, next: &ChatMessage, tz: &jiff::tz::TimeZone) -> bool {
    let record = |m: &ChatMessage| matches!(m.body, MessageBody::Call { .. });
    prev.sender == next.sender
        && !record(prev)
        && !record(next)
        && (0..=RUN_GAP_MS).contains(&(next.ts - prev.ts))
        && crate::clock::day(prev.ts, tz) == crate::clock::day(next.ts, tz)
}

/// The place of each of `messages` (oldest first) in its run; a message in
/// `breaks` starts a new run whatever comes before it (the unread divider).
pub fn places(
    messages: &[&ChatMessage],
    breaks: Option<u64>,
    tz: &jiff::tz::TimeZone,
) -> Vec<Place> {
    let joined: Vec<bool> = messages
        .windows(2)
        .map(|w| breaks != Some(w[1].seq) && continues(w[0], w[1], tz))
        .collect();
    (0..messages.len())
        .map(|i| Place {
            first: i == 0 || !joined[i - 1],
            last: i + 1 == messages.len() || !joined[i],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashMap;

    use natter_proto::model::{ConversationId, UserId};

    use super::super::{Chat, View};
    use super::*;

    use super::super::tests::{chat_with, msg};

    /// Every text the chat draws, top to bottom, with its vertical position.
    fn drawn(chat: &Chat, group: bool, i18n: &natter_i18n::I18n) -> Vec<(String, f32)> {
        use iced_test::selector::{Candidate, Target};
        let mut users = HashMap::new();
        for (id, name) in [(1, "me"), (3, "cora"), (4, "dan")] {
            users.insert(
                UserId(id),
                natter_proto::model::UserSummary {
                    id: UserId(id),
                    account: name.into(),
                    nickname: name.into(),
                    avatar: None,
                },
            );
        }
        let kind = if group {
            natter_proto::model::ConversationKind::Group { name: "g".into() }
        } else {
            natter_proto::model::ConversationKind::Direct { peer: UserId(3) }
        };
        let conversation = natter_store::Conversation::new(ConversationId(9), kind, "g".into(), 0);
        let (pictures, avatars, reads) = (HashMap::new(), HashMap::new(), HashMap::new());
        let transfers = crate::screen::main::transfer::Transfers::default();
        let view = chat.view(View {
            i18n,
            me: UserId(1),
            conversation: &conversation,
            group,
            privileged: false,
            users: &users,
            pictures: &pictures,
            avatars: &avatars,
            transfers: &transfers,
            playing: None,
            font_size: 14.0,
            reads: &reads,
        });
        let mut ui = iced_test::simulator(view);
        let mut found = Vec::new();
        let _ = ui.find(|c: Candidate<'_>| {
            if let Candidate::Text { content, .. } = &c {
                let content = content.to_string();
                found.push((content, Target::from(c).bounds().y));
            }
            None::<()>
        });
        found.sort_by(|a, b| a.1.total_cmp(&b.1));
        found
    }

    #[test]
    fn a_run_from_one_sender_shows_the_name_once_and_days_are_divided() {
        // Noon UTC, so the local day is the same in any zone within ±11 h.
        let noon = "2026-03-01T12:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        let minute = 60_000;
        let day = 24 * 60 * minute;
        let at = |seq: u64, sender: u64, ts: i64, text: &str| ChatMessage {
            ts,
            ..msg(seq, sender, text)
        };
        let chat = chat_with(vec![
            at(1, 3, noon, "one"),
            at(2, 3, noon + minute, "two"),
            at(3, 3, noon + 3 * minute, "three"),
            // Ten minutes on: a new run, named again.
            at(4, 3, noon + 13 * minute, "later"),
            at(5, 4, noon + 14 * minute, "from dan"),
            // The next day.
            at(6, 3, noon + day, "next day"),
        ]);
        for (language, first_day, second_day) in [
            (
                natter_i18n::Language::EnUs,
                "March 1, 2026",
                "March 2, 2026",
            ),
            (natter_i18n::Language::ZhCn, "2026年3月1日", "2026年3月2日"),
        ] {
            let i18n = natter_i18n::I18n::new(language).unwrap();
            let texts = drawn(&chat, true, &i18n);
            let y = |t: &str| {
                texts
                    .iter()
                    .find(|(c, _)| c == t)
                    .map(|(_, y)| *y)
                    .unwrap_or_else(|| panic!("{t:?} not drawn in {texts:?}"))
            };
            let names: Vec<f32> = texts
                .iter()
                .filter(|(c, _)| c == "cora")
                .map(|(_, y)| *y)
                .collect();
            assert_eq!(
                names.len(),
                3,
                "cora named once per run (three runs): {texts:?}"
            );
            assert!(names[0] < y("one") && y("three") < names[1] && names[1] < y("later"));
            assert_eq!(texts.iter().filter(|(c, _)| c == "dan").count(), 1);
            // One divider per day, each above its day's messages.
            assert_eq!(texts.iter().filter(|(c, _)| c == first_day).count(), 1);
            assert_eq!(texts.iter().filter(|(c, _)| c == second_day).count(), 1);
            assert!(y(first_day) < y("one"));
            assert!(y("from dan") < y(second_day) && y(second_day) < y("next day"));
        }
        // Outside groups no names are drawn at all.
        let i18n = natter_i18n::I18n::new(natter_i18n::Language::EnUs).unwrap();
        assert!(!drawn(&chat, false, &i18n).iter().any(|(c, _)| c == "cora"));
    }

    #[test]
    fn runs_break_on_sender_gap_day_and_the_unread_divider() {
        let tz = jiff::tz::TimeZone::UTC;
        let at = |seq: u64, sender: u64, ts: i64| ChatMessage {
            ts,
            ..msg(seq, sender, "x")
        };
        let day = 86_400_000;
        let list = [
            at(1, 3, day),
            at(2, 3, day + RUN_GAP_MS), // exactly five minutes: joined
            at(3, 3, day + 2 * RUN_GAP_MS + 1), // a moment more: apart
            at(4, 4, day + 2 * RUN_GAP_MS + 2), // another sender
            at(5, 4, 2 * day + 1),      // the next day
            at(6, 4, 2 * day + 2),      // the unread divider
        ];
        let refs: Vec<&ChatMessage> = list.iter().collect();
        let firsts: Vec<bool> = places(&refs, Some(6), &tz)
            .iter()
            .map(|p| p.first)
            .collect();
        assert_eq!(firsts, [true, false, true, true, true, true]);
        let lasts: Vec<bool> = places(&refs, None, &tz).iter().map(|p| p.last).collect();
        assert_eq!(lasts, [false, true, true, true, false, true]);
    }
}
