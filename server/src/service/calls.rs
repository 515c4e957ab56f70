//! Calls: the relay keeps the state of every call so that each one ends exactly
//! once, with a record in the conversation.
//!
//! A call is between the caller's device that sent `invite` and, once answered,
//! the callee's device that sent `accept`. Until then every device of the callee
//! rings (devices that connect while it rings are told too). SDP and ICE are
//! forwarded only between the two devices taking part. A party whose connection
//! drops gets a grace period to come back (media flows peer to peer, so a
//! reconnecting WebSocket does not interrupt the call); after it the call ends
//! for the other side with `connection_lost`.
//!
//! On one relay the table is behind a plain mutex that is never held across an
//! await: each action decides under the lock what to send, then sends and
//! records outside it. In a cluster the table is shared through the database
//! ([`crate::cluster::Shared::lock_calls`]): an action locks it, reads the
//! calls it concerns, decides the same way and writes back what changed, so
//! busy detection and the single end of a call hold whichever node each party
//! is connected to. Every call keeps its deadline (ring timeout, grace period)
//! in the table, so a node can end a call whose node died.
//!
//! Timers hold only a weak reference to the service, so a relay shutting down
//! is not kept alive by a ringing call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use natter_proto::ErrorCode;
use natter_proto::call::{CallNotice, CallRequest, EndReason};
use natter_proto::frame::ServerFrame;
use natter_proto::limits::MAX_ID_LEN;
use natter_proto::model::{CallMedia, CallOutcome, ConversationId, MessageBody, UserId};

use super::{Service, encode};
use crate::cluster::{CallRow, CallScope, Shared};
use crate::error::{Error, Result};
use crate::storage::{ConversationKind, NewMessage};
use crate::util::now_ms;

mod ending;

/// Longest call id accepted; the record's idempotency key adds a prefix.
const MAX_CALL_ID: usize = MAX_ID_LEN - RECORD_PREFIX.len();
const RECORD_PREFIX: &str = "call:";

/// How late a call's deadline may be before any node ends it (the node that
/// set the deadline normally ends it on time; this covers a dead node).
const SWEEP_SLACK_MS: i64 = 2_000;

/// Live calls.
#[derive(Default)]
pub struct Calls {
    table: Mutex<Table>,
    shared: Option<Arc<dyn Shared>>,
}

#[derive(Default)]
struct Table {
    calls: HashMap<String, Call>,
    /// Account → the call it takes part in (ringing or answered).
    busy: HashMap<UserId, String>,
}

impl Calls {
    /// A table shared by the nodes of a cluster.
    pub fn shared(shared: Arc<dyn Shared>) -> Calls {
        Calls {
            table: Mutex::default(),
            shared: Some(shared),
        }
    }

    /// Calls in progress (ringing or answered) on a relay that keeps them in
    /// memory; 0 for a shared table.
    pub fn len(&self) -> usize {
        self.lock().calls.len()
    }

    /// Whether no call is in progress (see [`Calls::len`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `user` is in a 1:1 call kept in this relay's memory (always
    /// false in a cluster, where group calls are not offered).
    pub fn busy_here(&self, user: UserId) -> bool {
        self.lock().busy.contains_key(&user)
    }

    /// Whether a 1:1 call with this id is in this relay's memory.
    pub fn contains(&self, call_id: &str) -> bool {
        self.lock().calls.contains_key(call_id)
    }

