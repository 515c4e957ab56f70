//! The line of text that says what just happened, and how long it stays.

use std::time::{Duration, Instant};

/// How long a notice ("Saved.", "Request sent.", an error) stays up.
pub const NOTICE_SHOWN: Duration = Duration::from_secs(8);

/// The line of text under the sidebar that tells the reader what just
/// happened; it goes away by itself after [`NOTICE_SHOWN`].
#[derive(Debug, Default)]
pub struct Notice {
    shown: Option<(String, Instant)>,
}

impl Notice {
    /// Shows this text (an empty one is not shown), or clears with `None`.
    pub fn set(&mut self, text: Option<String>) {
        self.shown = text.filter(|t| !t.is_empty()).map(|t| (t, Instant::now()));
    }

    /// The text while it is up.
    pub fn text(&self) -> Option<&str> {
        self.shown
            .as_ref()
            .filter(|(_, at)| at.elapsed() < NOTICE_SHOWN)
            .map(|(t, _)| t.as_str())
    }

    /// Whether a notice is waiting to be taken down.
    pub fn is_up(&self) -> bool {
        self.shown.is_some()
    }

    /// Takes the notice down once its time is over.
    pub fn expire(&mut self) {
        if self.text().is_none() {
            self.shown = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_shows_then_goes_away_by_itself() {
        let mut n = Notice::default();
        assert!(!n.is_up());
        n.set(Some("Saved.".into()));
        assert_eq!(n.text(), Some("Saved."));
        n.expire();
        assert_eq!(n.text(), Some("Saved."), "still within its time");
        // As if it had been put up longer ago than it stays.
        let long_ago = Instant::now().checked_sub(NOTICE_SHOWN + Duration::from_secs(1));
        n.shown = long_ago.map(|at| ("Saved.".to_string(), at));
        assert_eq!(n.text(), None);
        assert!(n.is_up(), "the tick keeps running until it is taken down");
        n.expire();
        assert!(!n.is_up());
        n.set(Some(String::new()));
        assert!(!n.is_up(), "an empty notice is not shown");
    }
}
