//! One participant of a room: its `str0m` session, the tracks it publishes, and the
//! receive slots it has for the others' tracks.

use std::{collections::HashMap, net::SocketAddr, time::Instant};

use str0m::{
    Candidate, Event, Input, Output, Rtc,
    bwe::Bitrate,
    media::{MediaKind, MediaTime, Mid, Rid},
    net::{Protocol, Receive},
};
use tokio::net::UdpSocket;
use uuid::Uuid;

use super::{SfuSettings, SfuStats, layers::Meter};
use crate::protocol::rooms::Source;

/// A track this participant publishes (a send transceiver it declared).
#[derive(Debug)]
pub struct TrackIn {
    pub source: Source,
    /// One meter per simulcast layer seen (one with `rid: None` without simulcast).
    pub meters: Vec<Meter>,
    /// When a keyframe was last asked for, per layer (throttling).
    pub asked: HashMap<Option<Rid>, Instant>,
}

impl TrackIn {
    pub fn new(source: Source) -> Self {
        TrackIn { source, meters: Vec::new(), asked: HashMap::new() }
    }

    pub fn meter(&mut self, rid: Option<Rid>, bytes: usize, now: Instant) {
        match self.meters.iter_mut().find(|m| m.rid == rid) {
            Some(m) => m.add(bytes, now),
            None => {
                let mut m = Meter::new(rid, now);
                m.add(bytes, now);
                self.meters.push(m);
            }
        }
    }
}

/// Which remote track a slot carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackRef {
    pub publisher: Uuid,
    pub mid: Mid,
}

/// A receive slot (a `recvonly` transceiver of the client).
#[derive(Debug)]
pub struct OutSlot {
    pub mid: Mid,
    pub kind: MediaKind,
    pub track: Option<TrackRef>,
    /// The layer being forwarded (`Some(None)`: the publisher sends no simulcast).
    pub layer: Option<Option<Rid>>,
    /// The layer to switch to at its next keyframe.
    pub pending: Option<Option<Rid>>,
    /// Not shown by the subscriber: nothing is forwarded.
    pub paused: bool,
    /// Added to the incoming RTP time, so that a layer or track switch keeps the outgoing
    /// timeline going forward.
    pub offset: i64,
    pub last_out: Option<MediaTime>,
}

impl OutSlot {
    pub fn new(mid: Mid, kind: MediaKind) -> Self {
        OutSlot { mid, kind, track: None, layer: None, pending: None, paused: false, offset: i64::MIN, last_out: None }
    }

    /// Whether a video frame of layer `rid` goes out on this slot, switching layers at a
    /// keyframe of the pending one.
    pub fn pass(&mut self, rid: Option<Rid>, keyframe: bool) -> bool {
        if self.paused {
            return false;
        }
        if self.pending == Some(rid) && keyframe {
            self.layer = Some(rid);
            self.pending = None;
            self.offset = i64::MIN; // re-anchor the timeline at this frame
            return true;
        }
        if self.layer.is_none() && self.pending.is_none() && keyframe {
            // No choice made yet (no layer measured when the slot was assigned): start with
            // the first keyframe; the next layer pass corrects the choice.
            self.layer = Some(rid);
            self.offset = i64::MIN;
            return true;
        }
        self.layer == Some(rid)
    }

    /// The outgoing RTP time of a frame: the incoming time moved so that the outgoing
    /// timeline continues from the last frame sent (one frame later) after a switch.
    pub fn shifted(&mut self, time: MediaTime) -> MediaTime {
        if self.offset == i64::MIN {
            self.offset = match self.last_out {
                Some(last) if last.frequency() == time.frequency() => {
                    let step = i64::from(time.denom()) / 30;
                    last.numer() as i64 + step - time.numer() as i64
                }
                _ => 0,
            };
        }
        MediaTime::new(time.numer().wrapping_add_signed(self.offset), time.frequency())
    }

    /// Start over with another track (or none): wait for its first keyframe.
    pub fn assign(&mut self, track: Option<TrackRef>) {
        self.track = track;
        self.layer = None;
        self.pending = None;
        self.offset = i64::MIN;
    }
}

pub struct Participant {
    pub user: Uuid,
    pub session: Uuid,
    pub rtc: Rtc,
    pub ufrag: String,
    pub created: Instant,
    pub connected: bool,
    /// Since when ICE has been disconnected.
    pub lost_at: Option<Instant>,
    /// When `rtc` wants its next timeout.
    pub deadline: Instant,
    /// `handle_input` or `poll_output` failed: the session is unusable.
    pub broken: bool,
    pub tracks: HashMap<Mid, TrackIn>,
    pub slots: Vec<OutSlot>,
    /// Tile height per `(user, source)` of a remote video, from `room.view`.
    pub tiles: HashMap<(Uuid, Source), u32>,
    /// The egress bandwidth estimate towards this participant.
    pub estimate: Option<u64>,
    /// The slot totals last asked for with `room.renegotiate`.
    pub asked: Option<(usize, usize)>,
}

