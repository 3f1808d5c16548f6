//! Uploads and their downloads: the rules around the media seam ([`crate::media`]).
//!
//! An upload arrives into a spool file (`media::spool`), counted and hashed on the way. It
//! is checked before anything is kept: the quota of its owner, then the image
//! pipeline (type from the magic bytes, pixel limit before decoding, bounded decodes),
//! which also removes its metadata and makes the preview and thumbnail. The files go to
//! the media store under their content address; the metadata to the Store.
//!
//! Downloads use signed URLs (`GET /api/v1/media/{id}[/preview|/thumbnail]?exp=…&sig=…`),
//! because a browser loads `<img>` without an `Authorization` header. A URL is handed out
//! only to someone who may see the image (today: its uploader; with attachments, the
//! members of the conversation it was posted in), and it names the image, the rendition
//! and its expiry under an HMAC-SHA256 of a key derived from the signing secret, so every
//! node of a cluster accepts the URLs of every other. Expiries are rounded up to the hour,
//! so the URLs of an image stay the same, and cacheable, within the hour.

use std::{path::PathBuf, sync::Arc};

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use uuid::Uuid;

use crate::{
    config::MediaConfig,
    error::{Error, Result},
    media::{
        Fetched, MediaError, MediaStore, Variant,
        image::{ImageError, Processor},
        spool::Spool,
    },
    protocol::views::{AttachmentView, MessageView, ReactionView, RenditionView, ReplyView},
    store::{Attachment, Message, Store, Upload},
};

/// Uploads deleted per run of the orphan sweep at most.
const SWEEP_BATCH: u32 = 200;

pub struct Media {
    store: Arc<dyn Store>,
    files: Arc<dyn MediaStore>,
    processor: Processor,
    config: MediaConfig,
    links: Arc<MediaLinks>,
    /// Where uploads are spooled as they arrive (`DATA_DIR/tmp`).
    spool_dir: PathBuf,
}

/// Signs and checks download links; shared with the services that show attachments.
pub struct MediaLinks {
    key: Vec<u8>,
    ttl_secs: u64,
}

/// A rendition to send: its bytes, type and entity tag.
pub struct Download {
    pub file: Fetched,
    pub etag: String,
}

impl Media {
    pub fn new(
        store: Arc<dyn Store>,
        files: Arc<dyn MediaStore>,
        config: MediaConfig,
        links: Arc<MediaLinks>,
        spool_dir: PathBuf,
    ) -> Self {
        let decoders = std::thread::available_parallelism().map_or(1, usize::from);
        let processor = Processor::new(config.max_pixels, decoders);
        Self { store, files, processor, config, links, spool_dir }
    }

    /// The signer of this service's links.
    pub fn links(&self) -> &MediaLinks {
        &self.links
    }

    /// Largest upload accepted, in bytes.
    pub fn max_upload_bytes(&self) -> u64 {
        self.config.max_upload_bytes
    }

    /// The error for an upload past [`Media::max_upload_bytes`].
    pub fn too_large(&self) -> Error {
        Error::TooLarge {
            code: "payload_too_large",
            detail: format!("file: at most {} bytes", self.config.max_upload_bytes),
        }
    }

    /// A spool file for an upload on its way in.
    pub async fn spool(&self) -> Result<Spool> {
        Spool::create(&self.spool_dir).await.map_err(Error::internal)
    }

    /// Keep an upload of `owner`, spooled as it arrived.
    pub async fn upload(&self, owner: Uuid, mut spool: Spool) -> Result<AttachmentView> {
        let size = spool.len();
        if size > self.config.max_upload_bytes {
            return Err(self.too_large());
        }
        if spool.is_empty() {
            return Err(Error::validation("file: must not be empty"));
        }
        let sha256 = spool.finish().await.map_err(Error::internal)?;
        let quota = self.config.quota_bytes_per_user;
        if quota > 0 {
            let used = self.store.upload_bytes_of(owner).await?.max(0) as u64;
            if used + size > quota {
                return Err(Error::TooLarge {
                    code: "quota_exceeded",
                    detail: format!("your uploads would pass your quota of {quota} bytes ({used} used)"),
                });
            }
        }
        let processed = self.processor.process_file(spool.path(), sha256.clone()).await.map_err(image_error)?;
        drop(spool);
        let storage_key = self.files.put(&processed.renditions).await.map_err(media_error)?;
        let dims = |(w, h): (u32, u32)| (w as i32, h as i32);
        let upload = Upload {
            id: Uuid::now_v7(),
            owner_id: owner,
            sha256,
            storage_key,
            mime: processed.renditions.original.mime.to_string(),
            bytes: processed.renditions.original.bytes.len() as i64,
            width: processed.width as i32,
            height: processed.height as i32,
            preview: dims(processed.preview),
            thumbnail: dims(processed.thumbnail),
            blurhash: processed.blurhash,
            created_at: Utc::now(),
            conversation_id: None,
            message_id: None,
        };
        self.store.create_upload(&upload).await?;
        tracing::info!(upload = %upload.id, bytes = upload.bytes, mime = %upload.mime, "upload stored");
        Ok(self.links.attachment(&Attachment::from(&upload), Utc::now()))
    }

    /// Check a signed link and read the rendition it names.
    pub async fn download(
        &self,
        id: Uuid,
        variant: Variant,
        exp: i64,
        sig: &str,
        now: DateTime<Utc>,
    ) -> Result<Download> {
        self.links.check(id, variant, exp, sig, now)?;
        let upload = self.store.upload(id).await?.ok_or_else(gone)?;
        let file = self.files.get(&upload.storage_key, variant).await.map_err(media_error)?.ok_or_else(gone)?;
        let etag = format!("\"{}-{}\"", upload.sha256.get(..16).unwrap_or(&upload.sha256), variant.as_str());
        Ok(Download { file, etag })
    }