    /// Runs `f` on the calls in `scope` (on one relay: all of them) and keeps
    /// what it changed.
    async fn with<R>(&self, scope: CallScope<'_>, f: impl FnOnce(&mut Table) -> R) -> Result<R> {
        let Some(shared) = &self.shared else {
            return Ok(f(&mut self.lock()));
        };
        let (rows, tx) = shared.lock_calls(scope).await?;
        let mut table = Table::default();
        let mut before = HashMap::new();
        for row in rows {
            match serde_json::from_value::<Call>(row.state.clone()) {
                Ok(call) => {
                    table.busy.insert(call.caller, row.id.clone());
                    table.busy.insert(call.callee, row.id.clone());
                    table.calls.insert(row.id.clone(), call);
                    before.insert(row.id, row.state);
                }
                Err(e) => tracing::warn!(error = %e, "unreadable call in the shared table"),
            }
        }
        let out = f(&mut table);
        let delete: Vec<String> = before
            .keys()
            .filter(|id| !table.calls.contains_key(*id))
            .cloned()
            .collect();
        let mut put = Vec::new();
        for (id, call) in &table.calls {
            let state = serde_json::to_value(call)?;
            if before.get(id) != Some(&state) {
                put.push(CallRow {
                    id: id.clone(),
                    caller: call.caller,
                    callee: call.callee,
                    deadline: call.deadline(),
                    state,
                });
            }
        }
        tx.commit(put, delete).await?;
        Ok(out)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Call {
    /// Distinguishes a call from a later one reusing its id, for timers.
    nonce: u64,
    conversation: ConversationId,
    media: CallMedia,
    caller: UserId,
    caller_device: String,
    callee: UserId,
    /// When it stops ringing unanswered (ms since the epoch).
    ring_deadline: i64,
    /// The answering device and when it answered (ms since the epoch).
    answered: Option<(String, i64)>,
    /// Per side (caller, callee): a token set while that party's device is
    /// disconnected; the grace timer ends the call only if it is still set.
    away: [Option<u64>; 2],
    /// Per side: when its grace period ends (ms since the epoch).
    away_deadline: [Option<i64>; 2],
}

impl Call {
    /// The earliest time something must happen to this call.
    fn deadline(&self) -> Option<i64> {
        let ring = self.answered.is_none().then_some(self.ring_deadline);
        [ring, self.away_deadline[0], self.away_deadline[1]]
            .into_iter()
            .flatten()
            .min()
    }

    /// Which side `user` on `device` is: 0 caller, 1 the answering callee device.
    fn side_of(&self, user: UserId, device: &str) -> Option<usize> {
        if user == self.caller && *self.caller_device == *device {
            Some(0)
        } else if user == self.callee && self.answered.as_ref().is_some_and(|(d, _)| **d == *device)
        {
            Some(1)
        } else {
            None
        }
    }

    fn peer_of(&self, side: usize) -> (UserId, &str) {
        match (side, &self.answered) {
            (0, Some((device, _))) => (self.callee, device),
            _ => (self.caller, &self.caller_device),
        }
    }
}

/// A finished call, taken out of the table, to be announced and recorded.
struct Ended {
    id: String,
    call: Call,
    reason: EndReason,
    duration_ms: u64,
}

/// Who sent a call frame.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The account.
    pub user: UserId,
    /// Its device.
    pub device: &'a str,
    /// The connection the frame came on.
    pub conn: u64,
}

impl Service {
    /// Handles one `call` frame from `from`.
    pub async fn call(self: &Arc<Self>, from: Origin<'_>, request: CallRequest) -> Result<()> {
        if self.group_calls.contains(request.call_id()) {
            return self.group_call_action(from, request).await;
        }
        match request {
            CallRequest::Invite {
                call_id,
                conversation,
                media,
            } => self.start_call(from, call_id, conversation, media).await,
            CallRequest::Ringing { call_id } => {
                let caller = self
                    .calls
                    .with(CallScope::Of(Some(&call_id), &[]), |table| {
                        ringing_call_of_callee(table, &call_id, from.user)
                            .map(|call| (call.caller, call.caller_device.clone()))
                    })
                    .await??;
                self.notify_device(caller.0, &caller.1, CallNotice::Ringing { call_id });
                Ok(())
            }
            CallRequest::Accept { call_id } => self.answer_call(from, call_id).await,
            CallRequest::Reject { call_id }
            | CallRequest::Cancel { call_id }
            | CallRequest::Hangup { call_id } => self.end_call_by(from, call_id).await,
            CallRequest::Sdp {
                call_id,
                sdp_type,
                sdp,
            } => {
                self.forward_to_peer(
                    from,
                    &call_id,
                    CallNotice::Sdp {
                        call_id: call_id.clone(),
                        sdp_type,
                        sdp,
                    },
                )
                .await
            }
            CallRequest::Ice { call_id, candidate } => {
                self.forward_to_peer(
                    from,
                    &call_id,
                    CallNotice::Ice {
                        call_id: call_id.clone(),
                        candidate,
                    },
                )
                .await
            }
            CallRequest::MediaState { call_id, .. } => {
                self.calls
                    .with(CallScope::Of(Some(&call_id), &[]), |table| {
                        visible_call(table, &call_id, from.user).map(|_| ())
                    })
                    .await??;
                Err(Error::client(
                    ErrorCode::Unsupported,
                    "media_state is for group calls; this is a 1:1 call",
                ))
            }
        }
    }

