//! The group info panel, opened from a group chat's header: name,
//! announcement, members with their roles, and what the viewer's role allows —
//! rename and announcement (owner, admins), invite friends (any member, as the
//! relay allows), remove members below one's own role, leave (anyone), disband
//! (the owner, after a confirm step).
//!
//! The panel keeps only what is being edited; the group itself is read from the
//! main window's list on every draw, so changes from the live session (members
//! added or removed, renamed) show at once.

use std::collections::{BTreeSet, HashMap};

use iced::widget::{
    button, column, container, image, row, rule, scrollable, space, text, text_input,
};
use iced::{Center, Element, Fill};
use natter_i18n::{Arg, I18n};
use natter_proto::model::{ConversationId, Friend, Group, Role, UserId, UserSummary};
use natter_proto::rest::UpdateGroup;

use crate::widget::{Face, avatar};

/// The panel's state.
#[derive(Debug, Clone)]
pub struct GroupInfo {
    /// The group shown.
    pub id: ConversationId,
    /// The name being typed; `None` shows the current one.
    name: Option<String>,
    /// The announcement being typed; `None` shows the current one.
    announcement: Option<String>,
    /// Friends ticked for inviting.
    invite: BTreeSet<UserId>,
    /// The disband confirm step is showing.
    confirm_disband: bool,
}

/// What the panel's widgets say.
#[derive(Debug, Clone)]
pub enum Message {
    /// The name field changed.
    Name(String),
    /// Save the name.
    Rename,
    /// The announcement field changed.
    Announcement(String),
    /// Save the announcement.
    Announce,
    /// Tick or untick a friend to invite.
    Pick(UserId, bool),
    /// Invite the ticked friends.
    Invite,
    /// Remove a member.
    Remove(UserId),
    /// Leave the group.
    Leave,
    /// Ask to disband (shows the confirm step).
    Disband,
    /// Disband for real.
    ConfirmDisband,
    /// Back out of disbanding.
    CancelDisband,
    /// Close the panel.
    Close,
}

/// A change to ask the relay for.
#[derive(Debug, Clone)]
pub enum Request {
    /// New name and/or announcement.
    Update(UpdateGroup),
    /// Add these friends.
    Invite(Vec<UserId>),
    /// Remove this member.
    Remove(UserId),
    /// Leave.
    Leave,
    /// Disband.
    Disband,
}

/// What the main window must do.
#[derive(Debug, Clone)]
pub enum Event {
    /// Send this request for the group.
    Request(ConversationId, Request),
    /// Close the panel.
    Close,
}

/// What the panel draws from.
pub struct View<'a> {
    /// Translations.
    pub i18n: &'a I18n,
    /// The group, if this account is still in it.
    pub group: Option<&'a Group>,
    /// This account's friends (candidates for inviting).
    pub friends: &'a [Friend],
    /// This account.
    pub me: UserId,
    /// The freshest profile known of each account (a group's member list
    /// keeps what members looked like when they joined).
    pub users: &'a HashMap<UserId, UserSummary>,
    /// Decoded avatars by avatar id.
    pub avatars: &'a HashMap<String, image::Handle>,
}

/// Whether someone with role `mine` may remove someone with role `theirs`
/// (the relay's rule: only from below).
pub fn can_remove(mine: Role, theirs: Role) -> bool {
    mine >= Role::Admin && theirs < mine
}

fn role_of(group: &Group, user: UserId) -> Option<Role> {
    group
        .members
        .iter()
        .find(|m| m.user.id == user)
        .map(|m| m.role)
}

impl GroupInfo {
    /// A fresh panel for group `id`.
    pub fn new(id: ConversationId) -> GroupInfo {
        GroupInfo {
            id,
            name: None,
            announcement: None,
            invite: BTreeSet::new(),
            confirm_disband: false,
        }
    }

