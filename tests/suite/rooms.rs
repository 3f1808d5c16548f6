//! Group calls: the rooms service and the embedded SFU, driven by str0m peers that send
//! synthetic Opus and VP8 (`nexus::client::sfu_peer`). Every peer must receive every other
//! peer's audio and video through the SFU; leaving, joining late, simulcast layer choice,
//! limits, hostile frames and (on the cluster) a room whose node dies. On the cluster scale
//! participants sit on two nodes, so signaling crosses the bus to the room's host.
//! Run inside the loopback-only namespace (`scripts/netns`).

use std::{collections::HashMap, time::Duration};

use nexus::client::sfu_peer::{Peer, Sending};
use serde_json::{Value, json};

use crate::{
    both_scales,
    common::{Scale, TestApp, Ws, spawn_with, start, user},
};

both_scales!(
    three_then_four_peers_receive_everyone_and_one_leaving_does_not_stop_the_others,
    simulcast_forwards_the_layer_that_fits_the_tile,
    a_keyframe_request_that_goes_unanswered_is_asked_again,
    joining_is_checked_limited_and_one_device_at_a_time,
    room_frames_are_checked,
    a_room_whose_node_dies_ends_and_restarts_elsewhere,
);

fn fast(c: &mut nexus::config::Config) {
    c.calls.reconnect_grace_secs = 2;
    c.calls.node_ttl_secs = 2;
}

/// One participant: its socket and its WebRTC peer.
struct Member {
    name: String,
    id: String,
    ws: Ws,
    peer: Option<Peer>,
    /// mid → (user id, source), from the last `room.answer` / `room.slots`.
    slots: HashMap<String, (String, String)>,
    /// An offer is out; a renegotiation waits for its answer.
    offering: bool,
    want: Option<(usize, usize)>,
    left: Option<String>,
    speakers: Vec<String>,
}

impl Member {
    async fn new(app: &TestApp, base: &str, name: &str) -> (Member, String) {
        let (token, id) = user(app, name).await;
        let ws = Ws::connect(base, &token).await;
        let m = Member {
            name: name.into(),
            id,
            ws,
            peer: None,
            slots: HashMap::new(),
            offering: false,
            want: None,
            left: None,
            speakers: Vec::new(),
        };
        (m, token)
    }

    async fn join(&mut self, conv: &str, sending: Sending) {
        self.ws.send(json!({"type": "room.join", "conversation_id": conv})).await;
        let c = conv.to_string();
        let j = self.ws.wait_for("room.joined", move |v| v["type"] == "room.joined" || is_error(v, &c)).await;
        assert_eq!(j["type"], "room.joined", "{}: {j}", self.name);
        let peer = Peer::start([127, 0, 0, 1].into(), sending).await.unwrap();
        let sdp = peer.offer((0, 0)).await.expect("first offer");
        self.ws.send(json!({"type": "room.offer", "conversation_id": conv, "sdp": sdp, "tracks": peer.tracks()})).await;
        self.offering = true;
        self.peer = Some(peer);
        self.left = None;
    }

    /// Act on one signaling event.
    async fn handle(&mut self, conv: &str, v: Value) {
        match v["type"].as_str().unwrap_or("") {
            "room.answer" => {
                self.peer.as_ref().expect("peer").answer(v["sdp"].as_str().unwrap());
                self.slots = slots(&v);
                self.offering = false;
                if let Some(want) = self.want.take() {
                    self.renegotiate(conv, want).await;
                }
            }
            "room.slots" => self.slots = slots(&v),
            "room.renegotiate" => {
                let want = (v["audio"].as_u64().unwrap() as usize, v["video"].as_u64().unwrap() as usize);
                if self.offering {
                    self.want = Some(want);
                } else {
                    self.renegotiate(conv, want).await;
                }
            }
            "room.left" => {
                self.left = Some(v["reason"].as_str().unwrap().to_string());
                self.peer = None;
                self.slots.clear();
            }
            "room.speakers" => {
                self.speakers =
                    v["speakers"].as_array().unwrap().iter().map(|s| s["user_id"].as_str().unwrap().into()).collect();
            }
            "error" => panic!("{}: unexpected error {v}", self.name),
            _ => {}
        }
    }

    async fn renegotiate(&mut self, conv: &str, want: (usize, usize)) {
        let peer = self.peer.as_ref().expect("peer");
        let Some(sdp) = peer.offer(want).await else { return };
        self.ws.send(json!({"type": "room.offer", "conversation_id": conv, "sdp": sdp, "tracks": peer.tracks()})).await;
        self.offering = true;
    }

