//! The embedded TURN relay (RFC 5766; clients over UDP, or over TCP with `turn.tcp`,
//! relayed traffic over UDP), which also answers STUN binding requests. The protocol engine is the `turn` crate; around it, Nexus adds what a relay
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
//! The filter sits in two `Conn` wrappers ([`sockets`]): the listener sees every client
//! packet before the engine (and the engine's answers), a relay socket every packet to or
//! from a peer; [`transport`] gives the listener its UDP socket or its TCP clients.
//! [`credentials`] makes and checks the REST credentials; [`guard`] keeps the
//! allocation ledger, the flood budgets and the reserved address ranges.

pub mod credentials;
mod guard;
mod sockets;
mod transport;

use std::{
    collections::HashSet,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use tokio::{net::UdpSocket, sync::mpsc};
use turn::{
    allocation::AllocationInfo,
    server::{
        Server,
        config::{ConnConfig, ServerConfig},
    },
};
use uuid::Uuid;

use self::{
    credentials::RestAuth,
    guard::{Flood, Ledger, is_reserved},
    sockets::{Listener, Ports},
    transport::{TcpFrames, Transport},
};
use crate::config::TurnConfig;

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
    /// Exact addresses always relayed to: this node's SFU.
    services: Mutex<HashSet<SocketAddr>>,
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
        let canonical = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        if self.services.lock().unwrap_or_else(|p| p.into_inner()).contains(&canonical) {
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
    tcp_addr: Option<SocketAddr>,
    pub stats: Arc<TurnStats>,
}

impl Relay {
    /// Relay to `addr` even though it is one of this machine's (the SFU's socket: clients
    /// behind UDP-hostile networks reach group calls through the relay).
    pub fn allow_peer(&self, addr: SocketAddr) {
        let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
        self.shared.services.lock().unwrap_or_else(|p| p.into_inner()).insert(addr);
    }

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
            services: Mutex::new(HashSet::new()),
            flood: Mutex::new(Flood::new()),
            ledger: Mutex::new(Ledger::default()),
            stats: stats.clone(),
        });
        let (closed_tx, mut closed_rx) = mpsc::channel::<AllocationInfo>(1024);
        let generator = || Ports {
            bind_ip: addr.ip(),
            public_ip,
            min: cfg.relay_min_port,
            max: cfg.relay_max_port,
            shared: shared.clone(),
        };
        let mut conn_configs = vec![ConnConfig {
            conn: Arc::new(Listener { socket: Transport::Udp(socket), shared: shared.clone() }),
            relay_addr_generator: Box::new(generator()),
        }];
        // TURN over TCP on the same port number (clients whose network blocks UDP); with
        // port 0 (tests) a port of its own, as that number may be any TCP socket's.
        let mut tcp_addr = None;
        if cfg.tcp {
            let at = if cfg.listen.port() == 0 { cfg.listen } else { addr };
            let listener = tokio::net::TcpListener::bind(at).await.with_context(|| {
                format!("cannot listen for TURN on tcp/{at} (set turn.listen, or turn.tcp = false)")
            })?;
            let transport = Transport::Tcp(TcpFrames::start(listener)?);
            tcp_addr = Some(transport.local_addr()?);
            conn_configs.push(ConnConfig {
                conn: Arc::new(Listener { socket: transport, shared: shared.clone() }),
                relay_addr_generator: Box::new(generator()),
            });
        }
        let server = Server::new(ServerConfig {
            conn_configs,
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
        Ok(Arc::new(Relay { server, shared, addr, tcp_addr, stats }))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The TCP listener (`turn.tcp`), on the same port number as the UDP one.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp_addr
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
    super::announced_ip(listen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_at_the_relays_own_address_only_at_open_relay_ports() {
        let shared = Shared {
            secret: String::new(),
            quota: 1,
            allow_private: false,
            public_ip: "93.184.216.34".parse().unwrap(),
            own_ips: HashSet::from(["93.184.216.35".parse().unwrap()]),
            open_ports: Mutex::new(HashSet::from([50000])),
            services: Mutex::new(HashSet::from(["93.184.216.35:3479".parse().unwrap()])),
            ledger: Mutex::new(Ledger::default()),
            flood: Mutex::new(Flood::new()),
            stats: Arc::new(TurnStats::default()),
        };
        let at = |s: &str| shared.peer_allowed(s.parse().unwrap());
        assert!(at("93.184.216.34:50000"), "another relayed peer");
        assert!(at("93.184.216.35:3479"), "this node's SFU");
        assert!(!at("93.184.216.35:3480"), "but no other port of this machine");
        assert!(!at("93.184.216.34:53"), "the server's own services");
        assert!(!at("93.184.216.34:50001"), "a relay port not open");
        assert!(at("1.1.1.1:53"));
        assert!(!at("10.0.0.1:9"));
        assert!(!at("127.0.0.1:50000"));
        assert!(!at("[::ffff:93.184.216.34]:53"), "the IPv4-mapped form of the own address");
        assert!(!at("93.184.216.35:50000"), "the machine's other public address");
    }
}
