//! The relay's end-to-end suite (`tests/relay/`) on the PostgreSQL backend: a
//! real PostgreSQL server started by the tests in a temp dir on a loopback
//! port, a fresh database for every relay. Plus what only this backend has:
//! several relays on one database, and the database going away.

#![allow(clippy::unwrap_used, missing_docs)]

/// The backend this binary runs the suite on.
pub const POSTGRES: bool = true;

#[path = "relay/accounts.rs"]
mod accounts;
#[path = "relay/actions.rs"]
mod actions;
#[path = "relay/calls.rs"]
mod calls;
#[path = "relay/faults.rs"]
mod faults;
#[path = "relay/files.rs"]
mod files;
#[path = "relay/friends.rs"]
mod friends;
#[path = "relay/groups.rs"]
mod groups;
#[path = "relay/messages.rs"]
mod messages;
#[path = "relay/operator.rs"]
mod operator;
#[path = "relay/pg.rs"]
#[allow(dead_code)]
mod pg;
#[path = "relay/postgres.rs"]
mod postgres;
#[allow(dead_code)]
#[path = "relay/support.rs"]
mod support;