    /// Frames received from `user`'s `source`.
    fn frames_from(&self, user: &str, source: &str) -> u64 {
        let Some(peer) = &self.peer else { return 0 };
        self.slots.iter().filter(|(_, (u, s))| u == user && s == source).map(|(mid, _)| peer.received(mid).frames).sum()
    }

    fn bytes_per_frame_from(&self, user: &str) -> f64 {
        let Some(peer) = &self.peer else { return 0.0 };
        let (frames, bytes) = self
            .slots
            .iter()
            .filter(|(_, (u, s))| u == user && s == "camera")
            .map(|(mid, _)| peer.received(mid))
            .fold((0, 0), |(f, b), r| (f + r.frames, b + r.bytes));
        if frames == 0 { 0.0 } else { bytes as f64 / frames as f64 }
    }
}

fn is_error(v: &Value, conv: &str) -> bool {
    v["type"] == "error" && v["conversation_id"] == conv
}

fn slots(v: &Value) -> HashMap<String, (String, String)> {
    v["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["mid"].as_str().unwrap().to_string(),
                (s["user_id"].as_str().unwrap().to_string(), s["source"].as_str().unwrap().to_string()),
            )
        })
        .collect()
}

/// Handle signaling on every socket until `done` holds (or fail after `secs`).
async fn settle(members: &mut [Member], conv: &str, secs: u64, what: &str, done: impl Fn(&[Member]) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if done(members) {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            let report: Vec<String> = members
                .iter()
                .map(|m| {
                    let got: Vec<String> = members
                        .iter()
                        .filter(|o| o.id != m.id)
                        .map(|o| {
                            format!(
                                "{}:a{}/v{}",
                                o.name,
                                m.frames_from(&o.id, "microphone"),
                                m.frames_from(&o.id, "camera")
                            )
                        })
                        .collect();
                    format!("{} (left {:?}, slots {}) got {}", m.name, m.left, m.slots.len(), got.join(" "))
                })
                .collect();
            panic!("{what}: not within {secs} s\n{}", report.join("\n"));
        }
        for m in members.iter_mut() {
            while let Some(v) = m.ws.try_next(Duration::from_millis(20)).await {
                m.handle(conv, v).await;
            }
        }
    }
}

/// Everyone in the room (peer present) receives audio and video from every other one.
fn all_receive(members: &[Member], at_least: u64) -> bool {
    let inside: Vec<&Member> = members.iter().filter(|m| m.peer.is_some()).collect();
    inside.iter().all(|m| {
        inside
            .iter()
            .filter(|o| o.id != m.id)
            .all(|o| m.frames_from(&o.id, "microphone") >= at_least && m.frames_from(&o.id, "camera") >= at_least)
    })
}

/// A group of `names` (the first creates it); on the cluster the odd ones connect to a
/// second node.
async fn group(app: &TestApp, node2: &Option<TestApp>, names: &[&str]) -> (String, Vec<Member>, Vec<String>) {
    let mut members = Vec::new();
    let mut tokens = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let base = match (node2, i % 2) {
            (Some(b), 1) => b.base.clone(),
            _ => app.base.clone(),
        };
        let (m, t) = Member::new(app, &base, n).await;
        members.push(m);
        tokens.push(t);
    }
    let ids: Vec<&str> = members[1..].iter().map(|m| m.id.as_str()).collect();
    let c = app.conversation(&tokens[0], json!({"kind": "group", "name": "call", "member_ids": ids})).await;
    (c["id"].as_str().unwrap().to_string(), members, tokens)
}

async fn second_node(app: &TestApp) -> Option<TestApp> {
    match app.env.scale {
        Scale::Cluster => Some(start(app.env.clone(), fast).await),
        Scale::Embedded => None,
    }
}

/// As browsers do: keyframes only when asked.
const AV: Sending = Sending { periodic_keyframes: false, ..Sending::AV };

