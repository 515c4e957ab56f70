//! How 1:1 calls end without a hang-up: a device that connects again
//! within the grace period, one that does not, a call that rings out; and
//! the record each call leaves in the conversation.

use super::*;

impl Service {
    /// A device connected: it rings for calls waiting for its account, and a
    /// party coming back within the grace period keeps its call.
    pub async fn call_device_connected(&self, user: UserId, device: &str, conn: u64) {
        let incoming = self
            .calls
            .with(CallScope::Of(None, &[user]), |table| {
                let mut incoming = Vec::new();
                let Some(id) = table.busy.get(&user).cloned() else {
                    return incoming;
                };
                if let Some(call) = table.calls.get_mut(&id) {
                    if let Some(side) = call.side_of(user, device) {
                        call.away[side] = None;
                        call.away_deadline[side] = None;
                    } else if call.callee == user && call.answered.is_none() {
                        incoming.push(CallNotice::Incoming {
                            call_id: id.clone(),
                            conversation: call.conversation,
                            from: call.caller,
                            media: call.media,
                        });
                    }
                }
                incoming
            })
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "calls of a connecting device unknown");
                Vec::new()
            });
        for call in incoming {
            self.hub
                .send_to_conn(user, conn, &encode(&ServerFrame::Call { call }));
        }
    }

    /// A device's connection closed: if it was taking part in a call, the call
    /// ends after the grace period unless the device comes back.
    pub async fn call_device_disconnected(self: &Arc<Self>, user: UserId, device: &str) {
        let grace_ms = self.config.call_grace_ms;
        let armed = self
            .calls
            .with(CallScope::Of(None, &[user]), |table| {
                let id = table.busy.get(&user).cloned()?;
                let token = rand::random();
                let call = table.calls.get_mut(&id)?;
                let side = call.side_of(user, device)?;
                call.away[side] = Some(token);
                call.away_deadline[side] = Some(now_ms() + grace_ms as i64);
                Some((id, side, token))
            })
            .await;
        let (call_id, side, token) = match armed {
            Ok(Some(armed)) => armed,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "grace period of a call not started");
                return;
            }
        };
        let grace = Duration::from_millis(grace_ms);
        self.call_timer(grace, move |svc| async move {
            let ended = svc
                .calls
                .with(CallScope::Of(Some(&call_id), &[]), |table| {
                    match table.calls.get(&call_id) {
                        Some(c) if c.away[side] == Some(token) => {
                            take(table, &call_id, EndReason::ConnectionLost)
                        }
                        _ => None,
                    }
                })
                .await;
            svc.finish_if_ended(ended).await;
        });
    }

    /// In a cluster: ends the calls whose ring or grace period ran out more
    /// than a moment ago, which the node that started the timer (now dead)
    /// did not end.
    pub async fn end_expired_calls(&self) {
        let now = now_ms();
        let ended = self
            .calls
            .with(CallScope::Expired(now - SWEEP_SLACK_MS), |table| {
                let due: Vec<(String, EndReason)> = table
                    .calls
                    .iter()
                    .filter_map(|(id, c)| {
                        let away = c.away_deadline.iter().flatten().any(|d| *d < now);
                        if c.answered.is_none() && c.ring_deadline < now {
                            Some((id.clone(), EndReason::Missed))
                        } else if away {
                            Some((id.clone(), EndReason::ConnectionLost))
                        } else {
                            None
                        }
                    })
                    .collect();
                due.into_iter()
                    .filter_map(|(id, reason)| take(table, &id, reason))
                    .collect::<Vec<_>>()
            })
            .await;
        match ended {
            Ok(ended) => {
                for ended in ended {
                    self.finish_call(ended).await;
                }
            }
            Err(e) => tracing::debug!(error = %e, "expired calls not checked"),
        }
    }

    pub(super) async fn finish_if_ended(&self, ended: Result<Option<Ended>>) {
        match ended {
            Ok(Some(ended)) => self.finish_call(ended).await,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "call timer could not end its call"),
        }
    }

    /// Tells the devices taking part that the call is over and writes its record.
    pub(super) async fn finish_call(&self, ended: Ended) {
        let Ended {
            id,
            call,
            reason,
            duration_ms,
        } = ended;
        tracing::info!(
            caller = call.caller.0,
            callee = call.callee.0,
            ?reason,
            duration_ms,
            "call ended"
        );
        let notice = CallNotice::Ended {
            call_id: id.clone(),
            reason,
            duration_ms,
        };
        self.notify_device(call.caller, &call.caller_device, notice.clone());
        match &call.answered {
            Some((device, _)) => self.notify_device(call.callee, device, notice),
            // Busy: the callee never rang.
            None if reason != EndReason::Busy => {
                self.push(&[call.callee], &ServerFrame::Call { call: notice }, None);
            }
            None => {}
        }
        let outcome = match reason {
            EndReason::Rejected => CallOutcome::Rejected,
            EndReason::Cancelled => CallOutcome::Cancelled,
            EndReason::Busy => CallOutcome::Busy,
            EndReason::Completed | EndReason::AnsweredElsewhere => CallOutcome::Completed,
            EndReason::ConnectionLost if call.answered.is_some() => CallOutcome::Completed,
            EndReason::ConnectionLost | EndReason::Missed => CallOutcome::Missed,
        };
        self.write_call_record(
            call.conversation,
            call.caller,
            MessageBody::Call {
                call_id: id,
                media: call.media,
                outcome,
                duration_ms,
                participants: Vec::new(),
            },
        )
        .await;
    }

    /// Writes a call's record into its conversation, sent by `sender` (who
    /// started the call), and pushes it to the members. Written once per
    /// call: the record's key is the call id.
    pub(in crate::service) async fn write_call_record(
        &self,
        conversation: ConversationId,
        sender: UserId,
        body: MessageBody,
    ) {
        let MessageBody::Call { call_id, .. } = &body else {
            return;
        };
        let appended = self
            .storage
            .append(NewMessage {
                conversation,
                sender,
                client_id: format!("{RECORD_PREFIX}{call_id}"),
                body,
                reply_to: None,
                ts: now_ms(),
                recall_window_ms: 0,
                edit_window_ms: 0,
                extras: Default::default(),
            })
            .await;
        match appended {
            Ok(appended) if !appended.duplicate => {
                let frame = ServerFrame::Message {
                    message: appended.message,
                };
                self.push(&appended.members, &frame, None);
            }
            Ok(_) => {}
            // The caller left the conversation mid-call (no longer friends,
            // out of the group), or storage failed: the parties were told;
            // only the record is missing.
            Err(e) => tracing::warn!(error = %e, "call record not written"),
        }
    }
}
