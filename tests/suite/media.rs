//! Uploads and signed downloads, on both scales: an image goes in, its original, preview
//! and thumbnail come out by signed URL; forged and expired links, other types, broken
//! and oversized images, a body past the limit (answered before it is all sent), the quota
//! and the sweep of uploads never attached.

use std::{io::Cursor, time::Duration};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    both_scales,
    common::{Scale, TestApp, assert_problem, spawn, spawn_with, user},
};

/// A `w`×`h` PNG with a gradient (so it does not compress to nothing).
fn png(w: u32, h: u32) -> Vec<u8> {
    let img =
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A `w`×`h` PNG of noise, which PNG cannot compress: about 3 bytes a pixel.
fn noisy_png(w: u32, h: u32) -> Vec<u8> {
    let mut x = 0x2545_f491u32;
    let img = image::RgbImage::from_fn(w, h, |_, _| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        image::Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A PNG whose header claims `w`×`h` pixels, with one tiny (wrong) data chunk: a
/// "decompression bomb" as far as its header goes.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut out, b"IEND", &[]);
    out
}

async fn upload(app: &TestApp, token: &str, name: &str, mime: &str, bytes: Vec<u8>) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()).mime_str(mime).unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    app.http.post(app.url("/api/v1/uploads")).bearer_auth(token).multipart(form).send().await.unwrap()
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.http.get(app.url(path)).send().await.unwrap()
}

fn decoded_size(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).expect("a decodable image");
    (img.width(), img.height())
}

async fn upload_then_download_each_rendition(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    // Declared as a JPEG named .jpg: the bytes say PNG, and PNG it is.
    let r = upload(&app, &alice, "holiday.jpg", "image/jpeg", png(2000, 1000)).await;
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.unwrap();
    assert_eq!(
        (a["mime"].as_str(), a["width"].as_i64(), a["height"].as_i64()),
        (Some("image/png"), Some(2000), Some(1000))
    );
    assert_eq!((a["preview"]["width"].as_i64(), a["preview"]["height"].as_i64()), (Some(1600), Some(800)));
    assert_eq!((a["thumbnail"]["width"].as_i64(), a["thumbnail"]["height"].as_i64()), (Some(400), Some(200)));
    assert!(a["blurhash"].as_str().is_some_and(|b| b.len() >= 6), "{a}");
    let id = a["id"].as_str().unwrap();
    let stored = app.services.store.upload(id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.owner_id.to_string(), alice_id);
    assert_eq!(stored.bytes, a["bytes"].as_i64().unwrap());

    for (url, size) in [
        (a["url"].as_str().unwrap(), (2000, 1000)),
        (a["preview"]["url"].as_str().unwrap(), (1600, 800)),
        (a["thumbnail"]["url"].as_str().unwrap(), (400, 200)),
    ] {
        assert!(url.starts_with(&format!("/api/v1/media/{id}")), "{url}");
        let r = get(&app, url).await;
        assert_eq!(r.status(), 200, "{url}");
        let h = r.headers().clone();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "private, max-age=31536000, immutable");
        assert!(h["content-type"].to_str().unwrap().starts_with("image/"));
        let etag = h["etag"].to_str().unwrap().to_string();
        assert_eq!(decoded_size(&r.bytes().await.unwrap()), size, "{url}");
        let again = app.http.get(app.url(url)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), 304);
    }
    app.finish().await;
}