async fn three_then_four_peers_receive_everyone_and_one_leaving_does_not_stop_the_others(scale: Scale) {
    let app = spawn_with(scale, fast).await;
    let node2 = second_node(&app).await;
    let (conv, mut m, _) = group(&app, &node2, &["ann", "ben", "cat", "dan"]).await;
    let mut late = m.pop().unwrap();
    for x in m.iter_mut() {
        x.join(&conv, AV).await;
    }
    settle(&mut m, &conv, 30, "three peers receive each other", |m| all_receive(m, 10)).await;

    // A member not in the call sees it in progress (and who is in it).
    let state = late
        .ws
        .wait_for("room.state", |v| {
            v["type"] == "room.state" && v["room"]["participants"].as_array().unwrap().len() == 3
        })
        .await;
    assert_eq!(state["room"]["conversation_id"], conv.as_str());

    // The fourth joins late and receives everyone; everyone receives the fourth.
    late.join(&conv, AV).await;
    m.push(late);
    settle(&mut m, &conv, 30, "four peers receive each other", |m| all_receive(m, 10)).await;

    // Active speaker: every peer sends audio at -20 dBov, so all are speaking.
    settle(&mut m, &conv, 10, "speakers reported", |m| m.iter().all(|x| x.speakers.len() >= 3)).await;

    // Mute is shown to the others.
    m[1].ws.send(json!({"type": "room.mute", "conversation_id": conv, "source": "microphone", "muted": true})).await;
    let ben = m[1].id.clone();
    let b = ben.clone();
    let muted = m[0]
        .ws
        .wait_for("room.state with ben muted", move |v| {
            v["type"] == "room.state"
                && v["room"]["participants"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["user_id"] == b.as_str() && p["audio_muted"] == true)
        })
        .await;
    assert_eq!(muted["room"]["participants"].as_array().unwrap().len(), 4);

    // Ben leaves: the others keep receiving each other, and Ben's slots go idle.
    m[1].ws.send(json!({"type": "room.leave", "conversation_id": conv})).await;
    settle(&mut m, &conv, 10, "ben is out", |m| m[1].left.as_deref() == Some("left")).await;
    let before: Vec<(u64, u64)> = vec![(m[0].frames_from(&m[2].id, "camera"), m[2].frames_from(&m[3].id, "camera"))];
    settle(&mut m, &conv, 20, "the others keep media", |m| {
        m[0].frames_from(&m[2].id, "camera") > before[0].0 + 30
            && m[2].frames_from(&m[3].id, "camera") > before[0].1 + 30
    })
    .await;
    assert!(m[0].slots.values().all(|(u, _)| *u != ben), "no slot of ann still carries ben");

    // Every forwarded frame is counted; nothing was lost inside the SFU.
    let host = if let Some(sfu) = app.services.rooms.sfu().filter(|s| s.room_count() > 0) {
        sfu.clone()
    } else {
        node2.as_ref().unwrap().services.rooms.sfu().unwrap().clone()
    };
    let forwarded = host.stats.forwarded.load(std::sync::atomic::Ordering::Relaxed);
    assert!(forwarded > 500, "forwarded {forwarded}");
    assert_eq!(host.stats.dropped.load(std::sync::atomic::Ordering::Relaxed), 0, "no datagram dropped");

    // The last ones out end the room: every member is told.
    for x in m.iter_mut().filter(|x| x.peer.is_some()) {
        x.ws.send(json!({"type": "room.leave", "conversation_id": conv})).await;
    }
    let ended = m[1]
        .ws
        .wait_for("room ended", |v| {
            v["type"] == "room.state" && v["room"]["participants"].as_array().unwrap().is_empty()
        })
        .await;
    assert_eq!(ended["room"]["conversation_id"], conv.as_str());
    drop(m);
    if let Some(n) = node2 {
        n.stop().await;
    }
    app.finish().await;
}

