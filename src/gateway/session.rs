//! One WebSocket session: a single task that reads frames, writes queued events, pings,
//! and enforces the limits (frame rate, idle timeout, token lifetime, slow reader).
//!
//! Order matters: the socket joins the registry before `ready` is written, so no event
//! published after `ready` can be missed; events queued meanwhile follow `ready`.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use poem::web::websocket::{CloseCode, Message, WebSocketStream};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{
    CLOSE_ACCOUNT_DISABLED, CLOSE_FLOOD, CLOSE_GOING_AWAY, CLOSE_IDLE, CLOSE_INVALID_DATA, CLOSE_PROTOCOL,
    CLOSE_TOKEN_EXPIRED, CLOSE_TOO_BIG, CLOSE_TOO_SLOW, CLOSE_TRY_AGAIN, Gateway,
    registry::{Kick, SessionHandle},
    token_remaining,
};
use crate::{
    protocol::{ClientEvent, ServerEvent, parse, views::UserView},
    service::{calls::Signal, messages::Pending, receipts::Kind},
    services::Services,
    store::User,
};

/// Queued events written per flush at most.
const WRITE_BATCH: usize = 64;

/// A peer that takes none of our bytes for this long is gone (a backstop: a stalled reader
/// usually fills its send queue first and is kicked with 4008).
const WRITE_STALL: Duration = Duration::from_secs(30);

const SLOW: &str = "too slow; reconnect and catch up";

/// How a guarded write ended.
enum Wrote {
    Done,
    Broken,
    Close(u16, &'static str),
}

/// The reason sent with a kick's close code.
fn kick_reason(code: u16) -> &'static str {
    match code {
        CLOSE_GOING_AWAY => "server shutting down",
        CLOSE_ACCOUNT_DISABLED => "account disabled",
        _ => SLOW,
    }
}