async fn signed_links_refuse_forgery_and_expiry(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let a: Value = upload(&app, &alice, "a.png", "image/png", png(64, 48)).await.json().await.unwrap();
    let id = a["id"].as_str().unwrap();
    let url = a["url"].as_str().unwrap();
    let (path, query) = url.split_once('?').unwrap();
    let sig = query.split("sig=").nth(1).unwrap();

    assert_problem(get(&app, path).await, 403, "forbidden").await;
    let mut forged = sig.to_string();
    forged.replace_range(0..1, if forged.starts_with('A') { "B" } else { "A" });
    assert_problem(get(&app, &url.replace(sig, &forged)).await, 403, "forbidden").await;
    // The original's signature does not open the other renditions, nor a later expiry.
    assert_problem(get(&app, &format!("{path}/preview?{query}")).await, 403, "forbidden").await;
    let exp: i64 = query.split('&').find_map(|kv| kv.strip_prefix("exp=")).unwrap().parse().unwrap();
    assert_problem(
        get(&app, &url.replace(&format!("exp={exp}"), &format!("exp={}", exp + 3600))).await,
        403,
        "forbidden",
    )
    .await;
    // A link signed long ago has expired.
    let stored = app.services.store.upload(id.parse().unwrap()).await.unwrap().unwrap();
    let attachment = nexus::store::Attachment::from(&stored);
    let old = app.services.media.links().attachment(&attachment, chrono::Utc::now() - chrono::Duration::days(3));
    let p = assert_problem(get(&app, &old.url).await, 403, "forbidden").await;
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
    // Unknown ids and renditions are not found.
    assert_problem(get(&app, &format!("/api/v1/media/{}?exp=1&sig=x", uuid::Uuid::now_v7())).await, 403, "forbidden")
        .await;
    assert_problem(get(&app, &format!("{path}/huge?{query}")).await, 404, "not_found").await;
    assert_problem(get(&app, "/api/v1/media/not-an-id").await, 404, "not_found").await;
    app.finish().await;
}

async fn hostile_uploads_get_clear_errors(scale: Scale) {
    let app = spawn_with(scale, |c| c.media.max_upload_bytes = 256 * 1024).await;
    let (alice, _) = user(&app, "alice").await;
    let html = b"<!doctype html><html><body><script>alert(1)</script></body></html>".to_vec();
    assert_problem(upload(&app, &alice, "cat.png", "image/png", html).await, 415, "unsupported_media_type").await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    assert_problem(upload(&app, &alice, "logo.svg", "image/svg+xml", svg).await, 415, "unsupported_media_type").await;
    let mut truncated = png(300, 200);
    truncated.truncate(truncated.len() / 2);
    assert_problem(upload(&app, &alice, "half.png", "image/png", truncated).await, 400, "invalid_image").await;
    assert_problem(
        upload(&app, &alice, "bomb.png", "image/png", png_claiming(20_000, 20_000)).await,
        413,
        "image_too_large",
    )
    .await;
    assert_problem(upload(&app, &alice, "empty.png", "image/png", Vec::new()).await, 400, "validation_failed").await;
    // Past the size limit (a noisy image that does not compress below it).
    let noisy: Vec<u8> = (0..400_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    assert_problem(upload(&app, &alice, "big.png", "image/png", noisy).await, 413, "payload_too_large").await;
    // Not multipart, no file field, no token.
    let r =
        app.http.post(app.url("/api/v1/uploads")).bearer_auth(&alice).json(&serde_json::json!({"file": "x"})).send();
    assert_problem(r.await.unwrap(), 415, "unsupported_media_type").await;
    let form = reqwest::multipart::Form::new().text("note", "no file here");
    let r = app.http.post(app.url("/api/v1/uploads")).bearer_auth(&alice).multipart(form).send().await.unwrap();
    assert_problem(r, 400, "validation_failed").await;
    let part = reqwest::multipart::Part::bytes(png(8, 8)).file_name("a.png");
    let r = app.http.post(app.url("/api/v1/uploads")).multipart(reqwest::multipart::Form::new().part("file", part));
    assert_eq!(r.send().await.unwrap().status(), 401);
    // Nothing of the refused uploads was kept.
    assert_eq!(app.services.store.upload_bytes_of(app.register_id_of(&alice).await.parse().unwrap()).await.unwrap(), 0);
    app.finish().await;
}

/// A body streamed past the limit is answered 413 while the client is still sending: the
/// server stops reading at the limit, long before the 8 MiB the client means to send.
async fn an_oversized_body_is_answered_before_it_is_all_sent(scale: Scale) {
    let app = spawn_with(scale, |c| c.media.max_upload_bytes = 256 * 1024).await;
    let (alice, _) = user(&app, "alice").await;
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let boundary = "nexusboundary";
    let head = format!(
        "POST /api/v1/uploads HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {alice}\r\n\
         content-type: multipart/form-data; boundary={boundary}\r\ntransfer-encoding: chunked\r\n\r\n",
        app.addr
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let part = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n\
         content-type: image/png\r\n\r\n"
    );
    s.write_all(format!("{:x}\r\n{part}\r\n", part.len()).as_bytes()).await.unwrap();
    let chunk = vec![0x42u8; 64 * 1024];
    let total = 8 * 1024 * 1024;
    let mut sent = 0;
    let mut answer = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while sent < total && tokio::time::Instant::now() < deadline {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if s.write_all(&framed).await.is_err() {
            break;
        }
        sent += chunk.len();
        let mut buf = [0u8; 4096];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(5), s.read(&mut buf)).await {
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    }
    if answer.is_empty() {
        let mut buf = [0u8; 4096];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            answer.extend_from_slice(&buf[..n]);
        }
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "answer: {text}");
    assert!(text.contains("payload_too_large"), "answer: {text}");
    assert!(sent < total, "the answer came only after all {sent} bytes were sent");
    app.finish().await;
}

