//! Friends: requests, answers, the friend list, unfriending.

use std::collections::HashMap;

use natter_proto::ErrorCode;
use natter_proto::event::EventBody;
use natter_proto::frame::ServerFrame;
use natter_proto::model::{
    ConversationId, Friend, FriendRequest, RequestStatus, UserId, UserSummary,
};
use natter_proto::rest::FriendRequests;

use super::{Service, clean_note};
use crate::error::{Error, Result};
use crate::service::Authed;
use crate::storage::{RequestRecord, Resolution};
use crate::util::now_ms;

impl Service {
    async fn summaries(&self, ids: Vec<UserId>) -> Result<HashMap<UserId, UserSummary>> {
        Ok(self
            .storage
            .users(ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u.summary()))
            .collect())
    }

    async fn request_to_wire(&self, r: &RequestRecord) -> Result<FriendRequest> {
        let mut users = self.summaries(vec![r.from, r.to]).await?;
        let missing = || Error::not_found("account no longer exists");
        let from = users.remove(&r.from).ok_or_else(missing)?;
        let to = users.remove(&r.to).ok_or_else(missing)?;
        Ok(r.to_wire(from, to))
    }

    /// Asks `to` to be friends. Repeating a pending request returns it unchanged.
    pub async fn send_friend_request(
        &self,
        authed: &Authed,
        to: UserId,
        message: &str,
    ) -> Result<FriendRequest> {
        let from = authed.id();
        if to == from {
            return Err(Error::bad_request("cannot befriend yourself"));
        }
        let message = clean_note(message, "request message")?;
        let record = RequestRecord {
            id: self.ids.next(),
            from,
            to,
            message,
            status: RequestStatus::Pending,
            ts: now_ms(),
        };
        let wire = self.request_to_wire(&record).await?;
        let events = vec![
            (
                to,
                EventBody::FriendRequestReceived {
                    request: wire.clone(),
                },
            ),
            (
                from,
                EventBody::FriendRequestSent {
                    request: wire.clone(),
                },
            ),
        ];
        let (stored, appends) = self.storage.create_request(record, events).await?;
        self.deliver_events(&appends);
        if appends.is_empty() {
            return self.request_to_wire(&stored).await;
        }
        Ok(wire)
    }

    /// Pending requests both ways.
    pub async fn friend_requests(&self, authed: &Authed) -> Result<FriendRequests> {
        let me = authed.id();
        let pending = self.storage.pending_requests(me).await?;
        let mut ids: Vec<UserId> = pending.iter().flat_map(|r| [r.from, r.to]).collect();
        ids.sort();
        ids.dedup();
        let users = self.summaries(ids).await?;
        let mut out = FriendRequests {
            incoming: Vec::new(),
            outgoing: Vec::new(),
        };
        for r in pending {
            let (Some(from), Some(to)) = (users.get(&r.from), users.get(&r.to)) else {
                continue;
            };
            let wire = r.to_wire(from.clone(), to.clone());
            if r.to == me {
                out.incoming.push(wire);
            } else {
                out.outgoing.push(wire);
            }
        }
        Ok(out)
    }

    /// Accepts or rejects a request sent to this account.
    pub async fn answer_friend_request(
        &self,
        authed: &Authed,
        id: u64,
        accept: bool,
    ) -> Result<FriendRequest> {
        let existing = self
            .storage
            .request(id)
            .await?
            .filter(|r| r.to == authed.id())
            .ok_or_else(|| Error::not_found("no such friend request"))?;
        let users = self.summaries(vec![existing.from, existing.to]).await?;
        let by = authed.id();
        let resolution = Resolution {
            request: id,
            by,
            status: if accept {
                RequestStatus::Accepted
            } else {
                RequestStatus::Rejected
            },
            ts: now_ms(),
            new_conversation: ConversationId(self.ids.next()),
        };
        let ts = resolution.ts;
        let events = Box::new(
            move |r: &RequestRecord, friendship: Option<crate::storage::FriendshipRecord>| {
                match friendship {
                    Some(f) => {
                        let mut out = Vec::new();
                        for (me, other) in [(r.from, r.to), (r.to, r.from)] {
                            if let Some(user) = users.get(&other) {
                                out.push((
                                    me,
                                    EventBody::FriendAdded {
                                        request_id: r.id,
                                        friend: Friend {
                                            user: user.clone(),
                                            conversation: f.conversation,
                                            since_ts: ts,
                                        },
                                    },
                                ));
                            }
                        }
                        out
                    }
                    None => vec![
                        (
                            r.from,
                            EventBody::FriendRequestRejected {
                                request_id: r.id,
                                by,
                            },
                        ),
                        (
                            r.to,
                            EventBody::FriendRequestRejected {
                                request_id: r.id,
                                by,
                            },
                        ),
                    ],
                }
            },
        );
        let (record, appends) = self.storage.resolve_request(resolution, events).await?;
        self.deliver_events(&appends);
        if accept {
            // Each side learns whether the other is online right now.
            for (a, b) in [(record.from, record.to), (record.to, record.from)] {
                if self.is_online(b).await {
                    self.push(
                        &[a],
                        &ServerFrame::Presence {
                            user: b,
                            online: true,
                        },
                        None,
                    );
                }
            }
        }
        self.request_to_wire(&record).await
    }

    /// Everyone this account is friends with.
    pub async fn friends(&self, authed: &Authed) -> Result<Vec<Friend>> {
        let records = self.storage.friends(authed.id()).await?;
        let users = self
            .summaries(records.iter().map(|f| f.friend).collect())
            .await?;
        Ok(records
            .into_iter()
            .filter_map(|f| {
                users.get(&f.friend).map(|u| Friend {
                    user: u.clone(),
                    conversation: f.conversation,
                    since_ts: f.since_ts,
                })
            })
            .collect())
    }

    /// Ends a friendship; both sides are told and their chat closes for sending.
    pub async fn remove_friend(&self, authed: &Authed, friend: UserId) -> Result<()> {
        let me = authed.id();
        let record = self
            .storage
            .friendship(me, friend)
            .await?
            .ok_or_else(|| Error::client(ErrorCode::NotFriends, "not friends"))?;
        let conversation = record.conversation;
        let events = vec![
            (
                me,
                EventBody::FriendRemoved {
                    user: friend,
                    conversation,
                },
            ),
            (
                friend,
                EventBody::FriendRemoved {
                    user: me,
                    conversation,
                },
            ),
        ];
        let appends = self.storage.remove_friend(me, friend, events).await?;
        self.deliver_events(&appends);
        Ok(())
    }
}
