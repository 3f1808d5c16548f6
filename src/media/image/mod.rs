//! The image pipeline: what an upload becomes before any store sees it. Pure (bytes in,
//! [`Processed`] out), so it is tested without a server.
//!
//! Invariants:
//! - **The type is the bytes'.** [`sniff`] reads the magic bytes; the declared Content-Type
//!   and the file name are never consulted. JPEG, PNG, WebP and GIF are accepted; anything
//!   else (SVG, which can carry script, HTML, HEIC, TIFF, …) is
//!   [`ImageError::Unsupported`]. HEIC is left out: there is no maintained pure-Rust HEVC
//!   decoder, and Debian's libheif would mean a C binding and a system package.
//! - **Size is refused before decoding.** The dimensions come from the header; above
//!   `max_pixels` (or a side above [`MAX_SIDE`]) the upload is
//!   [`ImageError::TooManyPixels`] and no pixel buffer is allocated. The decode itself runs
//!   under [`::image::Limits`] (width, height and allocations derived from `max_pixels`),
//!   on a blocking thread, holding one permit of a semaphore: at most `decoders` decodes at
//!   once, so memory stays within a few decoded copies of `decoders` × `max_pixels` pixels.
//!   Only the sniff and the header read run on the async thread: they touch no pixel.
//! - **No metadata survives.** The original is re-encoded from its pixels, so EXIF (GPS,
//!   camera serials, dates), XMP, IPTC and text chunks are gone; the EXIF orientation is
//!   applied first, so width and height are the upright ones. JPEG stays JPEG (quality
//!   [`ORIGINAL_JPEG_QUALITY`]), PNG stays PNG (lossless, 16-bit kept), WebP becomes
//!   lossless WebP (the only WebP encoder at hand; larger than a lossy input, never worse;
//!   an animated WebP keeps its first frame). A GIF keeps every frame: its compressed
//!   frames are copied into a new file with only the screen, palettes, frame timing and
//!   loop count, so comments and application extensions (where XMP lives) are dropped.
//!   Only the ICC colour profile is carried over, when it matches the pixels (RGB or grey):
//!   it is colour data, and without it a wide-gamut photo shifts colour.
//! - **Renditions fit their box.** The preview fits inside [`PREVIEW_MAX`]², the thumbnail
//!   inside [`THUMBNAIL_MAX`]², never enlarged; JPEG when opaque, PNG when some pixel is
//!   transparent. A GIF's renditions show its first frame.
//! - The blurhash (4×3 components) is computed from a small downscale of the thumbnail.

mod encode;
mod gif;
#[cfg(test)]
mod tests;

use std::io::Cursor;
use std::sync::Arc;

use ::image::metadata::Orientation;
use ::image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use bytes::Bytes;
use tokio::sync::Semaphore;

use super::Renditions;

/// The thumbnail fits inside this square (the chat bubble).
pub const THUMBNAIL_MAX: u32 = 400;
/// The preview fits inside this square (the lightbox).
pub const PREVIEW_MAX: u32 = 1600;
/// The longest side accepted, whatever the pixel count: JPEG's and GIF's own maximum; a
/// longer PNG is a strip no one can look at.
pub const MAX_SIDE: u32 = 65_535;
/// JPEG quality of a re-encoded JPEG original: visually lossless.
pub const ORIGINAL_JPEG_QUALITY: u8 = 90;
/// The default `media.max_pixels`.
pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;

/// The largest pixel any accepted decoder yields (16-bit RGBA PNG), for `max_alloc`.
const MAX_BYTES_PER_PIXEL: u64 = 8;
/// Room for a decoder's own buffers (lines, palettes, zlib window) beside the output.
const DECODER_SLACK: u64 = 64 * 1024 * 1024;
/// Blurhash components across and down, and the side of the image it is computed from.
const BLURHASH_COMPONENTS: (u32, u32) = (4, 3);
const BLURHASH_SOURCE_MAX: u32 = 32;

