//! Message retention (`messages.retention_days`; 0, the default, keeps everything): the
//! rules above [`RetentionStore`]. One run removes every message older than the cutoff
//! that its backend can remove (rows in bounded batches on SQLite, whole months on
//! PostgreSQL), pausing between batches so the chat's own writes get in, then deletes the
//! files of the images only those messages carried.
//!
//! What stays true at the edge: a conversation whose messages all went still lists (with
//! no last message); unread counts only count what still exists (the store's
//! `expired_seq` floor, used by [`crate::service::conversations`]); `seq` keeps counting
//! from `last_seq`, so nothing is ever renumbered or reused.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};

use crate::{
    error::Result,
    media::MediaStore,
    store::{Expired, Store},
};

/// Messages deleted per SQLite transaction at most.
pub const BATCH: u32 = 1000;
/// Batches (or partitions) per run at most: a bounded loop; the next run goes on.
const MAX_BATCHES: usize = 10_000;
/// Pause between two batches, for the writers waiting behind this one.
const PAUSE: Duration = Duration::from_millis(20);

pub struct Retention {
    store: Arc<dyn Store>,
    files: Arc<dyn MediaStore>,
    days: u32,
    pub stats: RetentionStats,
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct RetentionStats {
    /// Messages removed by retention on this node.
    pub messages_removed: AtomicU64,
    /// Uploads removed with them.
    pub uploads_removed: AtomicU64,
}

impl Retention {
    pub fn new(store: Arc<dyn Store>, files: Arc<dyn MediaStore>, days: u32) -> Self {
        Self { store, files, days, stats: RetentionStats::default() }
    }

    /// The cutoff at `now`: messages created before it are past retention; `None` when
    /// retention is off.
    pub fn cutoff(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (self.days > 0).then(|| now - chrono::Duration::days(i64::from(self.days)))
    }

    /// Remove what is past retention at `now`. `None` when another node holds the work
    /// (PostgreSQL's partition lock); a zero total when retention is off.
    pub async fn run(&self, now: DateTime<Utc>) -> Result<Option<Expired>> {
        let Some(cutoff) = self.cutoff(now) else { return Ok(Some(Expired::default())) };
        let mut total = Expired::default();
        for i in 0..MAX_BATCHES {
            if i > 0 {
                tokio::time::sleep(PAUSE).await;
            }
            let Some(batch) = self.store.expire_messages(cutoff, BATCH).await? else {
                return Ok(if i == 0 { None } else { Some(total) });
            };
            self.stats.messages_removed.fetch_add(batch.messages, Relaxed);
            self.stats.uploads_removed.fetch_add(batch.uploads, Relaxed);
            for key in &batch.orphaned_keys {
                // The rows are gone; a file that stays is only wasted space.
                if let Err(e) = self.files.delete(key).await {
                    tracing::warn!(key, error = %e, "file of an expired upload not deleted");
                }
            }
            total.messages += batch.messages;
            total.uploads += batch.uploads;
            total.orphaned_keys.extend(batch.orphaned_keys);
            total.partitions.extend(batch.partitions);
            total.more = batch.more;
            if !batch.more {
                break;
            }
        }
        if total.messages > 0 || !total.partitions.is_empty() {
            tracing::info!(messages = total.messages, uploads = total.uploads, partitions = ?total.partitions,
                %cutoff, "messages past retention removed");
        }
        Ok(Some(total))
    }
}
