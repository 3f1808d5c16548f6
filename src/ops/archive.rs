//! The backup archive: one gzip-compressed tar holding
//!
//! ```text
//! nexus.db          the SQLite snapshot (absent on PostgreSQL: pg_dump keeps the database)
//! secret.key        the token signing secret of the data folder, when there is one
//! media/…           the media folder (disk backend), as the disk store lays it out
//! manifest.json     written last: format, versions, and every file's size and SHA-256
//! ```
//!
//! `restore` trusts nothing in it: an entry must be a regular file under one of those
//! names, with no `..`, no absolute path and no link; every file must be listed in the
//! manifest with its size and checksum, and every listed file must be there.

use std::{
    io::{self, Read},
    path::{Component, Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The archive layout this build writes and reads.
pub const FORMAT: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const DATABASE: &str = "nexus.db";
pub const SECRET: &str = "secret.key";
pub const MEDIA: &str = "media";
/// Largest manifest read back (it lists every media file).
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`] of the build that wrote it.
    pub format: u32,
    /// The `nexus` version that wrote it.
    pub nexus_version: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// `sqlite` (the archive holds `nexus.db`) or `postgres` (it does not).
    pub database: String,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative, `/`-separated.
    pub path: String,
    pub bytes: u64,
    /// Hex SHA-256 of the contents.
    pub sha256: String,
}

/// A reader that counts and hashes what passes through it.
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> Self {
        Self { inner, hasher: Sha256::new(), bytes: 0 }
    }

    /// Bytes read and their hex SHA-256.
    pub fn finish(self) -> (u64, String) {
        (self.bytes, hex::encode(self.hasher.finalize()))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The relative path an archive entry may have, `/`-separated, or why not: only plain
/// names (no `..`, `.`, root or prefix), none hidden, under a top-level name the archive
/// knows.
pub fn checked_entry_path(path: &Path) -> Result<String, String> {
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(name) => {
                let name = name.to_str().ok_or("a name that is not UTF-8")?;
                if name.starts_with('.') {
                    return Err(format!("a hidden name {name:?}"));
                }
                parts.push(name);
            }
            Component::CurDir if parts.is_empty() => {}
            _ => return Err("a path leaving the archive (.., / or a drive)".into()),
        }
    }
    let joined = parts.join("/");
    match parts.as_slice() {
        [] => Err("an empty path".into()),
        [MANIFEST] | [DATABASE] | [SECRET] => Ok(joined),
        [MEDIA, _, ..] => Ok(joined),
        _ => Err("a file the archive format does not have".into()),
    }
}

/// `root` joined with a path [`checked_entry_path`] accepted.
pub fn under(root: &Path, relative: &str) -> PathBuf {
    relative.split('/').fold(root.to_path_buf(), |p, part| p.join(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_paths_stay_inside() {
        for ok in ["nexus.db", "./secret.key", "manifest.json", "media/ab/cd/abcd/original.jpg"] {
            assert!(checked_entry_path(Path::new(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "../nexus.db",
            "/etc/passwd",
            "media/../../x",
            "media",
            "other.txt",
            "media/.hidden",
            "nexus.db/x",
            "",
            "media/ab/../../secret.key",
        ] {
            assert!(checked_entry_path(Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn hashing_reader_counts_and_hashes() {
        let mut r = Hashing::new(&b"abc"[..]);
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        let (n, sha) = r.finish();
        assert_eq!(n, 3);
        assert_eq!(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
