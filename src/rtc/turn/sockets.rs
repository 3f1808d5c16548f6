//! The relay's sockets: [`Listener`], the client-facing socket that screens every
//! packet before the engine (flood budget, credentials, quota, peer filter) and watches
//! the engine's answers; [`RelaySocket`], a relayed port that counts bytes and drops
//! traffic of refused peers; [`Ports`], which hands out relayed ports from the range.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{Arc, atomic::Ordering},
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use stun::{
    attributes::{ATTR_MESSAGE_INTEGRITY, ATTR_USERNAME, ATTR_XOR_PEER_ADDRESS, ATTR_XOR_RELAYED_ADDRESS, AttrType},
    error_code::{
        CODE_ALLOC_QUOTA_REACHED, CODE_BAD_REQUEST, CODE_FORBIDDEN, CODE_UNAUTHORIZED, ErrorCode, ErrorCodeAttribute,
    },
    message::{
        CLASS_ERROR_RESPONSE, CLASS_REQUEST, CLASS_SUCCESS_RESPONSE, METHOD_ALLOCATE, METHOD_BINDING,
        METHOD_CHANNEL_BIND, METHOD_CREATE_PERMISSION, Message, MessageType, Setter,
    },
};
use tokio::net::UdpSocket;
use turn::relay::RelayAddressGenerator;
use webrtc_util::Conn;

use super::{Shared, credentials::authentic, transport::Transport, udp_socket};

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

/// The client-facing socket (UDP, or the TCP clients), with the quota and the peer filter
/// in front of the engine.
pub(super) struct Listener {
    pub(super) socket: Transport,
    pub(super) shared: Arc<Shared>,
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
    async fn connect(&self, _addr: SocketAddr) -> webrtc_util::Result<()> {
        Err(webrtc_util::Error::Other("the TURN listener is not connected".into()))
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

    async fn send(&self, _buf: &[u8]) -> webrtc_util::Result<usize> {
        Err(webrtc_util::Error::Other("the TURN listener is not connected".into()))
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
pub(super) struct RelaySocket {
    pub(super) socket: UdpSocket,
    pub(super) port: u16,
    pub(super) shared: Arc<Shared>,
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
pub(super) struct Ports {
    pub(super) bind_ip: IpAddr,
    pub(super) public_ip: IpAddr,
    pub(super) min: u16,
    pub(super) max: u16,
    pub(super) shared: Arc<Shared>,
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