    /// Handles a message; `group` is the group as currently known.
    pub fn update(&mut self, message: Message, group: Option<&Group>) -> Option<Event> {
        let id = self.id;
        let request = move |r| Some(Event::Request(id, r));
        match message {
            Message::Name(n) => self.name = Some(n),
            Message::Announcement(a) => self.announcement = Some(a),
            Message::Rename => {
                let name = self.name.take()?.trim().to_string();
                if name.is_empty() || group.is_some_and(|g| g.name == name) {
                    return None;
                }
                return request(Request::Update(UpdateGroup {
                    name: Some(name),
                    announcement: None,
                }));
            }
            Message::Announce => {
                let text = self.announcement.take()?.trim().to_string();
                if group.is_some_and(|g| g.announcement == text) {
                    return None;
                }
                return request(Request::Update(UpdateGroup {
                    name: None,
                    announcement: Some(text),
                }));
            }
            Message::Pick(user, on) => {
                if on {
                    self.invite.insert(user);
                } else {
                    self.invite.remove(&user);
                }
            }
            Message::Invite => {
                if self.invite.is_empty() {
                    return None;
                }
                let users = std::mem::take(&mut self.invite).into_iter().collect();
                return request(Request::Invite(users));
            }
            Message::Remove(user) => return request(Request::Remove(user)),
            Message::Leave => return request(Request::Leave),
            Message::Disband => self.confirm_disband = true,
            Message::CancelDisband => self.confirm_disband = false,
            Message::ConfirmDisband => {
                self.confirm_disband = false;
                return request(Request::Disband);
            }
            Message::Close => return Some(Event::Close),
        }
        None
    }

