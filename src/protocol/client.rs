//! Client → server events: the one tagged enum that is the WebSocket protocol's input
//! side, and the parser that turns a text frame into one or into the
//! `error` code `docs/protocol.md` promises (`invalid_frame`, `unknown_type`,
//! `invalid_event`), and [`check_send`], the checks of `message.send` that need no state.
//!
//! Only serde, serde_json, uuid and chrono (no `crate::` paths, here and in the
//! [`super::calls`] and [`super::rooms`] it reads): `fuzz/` compiles this file as it is.

use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::{
    calls::{HangupReason, IceCandidate, Media},
    rooms::{Source, Tile, TrackDecl},
};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type")]
pub enum ClientEvent {
    #[serde(rename = "message.send")]
    MessageSend {
        client_id: String,
        conversation_id: Uuid,
        /// Required; may be `""` when `attachments` is not empty.
        body: String,
        /// The sender's uploads to attach (`POST /api/v1/uploads`).
        #[serde(default)]
        attachments: Vec<Uuid>,
        /// The message it answers: one of the same conversation, not deleted.
        #[serde(default)]
        reply_to: Option<Uuid>,
    },
    #[serde(rename = "message.edit")]
    MessageEdit { client_id: String, conversation_id: Uuid, message_id: Uuid, body: String },
    #[serde(rename = "message.delete")]
    MessageDelete { client_id: String, conversation_id: Uuid, message_id: Uuid },
    #[serde(rename = "reaction.set")]
    ReactionSet { client_id: String, conversation_id: Uuid, message_id: Uuid, emoji: String, on: bool },
    #[serde(rename = "message.pin")]
    MessagePin { client_id: String, conversation_id: Uuid, message_id: Uuid, pinned: bool },
    #[serde(rename = "typing.start")]
    TypingStart { conversation_id: Uuid },
    #[serde(rename = "typing.stop")]
    TypingStop { conversation_id: Uuid },
    #[serde(rename = "receipt.delivered")]
    ReceiptDelivered { conversation_id: Uuid, seq: i64 },
    #[serde(rename = "receipt.read")]
    ReceiptRead { conversation_id: Uuid, seq: i64 },
    #[serde(rename = "call.invite")]
    CallInvite { call_id: Uuid, conversation_id: Uuid, media: Media },
    #[serde(rename = "call.accept")]
    CallAccept { call_id: Uuid },
    #[serde(rename = "call.reject")]
    CallReject { call_id: Uuid },
    #[serde(rename = "call.offer")]
    CallOffer { call_id: Uuid, sdp: String },
    #[serde(rename = "call.answer")]
    CallAnswer { call_id: Uuid, sdp: String },
    #[serde(rename = "call.ice")]
    CallIce { call_id: Uuid, candidate: Option<IceCandidate> },
    #[serde(rename = "call.connected")]
    CallConnected { call_id: Uuid },
    #[serde(rename = "call.hangup")]
    CallHangup {
        call_id: Uuid,
        #[serde(default)]
        reason: Option<HangupReason>,
    },
    #[serde(rename = "call.rejoin")]
    CallRejoin { call_id: Uuid },
    #[serde(rename = "room.join")]
    RoomJoin { conversation_id: Uuid },
    #[serde(rename = "room.offer")]
    RoomOffer { conversation_id: Uuid, sdp: String, tracks: Vec<TrackDecl> },
    #[serde(rename = "room.mute")]
    RoomMute { conversation_id: Uuid, source: Source, muted: bool },
    #[serde(rename = "room.view")]
    RoomView { conversation_id: Uuid, tiles: Vec<Tile> },
    #[serde(rename = "room.leave")]
    RoomLeave { conversation_id: Uuid },
    #[serde(rename = "ping")]
    Ping,
}

const TYPES: &[&str] = &[
    "message.send",
    "message.edit",
    "message.delete",
    "reaction.set",
    "message.pin",
    "typing.start",
    "typing.stop",
    "receipt.delivered",
    "receipt.read",
    "call.invite",
    "call.accept",
    "call.reject",
    "call.offer",
    "call.answer",
    "call.ice",
    "call.connected",
    "call.hangup",
    "call.rejoin",
    "room.join",
    "room.offer",
    "room.mute",
    "room.view",
    "room.leave",
    "ping",
];

