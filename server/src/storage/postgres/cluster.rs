//! What the nodes of a cluster share while they run: their heartbeats, their
//! open connections and the table of calls (schema 3).

use async_trait::async_trait;
use natter_proto::model::UserId;

use super::{Postgres, Tx, db, un};
use crate::cluster::{CallRow, CallScope, CallsTx, DEAD_AFTER, Shared};
use crate::error::Result;

/// Serialises changes of the call table (an arbitrary key).
const CALLS_LOCK: i64 = 0x6e61_7474_6361;

fn dead_after_secs() -> f64 {
    DEAD_AFTER.as_secs_f64()
}

#[async_trait]
impl Shared for Postgres {
    async fn heartbeat(&self, node: i64, reap: bool) -> Result<(bool, Vec<(UserId, String)>)> {
        let mut tx = self.begin().await?;
        let inserted: bool = sqlx::query_scalar(
            "INSERT INTO nodes (id, seen) VALUES ($1, now())
             ON CONFLICT (id) DO UPDATE SET seen = now()
             RETURNING xmax = 0",
        )
        .bind(node)
        .fetch_one(&mut *tx)
        .await?;
        if !reap {
            tx.commit().await?;
            return Ok((inserted, Vec::new()));
        }
        let dead: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM nodes WHERE seen < now() - make_interval(secs => $1)
             FOR UPDATE SKIP LOCKED",
        )
        .bind(dead_after_secs())
        .fetch_all(&mut *tx)
        .await?;
        let mut lost = Vec::new();
        if !dead.is_empty() {
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "DELETE FROM connections WHERE node = ANY($1) RETURNING user_id, device",
            )
            .bind(&dead)
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM nodes WHERE id = ANY($1)")
                .bind(&dead)
                .execute(&mut *tx)
                .await?;
            lost = rows.into_iter().map(|(u, d)| (UserId(un(u)), d)).collect();
        }
        tx.commit().await?;
        Ok((inserted, lost))
    }

    async fn leave(&self, node: i64) -> Result<()> {
        sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(node)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn set_connections(&self, node: i64, conns: Vec<(u64, UserId, String)>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO nodes (id, seen) VALUES ($1, now())
             ON CONFLICT (id) DO UPDATE SET seen = now()",
        )
        .bind(node)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM connections WHERE node = $1")
            .bind(node)
            .execute(&mut *tx)
            .await?;
        let (ids, users, devices): (Vec<i64>, Vec<i64>, Vec<String>) = conns.into_iter().fold(
            (Vec::new(), Vec::new(), Vec::new()),
            |(mut i, mut u, mut d), (conn, user, device)| {
                i.push(db(conn));
                u.push(db(user.0));
                d.push(device);
                (i, u, d)
            },
        );
        sqlx::query(
            "INSERT INTO connections (node, conn, user_id, device)
             SELECT $1, * FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::TEXT[])",
        )
        .bind(node)
        .bind(ids)
        .bind(users)
        .bind(devices)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn connection_opened(
        &self,
        node: i64,
        conn: u64,
        user: UserId,
        device: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO connections (node, conn, user_id, device) VALUES ($1, $2, $3, $4)
             ON CONFLICT (node, conn) DO NOTHING",
        )
        .bind(node)
        .bind(db(conn))
        .bind(db(user.0))
        .bind(device)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn connection_closed(&self, node: i64, conn: u64) -> Result<()> {
        sqlx::query("DELETE FROM connections WHERE node = $1 AND conn = $2")
            .bind(node)
            .bind(db(conn))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn online(&self, users: &[UserId], except: Option<i64>) -> Result<Vec<UserId>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = users.iter().map(|u| db(u.0)).collect();
        let online: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT c.user_id FROM connections c JOIN nodes n ON n.id = c.node
             WHERE c.user_id = ANY($1) AND c.node IS DISTINCT FROM $2
               AND n.seen >= now() - make_interval(secs => $3)",
        )
        .bind(ids)
        .bind(except)
        .bind(dead_after_secs())
        .fetch_all(self.pool())
        .await?;
        Ok(online.into_iter().map(|u| UserId(un(u))).collect())
    }

    async fn device_online(&self, user: UserId, device: &str, except: Option<i64>) -> Result<bool> {
        let online: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM connections c JOIN nodes n ON n.id = c.node
             WHERE c.user_id = $1 AND c.device = $2 AND c.node IS DISTINCT FROM $3
               AND n.seen >= now() - make_interval(secs => $4))",
        )
        .bind(db(user.0))
        .bind(device)
        .bind(except)
        .bind(dead_after_secs())
        .fetch_one(self.pool())
        .await?;
        Ok(online)
    }

    async fn elsewhere(&self, user: UserId, device: &str, node: i64) -> Result<(bool, bool)> {
        let row: (bool, bool) = sqlx::query_as(
            "SELECT COALESCE(bool_or(true), false), COALESCE(bool_or(c.device = $2), false)
             FROM connections c JOIN nodes n ON n.id = c.node
             WHERE c.user_id = $1 AND c.node <> $3
               AND n.seen >= now() - make_interval(secs => $4)",
        )
        .bind(db(user.0))
        .bind(device)
        .bind(node)
        .bind(dead_after_secs())
        .fetch_one(self.pool())
        .await?;
        Ok(row)
    }

    async fn lock_calls(&self, scope: CallScope<'_>) -> Result<(Vec<CallRow>, Box<dyn CallsTx>)> {
        let mut tx = self.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CALLS_LOCK)
            .execute(&mut *tx)
            .await?;
        type Row = (
            String,
            i64,
            i64,
            Option<i64>,
            sqlx::types::Json<serde_json::Value>,
        );
        let rows: Vec<Row> = match scope {
            CallScope::Of(id, users) => {
                let users: Vec<i64> = users.iter().map(|u| db(u.0)).collect();
                sqlx::query_as(
                    "SELECT id, caller, callee, deadline, state FROM calls
                     WHERE id = $1 OR caller = ANY($2) OR callee = ANY($2)",
                )
                .bind(id)
                .bind(users)
                .fetch_all(&mut *tx)
                .await?
            }
            CallScope::Expired(before) => {
                sqlx::query_as(
                    "SELECT id, caller, callee, deadline, state FROM calls WHERE deadline < $1",
                )
                .bind(before)
                .fetch_all(&mut *tx)
                .await?
            }
        };
        let rows = rows
            .into_iter()
            .map(|(id, caller, callee, deadline, state)| CallRow {
                id,
                caller: UserId(un(caller)),
                callee: UserId(un(callee)),
                deadline,
                state: state.0,
            })
            .collect();
        Ok((rows, Box::new(PgCallsTx { tx })))
    }
}

struct PgCallsTx {
    tx: Tx,
}

#[async_trait]
impl CallsTx for PgCallsTx {
    async fn commit(mut self: Box<Self>, put: Vec<CallRow>, delete: Vec<String>) -> Result<()> {
        if !delete.is_empty() {
            sqlx::query("DELETE FROM calls WHERE id = ANY($1)")
                .bind(delete)
                .execute(&mut *self.tx)
                .await?;
        }
        for row in put {
            sqlx::query(
                "INSERT INTO calls (id, caller, callee, deadline, state)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET caller = EXCLUDED.caller,
                     callee = EXCLUDED.callee, deadline = EXCLUDED.deadline,
                     state = EXCLUDED.state",
            )
            .bind(&row.id)
            .bind(db(row.caller.0))
            .bind(db(row.callee.0))
            .bind(row.deadline)
            .bind(sqlx::types::Json(&row.state))
            .execute(&mut *self.tx)
            .await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}