    async fn start_call(
        self: &Arc<Self>,
        from: Origin<'_>,
        call_id: String,
        conversation: ConversationId,
        media: CallMedia,
    ) -> Result<()> {
        valid_call_id(&call_id)?;
        let record = self
            .storage
            .conversation(conversation)
            .await?
            .ok_or_else(|| Error::client(ErrorCode::NotMember, "not in this conversation"))?;
        let callee = match record.kind {
            ConversationKind::Direct { a, b, open } if a == from.user || b == from.user => {
                if !open {
                    return Err(Error::client(
                        ErrorCode::NotFriends,
                        "calls need the two to be friends",
                    ));
                }
                if a == from.user { b } else { a }
            }
            ConversationKind::Direct { .. } => {
                return Err(Error::client(
                    ErrorCode::NotMember,
                    "not in this conversation",
                ));
            }
            ConversationKind::Group { .. } => {
                return self
                    .start_group_call(from, call_id, conversation, media)
                    .await;
            }
        };
        if self.group_calls.is_busy(from.user) {
            return Err(Error::client(
                ErrorCode::InvalidState,
                "already in a call; hang up first",
            ));
        }
        if self.group_calls.contains(&call_id) {
            return Err(Error::client(
                ErrorCode::InvalidState,
                "a call with this id is in progress",
            ));
        }
        let callee_in_group_call = self.group_calls.is_busy(callee);
        let ring_ms = self.config.call_ring_timeout_ms;
        let busy = self
            .calls
            .with(
                CallScope::Of(Some(&call_id), &[from.user, callee]),
                |table| {
                    if table.calls.contains_key(&call_id) {
                        return Err(Error::client(
                            ErrorCode::InvalidState,
                            "a call with this id is in progress",
                        ));
                    }
                    if table.busy.contains_key(&from.user) {
                        return Err(Error::client(
                            ErrorCode::InvalidState,
                            "already in a call; hang up first",
                        ));
                    }
                    let call = Call {
                        nonce: rand::random(),
                        conversation,
                        media,
                        caller: from.user,
                        caller_device: from.device.into(),
                        callee,
                        ring_deadline: now_ms() + ring_ms as i64,
                        answered: None,
                        away: [None, None],
                        away_deadline: [None, None],
                    };
                    if table.busy.contains_key(&callee) || callee_in_group_call {
                        // Answered for the callee: they are in another call.
                        Ok(Err(call))
                    } else {
                        let nonce = call.nonce;
                        table.busy.insert(from.user, call_id.clone());
                        table.busy.insert(callee, call_id.clone());
                        table.calls.insert(call_id.clone(), call);
                        Ok(Ok(nonce))
                    }
                },
            )
            .await??;
        let nonce = match busy {
            Ok(nonce) => nonce,
            Err(call) => {
                let ended = Ended {
                    id: call_id,
                    call,
                    reason: EndReason::Busy,
                    duration_ms: 0,
                };
                self.finish_call(ended).await;
                return Ok(());
            }
        };
        tracing::info!(caller = from.user.0, callee = callee.0, "call ringing");
        self.push(
            &[callee],
            &ServerFrame::Call {
                call: CallNotice::Incoming {
                    call_id: call_id.clone(),
                    conversation,
                    from: from.user,
                    media,
                },
            },
            None,
        );
        let ring = Duration::from_millis(ring_ms);
        self.call_timer(ring, move |svc| async move {
            let ended = svc
                .calls
                .with(CallScope::Of(Some(&call_id), &[]), |table| {
                    match table.calls.get(&call_id) {
                        Some(c) if c.nonce == nonce && c.answered.is_none() => {
                            take(table, &call_id, EndReason::Missed)
                        }
                        _ => None,
                    }
                })
                .await;
            svc.finish_if_ended(ended).await;
        });
        Ok(())
    }

    async fn answer_call(&self, from: Origin<'_>, call_id: String) -> Result<()> {
        let caller = self
            .calls
            .with(CallScope::Of(Some(&call_id), &[]), |table| {
                let call = ringing_call_of_callee(table, &call_id, from.user)?;
                let caller = (call.caller, call.caller_device.clone());
                if let Some(call) = table.calls.get_mut(&call_id) {
                    call.answered = Some((from.device.into(), now_ms()));
                }
                Ok::<_, Error>(caller)
            })
            .await??;
        tracing::info!(caller = caller.0.0, callee = from.user.0, "call answered");
        let accepted = CallNotice::Accepted {
            call_id: call_id.clone(),
        };
        self.notify_device(caller.0, &caller.1, accepted.clone());
        // The answering connection hears `accepted`; the callee's other devices
        // stop ringing.
        let frame = |call| encode(&ServerFrame::Call { call });
        self.hub
            .send_to_conn(from.user, from.conn, &frame(accepted));
        self.push(
            &[from.user],
            &ServerFrame::Call {
                call: CallNotice::Ended {
                    call_id,
                    reason: EndReason::AnsweredElsewhere,
                    duration_ms: 0,
                },
            },
            Some(from.conn),
        );
        Ok(())
    }

