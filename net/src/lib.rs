//! Natter's client networking. The wire types live in [`proto`] (the
//! `natter-proto` crate); the HTTP client and the live session come next.

pub use natter_proto as proto;
