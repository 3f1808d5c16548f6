//! Frames that break the WebSocket itself, below the JSON protocol: a text frame that is
//! not UTF-8 is closed with 1007, a frame with reserved bits set or a continuation with
//! nothing to continue with 1002 (RFC 6455 section 7.4.1), each with its close frame rather
//! than a dropped connection; the others' sockets are untouched.

use serde_json::json;
use tokio_tungstenite::tungstenite::{
    Message,
    protocol::frame::{
        Frame,
        coding::{Data, OpCode},
    },
};

use crate::{
    both_scales,
    common::{Scale, Ws, spawn, user},
};

both_scales!(broken_frames_are_closed_with_their_code);

fn text_frame(payload: &[u8], last: bool) -> Frame {
    Frame::message(payload.to_vec(), OpCode::Data(Data::Text), last)
}

async fn broken_frames_are_closed_with_their_code(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let conv = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut b = Ws::connect(&app.base, &bob).await;

    let mut not_utf8 = br#"{"type":"ping","x":""#.to_vec();
    not_utf8.extend([0xff, 0xfe, 0xc3, 0x28]);
    not_utf8.extend(br#""}"#);
    let mut reserved = text_frame(br#"{"type":"ping"}"#, true);
    reserved.header_mut().rsv2 = true;
    let stray = Frame::message(b"{}".to_vec(), OpCode::Data(Data::Continue), true);
    for (what, frame, code) in [
        ("not UTF-8", text_frame(&not_utf8, true), 1007),
        ("reserved bits", reserved, 1002),
        ("a stray continuation", stray, 1002),
    ] {
        let mut a = Ws::connect(&app.base, &alice).await;
        assert!(a.send_raw(Message::Frame(frame)).await, "{what}: sent");
        assert_eq!(a.close_code().await, Some(code), "{what}");
    }

    // Bob's socket saw none of it, and Alice can still talk to him.
    let mut a = Ws::connect(&app.base, &alice).await;
    a.send_message(&conv, "after", "still fine").await;
    let got = b.wait_for("message.new", |v| v["type"] == "message.new").await;
    assert_eq!(got["message"]["body"], "still fine");
    app.finish().await;
}
