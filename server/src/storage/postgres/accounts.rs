//! Accounts, their unique keys, sessions and the shared signing key.

use std::collections::HashMap;

use natter_proto::ErrorCode;
use natter_proto::event::EventBody;
use natter_proto::model::UserId;
use sqlx::PgPool;
use sqlx::types::Json;

use super::{Tx, append_events, db};
use crate::error::{Error, Result};
use crate::storage::{Appends, Lookup, SessionRecord, UserRecord, lookup_key, user_keys};

/// The key every node signs tokens with: the first node to start makes it,
/// the others read it.
pub async fn signing_key(pool: &PgPool) -> Result<Vec<u8>> {
    let fresh: [u8; 32] = rand::random();
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('signing_key', $1) ON CONFLICT (key) DO NOTHING",
    )
    .bind(&fresh[..])
    .execute(pool)
    .await?;
    let key: Vec<u8> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'signing_key'")
        .fetch_one(pool)
        .await?;
    Ok(key)
}

fn taken(what: &str) -> Error {
    Error::client(
        ErrorCode::AccountTaken,
        format!("{what} already registered"),
    )
}

/// Claims `key` for `user` in `tx`; `false` if another account has it.
async fn claim(tx: &mut Tx, key: &str, user: UserId) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO user_keys (key, user_id) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(db(user.0))
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn create_user(mut tx: Tx, user: UserRecord) -> Result<()> {
    sqlx::query("INSERT INTO users (id, data) VALUES ($1, $2)")
        .bind(db(user.id.0))
        .bind(Json(&user))
        .execute(&mut *tx)
        .await?;
    for key in user_keys(&user) {
        // Two nodes registering one name at once: the second insert waits for
        // the first transaction and then finds the key taken.
        if !claim(&mut tx, &key, user.id).await? {
            return Err(taken("account name, e-mail or phone"));
        }
    }
    tx.commit().await?;
    Ok(())
}

pub async fn user(pool: &PgPool, id: UserId) -> Result<Option<UserRecord>> {
    let row: Option<Json<UserRecord>> = sqlx::query_scalar("SELECT data FROM users WHERE id = $1")
        .bind(db(id.0))
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|j| j.0))
}

pub async fn users(pool: &PgPool, ids: Vec<UserId>) -> Result<Vec<UserRecord>> {
    let wanted: Vec<i64> = ids.iter().map(|u| db(u.0)).collect();
    let rows: Vec<Json<UserRecord>> =
        sqlx::query_scalar("SELECT data FROM users WHERE id = ANY($1)")
            .bind(wanted)
            .fetch_all(pool)
            .await?;
    let mut by_id: HashMap<UserId, UserRecord> = rows.into_iter().map(|j| (j.0.id, j.0)).collect();
    // In the order asked, like the embedded backend.
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

pub async fn lookup(pool: &PgPool, key: Lookup) -> Result<Option<UserRecord>> {
    let row: Option<Json<UserRecord>> = sqlx::query_scalar(
        "SELECT u.data FROM user_keys k JOIN users u ON u.id = k.user_id WHERE k.key = $1",
    )
    .bind(lookup_key(&key))
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|j| j.0))
}

pub async fn update_user(
    mut tx: Tx,
    user: UserRecord,
    events: Vec<(UserId, EventBody)>,
) -> Result<Appends> {
    let old: Option<Json<UserRecord>> =
        sqlx::query_scalar("SELECT data FROM users WHERE id = $1 FOR UPDATE")
            .bind(db(user.id.0))
            .fetch_optional(&mut *tx)
            .await?;
    let Some(Json(old)) = old else {
        return Err(Error::not_found("no such account"));
    };
    let (old_keys, new_keys) = (user_keys(&old), user_keys(&user));
    for k in old_keys.iter().filter(|k| !new_keys.contains(k)) {
        sqlx::query("DELETE FROM user_keys WHERE key = $1 AND user_id = $2")
            .bind(k)
            .bind(db(user.id.0))
            .execute(&mut *tx)
            .await?;
    }
    for k in new_keys.iter().filter(|k| !old_keys.contains(k)) {
        if !claim(&mut tx, k, user.id).await? {
            return Err(taken("e-mail or phone"));
        }
    }
    sqlx::query("UPDATE users SET data = $2 WHERE id = $1")
        .bind(db(user.id.0))
        .bind(Json(&user))
        .execute(&mut *tx)
        .await?;
    let appends = append_events(&mut tx, events).await?;
    tx.commit().await?;
    Ok(appends)
}

