//! The wire shapes of group calls ("rooms"): what `room.*` events carry
//! (`docs/protocol.md`, "Group calls").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most tiles one `room.view` may report.
pub const MAX_TILES: usize = 32;

/// What a sent track is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Microphone,
    Camera,
    Screen,
}

impl Source {
    pub fn is_video(self) -> bool {
        !matches!(self, Source::Microphone)
    }
}

/// One of the client's send transceivers, named in `room.offer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackDecl {
    pub mid: String,
    pub source: Source,
}

/// A receive slot and the remote track it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub mid: String,
    pub user_id: Uuid,
    pub source: Source,
}

/// How large a remote video is shown (`room.view`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tile {
    pub user_id: Uuid,
    pub source: Source,
    pub width: u32,
    pub height: u32,
}

/// Someone speaking now (`room.speakers`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Speaker {
    pub user_id: Uuid,
    /// 0 (silence) to 1 (loudest).
    pub level: f32,
}

/// Why a device is no longer in a room (`room.left`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftReason {
    Left,
    JoinedElsewhere,
    Failed,
    Disconnected,
    NodeLost,
    Removed,
}

/// A participant as every member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantView {
    pub user_id: Uuid,
    pub joined_at: DateTime<Utc>,
    pub audio_muted: bool,
    pub video_muted: bool,
    pub screen_sharing: bool,
}

/// A room as every member of its conversation sees it (`room.state`, `ready.rooms`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomView {
    pub conversation_id: Uuid,
    pub room_id: Uuid,
    pub started_at: DateTime<Utc>,
    /// Empty: the room has ended.
    pub participants: Vec<ParticipantView>,
}