/// An accepted image type, as told by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl Format {
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
            Format::Webp => ImageFormat::WebP,
            Format::Gif => ImageFormat::Gif,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// Not one of the accepted types; `detected` is what the magic bytes say, if anything.
    #[error("unsupported media type{}", detected.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Unsupported { detected: Option<String> },
    /// Too many pixels (or too long a side) to decode.
    #[error("image too large: {width}×{height} pixels")]
    TooManyPixels { width: u32, height: u32 },
    /// Truncated or corrupt: the header or the pixels do not decode.
    #[error("invalid image: {0}")]
    Invalid(String),
}

impl ImageError {
    /// The stable code a client sees.
    pub fn code(&self) -> &'static str {
        match self {
            ImageError::Unsupported { .. } => "unsupported_media_type",
            ImageError::TooManyPixels { .. } => "image_too_large",
            ImageError::Invalid(_) => "invalid_image",
        }
    }
}

/// What an upload became.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Upright size (the EXIF orientation applied) of the stored original.
    pub width: u32,
    pub height: u32,
    pub blurhash: String,
    /// Size of the preview and of the thumbnail.
    pub preview: (u32, u32),
    pub thumbnail: (u32, u32),
    pub renditions: Renditions,
}

/// The type of an upload from its first bytes (16 are enough).
pub fn sniff(head: &[u8]) -> Result<Format, ImageError> {
    let detected = infer::get(head).map(|kind| kind.mime_type());
    match detected {
        Some("image/jpeg") => Ok(Format::Jpeg),
        Some("image/png") => Ok(Format::Png),
        Some("image/webp") => Ok(Format::Webp),
        Some("image/gif") => Ok(Format::Gif),
        other => Err(ImageError::Unsupported { detected: other.map(str::to_owned) }),
    }
}

/// Turns uploads into [`Processed`] renditions, a bounded number at a time.
pub struct Processor {
    max_pixels: u64,
    /// One permit per decode running. Owned permits move into the blocking task, so a
    /// request that gives up does not free its permit before its decode has finished.
    decoders: Arc<Semaphore>,
}

impl Processor {
    /// `max_pixels` is `media.max_pixels`; `decoders` the decodes allowed at once (one per
    /// core is right: decoding is CPU-bound). Zero `decoders` is taken as one.
    pub fn new(max_pixels: u64, decoders: usize) -> Self {
        Processor { max_pixels, decoders: Arc::new(Semaphore::new(decoders.max(1))) }
    }

    /// Sniff, check the header's size, then decode and encode the renditions on a blocking
    /// thread. `sha256` is the hex digest of `bytes`, kept as the content address.
    pub async fn process(&self, bytes: Bytes, sha256: String) -> Result<Processed, ImageError> {
        let format = sniff(&bytes)?;
        let (width, height) = header_dimensions(&bytes, format)?;
        self.check_size(width, height)?;
        let limits = self.limits();
        let permit = Arc::clone(&self.decoders).acquire_owned().await.expect("the decode semaphore is never closed");
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            render(&bytes, format, limits, sha256)
        })
        .await
        .map_err(|e| ImageError::Invalid(format!("the decoder failed: {e}")))?
    }

    /// [`Processor::process`] of an upload spooled to `path`. Only the first bytes are read
    /// before a decoder is free (enough to refuse what is not an accepted image); the file
    /// is read whole once the permit is held, so uploads waiting for a decoder cost no
    /// memory.
    pub async fn process_file(&self, path: &std::path::Path, sha256: String) -> Result<Processed, ImageError> {
        let unreadable = |e: std::io::Error| ImageError::Invalid(format!("the upload could not be read back: {e}"));
        let mut head = vec![0u8; 512];
        let n = {
            use tokio::io::AsyncReadExt;
            let mut f = tokio::fs::File::open(path).await.map_err(unreadable)?;
            f.read(&mut head).await.map_err(unreadable)?
        };
        let format = sniff(&head[..n])?;
        let permit = Arc::clone(&self.decoders).acquire_owned().await.expect("the decode semaphore is never closed");
        let bytes = Bytes::from(tokio::fs::read(path).await.map_err(unreadable)?);
        let (width, height) = header_dimensions(&bytes, format)?;
        self.check_size(width, height)?;
        let limits = self.limits();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            render(&bytes, format, limits, sha256)
        })
        .await
        .map_err(|e| ImageError::Invalid(format!("the decoder failed: {e}")))?
    }

    fn check_size(&self, width: u32, height: u32) -> Result<(), ImageError> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels || width > MAX_SIDE || height > MAX_SIDE {
            return Err(ImageError::TooManyPixels { width, height });
        }
        Ok(())
    }

    fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        let side = MAX_SIDE.min(u32::try_from(self.max_pixels).unwrap_or(u32::MAX));
        limits.max_image_width = Some(side);
        limits.max_image_height = Some(side);
        limits.max_alloc = Some(self.max_pixels.saturating_mul(MAX_BYTES_PER_PIXEL).saturating_add(DECODER_SLACK));
        limits
    }
}