    /// `reject`, `cancel` and `hangup`: whichever fits the call's state and the
    /// sender's side ends it.
    async fn end_call_by(&self, from: Origin<'_>, call_id: String) -> Result<()> {
        let ended = self
            .calls
            .with(CallScope::Of(Some(&call_id), &[]), |table| {
                let call = visible_call(table, &call_id, from.user)?;
                let reason = match &call.answered {
                    Some(_) if call.side_of(from.user, from.device).is_some() => {
                        EndReason::Completed
                    }
                    Some(_) => return Err(not_party()),
                    None if from.user == call.caller && *call.caller_device == *from.device => {
                        EndReason::Cancelled
                    }
                    None if from.user == call.callee => EndReason::Rejected,
                    None => return Err(not_party()),
                };
                Ok(take(table, &call_id, reason))
            })
            .await??;
        if let Some(ended) = ended {
            self.finish_call(ended).await;
        }
        Ok(())
    }

    async fn forward_to_peer(
        &self,
        from: Origin<'_>,
        call_id: &str,
        notice: CallNotice,
    ) -> Result<()> {
        let (user, device) = self
            .calls
            .with(CallScope::Of(Some(call_id), &[]), |table| {
                let call = visible_call(table, call_id, from.user)?;
                let side = call.side_of(from.user, from.device).ok_or_else(not_party)?;
                if call.answered.is_none() {
                    return Err(Error::client(
                        ErrorCode::InvalidState,
                        "the call has not been answered",
                    ));
                }
                let (user, device) = call.peer_of(side);
                Ok((user, device.to_string()))
            })
            .await??;
        self.notify_device(user, &device, notice);
        Ok(())
    }

    fn notify_device(&self, user: UserId, device: &str, call: CallNotice) {
        self.push_to_device(user, device, &ServerFrame::Call { call });
    }

    /// Runs `f` after `delay` if the service still exists.
    fn call_timer<F, Fut>(self: &Arc<Self>, delay: Duration, f: F)
    where
        F: FnOnce(Arc<Service>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let weak: Weak<Service> = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(svc) = weak.upgrade() {
                f(svc).await;
            }
        });
    }
}

/// The ringing call `call_id` in which `user` is the callee.
fn ringing_call_of_callee<'t>(table: &'t Table, call_id: &str, user: UserId) -> Result<&'t Call> {
    let call = table.calls.get(call_id).ok_or_else(no_such_call)?;
    if call.caller == user {
        return Err(not_party());
    }
    if call.callee != user {
        return Err(no_such_call());
    }
    if call.answered.is_some() {
        return Err(Error::client(
            ErrorCode::InvalidState,
            "the call was already answered",
        ));
    }
    Ok(call)
}

/// Call `call_id` if `user` is one of its two accounts; to anyone else it does
/// not exist.
fn visible_call<'t>(table: &'t Table, call_id: &str, user: UserId) -> Result<&'t Call> {
    table
        .calls
        .get(call_id)
        .filter(|c| c.caller == user || c.callee == user)
        .ok_or_else(no_such_call)
}

/// Takes a call out of the table.
fn take(table: &mut Table, call_id: &str, reason: EndReason) -> Option<Ended> {
    let call = table.calls.remove(call_id)?;
    table.busy.remove(&call.caller);
    table.busy.remove(&call.callee);
    let duration_ms = call
        .answered
        .as_ref()
        .map(|(_, at)| (now_ms() - at).max(0) as u64)
        .unwrap_or(0);
    Some(Ended {
        id: call_id.to_string(),
        call,
        reason,
        duration_ms,
    })
}

/// Refuses a call id that is not 1–[`MAX_CALL_ID`] letters, digits, `-` or `_`.
pub(super) fn valid_call_id(call_id: &str) -> Result<()> {
    if call_id.is_empty()
        || call_id.len() > MAX_CALL_ID
        || !call_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::bad_request(format!(
            "call_id must be 1–{MAX_CALL_ID} letters, digits, '-' or '_'"
        )));
    }
    Ok(())
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
