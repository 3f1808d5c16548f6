//! A participant of a group call without a browser: a str0m session that sends synthetic
//! Opus and VP8 (optionally in two simulcast layers) to the SFU and counts what arrives on
//! each receive slot. The tests use it to check forwarding, and `nexus-bench sfu` to load
//! the SFU. It speaks the protocol's client side: it offers, adds slots on
//! `room.renegotiate`, and reads `room.answer` / `room.slots`.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use str0m::{
    Candidate, Event, Input, Output, Rtc,
    change::{SdpAnswer, SdpPendingOffer},
    media::{Direction, MediaKind, MediaTime, Mid, Rid, Simulcast, SimulcastLayer},
    net::{Protocol, Receive},
};
use tokio::{net::UdpSocket, sync::mpsc};

/// What a peer has received on one slot.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub frames: u64,
    pub bytes: u64,
    pub keyframes: u64,
    /// Latency samples: ms from the send time written into the frame to its arrival.
    pub delays_ms: Vec<f64>,
}

/// Shared view of a running peer.
#[derive(Debug, Default)]
pub struct PeerState {
    pub connected: bool,
    pub received: HashMap<String, Received>,
    pub keyframe_requests: u64,
    pub failed: Option<String>,
}

/// What to send.
#[derive(Debug, Clone, Copy)]
pub struct Sending {
    pub audio: bool,
    pub video: bool,
    /// Two simulcast layers ("h" large frames, "l" small ones) instead of one.
    pub simulcast: bool,
    /// A keyframe every 60 frames besides the first and those asked for. Browsers send
    /// keyframes only when asked (PLI/FIR), so a request that goes unanswered stalls a
    /// subscriber's video until the SFU asks again.
    pub periodic_keyframes: bool,
    /// How many keyframe requests go unanswered before the next is honoured (a lost PLI).
    pub ignore_keyframe_requests: u32,
}

impl Sending {
    /// Audio and video, one layer, keyframes every 2 s.
    pub const AV: Sending =
        Sending { audio: true, video: true, simulcast: false, periodic_keyframes: true, ignore_keyframe_requests: 0 };
    /// Audio only.
    pub const AUDIO: Sending = Sending { video: false, ..Sending::AV };
}

enum Ctl {
    Offer { slots: (usize, usize), reply: tokio::sync::oneshot::Sender<Option<String>> },
    Answer(String),
    Stop,
}

/// A running peer: its task owns the str0m session.
pub struct Peer {
    ctl: mpsc::UnboundedSender<Ctl>,
    pub state: Arc<Mutex<PeerState>>,
    /// The mids of its send transceivers: (microphone, camera).
    pub mic: Option<String>,
    pub cam: Option<String>,
}

/// Size of a frame of layer "h" / "l" / audio.
const BIG: usize = 1100;
const SMALL: usize = 300;
const AUDIO: usize = 80;

