//! Group calls (protocol 4): the signalling around the forwarding unit.
//!
//! Anyone in a group starts a call with `invite`; every other member's
//! devices ring. A member joins with `accept` — while it rings, or later from
//! the chat header — and leaves with `hangup`; a member who does not want to
//! join sends `reject`, which stops their ringing only. The call ends when the
//! last device taking part leaves (or when nobody joined the one who started
//! it within the ring timeout), with one `call` record naming who took part.
//!
//! Whoever is in the call is shown to every member as `participants`
//! notices. Media runs through [`crate::sfu::Room`]: each device taking part
//! exchanges SDP and ICE with the relay, not with the others.
//!
//! One device per account takes part. Someone in a 1:1 call is busy for a
//! group call and the other way round. Group calls run on one relay; a node
//! of a cluster refuses them with `unsupported`.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use natter_proto::ErrorCode;
use natter_proto::call::{CallNotice, CallRequest, EndReason};
use natter_proto::frame::ServerFrame;
use natter_proto::model::{CallMedia, CallOutcome, ConversationId, MessageBody, UserId};

use super::calls::{Origin, valid_call_id};
use super::{Service, encode};
use crate::error::{Error, Result};
use crate::sfu::{Key, Room, Signal};
use crate::util::now_ms;

/// The first protocol version with group calls.
pub const GROUP_CALL_PROTOCOL: u32 = 4;

/// Group calls running on this relay.
#[derive(Default)]
pub struct GroupCalls {
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    calls: HashMap<String, GroupCall>,
    by_conversation: HashMap<ConversationId, String>,
}

struct GroupCall {
    nonce: u64,
    conversation: ConversationId,
    media: CallMedia,
    starter: UserId,
    members: Vec<UserId>,
    /// Devices taking part, in the order they joined.
    participants: Vec<Key>,
    /// Everyone who took part at some point.
    ever: Vec<UserId>,
    /// Members whose devices still ring.
    ringing: HashSet<UserId>,
    /// When a second person first joined (talk time starts).
    talk_since: Option<i64>,
    /// Devices whose connection dropped, with the token of their grace timer.
    away: HashMap<Key, u64>,
    /// Accounts taking part whose microphone is muted (version 7).
    muted: HashSet<UserId>,
    room: Arc<Room>,
}

impl GroupCall {
    fn accounts(&self) -> Vec<UserId> {
        self.participants.iter().map(|k| k.user).collect()
    }

    fn notice(&self, id: &str) -> CallNotice {
        CallNotice::Participants {
            call_id: id.to_owned(),
            conversation: self.conversation,
            media: self.media,
            participants: self.accounts(),
            muted: Some(
                self.participants
                    .iter()
                    .map(|k| k.user)
                    .filter(|u| self.muted.contains(u))
                    .collect(),
            ),
        }
    }
}

/// A finished group call, to be announced and recorded.
struct Over {
    id: String,
    call: GroupCall,
    /// Why, for devices still ringing.
    ringing_reason: EndReason,
}

impl GroupCalls {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Group calls running.
    pub fn len(&self) -> usize {
        self.lock().calls.len()
    }

    /// Whether none runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `call_id` is a group call.
    pub fn contains(&self, call_id: &str) -> bool {
        self.lock().calls.contains_key(call_id)
    }

    /// Whether `user` takes part in a group call.
    pub fn is_busy(&self, user: UserId) -> bool {
        self.lock()
            .calls
            .values()
            .any(|c| c.participants.iter().any(|k| k.user == user))
    }
}

impl Service {
    fn media_bind(&self) -> IpAddr {
        match self.config.sfu.bind {
            Some(ip) => ip,
            None => self.config.bind.ip(),
        }
    }

    fn push_group(&self, users: &[UserId], call: CallNotice, skip: Option<u64>) {
        let frame = encode(&ServerFrame::Call { call });
        self.hub
            .send_since(users, &frame, skip, GROUP_CALL_PROTOCOL);
    }

    /// Tells `users`' devices to stop ringing for `call_id`, and why.
    fn stop_ringing(&self, users: &[UserId], call_id: &str, reason: EndReason) {
        self.push_group(
            users,
            CallNotice::Ended {
                call_id: call_id.to_owned(),
                reason,
                duration_ms: 0,
            },
            None,
        );
    }

    fn group_signal(self: &Arc<Self>) -> Signal {
        let weak: Weak<Service> = Arc::downgrade(self);
        Arc::new(move |user, device, call| {
            if let Some(svc) = weak.upgrade() {
                svc.push_to_device(user, device, &ServerFrame::Call { call });
            }
        })
    }

