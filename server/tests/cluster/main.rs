//! Cluster mode end to end: three relay nodes as real processes on one real
//! PostgreSQL database and one real nats-server, behind real haproxy, all
//! started by the tests on loopback. Clients connect through haproxy only.
//!
//! - `live`: everything live reaches devices on other nodes: messages, events,
//!   receipts, typing, presence, device replacement, sign-out, files.
//! - `calls`: call signalling wherever the two parties are connected.
//! - `faults`: a node killed mid-stream, the bus down, the database down.

#![allow(clippy::unwrap_used, missing_docs)]

/// The relay support code runs on this backend.
pub const POSTGRES: bool = true;

mod calls;
mod faults;
mod infra;
mod live;
#[path = "../relay/pg.rs"]
#[allow(dead_code)]
mod pg;
#[path = "../relay/support.rs"]
#[allow(dead_code)]
mod support;
