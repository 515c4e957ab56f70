//! @mentions: finding what is being completed, matching members, keeping the
//! mentions whose names are still in the text, and showing a message's
//! mentions highlighted.

use iced::widget::{button, column, text};
use iced::{Element, Fill};
use natter_i18n::I18n;
use natter_proto::model::UserId;

use super::composer::Message;
use crate::style;

/// Most members listed while completing.
const LISTED: usize = 6;

/// Someone who can be mentioned, or `@all` (no user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The member; `None` for `@all`.
    pub user: Option<UserId>,
    /// The name inserted after `@`.
    pub name: String,
    /// The account name, matched too.
    pub account: String,
}

impl Candidate {
    /// `@all`.
    pub fn all() -> Candidate {
        Candidate {
            user: None,
            name: ALL.into(),
            account: String::new(),
        }
    }
}

/// The word after `@` that mentions everyone.
pub const ALL: &str = "all";

/// The `@…` being typed at the end of `text`: the byte offset of its `@` and
/// what follows it. An `@` counts at the start or after whitespace, and the
/// completion ends at the next whitespace.
pub fn query(text: &str) -> Option<(usize, &str)> {
    let at = text.rfind('@')?;
    let before = text[..at].chars().next_back();
    if before.is_some_and(|c| !c.is_whitespace()) {
        return None;
    }
    let rest = &text[at + 1..];
    if rest.chars().any(char::is_whitespace) {
        return None;
    }
    Some((at, rest))
}

/// The candidates whose name or account starts with (or, failing that,
/// contains) what is being typed, case-insensitively.
pub fn matches(text: &str, members: &[Candidate]) -> Vec<Candidate> {
    let Some((_, q)) = query(text) else {
        return Vec::new();
    };
    let q = q.to_lowercase();
    let starts = |c: &&Candidate| {
        c.name.to_lowercase().starts_with(&q) || c.account.to_lowercase().starts_with(&q)
    };
    let contains = |c: &&Candidate| {
        c.name.to_lowercase().contains(&q) || c.account.to_lowercase().contains(&q)
    };
    let mut found: Vec<Candidate> = members.iter().filter(starts).cloned().collect();
    found.extend(
        members
            .iter()
            .filter(|c| !starts(c) && contains(c))
            .cloned(),
    );
    found.truncate(LISTED);
    found
}

/// The mentions picked while writing whose `@name` is still in `text`, and
/// whether `@all` is.
pub fn kept(text: &str, picked: &[(UserId, String)], all: bool) -> (Vec<UserId>, bool) {
    let mut users: Vec<UserId> = Vec::new();
    for (user, name) in picked {
        if text.contains(&format!("@{name}")) && !users.contains(user) {
            users.push(*user);
        }
    }
    (users, all && text.contains(&format!("@{ALL}")))
}

/// The completion list above the editor.
pub fn list<'a>(i18n: &I18n, candidates: &[Candidate], highlight: usize) -> Element<'a, Message> {
    column(candidates.iter().enumerate().map(|(i, c)| {
        let label = match c.user {
            Some(_) if !c.account.is_empty() => format!("@{}  ({})", c.name, c.account),
            Some(_) => format!("@{}", c.name),
            None => format!("@{ALL}  {}", i18n.tr("mention-all")),
        };
        button(text(label).size(13))
            .width(Fill)
            .padding([4, 10])
            .style(style::list_item(i == highlight))
            .on_press(Message::Mention(c.clone()))
            .into()
    }))
    .spacing(1)
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: u64, name: &str, account: &str) -> Candidate {
        Candidate {
            user: Some(UserId(id)),
            name: name.into(),
            account: account.into(),
        }
    }

    #[test]
    fn only_an_at_starting_a_word_completes() {
        assert_eq!(query("hi @bo"), Some((3, "bo")));
        assert_eq!(query("@"), Some((0, "")));
        assert_eq!(query("mail me at a@b"), None);
        assert_eq!(query("@bob is here"), None);
        assert_eq!(query("no at"), None);
    }

    #[test]
    fn names_and_accounts_match_prefixes_first() {
        let members = [
            member(1, "Robert", "bob"),
            member(2, "Bobby", "bb"),
            member(3, "爱丽丝", "alice"),
        ];
        let found = matches("@bob", &members);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].user, Some(UserId(1)));
        assert_eq!(matches("@ALI", &members)[0].user, Some(UserId(3)));
        assert_eq!(matches("@丽", &members)[0].user, Some(UserId(3)));
        assert!(matches("@zed", &members).is_empty());
    }

    #[test]
    fn mentions_whose_names_were_deleted_are_not_sent() {
        let picked = vec![(UserId(1), "Bob".to_string()), (UserId(2), "Eve".into())];
        assert_eq!(kept("@Bob hi", &picked, false), (vec![UserId(1)], false));
        assert_eq!(kept("hi @all", &picked, true), (vec![], true));
        assert_eq!(kept("hi all", &picked, true), (vec![], false));
    }
}
