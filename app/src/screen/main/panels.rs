//! Friends, groups and settings: the actions behind the side panels.

use std::sync::Arc;

use iced::Task;
use natter_i18n::{Arg, I18n};
use natter_proto::EventBody;
use natter_proto::model::{ConversationId, UserId};

use super::group_info::Request;
use super::{Context, Event, Main, Message};
use crate::app::Shared;

/// The result of a REST call made for a panel: a notice to show, or why not.
pub type Outcome = Result<String, Shared<natter_net::Error>>;

/// What the contacts and groups panels ask of the main window.
#[derive(Debug, Clone)]
pub enum PanelEvent {
    /// Open this conversation.
    Chat(ConversationId),
    /// Say this to the person.
    Notice(String),
    /// Say this, and read friends, requests and groups again.
    Changed(String),
    /// A call failed; say why.
    Failed(Shared<natter_net::Error>),
}

impl PanelEvent {
    /// What a finished REST call means.
    pub fn done(outcome: Outcome) -> PanelEvent {
        match outcome {
            Ok(notice) => PanelEvent::Changed(notice),
            Err(e) => PanelEvent::Failed(e),
        }
    }
}

impl Main {
    /// Acts on what a side panel asked.
    pub(super) fn on_panel(&mut self, event: PanelEvent, i18n: &I18n) -> Task<Message> {
        match event {
            PanelEvent::Chat(id) => self.open_chat(id),
            PanelEvent::Notice(n) => {
                self.notice.set(Some(n));
                Task::none()
            }
            PanelEvent::Changed(n) => {
                self.notice.set(Some(n).filter(|n| !n.is_empty()));
                self.reload_social()
            }
            PanelEvent::Failed(e) => {
                self.notice
                    .set(Some(crate::error_text(i18n, &self.account.server, &e.0)));
                Task::none()
            }
        }
    }
}

/// Runs a REST call with a fresh token; nothing without a client yet.
pub fn rest<F, Fut>(client: Option<&natter_net::Client>, f: F) -> Task<Outcome>
where
    F: FnOnce(natter_net::Client, String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<String, natter_net::Error>> + Send + 'static,
{
    let Some(client) = client.cloned() else {
        return Task::none();
    };
    Task::perform(
        async move {
            let token = client.token().await.map_err(|e| Shared(Arc::new(e)))?;
            f(client, token).await.map_err(|e| Shared(Arc::new(e)))
        },
        |r| r,
    )
}

pub(super) fn group_name(main: &Main, id: ConversationId) -> String {
    main.groups
        .iter()
        .find(|g| g.id == id)
        .map(|g| g.name.clone())
        .or_else(|| {
            main.conversations
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.title.clone())
        })
        .unwrap_or_default()
}

fn member_name(main: &Main, id: ConversationId, user: UserId) -> String {
    main.groups
        .iter()
        .find(|g| g.id == id)
        .and_then(|g| g.members.iter().find(|m| m.user.id == user))
        .map(|m| m.user.nickname.clone())
        .or_else(|| main.users.get(&user).map(|u| u.nickname.clone()))
        .unwrap_or_else(|| user.to_string())
}

/// Sends a change asked for in the group info panel; the notice says what was
/// done, and the live session brings the result into the lists.
pub fn group_request(
    main: &mut Main,
    id: ConversationId,
    request: Request,
    i18n: &I18n,
) -> Task<Message> {
    let name = Arg::from(group_name(main, id));
    let task: Task<Outcome> = match request {
        Request::Update(patch) => {
            let done = i18n.tr(if patch.name.is_some() {
                "groups-renamed"
            } else {
                "groups-announcement-saved"
            });
            rest(main.client.as_ref(), move |c, t| async move {
                c.http().update_group(&t, id, &patch).await?;
                Ok(done)
            })
        }
        Request::Invite(users) => {
            let done = i18n.tr("groups-invited");
            rest(main.client.as_ref(), move |c, t| async move {
                c.http().invite(&t, id, users).await?;
                Ok(done)
            })
        }
        Request::Remove(user) => {
            let who = Arg::from(member_name(main, id, user));
            let done = i18n.tr_args("groups-member-removed", &[("name", who)]);
            rest(main.client.as_ref(), move |c, t| async move {
                c.http().remove_member(&t, id, user).await?;
                Ok(done)
            })
        }
        Request::Leave => {
            main.group_info = None;
            let done = i18n.tr_args("groups-left", &[("name", name)]);
            rest(main.client.as_ref(), move |c, t| async move {
                c.http().leave_group(&t, id).await?;
                Ok(done)
            })
        }
        Request::Disband => {
            main.group_info = None;
            let done = i18n.tr_args("groups-disbanded", &[("name", name)]);
            rest(main.client.as_ref(), move |c, t| async move {
                c.http().disband(&t, id).await?;
                Ok(done)
            })
        }
    };
    task.map(Message::Done)
}

/// Follows the own profile, and tells the person what an account event did to
/// a group they are looking at (removed from it, disbanded by its owner) and
/// closes its info panel. Runs before the lists reload, so the group's name is
/// still known.
pub fn on_account_event(main: &mut Main, body: &EventBody, i18n: &I18n) {
    let me = main.me();
    if let EventBody::ProfileUpdated { user } = body
        && user.id == me
    {
        // Changed here or on another device.
        main.account.profile.user = user.clone();
        return;
    }
    let (group, notice) = match body {
        EventBody::GroupMemberRemoved { group, user, .. } if *user == me => {
            let name = Arg::from(group_name(main, *group));
            (
                *group,
                Some(i18n.tr_args("groups-removed-you", &[("name", name)])),
            )
        }
        EventBody::GroupDisbanded { group, by } => {
            let name = Arg::from(group_name(main, *group));
            let told = (*by != me).then(|| i18n.tr_args("groups-disbanded", &[("name", name)]));
            (*group, told)
        }
        EventBody::GroupMemberLeft { group, user, .. } if *user == me => (*group, None),
        _ => return,
    };
    if main.group_info.as_ref().is_some_and(|g| g.id == group) {
        main.group_info = None;
    }
    if notice.is_some() {
        main.notice.set(notice);
    }
}

/// Handles the panel messages.
pub fn update(
    main: &mut Main,
    message: Message,
    ctx: Context<'_>,
) -> (Task<Message>, Option<Event>) {
    let task = match message {
        Message::Done(outcome) => main.on_panel(PanelEvent::done(outcome), ctx.i18n),
        Message::SignedOut => return (Task::none(), Some(Event::SignedOut)),
        Message::Nothing => Task::none(),
        _ => Task::none(),
    };
    (task, None)
}
