//! Settings and profile: nickname and avatar, language, theme, text size,
//! notifications, the devices for calls, the relay, signing out.

use std::path::PathBuf;

use iced::widget::{
    button, column, image, pick_list, row, scrollable, slider, text, text_input, toggler,
};
use iced::{Center, Element, Fill, Length, Task};
use natter_i18n::{I18n, Language};
use natter_net::Client;
use natter_proto::model::{Profile, UserSummary};
use natter_proto::rest::UpdateProfile;

use super::call::Devices;
use super::profile::{ProfileError, upload_avatar};
use crate::app::{Settings as Preferences, ThemeChoice};
use crate::widget::{Face, avatar};

/// The settings panel's state: a nickname being edited, an avatar uploading.
#[derive(Debug, Default)]
pub struct Settings {
    nickname: Option<String>,
    avatar_busy: bool,
}

/// Settings messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// The nickname field changed.
    NicknameEdit(String),
    /// Save the nickname.
    SaveNickname,
    /// Open the picture picker for the avatar.
    ChooseAvatar,
    /// What the picture dialog gave.
    AvatarChosen(crate::dialog::Chosen),
    /// A picture was picked (chosen or dropped onto the window).
    AvatarPicked(Option<PathBuf>),
    /// The relay saved the profile, or why not.
    ProfileSaved(Result<Profile, ProfileError>),
    /// Language picked.
    Language(Language),
    /// Theme picked.
    Theme(ThemeChoice),
    /// Text size changed.
    FontSize(f32),
    /// Notifications toggled.
    Notifications(bool),
    /// Devices for calls chosen.
    Devices(Devices),
    /// Sign out.
    SignOut,
}

/// What the main window must do.
#[derive(Debug, Clone)]
pub enum Event {
    /// Switch language.
    Language(Language),
    /// Switch theme.
    Theme(ThemeChoice),
    /// Change text size.
    FontSize(f32),
    /// Toggle notifications.
    Notifications(bool),
    /// Use these devices.
    Devices(Devices),
    /// Sign this device out.
    SignOut,
    /// Say this.
    Notice(String),
    /// The relay holds this profile now.
    Saved(Profile),
    /// Saving failed.
    Failed(ProfileError),
}

/// What the view needs.
pub struct View<'a> {
    /// Translations.
    pub i18n: &'a I18n,
    /// Preferences.
    pub preferences: &'a Preferences,
    /// The reader.
    pub me: &'a UserSummary,
    /// The reader's avatar, decoded.
    pub avatar: Option<&'a image::Handle>,
    /// The relay's address.
    pub server: &'a str,
    /// The devices part, drawn by the call module.
    pub devices: Element<'a, Message>,
}

impl Settings {
    /// Handles a message.
    pub fn update(
        &mut self,
        message: Message,
        client: Option<&Client>,
        me: &UserSummary,
        i18n: &I18n,
    ) -> (Task<Message>, Option<Event>) {
        match message {
            Message::NicknameEdit(n) => {
                self.nickname = Some(n);
                (Task::none(), None)
            }
            Message::SaveNickname => {
                let Some(nickname) = self.nickname.take() else {
                    return (Task::none(), None);
                };
                let nickname = nickname.trim().to_string();
                if nickname.is_empty() || nickname == me.nickname {
                    return (Task::none(), None);
                }
                let Some(client) = client.cloned() else {
                    return (Task::none(), None);
                };
                let patch = UpdateProfile {
                    nickname: Some(nickname),
                    ..UpdateProfile::default()
                };
                let task = Task::perform(
                    async move {
                        let token = client.token().await?;
                        Ok(client.http().update_profile(&token, &patch).await?)
                    },
                    Message::ProfileSaved,
                );
                (task, None)
            }
            Message::ChooseAvatar => {
                let title = i18n.tr("settings-avatar-choose");
                let filter = i18n.tr("settings-avatar-pictures");
                let task = Task::perform(
                    crate::dialog::pick_file(title, Some((filter, &["png", "jpg", "jpeg"]))),
                    Message::AvatarChosen,
                );
                (task, None)
            }
            Message::AvatarChosen(chosen) => match chosen {
                crate::dialog::Chosen::Path(path) => {
                    self.update(Message::AvatarPicked(Some(path)), client, me, i18n)
                }
                crate::dialog::Chosen::Closed => (Task::none(), None),
                crate::dialog::Chosen::Unavailable => (
                    Task::none(),
                    Some(Event::Notice(i18n.tr("dialog-missing-avatar"))),
                ),
            },
            Message::AvatarPicked(None) => (Task::none(), None),
            Message::AvatarPicked(Some(path)) => {
                let Some(client) = client.cloned() else {
                    return (Task::none(), None);
                };
                self.avatar_busy = true;
                (
                    Task::perform(upload_avatar(client, path), Message::ProfileSaved),
                    Some(Event::Notice(i18n.tr("settings-avatar-uploading"))),
                )
            }
            Message::ProfileSaved(Ok(profile)) => {
                self.avatar_busy = false;
                (Task::none(), Some(Event::Saved(profile)))
            }
            Message::ProfileSaved(Err(e)) => {
                self.avatar_busy = false;
                (Task::none(), Some(Event::Failed(e)))
            }
            Message::Language(l) => (Task::none(), Some(Event::Language(l))),
            Message::Theme(t) => (Task::none(), Some(Event::Theme(t))),
            Message::FontSize(s) => (Task::none(), Some(Event::FontSize(s))),
            Message::Notifications(on) => (Task::none(), Some(Event::Notifications(on))),
            Message::Devices(d) => (Task::none(), Some(Event::Devices(d))),
            Message::SignOut => (Task::none(), Some(Event::SignOut)),
        }
    }