/// Acts on a guarded write's end: false when the socket broke (the session ends now); a
/// close decided meanwhile goes into `close`.
fn wrote(w: Wrote, close: &mut Option<(u16, &'static str)>) -> bool {
    match w {
        Wrote::Done => true,
        Wrote::Broken => false,
        Wrote::Close(code, reason) => {
            *close = Some((code, reason));
            true
        }
    }
}

/// A write that cannot hang the session: while the peer does not read, the socket's
/// buffers fill and the write waits; a kick (its send queue overflowed, its account was
/// disabled, shutdown) or [`WRITE_STALL`] ends the wait, and the session closes.
async fn guarded(write: impl std::future::Future<Output = bool>, kick: &Kick) -> Wrote {
    tokio::select! {
        ok = write => if ok { Wrote::Done } else { Wrote::Broken },
        code = kick.kicked() => Wrote::Close(code, kick_reason(code)),
        _ = tokio::time::sleep(WRITE_STALL) => Wrote::Close(CLOSE_TOO_SLOW, SLOW),
    }
}

/// At most one `typing` fan-out per conversation per socket in this window.
const TYPING_THROTTLE: Duration = Duration::from_secs(2);

/// A token bucket for incoming frames.
struct FrameBudget {
    tokens: f64,
    capacity: f64,
    per_sec: f64,
    at: Instant,
}

impl FrameBudget {
    fn new(per_sec: u32) -> Self {
        let capacity = f64::from(per_sec) * 10.0;
        Self { tokens: capacity, capacity, per_sec: f64::from(per_sec), at: Instant::now() }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.per_sec).min(self.capacity);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub async fn run(socket: WebSocketStream, services: Arc<Services>, gateway: Gateway, user: User, token_exp: i64) {
    let cfg = services.config.gateway.clone();
    let me = user.id;
    let session = Uuid::now_v7();
    let (tx, mut rx) = mpsc::channel::<Arc<str>>(cfg.send_queue);
    let kick = Arc::new(Kick::default());
    gateway.registry.register(me, SessionHandle { id: session, tx: tx.clone(), kick: kick.clone() });
    // Presence is also how the fan-out finds this socket: without it the socket would
    // hear nothing, so it is closed instead and the client comes back.
    let mut close: Option<(u16, &'static str)> = None;
    // Disabled between the token check and the registration above: no kick reached it.
    if services.caches.disabled.contains(me) {
        close = Some((CLOSE_ACCOUNT_DISABLED, "account disabled"));
    } else if let Err(e) = Box::pin(services.presence.connected(me, session)).await {
        tracing::warn!(error = %e, "presence update failed; socket closed");
        close = Some((CLOSE_TRY_AGAIN, "unavailable"));
    }
    let (mut sink, mut stream) = socket.split();

    // The services' futures are boxed here and below: awaited inline, each would be part of
    // the session's own future, which lives (and holds its memory) as long as the socket.
    let presence = Box::pin(services.presence.snapshot(me)).await.unwrap_or_default();
    let calls = Box::pin(services.calls.current(me)).await.unwrap_or_default();
    let rooms = Box::pin(services.rooms.current(me)).await.unwrap_or_default();
    let ready = ServerEvent::Ready {
        session_id: session,
        server_time: chrono::Utc::now(),
        user: UserView::from(user),
        presence,
        calls,
        rooms,
    };
    if close.is_none() && Box::pin(sink.send(Message::Text(ready.to_json().to_string()))).await.is_err() {
        close = Some((CLOSE_GOING_AWAY, ""));
    }

    let mut budget = FrameBudget::new(cfg.frames_per_sec);
    let mut typing_sent: HashMap<Uuid, Instant> = HashMap::new();
    let mut last_rx = Instant::now();
    let mut ping = tokio::time::interval(Duration::from_secs(cfg.ping_interval_secs));
    ping.tick().await;
    let token_deadline = tokio::time::sleep(token_remaining(token_exp));
    tokio::pin!(token_deadline);
    let mut shutdown = gateway.shutdown.clone();
    if *shutdown.borrow() {
        close = Some((CLOSE_GOING_AWAY, "server shutting down"));
    }

    while close.is_none() {
        tokio::select! {
            frame = stream.next() => {
                last_rx = Instant::now();
                match frame {
                    None => break,
                    Some(Err(e)) => {
                        let text = e.to_string();
                        tracing::debug!(error = %text, "websocket read error");
                        let lower = text.to_ascii_lowercase();
                        if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
                            close = Some((CLOSE_TOO_BIG, "frame too large"));
                        } else if lower.contains("utf-8") || lower.contains("utf8") {
                            close = Some((CLOSE_INVALID_DATA, "text frame is not UTF-8"));
                        } else if lower.contains("protocol") {
                            close = Some((CLOSE_PROTOCOL, "protocol error"));
                        } else {
                            break;
                        }
                    }
                    Some(Ok(Message::Close(_))) => break,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(msg)) => {
                        if !budget.take() {
                            close = Some((CLOSE_FLOOD, "too many frames"));
                            continue;
                        }
                        let reply = match msg {
                            Message::Text(text) => Box::pin(handle(&services, me, session, &text, &tx, &mut typing_sent)).await,
                            _ => Some(ServerEvent::error("invalid_frame", "binary frames are not accepted", None)),
                        };
                        if let Some(text) = reply.map(|r| r.to_json().to_string()) {
                            let write = async { sink.send(Message::Text(text)).await.is_ok() };
                            if !wrote(Box::pin(guarded(write, &kick)).await, &mut close) {
                                break;
                            }
                        }
                    }
                }
            }
            out = rx.recv() => {
                let Some(text) = out else { break };
                // Write what is queued in one go: one flush (one syscall) for a burst.
                let write = async {
                    let mut ok = sink.feed(Message::Text(text.to_string())).await.is_ok();
                    let mut n = 1;
                    while ok && n < WRITE_BATCH {
                        let Ok(more) = rx.try_recv() else { break };
                        ok = sink.feed(Message::Text(more.to_string())).await.is_ok();
                        n += 1;
                    }
                    ok && sink.flush().await.is_ok()
                };
                if !wrote(Box::pin(guarded(write, &kick)).await, &mut close) {
                    break;
                }
            }
            _ = ping.tick() => {
                if last_rx.elapsed() > Duration::from_secs(cfg.idle_timeout_secs) {
                    close = Some((CLOSE_IDLE, "idle timeout"));
                } else if !wrote(Box::pin(guarded(async { sink.send(Message::Ping(Vec::new())).await.is_ok() }, &kick)).await, &mut close) {
                    break;
                }
            }
            code = kick.kicked() => {
                close = Some((code, kick_reason(code)));
            }
            _ = &mut token_deadline => {
                close = Some((CLOSE_TOKEN_EXPIRED, "access token expired"));
            }
            _ = shutdown.changed() => {
                if *shutdown.borrow() {
                    close = Some((CLOSE_GOING_AWAY, "server shutting down"));
                }
            }
        }
    }

    Box::pin(close_socket(sink, stream, close)).await;
    gateway.registry.unregister(me, session);
    for (conversation, _) in typing_sent {
        let _ = Box::pin(services.conversations.typing(me, conversation, false)).await;
    }
    services.rooms.socket_closed(me, session);
    if let Err(e) = Box::pin(services.calls.socket_closed(me, session)).await {
        tracing::warn!(error = %e, "call update on disconnect failed");
    }
    if let Err(e) = Box::pin(services.presence.disconnected(me, session)).await {
        tracing::warn!(error = %e, "presence update failed");
    }
}

/// The end of a session's socket: the close frame with its code (if one was decided) and
/// the closing handshake, then the TCP close.
async fn close_socket(
    mut sink: futures_util::stream::SplitSink<WebSocketStream, Message>,
    mut stream: futures_util::stream::SplitStream<WebSocketStream>,
    close: Option<(u16, &'static str)>,
) {
    if let Some((code, reason)) = close {
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            sink.send(Message::Close(Some((CloseCode::from(code), reason.to_string())))),
        )
        .await;
        // Closing handshake: read (and drop) until the peer's Close, so the close frame is
        // not lost to a TCP reset caused by unread data.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(frame)) = stream.next().await {
                if matches!(frame, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), sink.close()).await;
}

/// Handle one text frame; returns the direct reply, if any. Acks that wait for a commit
/// are sent later through the session's queue.
async fn handle(
    services: &Arc<Services>,
    me: Uuid,
    session: Uuid,
    text: &str,
    tx: &mpsc::Sender<Arc<str>>,
    typing_sent: &mut HashMap<Uuid, Instant>,
) -> Option<ServerEvent> {
    let event = match parse(text) {
        Ok(e) => e,
        Err(e) => {
            return Some(
                ServerEvent::error(e.code, e.message, e.client_id).for_call(e.call_id).for_room(e.conversation_id),
            );
        }
    };
    let calls = &services.calls;
    let call = |result: crate::error::Result<()>, call_id: Uuid| {
        result.err().map(|e| ServerEvent::from_error(&e, None).for_call(Some(call_id)))
    };
    match event {
        ClientEvent::Ping => Some(ServerEvent::Pong),
        ClientEvent::MessageSend { client_id, conversation_id, body, attachments, reply_to } => {
            match services.messages.submit_with(me, conversation_id, &client_id, &body, &attachments, reply_to).await {
                Ok(Pending::Done(ack)) => {
                    typing_sent.remove(&conversation_id);
                    Some(ack.event())
                }
                Ok(pending @ Pending::Waiting(_)) => {
                    typing_sent.remove(&conversation_id);
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let reply = match pending.wait().await {
                            Ok(ack) => ack.event(),
                            Err(e) => ServerEvent::from_error(&e, Some(client_id)),
                        };
                        let _ = tx.send(reply.to_json()).await;
                    });
                    None
                }
                Err(e) => Some(ServerEvent::from_error(&e, Some(client_id))),
            }
        }
        ClientEvent::TypingStart { conversation_id } => {
            let now = Instant::now();
            if typing_sent.get(&conversation_id).is_some_and(|t| now.duration_since(*t) < TYPING_THROTTLE) {
                return None;
            }
            match services.conversations.typing(me, conversation_id, true).await {
                Ok(()) => {
                    typing_sent.insert(conversation_id, now);
                    None
                }
                Err(e) => Some(ServerEvent::from_error(&e, None)),
            }
        }
        ClientEvent::TypingStop { conversation_id } => {
            typing_sent.remove(&conversation_id);
            services
                .conversations
                .typing(me, conversation_id, false)
                .await
                .err()
                .map(|e| ServerEvent::from_error(&e, None))
        }
        ClientEvent::ReceiptDelivered { conversation_id, seq } => {
            receipt(services, me, conversation_id, Kind::Delivered, seq).await
        }
        ClientEvent::ReceiptRead { conversation_id, seq } => {
            receipt(services, me, conversation_id, Kind::Read, seq).await
        }
        ClientEvent::CallInvite { call_id, conversation_id, media } => {
            call(calls.invite(me, session, call_id, conversation_id, media).await, call_id)
        }
        ClientEvent::CallAccept { call_id } => call(calls.accept(me, session, call_id).await, call_id),
        ClientEvent::CallReject { call_id } => call(calls.reject(me, session, call_id).await, call_id),
        ClientEvent::CallOffer { call_id, sdp } => {
            call(calls.relay(me, session, call_id, Signal::Offer(sdp)).await, call_id)
        }
        ClientEvent::CallAnswer { call_id, sdp } => {
            call(calls.relay(me, session, call_id, Signal::Answer(sdp)).await, call_id)
        }
        ClientEvent::CallIce { call_id, candidate } => {
            call(calls.relay(me, session, call_id, Signal::Ice(candidate)).await, call_id)
        }
        ClientEvent::CallConnected { call_id } => call(calls.connected(me, session, call_id).await, call_id),
        ClientEvent::CallHangup { call_id, reason } => call(calls.hangup(me, session, call_id, reason).await, call_id),
        ClientEvent::CallRejoin { call_id } => call(calls.rejoin(me, session, call_id).await, call_id),
        ClientEvent::MessageEdit { .. }
        | ClientEvent::MessageDelete { .. }
        | ClientEvent::ReactionSet { .. }
        | ClientEvent::MessagePin { .. } => super::changes::handle(services, me, event).await,
        ClientEvent::RoomJoin { .. }
        | ClientEvent::RoomOffer { .. }
        | ClientEvent::RoomMute { .. }
        | ClientEvent::RoomView { .. }
        | ClientEvent::RoomLeave { .. } => super::rooms::handle(services, me, session, event).await,
    }
}

async fn receipt(services: &Services, me: Uuid, conversation: Uuid, kind: Kind, seq: i64) -> Option<ServerEvent> {
    match services.receipts.record(me, conversation, kind, seq).await {
        Ok(_) => None,
        Err(e) => Some(ServerEvent::from_error(&e, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future a function returns, without calling it.
    fn future_size<A, F: std::future::Future>(_: impl Fn(A) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// A session's future is held for as long as its socket is open (100,000 idle sockets
    /// hold 100,000 of them), so what it embeds counts: the services' futures, the writes
    /// and the close are boxed while they run instead. With them inline it was many times
    /// larger; a debug build makes it about 2.8 KB now, a release build less.
    #[test]
    fn a_sessions_future_stays_small() {
        let size = future_size(
            |(socket, services, gateway, user, exp): (WebSocketStream, Arc<Services>, Gateway, User, i64)| {
                run(socket, services, gateway, user, exp)
            },
        );
        eprintln!("session future: {size} bytes");
        assert!(size <= 3072, "the session future is {size} bytes");
    }
}
