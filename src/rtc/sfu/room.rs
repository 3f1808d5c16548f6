//! One room: the task that owns its participants and forwards media between them.
//!
//! **Slots.** The client always offers. Its offer holds its send transceivers (named by
//! `tracks`) and `recvonly` transceivers: the *slots*. Every other participant's tracks
//! are assigned to free slots of the right kind; when slots run out the participant is
//! asked for more (`Renegotiate` with the totals it should have) and offers again. A
//! slot whose track goes away is reused by the next one, without a negotiation (`Slots`).
//!
//! **Forwarding.** `index` maps each published track to its subscribers' slots, so a
//! media frame costs one lookup and one write per subscriber. Frames are written in
//! str0m's frame mode: str0m numbers the packets of each outgoing stream, and the SFU keeps
//! the RTP time going forward across layer and track switches (`OutSlot::offset`).
//!
//! **Simulcast.** A video slot forwards one layer ([`super::layers`]); a switch waits for
//! a keyframe of the new layer (asked for at once) and forwards the old one until then.
//!
//! **Time.** Each participant is woken only at its own str0m deadline; datagrams are
//! handled in batches; periodic work (failures, layers, speakers) runs every 250 ms.

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use str0m::{
    Event, IceConnectionState,
    bwe::BweKind,
    change::SdpOffer,
    media::{KeyframeRequestKind, MediaData, MediaKind, Mid, Rid},
};
use tokio::{net::UdpSocket, sync::mpsc};
use uuid::Uuid;

use super::{
    Command, SfuEvent, SfuEventKind, SfuSettings, SfuStats, layers,
    participant::{OutSlot, Participant, TrackIn, TrackRef},
    sdp::{self, Kind},
    socket::{Datagram, Router},
    speaker::Speakers,
};
use crate::protocol::rooms::{Slot, Source, Speaker, Tile, TrackDecl};

const TICK: Duration = Duration::from_millis(250);
/// Datagrams handled before the room looks at its timers again.
const BATCH: usize = 64;

pub struct RoomParts {
    pub conversation_id: Uuid,
    pub room_id: Uuid,
    pub socket: Arc<UdpSocket>,
    pub announced: SocketAddr,
    pub router: Arc<Router>,
    pub events: mpsc::UnboundedSender<SfuEvent>,
    pub stats: Arc<SfuStats>,
    pub settings: SfuSettings,
}

pub struct Room {
    parts: RoomParts,
    participants: HashMap<Uuid, Participant>,
    /// Join order (stable slot assignment and speaker ties).
    order: Vec<Uuid>,
    /// `(publisher, mid)` → `(subscriber, slot index)`.
    index: HashMap<TrackRef, Vec<(Uuid, usize)>>,
    speakers: Speakers,
    dirty: Vec<Uuid>,
    dirty_set: HashSet<Uuid>,
    packets_tx: mpsc::Sender<Datagram>,
    packets_rx: Option<mpsc::Receiver<Datagram>>,
    last_tick: Instant,
    last_layers: Instant,
    last_speakers: Instant,
}