/// The longest error message, in characters (as a REST problem's `detail`): serde's
/// messages quote the input (an unknown variant, a string of the wrong type), and a frame
/// may be 64 KiB.
pub const MAX_MESSAGE_CHARS: usize = 200;

/// Images one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;

/// Why a frame is not an event: `(code, message, client_id if the frame had one)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub code: &'static str,
    pub message: String,
    pub client_id: Option<String>,
    /// The frame's `call_id`, when it had a valid one.
    pub call_id: Option<Uuid>,
    /// A `room.*` frame's `conversation_id`, when it had a valid one.
    pub conversation_id: Option<Uuid>,
}

pub fn parse(text: &str) -> Result<ClientEvent, FrameError> {
    let err = |code, message: String, client_id| FrameError {
        code,
        message: cut(message),
        client_id,
        call_id: None,
        conversation_id: None,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| err("invalid_frame", format!("not JSON: {e}"), None))?;
    let Some(obj) = value.as_object() else {
        return Err(err("invalid_frame", "an event must be a JSON object".into(), None));
    };
    let client_id = obj.get("client_id").and_then(Value::as_str).filter(|c| c.len() <= 64).map(str::to_string);
    let Some(kind) = obj.get("type").and_then(Value::as_str) else {
        return Err(err("unknown_type", "missing \"type\"".into(), client_id));
    };
    if !TYPES.contains(&kind) {
        let shown: String = kind.chars().take(40).collect();
        return Err(err("unknown_type", format!("unknown event type {shown:?}"), client_id));
    }
    let uuid = |field: &str| obj.get(field).and_then(Value::as_str).and_then(|c| c.parse::<Uuid>().ok());
    let call_id = uuid("call_id");
    let conversation_id = if kind.starts_with("room.") { uuid("conversation_id") } else { None };
    serde_json::from_value(value).map_err(|e| FrameError {
        code: "invalid_event",
        message: cut(e.to_string()),
        client_id,
        call_id,
        conversation_id,
    })
}

fn cut(mut message: String) -> String {
    if let Some((at, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(at);
        message.push('…');
    }
    message
}

/// A `client_id`: 1–64 printable ASCII characters.
pub fn valid_client_id(c: &str) -> bool {
    !c.is_empty() && c.len() <= 64 && c.chars().all(|ch| ch.is_ascii_graphic())
}

/// The checks of a message (`message.send`, or the REST post) that need no state, in the
/// order `docs/protocol.md` gives: the `client_id`, the attachments (at most
/// [`MAX_ATTACHMENTS`], each once), a body that is not empty unless there are attachments,
/// no NUL, at most `max_body_chars` characters. `Err` is the `validation_failed` detail.
pub fn check_send(client_id: &str, body: &str, attachments: &[Uuid], max_body_chars: usize) -> Result<(), String> {
    if !valid_client_id(client_id) {
        return Err("client_id: must be 1 to 64 printable ASCII characters".into());
    }
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(format!("attachments: at most {MAX_ATTACHMENTS}"));
    }
    if attachments.iter().enumerate().any(|(i, a)| attachments[..i].contains(a)) {
        return Err("attachments: each upload at most once".into());
    }
    check_body(body, !attachments.is_empty(), max_body_chars)
}

/// The checks of `message.edit` that need no state: the edit's `client_id`, then the new
/// body as [`check_send`] checks one (it may be empty when the message has images).
pub fn check_edit(client_id: &str, body: &str, has_attachments: bool, max_body_chars: usize) -> Result<(), String> {
    if !valid_client_id(client_id) {
        return Err("client_id: must be 1 to 64 printable ASCII characters".into());
    }
    check_body(body, has_attachments, max_body_chars)
}

