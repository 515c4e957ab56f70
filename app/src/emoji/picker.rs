//! The emoji picker: the emoji of the Unicode data in its nine categories
//! (from the `emojis` crate, CLDR order), the ones this person used last, and
//! a search over their names and short codes.
//!
//! It keeps only what is on screen (the tab, the search words); the recent
//! ones belong to the settings, which the main window saves.

use iced::widget::{button, column, container, row, scrollable, text, text_input};
use iced::{Element, Fill, Length};
use natter_i18n::I18n;

use crate::icon::{self, Position};

/// The search field's widget id.
pub const SEARCH_ID: &str = "emoji-search";

/// How many recent emoji are kept.
pub const RECENT_MAX: usize = 32;

/// The newest emoji offered: Emoji 15.1, what the colour font the app relies
/// on draws (Noto Color Emoji 2.042, as in Debian 12); newer ones would show
/// as blanks.
const NEWEST: emojis::UnicodeVersion = emojis::UnicodeVersion::new(15, 1);

/// Whether the colour font draws `e`.
fn drawn(e: &emojis::Emoji) -> bool {
    e.unicode_version() <= NEWEST
}

/// How many search results are shown at most.
const RESULTS_MAX: usize = 96;

/// A tab of the picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// The ones used last, newest first.
    Recent,
    /// One of the Unicode categories.
    Group(emojis::Group),
}

/// The picker's state.
#[derive(Debug, Default)]
pub struct Picker {
    /// The tab picked; `None` until one is: the recent ones if there are
    /// any, else the smileys.
    tab: Option<Tab>,
    query: String,
}

/// Picker messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// A tab pressed.
    Tab(Tab),
    /// The search words changed.
    Search(String),
    /// Enter in the search field: the first result.
    SearchSubmit,
    /// An emoji pressed.
    Pick(&'static str),
}

impl Picker {
    /// Handles a message; returns the emoji picked, if one was.
    pub fn update(&mut self, message: Message) -> Option<&'static str> {
        match message {
            Message::Tab(tab) => {
                self.tab = Some(tab);
                self.query.clear();
                None
            }
            Message::Search(q) => {
                self.query = q;
                None
            }
            Message::SearchSubmit => search(&self.query).first().copied(),
            Message::Pick(e) => {
                self.query.clear();
                Some(e)
            }
        }
    }

    /// The tab shown.
    fn tab(&self, recent: &[String]) -> Tab {
        self.tab.unwrap_or(if recent.is_empty() {
            Tab::Group(emojis::Group::SmileysAndEmotion)
        } else {
            Tab::Recent
        })
    }

    /// Draws the picker: tabs, search, and the grid.
    pub fn view<'a>(&'a self, i18n: &I18n, recent: &[String]) -> Element<'a, Message> {
        let current = self.tab(recent);
        let tabs = row(TABS.iter().map(|(tab, face, key)| {
            let selected = *tab == current && self.query.is_empty();
            // The tabs share the row, so all ten fit on one line at 360 px.
            let face = text(*face)
                .size(18)
                .font(crate::emoji::FONT)
                .width(Fill)
                .align_x(iced::alignment::Horizontal::Center);
            let b = button(face)
                .width(Fill)
                .padding([2, 0])
                .style(if selected {
                    button::secondary
                } else {
                    button::text
                })
                .on_press(Message::Tab(*tab));
            icon::named(b, i18n.tr(key), Position::Bottom)
        }))
        .spacing(2);
        let tabs = container(tabs).max_width(TABS.len() as f32 * 40.0);
        let search_box = text_input(&i18n.tr("emoji-search"), &self.query)
            .id(SEARCH_ID)
            .on_input(Message::Search)
            .on_submit(Message::SearchSubmit)
            .size(13)
            .padding([4, 8]);
        let shown: Vec<&'static str> = if !self.query.trim().is_empty() {
            search(&self.query)
        } else {
            match current {
                Tab::Recent => recent
                    .iter()
                    .filter_map(|e| emojis::get(e).map(|e| e.as_str()))
                    .collect(),
                Tab::Group(g) => g
                    .emojis()
                    .filter(|e| drawn(e))
                    .map(|e| e.as_str())
                    .collect(),
            }
        };
        let body: Element<'a, Message> = if shown.is_empty() {
            let key = if self.query.trim().is_empty() {
                "emoji-no-recent"
            } else {
                "emoji-none-found"
            };
            container(text(i18n.tr(key)).size(12)).padding(8).into()
        } else {
            row(shown.into_iter().map(|e| {
                button(text(e).size(20).font(crate::emoji::FONT))
                    .style(button::text)
                    .padding(3)
                    .width(Length::Fixed(34.0))
                    .on_press(Message::Pick(e))
                    .into()
            }))
            .wrap()
            .into()
        };
        container(
            column![
                row![container(search_box).width(Fill)].spacing(6),
                tabs,
                scrollable(container(body).width(Fill)).height(Length::Fixed(188.0)),
            ]
            .spacing(6),
        )
        .padding(6)
        .style(container::bordered_box)
        .width(Fill)
        .into()
    }
}

