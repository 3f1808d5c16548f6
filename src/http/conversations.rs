//! `/api/v1/conversations`: create, list, read history, post (for bots and integrations),
//! manage group members, read pointers. Someone else's conversation id answers `404`, the
//! same as one that does not exist.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem_openapi::{
    ApiResponse, Object, OpenApi, Tags, Union,
    param::{Header, Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{BearerAuth, text::Text};
use crate::{
    error::Error,
    protocol::views::{ConversationView, MessageView, ReceiptView},
    service::receipts::Kind,
    services::Services,
    store::Page,
};

#[derive(Tags)]
enum ApiTags {
    /// Conversations and messages
    Conversations,
}

pub struct ConversationsApi {
    pub services: Arc<Services>,
}

/// The direct conversation with one user (the same pair always gets the same one).
#[derive(Object)]
struct NewDirect {
    user_id: Uuid,
}

/// A group: you become its admin.
#[derive(Object)]
struct NewGroup {
    /// 1–64 characters.
    name: Text,
    /// Up to 1,023 other users.
    #[oai(default)]
    member_ids: Vec<Uuid>,
}

#[derive(Union)]
#[oai(discriminator_name = "kind")]
enum NewConversation {
    #[oai(mapping = "direct")]
    Direct(NewDirect),
    #[oai(mapping = "group")]
    Group(NewGroup),
}

#[derive(ApiResponse)]
enum Opened {
    /// The direct conversation already existed.
    #[oai(status = 200)]
    Existing(Json<ConversationView>),
    /// Created.
    #[oai(status = 201)]
    Created(Json<ConversationView>),
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct Rename {
    name: Text,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct AddMembers {
    user_ids: Vec<Uuid>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct PostMessage {
    /// Up to 4,000 characters; may be empty (or absent) when `attachments` is not.
    #[oai(default, nullable)]
    body: Option<Text>,
    /// Up to 10 of your uploads (`POST /uploads`), each attached once.
    #[oai(default)]
    attachments: Vec<Uuid>,
    /// The message it answers: one of this conversation, not deleted.
    #[oai(default, nullable)]
    reply_to: Option<Uuid>,
}

/// The message is durable and will be delivered.
#[derive(Object)]
struct Accepted {
    id: Uuid,
    conversation_id: Uuid,
    client_id: String,
    created_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
enum Posted {
    #[oai(status = 202)]
    Accepted(Json<Accepted>),
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct MarkRead {
    seq: i64,
}

#[derive(ApiResponse)]
enum Done {
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(prefix_path = "/conversations", tag = "ApiTags::Conversations")]
impl ConversationsApi {
    /// Start a direct conversation or create a group.
    #[oai(path = "/", method = "post")]
    async fn create(&self, auth: BearerAuth, body: Json<NewConversation>) -> Result<Opened, Error> {
        let me = auth.claims(&self.services)?.sub;
        let c = &self.services.conversations;
        Ok(match body.0 {
            NewConversation::Direct(d) => match c.open_direct(me, d.user_id).await? {
                (view, true) => Opened::Created(Json(view)),
                (view, false) => Opened::Existing(Json(view)),
            },
            NewConversation::Group(g) => Opened::Created(Json(c.create_group(me, &g.name, &g.member_ids).await?)),
        })
    }

    /// My conversations, newest activity first, with the last message, my unread count
    /// and my read pointer.
    #[oai(path = "/", method = "get")]
    async fn list(&self, auth: BearerAuth) -> Result<Json<Vec<ConversationView>>, Error> {
        let me = auth.claims(&self.services)?.sub;
        Ok(Json(self.services.conversations.list(me).await?))
    }

    #[oai(path = "/:id", method = "get")]
    async fn get(&self, auth: BearerAuth, id: Path<Uuid>) -> Result<Json<ConversationView>, Error> {
        let me = auth.claims(&self.services)?.sub;
        Ok(Json(self.services.conversations.get(me, id.0).await?))
    }

    /// Rename a group (group admins).
    #[oai(path = "/:id", method = "patch")]
    async fn rename(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<Rename>,
    ) -> Result<Json<ConversationView>, Error> {
        let me = auth.claims(&self.services)?.sub;
        Ok(Json(self.services.conversations.rename(me, id.0, &body.name).await?))
    }

    /// Add members to a group (group admins).
    #[oai(path = "/:id/members", method = "post")]
    async fn add_members(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<AddMembers>,
    ) -> Result<Json<ConversationView>, Error> {
        let me = auth.claims(&self.services)?.sub;
        Ok(Json(self.services.conversations.add_members(me, id.0, &body.user_ids).await?))
    }

    /// Remove a member (group admins), or leave (yourself).
    #[oai(path = "/:id/members/:user_id", method = "delete")]
    async fn remove_member(&self, auth: BearerAuth, id: Path<Uuid>, user_id: Path<Uuid>) -> Result<Done, Error> {
        let me = auth.claims(&self.services)?.sub;
        self.services.conversations.remove_member(me, id.0, user_id.0).await?;
        Ok(Done::NoContent)
    }

    /// History ordered by `seq`: the latest page, the page before `before_seq`, or the
    /// page after `after_seq` (catch-up).
    #[oai(path = "/:id/messages", method = "get")]
    async fn messages(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        before_seq: Query<Option<i64>>,
        after_seq: Query<Option<i64>>,
        /// The page around this seq: up to half of `limit` before it, then it and what
        /// follows (to jump to a reply's original or a search hit).
        around_seq: Query<Option<i64>>,
        /// 1–100, default 50.
        limit: Query<Option<u32>>,
    ) -> Result<Json<Vec<MessageView>>, Error> {
        let me = auth.claims(&self.services)?.sub;
        let limit = limit.0.unwrap_or(50);
        let page = match (before_seq.0, after_seq.0, around_seq.0) {
            (Some(b), None, None) => Page::Before(b),
            (None, Some(a), None) => Page::After(a),
            (None, None, None) => Page::Latest,
            (None, None, Some(seq)) => {
                return Ok(Json(self.services.conversations.messages_around(me, id.0, seq, limit).await?));
            }
            _ => return Err(Error::validation("before_seq, after_seq, around_seq: give at most one")),
        };
        Ok(Json(self.services.conversations.messages(me, id.0, page, limit).await?))
    }

    /// Send a message through the same pipeline as the WebSocket. `Idempotency-Key` is
    /// the message's `client_id`: retrying with the same key never makes a second message.
    #[oai(path = "/:id/messages", method = "post")]
    async fn post_message(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "Idempotency-Key")] idempotency_key: Header<Option<String>>,
        body: Json<PostMessage>,
    ) -> Result<Posted, Error> {
        let me = auth.claims(&self.services)?.sub;
        let client_id = idempotency_key.0.unwrap_or_else(|| Uuid::now_v7().to_string());
        let text = body.body.as_ref().map_or("", |t| t.0.as_str());
        let pending =
            self.services.messages.submit_with(me, id.0, &client_id, text, &body.attachments, body.reply_to).await?;
        let ack = pending.wait().await?;
        Ok(Posted::Accepted(Json(Accepted {
            id: ack.id,
            conversation_id: ack.conversation_id,
            client_id: ack.client_id,
            created_at: ack.created_at,
        })))
    }

    /// Move my read pointer (and delivered pointer) forward to `seq`.
    #[oai(path = "/:id/read", method = "post")]
    async fn mark_read(&self, auth: BearerAuth, id: Path<Uuid>, body: Json<MarkRead>) -> Result<Done, Error> {
        let me = auth.claims(&self.services)?.sub;
        self.services.receipts.record(me, id.0, Kind::Read, body.seq).await?;
        Ok(Done::NoContent)
    }

    /// Every member's delivered and read pointers ("seen by 3 of 5").
    #[oai(path = "/:id/receipts", method = "get")]
    async fn receipts(&self, auth: BearerAuth, id: Path<Uuid>) -> Result<Json<Vec<ReceiptView>>, Error> {
        let me = auth.claims(&self.services)?.sub;
        Ok(Json(self.services.conversations.receipts(me, id.0).await?))
    }
}
