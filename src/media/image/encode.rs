//! The encoders. What they write is pixels, the ICC profile when it fits, and the
//! container's own framing (JFIF APP0 for JPEG): never EXIF, XMP or text chunks.

use ::image::codecs::jpeg::JpegEncoder;
use ::image::codecs::png::{CompressionType, FilterType, PngEncoder};
use ::image::codecs::webp::WebPEncoder;
use ::image::{ColorType, DynamicImage, ImageEncoder};
use bytes::Bytes;

use super::{Format, ImageError};
use crate::media::File;

/// JPEG quality of the preview and the thumbnail: small files, no visible blocks.
const RENDITION_JPEG_QUALITY: u8 = 82;

/// A preview or thumbnail: JPEG when every pixel is opaque, PNG otherwise.
pub(super) fn rendition(image: &DynamicImage, icc: Option<&[u8]>) -> Result<File, ImageError> {
    if is_opaque(image) {
        return jpeg(image, RENDITION_JPEG_QUALITY, icc);
    }
    let eight_bit = if image.color().has_color() {
        DynamicImage::ImageRgba8(image.to_rgba8())
    } else {
        DynamicImage::ImageLumaA8(image.to_luma_alpha8())
    };
    png(&eight_bit, icc)
}

/// JPEG of `image`'s colour (or grey) channels; any alpha channel is dropped.
pub(super) fn jpeg(image: &DynamicImage, quality: u8, icc: Option<&[u8]>) -> Result<File, ImageError> {
    let flat = if image.color().has_color() {
        DynamicImage::ImageRgb8(image.to_rgb8())
    } else {
        DynamicImage::ImageLuma8(image.to_luma8())
    };
    let mut out = Vec::new();
    write(JpegEncoder::new_with_quality(&mut out, quality), &flat, icc)?;
    Ok(file(Format::Jpeg, out))
}

/// PNG at its own bit depth (16-bit stays 16-bit): lossless.
pub(super) fn png(image: &DynamicImage, icc: Option<&[u8]>) -> Result<File, ImageError> {
    let mut out = Vec::new();
    let encoder = PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive);
    write(encoder, image, icc)?;
    Ok(file(Format::Png, out))
}

/// Lossless WebP (8-bit, with alpha when the image has some).
pub(super) fn webp(image: &DynamicImage, icc: Option<&[u8]>) -> Result<File, ImageError> {
    let eight_bit = if image.has_alpha() {
        DynamicImage::ImageRgba8(image.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
    };
    let mut out = Vec::new();
    write(WebPEncoder::new_lossless(&mut out), &eight_bit, icc)?;
    Ok(file(Format::Webp, out))
}

fn write(mut encoder: impl ImageEncoder, image: &DynamicImage, icc: Option<&[u8]>) -> Result<(), ImageError> {
    if let Some(profile) = icc.filter(|p| icc_fits(p, image.color())) {
        // An encoder that cannot embed a profile writes the pixels without one.
        let _ = encoder.set_icc_profile(profile.to_vec());
    }
    image.write_with_encoder(encoder).map_err(|e| ImageError::Invalid(format!("cannot re-encode: {e}")))
}

/// Whether an ICC profile describes pixels of this colour type: its header's data colour
/// space (bytes 16..20) is `RGB ` for colour, `GRAY` for grey. A CMYK JPEG's profile, for
/// one, no longer fits once its pixels are RGB.
fn icc_fits(profile: &[u8], color: ColorType) -> bool {
    let expected: &[u8] = if color.has_color() { b"RGB " } else { b"GRAY" };
    profile.get(16..20) == Some(expected)
}

fn is_opaque(image: &DynamicImage) -> bool {
    !image.has_alpha() || image.to_rgba8().pixels().all(|p| p[3] == u8::MAX)
}

fn file(format: Format, bytes: Vec<u8>) -> File {
    File { mime: format.mime(), bytes: Bytes::from(bytes) }
}