async fn simulcast_forwards_the_layer_that_fits_the_tile(scale: Scale) {
    let app = spawn_with(scale, fast).await;
    let node2 = second_node(&app).await;
    let (conv, mut m, _) = group(&app, &node2, &["sim", "big", "small"]).await;
    m[0].join(&conv, Sending { simulcast: true, ..Sending::AV }).await;
    m[1].join(&conv, Sending::AUDIO).await;
    m[2].join(&conv, Sending::AUDIO).await;
    let sim = m[0].id.clone();
    for i in [1, 2] {
        let h = if i == 1 { 720 } else { 90 };
        m[i].ws.send(json!({"type": "room.view", "conversation_id": conv, "tiles": [{"user_id": sim, "source": "camera", "width": h * 16 / 9, "height": h}]})).await;
    }
    let s = sim.clone();
    settle(&mut m, &conv, 30, "both get the simulcast video", move |m| {
        m[1].frames_from(&s, "camera") > 60 && m[2].frames_from(&s, "camera") > 60
    })
    .await;
    // Large frames are layer "h" (1,100 bytes), small ones "l" (300 bytes). Let the
    // layer choice settle, then compare what arrives.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let s = sim.clone();
    settle(&mut m, &conv, 5, "more frames", move |m| m[2].frames_from(&s, "camera") > 120).await;
    let (big, small) = (m[1].bytes_per_frame_from(&sim), m[2].bytes_per_frame_from(&sim));
    assert!(big > 800.0, "a large tile gets the top layer: {big} bytes/frame");
    assert!(small < 600.0, "a thumbnail gets the low layer: {small} bytes/frame");

    // Hidden (0×0): nothing more is forwarded to that subscriber.
    m[2].ws.send(json!({"type": "room.view", "conversation_id": conv, "tiles": [{"user_id": sim, "source": "camera", "width": 0, "height": 0}]})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let frozen = m[2].frames_from(&sim, "camera");
    tokio::time::sleep(Duration::from_secs(1)).await;
    settle(&mut m, &conv, 3, "audio still flows", |m| m[2].frames_from(&m[0].id, "microphone") > 100).await;
    assert!(m[2].frames_from(&sim, "camera") <= frozen + 2, "a hidden video is paused");
    drop(m);
    if let Some(n) = node2 {
        n.stop().await;
    }
    app.finish().await;
}

/// Like a browser, the publisher sends a keyframe only when asked, and the first request
/// is lost. A new subscriber's video starts at a keyframe, so the SFU must ask again until
/// one comes (each pass of the layer choice), or the subscriber never sees a picture.
async fn a_keyframe_request_that_goes_unanswered_is_asked_again(scale: Scale) {
    let app = spawn_with(scale, fast).await;
    let node2 = second_node(&app).await;
    let (conv, mut m, _) = group(&app, &node2, &["pub", "sub"]).await;
    let browser_like = Sending { periodic_keyframes: false, ..Sending::AV };
    m[0].join(&conv, Sending { ignore_keyframe_requests: 1, ..browser_like }).await;
    settle(&mut m, &conv, 15, "the publisher connected", |m| m[0].peer.as_ref().is_some_and(|p| p.connected())).await;
    // Its first keyframe went to no one.
    tokio::time::sleep(Duration::from_millis(700)).await;
    m[1].join(&conv, browser_like).await;
    let (p, s) = (m[0].id.clone(), m[1].id.clone());
    settle(&mut m, &conv, 20, "both see each other's video", move |m| {
        m[1].frames_from(&p, "camera") >= 10 && m[0].frames_from(&s, "camera") >= 10
    })
    .await;
    let asked = m[0].peer.as_ref().unwrap().state.lock().unwrap().keyframe_requests;
    assert!(asked >= 2, "the lost request was followed by another ({asked})");
    drop(m);
    if let Some(n) = node2 {
        n.stop().await;
    }
    app.finish().await;
}

async fn joining_is_checked_limited_and_one_device_at_a_time(scale: Scale) {
    let app = spawn_with(scale, |c| {
        fast(c);
        c.calls.max_participants = 2;
    })
    .await;
    let (conv, mut m, tokens) = group(&app, &None, &["ada", "bea", "cid"]).await;
    let (mut outsider, _) = Member::new(&app, &app.base, "out").await;

    // Not a member: not found. A direct conversation: use call.invite.
    outsider.ws.send(json!({"type": "room.join", "conversation_id": conv})).await;
    let e = outsider.ws.wait_for("error", |v| v["type"] == "error").await;
    assert_eq!((e["code"].as_str(), e["conversation_id"].as_str()), (Some("not_found"), Some(conv.as_str())));
    let direct = app.conversation(&tokens[0], json!({"kind": "direct", "user_id": m[1].id})).await;
    let direct = direct["id"].as_str().unwrap().to_string();
    m[0].ws.send(json!({"type": "room.join", "conversation_id": direct})).await;
    let e = m[0].ws.wait_for("error", |v| v["type"] == "error").await;
    assert_eq!(e["code"], "validation_failed");

    // Full at calls.max_participants.
    m[0].join(&conv, AV).await;
    m[1].join(&conv, AV).await;
    m[2].ws.send(json!({"type": "room.join", "conversation_id": conv})).await;
    let e = m[2].ws.wait_for("error", |v| v["type"] == "error").await;
    assert_eq!(e["code"], "room_full");

    // In a group call: a 1-on-1 invite is refused, and the callee in one is busy.
    m[0].ws.send(json!({"type": "call.invite", "call_id": uuid::Uuid::now_v7(), "conversation_id": direct, "media": "audio"})).await;
    let e = m[0].ws.wait_for("error", |v| v["type"] == "error").await;
    assert_eq!(e["code"], "already_in_call");

    // ready.rooms on a new socket; joining from it takes the place of the first device.
    let mut second = Ws::connect(&app.base, &tokens[0]).await;
    let rooms = second.ready["rooms"].as_array().unwrap().clone();
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0]["participants"].as_array().unwrap().len(), 2);
    second.send(json!({"type": "room.join", "conversation_id": conv})).await;
    second.wait_for("room.joined", |v| v["type"] == "room.joined").await;
    let gone = m[0].ws.wait_for("room.left", |v| v["type"] == "room.left").await;
    assert_eq!(gone["reason"], "joined_elsewhere");
    let st = second.wait_for("room.state", |v| v["type"] == "room.state").await;
    assert_eq!(st["room"]["participants"].as_array().unwrap().len(), 2, "still one place for the user");

    // A socket that closes and does not come back is taken out after the grace.
    drop(second);
    let (c, bea) = (conv.clone(), m[1].id.clone());
    let st = m[1]
        .ws
        .wait_for("room.state without ada", move |v| {
            v["type"] == "room.state"
                && v["room"]["conversation_id"] == c.as_str()
                && v["room"]["participants"].as_array().unwrap().len() == 1
                && v["room"]["participants"][0]["user_id"] == bea.as_str()
        })
        .await;
    assert_eq!(st["room"]["participants"].as_array().unwrap().len(), 1);

    // A member removed from the group is taken out of its call at once.
    let r = app.delete_auth(&format!("/api/v1/conversations/{conv}/members/{}", m[1].id), &tokens[0]).await;
    assert_eq!(r.status(), 204);
    let gone = m[1].ws.wait_for("room.left", |v| v["type"] == "room.left").await;
    assert_eq!(gone["reason"], "removed");
    let c = conv.clone();
    m[2].ws
        .wait_for("the room ended", move |v| {
            v["type"] == "room.state"
                && v["room"]["conversation_id"] == c.as_str()
                && v["room"]["participants"].as_array().unwrap().is_empty()
        })
        .await;
    app.finish().await;
}

