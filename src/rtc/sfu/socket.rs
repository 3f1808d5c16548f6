//! The SFU's one UDP socket and the demultiplexer in front of the rooms.
//!
//! A datagram from an address seen before goes straight to its participant's room. The
//! first datagram from a new address must be a STUN binding request whose USERNAME starts
//! with the ufrag of one of this node's participants: that names the room, and the
//! address is remembered (one hash lookup per packet afterwards, not a scan of every
//! session as `Rtc::accepts` would need). Anything else is dropped and counted.
//!
//! Each room has a bounded queue: a room that falls behind loses its own packets (counted),
//! and the socket keeps reading for everyone else.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, RwLock},
};

use str0m::ice::StunMessage;
use tokio::{net::UdpSocket, sync::mpsc};
use uuid::Uuid;

use super::SfuStats;

/// One received datagram, for a room.
#[derive(Debug)]
pub struct Datagram {
    pub session: Uuid,
    pub source: SocketAddr,
    pub data: Vec<u8>,
}

#[derive(Clone)]
struct Route {
    session: Uuid,
    room: mpsc::Sender<Datagram>,
}

/// Where datagrams go: by ICE ufrag for a new address, by address afterwards.
#[derive(Default)]
pub struct Router {
    by_ufrag: RwLock<HashMap<String, Route>>,
    by_addr: RwLock<HashMap<SocketAddr, Route>>,
}

impl Router {
    pub fn add(&self, ufrag: &str, session: Uuid, room: mpsc::Sender<Datagram>) {
        self.by_ufrag.write().expect("router lock").insert(ufrag.to_string(), Route { session, room });
    }

    /// Forget a participant: its ufrag and every address it used.
    pub fn remove(&self, ufrag: &str, session: Uuid) {
        self.by_ufrag.write().expect("router lock").remove(ufrag);
        self.by_addr.write().expect("router lock").retain(|_, r| r.session != session);
    }

    fn route(&self, source: SocketAddr, data: &[u8]) -> Option<Route> {
        if let Some(r) = self.by_addr.read().expect("router lock").get(&source) {
            return Some(r.clone());
        }
        let msg = StunMessage::parse(data).ok()?;
        if !msg.is_binding_request() {
            return None;
        }
        let (local, _remote) = msg.split_username()?;
        let route = self.by_ufrag.read().expect("router lock").get(local).cloned()?;
        self.by_addr.write().expect("router lock").insert(source, route.clone());
        Some(route)
    }
}

/// Read the socket until it fails for good, handing each datagram to its room.
pub async fn read_loop(socket: Arc<UdpSocket>, router: Arc<Router>, stats: Arc<SfuStats>) {
    let mut buf = vec![0u8; 2048];
    loop {
        let (n, source) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                // ICMP port unreachable from a peer that went away shows up here on some
                // systems; it is not the socket's failure.
                tracing::debug!(error = %e, "sfu socket read error");
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                continue;
            }
        };
        let data = &buf[..n];
        SfuStats::add(&stats.packets_in, 1);
        SfuStats::add(&stats.bytes_in, n as u64);
        let Some(route) = router.route(source, data) else {
            SfuStats::add(&stats.unrouted, 1);
            continue;
        };
        let datagram = Datagram { session: route.session, source, data: data.to_vec() };
        if route.room.try_send(datagram).is_err() {
            SfuStats::add(&stats.dropped, 1);
        }
    }
}
