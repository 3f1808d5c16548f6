//! The uploads part of the Store seam: the metadata of uploaded images (the files live in
//! the media store, [`crate::media`]). A trait of its own, which [`super::Store`] requires,
//! so that each backend keeps it in a file of its own (`sqlite/uploads.rs`,
//! `postgres/uploads.rs`) in the same method order.
//!
//! Invariants kept here:
//! - an upload belongs to one owner and, once attached, to one message of one conversation
//!   (attaching is one conditional `UPDATE`, so two messages never both get it);
//! - several uploads may share a `storage_key` (the same bytes); [`UploadStore::delete_upload`]
//!   says how many still do, so the files go only with the last of them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreResult;

/// An upload as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: Uuid,
    pub owner_id: Uuid,
    /// Hex SHA-256 of the bytes the client sent.
    pub sha256: String,
    /// Where the media store keeps the files.
    pub storage_key: String,
    /// The type of the stored original, from its magic bytes.
    pub mime: String,
    /// Size of the stored original.
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    pub preview: (i32, i32),
    pub thumbnail: (i32, i32),
    pub blurhash: String,
    pub created_at: DateTime<Utc>,
    /// Where it was posted, once attached to a message.
    pub conversation_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
}

/// An upload as a message carries it: what a client needs to show it, copied into the
/// message when it is sent (the message reads back without a join).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub id: Uuid,
    pub mime: String,
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    pub preview: (i32, i32),
    pub thumbnail: (i32, i32),
    pub blurhash: String,
}

impl From<&Upload> for Attachment {
    fn from(u: &Upload) -> Self {
        Attachment {
            id: u.id,
            mime: u.mime.clone(),
            bytes: u.bytes,
            width: u.width,
            height: u.height,
            preview: u.preview,
            thumbnail: u.thumbnail,
            blurhash: u.blurhash.clone(),
        }
    }
}

#[async_trait]
pub trait UploadStore: Send + Sync {
    /// Insert a new, unattached upload.
    async fn create_upload(&self, upload: &Upload) -> StoreResult<()>;
    async fn upload(&self, id: Uuid) -> StoreResult<Option<Upload>>;
    /// Attach `owner`'s uploads `ids` that are not attached yet to the message `message_id`
    /// of `conversation_id`; returns those it attached (the others are someone else's,
    /// unknown, or attached already).
    async fn attach_uploads(
        &self,
        ids: &[Uuid],
        owner: Uuid,
        message_id: Uuid,
        conversation_id: Uuid,
    ) -> StoreResult<Vec<Upload>>;
    /// Undo [`UploadStore::attach_uploads`] for a message that was not sent after all.
    async fn detach_uploads(&self, message_id: Uuid) -> StoreResult<u64>;
    /// Bytes of every upload `owner` keeps (for the per-user quota).
    async fn upload_bytes_of(&self, owner: Uuid) -> StoreResult<i64>;
    /// Up to `limit` uploads never attached and created before `before`, oldest first.
    async fn unattached_uploads(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Upload>>;
    /// Remove the upload; returns how many other uploads still use its `storage_key`
    /// (`None` if it did not exist).
    async fn delete_upload(&self, id: Uuid) -> StoreResult<Option<i64>>;
}