    /// Draws the panel.
    pub fn view<'a>(&'a self, v: View<'a>) -> Element<'a, Message> {
        let i18n = v.i18n;
        let s = v.preferences;
        let theme_names: Vec<String> = [ThemeChoice::Light, ThemeChoice::Dark]
            .iter()
            .map(|t| {
                i18n.tr(if *t == ThemeChoice::Light {
                    "settings-theme-light"
                } else {
                    "settings-theme-dark"
                })
            })
            .collect();
        let current_theme = theme_names[if s.theme == ThemeChoice::Light { 0 } else { 1 }].clone();
        let light = theme_names[0].clone();
        let me = v.me;
        let nickname = self.nickname.as_deref().unwrap_or(&me.nickname);
        let mut choose =
            button(text(i18n.tr("settings-avatar-choose")).size(12)).style(button::secondary);
        if !self.avatar_busy {
            choose = choose.on_press(Message::ChooseAvatar);
        }
        let col = column![
            text(i18n.tr("settings-profile")).size(14),
            row![
                avatar(Face::Person(me.id.0), &me.nickname, v.avatar, 56),
                column![text(format!("{} (@{})", me.nickname, me.account)), choose].spacing(6),
            ]
            .spacing(10)
            .align_y(Center),
            text(i18n.tr("settings-nickname")).size(12),
            row![
                text_input(&i18n.tr("settings-nickname"), nickname)
                    .on_input(Message::NicknameEdit)
                    .on_submit(Message::SaveNickname)
                    .padding(6)
                    .id("nickname"),
                button(text(i18n.tr("settings-save")).size(13)).on_press(Message::SaveNickname),
            ]
            .spacing(6)
            .align_y(Center),
            text(i18n.tr("settings-language")).size(14),
            pick_list(Language::ALL, Some(i18n.language()), Message::Language),
            text(i18n.tr("settings-theme")).size(14),
            pick_list(theme_names, Some(current_theme), move |t: String| {
                Message::Theme(if t == light {
                    ThemeChoice::Light
                } else {
                    ThemeChoice::Dark
                })
            }),
            text(format!(
                "{} {}",
                i18n.tr("settings-font-size"),
                s.font_size as u32
            ))
            .size(14),
            slider(12.0..=22.0, s.font_size, Message::FontSize).step(1.0),
            toggler(s.notifications)
                .label(i18n.tr("settings-notifications-on"))
                .on_toggle(Message::Notifications),
            v.devices,
            text(format!("{}: {}", i18n.tr("settings-server"), v.server)).size(12),
            text(crate::about::line(i18n, v.server)).size(12),
            button(text(i18n.tr("settings-sign-out")))
                .style(button::danger)
                .on_press(Message::SignOut),
        ]
        .spacing(8)
        .padding(10)
        .width(Length::Fill);
        scrollable(col).height(Fill).into()
    }
}
