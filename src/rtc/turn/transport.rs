//! How clients reach the relay: UDP, or TURN over TCP (RFC 8656 §3.1: the client–server
//! leg is a TCP connection; relayed traffic stays UDP). Over TCP, STUN messages and
//! ChannelData are framed by their own length fields (ChannelData padded to 4 bytes), so
//! the TCP side hands the engine one message per `recv_from`, named by the connection's
//! address, and `send_to` writes to that connection. The engine and the screening in
//! front of it ([`super::sockets::Listener`]) see no difference.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream, UdpSocket},
    sync::mpsc,
};

/// Most TCP clients at once.
const MAX_CONNECTIONS: usize = 4096;
/// A TCP client that sends nothing for this long is dropped (an allocation is refreshed
/// every few minutes).
const IDLE: Duration = Duration::from_secs(15 * 60);
/// Largest message accepted over TCP.
const MAX_MESSAGE: usize = 64 * 1024;

pub(super) enum Transport {
    Udp(UdpSocket),
    Tcp(TcpFrames),
}

impl Transport {
    pub(super) async fn recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
        match self {
            Transport::Udp(s) => s.recv_from(buf).await,
            Transport::Tcp(t) => t.recv_from(buf).await,
        }
    }

    pub(super) async fn send_to(&self, buf: &[u8], target: SocketAddr) -> std::io::Result<usize> {
        match self {
            Transport::Udp(s) => s.send_to(buf, target).await,
            Transport::Tcp(t) => Ok(t.send_to(buf, target)),
        }
    }

    pub(super) fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            Transport::Udp(s) => s.local_addr(),
            Transport::Tcp(t) => Ok(t.local),
        }
    }
}

type Writers = Arc<Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>>;

/// TCP clients as one message socket.
pub(super) struct TcpFrames {
    local: SocketAddr,
    inbox: tokio::sync::Mutex<mpsc::Receiver<(Vec<u8>, SocketAddr)>>,
    writers: Writers,
}

impl TcpFrames {
    pub(super) fn start(listener: TcpListener) -> std::io::Result<TcpFrames> {
        let local = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(4096);
        let writers: Writers = Arc::default();
        let w = writers.clone();
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::debug!(error = %e, "TURN tcp accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                if w.lock().unwrap_or_else(|p| p.into_inner()).len() >= MAX_CONNECTIONS {
                    continue; // dropped: closes the connection
                }
                let _ = stream.set_nodelay(true);
                serve(stream, peer, tx.clone(), w.clone());
            }
        });
        Ok(TcpFrames { local, inbox: tokio::sync::Mutex::new(rx), writers })
    }

    async fn recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
        let Some((msg, from)) = self.inbox.lock().await.recv().await else {
            return Err(std::io::Error::other("TURN tcp listener closed"));
        };
        let n = msg.len().min(buf.len());
        buf[..n].copy_from_slice(&msg[..n]);
        Ok((n, from))
    }

    /// Queue `buf` for the connection `target`; dropped when it is gone or backed up (as a
    /// datagram would be).
    fn send_to(&self, buf: &[u8], target: SocketAddr) -> usize {
        let writer = self.writers.lock().unwrap_or_else(|p| p.into_inner()).get(&target).cloned();
        if let Some(w) = writer {
            let _ = w.try_send(padded(buf));
        }
        buf.len()
    }
}

/// One connection: a reader that frames messages into the inbox, a writer for replies.
fn serve(stream: TcpStream, peer: SocketAddr, inbox: mpsc::Sender<(Vec<u8>, SocketAddr)>, writers: Writers) {
    let (mut rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(256);
    writers.lock().unwrap_or_else(|p| p.into_inner()).insert(peer, tx);
    tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            if wr.write_all(&msg).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let mut head = [0u8; 4];
        loop {
            match tokio::time::timeout(IDLE, rd.read_exact(&mut head)).await {
                Ok(Ok(_)) => {}
                _ => break,
            }
            let Some((wire, used)) = frame_len(&head) else { break };
            if wire > MAX_MESSAGE {
                break;
            }
            let mut msg = vec![0u8; wire];
            msg[..4].copy_from_slice(&head);
            match tokio::time::timeout(Duration::from_secs(30), rd.read_exact(&mut msg[4..])).await {
                Ok(Ok(_)) => {}
                _ => break,
            }
            msg.truncate(used);
            if inbox.send((msg, peer)).await.is_err() {
                break;
            }
        }
        writers.lock().unwrap_or_else(|p| p.into_inner()).remove(&peer);
    });
}

/// `(bytes on the wire, bytes of the message)` from the first four bytes: a STUN message
/// (20-byte header + length) or ChannelData (4-byte header + length, padded to 4 on TCP).
pub(super) fn frame_len(head: &[u8; 4]) -> Option<(usize, usize)> {
    let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
    match head[0] >> 6 {
        0 => Some((20 + len, 20 + len)),
        1 => Some((4 + len.div_ceil(4) * 4, 4 + len)),
        _ => None,
    }
}

/// A message as it goes on TCP: ChannelData padded to a multiple of 4 bytes.
fn padded(buf: &[u8]) -> Vec<u8> {
    let mut out = buf.to_vec();
    if buf.len() >= 4 && buf[0] >> 6 == 1 {
        let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        let wire = 4 + len.div_ceil(4) * 4;
        if out.len() < wire {
            out.resize(wire, 0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_stun_and_padded_channel_data() {
        assert_eq!(frame_len(&[0x00, 0x03, 0x00, 0x08]), Some((28, 28)), "STUN: header + 8");
        assert_eq!(frame_len(&[0x40, 0x00, 0x00, 0x05]), Some((12, 9)), "ChannelData 5 → padded to 8");
        assert_eq!(frame_len(&[0x40, 0x00, 0x00, 0x08]), Some((12, 12)));
        assert_eq!(frame_len(&[0x80, 0, 0, 0]), None, "neither: the connection is dropped");
        assert_eq!(padded(&[0x40, 0, 0, 1, 9]).len(), 8);
        assert_eq!(padded(&[0x00, 1, 0, 0]).len(), 4, "STUN is never padded");
    }
}
