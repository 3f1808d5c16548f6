//! Black-box suites, one test binary. Every behavioural test runs twice: on the embedded
//! scale (SQLite + in-process bus) and on the cluster scale (PostgreSQL + Redis), each test
//! with a fresh database and its own Redis key prefix so tests run in parallel.
//!
//! Environment: `NEXUS_TEST_PG` (default `postgres://postgres@127.0.0.1:5432`) and
//! `NEXUS_TEST_REDIS` (default `redis://127.0.0.1:6379`).

mod common;

mod admin;
mod attachments;
mod auth;
mod backup;
mod bus;
mod calls;
mod changes;
mod cli;
mod durability;
mod fanout;
mod frames;
mod http;
mod media;
mod messaging;
mod presence;
mod push;
mod receipts;
mod retention;
mod rooms;
mod schema;
mod search;
mod security;
mod slow_consumer;
mod store;
mod tls;
mod turn_tcp;
mod upgrade;
