//! Real-time media: the embedded TURN relay ([`turn`]) that carries 1-on-1 calls when the
//! peers cannot reach each other (and clients behind UDP-hostile networks to the SFU), and
//! the SFU of group calls ([`sfu`]).

pub mod sfu;
pub mod turn;

use std::net::{IpAddr, Ipv4Addr};

/// The address to announce for a socket bound to `listen`: `listen` itself if it is a
/// specific one, else this machine's primary address.
pub fn announced_ip(listen: IpAddr) -> IpAddr {
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
            tracing::warn!("no network address found to announce; set turn.public_ip / calls.sfu.public_ip");
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
    }
}