impl Peer {
    /// Bind a UDP socket on `ip` and start the session (nothing is offered yet).
    pub async fn start(ip: std::net::IpAddr, sending: Sending) -> std::io::Result<Peer> {
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let local = socket.local_addr()?;
        let mut rtc = Rtc::builder().clear_codecs().enable_opus(true, false).enable_vp8(true).build(Instant::now());
        if let Ok(c) = Candidate::host(local, "udp") {
            rtc.add_local_candidate(c);
        }
        let mut api = rtc.sdp_api();
        let mic = sending.audio.then(|| api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None));
        let simulcast = sending
            .simulcast
            .then(|| Simulcast { send: vec![SimulcastLayer::new("h"), SimulcastLayer::new("l")], recv: vec![] });
        let cam = sending.video.then(|| api.add_media(MediaKind::Video, Direction::SendOnly, None, None, simulcast));
        // The transceivers are declared now and negotiated with the first offer.
        let pending = api.apply();
        let (ctl, rx) = mpsc::unbounded_channel();
        let state = Arc::new(Mutex::new(PeerState::default()));
        let task = Task {
            rtc,
            socket,
            local,
            state: state.clone(),
            pending: pending.map(|(o, p)| (Some(o), p)),
            mic,
            cam,
            slots: (0, 0),
            sending,
        };
        tokio::spawn(task.run(rx));
        Ok(Peer { ctl, state, mic: mic.map(|m| m.to_string()), cam: cam.map(|m| m.to_string()) })
    }

    /// An offer with (at least) this many receive slots of each kind (audio, video).
    pub async fn offer(&self, slots: (usize, usize)) -> Option<String> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.ctl.send(Ctl::Offer { slots, reply }).ok()?;
        rx.await.ok().flatten()
    }

    pub fn answer(&self, sdp: &str) {
        let _ = self.ctl.send(Ctl::Answer(sdp.to_string()));
    }

    /// The `tracks` of `room.offer`.
    pub fn tracks(&self) -> serde_json::Value {
        let mut t = Vec::new();
        if let Some(m) = &self.mic {
            t.push(serde_json::json!({"mid": m, "source": "microphone"}));
        }
        if let Some(m) = &self.cam {
            t.push(serde_json::json!({"mid": m, "source": "camera"}));
        }
        serde_json::Value::Array(t)
    }

    pub fn received(&self, mid: &str) -> Received {
        self.state.lock().expect("peer state").received.get(mid).cloned().unwrap_or_default()
    }

    pub fn connected(&self) -> bool {
        self.state.lock().expect("peer state").connected
    }

    pub fn stop(&self) {
        let _ = self.ctl.send(Ctl::Stop);
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Task {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    state: Arc<Mutex<PeerState>>,
    /// The first offer (made at start) and the change waiting for its answer.
    pending: Option<(Option<str0m::change::SdpOffer>, SdpPendingOffer)>,
    mic: Option<Mid>,
    cam: Option<Mid>,
    slots: (usize, usize),
    sending: Sending,
}

impl Task {
    async fn run(mut self, mut ctl: mpsc::UnboundedReceiver<Ctl>) {
        let mut buf = vec![0u8; 2048];
        let start = Instant::now();
        let mut next_audio = start;
        let mut next_video = start;
        let mut frame_no: u64 = 0;
        let mut want_keyframe = true;
        loop {
            // Drain str0m.
            let deadline = loop {
                match self.rtc.poll_output() {
                    Ok(Output::Timeout(t)) => break t,
                    Ok(Output::Transmit(t)) => {
                        let _ = self.socket.send_to(&t.contents, t.destination).await;
                    }
                    Ok(Output::Event(e)) => self.event(e, &mut want_keyframe),
                    Err(e) => {
                        self.state.lock().expect("peer state").failed = Some(e.to_string());
                        return;
                    }
                }
            };
            let connected = self.state.lock().expect("peer state").connected;
            let media_due = if connected { next_audio.min(next_video) } else { deadline };
            let wake = deadline.min(media_due).max(Instant::now());
            tokio::select! {
                r = self.socket.recv_from(&mut buf) => {
                    let Ok((n, source)) = r else { continue };
                    let Ok(contents) = buf[..n].try_into() else { continue };
                    let input = Input::Receive(Instant::now(), Receive { proto: Protocol::Udp, source, destination: self.local, contents });
                    if let Err(e) = self.rtc.handle_input(input) {
                        self.state.lock().expect("peer state").failed = Some(e.to_string());
                        return;
                    }
                }
                c = ctl.recv() => match c {
                    None | Some(Ctl::Stop) => {
                        self.rtc.disconnect();
                        return;
                    }
                    Some(Ctl::Offer { slots, reply }) => { let _ = reply.send(self.offer(slots)); }
                    Some(Ctl::Answer(sdp)) => self.answer(&sdp),
                },
                _ = tokio::time::sleep_until(wake.into()) => {}
            }
            let now = Instant::now();
            if let Err(e) = self.rtc.handle_input(Input::Timeout(now)) {
                self.state.lock().expect("peer state").failed = Some(e.to_string());
                return;
            }
            if connected {
                if self.sending.audio && now >= next_audio {
                    next_audio += Duration::from_millis(20);
                    self.write_audio(now, start);
                }
                if self.sending.video && now >= next_video {
                    next_video += Duration::from_millis(33);
                    frame_no += 1;
                    let key = want_keyframe || (self.sending.periodic_keyframes && frame_no % 60 == 1);
                    want_keyframe = false;
                    self.write_video(now, start, key);
                }
            }
        }
    }

    fn event(&mut self, e: Event, want_keyframe: &mut bool) {
        let mut st = self.state.lock().expect("peer state");
        match e {
            Event::Connected => st.connected = true,
            Event::MediaData(d) => {
                let r = st.received.entry(d.mid.to_string()).or_default();
                r.frames += 1;
                r.bytes += d.data.len() as u64;
                if d.is_keyframe() {
                    r.keyframes += 1;
                }
                if let Some(sent) = stamp(&d.data) {
                    let now = wall_micros();
                    if now >= sent && r.delays_ms.len() < 100_000 {
                        r.delays_ms.push((now - sent) as f64 / 1000.0);
                    }
                }
            }
            Event::KeyframeRequest(_) => {
                st.keyframe_requests += 1;
                if st.keyframe_requests > u64::from(self.sending.ignore_keyframe_requests) {
                    *want_keyframe = true;
                }
            }
            _ => {}
        }
    }

    fn offer(&mut self, slots: (usize, usize)) -> Option<String> {
        if let Some((first, _)) = self.pending.as_mut()
            && let Some(offer) = first.take()
            && slots == (0, 0)
        {
            return Some(offer.to_sdp_string());
        }
        let mut api = self.rtc.sdp_api();
        while self.slots.0 < slots.0 {
            api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
            self.slots.0 += 1;
        }
        while self.slots.1 < slots.1 {
            api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
            self.slots.1 += 1;
        }
        match api.apply() {
            Some((offer, pending)) => {
                self.pending = Some((None, pending));
                Some(offer.to_sdp_string())
            }
            // Nothing new since the first offer (still unanswered): offer it again.
            None => None,
        }
    }

    fn answer(&mut self, sdp: &str) {
        let Some((_, pending)) = self.pending.take() else { return };
        let Ok(answer) = SdpAnswer::from_sdp_string(sdp) else {
            self.state.lock().expect("peer state").failed = Some("unparseable answer".into());
            return;
        };
        if let Err(e) = self.rtc.sdp_api().accept_answer(pending, answer) {
            self.state.lock().expect("peer state").failed = Some(format!("answer refused: {e}"));
        }
    }

    fn write_audio(&mut self, now: Instant, start: Instant) {
        let Some(mid) = self.mic else { return };
        let Some(writer) = self.rtc.writer(mid) else { return };
        let Some(pt) = writer.payload_params().find(|p| p.spec().codec == str0m::format::Codec::Opus).map(|p| p.pt())
        else {
            return;
        };
        let t = MediaTime::new(
            now.duration_since(start).as_micros() as u64 * 48 / 1000,
            str0m::media::Frequency::FORTY_EIGHT_KHZ,
        );
        let _ = writer.audio_level(-20, true).write(pt, now, t, stamped(AUDIO, false));
    }

    fn write_video(&mut self, now: Instant, start: Instant, key: bool) {
        let Some(mid) = self.cam else { return };
        let layers: Vec<(Option<Rid>, usize)> = match self.sending.simulcast {
            true => vec![(Some("h".into()), BIG), (Some("l".into()), SMALL)],
            false => vec![(None, BIG)],
        };
        let t = MediaTime::new(
            now.duration_since(start).as_micros() as u64 * 90 / 1000,
            str0m::media::Frequency::NINETY_KHZ,
        );
        for (rid, size) in layers {
            let Some(mut writer) = self.rtc.writer(mid) else { return };
            let Some(pt) =
                writer.payload_params().find(|p| p.spec().codec == str0m::format::Codec::Vp8).map(|p| p.pt())
            else {
                return;
            };
            if let Some(rid) = rid {
                writer = writer.rid(rid);
            }
            let _ = writer.write(pt, now, t, stamped(size, key).into_boxed_slice());
        }
    }
}

/// A synthetic frame: a VP8-shaped header (a keyframe's start code when `key`), then the
/// wall-clock send time in µs, then filler.
fn stamped(size: usize, key: bool) -> Vec<u8> {
    let mut f = vec![0u8; size.max(24)];
    if key {
        f[..10].copy_from_slice(&[0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
    } else {
        f[..3].copy_from_slice(&[0x11, 0x02, 0x00]);
    }
    f[10..18].copy_from_slice(&wall_micros().to_be_bytes());
    f
}

fn stamp(frame: &[u8]) -> Option<u64> {
    frame.get(10..18).map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes"))).filter(|t| *t > 1_600_000_000_000_000)
}

fn wall_micros() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}
