//! End-to-end tests of the relay on the embedded backend: a real relay on
//! 127.0.0.1:0 with a real redb file in a temp dir, driven by real HTTP and
//! WebSocket clients. `tests/relay_pg.rs` runs the same suite on PostgreSQL.

#![allow(clippy::unwrap_used, missing_docs)]

/// The backend this binary runs the suite on.
pub const POSTGRES: bool = false;

mod accounts;
mod actions;
mod calls;
mod embedded;
mod faults;
mod files;
mod friends;
mod groups;
mod messages;
mod operator;
#[allow(dead_code)]
mod pg;
#[allow(dead_code)]
mod support;
