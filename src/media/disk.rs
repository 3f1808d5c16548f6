//! Media on local disk, under `media.dir` (default `DATA_DIR/media`), content-addressed:
//! an upload's files live in `ab/cd/<sha256>/`, named after the rendition with the
//! extension of its type (`original.jpg`, `preview.jpg`, `thumbnail.png`). The same bytes
//! uploaded twice are stored once.
//!
//! Each file is written to a temporary name in its folder and renamed into place, so a
//! reader never sees half a file and a crash leaves at most a stray `*.tmp`. Keys are
//! checked to be 64 hex digits before they become paths.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use super::{Fetched, File, MediaResult, MediaStore, Renditions, Variant};

/// The extensions a stored file may have, with their types.
const TYPES: &[(&str, &str)] =
    &[("jpg", "image/jpeg"), ("png", "image/png"), ("webp", "image/webp"), ("gif", "image/gif")];

pub struct DiskStore {
    root: PathBuf,
}

impl DiskStore {
    /// A store rooted at `root`, created (mode 0700 on Unix) if missing.
    pub fn open(root: &Path) -> std::io::Result<DiskStore> {
        std::fs::create_dir_all(root)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(DiskStore { root: root.to_path_buf() })
    }

    /// The folder of `key`, if `key` is a content address.
    fn folder(&self, key: &str) -> Option<PathBuf> {
        let valid = key.len() == 64 && key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| self.root.join(&key[..2]).join(&key[2..4]).join(key))
    }

    async fn write(folder: &Path, variant: Variant, file: &File) -> MediaResult<()> {
        let ext = TYPES.iter().find(|(_, m)| *m == file.mime).map_or("bin", |(e, _)| *e);
        let target = folder.join(format!("{}.{ext}", variant.as_str()));
        if tokio::fs::try_exists(&target).await? {
            return Ok(());
        }
        let tmp = folder.join(format!(".{}.{}.tmp", variant.as_str(), uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&tmp, &file.bytes).await?;
        if let Err(e) = tokio::fs::rename(&tmp, &target).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e.into());
        }
        Ok(())
    }
}

#[async_trait]
impl MediaStore for DiskStore {
    fn backend(&self) -> &'static str {
        "disk"
    }

    async fn put(&self, files: &Renditions) -> MediaResult<String> {
        let key = files.sha256.to_ascii_lowercase();
        let Some(folder) = self.folder(&key) else {
            return Err(super::MediaError::Refused { backend: "disk", detail: "not a SHA-256 content address".into() });
        };
        tokio::fs::create_dir_all(&folder).await?;
        // The original last: a folder with an original is complete.
        Self::write(&folder, Variant::Thumbnail, &files.thumbnail).await?;
        Self::write(&folder, Variant::Preview, &files.preview).await?;
        Self::write(&folder, Variant::Original, &files.original).await?;
        Ok(key)
    }

    async fn get(&self, key: &str, variant: Variant) -> MediaResult<Option<Fetched>> {
        let Some(folder) = self.folder(key) else { return Ok(None) };
        for (ext, mime) in TYPES {
            match tokio::fs::read(folder.join(format!("{}.{ext}", variant.as_str()))).await {
                Ok(bytes) => return Ok(Some(Fetched { mime: (*mime).to_string(), bytes: Bytes::from(bytes) })),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    async fn delete(&self, key: &str) -> MediaResult<()> {
        let Some(folder) = self.folder(key) else { return Ok(()) };
        match tokio::fs::remove_dir_all(&folder).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(sha: &str) -> Renditions {
        let file = |mime, b: &'static [u8]| File { mime, bytes: Bytes::from_static(b) };
        Renditions {
            sha256: sha.into(),
            original: file("image/png", b"original"),
            preview: file("image/jpeg", b"preview"),
            thumbnail: file("image/jpeg", b"thumb"),
        }
    }

    #[tokio::test]
    async fn put_get_delete_by_content_address() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open(&dir.path().join("media")).unwrap();
        let sha = "ab".repeat(32);
        let key = store.put(&files(&sha)).await.unwrap();
        assert_eq!(key, sha);
        assert!(dir.path().join("media/ab/ab").join(&sha).join("original.png").is_file());
        let got = store.get(&key, Variant::Original).await.unwrap().unwrap();
        assert_eq!((got.mime.as_str(), &got.bytes[..]), ("image/png", &b"original"[..]));
        let got = store.get(&key, Variant::Thumbnail).await.unwrap().unwrap();
        assert_eq!((got.mime.as_str(), &got.bytes[..]), ("image/jpeg", &b"thumb"[..]));
        // Storing the same bytes again keeps the one copy.
        assert_eq!(store.put(&files(&sha)).await.unwrap(), key);
        store.delete(&key).await.unwrap();
        assert!(store.get(&key, Variant::Original).await.unwrap().is_none());
        store.delete(&key).await.unwrap();
    }

    #[tokio::test]
    async fn keys_that_are_not_addresses_never_become_paths() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open(dir.path()).unwrap();
        for key in ["../../etc/passwd", "", &"g".repeat(64), &format!("{}/..", "a".repeat(61))] {
            assert!(store.get(key, Variant::Original).await.unwrap().is_none(), "{key}");
            store.delete(key).await.unwrap();
        }
        assert!(store.put(&files("../x")).await.is_err());
    }
}