/// The tabs, each with the emoji that stands for it and its name's key.
const TABS: [(Tab, &str, &str); 10] = [
    (Tab::Recent, "🕘", "emoji-recent"),
    (
        Tab::Group(emojis::Group::SmileysAndEmotion),
        "😀",
        "emoji-smileys",
    ),
    (
        Tab::Group(emojis::Group::PeopleAndBody),
        "👋",
        "emoji-people",
    ),
    (
        Tab::Group(emojis::Group::AnimalsAndNature),
        "🐻",
        "emoji-nature",
    ),
    (Tab::Group(emojis::Group::FoodAndDrink), "🍔", "emoji-food"),
    (
        Tab::Group(emojis::Group::TravelAndPlaces),
        "✈️",
        "emoji-travel",
    ),
    (
        Tab::Group(emojis::Group::Activities),
        "⚽",
        "emoji-activities",
    ),
    (Tab::Group(emojis::Group::Objects), "💡", "emoji-objects"),
    (Tab::Group(emojis::Group::Symbols), "🔣", "emoji-symbols"),
    (Tab::Group(emojis::Group::Flags), "🏁", "emoji-flags"),
];

/// The emoji whose name or a short code holds every word of `query`
/// (case aside), names that start with the first word first.
pub fn search(query: &str) -> Vec<&'static str> {
    let words: Vec<String> = query.split_whitespace().map(|w| w.to_lowercase()).collect();
    if words.is_empty() {
        return Vec::new();
    }
    let matches = |e: &emojis::Emoji| {
        let name = e.name().to_lowercase();
        words
            .iter()
            .all(|w| name.contains(w.as_str()) || e.shortcodes().any(|s| s.contains(w.as_str())))
    };
    let (mut first, mut rest): (Vec<_>, Vec<_>) = emojis::iter()
        .filter(|e| drawn(e) && matches(e))
        .partition(|e| e.name().to_lowercase().starts_with(words[0].as_str()));
    first.append(&mut rest);
    first
        .into_iter()
        .take(RESULTS_MAX)
        .map(|e| e.as_str())
        .collect()
}

/// `recent` with `picked` put first, once, at most [`RECENT_MAX`] long.
pub fn remember(recent: &mut Vec<String>, picked: &str) {
    recent.retain(|e| e != picked);
    recent.insert(0, picked.to_string());
    recent.truncate(RECENT_MAX);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn search_finds_by_name_and_short_code() {
        let rocket = search("rocket");
        assert_eq!(rocket.first(), Some(&"🚀"));
        assert!(search("thumbs up").contains(&"👍"));
        assert!(search("+1").contains(&"👍"), "GitHub short code");
        assert!(search("HEART").contains(&"❤️"));
        assert!(search("no such emoji zzz").is_empty());
        assert!(search("   ").is_empty());
    }

    #[test]
    fn emoji_newer_than_the_font_are_left_out() {
        // Shaking face (15.0) is drawn; face with bags under eyes (16.0) not.
        assert!(drawn(emojis::get("🫨").unwrap()));
        assert!(!drawn(emojis::get("🫩").unwrap()));
        assert!(search("face with bags").is_empty());
    }

    #[test]
    fn every_category_has_emoji_and_a_tab() {
        for g in emojis::Group::iter() {
            assert!(g.emojis().count() > 10, "{g:?}");
            assert!(TABS.iter().any(|(t, _, _)| *t == Tab::Group(g)), "{g:?}");
        }
    }

    #[test]
    fn the_last_picked_comes_first_once() {
        let mut recent = Vec::new();
        remember(&mut recent, "😀");
        remember(&mut recent, "🚀");
        remember(&mut recent, "😀");
        assert_eq!(recent, vec!["😀".to_string(), "🚀".to_string()]);
        for i in 0..100 {
            remember(
                &mut recent,
                &char::from_u32(0x1F600 + i).unwrap().to_string(),
            );
        }
        assert_eq!(recent.len(), RECENT_MAX);
    }

    #[test]
    fn the_picker_opens_on_the_recent_ones_when_there_are_some() {
        let p = Picker::default();
        assert_eq!(p.tab(&[]), Tab::Group(emojis::Group::SmileysAndEmotion));
        assert_eq!(p.tab(&["🚀".into()]), Tab::Recent);
        let mut p = Picker::default();
        assert_eq!(p.update(Message::Search("rocket".into())), None);
        assert_eq!(p.update(Message::SearchSubmit), Some("🚀"));
        assert_eq!(p.update(Message::Pick("🎉")), Some("🎉"));
        assert!(p.query.is_empty(), "a pick clears the search");
    }
}
