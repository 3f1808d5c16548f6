//! The embedded TURN relay (RFC 5766 over UDP), which also answers STUN binding
//! requests. The protocol engine is the `turn` crate; around it, Nexus adds what a relay
//! on the open Internet needs:
//!
//! - **credentials**: TURN REST (`username = <expiry>:<user>`, `password =
//!   base64(HMAC-SHA1(secret, username))`); expired or forged credentials are refused;
//! - **per-user quota**: at most `turn.user_quota` allocations per user (`486 Allocation
//!   Quota Reached`), counted from the allocations the server grants and closes;
//! - **peer filter**: no permission, channel or packet to loopback, private, link-local,
//!   multicast or otherwise reserved addresses (`403 Forbidden`), unless
//!   `turn.allow_private_peers` (tests) — except this relay's own relayed addresses, so
//!   two peers that both relay here can reach each other;
//! - **clean-up**: when a call ends, its two users' allocations are deleted;
//! - **metrics**: allocations, relayed bytes, refusals (`/metrics`).
//!
//! The filter sits in two `Conn` wrappers: [`Listener`] sees every client packet before
//! the engine (and the engine's answers), [`RelaySocket`] every packet to or from a peer.

use std::{
    collections::{HashMap, HashSet},
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use async_trait::async_trait;
use stun::{
    attributes::{ATTR_MESSAGE_INTEGRITY, ATTR_USERNAME, ATTR_XOR_PEER_ADDRESS, ATTR_XOR_RELAYED_ADDRESS, AttrType},
    error_code::{
        CODE_ALLOC_QUOTA_REACHED, CODE_BAD_REQUEST, CODE_FORBIDDEN, CODE_UNAUTHORIZED, ErrorCode, ErrorCodeAttribute,
    },
    integrity::MessageIntegrity,
    message::{
        CLASS_ERROR_RESPONSE, CLASS_REQUEST, CLASS_SUCCESS_RESPONSE, METHOD_ALLOCATE, METHOD_BINDING,
        METHOD_CHANNEL_BIND, METHOD_CREATE_PERMISSION, Message, MessageType, Setter,
    },
};
use tokio::{net::UdpSocket, sync::mpsc};
use turn::{
    allocation::AllocationInfo,
    auth::{AuthHandler, generate_auth_key},
    relay::RelayAddressGenerator,
    server::{
        Server,
        config::{ConnConfig, ServerConfig},
    },
};
use uuid::Uuid;
use webrtc_util::Conn;

use crate::{config::TurnConfig, service::calls};

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct TurnStats {
    pub allocations: AtomicU64,
    pub allocations_total: AtomicU64,
    pub relayed_bytes: AtomicU64,
    pub refused_quota: AtomicU64,
    pub refused_peer: AtomicU64,
    pub refused_credentials: AtomicU64,
    pub refused_flood: AtomicU64,
}

/// Who holds which allocations, per user. Keyed by the relayed address, which identifies
/// an allocation for its whole life (the engine reports it again when it closes).
#[derive(Default)]
struct Ledger {
    /// Client address -> username, for Allocate requests not answered yet.
    pending: HashMap<SocketAddr, String>,
    /// Relayed address -> (user, username), for granted allocations.
    granted: HashMap<SocketAddr, (String, String)>,
    /// User -> number of allocations held.
    users: HashMap<String, u32>,
}

impl Ledger {
    fn grant(&mut self, relayed: SocketAddr, username: String) -> bool {
        if self.granted.contains_key(&relayed) {
            return false; // the answer to a retransmission
        }
        let user = username.split_once(':').map(|(_, u)| u.to_string()).unwrap_or_default();
        *self.users.entry(user.clone()).or_default() += 1;
        self.granted.insert(relayed, (user, username));
        true
    }

    fn close(&mut self, relayed: SocketAddr) -> bool {
        let Some((user, _)) = self.granted.remove(&relayed) else { return false };
        if let Some(n) = self.users.get_mut(&user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.users.remove(&user);
            }
        }
        true
    }
}

/// Token buckets against floods of requests that cost the engine state (each
/// unauthenticated request gets a fresh nonce it keeps) or reflect bigger answers.
struct Flood {
    per_ip: HashMap<IpAddr, (f64, std::time::Instant)>,
    global: (f64, std::time::Instant),
}

