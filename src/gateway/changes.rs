//! Changes to messages from a socket (`message.edit`, `message.delete`, `reaction.set`,
//! `message.pin`), to the changes service: answered with `change.ack` (the message as it
//! is now) or an `error` event carrying the change's `client_id`.

use uuid::Uuid;

use crate::{
    error::Error,
    protocol::{ClientEvent, ServerEvent, client::valid_client_id},
    services::Services,
};

pub async fn handle(services: &Services, me: Uuid, event: ClientEvent) -> Option<ServerEvent> {
    let changes = &services.changes;
    if let ClientEvent::MessageDelete { client_id, .. }
    | ClientEvent::ReactionSet { client_id, .. }
    | ClientEvent::MessagePin { client_id, .. } = &event
        && !valid_client_id(client_id)
    {
        let e = Error::validation("client_id: must be 1 to 64 printable ASCII characters");
        return Some(ServerEvent::from_error(&e, None));
    }
    let (client_id, result) = match event {
        ClientEvent::MessageEdit { client_id, conversation_id, message_id, body } => {
            let r = changes.edit(me, conversation_id, message_id, &client_id, &body).await;
            (client_id, r)
        }
        ClientEvent::MessageDelete { client_id, conversation_id, message_id } => {
            (client_id, changes.delete(me, conversation_id, message_id).await)
        }
        ClientEvent::ReactionSet { client_id, conversation_id, message_id, emoji, on } => {
            (client_id, changes.react(me, conversation_id, message_id, &emoji, on).await)
        }
        ClientEvent::MessagePin { client_id, conversation_id, message_id, pinned } => {
            (client_id, changes.pin(me, conversation_id, message_id, pinned).await)
        }
        _ => return None,
    };
    Some(match result {
        Ok(message) => ServerEvent::ChangeAck { client_id, message },
        Err(e) => {
            if let Error::Internal(cause) = &e {
                tracing::error!(error = %format!("{cause:#}"), "a change failed");
            }
            ServerEvent::from_error(&e, Some(client_id))
        }
    })
}
