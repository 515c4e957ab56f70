//! Friends, groups and settings: the actions behind the side panels.

use std::sync::Arc;

use iced::Task;
use natter_i18n::Arg;

use super::{Context, Event, Main, Message};
use crate::app::Shared;

fn rest<F, Fut>(main: &Main, f: F) -> Task<Message>
where
    F: FnOnce(natter_net::Client, String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<String, natter_net::Error>> + Send + 'static,
{
    let Some(client) = main.client.clone() else {
        return Task::none();
    };
    Task::perform(
        async move {
            let token = client.token().await.map_err(|e| Shared(Arc::new(e)))?;
            f(client, token).await.map_err(|e| Shared(Arc::new(e)))
        },
        Message::Done,
    )
}

/// Handles the panel messages.
pub fn update(
    main: &mut Main,
    message: Message,
    ctx: Context<'_>,
) -> (Task<Message>, Option<Event>) {
    let i18n = ctx.i18n;
    let task = match message {
        Message::FriendQuery(q) => {
            main.friend_query = q;
            Task::none()
        }
        Message::FindFriend => {
            let q = main.friend_query.trim().to_string();
            let Some(client) = main.client.clone() else {
                return (Task::none(), None);
            };
            if q.is_empty() {
                return (Task::none(), None);
            }
            Task::perform(
                async move {
                    let token = client.token().await?;
                    client.http().search_users(&token, &q).await
                },
                |r| Message::Found(r.map_err(|e| Shared(Arc::new(e)))),
            )
        }
        Message::Found(Ok(users)) => {
            main.notice = users.is_empty().then(|| i18n.tr("friends-search-none"));
            main.found = users;
            Task::none()
        }
        Message::Found(Err(e)) => {
            main.notice = Some(crate::error_text(i18n, &main.account.server, &e.0));
            Task::none()
        }
        Message::RequestNote(n) => {
            main.request_note = n;
            Task::none()
        }
        Message::Request(user) => {
            let note = main.request_note.trim().to_string();
            let sent = i18n.tr("friends-request-sent");
            main.found.clear();
            main.friend_query.clear();
            rest(main, move |c, t| async move {
                c.http().send_friend_request(&t, user, &note).await?;
                Ok(sent)
            })
        }
        Message::Answer(id, accept) => {
            let done = i18n.tr(if accept {
                "friends-accepted"
            } else {
                "friends-rejected"
            });
            rest(main, move |c, t| async move {
                c.http().answer_friend_request(&t, id, accept).await?;
                Ok(done)
            })
        }
        Message::GroupName(n) => {
            main.group_name = n;
            Task::none()
        }
        Message::Pick(user, on) => {
            if on {
                main.group_pick.insert(user);
            } else {
                main.group_pick.remove(&user);
            }
            Task::none()
        }
        Message::CreateGroup => {
            let name = main.group_name.trim().to_string();
            if name.is_empty() {
                return (Task::none(), None);
            }
            let members: Vec<_> = main.group_pick.iter().copied().collect();
            main.group_name.clear();
            main.group_pick.clear();
            let done = i18n.tr_args("groups-joined", &[("name", Arg::from(name.as_str()))]);
            rest(main, move |c, t| async move {
                c.http().create_group(&t, &name, members).await?;
                Ok(done)
            })
        }
        Message::LeaveGroup(id) => {
            if main.selected == Some(id) {
                main.selected = None;
            }
            rest(main, move |c, t| async move {
                c.http().leave_group(&t, id).await?;
                Ok(String::new())
            })
        }
        Message::Done(Ok(notice)) => {
            main.notice = Some(notice).filter(|n| !n.is_empty());
            main.reload_social()
        }
        Message::Done(Err(e)) => {
            main.notice = Some(crate::error_text(i18n, &main.account.server, &e.0));
            Task::none()
        }
        Message::Language(l) => return (Task::none(), Some(Event::Language(l))),
        Message::Theme(t) => return (Task::none(), Some(Event::Theme(t))),
        Message::FontSize(s) => return (Task::none(), Some(Event::FontSize(s))),
        Message::Notifications(on) => return (Task::none(), Some(Event::Notifications(on))),
        Message::SignOut => match main.client.clone() {
            Some(c) => Task::perform(async move { c.sign_out().await.ok() }, |_| {
                Message::SignedOut
            }),
            None => Task::done(Message::SignedOut),
        },
        Message::SignedOut => return (Task::none(), Some(Event::SignedOut)),
        Message::Nothing => Task::none(),
        _ => Task::none(),
    };
    (task, None)
}
