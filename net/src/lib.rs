//! Natter's client networking, without any UI.
//!
//! - [`proto`]: the wire types (the `natter-proto` crate).
//! - [`http`]: the relay's REST API with typed errors ([`Error`]).
//! - [`session`]: the live WebSocket session — heartbeat, reconnect with backoff
//!   and jitter, token refresh, catch-up from the store's cursors, gap filling,
//!   the outbox — as a task with a command [`session::Handle`] and a stream of
//!   [`session::Event`]s.
//! - [`tls`]: extra trusted certificates (`NATTER_CA_FILE`) and refused ones.
//! - [`client`]: the headless client most callers want: sign in, start, send,
//!   read history and search from the local store.
//!
//! ```no_run
//! # async fn demo() -> Result<(), natter_net::Error> {
//! let store = natter_store::Store::open("/tmp/natter-alice").await?;
//! natter_net::client::sign_in("http://127.0.0.1:7878", &store, "alice", "password", None).await?;
//! let (client, mut events) = natter_net::Client::resume(store).await?;
//! while let Some(event) = events.next().await {
//!     if let natter_net::session::Event::Synced = event {
//!         let first = client.conversations().await?.into_iter().next();
//!         if let Some(c) = first {
//!             client.send_text(c.id, "你好").await?;
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod auth;
pub mod client;
pub mod error;
pub mod http;
pub mod session;
pub mod tls;

pub use client::{Client, Events};
pub use error::{Error, Result};
pub use natter_proto as proto;
