//! The relay's bookkeeping and guards: who holds which allocation ([`Ledger`], for the
//! per-user quota), request budgets against floods ([`Flood`]), and which peer addresses
//! are off limits ([`is_reserved`]).

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr, SocketAddr},
};

/// Who holds which allocations, per user. Keyed by the relayed address, which identifies
/// an allocation for its whole life (the engine reports it again when it closes).
#[derive(Default)]
pub(super) struct Ledger {
    /// Client address -> username, for Allocate requests not answered yet.
    pub(super) pending: HashMap<SocketAddr, String>,
    /// Relayed address -> (user, username), for granted allocations.
    pub(super) granted: HashMap<SocketAddr, (String, String)>,
    /// User -> number of allocations held.
    pub(super) users: HashMap<String, u32>,
}

impl Ledger {
    pub(super) fn grant(&mut self, relayed: SocketAddr, username: String) -> bool {
        if self.granted.contains_key(&relayed) {
            return false; // the answer to a retransmission
        }
        let user = username.split_once(':').map(|(_, u)| u.to_string()).unwrap_or_default();
        *self.users.entry(user.clone()).or_default() += 1;
        self.granted.insert(relayed, (user, username));
        true
    }

    pub(super) fn close(&mut self, relayed: SocketAddr) -> bool {
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
pub(super) struct Flood {
    per_ip: HashMap<IpAddr, (f64, std::time::Instant)>,
    global: (f64, std::time::Instant),
}

const FLOOD_PER_IP: (f64, f64) = (10.0, 20.0); // per second, burst
const FLOOD_GLOBAL: (f64, f64) = (200.0, 400.0);

impl Flood {
    pub(super) fn new() -> Self {
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

    pub(super) fn admit(&mut self, ip: IpAddr) -> bool {
        let now = std::time::Instant::now();
        if self.per_ip.len() > 10_000 {
            // Forget sources whose bucket has refilled: they are as good as new.
            self.per_ip.retain(|_, b| now.duration_since(b.1).as_secs_f64() * FLOOD_PER_IP.0 < FLOOD_PER_IP.1);
        }
        let bucket = self.per_ip.entry(ip).or_insert((FLOOD_PER_IP.1, now));
        Self::take(bucket, FLOOD_PER_IP, now) && Self::take(&mut self.global, FLOOD_GLOBAL, now)
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

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

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
}
