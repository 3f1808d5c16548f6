//! Changes to messages over REST: edit, delete, react, pin; a message's versions, a
//! conversation's pins and its change log (catch-up). The same service as the WebSocket's
//! `message.edit`, `message.delete`, `reaction.set` and `message.pin`, with the same rules
//! and events. Someone else's conversation answers `404`, someone else's message `403`.

use std::sync::Arc;

use poem_openapi::{
    Object, OpenApi, Tags,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{BearerAuth, text::Text};
use crate::{
    error::Error,
    protocol::views::{MessageView, VersionView},
    services::Services,
};

#[derive(Tags)]
enum ApiTags {
    /// Edits, deletes, reactions, pins and the change log
    Changes,
}

pub struct ChangesApi {
    pub services: Arc<Services>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct Edit {
    /// The new body: as for a new message (it may be empty when the message has images).
    body: Text,
}

/// The messages changed after `after`, as they are now.
#[derive(Object)]
struct ChangeLog {
    /// In change order (`change_seq` ascending). Fewer than `limit`: caught up.
    messages: Vec<MessageView>,
    /// The conversation's last change number: the next `after`.
    last_change_seq: i64,
}

#[OpenApi(prefix_path = "/conversations", tag = "ApiTags::Changes")]
impl ChangesApi {
    /// Edit my message. `Idempotency-Key` is the edit's `client_id`: retrying with the same
    /// key changes nothing more. The previous body is kept (`…/versions`).
    #[oai(path = "/:id/messages/:message_id", method = "patch")]
    async fn edit(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        message_id: Path<Uuid>,
        #[oai(name = "Idempotency-Key")] idempotency_key: Header<Option<String>>,
        body: Json<Edit>,
    ) -> Result<Json<MessageView>, Error> {
        let me = auth.claims(&self.services)?.sub;
        let client_id = idempotency_key.0.unwrap_or_else(|| Uuid::now_v7().to_string());
        Ok(Json(self.services.changes.edit(me, id.0, message_id.0, &client_id, &body.body).await?))
    }

    /// Delete a message (mine, or any as a group admin): its body, images and reactions go,
    /// a tombstone stays in its place. Deleting it again answers the same tombstone.
    #[oai(path = "/:id/messages/:message_id", method = "delete")]
    async fn delete(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        message_id: Path<Uuid>,
    ) -> Result<Json<MessageView>, Error> {
        let me = auth.claims(&self.services)?.sub;
        Ok(Json(self.services.changes.delete(me, id.0, message_id.0).await?))
    }

    /// Every body of a message, oldest first; the last is the current one.
    #[oai(path = "/:id/messages/:message_id/versions", method = "get")]
    async fn versions(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        message_id: Path<Uuid>,
    ) -> Result<Json<Vec<VersionView>>, Error> {
        let me = auth.claims(&self.services)?.sub;
        Ok(Json(self.services.changes.versions(me, id.0, message_id.0).await?))
    }

    /// Add my reaction (one emoji, URL-encoded). Already there: nothing changes.
    #[oai(path = "/:id/messages/:message_id/reactions/:emoji", method = "put")]
    async fn react(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        message_id: Path<Uuid>,
        emoji: Path<String>,
    ) -> Result<Json<MessageView>, Error> {
        let me = auth.claims(&self.services)?.sub;
        Ok(Json(self.services.changes.react(me, id.0, message_id.0, &emoji.0, true).await?))
    }

    /// Remove my reaction. Not there: nothing changes.
    #[oai(path = "/:id/messages/:message_id/reactions/:emoji", method = "delete")]
    async fn unreact(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        message_id: Path<Uuid>,
        emoji: Path<String>,
    ) -> Result<Json<MessageView>, Error> {
        let me = auth.claims(&self.services)?.sub;
        Ok(Json(self.services.changes.react(me, id.0, message_id.0, &emoji.0, false).await?))
    }

    /// Pin a message (group admins; either member of a direct chat).
    #[oai(path = "/:id/messages/:message_id/pin", method = "put")]
    async fn pin(&self, auth: BearerAuth, id: Path<Uuid>, message_id: Path<Uuid>) -> Result<Json<MessageView>, Error> {
        let me = auth.claims(&self.services)?.sub;
        Ok(Json(self.services.changes.pin(me, id.0, message_id.0, true).await?))
    }

    /// Unpin a message.
    #[oai(path = "/:id/messages/:message_id/pin", method = "delete")]
    async fn unpin(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        message_id: Path<Uuid>,
    ) -> Result<Json<MessageView>, Error> {
        let me = auth.claims(&self.services)?.sub;
        Ok(Json(self.services.changes.pin(me, id.0, message_id.0, false).await?))
    }

    /// The pinned messages, newest pin first (at most 100).
    #[oai(path = "/:id/pins", method = "get")]
    async fn pins(&self, auth: BearerAuth, id: Path<Uuid>) -> Result<Json<Vec<MessageView>>, Error> {
        let me = auth.claims(&self.services)?.sub;
        Ok(Json(self.services.changes.pins(me, id.0).await?))
    }

    /// Catch-up of changes: the messages whose `change_seq` is above `after` (edited,
    /// deleted, reacted to, pinned), as they are now. Page with the highest `change_seq`
    /// received until fewer than `limit` come back.
    #[oai(path = "/:id/changes", method = "get")]
    async fn changes(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// Default 0.
        after: Query<Option<i64>>,
        /// 1–500, default 200.
        limit: Query<Option<u32>>,
    ) -> Result<Json<ChangeLog>, Error> {
        let me = auth.claims(&self.services)?.sub;
        let (messages, last_change_seq) =
            self.services.changes.changes(me, id.0, after.0.unwrap_or(0), limit.0.unwrap_or(200)).await?;
        Ok(Json(ChangeLog { messages, last_change_seq }))
    }
}
