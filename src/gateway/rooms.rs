//! `room.*` events (group calls) from a socket, to the rooms service; a failure becomes an
//! `error` event naming the conversation.

use uuid::Uuid;

use crate::{
    protocol::{ClientEvent, ServerEvent},
    services::Services,
};

pub async fn handle(services: &Services, me: Uuid, session: Uuid, event: ClientEvent) -> Option<ServerEvent> {
    let rooms = &services.rooms;
    let (conversation_id, result) = match event {
        ClientEvent::RoomJoin { conversation_id } => (conversation_id, rooms.join(me, session, conversation_id).await),
        ClientEvent::RoomOffer { conversation_id, sdp, tracks } => {
            (conversation_id, rooms.offer(me, session, conversation_id, sdp, tracks).await)
        }
        ClientEvent::RoomMute { conversation_id, source, muted } => {
            (conversation_id, rooms.mute(me, session, conversation_id, source, muted).await)
        }
        ClientEvent::RoomView { conversation_id, tiles } => {
            (conversation_id, rooms.view(me, session, conversation_id, tiles).await)
        }
        ClientEvent::RoomLeave { conversation_id } => {
            (conversation_id, rooms.leave(me, session, conversation_id).await)
        }
        _ => return None,
    };
    result.err().map(|e| ServerEvent::from_error(&e, None).for_room(Some(conversation_id)))
}
