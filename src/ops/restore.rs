//! `nexus restore PATH`: an archive of `nexus backup` into an empty data folder.
//!
//! Nothing is trusted and nothing is overwritten. The data folder (and the database file
//! and media folder, where they are configured outside it) must be missing or empty, else
//! the command is [`Refused`]. The archive is unpacked into a hidden staging folder inside
//! the data folder, entry by entry, with every path checked
//! ([`archive::checked_entry_path`]: no `..`, no absolute path, no link, known names only);
//! then the manifest is checked (format, the database it was made for, every file's size
//! and SHA-256, no file missing or extra) and the SQLite snapshot must pass
//! `PRAGMA integrity_check`. Only then are the files moved into place. On any failure the
//! staging folder is removed and the data folder is left as it was.

use std::{
    collections::HashMap,
    fs::File,
    io::Read,
    path::{Path, PathBuf},
};

use anyhow::Context;
use flate2::read::GzDecoder;

use super::{
    Refused,
    archive::{self, Hashing, Manifest},
};
use crate::{
    config::{Config, DatabaseKind, MediaBackend},
    store::{Store, sqlite::SqliteStore},
};

/// Where each part of the archive goes.
struct Targets {
    data_dir: PathBuf,
    /// The SQLite file (`None` on PostgreSQL).
    database: Option<PathBuf>,
    /// The media folder (`None` when media are on Cloudinary).
    media: Option<PathBuf>,
}

/// Restore `archive_path`; returns its manifest.
pub async fn run(config: &Config, archive_path: &Path) -> anyhow::Result<Manifest> {
    let targets = Targets {
        data_dir: config.server.data_dir.clone(),
        database: match config.database_kind()? {
            DatabaseKind::Sqlite(p) => Some(p),
            DatabaseKind::Postgres(_) => None,
        },
        media: (config.media.backend == MediaBackend::Disk).then(|| config.media_dir()),
    };
    refuse_unless_empty(&targets)?;
    let file = File::open(archive_path).with_context(|| format!("cannot open {}", archive_path.display()))?;
    create_private_dir(&targets.data_dir)?;
    let staging = targets.data_dir.join(format!(".restore-{}", uuid::Uuid::new_v4().simple()));
    let result = restore_via(&staging, file, &targets, archive_path).await;
    let _ = std::fs::remove_dir_all(&staging);
    result
}

async fn restore_via(staging: &Path, file: File, targets: &Targets, archive_path: &Path) -> anyhow::Result<Manifest> {
    let staged = staging.to_path_buf();
    let name = archive_path.display().to_string();
    let (manifest, found) = tokio::task::spawn_blocking(move || unpack(file, &staged))
        .await
        .context("the restore task failed")?
        .with_context(|| format!("{name} is not a valid nexus backup"))?;
    check_manifest(&manifest, &found, targets).with_context(|| format!("{name} is not a valid nexus backup"))?;
    if targets.database.is_some() {
        let db = staging.join(archive::DATABASE);
        let store = SqliteStore::open(&db, 1).await?;
        let verdict = store.integrity_check().await;
        store.close().await;
        let verdict = verdict.context("cannot check the database in the archive")?;
        anyhow::ensure!(verdict == "ok", "the database in {name} is damaged: {verdict}");
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(staging.join(format!("{}{suffix}", archive::DATABASE)));
        }
    }
    move_into_place(staging, &manifest, targets)?;
    Ok(manifest)
}

/// Refuse unless every target is missing or an empty folder (the database: missing).
fn refuse_unless_empty(t: &Targets) -> anyhow::Result<()> {
    if let Some(n) = entries_in(&t.data_dir)? {
        return Err(Refused(format!(
            "the data folder {} is not empty ({n} entries): restore only into an empty or missing folder \
             (set server.data_dir to a new one, or move the old one away)",
            t.data_dir.display()
        ))
        .into());
    }
    if let Some(db) = &t.database
        && db.exists()
    {
        return Err(Refused(format!("the database {} exists already: move it away first", db.display())).into());
    }
    if let Some(media) = &t.media
        && let Some(n) = entries_in(media)?
    {
        return Err(Refused(format!("the media folder {} is not empty ({n} entries)", media.display())).into());
    }
    Ok(())
}

/// `Some(count)` when `dir` has entries; `None` when it is missing or empty.
fn entries_in(dir: &Path) -> anyhow::Result<Option<usize>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let n = entries.count();
            Ok((n > 0).then_some(n))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            Err(Refused(format!("{} is a file, not a folder", dir.display())).into())
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// Each unpacked file's size and hex SHA-256, by its path in the archive.
type Found = HashMap<String, (u64, String)>;