const FLOOD_PER_IP: (f64, f64) = (10.0, 20.0); // per second, burst
const FLOOD_GLOBAL: (f64, f64) = (200.0, 400.0);

impl Flood {
    fn new() -> Self {
        Flood { per_ip: HashMap::new(), global: (FLOOD_GLOBAL.1, std::time::Instant::now()) }
    }

    fn take(bucket: &mut (f64, std::time::Instant), (rate, burst): (f64, f64), now: std::time::Instant) -> bool {
        bucket.0 = (bucket.0 + now.duration_since(bucket.1).as_secs_f64() * rate).min(burst);
        bucket.1 = now;
        if bucket.0 >= 1.0 {
            bucket.0 -= 1.0;
            true
        } else {
            false
        }
    }

    fn admit(&mut self, ip: IpAddr) -> bool {
        let now = std::time::Instant::now();
        if self.per_ip.len() > 10_000 {
            // Forget sources whose bucket has refilled: they are as good as new.
            self.per_ip.retain(|_, b| now.duration_since(b.1).as_secs_f64() * FLOOD_PER_IP.0 < FLOOD_PER_IP.1);
        }
        let bucket = self.per_ip.entry(ip).or_insert((FLOOD_PER_IP.1, now));
        Self::take(bucket, FLOOD_PER_IP, now) && Self::take(&mut self.global, FLOOD_GLOBAL, now)
    }
}

struct Shared {
    secret: String,
    quota: u32,
    allow_private: bool,
    /// The relay's announced address; peers at it (our own relayed ports) are allowed.
    public_ip: IpAddr,
    /// This machine's other addresses: never peers (the server's own services).
    own_ips: HashSet<IpAddr>,
    /// Relayed ports open now.
    open_ports: Mutex<HashSet<u16>>,
    ledger: Mutex<Ledger>,
    flood: Mutex<Flood>,
    stats: Arc<TurnStats>,
}

impl Shared {
    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the relay may talk to `peer`. The relay's own address only at its open
    /// relayed ports (two relayed peers), never at its other ports (the server's own
    /// services); reserved addresses never, unless `turn.allow_private_peers`.
    fn peer_allowed(&self, peer: SocketAddr) -> bool {
        if self.allow_private {
            return true;
        }
        let ip = peer.ip().to_canonical();
        if ip == self.public_ip.to_canonical() {
            return self.open_ports.lock().unwrap_or_else(|p| p.into_inner()).contains(&peer.port());
        }
        !self.own_ips.contains(&ip) && !is_reserved(ip)
    }
}

/// The running relay.
pub struct Relay {
    server: Server,
    shared: Arc<Shared>,
    addr: SocketAddr,
    pub stats: Arc<TurnStats>,
}

