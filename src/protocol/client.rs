//! Client → server events: the one tagged enum that is the WebSocket protocol's input
//! side, and the parser that turns a text frame into one or into the
//! `error` code `docs/protocol.md` promises (`invalid_frame`, `unknown_type`,
//! `invalid_event`).

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
    },
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
        message,
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
        message: e.to_string(),
        client_id,
        call_id,
        conversation_id,
    })
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
                attachments: vec![]
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
}