impl Participant {
    pub fn new(user: Uuid, session: Uuid, announced: SocketAddr, settings: &SfuSettings, now: Instant) -> Self {
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .enable_bwe(Some(Bitrate::kbps(settings.max_subscriber_kbps.min(1_000))))
            .build(now);
        if let Ok(c) = Candidate::host(announced, "udp") {
            rtc.add_local_candidate(c);
        }
        let ufrag = rtc.direct_api().local_ice_credentials().ufrag;
        Participant {
            user,
            session,
            rtc,
            ufrag,
            created: now,
            connected: false,
            lost_at: None,
            deadline: now,
            broken: false,
            tracks: HashMap::new(),
            slots: Vec::new(),
            tiles: HashMap::new(),
            estimate: None,
            asked: None,
        }
    }

    /// Feed one datagram.
    pub fn receive(&mut self, source: SocketAddr, destination: SocketAddr, data: &[u8], now: Instant) {
        let Ok(contents) = data.try_into() else { return };
        let input = Input::Receive(now, Receive { proto: Protocol::Udp, source, destination, contents });
        if let Err(e) = self.rtc.handle_input(input) {
            tracing::debug!(session = %self.session, error = %e, "sfu participant input failed");
            self.broken = true;
        }
    }

    pub fn timeout(&mut self, now: Instant) {
        if let Err(e) = self.rtc.handle_input(Input::Timeout(now)) {
            tracing::debug!(session = %self.session, error = %e, "sfu participant timeout failed");
            self.broken = true;
        }
    }

    /// Drain `rtc`: send what it transmits, collect its events, note its next timeout.
    pub fn poll(&mut self, socket: &UdpSocket, stats: &SfuStats, events: &mut Vec<Event>) {
        if self.broken {
            return;
        }
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => {
                    self.deadline = t;
                    return;
                }
                Ok(Output::Transmit(t)) => match socket.try_send_to(&t.contents, t.destination) {
                    Ok(n) => {
                        SfuStats::add(&stats.packets_out, 1);
                        SfuStats::add(&stats.bytes_out, n as u64);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => SfuStats::add(&stats.dropped, 1),
                    Err(e) => {
                        tracing::trace!(error = %e, "sfu send failed");
                        SfuStats::add(&stats.dropped, 1);
                    }
                },
                Ok(Output::Event(e)) => events.push(e),
                Err(e) => {
                    tracing::debug!(session = %self.session, error = %e, "sfu participant poll failed");
                    self.broken = true;
                    return;
                }
            }
        }
    }

    /// Ask this participant (as a publisher) for a keyframe of `mid`'s layer `rid`, at
    /// most every 500 ms per layer. Returns whether a request went out.
    pub fn request_keyframe(
        &mut self,
        mid: Mid,
        rid: Option<Rid>,
        kind: str0m::media::KeyframeRequestKind,
        now: Instant,
    ) -> bool {
        let Some(track) = self.tracks.get_mut(&mid) else { return false };
        if track.asked.get(&rid).is_some_and(|t| now.saturating_duration_since(*t).as_millis() < 500) {
            return false;
        }
        let Some(mut writer) = self.rtc.writer(mid) else { return false };
        if writer.request_keyframe(rid, kind).is_err() {
            return false;
        }
        track.asked.insert(rid, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use str0m::media::Frequency;

    use super::*;

    #[test]
    fn a_layer_switch_waits_for_its_keyframe_and_keeps_time_going_forward() {
        let mut slot = OutSlot::new(Mid::from("3"), MediaKind::Video);
        let (h, l): (Option<Rid>, Option<Rid>) = (Some("h".into()), Some("l".into()));
        assert!(!slot.pass(h, false), "nothing before a first keyframe");
        assert!(slot.pass(h, true));
        let t = slot.shifted(MediaTime::new(90_000, Frequency::NINETY_KHZ));
        slot.last_out = Some(t);
        assert_eq!(t.numer(), 90_000, "the first frame anchors the timeline as it is");
        slot.pending = Some(l);
        assert!(slot.pass(h, false), "the old layer until the new one's keyframe");
        assert!(!slot.pass(l, false));
        assert!(slot.pass(l, true), "switched at the keyframe");
        assert!(!slot.pass(h, true), "the old layer is no longer forwarded");
        // The new layer's clock is elsewhere (5,000,000); out time goes on one frame later.
        let t2 = slot.shifted(MediaTime::new(5_000_000, Frequency::NINETY_KHZ));
        assert_eq!(t2.numer(), 90_000 + 3_000);
        slot.paused = true;
        assert!(!slot.pass(l, true), "a hidden video forwards nothing");
    }
}
