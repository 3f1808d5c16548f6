//! The wire shapes of calls: what `call.*` events carry (`docs/protocol.md`, "Calls"). The
//! ICE server list of the REST API is an OpenAPI object, in [`super::views`]: this file
//! needs serde alone (`fuzz/` compiles it without the web framework).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Largest SDP accepted, in bytes.
pub const MAX_SDP_BYTES: usize = 32 * 1024;
/// Largest ICE candidate line accepted, in bytes.
pub const MAX_CANDIDATE_BYTES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    Audio,
    Video,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Ringing,
    Connecting,
    Active,
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Cancelled,
    Declined,
    Missed,
    Busy,
    Hangup,
    Failed,
    ConnectionLost,
    Glare,
    AnsweredElsewhere,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Cancelled => "cancelled",
            EndReason::Declined => "declined",
            EndReason::Missed => "missed",
            EndReason::Busy => "busy",
            EndReason::Hangup => "hangup",
            EndReason::Failed => "failed",
            EndReason::ConnectionLost => "connection_lost",
            EndReason::Glare => "glare",
            EndReason::AnsweredElsewhere => "answered_elsewhere",
        }
    }
}

/// Why a participant hangs up (`call.hangup {reason}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HangupReason {
    Hangup,
    Failed,
}

/// A call as clients see it (`call.ringing`, `call.state`, `ready.calls`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallView {
    pub call_id: Uuid,
    pub conversation_id: Uuid,
    pub media: Media,
    pub caller_id: Uuid,
    pub callee_id: Uuid,
    pub state: Phase,
    pub reason: Option<EndReason>,
    pub caller_session: Option<Uuid>,
    pub callee_session: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// When media connected (`active`): the start of the call timer.
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// With `reason: glare`: the call this invite was merged into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<Uuid>,
}

/// An ICE candidate as `RTCIceCandidate.toJSON()` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(rename = "sdpMid", default)]
    pub sdp_mid: Option<String>,
    #[serde(rename = "sdpMLineIndex", default)]
    pub sdp_mline_index: Option<u16>,
    #[serde(rename = "usernameFragment", default)]
    pub username_fragment: Option<String>,
}