/// The size the header declares, without decoding any pixel.
fn header_dimensions(bytes: &[u8], format: Format) -> Result<(u32, u32), ImageError> {
    ImageReader::with_format(Cursor::new(bytes), format.image_format()).into_dimensions().map_err(invalid)
}

/// The blocking part: decode, orient, encode the original and the renditions.
fn render(bytes: &[u8], format: Format, mut limits: Limits, sha256: String) -> Result<Processed, ImageError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(invalid)?;
    limits.reserve(decoder.total_bytes()).map_err(invalid)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let icc = decoder.icc_profile().ok().flatten();
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(invalid)?;
    pixels.apply_orientation(orientation);
    let (width, height) = (pixels.width(), pixels.height());

    let original = match format {
        Format::Jpeg => encode::jpeg(&pixels, ORIGINAL_JPEG_QUALITY, icc.as_deref())?,
        Format::Png => encode::png(&pixels, icc.as_deref())?,
        Format::Webp => encode::webp(&pixels, icc.as_deref())?,
        Format::Gif => gif::strip(bytes)?,
    };
    let preview = fit(&pixels, PREVIEW_MAX);
    drop(pixels);
    let thumbnail = fit(&preview, THUMBNAIL_MAX);
    let blurhash = blurhash(&thumbnail)?;

    Ok(Processed {
        width,
        height,
        blurhash,
        preview: (preview.width(), preview.height()),
        thumbnail: (thumbnail.width(), thumbnail.height()),
        renditions: Renditions {
            sha256,
            original,
            preview: encode::rendition(&preview, icc.as_deref())?,
            thumbnail: encode::rendition(&thumbnail, icc.as_deref())?,
        },
    })
}

/// `image` scaled down to fit inside `max`×`max`, aspect kept; never enlarged.
fn fit(image: &DynamicImage, max: u32) -> DynamicImage {
    if image.width() <= max && image.height() <= max {
        return image.clone();
    }
    image.resize(max, max, ::image::imageops::FilterType::Lanczos3)
}

fn blurhash(thumbnail: &DynamicImage) -> Result<String, ImageError> {
    let max = BLURHASH_SOURCE_MAX;
    let small = if thumbnail.width() > max || thumbnail.height() > max {
        thumbnail.thumbnail(max, max).to_rgba8()
    } else {
        thumbnail.to_rgba8()
    };
    let (x, y) = BLURHASH_COMPONENTS;
    blurhash::encode(x, y, small.width(), small.height(), small.as_raw())
        .map_err(|e| ImageError::Invalid(format!("blurhash: {e}")))
}

/// A decoder's refusal once the header's size has passed: the file is not what it says.
fn invalid(error: ::image::ImageError) -> ImageError {
    ImageError::Invalid(error.to_string())
}