impl Room {
    pub fn new(parts: RoomParts) -> Self {
        let (packets_tx, packets_rx) = mpsc::channel(parts.settings.room_queue.max(16));
        let now = Instant::now();
        Room {
            parts,
            participants: HashMap::new(),
            order: Vec::new(),
            index: HashMap::new(),
            speakers: Speakers::default(),
            dirty: Vec::new(),
            dirty_set: HashSet::new(),
            packets_tx,
            packets_rx: Some(packets_rx),
            last_tick: now,
            last_layers: now,
            last_speakers: now,
        }
    }

    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut packets = self.packets_rx.take().expect("run once");
        let mut started = false;
        loop {
            let next = self.participants.values().map(|p| p.deadline).fold(self.last_tick + TICK, Instant::min);
            tokio::select! {
                cmd = commands.recv() => {
                    let Some(cmd) = cmd else { break };
                    if !self.command(cmd) { break }
                    started = true;
                }
                d = packets.recv() => {
                    let Some(d) = d else { break };
                    let now = Instant::now();
                    self.datagram(d, now);
                    for _ in 1..BATCH {
                        let Ok(d) = packets.try_recv() else { break };
                        self.datagram(d, now);
                    }
                }
                _ = tokio::time::sleep_until(next.into()) => {}
            }
            let now = Instant::now();
            let due: Vec<Uuid> = self.participants.values().filter(|p| p.deadline <= now).map(|p| p.session).collect();
            for id in due {
                if let Some(p) = self.participants.get_mut(&id) {
                    p.timeout(now);
                }
                self.mark(id);
            }
            self.drain(now);
            if now.saturating_duration_since(self.last_tick) >= TICK {
                self.last_tick = now;
                self.tick(now);
                self.drain(now);
            }
            if started && self.participants.is_empty() {
                break;
            }
        }
        for id in self.order.clone() {
            self.remove(id);
        }
        tracing::info!(conversation = %self.parts.conversation_id, room = %self.parts.room_id, "sfu room closed");
    }

    // ----- commands ---------------------------------------------------------------------

    /// Returns false when the room is to close.
    fn command(&mut self, cmd: Command) -> bool {
        let now = Instant::now();
        match cmd {
            Command::Offer { user, session, sdp, tracks, .. } => self.offer(user, session, &sdp, &tracks, now),
            Command::Leave { session, .. } => {
                if self.remove(session) {
                    self.reassign(None, now);
                }
            }
            Command::View { session, tiles, .. } => self.view(session, &tiles, now),
            Command::Mute { session, source, muted, .. } => {
                if let (Some(p), Source::Microphone) = (self.participants.get(&session), source) {
                    self.speakers.set_muted(p.user, muted);
                }
            }
            Command::Close { .. } => return false,
        }
        self.drain(now);
        true
    }

    fn offer(&mut self, user: Uuid, session: Uuid, offer_sdp: &str, tracks: &[TrackDecl], now: Instant) {
        let reject = |room: &Self, code: &'static str, message: String| {
            room.emit(vec![(user, session)], SfuEventKind::Rejected { code, message });
        };
        let sections = sdp::sections(offer_sdp);
        let mut seen = HashSet::new();
        for t in tracks {
            let Some(s) = sections.iter().find(|s| s.mid == t.mid) else {
                return reject(self, "validation_failed", format!("tracks: no m-section with mid {:?}", t.mid));
            };
            let kind_ok = if t.source.is_video() { s.kind == Kind::Video } else { s.kind == Kind::Audio };
            if !s.sends() || !kind_ok {
                return reject(
                    self,
                    "validation_failed",
                    format!(
                        "tracks: mid {:?} is not a sending {} section",
                        t.mid,
                        if t.source.is_video() { "video" } else { "audio" }
                    ),
                );
            }
            if !seen.insert(t.source) {
                return reject(self, "validation_failed", format!("tracks: {:?} named twice", t.source));
            }
        }
        let parsed = match SdpOffer::from_sdp_string(offer_sdp) {
            Ok(o) => o,
            Err(e) => return reject(self, "invalid_sdp", format!("sdp: {e}")),
        };
        let created = !self.participants.contains_key(&session);
        if created {
            let p = Participant::new(user, session, self.parts.announced, &self.parts.settings, now);
            self.parts.router.add(&p.ufrag, session, self.packets_tx.clone());
            self.participants.insert(session, p);
            self.order.push(session);
            SfuStats::add(&self.parts.stats.participants, 1);
        }
        let p = self.participants.get_mut(&session).expect("present");
        let answer = match p.rtc.sdp_api().accept_offer(parsed) {
            Ok(a) => a,
            Err(e) => {
                if created {
                    self.remove(session);
                }
                return reject(self, "invalid_sdp", format!("the offer cannot be used: {e}"));
            }
        };
        // What it publishes now.
        let declared: HashMap<Mid, Source> = tracks.iter().map(|t| (Mid::from(t.mid.as_str()), t.source)).collect();
        p.tracks.retain(|mid, t| declared.get(mid) == Some(&t.source));
        for (mid, source) in &declared {
            p.tracks.entry(*mid).or_insert_with(|| TrackIn::new(*source));
        }
        // Its slots now: keep the assignment of slots that stay.
        let mut old: HashMap<Mid, OutSlot> = p.slots.drain(..).map(|s| (s.mid, s)).collect();
        for s in sections.iter().filter(|s| s.is_slot()) {
            let mid = Mid::from(s.mid.as_str());
            let kind = if s.kind == Kind::Audio { MediaKind::Audio } else { MediaKind::Video };
            let slot = old.remove(&mid).filter(|o| o.kind == kind).unwrap_or_else(|| OutSlot::new(mid, kind));
            p.slots.push(slot);
        }
        p.asked = None;
        self.mark(session);
        self.reassign(Some(session), now);
        let slots = self.slots_of(session);
        self.emit(vec![(user, session)], SfuEventKind::Answer { sdp: answer.to_sdp_string(), slots });
    }

    fn view(&mut self, session: Uuid, tiles: &[Tile], now: Instant) {
        let Some(p) = self.participants.get_mut(&session) else { return };
        p.tiles = tiles.iter().map(|t| ((t.user_id, t.source), t.height)).collect();
        self.choose_layers(Some(session), now);
    }

    /// Take a participant out. Returns whether it was there.
    fn remove(&mut self, session: Uuid) -> bool {
        let Some(mut p) = self.participants.remove(&session) else { return false };
        self.order.retain(|s| *s != session);
        self.parts.router.remove(&p.ufrag, session);
        self.speakers.remove(p.user);
        p.rtc.disconnect();
        let mut ignored = Vec::new();
        p.poll(&self.parts.socket, &self.parts.stats, &mut ignored);
        self.parts.stats.participants.fetch_sub(1, Ordering::Relaxed);
        true
    }

    // ----- slots ------------------------------------------------------------------------

    /// Give every subscriber's free slots to the tracks it lacks; ask for more slots where
    /// they run out. `offering` gets its slots in its answer, the others a `Slots` event
    /// when theirs changed.
    fn reassign(&mut self, offering: Option<Uuid>, now: Instant) {
        let published: Vec<(TrackRef, Source)> = self
            .order
            .iter()
            .filter_map(|s| self.participants.get(s))
            .flat_map(|p| {
                let mut t: Vec<(TrackRef, Source)> =
                    p.tracks.iter().map(|(mid, t)| (TrackRef { publisher: p.session, mid: *mid }, t.source)).collect();
                t.sort_by_key(|(_, s)| *s as u8);
                t
            })
            .collect();
        let mut keyframes: Vec<(TrackRef, usize, Uuid)> = Vec::new();
        let mut notify = Vec::new();
        for sub in self.order.clone() {
            let Some(p) = self.participants.get_mut(&sub) else { continue };
            let wanted: Vec<&(TrackRef, Source)> = published.iter().filter(|(t, _)| t.publisher != sub).collect();
            let mut changed = false;
            for slot in &mut p.slots {
                if let Some(t) = slot.track
                    && !wanted.iter().any(|(w, _)| *w == t)
                {
                    slot.assign(None);
                    changed = true;
                }
            }
            let (mut missing_audio, mut missing_video) = (0, 0);
            for (track, source) in &wanted {
                if p.slots.iter().any(|s| s.track == Some(*track)) {
                    continue;
                }
                let kind = if source.is_video() { MediaKind::Video } else { MediaKind::Audio };
                match p.slots.iter().position(|s| s.track.is_none() && s.kind == kind) {
                    Some(i) => {
                        p.slots[i].assign(Some(*track));
                        changed = true;
                        if kind == MediaKind::Video {
                            keyframes.push((*track, i, sub));
                        }
                    }
                    None if kind == MediaKind::Video => missing_video += 1,
                    None => missing_audio += 1,
                }
            }
            if missing_audio + missing_video > 0 {
                let count = |k: MediaKind| p.slots.iter().filter(|s| s.kind == k).count();
                let totals = (count(MediaKind::Audio) + missing_audio, count(MediaKind::Video) + missing_video);
                if p.asked != Some(totals) {
                    p.asked = Some(totals);
                    let user = p.user;
                    self.emit(vec![(user, sub)], SfuEventKind::Renegotiate { audio: totals.0, video: totals.1 });
                }
            }
            if changed && offering != Some(sub) {
                notify.push(sub);
            }
        }
        self.rebuild_index();
        for sub in notify {
            let Some(user) = self.participants.get(&sub).map(|p| p.user) else { continue };
            let slots = self.slots_of(sub);
            self.emit(vec![(user, sub)], SfuEventKind::Slots(slots));
        }
        if !keyframes.is_empty() {
            self.choose_layers(None, now);
        }
    }

    fn rebuild_index(&mut self) {
        self.index.clear();
        for p in self.participants.values() {
            for (i, slot) in p.slots.iter().enumerate() {
                if let Some(t) = slot.track {
                    self.index.entry(t).or_default().push((p.session, i));
                }
            }
        }
    }

    fn slots_of(&self, session: Uuid) -> Vec<Slot> {
        let Some(p) = self.participants.get(&session) else { return Vec::new() };
        p.slots
            .iter()
            .filter_map(|s| {
                let t = s.track?;
                let publisher = self.participants.get(&t.publisher)?;
                let source = publisher.tracks.get(&t.mid)?.source;
                Some(Slot { mid: s.mid.to_string(), user_id: publisher.user, source })
            })
            .collect()
    }

    // ----- simulcast layers ---------------------------------------------------------

    /// Pick each video slot's layer (for one subscriber, or all); a change asks the
    /// publisher for a keyframe of the new layer, and so does every later pass until it
    /// has come.
    fn choose_layers(&mut self, only: Option<Uuid>, now: Instant) {
        let cap = self.parts.settings.max_subscriber_kbps * 1000;
        let mut asks: Vec<(TrackRef, Option<Rid>)> = Vec::new();
        let subs: Vec<Uuid> = match only {
            Some(s) => vec![s],
            None => self.order.clone(),
        };
        for sub in subs {
            let Some(p) = self.participants.get(&sub) else { continue };
            let mut choices: Vec<(usize, Option<Option<Rid>>, bool)> = Vec::new();
            let visible = p
                .slots
                .iter()
                .filter(|s| s.kind == MediaKind::Video && s.track.is_some())
                .filter(|s| self.tile_height(p, s) != Some(0))
                .count()
                .max(1) as u64;
            let total = p.estimate.map_or(cap, |e| e.min(cap));
            let budget = Some(total / visible);
            for (i, slot) in p.slots.iter().enumerate() {
                let (MediaKind::Video, Some(t)) = (slot.kind, slot.track) else { continue };
                let Some(publisher) = self.participants.get(&t.publisher) else { continue };
                let Some(track) = publisher.tracks.get(&t.mid) else { continue };
                let height = self.tile_height(p, slot);
                let ranked = layers::ranked(&track.meters, now);
                match layers::choose(&ranked, height, budget) {
                    None if height == Some(0) => choices.push((i, None, true)),
                    None => {}
                    Some(k) => choices.push((i, Some(ranked[k].rid), false)),
                }
            }
            let p = self.participants.get_mut(&sub).expect("present");
            for (i, want, paused) in choices {
                let slot = &mut p.slots[i];
                let was_paused = slot.paused;
                slot.paused = paused;
                let Some(want) = want else { continue };
                if was_paused {
                    slot.layer = None;
                }
                // Until the wanted layer's keyframe arrives, ask at every pass: a request
                // can be lost, or fall within the publisher's throttle just after another
                // subscriber's keyframe went by, and browsers send keyframes only when asked.
                if slot.layer != Some(want) {
                    slot.pending = Some(want);
                    if let Some(t) = slot.track {
                        asks.push((t, want));
                    }
                }
            }
        }
        for (t, rid) in asks {
            self.ask_keyframe(t, rid, KeyframeRequestKind::Pli, now);
        }
    }

    fn tile_height(&self, sub: &Participant, slot: &OutSlot) -> Option<u32> {
        let t = slot.track?;
        let publisher = self.participants.get(&t.publisher)?;
        let source = publisher.tracks.get(&t.mid)?.source;
        sub.tiles.get(&(publisher.user, source)).copied()
    }

    fn ask_keyframe(&mut self, t: TrackRef, rid: Option<Rid>, kind: KeyframeRequestKind, now: Instant) {
        let Some(p) = self.participants.get_mut(&t.publisher) else { return };
        if p.request_keyframe(t.mid, rid, kind, now) {
            SfuStats::add(&self.parts.stats.keyframe_requests, 1);
            self.mark(t.publisher);
        }
    }

    // ----- network and str0m ------------------------------------------------------

    fn datagram(&mut self, d: Datagram, now: Instant) {
        let Some(p) = self.participants.get_mut(&d.session) else { return };
        p.receive(d.source, self.parts.announced, &d.data, now);
        self.mark(d.session);
    }

    fn mark(&mut self, session: Uuid) {
        if self.dirty_set.insert(session) {
            self.dirty.push(session);
        }
    }

    /// Poll every participant that may have output, and act on its events (which may
    /// give others output in turn), until none has.
    fn drain(&mut self, now: Instant) {
        let mut events = Vec::new();
        while let Some(session) = self.dirty.pop() {
            self.dirty_set.remove(&session);
            let Some(p) = self.participants.get_mut(&session) else { continue };
            p.poll(&self.parts.socket, &self.parts.stats, &mut events);
            for e in events.drain(..) {
                self.event(session, e, now);
            }
        }
    }

    fn event(&mut self, session: Uuid, e: Event, now: Instant) {
        match e {
            Event::Connected => {
                if let Some(p) = self.participants.get_mut(&session) {
                    p.connected = true;
                    tracing::debug!(session = %session, "sfu participant connected");
                }
            }
            Event::IceConnectionStateChange(state) => {
                if let Some(p) = self.participants.get_mut(&session) {
                    p.lost_at = match state {
                        IceConnectionState::Disconnected => Some(p.lost_at.unwrap_or(now)),
                        _ => None,
                    };
                }
            }
            Event::MediaData(data) => self.media(session, data, now),
            Event::KeyframeRequest(req) => {
                let Some(p) = self.participants.get(&session) else { return };
                let Some(slot) = p.slots.iter().find(|s| s.mid == req.mid) else { return };
                let (Some(t), rid) = (slot.track, slot.pending.or(slot.layer).flatten()) else { return };
                self.ask_keyframe(t, rid, req.kind, now);
            }
            Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. } | BweKind::Remb { estimate, .. }) => {
                if let Some(p) = self.participants.get_mut(&session) {
                    p.estimate = Some(estimate.as_u64());
                }
            }
            _ => {}
        }
    }

    fn media(&mut self, session: Uuid, data: MediaData, now: Instant) {
        let Some(p) = self.participants.get_mut(&session) else { return };
        let Some(track) = p.tracks.get_mut(&data.mid) else { return };
        let video = track.source.is_video();
        if video {
            track.meter(data.rid, data.data.len(), now);
        } else {
            let user = p.user;
            self.speakers.sample(user, data.ext_vals.audio_level, now);
        }
        let key = TrackRef { publisher: session, mid: data.mid };
        if video && !data.contiguous {
            self.ask_keyframe(key, data.rid, KeyframeRequestKind::Fir, now);
        }
        // Taken out for the loop (no copy per frame) and put back: forwarding never
        // changes the index.
        let Some(targets) = self.index.get_mut(&key).map(std::mem::take) else { return };
        let keyframe = video && data.is_keyframe();
        for &(sub, i) in &targets {
            let Some(s) = self.participants.get_mut(&sub) else { continue };
            let Some(slot) = s.slots.get_mut(i) else { continue };
            if video && !data.contiguous && !keyframe && slot.layer == Some(data.rid) {
                // Frames were lost before this one: the stream we send would look whole
                // to the receiver, which would decode it against a missing reference (and
                // show corruption without asking for a keyframe). Hold the layer until
                // its next keyframe, asked for above.
                slot.layer = None;
                slot.pending = Some(data.rid);
            }
            if slot.track != Some(key) || (video && !slot.pass(data.rid, keyframe)) {
                continue;
            }
            let time = slot.shifted(data.time);
            let Some(writer) = s.rtc.writer(slot.mid) else { continue };
            let Some(pt) = writer.match_params(data.params) else {
                SfuStats::add(&self.parts.stats.dropped, 1);
                continue;
            };
            match writer.write(pt, data.network_time, time, data.data.clone()) {
                Ok(()) => {
                    slot.last_out = Some(time);
                    SfuStats::add(&self.parts.stats.forwarded, 1);
                    SfuStats::add(&self.parts.stats.forwarded_bytes, data.data.len() as u64);
                }
                Err(e) => {
                    tracing::trace!(error = %e, "sfu write failed");
                    SfuStats::add(&self.parts.stats.dropped, 1);
                }
            }
            self.mark(sub);
        }
        if let Some(slot) = self.index.get_mut(&key) {
            *slot = targets;
        }
    }

    // ----- periodic -----------------------------------------------------------------

    fn tick(&mut self, now: Instant) {
        let s = &self.parts.settings;
        let failed: Vec<(Uuid, Uuid)> = self
            .participants
            .values()
            .filter(|p| {
                p.broken
                    || !p.rtc.is_alive()
                    || (!p.connected && now.saturating_duration_since(p.created) > s.connect_timeout)
                    || p.lost_at.is_some_and(|t| now.saturating_duration_since(t) > s.media_grace)
            })
            .map(|p| (p.user, p.session))
            .collect();
        for (user, session) in failed {
            tracing::info!(session = %session, "sfu participant failed");
            self.remove(session);
            self.emit(vec![(user, session)], SfuEventKind::Failed);
            self.reassign(None, now);
        }
        if now.saturating_duration_since(self.last_layers) >= Duration::from_secs(1) {
            self.last_layers = now;
            for p in self.participants.values_mut() {
                for t in p.tracks.values_mut() {
                    for m in &mut t.meters {
                        m.tick(now);
                    }
                }
            }
            self.choose_layers(None, now);
        }
        if now.saturating_duration_since(self.last_speakers) >= Duration::from_millis(500) {
            self.last_speakers = now;
            if let Some(list) = self.speakers.changed(now) {
                let speakers = list.into_iter().map(|(user_id, level)| Speaker { user_id, level }).collect();
                let to = self.participants.values().map(|p| (p.user, p.session)).collect();
                self.emit(to, SfuEventKind::Speakers(speakers));
            }
        }
    }

    fn emit(&self, to: Vec<(Uuid, Uuid)>, kind: SfuEventKind) {
        let _ = self.parts.events.send(SfuEvent {
            conversation_id: self.parts.conversation_id,
            room_id: self.parts.room_id,
            to,
            kind,
        });
    }
}