    /// `invite` in a group conversation: starts a call the sender's device
    /// takes part in, and rings every other member.
    pub(super) async fn start_group_call(
        self: &Arc<Self>,
        from: Origin<'_>,
        call_id: String,
        conversation: ConversationId,
        media: CallMedia,
    ) -> Result<()> {
        valid_call_id(&call_id)?;
        if self.node.is_some() {
            return Err(Error::client(
                ErrorCode::Unsupported,
                "group calls run on a single relay; this relay is a node of a cluster",
            ));
        }
        if !self.config.sfu.enabled {
            return Err(Error::client(
                ErrorCode::Unsupported,
                "group calls are turned off on this relay",
            ));
        }
        let members: Vec<UserId> = self
            .storage
            .members(conversation)
            .await?
            .into_iter()
            .map(|m| m.user)
            .collect();
        if !members.contains(&from.user) {
            return Err(Error::client(ErrorCode::NotMember, "not in this group"));
        }
        self.check_free(from.user)?;
        let key = Key {
            user: from.user,
            device: from.device.to_owned(),
        };
        let room = Room::new(
            &call_id,
            self.media_bind(),
            self.config.sfu.max_stream_kbps,
            self.group_signal(),
        );
        let nonce = rand::random();
        let ringing: HashSet<UserId> = members
            .iter()
            .copied()
            .filter(|u| *u != from.user && !self.is_in_any_call(*u))
            .collect();
        {
            let mut table = self.group_calls.lock();
            if table.calls.contains_key(&call_id) || self.calls.contains(&call_id) {
                return Err(Error::client(
                    ErrorCode::InvalidState,
                    "a call with this id is in progress",
                ));
            }
            if table.by_conversation.contains_key(&conversation) {
                return Err(Error::client(
                    ErrorCode::InvalidState,
                    "a call is already running in this group; join it with accept",
                ));
            }
            if table.calls.len() >= self.config.sfu.max_calls {
                return Err(Error::client(
                    ErrorCode::Busy,
                    "this relay carries as many group calls as it can; try again later",
                ));
            }
            table.by_conversation.insert(conversation, call_id.clone());
            table.calls.insert(
                call_id.clone(),
                GroupCall {
                    nonce,
                    conversation,
                    media,
                    starter: from.user,
                    members: members.clone(),
                    participants: vec![key.clone()],
                    ever: vec![from.user],
                    ringing: ringing.clone(),
                    talk_since: None,
                    away: HashMap::new(),
                    muted: HashSet::new(),
                    room: room.clone(),
                },
            );
        }
        tracing::info!(members = members.len(), "group call started");
        self.hub.send_to_conn(
            from.user,
            from.conn,
            &encode(&ServerFrame::Call {
                call: CallNotice::Accepted {
                    call_id: call_id.clone(),
                },
            }),
        );
        let ring: Vec<UserId> = ringing.into_iter().collect();
        self.push_group(
            &ring,
            CallNotice::Incoming {
                call_id: call_id.clone(),
                conversation,
                from: from.user,
                media,
            },
            None,
        );
        self.announce_participants(&call_id);
        if let Err(e) = room.join(key).await {
            let over = self.take_group_call(&call_id, EndReason::Cancelled);
            self.finish_group_call(over).await;
            return Err(e);
        }
        let ring_ms = self.config.call_ring_timeout_ms;
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ring_ms)).await;
            if let Some(svc) = weak.upgrade() {
                svc.ring_timeout(&call_id, nonce).await;
            }
        });
        Ok(())
    }

    /// Whether `user` is in a 1:1 call or takes part in a group call.
    fn is_in_any_call(&self, user: UserId) -> bool {
        self.calls.busy_here(user) || self.group_calls.is_busy(user)
    }

    fn check_free(&self, user: UserId) -> Result<()> {
        if self.is_in_any_call(user) {
            return Err(Error::client(
                ErrorCode::InvalidState,
                "already in a call; hang up first",
            ));
        }
        Ok(())
    }

    /// Handles a call frame about the group call `call_id`.
    pub(super) async fn group_call_action(
        self: &Arc<Self>,
        from: Origin<'_>,
        request: CallRequest,
    ) -> Result<()> {
        let key = Key {
            user: from.user,
            device: from.device.to_owned(),
        };
        match request {
            CallRequest::Invite { .. } => Err(Error::client(
                ErrorCode::InvalidState,
                "a call with this id is in progress",
            )),
            CallRequest::Ringing { .. } => Ok(()),
            CallRequest::Accept { call_id } => self.join_group_call(from, key, call_id).await,
            CallRequest::Reject { call_id } => {
                let (declined, over) = {
                    let mut table = self.group_calls.lock();
                    let call = visible(&table, &call_id, from.user)?;
                    if call.participants.contains(&key) {
                        return Err(Error::client(
                            ErrorCode::InvalidState,
                            "this device takes part; leave with hangup",
                        ));
                    }
                    let call = table.calls.get_mut(&call_id).ok_or_else(no_such_call)?;
                    let declined = call.ringing.remove(&from.user);
                    // Everyone declined the one who started it.
                    let alone = call.ever.len() == 1 && call.ringing.is_empty();
                    drop(table);
                    let over = alone.then(|| self.take_group_call(&call_id, EndReason::Rejected));
                    (declined, over.flatten())
                };
                if declined {
                    self.stop_ringing(&[from.user], &call_id, EndReason::Rejected);
                }
                self.finish_group_call(over).await;
                Ok(())
            }
            CallRequest::Cancel { call_id } | CallRequest::Hangup { call_id } => {
                {
                    let table = self.group_calls.lock();
                    let call = visible(&table, &call_id, from.user)?;
                    if !call.participants.contains(&key) {
                        return Err(not_party());
                    }
                }
                self.leave_group_call(&call_id, &key, EndReason::Completed)
                    .await;
                Ok(())
            }
            CallRequest::Sdp {
                call_id,
                sdp_type,
                sdp,
            } => {
                let room = self.room_of(&call_id, &key)?;
                room.answer(&key, sdp_type, sdp).await
            }
            CallRequest::Ice { call_id, candidate } => {
                let room = self.room_of(&call_id, &key)?;
                room.candidate(&key, candidate).await
            }
            CallRequest::MediaState { call_id, muted } => {
                let changed = {
                    let mut table = self.group_calls.lock();
                    visible(&table, &call_id, from.user)?;
                    let call = table.calls.get_mut(&call_id).ok_or_else(no_such_call)?;
                    if !call.participants.contains(&key) {
                        return Err(not_party());
                    }
                    if muted {
                        call.muted.insert(from.user)
                    } else {
                        call.muted.remove(&from.user)
                    }
                };
                if changed {
                    self.announce_participants(&call_id);
                }
                Ok(())
            }
        }
    }

    fn room_of(&self, call_id: &str, key: &Key) -> Result<Arc<Room>> {
        let table = self.group_calls.lock();
        let call = visible(&table, call_id, key.user)?;
        if !call.participants.contains(key) {
            return Err(not_party());
        }
        Ok(call.room.clone())
    }

    async fn join_group_call(
        self: &Arc<Self>,
        from: Origin<'_>,
        key: Key,
        call_id: String,
    ) -> Result<()> {
        let (conversation, was_member) = {
            let table = self.group_calls.lock();
            let call = table.calls.get(&call_id).ok_or_else(no_such_call)?;
            (call.conversation, call.members.contains(&from.user))
        };
        // Membership now, not when the call started: someone added to the
        // group since may join, someone who left may not.
        let members: Vec<UserId> = self
            .storage
            .members(conversation)
            .await?
            .into_iter()
            .map(|m| m.user)
            .collect();
        match (members.contains(&from.user), was_member) {
            (true, _) => {}
            (false, true) => {
                return Err(Error::client(ErrorCode::NotMember, "not in this group"));
            }
            (false, false) => return Err(no_such_call()),
        }
        if self.calls.busy_here(from.user) {
            return Err(Error::client(
                ErrorCode::InvalidState,
                "already in a call; hang up first",
            ));
        }
        let room = {
            let mut table = self.group_calls.lock();
            let call = table.calls.get_mut(&call_id).ok_or_else(no_such_call)?;
            if call.participants.iter().any(|k| k.user == from.user) {
                return Err(Error::client(
                    ErrorCode::InvalidState,
                    "this account already takes part in the call",
                ));
            }
            if call.participants.len() >= self.config.sfu.max_participants {
                return Err(Error::client(
                    ErrorCode::Busy,
                    format!(
                        "the call is full ({} taking part)",
                        self.config.sfu.max_participants
                    ),
                ));
            }
            call.members = members;
            call.participants.push(key.clone());
            if !call.ever.contains(&from.user) {
                call.ever.push(from.user);
            }
            call.ringing.remove(&from.user);
            if call.talk_since.is_none() {
                call.talk_since = Some(now_ms());
            }
            call.room.clone()
        };
        tracing::info!("group call joined");
        self.hub.send_to_conn(
            from.user,
            from.conn,
            &encode(&ServerFrame::Call {
                call: CallNotice::Accepted {
                    call_id: call_id.clone(),
                },
            }),
        );
        self.push_group(
            &[from.user],
            CallNotice::Ended {
                call_id: call_id.clone(),
                reason: EndReason::AnsweredElsewhere,
                duration_ms: 0,
            },
            Some(from.conn),
        );
        self.announce_participants(&call_id);
        if let Err(e) = room.join(key.clone()).await {
            self.leave_group_call(&call_id, &key, EndReason::ConnectionLost)
                .await;
            return Err(e);
        }
        Ok(())
    }

    /// Takes `key` out of the call; the last one out ends it.
    async fn leave_group_call(&self, call_id: &str, key: &Key, reason: EndReason) {
        let (room, over) = {
            let mut table = self.group_calls.lock();
            let Some(call) = table.calls.get_mut(call_id) else {
                return;
            };
            let before = call.participants.len();
            call.participants.retain(|k| k != key);
            if call.participants.len() == before {
                return;
            }
            call.muted.remove(&key.user);
            call.away.remove(key);
            let room = call.room.clone();
            let empty = call.participants.is_empty();
            drop(table);
            let over = if empty {
                self.take_group_call(call_id, EndReason::Cancelled)
            } else {
                None
            };
            (room, over)
        };
        let duration_ms = over
            .as_ref()
            .and_then(|o| o.call.talk_since)
            .map(|t| (now_ms() - t).max(0) as u64)
            .unwrap_or(0);
        self.push_to_device(
            key.user,
            &key.device,
            &ServerFrame::Call {
                call: CallNotice::Ended {
                    call_id: call_id.to_owned(),
                    reason,
                    duration_ms,
                },
            },
        );
        room.leave(key).await;
        match over {
            over @ Some(_) => self.finish_group_call(over).await,
            None => self.announce_participants(call_id),
        }
    }

    /// The members of a group changed: a call running in it now reaches its
    /// new members (they hear who is in it and may join).
    pub(super) async fn group_members_changed(&self, conversation: ConversationId) {
        let call_id = {
            let table = self.group_calls.lock();
            table.by_conversation.get(&conversation).cloned()
        };
        let Some(call_id) = call_id else {
            return;
        };
        let members = match self.storage.members(conversation).await {
            Ok(members) => members.into_iter().map(|m| m.user).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "members of a group with a call unknown");
                return;
            }
        };
        if let Some(call) = self.group_calls.lock().calls.get_mut(&call_id) {
            call.members = members;
        }
        self.announce_participants(&call_id);
    }

    fn announce_participants(&self, call_id: &str) {
        let (members, notice) = {
            let table = self.group_calls.lock();
            let Some(call) = table.calls.get(call_id) else {
                return;
            };
            (call.members.clone(), call.notice(call_id))
        };
        self.push_group(&members, notice, None);
    }

    fn take_group_call(&self, call_id: &str, ringing_reason: EndReason) -> Option<Over> {
        let mut table = self.group_calls.lock();
        let call = table.calls.remove(call_id)?;
        table.by_conversation.remove(&call.conversation);
        Some(Over {
            id: call_id.to_owned(),
            call,
            ringing_reason,
        })
    }

    async fn ring_timeout(&self, call_id: &str, nonce: u64) {
        let (missed, over) = {
            let mut table = self.group_calls.lock();
            let Some(call) = table.calls.get_mut(call_id).filter(|c| c.nonce == nonce) else {
                return;
            };
            let missed: Vec<UserId> = call.ringing.drain().collect();
            let alone = call.ever.len() == 1;
            drop(table);
            let over = if alone {
                self.take_group_call(call_id, EndReason::Missed)
            } else {
                None
            };
            (missed, over)
        };
        self.stop_ringing(&missed, call_id, EndReason::Missed);
        self.finish_group_call(over).await;
    }

    /// Tells everyone the call is over, closes its media and writes its record.
    async fn finish_group_call(&self, over: Option<Over>) {
        let Some(Over {
            id,
            call,
            ringing_reason,
        }) = over
        else {
            return;
        };
        let duration_ms = call
            .talk_since
            .map(|t| (now_ms() - t).max(0) as u64)
            .unwrap_or(0);
        let ringing: Vec<UserId> = call.ringing.iter().copied().collect();
        self.stop_ringing(&ringing, &id, ringing_reason);
        // Nobody joined the one who started it: they hear why.
        let reason = if call.ever.len() >= 2 {
            EndReason::Completed
        } else {
            ringing_reason
        };
        for key in &call.participants {
            self.push_to_device(
                key.user,
                &key.device,
                &ServerFrame::Call {
                    call: CallNotice::Ended {
                        call_id: id.clone(),
                        reason,
                        duration_ms,
                    },
                },
            );
        }
        self.push_group(
            &call.members,
            CallNotice::Participants {
                call_id: id.clone(),
                conversation: call.conversation,
                media: call.media,
                participants: Vec::new(),
                muted: Some(Vec::new()),
            },
            None,
        );
        call.room.close().await;
        let outcome = if call.ever.len() >= 2 {
            CallOutcome::Completed
        } else {
            match ringing_reason {
                EndReason::Rejected => CallOutcome::Rejected,
                EndReason::Missed => CallOutcome::Missed,
                _ => CallOutcome::Cancelled,
            }
        };
        tracing::info!(
            took_part = call.ever.len(),
            ?outcome,
            duration_ms,
            "group call ended"
        );
        self.write_call_record(
            call.conversation,
            call.starter,
            MessageBody::Call {
                call_id: id,
                media: call.media,
                outcome,
                duration_ms,
                participants: call.ever,
            },
        )
        .await;
    }

    /// A device connected: it rings for group calls waiting for its account,
    /// hears who is in every call of its groups, and keeps its place in a call
    /// it dropped out of within the grace period.
    pub async fn group_call_device_connected(&self, user: UserId, device: &str, conn: u64) {
        let notices = {
            let mut table = self.group_calls.lock();
            let key = Key {
                user,
                device: device.to_owned(),
            };
            let mut notices = Vec::new();
            for (id, call) in table.calls.iter_mut() {
                if !call.members.contains(&user) {
                    continue;
                }
                call.away.remove(&key);
                if call.ringing.contains(&user) {
                    notices.push(CallNotice::Incoming {
                        call_id: id.clone(),
                        conversation: call.conversation,
                        from: call.starter,
                        media: call.media,
                    });
                }
                notices.push(call.notice(id));
            }
            notices
        };
        for call in notices {
            self.hub
                .send_to_conn(user, conn, &encode(&ServerFrame::Call { call }));
        }
    }

    /// A device's connection closed: if it takes part in a group call, it
    /// leaves after the grace period unless it comes back (media does not run
    /// over the WebSocket, so a quick reconnect keeps it in the call).
    pub async fn group_call_device_disconnected(self: &Arc<Self>, user: UserId, device: &str) {
        let key = Key {
            user,
            device: device.to_owned(),
        };
        let token = rand::random::<u64>();
        let call_id = {
            let mut table = self.group_calls.lock();
            let Some((id, call)) = table
                .calls
                .iter_mut()
                .find(|(_, c)| c.participants.contains(&key))
            else {
                return;
            };
            call.away.insert(key.clone(), token);
            id.clone()
        };
        let grace = Duration::from_millis(self.config.call_grace_ms);
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let Some(svc) = weak.upgrade() else { return };
            let still_away = {
                let table = svc.group_calls.lock();
                table
                    .calls
                    .get(&call_id)
                    .is_some_and(|c| c.away.get(&key) == Some(&token))
            };
            if still_away {
                svc.leave_group_call(&call_id, &key, EndReason::ConnectionLost)
                    .await;
            }
        });
    }

    /// Ends every group call (the relay is shutting down).
    pub async fn end_group_calls(&self) {
        let ids: Vec<String> = self.group_calls.lock().calls.keys().cloned().collect();
        for id in ids {
            let over = self.take_group_call(&id, EndReason::Cancelled);
            self.finish_group_call(over).await;
        }
    }
}

/// The group call `call_id` if `user` is a member of its group; to anyone
/// else it does not exist.
fn visible<'t>(table: &'t Table, call_id: &str, user: UserId) -> Result<&'t GroupCall> {
    table
        .calls
        .get(call_id)
        .filter(|c| c.members.contains(&user))
        .ok_or_else(no_such_call)
}

fn no_such_call() -> Error {
    Error::not_found("no such call")
}

fn not_party() -> Error {
    Error::client(
        ErrorCode::Forbidden,
        "this device is not taking part in the call",
    )
}