    /// Delete uploads never attached within `media.orphan_ttl_hours`, and their files when
    /// no other upload shares them. Returns how many uploads went.
    pub async fn sweep_orphans(&self, now: DateTime<Utc>) -> Result<usize> {
        let before = now - chrono::Duration::hours(self.config.orphan_ttl_hours as i64);
        let orphans = self.store.unattached_uploads(before, SWEEP_BATCH).await?;
        for u in &orphans {
            if self.store.delete_upload(u.id).await? == Some(0) {
                self.files.delete(&u.storage_key).await.map_err(media_error)?;
            }
        }
        if !orphans.is_empty() {
            tracing::info!(count = orphans.len(), "unattached uploads deleted");
        }
        Ok(orphans.len())
    }
}

impl MediaLinks {
    /// Links signed with `key` (derived from the signing secret), valid `ttl_secs` rounded
    /// up to the hour.
    pub fn new(key: Vec<u8>, ttl_secs: u64) -> Self {
        Self { key, ttl_secs }
    }

    /// The attachment as a client sees it, with links signed at `now`.
    pub fn attachment(&self, a: &Attachment, now: DateTime<Utc>) -> AttachmentView {
        let exp = self.expiry(now);
        AttachmentView {
            id: a.id,
            mime: a.mime.clone(),
            bytes: a.bytes,
            width: a.width,
            height: a.height,
            blurhash: a.blurhash.clone(),
            url: self.signed_path(a.id, Variant::Original, exp),
            preview: RenditionView {
                url: self.signed_path(a.id, Variant::Preview, exp),
                width: a.preview.0,
                height: a.preview.1,
            },
            thumbnail: RenditionView {
                url: self.signed_path(a.id, Variant::Thumbnail, exp),
                width: a.thumbnail.0,
                height: a.thumbnail.1,
            },
        }
    }

    /// A stored message as its readers see it, its attachments with links signed now.
    pub fn message(&self, m: Message) -> MessageView {
        let now = Utc::now();
        let attachments = m.attachments.iter().map(|a| self.attachment(a, now)).collect();
        MessageView {
            id: m.id,
            conversation_id: m.conversation_id,
            seq: m.seq,
            sender_id: m.sender_id,
            kind: m.kind,
            body: m.body,
            attachments,
            created_at: m.created_at,
            client_id: m.client_id,
            reply_to: m.reply.map(|r| ReplyView {
                id: r.id,
                seq: r.seq,
                sender_id: r.sender_id,
                snippet: r.snippet,
                deleted: r.deleted,
                attachments: r.attachments,
            }),
            mentions: m.mentions,
            change_seq: m.change_seq,
            edited_at: m.edited_at,
            deleted_at: m.deleted_at,
            deleted_by: m.deleted_by,
            pinned_at: m.pinned_at,
            pinned_by: m.pinned_by,
            reactions: m
                .reactions
                .into_iter()
                .map(|r| ReactionView { emoji: r.emoji, count: r.user_ids.len() as i64, user_ids: r.user_ids })
                .collect(),
        }
    }

    /// `exp` (Unix seconds) must be ahead and `sig` this server's signature of the id,
    /// rendition and expiry: a forged or expired link is `forbidden`.
    pub fn check(&self, id: Uuid, variant: Variant, exp: i64, sig: &str, now: DateTime<Utc>) -> Result<()> {
        if !self.signature_valid(id, variant, exp, sig) {
            return Err(Error::Forbidden("this media link is not valid".into()));
        }
        if exp < now.timestamp() {
            return Err(Error::Forbidden("this media link has expired; reload to get a fresh one".into()));
        }
        Ok(())
    }

    /// The expiry of URLs signed at `now`: `media.url_ttl_secs` ahead, rounded up to the hour.
    fn expiry(&self, now: DateTime<Utc>) -> i64 {
        let at = now.timestamp() + self.ttl_secs as i64;
        (at + 3599).div_euclid(3600) * 3600
    }

    fn signature(&self, id: Uuid, variant: Variant, exp: i64) -> Hmac<sha2::Sha256> {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(format!("{id}/{}/{exp}", variant.as_str()).as_bytes());
        mac
    }

    fn signature_valid(&self, id: Uuid, variant: Variant, exp: i64, sig: &str) -> bool {
        let Ok(given) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig) else { return false };
        self.signature(id, variant, exp).verify_slice(&given).is_ok()
    }

    fn signed_path(&self, id: Uuid, variant: Variant, exp: i64) -> String {
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(self.signature(id, variant, exp).finalize().into_bytes());
        let suffix = match variant {
            Variant::Original => "",
            Variant::Preview => "/preview",
            Variant::Thumbnail => "/thumbnail",
        };
        format!("/api/v1/media/{id}{suffix}?exp={exp}&sig={sig}")
    }
}

fn gone() -> Error {
    Error::NotFound("no such media".into())
}

fn image_error(e: ImageError) -> Error {
    let code = e.code();
    match e {
        ImageError::Unsupported { .. } => Error::Unsupported {
            code,
            detail: format!("{e}: JPEG, PNG, WebP and GIF images are accepted (the type is read from the file itself)"),
        },
        ImageError::TooManyPixels { .. } => Error::TooLarge { code, detail: e.to_string() },
        ImageError::Invalid(_) => Error::invalid(code, e.to_string()),
    }
}

fn media_error(e: MediaError) -> Error {
    match e {
        MediaError::Unavailable { .. } => {
            tracing::warn!(error = %e, "media store unavailable");
            Error::Unavailable("the media store is unreachable; retry later".into())
        }
        other => Error::internal(other),
    }
}
