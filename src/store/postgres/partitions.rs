//! Monthly partitions of `messages`: one table per month, `messages_y2026m11` for
//! November 2026, bounded `[first day of the month, first day of the next)` in UTC. The
//! callers hold the partition advisory lock, so two nodes never create the same month.

use chrono::{DateTime, Datelike, Utc};
use sqlx::{Postgres, Transaction};

use crate::store::month_start;

/// `messages_y2026m11` for November 2026.
pub fn partition_name(month: DateTime<Utc>) -> String {
    format!("messages_y{:04}m{:02}", month.year(), month.month())
}

/// Create the missing partitions from the month of `now` to `months_ahead` months after it,
/// inside `tx` (which holds the partition lock). Returns the names created.
pub(super) async fn create_missing(
    tx: &mut Transaction<'_, Postgres>,
    now: DateTime<Utc>,
    months_ahead: u32,
) -> sqlx::Result<Vec<String>> {
    let mut created = Vec::new();
    for offset in 0..=months_ahead {
        let from = month_start(now, offset);
        let to = month_start(now, offset + 1);
        let name = partition_name(from);
        let exists: Option<String> =
            sqlx::query_scalar("SELECT to_regclass($1)::text").bind(&name).fetch_one(&mut **tx).await?;
        if exists.is_some() {
            continue;
        }
        // Identifiers and bounds come from dates we formatted, never from input.
        let ddl = format!(
            "CREATE TABLE {name} PARTITION OF messages FOR VALUES FROM ('{}') TO ('{}')",
            from.format("%Y-%m-%d %H:%M:%S+00"),
            to.format("%Y-%m-%d %H:%M:%S+00"),
        );
        sqlx::query(sqlx::AssertSqlSafe(ddl)).execute(&mut **tx).await?;
        created.push(name);
    }
    Ok(created)
}

/// The month a partition named by [`partition_name`] holds (its first day), or `None` for
/// any other name.
pub(super) fn month_of(name: &str) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    let rest = name.strip_prefix("messages_y")?;
    let (year, month) = rest.split_once('m')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    Utc.with_ymd_and_hms(year.parse().ok()?, month.parse().ok()?, 1, 0, 0, 0).single()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn month_of_reads_back_partition_name() {
        let nov = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        assert_eq!(month_of(&partition_name(nov)), Some(nov));
        for other in ["messages", "messages_y2026m13", "messages_y26m11", "uploads", "messages_y2026m1x"] {
            assert_eq!(month_of(other), None, "{other}");
        }
    }
}
