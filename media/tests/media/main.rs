//! The media crate's integration tests, one binary: codec round trips, device
//! errors, and real two-peer calls over loopback with synthetic sources.

#![allow(clippy::unwrap_used, missing_docs)]

mod calls;
mod codec;
mod common;
mod devices;
mod group;
mod network;
mod relay;
mod screen;