fn check_body(body: &str, may_be_empty: bool, max_body_chars: usize) -> Result<(), String> {
    let chars = body.chars().count();
    if !may_be_empty && (chars == 0 || body.trim().is_empty()) {
        return Err("body: must not be empty".into());
    }
    if body.contains('\0') {
        return Err("body: must not contain NUL characters".into());
    }
    if chars > max_body_chars {
        return Err(format!("body: must be at most {max_body_chars} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_classifies() {
        let c = Uuid::now_v7();
        assert_eq!(
            parse(&format!(r#"{{"type":"message.send","client_id":"a","conversation_id":"{c}","body":"hi"}}"#))
                .unwrap(),
            ClientEvent::MessageSend {
                client_id: "a".into(),
                conversation_id: c,
                body: "hi".into(),
                attachments: vec![],
                reply_to: None,
            }
        );
        assert_eq!(parse(r#"{"type":"ping"}"#).unwrap(), ClientEvent::Ping);
        assert_eq!(parse("nope").unwrap_err().code, "invalid_frame");
        assert_eq!(parse("[1,2]").unwrap_err().code, "invalid_frame");
        assert_eq!(parse(r#"{"type":"rm -rf"}"#).unwrap_err().code, "unknown_type");
        assert_eq!(parse(r#"{"body":"x"}"#).unwrap_err().code, "unknown_type");
        let e = parse(r#"{"type":"message.send","client_id":"k","conversation_id":"x","body":1}"#).unwrap_err();
        assert_eq!((e.code, e.client_id.as_deref()), ("invalid_event", Some("k")));
        let e = parse(&format!(r#"{{"type":"receipt.read","conversation_id":"{c}","seq":"7"}}"#)).unwrap_err();
        assert_eq!(e.code, "invalid_event");
        let e = parse(&format!(r#"{{"type":"receipt.read","conversation_id":"{c}","seq":1.5}}"#)).unwrap_err();
        assert_eq!(e.code, "invalid_event");
    }

    #[test]
    fn an_error_never_echoes_a_long_input() {
        let long = "x".repeat(60_000);
        let c = Uuid::now_v7();
        for frame in [
            format!(r#"{{"type":"call.invite","call_id":"{c}","conversation_id":"{c}","media":"{long}"}}"#),
            format!(r#"{{"type":"room.mute","conversation_id":"{c}","source":"{long}","muted":true}}"#),
            format!(r#"{{"type":"receipt.read","conversation_id":"{c}","seq":"{long}"}}"#),
            format!(r#"{{"type":"typing.start","conversation_id":"{long}"}}"#),
            format!(r#"{{"type":"{long}"}}"#),
            format!(r#"{{"type":"ping","{long}"#),
        ] {
            let e = parse(&frame).unwrap_err();
            assert!(e.message.chars().count() <= MAX_MESSAGE_CHARS + 1, "{} chars: {}", e.message.len(), e.code);
        }
        let e = parse(&format!(r#"{{"type":"call.invite","call_id":"{c}","conversation_id":"{c}","media":"{long}"}}"#))
            .unwrap_err();
        assert_eq!(e.code, "invalid_event");
        assert!(e.message.starts_with("unknown variant") && e.message.ends_with('…'), "{}", e.message);
        assert_eq!(e.call_id, Some(c));
    }

    #[test]
    fn check_send_in_order() {
        let a = Uuid::now_v7();
        assert_eq!(check_send("k", "hi", &[], 4000), Ok(()));
        assert_eq!(check_send("k", "", &[a], 4000), Ok(()));
        let msg = |c: &str, b: &str, at: &[Uuid], max| check_send(c, b, at, max).unwrap_err();
        assert_eq!(msg("", "hi", &[], 4000), "client_id: must be 1 to 64 printable ASCII characters");
        assert_eq!(msg("a b", "hi", &[], 4000), "client_id: must be 1 to 64 printable ASCII characters");
        assert_eq!(msg(&"k".repeat(65), "hi", &[], 4000), "client_id: must be 1 to 64 printable ASCII characters");
        assert!(check_send(&"k".repeat(64), "hi", &[], 4000).is_ok());
        assert_eq!(msg("k", "hi", &[Uuid::nil(); 11], 4000), "attachments: at most 10");
        assert_eq!(msg("k", "hi", &[a, a], 4000), "attachments: each upload at most once");
        assert_eq!(msg("k", " \n", &[], 4000), "body: must not be empty");
        assert_eq!(msg("k", "a\0b", &[], 4000), "body: must not contain NUL characters");
        assert_eq!(msg("k", "ééé", &[], 2), "body: must be at most 2 characters");
        assert!(check_send("k", "ééé", &[], 3).is_ok());
    }
}
