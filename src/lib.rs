//! Nexus: self-hosted real-time chat and calls in one binary.
//!
//! # The map
//!
//! ```text
//!  http (REST, OpenAPI)        gateway (WebSocket)         protocol: the wire types,
//!            \                    /                         imported by every layer
//!   service: accounts, conversations, messages, receipts, presence, calls, rooms,
//!            fanout + dispatch (events to every node's sockets)
//!            /              |               \
//!   store (all SQL)   rtc (TURN relay, SFU)  bus (queue, pub/sub, buffers, locks, rate limits)
//!   sqlite | postgres                       memory | redis
//! ```
//!
//! A message's path: the gateway parses a `message.send` frame ([`protocol::client`]); the
//! message service validates it, checks membership and the rate limit, and enqueues it on
//! the bus queue (durable before the ack); a worker persists batches through the store,
//! assigning `seq`, and only after commit publishes `message.new` through the fan-out
//! ([`service::fanout`]); every node's dispatcher ([`service::dispatch`]) hands it to its
//! local sockets of the members. See `docs/architecture.md`.
//!
//! Which module owns what:
//! - [`config`]: figment configuration (defaults < file < environment), validated once.
//! - [`services`]: builds the store, bus, secrets, TURN relay, SFU and services from a
//!   [`config::Config`], in that order; passed explicitly, there are no globals.
//! - [`app`]: the process: binds, serves HTTP and runs the worker, dispatcher and
//!   scheduled jobs until shutdown, then stops them in order.
//! - [`protocol`]: every JSON shape a client sees (client and server events, views, call
//!   shapes), one definition each.
//! - [`gateway`]: the WebSocket sessions and this node's socket registry.
//! - [`http`]: thin handlers (parse, call a service, map the result), service errors as
//!   problem JSON, the embedded web client.
//! - [`service`]: the rules. Services depend on the [`store::Store`] and [`bus::Bus`]
//!   traits and on the relay and the SFU of [`rtc`]; they know nothing of HTTP.
//! - [`error`]: the service error and its stable codes.
//! - [`store`]: the only module that speaks SQL.
//! - [`bus`]: the only module that speaks Redis; an in-process twin for the embedded mode.
//! - [`rtc`]: real-time media: the embedded TURN relay and the SFU of group calls.
//! - [`media`]: the media seam for image attachments: the image pipeline (sniffing,
//!   bounded decoding, metadata stripping, renditions) and where files are kept (disk or
//!   Cloudinary); the upload and download API ([`http`]) and [`service::media`] use it.
//! - [`jobs`]: scheduled work (partition upkeep, media sweep, message retention, receipts
//!   flush), each with a "run one step" function.
//! - [`ops`]: operator commands on the data itself: `nexus backup` and `nexus restore`
//!   (the archive, its manifest and its checks).
//! - [`telemetry`]: logging set-up.
//! - [`client`]: not part of the server; the black-box REST and WebSocket client that
//!   `nexus-bench` and the test suites share.

/// This build's version: the crate version with the git commit it was built from as build
/// metadata (`0.1.0+3f2c1d0a9b7e`); `+unknown` when built outside a git checkout without
/// `NEXUS_GIT_COMMIT` set (see build.rs). Shown by `nexus --version`, `GET /api/v1/server`
/// and the OpenAPI document.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("NEXUS_GIT_COMMIT"));

pub mod app;
pub mod bus;
pub mod client;
pub mod config;
pub mod error;
pub mod gateway;
pub mod http;
pub mod jobs;
pub mod media;
pub mod ops;
pub mod protocol;
pub mod push;
pub mod rtc;
pub mod service;
pub mod services;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod tls;
