//! Nexus: self-hosted real-time chat in one binary.
//!
//! # The map
//!
//! ```text
//!  http (REST, OpenAPI)        gateway (WebSocket)
//!            \                    /
//!   service: accounts, conversations, messages, receipts, presence
//!            /                    \
//!   store (all SQL)              bus (queue, pub/sub, buffers, locks, rate limits)
//!   sqlite | postgres            memory | redis
//! ```
//!
//! A message's path: the gateway validates a `message.send`, the message service enqueues
//! it on the bus queue (durable before the ack), a worker persists batches through the
//! store assigning `seq`, and only after commit publishes `message.new` on the bus, which
//! every node delivers to its local sockets. See `docs/architecture.md`.
//!
//! Which module owns what:
//! - [`config`]: figment configuration (defaults < file < environment), validated once.
//! - [`app`]: builds the store, bus and services from a [`config::Config`], runs the HTTP
//!   server and scheduled jobs until shutdown.
//! - [`gateway`]: the WebSocket sessions, this node's socket registry, and the dispatcher
//!   that delivers fan-out batches from the bus to local sockets.
//! - [`http`]: thin handlers (parse, call a service, map the result), problem JSON,
//!   the embedded web client.
//! - [`service`]: the rules. Services depend on the [`store::Store`] and [`bus::Bus`] traits.
//! - [`store`]: the only module that speaks SQL.
//! - [`bus`]: the only module that speaks Redis; an in-process twin for the embedded mode.
//! - [`jobs`]: scheduled work (partition upkeep, receipts flush), each with a "run one
//!   step" function.
//! - [`client`]: not part of the server; the black-box REST and WebSocket client that
//!   `nexus-bench` and the test suites share.

pub mod app;
pub mod bus;
pub mod client;
pub mod config;
pub mod error;
pub mod gateway;
pub mod http;
pub mod jobs;
pub mod rtc;
pub mod service;
pub mod store;
pub mod telemetry;
