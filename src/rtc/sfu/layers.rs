//! Simulcast: which of a publisher's video layers each subscriber gets. The layers are
//! ranked by the bitrate they actually carry (not by their `rid` names, which clients
//! choose), the tile the subscriber shows the video in picks the layer that looks right,
//! and the subscriber's bandwidth share steps it down further.

use std::time::Instant;

use str0m::media::Rid;

/// One layer of a published video as the SFU measures it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layer {
    /// `None`: the publisher sends no simulcast.
    pub rid: Option<Rid>,
    pub bps: u64,
}

/// Tile heights (CSS pixels) from which the top and the middle layer are worth it.
const TOP_FROM: u32 = 540;
const MIDDLE_FROM: u32 = 270;

/// The layer to forward: an index into `layers` (sorted by bitrate, highest first), or
/// `None` when the video is not shown (`tile_height` 0) or nothing has been seen yet.
/// `budget_bps` is the subscriber's bandwidth share for this video, if known.
pub fn choose(layers: &[Layer], tile_height: Option<u32>, budget_bps: Option<u64>) -> Option<usize> {
    if layers.is_empty() || tile_height == Some(0) {
        return None;
    }
    let last = layers.len() - 1;
    let mut i = match tile_height {
        None => 0,
        Some(h) if h >= TOP_FROM => 0,
        Some(h) if h >= MIDDLE_FROM => 1,
        Some(_) => 2,
    }
    .min(last);
    if let Some(budget) = budget_bps {
        while i < last && layers[i].bps > budget {
            i += 1;
        }
    }
    Some(i)
}

/// Bytes seen on one layer, turned into a smoothed bitrate once a second.
#[derive(Debug, Clone)]
pub struct Meter {
    pub rid: Option<Rid>,
    bytes: u64,
    since: Instant,
    pub bps: u64,
    pub last_seen: Instant,
}

impl Meter {
    pub fn new(rid: Option<Rid>, now: Instant) -> Self {
        Meter { rid, bytes: 0, since: now, bps: 0, last_seen: now }
    }

    pub fn add(&mut self, bytes: usize, now: Instant) {
        self.bytes += bytes as u64;
        self.last_seen = now;
        // The first second: report what came so far, so a new layer is ranked at once.
        if self.bps == 0 {
            let secs = now.saturating_duration_since(self.since).as_secs_f64().max(0.1);
            self.bps = (self.bytes as f64 * 8.0 / secs) as u64;
        }
    }

    /// Close the window (about once a second).
    pub fn tick(&mut self, now: Instant) {
        let secs = now.saturating_duration_since(self.since).as_secs_f64();
        if secs < 0.5 {
            return;
        }
        let rate = (self.bytes as f64 * 8.0 / secs) as u64;
        self.bps = if self.bps == 0 { rate } else { (self.bps * 2 + rate) / 3 };
        self.bytes = 0;
        self.since = now;
    }
}

/// The layers of a video from its meters, highest bitrate first; layers silent for 2 s
/// (the publisher stopped sending them, e.g. under congestion) are left out.
pub fn ranked(meters: &[Meter], now: Instant) -> Vec<Layer> {
    let mut out: Vec<Layer> = meters
        .iter()
        .filter(|m| now.saturating_duration_since(m.last_seen).as_secs_f32() < 2.0)
        .map(|m| Layer { rid: m.rid, bps: m.bps })
        .collect();
    out.sort_by(|a, b| b.bps.cmp(&a.bps));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(rid: &str, kbps: u64) -> Layer {
        Layer { rid: Some(rid.into()), bps: kbps * 1000 }
    }

    #[test]
    fn the_tile_picks_the_layer_and_the_budget_steps_it_down() {
        let layers = [l("h", 1500), l("m", 500), l("l", 150)];
        assert_eq!(choose(&layers, None, None), Some(0));
        assert_eq!(choose(&layers, Some(720), None), Some(0));
        assert_eq!(choose(&layers, Some(360), None), Some(1));
        assert_eq!(choose(&layers, Some(120), None), Some(2));
        assert_eq!(choose(&layers, Some(0), None), None, "hidden: nothing forwarded");
        assert_eq!(choose(&layers, Some(720), Some(600_000)), Some(1));
        assert_eq!(choose(&layers, Some(720), Some(10_000)), Some(2), "never below the lowest");
        assert_eq!(choose(&[l("h", 900)], Some(120), None), Some(0), "one layer: that one");
        assert_eq!(choose(&[], None, None), None);
    }

    #[test]
    fn meters_rank_by_what_they_carry_and_forget_silent_layers() {
        let t0 = Instant::now();
        let mut h = Meter::new(Some("a".into()), t0);
        let mut m = Meter::new(Some("b".into()), t0);
        h.add(10_000, t0 + std::time::Duration::from_millis(100));
        m.add(90_000, t0 + std::time::Duration::from_millis(100));
        let r = ranked(&[h.clone(), m.clone()], t0 + std::time::Duration::from_millis(200));
        assert_eq!(r[0].rid, Some("b".into()), "ranked by bitrate, not by name");
        let later = t0 + std::time::Duration::from_secs(3);
        m.add(1, later);
        assert_eq!(ranked(&[h, m], later).len(), 1);
    }
}
