//! Services hold the rules. Each depends on the [`crate::store::Store`] and
//! [`crate::bus::Bus`] traits only; HTTP handlers and the gateway are thin callers.

pub mod accounts;
pub mod admin;
pub mod cache;
pub mod calls;
pub mod changes;
pub mod conversations;
pub mod dispatch;
pub mod fanout;
pub mod health;
pub mod limits;
pub mod locks;
pub mod media;
pub mod messages;
pub mod passwords;
pub mod presence;
pub mod push;
pub mod receipts;
pub mod retention;
pub mod rooms;
pub mod search;
pub mod tokens;
pub mod validate;
pub mod views;
