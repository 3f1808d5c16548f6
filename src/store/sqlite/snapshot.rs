//! Snapshots of the SQLite file for `nexus backup`, and the check `nexus restore` makes of
//! one. Not part of the [`crate::store::Store`] trait: PostgreSQL is backed up by its own
//! tools (`pg_dump`).

use std::path::Path;

use super::SqliteStore;
use crate::store::StoreResult;

impl SqliteStore {
    /// Write a consistent copy of the database to `target` (which must not exist) with
    /// `VACUUM INTO`: one read transaction, so it holds exactly what was committed when it
    /// began, while the server goes on writing (WAL: readers never block the writer).
    pub async fn snapshot_into(&self, target: &Path) -> StoreResult<()> {
        sqlx::query("VACUUM INTO $1").bind(target.to_string_lossy().into_owned()).execute(&self.pool).await?;
        Ok(())
    }

    /// `PRAGMA integrity_check`: `"ok"`, or what SQLite found wrong (its first lines).
    pub async fn integrity_check(&self) -> StoreResult<String> {
        let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check(10)").fetch_all(&self.pool).await?;
        Ok(lines.join("; "))
    }
}