async fn room_frames_are_checked(scale: Scale) {
    let app = spawn_with(scale, fast).await;
    let (conv, mut m, _) = group(&app, &None, &["eve", "fay"]).await;
    let ws = &mut m[0].ws;
    let expect = async |ws: &mut Ws, frame: Value, code: &str| {
        ws.send(frame.clone()).await;
        let e = ws.wait_for("error", |v| v["type"] == "error").await;
        assert_eq!(e["code"], code, "{frame} → {e}");
        e
    };
    // Before joining: not in the room.
    let e = expect(
        ws,
        json!({"type": "room.offer", "conversation_id": conv, "sdp": "v=0", "tracks": []}),
        "room_not_joined",
    )
    .await;
    assert_eq!(e["conversation_id"], conv.as_str());
    expect(ws, json!({"type": "room.leave", "conversation_id": conv}), "room_not_joined").await;
    expect(ws, json!({"type": "room.view", "conversation_id": conv, "tiles": []}), "room_not_joined").await;
    expect(
        ws,
        json!({"type": "room.mute", "conversation_id": conv, "source": "camera", "muted": true}),
        "room_not_joined",
    )
    .await;
    // Wrong types and unknown values.
    let e = expect(ws, json!({"type": "room.join", "conversation_id": 7}), "invalid_event").await;
    assert!(e.get("conversation_id").is_none());
    let e = expect(
        ws,
        json!({"type": "room.mute", "conversation_id": conv, "source": "tuba", "muted": true}),
        "invalid_event",
    )
    .await;
    assert_eq!(e["conversation_id"], conv.as_str());
    expect(ws, json!({"type": "room.offer", "conversation_id": conv, "sdp": 1, "tracks": []}), "invalid_event").await;
    expect(ws, json!({"type": "room.join", "conversation_id": uuid::Uuid::now_v7()}), "not_found").await;

    ws.send(json!({"type": "room.join", "conversation_id": conv})).await;
    ws.wait_for("room.joined", |v| v["type"] == "room.joined").await;
    // Oversize, garbage and inconsistent offers.
    let huge = "a".repeat(40 * 1024);
    expect(ws, json!({"type": "room.offer", "conversation_id": conv, "sdp": huge, "tracks": []}), "validation_failed")
        .await;
    expect(ws, json!({"type": "room.offer", "conversation_id": conv, "sdp": "not sdp", "tracks": []}), "invalid_sdp")
        .await;
    let peer = Peer::start([127, 0, 0, 1].into(), AV).await.unwrap();
    let sdp = peer.offer((0, 0)).await.unwrap();
    let mic = peer.mic.clone().unwrap();
    expect(ws, json!({"type": "room.offer", "conversation_id": conv, "sdp": sdp, "tracks": [{"mid": "99", "source": "camera"}]}), "validation_failed").await;
    expect(ws, json!({"type": "room.offer", "conversation_id": conv, "sdp": sdp, "tracks": [{"mid": mic, "source": "camera"}]}), "validation_failed").await;
    expect(ws, json!({"type": "room.offer", "conversation_id": conv, "sdp": sdp, "tracks": [{"mid": mic, "source": "microphone"}, {"mid": mic, "source": "microphone"}]}), "validation_failed").await;
    let tiles: Vec<Value> = (0..40)
        .map(|_| json!({"user_id": uuid::Uuid::now_v7(), "source": "camera", "width": 1, "height": 1}))
        .collect();
    expect(ws, json!({"type": "room.view", "conversation_id": conv, "tiles": tiles}), "validation_failed").await;
    expect(
        ws,
        json!({"type": "room.mute", "conversation_id": conv, "source": "screen", "muted": true}),
        "validation_failed",
    )
    .await;
    // Datagrams from nobody (garbage, a STUN request with an unknown ufrag) are dropped and
    // counted; they reach no room.
    let sfu = app.services.rooms.sfu().unwrap().clone();
    let junk = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut stun = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
    stun.extend_from_slice(&[7; 12]);
    for _ in 0..50 {
        junk.send_to(b"\x16\xfe\xfd garbage that is no DTLS", sfu.address()).unwrap();
        junk.send_to(&stun, sfu.address()).unwrap();
        junk.send_to(&[0u8; 1500], sfu.address()).unwrap();
    }
    let unrouted = &sfu.stats.unrouted;
    for _ in 0..50 {
        if unrouted.load(std::sync::atomic::Ordering::Relaxed) >= 150 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(unrouted.load(std::sync::atomic::Ordering::Relaxed), 150);

    // After all that, a good offer still works: the room survived every bad frame.
    let tracks = peer.tracks();
    m[0].peer = Some(peer);
    m[0].ws.send(json!({"type": "room.offer", "conversation_id": conv, "sdp": sdp, "tracks": tracks})).await;
    m[0].offering = true;
    m[1].join(&conv, AV).await;
    settle(&mut m, &conv, 30, "media after hostile frames", |m| all_receive(m, 5)).await;
    drop(m);
    app.finish().await;
}

async fn a_room_whose_node_dies_ends_and_restarts_elsewhere(scale: Scale) {
    if scale == Scale::Embedded {
        // One node: nothing else to fail over to (the cluster run tests this).
        return;
    }
    let host = spawn_with(scale, fast).await;
    let node2 = start(host.env.clone(), fast).await;
    // Both members connect to node 2; the room is started on the host through a third
    // socket of the first member, so that the host's death leaves node 2's sockets alive.
    let (conv, mut m, tokens) = group(&node2, &None, &["gus", "hal"]).await;
    let mut starter = Ws::connect(&host.base, &tokens[0]).await;
    starter.send(json!({"type": "room.join", "conversation_id": conv})).await;
    starter.wait_for("room.joined", |v| v["type"] == "room.joined").await;
    // Gus moves the place to his node-2 socket; the room stays on the host.
    m[0].join(&conv, AV).await;
    m[1].join(&conv, AV).await;
    settle(&mut m, &conv, 30, "media through the host's SFU", |m| all_receive(m, 5)).await;
    assert_eq!(host.services.rooms.sfu().unwrap().room_count(), 1);
    assert_eq!(node2.services.rooms.sfu().unwrap().room_count(), 0);

    drop(starter);
    let env = host.stop().await;
    settle(&mut m, &conv, 15, "both told node_lost", |m| m.iter().all(|x| x.left.as_deref() == Some("node_lost")))
        .await;

    // Joining again starts the room on node 2, and media flows again.
    m[0].join(&conv, AV).await;
    m[1].join(&conv, AV).await;
    settle(&mut m, &conv, 30, "media through node 2", |m| all_receive(m, 5)).await;
    assert_eq!(node2.services.rooms.sfu().unwrap().room_count(), 1);
    drop(m);
    node2.stop().await;
    env.cleanup().await;
}