/// Unpack every entry into `staging`; returns the manifest and what was found.
fn unpack(file: File, staging: &Path) -> anyhow::Result<(Manifest, Found)> {
    create_private_dir(staging)?;
    let mut tar = tar::Archive::new(GzDecoder::new(std::io::BufReader::new(file)));
    let mut found = HashMap::new();
    let mut manifest = None;
    for entry in tar.entries().context("cannot read the archive")? {
        let mut entry = entry.context("cannot read the archive")?;
        let raw = entry.path().context("an entry with an unreadable path")?.into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            archive::checked_entry_path(&raw).map_err(|why| anyhow::anyhow!("entry {raw:?}: {why}"))?;
            continue;
        }
        if !kind.is_file() {
            anyhow::bail!("entry {raw:?}: only regular files are accepted (links and devices are not)");
        }
        let path = archive::checked_entry_path(&raw).map_err(|why| anyhow::anyhow!("entry {raw:?}: {why}"))?;
        if path == archive::MANIFEST {
            anyhow::ensure!(manifest.is_none(), "two manifests");
            let mut json = Vec::new();
            (&mut entry).take(archive::MAX_MANIFEST_BYTES).read_to_end(&mut json)?;
            manifest = Some(serde_json::from_slice::<Manifest>(&json).context("the manifest is not readable")?);
            continue;
        }
        anyhow::ensure!(!found.contains_key(&path), "entry {path:?} appears twice");
        let target = archive::under(staging, &path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = create_private_file(&target)?;
        let mut reader = Hashing::new(&mut entry);
        std::io::copy(&mut reader, &mut out).with_context(|| format!("cannot unpack {path}"))?;
        out.sync_all()?;
        found.insert(path, reader.finish());
    }
    let manifest = manifest.context("it has no manifest.json")?;
    Ok((manifest, found))
}

fn check_manifest(m: &Manifest, found: &Found, t: &Targets) -> anyhow::Result<()> {
    anyhow::ensure!(
        m.format == archive::FORMAT,
        "archive format {} (written by nexus {}); this nexus {} reads format {}",
        m.format,
        m.nexus_version,
        crate::VERSION,
        archive::FORMAT
    );
    match (m.database.as_str(), t.database.is_some()) {
        ("sqlite", true) | ("postgres", false) => {}
        ("sqlite", false) => {
            return Err(Refused(
                "this backup holds a SQLite database, but database.url points at PostgreSQL; restore it \
                 with database.url empty (or sqlite:PATH)"
                    .into(),
            )
            .into());
        }
        ("postgres", true) => {
            return Err(Refused(
                "this backup was taken on PostgreSQL and holds no database: set database.url to the \
                 database restored with pg_restore"
                    .into(),
            )
            .into());
        }
        (other, _) => anyhow::bail!("unknown database {other:?} in the manifest"),
    }
    let mut listed = HashMap::new();
    for f in &m.files {
        archive::checked_entry_path(Path::new(&f.path))
            .map_err(|why| anyhow::anyhow!("the manifest lists {:?}: {why}", f.path))?;
        anyhow::ensure!(listed.insert(f.path.as_str(), f).is_none(), "the manifest lists {:?} twice", f.path);
        let Some((bytes, sha256)) = found.get(&f.path) else {
            anyhow::bail!("{} is listed in the manifest but missing", f.path);
        };
        anyhow::ensure!(
            *bytes == f.bytes && *sha256 == f.sha256,
            "{} does not match its checksum in the manifest (damaged or altered)",
            f.path
        );
    }
    if let Some(extra) = found.keys().find(|p| !listed.contains_key(p.as_str())) {
        anyhow::bail!("{extra} is not listed in the manifest");
    }
    anyhow::ensure!(
        (m.database == "sqlite") == listed.contains_key(archive::DATABASE),
        "the manifest's database and its files disagree"
    );
    Ok(())
}

fn move_into_place(staging: &Path, m: &Manifest, t: &Targets) -> anyhow::Result<()> {
    for f in &m.files {
        let from = archive::under(staging, &f.path);
        let to = match f.path.as_str() {
            archive::DATABASE => t.database.clone().context("no database target")?,
            archive::SECRET => t.data_dir.join(archive::SECRET),
            media => match &t.media {
                Some(root) => archive::under(root, media.strip_prefix("media/").unwrap_or(media)),
                // Media on Cloudinary: the files in the archive have no place here.
                None => continue,
            },
        };
        if let Some(parent) = to.parent() {
            create_private_dir(parent)?;
        }
        if std::fs::rename(&from, &to).is_err() {
            // Another file system (a database or media folder configured elsewhere).
            std::fs::copy(&from, &to).with_context(|| format!("cannot write {}", to.display()))?;
        }
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn create_private_file(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}
