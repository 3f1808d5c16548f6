//! Services hold the rules. Each depends on the [`crate::store::Store`] and
//! [`crate::bus::Bus`] traits only; HTTP handlers and the gateway are thin callers.

pub mod accounts;
pub mod passwords;
pub mod tokens;
pub mod validate;
