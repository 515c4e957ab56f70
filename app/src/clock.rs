//! Times on screen, in the local time zone.
//!
//! The relay stamps messages in UTC milliseconds; people read wall-clock time
//! where they are. The zone is read once (from `TZ` or `/etc/localtime`) with
//! `jiff`, which does not depend on the C library's thread-unsafe local-time
//! functions, so it is safe in a multithreaded process. Every function takes
//! the zone as an argument so tests can pin one.

use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use natter_i18n::{Arg, I18n};
use natter_proto::Millis;

/// The system's time zone (UTC when it cannot be found), read once.
pub fn local() -> &'static TimeZone {
    static ZONE: OnceLock<TimeZone> = OnceLock::new();
    ZONE.get_or_init(TimeZone::system)
}

fn civil(ts: Millis, tz: &TimeZone) -> DateTime {
    // Out-of-range stamps (corrupt data) show as the epoch rather than panic.
    let t = Timestamp::from_millisecond(ts).unwrap_or(Timestamp::UNIX_EPOCH);
    tz.to_datetime(t)
}

/// The calendar day a stamp falls on in `tz`, for date separators.
pub fn day(ts: Millis, tz: &TimeZone) -> Date {
    civil(ts, tz).date()
}

/// `HH:MM` on a 24-hour clock.
pub fn clock(ts: Millis, tz: &TimeZone) -> String {
    let t = civil(ts, tz);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// A date separator in the chat: "Today", "Yesterday", or the date in the
/// reader's language ("March 1, 2026", "2026年3月1日").
pub fn date_label(i18n: &I18n, ts: Millis, now: Millis, tz: &TimeZone) -> String {
    let (d, today) = (day(ts, tz), day(now, tz));
    if d == today {
        i18n.tr("chat-today")
    } else if today.yesterday().ok() == Some(d) {
        i18n.tr("chat-yesterday")
    } else {
        // The year as text: a number would be formatted (and might be grouped).
        i18n.tr_args(
            "chat-date",
            &[
                ("year", Arg::from(d.year().to_string())),
                ("month", Arg::from(i64::from(d.month()))),
                ("day", Arg::from(i64::from(d.day()))),
            ],
        )
    }
}

/// The time beside a conversation in the list: `HH:MM` today, "Yesterday",
/// `MM-DD` earlier this year, `YYYY-MM-DD` before that.
pub fn list_time(i18n: &I18n, ts: Millis, now: Millis, tz: &TimeZone) -> String {
    let (d, today) = (day(ts, tz), day(now, tz));
    if d == today {
        clock(ts, tz)
    } else if today.yesterday().ok() == Some(d) {
        i18n.tr("chat-yesterday")
    } else if d.year() == today.year() {
        format!("{:02}-{:02}", d.month(), d.day())
    } else {
        iso(d)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use natter_i18n::Language;

    fn ms(rfc3339: &str) -> Millis {
        rfc3339.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn clock_and_day_follow_the_zone_not_utc() {
        let shanghai = TimeZone::fixed(jiff::tz::offset(8));
        let ts = ms("2026-11-22T17:30:00Z");
        assert_eq!(clock(ts, &TimeZone::UTC), "17:30");
        assert_eq!(clock(ts, &shanghai), "01:30");
        assert_eq!(day(ts, &TimeZone::UTC).to_string(), "2026-11-22");
        assert_eq!(day(ts, &shanghai).to_string(), "2026-11-23");
    }

    #[test]
    fn separators_and_list_times_use_local_days() {
        let i18n = I18n::new(Language::EnUs).unwrap();
        let shanghai = TimeZone::fixed(jiff::tz::offset(8));
        let now = ms("2026-11-23T03:00:00Z"); // 11:00 on the 23rd in Shanghai
        // 00:30 local on the 23rd, still the 22nd in UTC.
        let early = ms("2026-11-22T16:30:00Z");
        assert_eq!(date_label(&i18n, early, now, &shanghai), "Today");
        assert_eq!(date_label(&i18n, early, now, &TimeZone::UTC), "Yesterday");
        assert_eq!(list_time(&i18n, early, now, &shanghai), "00:30");
        // 23:59 local on the 22nd.
        let late = ms("2026-11-22T15:59:00Z");
        assert_eq!(date_label(&i18n, late, now, &shanghai), "Yesterday");
        let older = ms("2026-03-01T12:00:00Z");
        assert_eq!(date_label(&i18n, older, now, &shanghai), "March 1, 2026");
        let zh = I18n::new(Language::ZhCn).unwrap();
        assert_eq!(date_label(&zh, older, now, &shanghai), "2026年3月1日");
        assert_eq!(date_label(&zh, early, now, &TimeZone::UTC), "昨天");
        assert_eq!(list_time(&i18n, older, now, &shanghai), "03-01");
        let last_year = ms("2025-12-31T20:00:00Z"); // 2026-01-01 04:00 in Shanghai
        assert_eq!(list_time(&i18n, last_year, now, &shanghai), "01-01");
        assert_eq!(
            list_time(&i18n, last_year, now, &TimeZone::UTC),
            "2025-12-31"
        );
    }

    #[test]
    fn daylight_saving_changes_the_offset() {
        let new_york = TimeZone::posix("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(clock(ms("2026-07-01T16:00:00Z"), &new_york), "12:00");
        assert_eq!(clock(ms("2026-12-01T16:00:00Z"), &new_york), "11:00");
    }
}
