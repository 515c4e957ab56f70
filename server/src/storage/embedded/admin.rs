//! Operator commands on the embedded database: listing accounts, disabling
//! them, ending their sessions.

use natter_proto::model::UserId;
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use super::dec;
use super::tables::{DISABLED, SESSIONS, USERS};
use crate::error::{Error, Result};
use crate::storage::{SessionRecord, UserRecord};

pub(super) fn list_users(
    txn: &ReadTransaction,
    after: UserId,
    limit: usize,
) -> Result<Vec<UserRecord>> {
    let users = txn.open_table(USERS)?;
    let mut out = Vec::new();
    for row in users.range(after.0.saturating_add(1)..)? {
        if out.len() >= limit {
            break;
        }
        let (_, v) = row?;
        out.push(dec(v.value())?);
    }
    Ok(out)
}

pub(super) fn set_disabled(txn: &WriteTransaction, user: UserId, disabled: bool) -> Result<usize> {
    if txn.open_table(USERS)?.get(user.0)?.is_none() {
        return Err(Error::not_found("no such account"));
    }
    let mut t = txn.open_table(DISABLED)?;
    if !disabled {
        t.remove(user.0)?;
        return Ok(0);
    }
    t.insert(user.0, ())?;
    drop(t);
    delete_sessions(txn, user)
}

pub(super) fn is_disabled(txn: &ReadTransaction, user: UserId) -> Result<bool> {
    Ok(txn.open_table(DISABLED)?.get(user.0)?.is_some())
}

/// Sessions are keyed by id alone; an operator command may scan them all.
pub(super) fn delete_sessions(txn: &WriteTransaction, user: UserId) -> Result<usize> {
    let mut sessions = txn.open_table(SESSIONS)?;
    let mut doomed = Vec::new();
    for row in sessions.iter()? {
        let (k, v) = row?;
        let s: SessionRecord = dec(v.value())?;
        if s.user == user {
            doomed.push(k.value());
        }
    }
    for id in &doomed {
        sessions.remove(*id)?;
    }
    Ok(doomed.len())
}
