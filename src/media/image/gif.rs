//! A GIF's original, animation kept, metadata dropped: the frames are copied still
//! LZW-compressed (no pixel is decoded, so the cost follows the file's size, not its frame
//! count) into a new file that holds only the logical screen, the palettes, each frame's
//! control (delay, disposal, transparency) and the loop count. Comment extensions and
//! application extensions other than the loop count (XMP lives in one) are not copied.

use ::gif::{DecodeOptions, Encoder, Repeat};
use bytes::Bytes;

use super::{Format, ImageError};
use crate::media::File;

pub(super) fn strip(bytes: &[u8]) -> Result<File, ImageError> {
    let invalid = |e: &dyn std::fmt::Display| ImageError::Invalid(format!("gif: {e}"));

    let mut options = DecodeOptions::new();
    options.skip_frame_decoding(true);
    let mut decoder = options.read_info(bytes).map_err(|e| invalid(&e))?;
    let mut frames = Vec::new();
    while let Some(frame) = decoder.read_next_frame().map_err(|e| invalid(&e))? {
        frames.push(frame.clone());
    }
    if frames.is_empty() {
        return Err(ImageError::Invalid("gif: no frame".into()));
    }

    let mut out = Vec::with_capacity(bytes.len());
    let palette = decoder.global_palette().unwrap_or_default();
    let mut encoder = Encoder::new(&mut out, decoder.width(), decoder.height(), palette).map_err(|e| invalid(&e))?;
    // The decoder reports `Finite(0)` when the file has no loop extension (play once);
    // writing it would mean "loop forever".
    if decoder.repeat() != Repeat::Finite(0) {
        encoder.set_repeat(decoder.repeat()).map_err(|e| invalid(&e))?;
    }
    for frame in &frames {
        encoder.write_lzw_pre_encoded_frame(frame).map_err(|e| invalid(&e))?;
    }
    encoder.into_inner().map_err(|e| invalid(&e))?;
    Ok(File { mime: Format::Gif.mime(), bytes: Bytes::from(out) })
}
