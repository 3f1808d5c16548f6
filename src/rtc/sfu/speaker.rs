//! Active speakers from the RFC 6464 audio level that every audio packet carries (the
//! `ssrc-audio-level` header extension): no decoding. Each participant's level is smoothed
//! (an exponential average over about half a second of packets) and decays while no
//! packets come (DTX sends none in silence); whoever is above [`ACTIVE`] speaks.

use std::{collections::HashMap, time::Instant};

use uuid::Uuid;

/// Smoothed loudness (0–1) from which a participant counts as speaking.
pub const ACTIVE: f32 = 0.3;
/// Weight of one packet (20 ms) in the average: a time constant of about 0.5 s.
const ALPHA: f32 = 0.04;
/// Loudness 0 is this many dB below full scale (or quieter).
const FLOOR_DBOV: f32 = 70.0;

#[derive(Debug, Clone, Copy)]
struct Level {
    smoothed: f32,
    at: Instant,
}

/// The speaker detector of one room.
#[derive(Debug, Default)]
pub struct Speakers {
    levels: HashMap<Uuid, Level>,
    muted: HashMap<Uuid, bool>,
    shown: Vec<Uuid>,
}

/// RFC 6464 level (0 loudest … −127 dBov) as loudness 0–1.
pub fn loudness(dbov: i8) -> f32 {
    let db = f32::from(dbov.clamp(-127, 0));
    ((db + FLOOR_DBOV) / FLOOR_DBOV).clamp(0.0, 1.0)
}

impl Speakers {
    /// One audio packet of `user`, with its level if the packet carried one.
    pub fn sample(&mut self, user: Uuid, dbov: Option<i8>, now: Instant) {
        let Some(dbov) = dbov else { return };
        let x = loudness(dbov);
        let entry = self.levels.entry(user).or_insert(Level { smoothed: 0.0, at: now });
        let decayed = decay(*entry, now);
        entry.smoothed = decayed + ALPHA * (x - decayed);
        entry.at = now;
    }

    pub fn set_muted(&mut self, user: Uuid, muted: bool) {
        self.muted.insert(user, muted);
    }

    pub fn remove(&mut self, user: Uuid) {
        self.levels.remove(&user);
        self.muted.remove(&user);
    }

    /// Who speaks now, loudest first.
    pub fn current(&self, now: Instant) -> Vec<(Uuid, f32)> {
        let mut out: Vec<(Uuid, f32)> = self
            .levels
            .iter()
            .filter(|(u, _)| !self.muted.get(u).copied().unwrap_or(false))
            .map(|(u, l)| (*u, decay(*l, now)))
            .filter(|(_, l)| *l >= ACTIVE)
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// The current speakers if who speaks (or the order) changed since the last call.
    pub fn changed(&mut self, now: Instant) -> Option<Vec<(Uuid, f32)>> {
        let now_speaking = self.current(now);
        let ids: Vec<Uuid> = now_speaking.iter().map(|(u, _)| *u).collect();
        if ids == self.shown {
            return None;
        }
        self.shown = ids;
        Some(now_speaking)
    }
}

/// Without packets the level falls by half every 250 ms.
fn decay(l: Level, now: Instant) -> f32 {
    let idle = now.saturating_duration_since(l.at).as_secs_f32();
    if idle <= 0.06 { l.smoothed } else { l.smoothed * 0.5f32.powf(idle / 0.25) }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn loud_speech_speaks_silence_does_not_and_order_is_loudest_first() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut s = Speakers::default();
        let t0 = Instant::now();
        for i in 0..50 {
            let t = t0 + Duration::from_millis(20 * i);
            s.sample(a, Some(-10), t);
            s.sample(b, Some(-30), t);
            s.sample(c, Some(-100), t);
        }
        let t = t0 + Duration::from_millis(1000);
        let now: Vec<Uuid> = s.current(t).into_iter().map(|(u, _)| u).collect();
        assert_eq!(now, vec![a, b]);
        assert!(s.changed(t).is_some());
        assert!(s.changed(t).is_none(), "no change, no event");
        s.set_muted(a, true);
        assert_eq!(s.changed(t).unwrap().iter().map(|(u, _)| *u).collect::<Vec<_>>(), vec![b]);
        // Silence (no packets: DTX) decays to nothing within a second.
        assert!(s.current(t + Duration::from_secs(1)).is_empty());
    }

    #[test]
    fn one_loud_packet_is_not_speech() {
        let a = Uuid::now_v7();
        let mut s = Speakers::default();
        let t = Instant::now();
        s.sample(a, Some(0), t);
        assert!(s.current(t).is_empty());
        assert_eq!(loudness(0), 1.0);
        assert_eq!(loudness(-127), 0.0);
        assert_eq!(loudness(-35), 0.5);
    }
}
