//! The media seam: where uploaded images are kept. [`MediaStore`] is implemented twice,
//! by [`disk::DiskStore`] (files under `media.dir`, content-addressed by SHA-256, the
//! default) and [`cloudinary::CloudinaryStore`] (signed uploads to Cloudinary, renditions
//! made there by delivery transformations).
//!
//! What is stored is always what [`image`] made of an upload: the original re-encoded
//! without its metadata (EXIF, GPS), a preview and a thumbnail. Nothing here decides who
//! may see what: the media service checks access, then asks the store for bytes.

pub mod cloudinary;
pub mod disk;
pub mod image;
pub mod spool;

use async_trait::async_trait;
use bytes::Bytes;

/// Which rendition of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The upload as stored: full size, metadata removed.
    Original,
    /// Fits inside [`image::PREVIEW_MAX`] × [`image::PREVIEW_MAX`] (the lightbox).
    Preview,
    /// Fits inside [`image::THUMBNAIL_MAX`] × [`image::THUMBNAIL_MAX`] (the chat bubble).
    Thumbnail,
}

impl Variant {
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Preview => "preview",
            Variant::Thumbnail => "thumbnail",
        }
    }
}

/// One encoded file.
#[derive(Debug, Clone)]
pub struct File {
    pub mime: &'static str,
    pub bytes: Bytes,
}

/// Everything kept for one upload.
#[derive(Debug, Clone)]
pub struct Renditions {
    /// Hex SHA-256 of the bytes the client sent: the content address.
    pub sha256: String,
    pub original: File,
    pub preview: File,
    pub thumbnail: File,
}

/// Bytes read back, with their type.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub mime: String,
    pub bytes: Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The backend refused the request (a bad credential, a refused file): not retryable.
    #[error("{backend} refused: {detail}")]
    Refused { backend: &'static str, detail: String },
    /// The backend could not be reached or failed; a retry may succeed.
    #[error("{backend} unavailable: {detail}")]
    Unavailable { backend: &'static str, detail: String },
    #[error("media i/o: {0}")]
    Io(#[from] std::io::Error),
}

pub type MediaResult<T> = Result<T, MediaError>;

#[async_trait]
pub trait MediaStore: Send + Sync {
    /// `disk` or `cloudinary`, for logs and `/readyz`.
    fn backend(&self) -> &'static str;

    /// Keep an upload's files; returns the key to find them by. The same `sha256` gives the
    /// same key, and storing it again is harmless (the same bytes are kept once).
    async fn put(&self, files: &Renditions) -> MediaResult<String>;

    /// The bytes of one rendition, or `None` if nothing is stored under `key`.
    async fn get(&self, key: &str, variant: Variant) -> MediaResult<Option<Fetched>>;

    /// Remove every file of `key` (the caller knows no other upload refers to it).
    /// Removing what is already gone is not an error.
    async fn delete(&self, key: &str) -> MediaResult<()>;
}
