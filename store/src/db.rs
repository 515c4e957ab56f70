//! The transactions behind [`crate::Store`]'s calls.

pub mod messages;
pub mod outbox;
pub mod search;
pub mod social;
