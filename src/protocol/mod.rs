//! The wire: every JSON shape a client sees, in one place that the services and both
//! Faces (the REST API and the WebSocket gateway) import.
//!
//! - [`client`]: client → server events ([`ClientEvent`]) and the frame parser with the
//!   error codes `docs/protocol.md` promises;
//! - [`server`]: server → client events ([`ServerEvent`]);
//! - [`views`]: users, conversations, messages, receipts, presence — shared by REST and
//!   WebSocket — and the REST API's ICE server list;
//! - [`calls`]: what `call.*` events carry;
//! - [`rooms`]: what `room.*` (group call) events carry;
//! - [`push`]: the Web Push payload and the notification settings.
//!
//! Nothing here does work: the services decide what to send, the gateway writes it.

pub mod calls;
pub mod client;
pub mod push;
pub mod rooms;
pub mod server;
pub mod views;

pub use client::{ClientEvent, FrameError, parse};
pub use server::ServerEvent;
