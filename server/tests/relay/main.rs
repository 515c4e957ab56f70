//! End-to-end tests of the relay: a real relay on 127.0.0.1:0 with a real redb
//! file in a temp dir, driven by real HTTP and WebSocket clients.

#![allow(clippy::unwrap_used, missing_docs)]

mod accounts;
mod actions;
mod calls;
mod faults;
mod files;
mod friends;
mod groups;
mod messages;
#[allow(dead_code)]
mod support;
