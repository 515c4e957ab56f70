//! The headless client against a real relay in-process, real redb stores in
//! temp dirs, real sockets, and real faults.

#![allow(clippy::unwrap_used, missing_docs)]

mod calls;
mod faults;
mod files;
mod network;
mod support;
mod tls;