pub async fn put_session(pool: &PgPool, session: SessionRecord) -> Result<()> {
    // A plain insert: an id made twice is an error, never an overwrite.
    sqlx::query("INSERT INTO sessions (id, user_id, refresh_hash, data) VALUES ($1, $2, $3, $4)")
        .bind(db(session.id))
        .bind(db(session.user.0))
        .bind(&session.refresh_hash)
        .bind(Json(&session))
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn session(pool: &PgPool, id: u64) -> Result<Option<SessionRecord>> {
    let row: Option<Json<SessionRecord>> =
        sqlx::query_scalar("SELECT data FROM sessions WHERE id = $1")
            .bind(db(id))
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|j| j.0))
}

pub async fn delete_session(pool: &PgPool, id: u64) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(db(id))
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn rotate_session(
    pool: &PgPool,
    session: SessionRecord,
    expected_hash: String,
) -> Result<bool> {
    // One statement: of two nodes rotating the same token at once, exactly one
    // finds the old hash.
    let r = sqlx::query(
        "UPDATE sessions SET refresh_hash = $3, data = $4 WHERE id = $1 AND refresh_hash = $2",
    )
    .bind(db(session.id))
    .bind(&expected_hash)
    .bind(&session.refresh_hash)
    .bind(Json(&session))
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Accounts with ids above `after`, in id order, at most `limit`.
pub async fn list_users(pool: &PgPool, after: UserId, limit: usize) -> Result<Vec<UserRecord>> {
    let rows: Vec<Json<UserRecord>> =
        sqlx::query_scalar("SELECT data FROM users WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(db(after.0))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|j| j.0).collect())
}

/// Disables (ending its sessions in the same transaction) or enables an
/// account; returns how many sessions ended.
pub async fn set_disabled(mut tx: Tx, user: UserId, disabled: bool) -> Result<usize> {
    let known: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
        .bind(db(user.0))
        .fetch_optional(&mut *tx)
        .await?;
    if known.is_none() {
        return Err(Error::not_found("no such account"));
    }
    let ended = if disabled {
        sqlx::query("INSERT INTO disabled_users (user_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(db(user.0))
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(db(user.0))
            .execute(&mut *tx)
            .await?
            .rows_affected()
    } else {
        sqlx::query("DELETE FROM disabled_users WHERE user_id = $1")
            .bind(db(user.0))
            .execute(&mut *tx)
            .await?;
        0
    };
    tx.commit().await?;
    Ok(usize::try_from(ended).unwrap_or(usize::MAX))
}

/// Whether an operator disabled the account.
pub async fn is_disabled(pool: &PgPool, user: UserId) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM disabled_users WHERE user_id = $1)")
            .bind(db(user.0))
            .fetch_one(pool)
            .await?,
    )
}

/// Ends every session of an account; returns how many there were.
pub async fn delete_sessions_of(pool: &PgPool, user: UserId) -> Result<usize> {
    let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(db(user.0))
        .execute(pool)
        .await?
        .rows_affected();
    Ok(usize::try_from(ended).unwrap_or(usize::MAX))
}

pub async fn add_file_bytes(pool: &PgPool, user: UserId, bytes: u64, quota: u64) -> Result<bool> {
    if quota > 0 && bytes > quota {
        return Ok(false);
    }
    // One statement: two uploads finishing at once on two nodes cannot both
    // pass the check.
    let r = sqlx::query(
        "INSERT INTO file_bytes (user_id, bytes) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET bytes = file_bytes.bytes + EXCLUDED.bytes
         WHERE $3 = 0 OR file_bytes.bytes + EXCLUDED.bytes <= $3",
    )
    .bind(db(user.0))
    .bind(db(bytes))
    .bind(db(quota))
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}
