//! `uploads`: N users upload JPEG photos at the same time, each several in a row; reports
//! uploads per second, the time from sending a photo to its thumbnail being ready (the
//! upload's answer: the server makes the renditions before it answers), failures, and the
//! server's RSS before and at its peak (sampled every 50 ms), which the decode semaphore
//! keeps bounded however many uploads wait.

use std::{
    io::Cursor,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use serde_json::json;

use crate::common::{check_loopback, http_client, percentile, register_users, rss_mb, run_tag};

/// A photo-like JPEG (smooth gradients with grain) of about `megabytes`.
fn photo(megabytes: f64) -> anyhow::Result<Vec<u8>> {
    // Grain at quality 92 costs about 0.55 bytes a pixel.
    let pixels = (megabytes * 1024.0 * 1024.0 / 0.55).max(64.0 * 64.0);
    let w = (pixels * 4.0 / 3.0).sqrt() as u32;
    let h = (w * 3 / 4).max(1);
    let mut seed = 0x9e37_79b9u32;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let grain = (seed % 48) as i32 - 24;
        let px = |base: u32| (base as i32 + grain).clamp(0, 255) as u8;
        image::Rgb([px(x * 255 / w), px(y * 255 / h), px((x + y) * 127 / (w + h))])
    });
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92).encode_image(&img)?;
    Ok(out.into_inner())
}

pub async fn run(url: &str, users: usize, per_user: usize, megabytes: f64, server_pid: Option<u32>) -> anyhow::Result<()> {
    check_loopback(url)?;
    let http = http_client()?;
    let accounts = register_users(&http, url, &format!("u{}", run_tag()), users.max(1)).await?;
    let body = Arc::new(photo(megabytes)?);
    eprintln!("{} users × {per_user} uploads of a {:.2} MB JPEG", accounts.len(), body.len() as f64 / 1e6);

    let before = rss_mb(server_pid);
    let peak = Arc::new(AtomicU64::new(before.map_or(0, |b| (b * 1024.0) as u64)));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                if let Some(mb) = rss_mb(server_pid) {
                    peak.fetch_max((mb * 1024.0) as u64, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for user in accounts {
        let (http, url, body) = (http.clone(), url.to_string(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = Vec::new();
            for i in 0..per_user {
                let part = reqwest::multipart::Part::bytes(body.to_vec()).file_name(format!("photo-{i}.jpg"));
                let form = reqwest::multipart::Form::new().part("file", part.mime_str("image/jpeg").expect("mime"));
                let started = Instant::now();
                let sent = http
                    .post(format!("{url}/api/v1/uploads"))
                    .bearer_auth(&user.token)
                    .multipart(form)
                    .timeout(Duration::from_secs(120))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 201 => latencies.push(started.elapsed().as_micros() as u32),
                    Ok(r) => failures.push(format!("{} {}", r.status(), r.text().await.unwrap_or_default())),
                    Err(e) => failures.push(e.to_string()),
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    for t in tasks {
        let (l, f) = t.await.context("upload task")?;
        latencies.extend(l);
        failures.extend(f);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    latencies.sort_unstable();
    let peak_mb = peak.load(Ordering::Relaxed) as f64 / 1024.0;
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "uploads": latencies.len(),
            "failed": failures.len(),
            "first_failures": failures.iter().take(3).collect::<Vec<_>>(),
            "jpeg_bytes": body.len(),
            "seconds": elapsed,
            "uploads_per_sec": latencies.len() as f64 / elapsed,
            "thumbnail_ready_ms": {
                "p50": percentile(&latencies, 0.50),
                "p99": percentile(&latencies, 0.99),
                "max": percentile(&latencies, 1.0),
            },
            "server_rss_mb_before": before,
            "server_rss_mb_peak": server_pid.map(|_| peak_mb),
        }))?
    );
    Ok(())
}
