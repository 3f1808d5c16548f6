//! An upload on its way in: written to a file in the spool folder (`DATA_DIR/tmp`) as it
//! arrives, counted and hashed on the way, removed when dropped. What waits for a decoder
//! is then a file, not its bytes, so memory grows with the decodes running (one per core),
//! not with the uploads queued.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

pub struct Spool {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    len: u64,
}

impl Spool {
    /// A new, empty spool file in `dir` (created if missing).
    pub async fn create(dir: &Path) -> std::io::Result<Spool> {
        tokio::fs::create_dir_all(dir).await?;
        let path = dir.join(format!("upload-{}.part", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await?;
        Ok(Spool { path, file: Some(file), hasher: Sha256::new(), len: 0 })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.hasher.update(chunk);
        self.len += chunk.len() as u64;
        match &mut self.file {
            Some(f) => f.write_all(chunk).await,
            None => Err(std::io::Error::other("spool already finished")),
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Flush and close the file; returns the hex SHA-256 of what was written.
    pub async fn finish(&mut self) -> std::io::Result<String> {
        if let Some(mut f) = self.file.take() {
            f.flush().await?;
        }
        Ok(hex::encode(self.hasher.clone().finalize()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
