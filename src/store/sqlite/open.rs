//! Opening the database file, with every pragma in one place: WAL journal (readers never
//! block the writer), `synchronous = NORMAL` (a committed transaction survives the process
//! being killed), a busy timeout so concurrent writers queue instead of failing, and
//! foreign keys on; and what happens to a connection after a write that failed.

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    Sqlite,
    pool::PoolConnection,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::SqliteStore;
use crate::store::StoreResult;

/// After a write transaction: a connection whose transaction failed is closed rather than
/// given back to the pool. On some errors (a full disk, an I/O error) SQLite rolls the
/// transaction back by itself; sqlx does not see that (its own `ROLLBACK` then fails), keeps
/// the connection "in a transaction", and refuses every later `BEGIN` on it ("non-zero
/// transaction depth"), so the store would stay broken after the disk had room again.
/// Found by `scripts/chaos disk`.
pub(super) fn settle<T>(conn: &mut PoolConnection<Sqlite>, result: &StoreResult<T>) {
    if result.is_err() {
        conn.close_on_drop();
    }
}

impl SqliteStore {
    /// Open (creating if missing) the database file at `path`.
    pub async fn open(path: &Path, max_connections: u32) -> anyhow::Result<Self> {
        use anyhow::Context;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create the data folder {}", dir.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
        // The file holds password hashes: readable by its owner only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(Self { pool, batches: tokio::sync::Mutex::new(()) })
    }
}