async fn the_quota_counts_what_a_user_keeps(scale: Scale) {
    let app = spawn_with(scale, |c| c.media.quota_bytes_per_user = 60 * 1024).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, _) = user(&app, "bob").await;
    let image = noisy_png(80, 80);
    assert!(image.len() > 15 * 1024, "{} bytes", image.len());
    let mut kept = 0;
    let refused = loop {
        let r = upload(&app, &alice, "a.png", "image/png", image.clone()).await;
        if r.status() != 201 {
            break r;
        }
        kept += 1;
        assert!(kept < 10, "the quota never applied");
    };
    assert!(kept >= 1, "the first upload fits");
    assert_problem(refused, 413, "quota_exceeded").await;
    assert_eq!(upload(&app, &bob, "b.png", "image/png", image).await.status(), 201, "bob has his own quota");
    app.finish().await;
}

async fn uploads_never_attached_are_swept(scale: Scale) {
    let app = spawn_with(scale, |c| c.media.orphan_ttl_hours = 1).await;
    let (alice, _) = user(&app, "alice").await;
    let bytes = png(50, 40);
    let first: Value = upload(&app, &alice, "a.png", "image/png", bytes.clone()).await.json().await.unwrap();
    let second: Value = upload(&app, &alice, "b.png", "image/png", bytes).await.json().await.unwrap();
    let key = |v: &Value| v["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap();
    let (a, b) = (
        app.services.store.upload(key(&first)).await.unwrap().unwrap(),
        app.services.store.upload(key(&second)).await.unwrap().unwrap(),
    );
    assert_eq!(a.storage_key, b.storage_key, "the same bytes are stored once");
    let now = chrono::Utc::now();
    assert_eq!(app.services.media.sweep_orphans(now).await.unwrap(), 0, "younger than the TTL: kept");
    // One of the two goes: the shared files stay for the other.
    assert_eq!(app.services.store.delete_upload(a.id).await.unwrap(), Some(1));
    assert_eq!(get(&app, second["thumbnail"]["url"].as_str().unwrap()).await.status(), 200);
    assert_eq!(app.services.media.sweep_orphans(now + chrono::Duration::hours(2)).await.unwrap(), 1);
    assert!(app.services.store.upload(b.id).await.unwrap().is_none());
    assert_problem(get(&app, second["thumbnail"]["url"].as_str().unwrap()).await, 404, "not_found").await;
    if scale == Scale::Embedded {
        let folder = app.env.data_dir().join("media").join(&b.storage_key[..2]).join(&b.storage_key[2..4]);
        assert!(!folder.join(&b.storage_key).exists(), "the files went with the last upload");
    }
    assert_eq!(nexus::jobs::media_sweep_step(&app.services).await.unwrap(), Some(0), "the job takes the lock and runs");
    app.finish().await;
}

both_scales!(
    upload_then_download_each_rendition,
    signed_links_refuse_forgery_and_expiry,
    hostile_uploads_get_clear_errors,
    an_oversized_body_is_answered_before_it_is_all_sent,
    the_quota_counts_what_a_user_keeps,
    uploads_never_attached_are_swept,
);
