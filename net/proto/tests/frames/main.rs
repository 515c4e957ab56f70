//! Fixture tests of the wire format.
//!
//! Every client frame, server frame, account event, message body, call request
//! and call notice is parsed from a literal JSON example, compared with the Rust
//! value it must be, and serialised back to the same JSON (compared as
//! `serde_json::Value`, so key order and whitespace do not matter). The examples
//! are the ones in `PROTOCOL.md`: every fixture must appear there, and every JSON
//! block of that document must be a protocol value that round-trips, so the
//! document and the types cannot drift apart. The `decode` tests pin down how
//! `decode_client` classifies frames it cannot read.
//!
//! - `support`: the harness (`check`, the document's examples) and the cast of
//!   the examples, with the JSON of those that several fixtures share.
//! - `client`, `server`: every client frame and call request, every server
//!   frame and call notice.
//! - `bodies`, `events`, `rest`: message bodies, account events, REST bodies.
//! - `doc`: cross-checks of `PROTOCOL.md` itself.
//! - `decode`: how `decode_client` classifies what it cannot read.

#![allow(clippy::unwrap_used)]

mod bodies;
mod client;
mod decode;
mod doc;
mod events;
mod rest;
mod server;
mod support;
