//! Every input is made here, by the image and gif crates or by hand.

use std::io::Cursor;

use ::image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use bytes::Bytes;

use super::*;

fn processor() -> Processor {
    Processor::new(DEFAULT_MAX_PIXELS, 2)
}

fn gradient(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128]))
}

fn encoded(image: &DynamicImage, format: ImageFormat) -> Bytes {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    Bytes::from(out.into_inner())
}

async fn run(bytes: Bytes) -> Result<Processed, ImageError> {
    processor().process(bytes, "ab".repeat(32)).await
}

fn fits(size: (u32, u32), max: u32) -> bool {
    size.0 <= max && size.1 <= max && size.0 > 0 && size.1 > 0
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn check_blurhash(hash: &str) {
    // 1 size + 1 maximum + 4 DC + 2 per AC component (4×3 − 1).
    assert_eq!(hash.len(), 2 + 4 + 2 * 11, "{hash}");
    blurhash::decode(hash, 8, 8, 1.0).expect("a decodable blurhash");
}

#[tokio::test]
async fn each_accepted_format_round_trips() {
    let opaque = DynamicImage::ImageRgb8(gradient(64, 48));
    let clear =
        DynamicImage::ImageRgba8(RgbaImage::from_fn(64, 48, |x, _| Rgba([200, 10, 10, if x < 32 { 0 } else { 255 }])));
    let cases = [
        (Format::Jpeg, &opaque, ImageFormat::Jpeg, "image/jpeg"),
        (Format::Png, &clear, ImageFormat::Png, "image/png"),
        (Format::Webp, &clear, ImageFormat::WebP, "image/png"),
        (Format::Gif, &opaque, ImageFormat::Gif, "image/jpeg"),
    ];
    for (format, image, image_format, rendition_mime) in cases {
        let bytes = encoded(image, image_format);
        assert_eq!(sniff(&bytes), Ok(format));
        let done = run(bytes).await.unwrap();
        let files = &done.renditions;
        assert_eq!((done.width, done.height), (64, 48), "{format:?}");
        assert_eq!(files.original.mime, format.mime());
        assert_eq!(sniff(&files.original.bytes), Ok(format));
        // Small images are not enlarged.
        assert_eq!(done.preview, (64, 48));
        assert_eq!(done.thumbnail, (64, 48));
        assert_eq!(files.preview.mime, rendition_mime, "{format:?}");
        assert_eq!(files.thumbnail.mime, rendition_mime, "{format:?}");
        assert_eq!(files.sha256, "ab".repeat(32));
        check_blurhash(&done.blurhash);
        let thumb = ::image::load_from_memory(&files.thumbnail.bytes).unwrap();
        assert_eq!((thumb.width(), thumb.height()), done.thumbnail);
    }
}

#[tokio::test]
async fn renditions_fit_their_box() {
    let bytes = encoded(&DynamicImage::ImageRgb8(gradient(2000, 1000)), ImageFormat::Png);
    let done = run(bytes).await.unwrap();
    assert_eq!((done.width, done.height), (2000, 1000));
    assert_eq!(done.preview, (1600, 800));
    assert_eq!(done.thumbnail, (400, 200));
    assert!(fits(done.preview, PREVIEW_MAX) && fits(done.thumbnail, THUMBNAIL_MAX));
    let preview = ::image::load_from_memory(&done.renditions.preview.bytes).unwrap();
    assert_eq!((preview.width(), preview.height()), (1600, 800));
    assert_eq!(done.renditions.preview.mime, "image/jpeg");
}

#[tokio::test]
async fn the_type_is_the_bytes_not_the_claim() {
    // Whatever name or Content-Type came with them, PNG bytes are PNG: neither is an input.
    let png = encoded(&DynamicImage::ImageRgb8(gradient(8, 8)), ImageFormat::Png);
    assert_eq!(sniff(&png), Ok(Format::Png));
    assert_eq!(run(png).await.unwrap().renditions.original.mime, "image/png");

    let html = Bytes::from_static(b"<!DOCTYPE html><html><body><script>alert(1)</script>");
    let svg = Bytes::from_static(
        br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#,
    );
    let heic = Bytes::from_static(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\0");
    for bytes in [html, svg, heic] {
        let refused = run(bytes).await.unwrap_err();
        assert!(matches!(refused, ImageError::Unsupported { .. }), "{refused:?}");
        assert_eq!(refused.code(), "unsupported_media_type");
    }
    assert_eq!(sniff(b"<!DOCTYPE html><html>"), Err(ImageError::Unsupported { detected: Some("text/html".into()) }));
    assert_eq!(sniff(b""), Err(ImageError::Unsupported { detected: None }));
}

#[tokio::test]
async fn truncated_images_are_invalid() {
    let image = DynamicImage::ImageRgb8(gradient(64, 64));
    for format in [ImageFormat::Png, ImageFormat::Jpeg] {
        let whole = encoded(&image, format);
        for cut in [20, whole.len() / 2] {
            let refused = run(whole.slice(..cut)).await.unwrap_err();
            assert!(matches!(refused, ImageError::Invalid(_)), "{format:?} at {cut}: {refused:?}");
            assert_eq!(refused.code(), "invalid_image");
        }
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { 0xEDB8_8320 ^ (crc >> 1) } else { crc >> 1 };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_from_its_header() {
    // A valid, tiny PNG whose IHDR claims 20000×20000 RGBA (1.6 GB decoded).
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&20_000u32.to_be_bytes());
    ihdr.extend_from_slice(&20_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    png_chunk(&mut bomb, b"IHDR", &ihdr);
    png_chunk(&mut bomb, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    png_chunk(&mut bomb, b"IEND", &[]);
    assert!(bomb.len() < 100);

    let refused = run(Bytes::from(bomb)).await.unwrap_err();
    assert_eq!(refused, ImageError::TooManyPixels { width: 20_000, height: 20_000 });
    assert_eq!(refused.code(), "image_too_large");

    // The limit is the configured one.
    let small = encoded(&DynamicImage::ImageRgb8(gradient(64, 48)), ImageFormat::Jpeg);
    let strict = Processor::new(64 * 47, 1);
    let refused = strict.process(small, String::new()).await.unwrap_err();
    assert_eq!(refused, ImageError::TooManyPixels { width: 64, height: 48 });
}

/// An APP1 segment as a phone writes it: Orientation = 6 (rotate 90° clockwise to view) and
/// a GPS IFD with latitude and longitude.
fn exif_app1() -> Vec<u8> {
    fn entry(tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        tiff.extend_from_slice(&tag.to_le_bytes());
        tiff.extend_from_slice(&kind.to_le_bytes());
        tiff.extend_from_slice(&count.to_le_bytes());
        tiff.extend_from_slice(&value);
    }
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const ASCII: u16 = 2;
    const RATIONAL: u16 = 5;
    let (ifd0, gps_ifd) = (8u32, 8u32 + 2 + 2 * 12 + 4);
    let latitude = gps_ifd + 2 + 4 * 12 + 4;
    let longitude = latitude + 24;

    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&ifd0.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut tiff, 0x0112, SHORT, 1, [6, 0, 0, 0]);
    entry(&mut tiff, 0x8825, LONG, 1, gps_ifd.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut tiff, 0x0001, ASCII, 2, *b"N\0\0\0");
    entry(&mut tiff, 0x0002, RATIONAL, 3, latitude.to_le_bytes());
    entry(&mut tiff, 0x0003, ASCII, 2, *b"E\0\0\0");
    entry(&mut tiff, 0x0004, RATIONAL, 3, longitude.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&gps_rationals());
    assert_eq!(tiff.len() as u32, longitude + 24);

    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&(2 + 6 + tiff.len() as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    app1
}

/// 48° 51′ 29.59″ N, 2° 17′ 40.15″ E, as six little-endian rationals.
fn gps_rationals() -> Vec<u8> {
    [(48, 1), (51, 1), (2959, 100), (2, 1), (17, 1), (4015, 100)]
        .iter()
        .flat_map(|&(n, d): &(u32, u32)| [n.to_le_bytes(), d.to_le_bytes()].concat())
        .collect()
}

/// The marker of every segment before the scan data.
fn jpeg_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        at += 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
    }
    markers
}

#[tokio::test]
async fn exif_and_gps_are_stripped_and_the_orientation_applied() {
    let plain = encoded(&DynamicImage::ImageRgb8(gradient(40, 20)), ImageFormat::Jpeg);
    let mut tagged = plain[..2].to_vec();
    tagged.extend_from_slice(&exif_app1());
    tagged.extend_from_slice(&plain[2..]);
    assert!(jpeg_markers(&tagged).contains(&0xE1));
    assert!(contains(&tagged, &gps_rationals()));

    let done = run(Bytes::from(tagged)).await.unwrap();
    assert_eq!((done.width, done.height), (20, 40), "the orientation is applied");
    assert_eq!(done.preview, (20, 40));
    assert_eq!(done.thumbnail, (20, 40));
    for file in [&done.renditions.original, &done.renditions.preview, &done.renditions.thumbnail] {
        let bytes = &file.bytes;
        assert_eq!(file.mime, "image/jpeg");
        assert!(!jpeg_markers(bytes).contains(&0xE1), "no APP1 segment");
        assert!(!contains(bytes, b"Exif"));
        assert!(!contains(bytes, &gps_rationals()), "no GPS bytes");
        let decoded = ::image::load_from_memory(bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (20, 40));
    }
}

#[tokio::test]
async fn a_gif_keeps_its_frames_and_loses_its_extensions() {
    let secret = b"taken at 48.8582N 2.2945E";
    let mut gif = Vec::new();
    {
        let palette = [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255];
        let mut encoder = ::gif::Encoder::new(&mut gif, 8, 8, &palette).unwrap();
        encoder.set_repeat(::gif::Repeat::Infinite).unwrap();
        let (comment, application) = (::gif::AnyExtension(0xFE), ::gif::AnyExtension(0xFF));
        encoder.write_raw_extension(comment, &[secret]).unwrap();
        encoder.write_raw_extension(application, &[b"XMP DataXMP", secret]).unwrap();
        for index in 1..=3u8 {
            let mut frame = ::gif::Frame::from_indexed_pixels(8, 8, vec![index; 64], None);
            frame.delay = 10;
            encoder.write_frame(&frame).unwrap();
        }
    }
    assert!(contains(&gif, secret));

    let done = run(Bytes::from(gif)).await.unwrap();
    let original = &done.renditions.original.bytes;
    assert!(!contains(original, secret), "the comment and the XMP are dropped");
    assert!(!contains(original, b"XMP"));
    let mut options = ::gif::DecodeOptions::new();
    options.set_color_output(::gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(&original[..]).unwrap();
    let mut firsts = Vec::new();
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        assert_eq!(frame.delay, 10);
        firsts.push(frame.buffer[..4].to_vec());
    }
    assert_eq!(firsts, [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]]);
    assert_eq!(decoder.repeat(), ::gif::Repeat::Infinite);

    // The thumbnail is the first frame, still.
    assert_eq!(done.renditions.thumbnail.mime, "image/jpeg");
    let thumb = ::image::load_from_memory(&done.renditions.thumbnail.bytes).unwrap();
    let pixel = thumb.to_rgb8().get_pixel(4, 4).0;
    assert!(pixel[0] > 200 && pixel[1] < 50 && pixel[2] < 50, "{pixel:?}");
}

#[tokio::test]
async fn a_decode_waits_for_a_permit() {
    let processor = Processor::new(DEFAULT_MAX_PIXELS, 1);
    let held = Arc::clone(&processor.decoders).acquire_owned().await.unwrap();
    let png = encoded(&DynamicImage::ImageRgb8(gradient(8, 8)), ImageFormat::Png);
    let process = processor.process(png, String::new());
    tokio::pin!(process);
    // With the only permit held, no amount of polling gets past the semaphore.
    for _ in 0..3 {
        assert!(futures_util::poll!(&mut process).is_pending());
        tokio::task::yield_now().await;
    }
    drop(held);
    let done = process.await.unwrap();
    assert_eq!((done.width, done.height), (8, 8));
    assert_eq!(processor.decoders.available_permits(), 1);
}

#[tokio::test]
async fn an_icc_profile_is_kept_only_when_it_fits_the_pixels() {
    use ::image::ImageEncoder;
    use ::image::codecs::png::PngEncoder;

    let profile = |space: &[u8; 4]| {
        let mut icc = vec![0u8; 128];
        icc[16..20].copy_from_slice(space);
        icc[36..40].copy_from_slice(b"acsp");
        icc
    };
    let image = gradient(16, 16);
    for (space, kept) in [(b"RGB ", true), (b"CMYK", false)] {
        let mut png = Vec::new();
        let mut encoder = PngEncoder::new(&mut png);
        encoder.set_icc_profile(profile(space)).unwrap();
        encoder.write_image(image.as_raw(), 16, 16, ::image::ExtendedColorType::Rgb8).unwrap();

        let done = run(Bytes::from(png)).await.unwrap();
        let files = &done.renditions;
        let mut original = ::image::codecs::png::PngDecoder::new(Cursor::new(&files.original.bytes[..])).unwrap();
        let mut thumbnail = ::image::codecs::jpeg::JpegDecoder::new(Cursor::new(&files.thumbnail.bytes[..])).unwrap();
        let expected = kept.then(|| profile(space));
        assert_eq!(original.icc_profile().unwrap(), expected, "{space:?}");
        assert_eq!(thumbnail.icc_profile().unwrap(), expected, "{space:?}");
    }
}