    /// Draws the panel.
    pub fn view<'a>(&'a self, v: View<'a>) -> Element<'a, Message> {
        let i18n = v.i18n;
        let header = row![
            text(i18n.tr("groups-info")).size(16).width(Fill),
            button(text(i18n.tr("groups-close")).size(12))
                .style(button::text)
                .on_press(Message::Close),
        ]
        .align_y(Center);
        let Some(group) = v.group else {
            return column![header, text(i18n.tr("groups-not-member")).size(13)]
                .spacing(10)
                .padding(12)
                .into();
        };
        let mine = role_of(group, v.me).unwrap_or(Role::Member);
        let admin = mine >= Role::Admin;
        let mut col = column![header].spacing(8).padding(12);

        // Name.
        col = col.push(text(i18n.tr("groups-name")).size(12));
        if admin {
            let value = self.name.as_deref().unwrap_or(&group.name);
            col = col.push(
                row![
                    text_input(&i18n.tr("groups-name"), value)
                        .on_input(Message::Name)
                        .on_submit(Message::Rename)
                        .padding(6)
                        .id("group-info-name"),
                    button(text(i18n.tr("groups-rename")).size(13)).on_press(Message::Rename),
                ]
                .spacing(6)
                .align_y(Center),
            );
        } else {
            col = col.push(text(group.name.clone()).size(15));
        }

        // Announcement.
        col = col.push(text(i18n.tr("groups-announcement")).size(12));
        if admin {
            let value = self.announcement.as_deref().unwrap_or(&group.announcement);
            col = col.push(
                row![
                    text_input(&i18n.tr("groups-announcement-placeholder"), value)
                        .on_input(Message::Announcement)
                        .on_submit(Message::Announce)
                        .padding(6)
                        .id("group-info-announcement"),
                    button(text(i18n.tr("groups-save")).size(13)).on_press(Message::Announce),
                ]
                .spacing(6)
                .align_y(Center),
            );
        } else if group.announcement.is_empty() {
            col = col.push(
                text(i18n.tr("groups-no-announcement"))
                    .size(13)
                    .style(text::secondary),
            );
        } else {
            col = col.push(text(group.announcement.clone()).size(13));
        }
        col = col.push(rule::horizontal(1));

        // Members.
        col = col.push(
            text(i18n.tr_args(
                "groups-members",
                &[("count", Arg::from(group.members.len()))],
            ))
            .size(12),
        );
        for m in &group.members {
            let user = v.users.get(&m.user.id).unwrap_or(&m.user);
            let role = i18n.tr(match m.role {
                Role::Owner => "groups-role-owner",
                Role::Admin => "groups-role-admin",
                Role::Member => "groups-role-member",
            });
            let name = if m.user.id == v.me {
                i18n.tr_args(
                    "groups-member-you",
                    &[("name", Arg::from(user.nickname.as_str()))],
                )
            } else {
                user.nickname.clone()
            };
            let picture = user.avatar.as_ref().and_then(|a| v.avatars.get(a));
            let mut line = row![
                avatar(Face::Person(user.id.0), &user.nickname, picture, 28),
                text(name).size(14).width(Fill),
                text(role).size(11).style(text::secondary),
            ]
            .spacing(8)
            .align_y(Center);
            if m.user.id != v.me && can_remove(mine, m.role) {
                line = line.push(
                    button(text(i18n.tr("groups-remove-member")).size(11))
                        .style(button::danger)
                        .padding([2, 8])
                        .on_press(Message::Remove(m.user.id)),
                );
            }
            col = col.push(line);
        }
        col = col.push(rule::horizontal(1));

        // Invite friends who are not in yet.
        col = col.push(text(i18n.tr("groups-invite-title")).size(12));
        let outside: Vec<&Friend> = v
            .friends
            .iter()
            .filter(|f| !group.members.iter().any(|m| m.user.id == f.user.id))
            .collect();
        if outside.is_empty() {
            col = col.push(
                text(i18n.tr("groups-invite-none"))
                    .size(12)
                    .style(text::secondary),
            );
        } else {
            for f in outside {
                let picked = self.invite.contains(&f.user.id);
                let mark = if picked { "☑" } else { "☐" };
                col = col.push(
                    button(text(format!("{mark} {}", f.user.nickname)).size(13))
                        .style(crate::style::list_item(picked))
                        .width(Fill)
                        .on_press(Message::Pick(f.user.id, !picked)),
                );
            }
            let invite = button(text(i18n.tr("groups-invite")).size(13));
            col = col.push(if self.invite.is_empty() {
                invite
            } else {
                invite.on_press(Message::Invite)
            });
        }
        col = col.push(rule::horizontal(1));

        // Leave, disband.
        if self.confirm_disband {
            col = col.push(
                column![
                    text(i18n.tr_args(
                        "groups-disband-ask",
                        &[("name", Arg::from(group.name.as_str()))],
                    ))
                    .size(13),
                    row![
                        button(text(i18n.tr("groups-disband-confirm")).size(13))
                            .style(button::danger)
                            .on_press(Message::ConfirmDisband),
                        button(text(i18n.tr("groups-cancel")).size(13))
                            .style(button::secondary)
                            .on_press(Message::CancelDisband),
                    ]
                    .spacing(6),
                ]
                .spacing(6),
            );
        } else {
            let mut actions = row![
                button(text(i18n.tr("groups-leave")).size(13))
                    .style(button::secondary)
                    .on_press(Message::Leave),
                space::horizontal(),
            ]
            .spacing(6);
            if mine == Role::Owner {
                actions = actions.push(
                    button(text(i18n.tr("groups-disband")).size(13))
                        .style(button::danger)
                        .on_press(Message::Disband),
                );
            }
            col = col.push(actions);
        }
        scrollable(container(col).width(Fill)).height(Fill).into()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn removal_only_from_below() {
        assert!(can_remove(Role::Owner, Role::Admin));
        assert!(can_remove(Role::Owner, Role::Member));
        assert!(can_remove(Role::Admin, Role::Member));
        assert!(!can_remove(Role::Admin, Role::Admin));
        assert!(!can_remove(Role::Admin, Role::Owner));
        assert!(!can_remove(Role::Member, Role::Member));
    }

    #[test]
    fn disband_needs_the_confirm_step() {
        let mut info = GroupInfo::new(ConversationId(7));
        assert!(info.update(Message::Disband, None).is_none());
        assert!(info.confirm_disband);
        assert!(info.update(Message::CancelDisband, None).is_none());
        assert!(!info.confirm_disband);
        info.update(Message::Disband, None);
        let e = info.update(Message::ConfirmDisband, None);
        assert!(matches!(
            e,
            Some(Event::Request(ConversationId(7), Request::Disband))
        ));
    }

    #[test]
    fn rename_sends_only_a_real_change() {
        let mut info = GroupInfo::new(ConversationId(1));
        assert!(
            info.update(Message::Rename, None).is_none(),
            "nothing typed"
        );
        info.update(Message::Name("  ".into()), None);
        assert!(info.update(Message::Rename, None).is_none(), "blank");
        info.update(Message::Name(" Hike ".into()), None);
        match info.update(Message::Rename, None) {
            Some(Event::Request(_, Request::Update(u))) => {
                assert_eq!(u.name.as_deref(), Some("Hike"));
                assert!(u.announcement.is_none());
            }
            other => panic!("{other:?}"),
        }
        // The field shows the group's name again until the next edit.
        assert!(info.name.is_none());
    }

    #[test]
    fn invite_sends_the_ticked_friends_once() {
        let mut info = GroupInfo::new(ConversationId(1));
        assert!(info.update(Message::Invite, None).is_none());
        info.update(Message::Pick(UserId(2), true), None);
        info.update(Message::Pick(UserId(3), true), None);
        info.update(Message::Pick(UserId(2), false), None);
        match info.update(Message::Invite, None) {
            Some(Event::Request(_, Request::Invite(users))) => assert_eq!(users, vec![UserId(3)]),
            other => panic!("{other:?}"),
        }
        assert!(info.invite.is_empty());
    }
}
