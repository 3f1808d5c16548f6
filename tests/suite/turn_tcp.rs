//! TURN over TCP: a client whose network blocks UDP reaches the embedded relay over TCP
//! (same port number), with the same credential checks, and its relayed (UDP) address
//! exchanges data with a client that came over UDP. Driven by the `turn` crate's client
//! over a TCP connection framed as RFC 8656 §3.1 says (STUN by its length, ChannelData
//! padded to 4 bytes).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use async_trait::async_trait;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::Mutex,
};
use webrtc_util::Conn;

use crate::{
    both_scales,
    calls::turn_client,
    common::{Scale, spawn_with, user},
};

both_scales!(a_client_over_tcp_allocates_and_relays_to_one_over_udp);

struct TcpTurn {
    rd: Mutex<OwnedReadHalf>,
    wr: Mutex<OwnedWriteHalf>,
    server: SocketAddr,
    local: SocketAddr,
}

impl TcpTurn {
    async fn connect(server: SocketAddr) -> TcpTurn {
        let s = TcpStream::connect(server).await.unwrap();
        let local = s.local_addr().unwrap();
        let (rd, wr) = s.into_split();
        TcpTurn { rd: Mutex::new(rd), wr: Mutex::new(wr), server, local }
    }
}

#[async_trait]
impl Conn for TcpTurn {
    async fn connect(&self, _: SocketAddr) -> webrtc_util::Result<()> {
        Ok(())
    }
    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        Ok(self.recv_from(buf).await?.0)
    }
    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        let mut rd = self.rd.lock().await;
        let mut head = [0u8; 4];
        rd.read_exact(&mut head).await?;
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let (wire, used) = if head[0] >> 6 == 1 { (4 + len.div_ceil(4) * 4, 4 + len) } else { (20 + len, 20 + len) };
        let mut msg = vec![0u8; wire];
        msg[..4].copy_from_slice(&head);
        rd.read_exact(&mut msg[4..]).await?;
        buf[..used].copy_from_slice(&msg[..used]);
        Ok((used, self.server))
    }
    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        self.send_to(buf, self.server).await
    }
    async fn send_to(&self, buf: &[u8], _: SocketAddr) -> webrtc_util::Result<usize> {
        let mut out = buf.to_vec();
        if buf[0] >> 6 == 1 {
            let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
            out.resize(out.len().max(4 + len.div_ceil(4) * 4), 0);
        }
        self.wr.lock().await.write_all(&out).await?;
        Ok(buf.len())
    }
    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        Ok(self.local)
    }
    fn remote_addr(&self) -> Option<SocketAddr> {
        Some(self.server)
    }
    async fn close(&self) -> webrtc_util::Result<()> {
        Ok(())
    }
    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

async fn tcp_client(server: SocketAddr, username: &str, password: &str) -> turn::client::Client {
    let client = turn::client::Client::new(turn::client::ClientConfig {
        stun_serv_addr: server.to_string(),
        turn_serv_addr: server.to_string(),
        username: username.into(),
        password: password.into(),
        realm: "nexus".into(),
        software: String::new(),
        rto_in_ms: 0,
        conn: Arc::new(TcpTurn::connect(server).await),
        vnet: None,
    })
    .await
    .unwrap();
    client.listen().await.unwrap();
    client
}

async fn a_client_over_tcp_allocates_and_relays_to_one_over_udp(scale: Scale) {
    let app = spawn_with(scale, |_| {}).await;
    let relay = app.services.turn.as_ref().unwrap().clone();
    let tcp = relay.tcp_addr().expect("turn.tcp is on by default");
    // (With a configured port it is the same number as UDP; tests use port 0.)
    let secret = app.services.turn_secret.clone();
    let creds = |user: &str, secs: i64| {
        nexus::rtc::turn::credentials::rest_credentials(
            &secret,
            user.parse().unwrap(),
            chrono::Utc::now() + chrono::Duration::seconds(secs),
        )
    };
    let (_, a_id) = user(&app, "alice").await;
    let (_, b_id) = user(&app, "bob").await;

    // The same checks as over UDP: forged credentials allocate nothing.
    let (u, _) = creds(&a_id, 600);
    let forged = tcp_client(tcp, &u, "Zm9yZ2VkIHBhc3N3b3Jk").await;
    assert!(forged.allocate().await.is_err(), "forged credentials allocate over TCP");
    forged.close().await.unwrap();

    // Alice over TCP, Bob over UDP: they relay to each other.
    let (u, p) = creds(&a_id, 600);
    let alice = tcp_client(tcp, &u, &p).await;
    let a_relay = alice.allocate().await.unwrap();
    let (u, p) = creds(&b_id, 600);
    let bob = turn_client(relay.addr(), &u, &p).await;
    let b_relay = bob.allocate().await.unwrap();
    let (a_addr, b_addr) = (a_relay.local_addr().unwrap(), b_relay.local_addr().unwrap());
    b_relay.send_to(b"hello from bob", a_addr).await.unwrap();
    let mut buf = [0u8; 1500];
    let mut got = None;
    for _ in 0..20 {
        a_relay.send_to(b"hello from alice, over tcp", b_addr).await.unwrap();
        if let Ok(Ok((n, from))) = tokio::time::timeout(Duration::from_millis(250), b_relay.recv_from(&mut buf)).await {
            got = Some((buf[..n].to_vec(), from));
            break;
        }
    }
    let (data, from) = got.expect("bob receives alice's datagram");
    assert_eq!((data.as_slice(), from), (&b"hello from alice, over tcp"[..], a_addr));
    // And back: ChannelData or Data indications reach the TCP client framed.
    let mut got = None;
    for _ in 0..20 {
        b_relay.send_to(b"hi alice", a_addr).await.unwrap();
        if let Ok(Ok((n, from))) = tokio::time::timeout(Duration::from_millis(250), a_relay.recv_from(&mut buf)).await {
            got = Some((buf[..n].to_vec(), from));
            break;
        }
    }
    let (data, from) = got.expect("alice receives over TCP");
    // Bob's first datagram may arrive too, once Alice's permission for Bob exists.
    assert!(data == b"hi alice" || data == b"hello from bob", "{data:?}");
    assert_eq!(from, b_addr);
    assert_eq!(relay.allocations_of(&a_id), 1);
    alice.close().await.unwrap();
    bob.close().await.unwrap();
    app.finish().await;
}
