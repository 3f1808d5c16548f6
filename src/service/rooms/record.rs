//! A group call's state on the bus: `room:<conversation>` holds its [`Record`] (JSON),
//! changed only under `lock:room:<conversation>`; `room:user:<user>` names the
//! conversation whose room the user is in. A claim whose record does not list the user,
//! or whose record's host node is dead, is stale and counts as nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    bus::{Bus, keys},
    error::{Error, Result},
    protocol::rooms::{ParticipantView, RoomView},
};

/// How long the bus keeps a room (and a user's claim on it) without any change.
pub const LIVE_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: Uuid,
    /// The device (socket) in the room.
    pub session_id: Uuid,
    /// The node that socket is on.
    pub node_id: Uuid,
    pub joined_at: DateTime<Utc>,
    pub audio_muted: bool,
    pub video_muted: bool,
    pub screen_sharing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub conversation_id: Uuid,
    pub room_id: Uuid,
    /// The node whose SFU runs the room.
    pub host: Uuid,
    pub started_at: DateTime<Utc>,
    pub members: Vec<Member>,
}

impl Record {
    pub fn view(&self) -> RoomView {
        RoomView {
            conversation_id: self.conversation_id,
            room_id: self.room_id,
            started_at: self.started_at,
            participants: self
                .members
                .iter()
                .map(|m| ParticipantView {
                    user_id: m.user_id,
                    joined_at: m.joined_at,
                    audio_muted: m.audio_muted,
                    video_muted: m.video_muted,
                    screen_sharing: m.screen_sharing,
                })
                .collect(),
        }
    }

    /// The view of the room once it has ended.
    pub fn ended(&self) -> RoomView {
        RoomView { participants: Vec::new(), ..self.view() }
    }

    pub fn member(&self, session: Uuid) -> Option<&Member> {
        self.members.iter().find(|m| m.session_id == session)
    }

    pub fn member_mut(&mut self, session: Uuid) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.session_id == session)
    }
}

pub async fn load(bus: &dyn Bus, conversation: Uuid) -> Result<Option<Record>> {
    let Some(json) = bus.get(&keys::room(&conversation)).await? else { return Ok(None) };
    match serde_json::from_str(&json) {
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            tracing::warn!(conversation = %conversation, error = %e, "unreadable room record dropped");
            Ok(None)
        }
    }
}

pub async fn save(bus: &dyn Bus, rec: &Record) -> Result<()> {
    let json = serde_json::to_string(rec).map_err(Error::internal)?;
    Ok(bus.set(&keys::room(&rec.conversation_id), &json, LIVE_TTL).await?)
}

pub async fn node_alive(bus: &dyn Bus, node: Uuid) -> Result<bool> {
    Ok(bus.get(&keys::node(&node)).await?.is_some())
}

/// The live room `user` is in, if any (a stale claim is nothing).
pub async fn room_of(bus: &dyn Bus, user: Uuid) -> Result<Option<Record>> {
    let Some(conv) = bus.get(&keys::user_room(&user)).await? else { return Ok(None) };
    let Ok(conv) = conv.parse::<Uuid>() else { return Ok(None) };
    let Some(rec) = load(bus, conv).await? else { return Ok(None) };
    if !rec.members.iter().any(|m| m.user_id == user) || !node_alive(bus, rec.host).await? {
        return Ok(None);
    }
    Ok(Some(rec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_shows_members_without_their_devices() {
        let now = Utc::now();
        let m = Member {
            user_id: Uuid::now_v7(),
            session_id: Uuid::now_v7(),
            node_id: Uuid::now_v7(),
            joined_at: now,
            audio_muted: true,
            video_muted: false,
            screen_sharing: true,
        };
        let rec = Record {
            conversation_id: Uuid::now_v7(),
            room_id: Uuid::now_v7(),
            host: Uuid::now_v7(),
            started_at: now,
            members: vec![m.clone()],
        };
        let v = serde_json::to_value(rec.view()).unwrap();
        assert_eq!(v["participants"][0]["user_id"], m.user_id.to_string());
        assert_eq!(v["participants"][0]["audio_muted"], true);
        assert!(v["participants"][0].get("session_id").is_none());
        assert!(rec.ended().participants.is_empty());
        assert_eq!(rec.member(m.session_id), Some(&m));
    }
}
