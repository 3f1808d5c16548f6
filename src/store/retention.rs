//! The retention part of the Store seam (`messages.retention_days`): removing messages
//! past their age, with the uploads they carried, and the floor that keeps unread counts
//! true afterwards. A trait of its own, which [`super::Store`] requires, so that each
//! backend keeps it in a file of its own (`sqlite/retention.rs`, `postgres/retention.rs`).
//!
//! The two backends remove differently, as their storage asks:
//! - SQLite deletes rows, at most `limit` per transaction, oldest first, taking its turn
//!   with the message batches for the one writer;
//! - PostgreSQL detaches and drops one whole monthly partition per call, and only one
//!   whose every row is older than the cutoff (its upper bound is at or before it), under
//!   the partition advisory lock. Messages past the cutoff in a month that is not over yet
//!   stay until that month is.
//!
//! Invariants kept here:
//! - `conversations.last_seq` is never lowered: new messages never reuse a `seq`;
//! - `conversations.expired_seq` only rises, to the highest `seq` removed, so every seq in
//!   `(expired_seq, last_seq]` still exists;
//! - the uploads attached to a removed message go in the same transaction; the storage
//!   keys no upload uses any more are returned, for the caller to delete the files
//!   (after the commit: a crash in between leaves stray files, never a dangling row).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreResult;

/// What one [`RetentionStore::expire_messages`] call removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expired {
    /// Messages removed.
    pub messages: u64,
    /// Uploads removed with them.
    pub uploads: u64,
    /// Media storage keys that no upload uses any more: their files can go.
    pub orphaned_keys: Vec<String>,
    /// Partitions dropped (PostgreSQL).
    pub partitions: Vec<String>,
    /// More may be left to remove: call again (after letting other writers in).
    pub more: bool,
}

#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Remove one batch of messages created before `cutoff` (see the module doc for what a
    /// batch is on each backend), with their uploads. `None` when another node holds the
    /// partition lock (PostgreSQL).
    async fn expire_messages(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Option<Expired>>;
    /// The highest `seq` retention removed from each of `conversations` (absent: none).
    async fn expired_seqs(&self, conversations: &[Uuid]) -> StoreResult<Vec<(Uuid, i64)>>;
}
