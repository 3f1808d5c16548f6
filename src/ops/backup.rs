//! `nexus backup [PATH]`: one consistent snapshot while the server runs.
//!
//! On SQLite the database is copied with `VACUUM INTO` (one read transaction: exactly what
//! was committed when it began, while the server keeps writing), then the media folder is
//! read. Media files are content-addressed and written before the row that names them,
//! and never changed after, so every upload the snapshot knows has its files on disk when
//! they are read (unless the hourly sweep deletes one in between: it is reported, and the
//! backup goes on). The archive is written beside its final name and renamed into place
//! when complete, mode 0600 (it holds password hashes and the signing secret).
//!
//! On PostgreSQL the database is the operator's `pg_dump` to run: the command is printed
//! (the configured URL without its password), and the archive holds the local files only.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
};

use anyhow::Context;
use chrono::Utc;
use flate2::{Compression, write::GzEncoder};

use super::{
    Refused,
    archive::{self, FileEntry, Hashing, Manifest},
};
use crate::{
    config::{Config, DatabaseKind, MediaBackend},
    store::{Store, sqlite::SqliteStore},
};

/// What a backup wrote, for the command's report.
#[derive(Debug)]
pub struct Report {
    pub path: PathBuf,
    pub manifest: Manifest,
    /// The `pg_dump` command to run (PostgreSQL).
    pub pg_dump: Option<String>,
    /// Media files that vanished while being read.
    pub vanished: Vec<String>,
}

/// Write the archive to `target` (a file, or a folder to put it in; default: the current
/// folder), named `nexus-backup-<UTC time>.tar.gz` unless a file name is given.
pub async fn run(config: &Config, target: Option<&Path>) -> anyhow::Result<Report> {
    let started = Utc::now();
    let default_name = format!("nexus-backup-{}.tar.gz", started.format("%Y%m%dT%H%M%SZ"));
    let path = match target {
        None => PathBuf::from(&default_name),
        Some(p) if p.is_dir() => p.join(&default_name),
        Some(p) => p.to_path_buf(),
    };
    if path.exists() {
        return Err(Refused(format!("{} exists already; name a new file", path.display())).into());
    }
    let partial = path
        .with_file_name(format!(".{}.partial", path.file_name().and_then(|n| n.to_str()).unwrap_or("nexus-backup")));
    let snapshot = path.with_file_name(format!(".nexus-backup-{}.db", uuid::Uuid::new_v4().simple()));
    let (database, pg_dump) = match config.database_kind()? {
        DatabaseKind::Sqlite(db) => {
            anyhow::ensure!(db.is_file(), "there is no database at {} to back up", db.display());
            let store = SqliteStore::open(&db, 1).await?;
            let copied = store.snapshot_into(&snapshot).await;
            store.close().await;
            copied.with_context(|| format!("cannot snapshot {} into {}", db.display(), snapshot.display()))?;
            ("sqlite", None)
        }
        DatabaseKind::Postgres(url) => ("postgres", Some(pg_dump_command(&url, started))),
    };
    let sources = Sources {
        snapshot: (database == "sqlite").then(|| snapshot.clone()),
        secret: config.server.data_dir.join(archive::SECRET),
        media: (config.media.backend == MediaBackend::Disk).then(|| config.media_dir()),
    };
    let partial_for_task = partial.clone();
    let written = tokio::task::spawn_blocking(move || write_archive(&partial_for_task, &sources, database, started))
        .await
        .context("the backup task failed")?;
    let _ = std::fs::remove_file(&snapshot);
    let (manifest, vanished) = match written {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, &path).with_context(|| format!("cannot move the archive to {}", path.display()))?;
    Ok(Report { path, manifest, pg_dump, vanished })
}

/// What goes into the archive.
struct Sources {
    snapshot: Option<PathBuf>,
    secret: PathBuf,
    media: Option<PathBuf>,
}

fn write_archive(
    path: &Path,
    sources: &Sources,
    database: &str,
    created_at: chrono::DateTime<Utc>,
) -> anyhow::Result<(Manifest, Vec<String>)> {
    let file = create_private(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(BufWriter::new(file), Compression::default()));
    let mut files = Vec::new();
    let mut vanished = Vec::new();
    if let Some(db) = &sources.snapshot {
        files.push(append_file(&mut tar, db, archive::DATABASE)?.context("the database snapshot vanished")?);
    }
    if sources.secret.is_file()
        && let Some(entry) = append_file(&mut tar, &sources.secret, archive::SECRET)?
    {
        files.push(entry);
    }
    if let Some(root) = &sources.media
        && root.is_dir()
    {
        for relative in media_files(root)? {
            let name = format!("{}/{relative}", archive::MEDIA);
            match append_file(&mut tar, &archive::under(root, &relative), &name)? {
                Some(entry) => files.push(entry),
                None => vanished.push(name),
            }
        }
    }
    let manifest = Manifest {
        format: archive::FORMAT,
        nexus_version: crate::VERSION.to_string(),
        created_at,
        database: database.to_string(),
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest)?;
    let mut header = header(json.len() as u64, created_at);
    tar.append_data(&mut header, archive::MANIFEST, json.as_slice())?;
    let mut out = tar.into_inner()?.finish()?;
    out.flush()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok((manifest, vanished))
}

/// Append `source` as `name`, hashing it on the way; `None` if it no longer exists.
fn append_file<W: Write>(tar: &mut tar::Builder<W>, source: &Path, name: &str) -> anyhow::Result<Option<FileEntry>> {
    let file = match File::open(source) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", source.display())),
    };
    let size = file.metadata()?.len();
    let mut header = header(size, Utc::now());
    // The header promises `size` bytes: read exactly that many (a file that grew is cut).
    let mut reader = Hashing::new(std::io::Read::take(file, size));
    tar.append_data(&mut header, name, &mut reader).with_context(|| format!("cannot archive {}", source.display()))?;
    let (bytes, sha256) = reader.finish();
    anyhow::ensure!(bytes == size, "{} shrank while it was read", source.display());
    Ok(Some(FileEntry { path: name.to_string(), bytes, sha256 }))
}

fn header(size: u64, mtime: chrono::DateTime<Utc>) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(0o600);
    h.set_mtime(mtime.timestamp().max(0) as u64);
    h
}

/// Every file under the media folder, relative and `/`-separated, sorted; temporary files
/// of writes in progress (hidden names) are left out.
fn media_files(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
        };
        for entry in entries {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
            if name.starts_with('.') {
                continue;
            }
            let relative = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push((entry.path(), relative));
            } else if kind.is_file() {
                out.push(relative);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The `pg_dump` command for `url`, without its password (pg_dump asks for it, or reads
/// `PGPASSWORD` or `~/.pgpass`).
pub fn pg_dump_command(url: &str, at: chrono::DateTime<Utc>) -> String {
    let shown = match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "postgres://HOST/DATABASE".to_string(),
    };
    format!("pg_dump --format=custom --file=nexus-{}.pgdump '{shown}'", at.format("%Y%m%dT%H%M%SZ"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_dump_command_drops_the_password() {
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 4, 5, 6, 7).unwrap();
        let cmd = pg_dump_command("postgres://nexus:s3cret@db.local:5433/chat?sslmode=require", at);
        assert_eq!(
            cmd,
            "pg_dump --format=custom --file=nexus-20260304T050607Z.pgdump \
             'postgres://nexus@db.local:5433/chat?sslmode=require'"
        );
        assert!(!cmd.contains("s3cret"));
    }
}