impl Relay {
    /// Bind the listener and start serving.
    pub async fn start(cfg: &TurnConfig, secret: String) -> anyhow::Result<Arc<Relay>> {
        let socket = udp_socket(cfg.listen).with_context(|| {
            format!("cannot listen for TURN on udp/{} (set turn.listen, or turn.enabled = false)", cfg.listen)
        })?;
        let addr = socket.local_addr()?;
        let public_ip = announced_ip(cfg, addr.ip());
        let stats = Arc::new(TurnStats::default());
        let shared = Arc::new(Shared {
            secret: secret.clone(),
            quota: cfg.user_quota,
            allow_private: cfg.allow_private_peers,
            public_ip,
            own_ips: local_addresses(),
            open_ports: Mutex::new(HashSet::new()),
            flood: Mutex::new(Flood::new()),
            ledger: Mutex::new(Ledger::default()),
            stats: stats.clone(),
        });
        let (closed_tx, mut closed_rx) = mpsc::channel::<AllocationInfo>(1024);
        let generator = Ports {
            bind_ip: addr.ip(),
            public_ip,
            min: cfg.relay_min_port,
            max: cfg.relay_max_port,
            shared: shared.clone(),
        };
        let server = Server::new(ServerConfig {
            conn_configs: vec![ConnConfig {
                conn: Arc::new(Listener { socket, shared: shared.clone() }),
                relay_addr_generator: Box::new(generator),
            }],
            realm: cfg.realm.clone(),
            auth_handler: Arc::new(RestAuth { secret, stats: stats.clone() }),
            channel_bind_timeout: Duration::from_secs(0),
            alloc_close_notify: Some(closed_tx),
        })
        .await
        .map_err(|e| anyhow::anyhow!("TURN relay: {e}"))?;
        let ledger_of = shared.clone();
        tokio::spawn(async move {
            while let Some(info) = closed_rx.recv().await {
                if ledger_of.ledger().close(info.relay_addr) {
                    ledger_of.stats.allocations.fetch_sub(1, Ordering::Relaxed);
                }
            }
        });
        tracing::info!(%addr, relay_ip = %public_ip, ports = ?(cfg.relay_min_port, cfg.relay_max_port), "TURN relay listening");
        Ok(Arc::new(Relay { server, shared, addr, stats }))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Delete every allocation of `users` (their call ended).
    pub async fn release(&self, users: &[Uuid]) {
        let names: HashSet<String> = {
            let wanted: Vec<String> = users.iter().map(Uuid::to_string).collect();
            let ledger = self.shared.ledger();
            ledger.granted.values().filter(|(u, _)| wanted.contains(u)).map(|(_, name)| name.clone()).collect()
        };
        for name in names {
            if let Err(e) = self.server.delete_allocations_by_username(name).await {
                tracing::warn!(error = %e, "TURN allocations not deleted");
            }
        }
    }

    /// Allocations held by `user` now.
    pub fn allocations_of(&self, user: &str) -> u32 {
        self.shared.ledger().users.get(user).copied().unwrap_or(0)
    }

    pub async fn close(&self) {
        let _ = self.server.close().await;
    }
}

/// Deletes the allocations of a call's users when it ends (on every node).
pub struct ReleaseOnCallEnd(pub Arc<Relay>);

impl calls::CallEndedHook for ReleaseOnCallEnd {
    fn call_ended(&self, users: [Uuid; 2]) {
        let relay = self.0.clone();
        tokio::spawn(async move { relay.release(&users).await });
    }
}

/// Socket buffers: a relay takes bursts from many peers on one socket; the default
/// (~200 KiB) overflows under load where 4 MiB does not. The kernel caps the request at
/// `net.core.rmem_max` / `wmem_max`.
const SOCKET_BUFFER: usize = 4 << 20;

/// A bound, non-blocking UDP socket with large buffers.
fn udp_socket(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// Every address of this machine's interfaces (and the wildcard forms).
fn local_addresses() -> HashSet<IpAddr> {
    let mut out: HashSet<IpAddr> = webrtc_util::ifaces::ifaces()
        .map(|list| list.into_iter().filter_map(|i| i.addr.map(|a| a.ip().to_canonical())).collect())
        .unwrap_or_default();
    out.insert(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    out.insert(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    out
}

/// The address relayed ports are announced at.
fn announced_ip(cfg: &TurnConfig, listen: IpAddr) -> IpAddr {
    if let Ok(ip) = cfg.public_ip.parse() {
        return ip;
    }
    if !listen.is_unspecified() {
        return listen;
    }
    // The address this machine would use towards the Internet: connecting a UDP socket
    // only consults the routing table; nothing is sent (192.0.2.1 is a documentation
    // address).
    let primary = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|_| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip());
    match primary {
        Ok(ip) if !ip.is_unspecified() => ip,
        _ => {
            tracing::warn!("no network address found for TURN relaying; set turn.public_ip");
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
    }
}

/// Loopback, private, link-local, shared (CGNAT), multicast, documentation and other
/// special-purpose addresses: a relay must not be a way into them.
pub fn is_reserved(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_reserved(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x64 && s[1] == 0xff9b)
                || v6 == Ipv6Addr::UNSPECIFIED
        }
    }
}

/// TURN REST credentials: the key for `username` if its expiry is ahead.
struct RestAuth {
    secret: String,
    stats: Arc<TurnStats>,
}

impl AuthHandler for RestAuth {
    fn auth_handle(&self, username: &str, realm: &str, src: SocketAddr) -> Result<Vec<u8>, turn::Error> {
        let refuse = |why: &str| {
            self.stats.refused_credentials.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%src, username, why, "TURN credentials refused");
            Err(turn::Error::Other(why.to_string()))
        };
        // The expiry itself is checked by the listener before the engine, for Allocate
        // requests only (see `authentic`); here only the username's shape.
        let Some((expiry, user)) = username.split_once(':') else { return refuse("username is not <expiry>:<user>") };
        if expiry.parse::<u64>().is_err() {
            return refuse("expiry is not a number");
        }
        if user.is_empty() {
            return refuse("no user");
        }
        Ok(generate_auth_key(username, realm, &rest_password(&self.secret, username)))
    }
}

/// The request's MESSAGE-INTEGRITY checks out with the REST password of `username`; and,
/// for an Allocate, the username has not expired. Credentials are what it takes to *make*
/// an allocation: one made in time may be refreshed, and given permissions and channels,
/// after they expire, as long as its call lasts (it is deleted when the call ends).
fn authentic(secret: &str, m: &Message, username: &str, now: SystemTime) -> bool {
    let Some(expiry) = username.split_once(':').and_then(|(e, _)| e.parse::<u64>().ok()) else { return false };
    let now = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    if m.typ.method == METHOD_ALLOCATE && expiry < now {
        return false;
    }
    let Some(realm) = m.get(stun::attributes::ATTR_REALM).ok().and_then(|r| String::from_utf8(r).ok()) else {
        return false;
    };
    let integrity =
        MessageIntegrity::new_long_term_integrity(username.to_string(), realm, rest_password(secret, username));
    let mut copy = m.clone();
    integrity.check(&mut copy).is_ok()
}

fn rest_password(secret: &str, username: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A parsed STUN message, if `buf` is one.
fn stun_message(buf: &[u8]) -> Option<Message> {
    if buf.len() < 20 || buf[0] & 0xc0 != 0 || buf[4..8] != [0x21, 0x12, 0xa4, 0x42] {
        return None;
    }
    let mut m = Message { raw: buf.to_vec(), ..Default::default() };
    m.decode().ok()?;
    Some(m)
}

/// The XOR-PEER-ADDRESS attributes of a message; `None` if one is malformed.
fn peer_addresses(m: &Message) -> Option<Vec<SocketAddr>> {
    xor_addresses(m, ATTR_XOR_PEER_ADDRESS)
}

/// Every `attr` (an XOR-…-ADDRESS) of a message, decoded; `None` if one is malformed (the
/// engine would zero-fill a short one into an address nobody asked for).
fn xor_addresses(m: &Message, attr: AttrType) -> Option<Vec<SocketAddr>> {
    let mut out = Vec::new();
    for a in m.attributes.0.iter().filter(|a| a.typ == attr) {
        let v = &a.value;
        if v.len() < 4 {
            return None;
        }
        let port = u16::from_be_bytes([v[2], v[3]]) ^ 0x2112;
        let ip = match (v[1], v.len()) {
            (0x01, 8) => {
                let x = u32::from_be_bytes([v[4], v[5], v[6], v[7]]) ^ 0x2112_a442;
                IpAddr::V4(Ipv4Addr::from(x))
            }
            (0x02, 20) => {
                let mut key = [0u8; 16];
                key[..4].copy_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
                key[4..].copy_from_slice(&m.transaction_id.0);
                let mut b = [0u8; 16];
                for (i, byte) in b.iter_mut().enumerate() {
                    *byte = v[4 + i] ^ key[i];
                }
                IpAddr::V6(Ipv6Addr::from(b))
            }
            _ => return None,
        };
        out.push(SocketAddr::new(ip, port));
    }
    Some(out)
}

fn username_of(m: &Message) -> Option<String> {
    m.get(ATTR_USERNAME).ok().and_then(|v| String::from_utf8(v).ok())
}

/// An error response to request `m`, without integrity (as the engine's own are).
fn error_response(m: &Message, code: ErrorCode) -> Option<Vec<u8>> {
    let mut out = Message::new();
    let setters: Vec<Box<dyn Setter>> = vec![
        Box::new(Message { transaction_id: m.transaction_id, ..Default::default() }),
        Box::new(MessageType::new(m.typ.method, CLASS_ERROR_RESPONSE)),
        Box::new(ErrorCodeAttribute { code, reason: Vec::new() }),
    ];
    out.build(&setters).ok()?;
    Some(out.raw)
}

/// The client-facing socket, with the quota and the peer filter in front of the engine.
struct Listener {
    socket: UdpSocket,
    shared: Arc<Shared>,
}

impl Listener {
    /// What to do with a client packet before the engine sees it.
    fn screen(&self, buf: &[u8], src: SocketAddr) -> Verdict {
        let Some(m) = stun_message(buf) else { return Verdict::Pass };
        if m.typ.class != CLASS_REQUEST || m.typ.method == METHOD_BINDING {
            return Verdict::Pass;
        }
        let s = &self.shared;
        if !m.contains(ATTR_MESSAGE_INTEGRITY) {
            // The engine asks for credentials (401 with realm and a nonce it keeps).
            return if self.admit(src) { Verdict::Pass } else { Verdict::Drop };
        }
        let Some(username) = username_of(&m) else { return Verdict::Reply(error_response(&m, CODE_BAD_REQUEST)) };
        // Checked here, before the engine: it would answer an unknown nonce with a new one
        // (state) before looking at the credentials.
        if !self.authentic(&m, &username) {
            if !self.admit(src) {
                return Verdict::Drop;
            }
            s.stats.refused_credentials.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%src, username, "TURN request refused: bad or expired credentials");
            return Verdict::Reply(error_response(&m, CODE_UNAUTHORIZED));
        }
        if m.typ.method == METHOD_ALLOCATE {
            let user = username.split_once(':').map(|(_, u)| u.to_string()).unwrap_or_default();
            let mut ledger = s.ledger();
            let held = ledger.users.get(&user).copied().unwrap_or(0);
            if held >= s.quota {
                drop(ledger);
                s.stats.refused_quota.fetch_add(1, Ordering::Relaxed);
                tracing::info!(%src, user, held, "TURN allocation refused: quota reached");
                return Verdict::Reply(error_response(&m, CODE_ALLOC_QUOTA_REACHED));
            }
            ledger.pending.insert(src, username);
            return Verdict::Pass;
        }
        if m.typ.method == METHOD_CREATE_PERMISSION || m.typ.method == METHOD_CHANNEL_BIND {
            let Some(peers) = peer_addresses(&m) else {
                return Verdict::Reply(error_response(&m, CODE_BAD_REQUEST));
            };
            if let Some(peer) = peers.into_iter().find(|p| !s.peer_allowed(*p)) {
                s.stats.refused_peer.fetch_add(1, Ordering::Relaxed);
                tracing::info!(%src, %peer, "TURN permission refused: reserved peer address");
                return Verdict::Reply(error_response(&m, CODE_FORBIDDEN));
            }
        }
        Verdict::Pass
    }

    /// Within the budget for requests that are not (validly) authenticated: each gets an
    /// answer larger than itself, and the engine keeps a nonce for each unauthenticated
    /// one, so they are limited per source address and overall.
    fn admit(&self, src: SocketAddr) -> bool {
        // Loopback sources cannot be spoofed from outside (the kernel drops them as
        // martians): local tools and tests are not limited.
        if src.ip().to_canonical().is_loopback() {
            return true;
        }
        let ok = self.shared.flood.lock().unwrap_or_else(|p| p.into_inner()).admit(src.ip());
        if !ok {
            self.shared.stats.refused_flood.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// The message's integrity checks out with the REST password of `username`, and the
    /// username has not expired.
    fn authentic(&self, m: &Message, username: &str) -> bool {
        authentic(&self.shared.secret, m, username, SystemTime::now())
    }

    /// Note the engine's answers to Allocate requests.
    fn observe_reply(&self, buf: &[u8], dst: SocketAddr) {
        let Some(m) = stun_message(buf) else { return };
        if m.typ.method != METHOD_ALLOCATE {
            return;
        }
        let mut ledger = self.shared.ledger();
        if m.typ.class == CLASS_SUCCESS_RESPONSE {
            let relayed = xor_addresses(&m, ATTR_XOR_RELAYED_ADDRESS).and_then(|a| a.into_iter().next());
            if let (Some(username), Some(relayed)) = (ledger.pending.remove(&dst), relayed)
                && ledger.grant(relayed, username)
            {
                self.shared.stats.allocations.fetch_add(1, Ordering::Relaxed);
                self.shared.stats.allocations_total.fetch_add(1, Ordering::Relaxed);
            }
        } else if m.typ.class == CLASS_ERROR_RESPONSE {
            ledger.pending.remove(&dst);
        }
    }
}

/// What the listener does with a client packet.
enum Verdict {
    /// On to the engine.
    Pass,
    /// Answered here.
    Reply(Option<Vec<u8>>),
    /// Dropped (over the flood budget).
    Drop,
}

#[async_trait]
impl Conn for Listener {
    async fn connect(&self, addr: SocketAddr) -> webrtc_util::Result<()> {
        Ok(self.socket.connect(addr).await?)
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        Ok(self.recv_from(buf).await?.0)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        loop {
            // The engine's read loop ends for good on an error: keep transient ones (an
            // ICMP error reported on the socket, say) away from it.
            let (n, src) = match self.socket.recv_from(buf).await {
                Ok(got) => got,
                Err(e) => {
                    tracing::debug!(error = %e, "TURN listener receive error; going on");
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                }
            };
            match self.screen(&buf[..n], src) {
                Verdict::Pass => return Ok((n, src)),
                Verdict::Reply(Some(reply)) => {
                    let _ = self.socket.send_to(&reply, src).await;
                }
                Verdict::Reply(None) | Verdict::Drop => {}
            }
        }
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        Ok(self.socket.send(buf).await?)
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        self.observe_reply(buf, target);
        Ok(self.socket.send_to(buf, target).await?)
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        None
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        Ok(())
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

/// A relayed port: counts bytes, and drops traffic to or from a refused peer.
struct RelaySocket {
    socket: UdpSocket,
    port: u16,
    shared: Arc<Shared>,
}

impl Drop for RelaySocket {
    fn drop(&mut self) {
        self.shared.open_ports.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.port);
    }
}

#[async_trait]
impl Conn for RelaySocket {
    async fn connect(&self, addr: SocketAddr) -> webrtc_util::Result<()> {
        Ok(self.socket.connect(addr).await?)
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        Ok(self.recv_from(buf).await?.0)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        loop {
            let (n, src) = self.socket.recv_from(buf).await?;
            if self.shared.peer_allowed(src) {
                self.shared.stats.relayed_bytes.fetch_add(n as u64, Ordering::Relaxed);
                return Ok((n, src));
            }
            self.shared.stats.refused_peer.fetch_add(1, Ordering::Relaxed);
        }
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        Ok(self.socket.send(buf).await?)
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        if !self.shared.peer_allowed(target) {
            self.shared.stats.refused_peer.fetch_add(1, Ordering::Relaxed);
            return Ok(buf.len());
        }
        let n = self.socket.send_to(buf, target).await?;
        self.shared.stats.relayed_bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        None
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        Ok(())
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

/// Relayed ports from the configured range.
struct Ports {
    bind_ip: IpAddr,
    public_ip: IpAddr,
    min: u16,
    max: u16,
    shared: Arc<Shared>,
}

#[async_trait]
impl RelayAddressGenerator for Ports {
    fn validate(&self) -> Result<(), turn::Error> {
        if self.min == 0 || self.max < self.min {
            return Err(turn::Error::ErrMaxPortLessThanMinPort);
        }
        Ok(())
    }

    async fn allocate_conn(
        &self,
        use_ipv4: bool,
        requested_port: u16,
    ) -> Result<(Arc<dyn Conn + Send + Sync>, SocketAddr), turn::Error> {
        if !use_ipv4 && self.bind_ip.is_ipv4() {
            return Err(turn::Error::Other("IPv6 relaying is not offered".into()));
        }
        let span = u32::from(self.max - self.min) + 1;
        let start = rand::random::<u32>() % span;
        let tries: Vec<u16> = if requested_port != 0 {
            vec![requested_port]
        } else {
            (0..span.min(64)).map(|i| self.min + ((start + i * 7919) % span) as u16).collect()
        };
        for port in tries {
            if let Ok(socket) = udp_socket(SocketAddr::new(self.bind_ip, port)) {
                self.shared.open_ports.lock().unwrap_or_else(|p| p.into_inner()).insert(port);
                let conn = RelaySocket { socket, port, shared: self.shared.clone() };
                return Ok((Arc::new(conn), SocketAddr::new(self.public_ip, port)));
            }
        }
        Err(turn::Error::ErrMaxRetriesExceeded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.7",
            "198.18.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(is_reserved(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["1.1.1.1", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!is_reserved(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn peers_at_the_relays_own_address_only_at_open_relay_ports() {
        let shared = Shared {
            secret: String::new(),
            quota: 1,
            allow_private: false,
            public_ip: "93.184.216.34".parse().unwrap(),
            own_ips: HashSet::from(["93.184.216.35".parse().unwrap()]),
            open_ports: Mutex::new(HashSet::from([50000])),
            ledger: Mutex::new(Ledger::default()),
            flood: Mutex::new(Flood::new()),
            stats: Arc::new(TurnStats::default()),
        };
        let at = |s: &str| shared.peer_allowed(s.parse().unwrap());
        assert!(at("93.184.216.34:50000"), "another relayed peer");
        assert!(!at("93.184.216.34:53"), "the server's own services");
        assert!(!at("93.184.216.34:50001"), "a relay port not open");
        assert!(at("1.1.1.1:53"));
        assert!(!at("10.0.0.1:9"));
        assert!(!at("127.0.0.1:50000"));
        assert!(!at("[::ffff:93.184.216.34]:53"), "the IPv4-mapped form of the own address");
        assert!(!at("93.184.216.35:50000"), "the machine's other public address");
    }

    /// A request as a TURN client sends it: long-term credentials over a nonce.
    fn signed(method: stun::message::Method, username: &str, password: &str) -> Message {
        use stun::{agent::TransactionId, textattrs::TextAttribute};
        let mut m = Message::new();
        let setters: Vec<Box<dyn Setter>> = vec![
            Box::new(TransactionId::new()),
            Box::new(MessageType::new(method, CLASS_REQUEST)),
            Box::new(TextAttribute::new(ATTR_USERNAME, username.into())),
            Box::new(TextAttribute::new(stun::attributes::ATTR_REALM, "nexus".into())),
            Box::new(TextAttribute::new(stun::attributes::ATTR_NONCE, "n0nce".into())),
            Box::new(MessageIntegrity::new_long_term_integrity(username.into(), "nexus".into(), password.into())),
        ];
        m.build(&setters).unwrap();
        let mut parsed = Message { raw: m.raw.clone(), ..Default::default() };
        parsed.decode().unwrap();
        parsed
    }

    #[test]
    fn expired_credentials_make_no_allocation_but_keep_one_alive() {
        let now = SystemTime::now();
        let secs = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let (live, old) = (format!("{}:alice", secs + 600), format!("{}:alice", secs - 5));
        let ok = |m: &Message, u: &str| authentic("s3cret-s3cret-s3cret", m, u, now);
        let key = |u: &str| rest_password("s3cret-s3cret-s3cret", u);
        assert!(ok(&signed(METHOD_ALLOCATE, &live, &key(&live)), &live));
        assert!(!ok(&signed(METHOD_ALLOCATE, &old, &key(&old)), &old), "expired: no new allocation");
        assert!(ok(&signed(stun::message::METHOD_REFRESH, &old, &key(&old)), &old), "refresh after expiry");
        assert!(ok(&signed(METHOD_CREATE_PERMISSION, &old, &key(&old)), &old));
        assert!(!ok(&signed(stun::message::METHOD_REFRESH, &old, "forged"), &old), "forged never");
        assert!(!ok(&signed(METHOD_ALLOCATE, &live, "forged"), &live));
        assert!(!ok(&signed(METHOD_ALLOCATE, "alice", &key("alice")), "alice"), "not <expiry>:<user>");
    }

    #[test]
    fn ledger_counts_allocations_by_relayed_address() {
        let mut l = Ledger::default();
        let (r1, r2) = ("127.0.0.1:50001".parse().unwrap(), "127.0.0.1:50002".parse().unwrap());
        assert!(l.grant(r1, "1:alice".into()));
        assert!(!l.grant(r1, "1:alice".into()), "a retransmitted answer counts once");
        assert!(l.grant(r2, "2:alice".into()));
        assert_eq!(l.users["alice"], 2);
        assert!(l.close(r1));
        assert!(!l.close(r1), "closed twice counts once");
        assert_eq!(l.users["alice"], 1);
        assert!(l.close(r2));
        assert!(l.users.is_empty() && l.granted.is_empty());
    }

    #[test]
    fn flood_budget_per_source_and_overall() {
        let mut f = Flood::new();
        let a: IpAddr = "198.51.100.1".parse().unwrap();
        let admitted = (0..100).filter(|_| f.admit(a)).count();
        assert_eq!(admitted, FLOOD_PER_IP.1 as usize, "one source gets its burst");
        let others = (0..1000u32).filter(|i| f.admit(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)))).count();
        assert!(others < 400, "the global budget caps many sources: {others}");
    }

    #[test]
    fn rest_password_is_hmac_sha1_base64() {
        // `printf %s 1700000000:alice | openssl dgst -sha1 -hmac north -binary | base64`
        assert_eq!(rest_password("north", "1700000000:alice"), "Cd/49soE35ICqcJF/bCTn8Z4OyE=");
    }
}
