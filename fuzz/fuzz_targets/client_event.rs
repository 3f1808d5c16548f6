//! Any bytes as a WebSocket text frame: [`parse`] must not panic and must answer one of the
//! three documented codes with a short message; a `message.send` it decodes goes through
//! [`check_send`], whose verdict must agree with the rules it claims to check, and a
//! `message.edit` through [`check_edit`], which must judge a body as `check_send` does.
//!
//! Run with `scripts/fuzz` (docs/reliability.md, "Frame fuzzing").

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

// The decoder's own source files, not a copy and not the `nexus` crate: what is fuzzed is
// exactly what ships, and the fuzzer builds without the server's dependencies (the web
// framework, the databases, WebRTC), which with sanitizer coverage would take most of CI's
// time. The files use only serde, serde_json, uuid and chrono, and reach each other as
// `super::…`, so they sit in a `protocol` module as in the crate (its `#[path]` is the
// folder of the files, relative to this one's).
#[allow(dead_code)]
#[path = "../../src/protocol"]
mod protocol {
    pub mod calls;
    pub mod client;
    pub mod rooms;
}

use protocol::client::{
    ClientEvent, MAX_ATTACHMENTS, MAX_MESSAGE_CHARS, check_edit, check_send, parse, valid_client_id,
};

/// `messages.max_body_chars` by default.
const MAX_BODY_CHARS: usize = 4000;

fuzz_target!(|data: &[u8]| {
    // A text frame that is not UTF-8 is closed with 1007 before it is parsed.
    let Ok(text) = std::str::from_utf8(data) else { return };
    let value = serde_json::from_str::<Value>(text).ok();
    let kind = value.as_ref().and_then(|v| v.get("type")).and_then(Value::as_str);
    match parse(text) {
        Err(e) => {
            assert!(matches!(e.code, "invalid_frame" | "unknown_type" | "invalid_event"), "code {:?}", e.code);
            let chars = e.message.chars().count();
            assert!(chars <= MAX_MESSAGE_CHARS + 1, "message of {chars} characters");
            assert!(!e.message.is_empty());
            if let Some(c) = &e.client_id {
                assert!(c.len() <= 64, "client_id of {} bytes", c.len());
            }
            // The code follows from the frame: not a JSON object, then not a known type.
            match &value {
                None => assert_eq!(e.code, "invalid_frame"),
                Some(v) if !v.is_object() => assert_eq!(e.code, "invalid_frame"),
                Some(_) => assert_ne!(e.code, "invalid_frame"),
            }
            if e.code != "invalid_event" {
                assert!(e.call_id.is_none() && e.conversation_id.is_none());
            }
            if e.conversation_id.is_some() {
                assert!(kind.is_some_and(|k| k.starts_with("room.")));
            }
        }
        Ok(event) => {
            assert!(value.as_ref().is_some_and(Value::is_object), "an event from a frame that is not an object");
            assert_eq!(kind, Some(type_of(&event)), "decoded as another type");
            if let ClientEvent::MessageSend { client_id, body, attachments, .. } = &event {
                send(client_id, body, attachments);
            }
            // An edit's body follows a new message's rules: without images exactly as a
            // text message, with images as a message that may have an empty caption.
            if let ClientEvent::MessageEdit { client_id, body, .. } = &event {
                assert_eq!(check_edit(client_id, body, false, MAX_BODY_CHARS), check_send(client_id, body, &[], MAX_BODY_CHARS));
                let with = [uuid::Uuid::nil()];
                assert_eq!(check_edit(client_id, body, true, MAX_BODY_CHARS), check_send(client_id, body, &with, MAX_BODY_CHARS));
            }
        }
    }
});

/// `check_send` is `Ok` exactly when every rule holds, and names the first that does not.
fn send(client_id: &str, body: &str, attachments: &[uuid::Uuid]) {
    let chars = body.chars().count();
    let unique = attachments.iter().collect::<HashSet<_>>().len() == attachments.len();
    let rules = [
        (
            "client_id:",
            !client_id.is_empty() && client_id.len() <= 64 && client_id.bytes().all(|b| b.is_ascii_graphic()),
        ),
        ("attachments:", attachments.len() <= MAX_ATTACHMENTS && unique),
        ("body:", !attachments.is_empty() || !body.trim().is_empty()),
        ("body:", !body.contains('\0')),
        ("body:", chars <= MAX_BODY_CHARS),
    ];
    match check_send(client_id, body, attachments, MAX_BODY_CHARS) {
        Ok(()) => {
            assert!(valid_client_id(client_id));
            for (field, holds) in rules {
                assert!(holds, "accepted although a {field} rule fails");
            }
        }
        Err(m) => {
            let (field, _) = rules.iter().find(|(_, holds)| !holds).expect("refused although every rule holds");
            assert!(m.starts_with(field), "{m:?} is not the first failing rule ({field})");
            assert!(m.len() < 100, "a long detail: {m:?}");
        }
    }
}

fn type_of(event: &ClientEvent) -> &'static str {
    match event {
        ClientEvent::MessageSend { .. } => "message.send",
        ClientEvent::MessageEdit { .. } => "message.edit",
        ClientEvent::MessageDelete { .. } => "message.delete",
        ClientEvent::ReactionSet { .. } => "reaction.set",
        ClientEvent::MessagePin { .. } => "message.pin",
        ClientEvent::TypingStart { .. } => "typing.start",
        ClientEvent::TypingStop { .. } => "typing.stop",
        ClientEvent::ReceiptDelivered { .. } => "receipt.delivered",
        ClientEvent::ReceiptRead { .. } => "receipt.read",
        ClientEvent::CallInvite { .. } => "call.invite",
        ClientEvent::CallAccept { .. } => "call.accept",
        ClientEvent::CallReject { .. } => "call.reject",
        ClientEvent::CallOffer { .. } => "call.offer",
        ClientEvent::CallAnswer { .. } => "call.answer",
        ClientEvent::CallIce { .. } => "call.ice",
        ClientEvent::CallConnected { .. } => "call.connected",
        ClientEvent::CallHangup { .. } => "call.hangup",
        ClientEvent::CallRejoin { .. } => "call.rejoin",
        ClientEvent::RoomJoin { .. } => "room.join",
        ClientEvent::RoomOffer { .. } => "room.offer",
        ClientEvent::RoomMute { .. } => "room.mute",
        ClientEvent::RoomView { .. } => "room.view",
        ClientEvent::RoomLeave { .. } => "room.leave",
        ClientEvent::Ping => "ping",
    }
}
