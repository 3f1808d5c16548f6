//! History on PostgreSQL: a page of a conversation's messages by `seq`, and the last message
//! of each of several conversations, with the quotes of the replies among them.

use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::PgStore;
use crate::store::{
    Message, Page, StoreResult,
    sql::{self, CHUNK, MessageRow},
};

impl PgStore {
    /// The body of [`Store::messages`](crate::store::Store::messages).
    pub(super) async fn read_page(&self, conversation: Uuid, page: Page, limit: u32) -> StoreResult<Vec<Message>> {
        let limit = i64::from(limit);
        let rows: Vec<MessageRow> = match page {
            Page::Latest => {
                sqlx::query_as(
                    "SELECT id, conversation_id, seq, sender_id, client_id, kind, body, attachments, created_at, \
                 reply_to, mentions, change_seq, edited_at, deleted_at, deleted_by, pinned_at, pinned_by, reactions \
                     FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2",
                )
                .bind(conversation)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            Page::Before(seq) => {
                sqlx::query_as(
                    "SELECT id, conversation_id, seq, sender_id, client_id, kind, body, attachments, created_at, \
                 reply_to, mentions, change_seq, edited_at, deleted_at, deleted_by, pinned_at, pinned_by, reactions \
                     FROM messages WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
                )
                .bind(conversation)
                .bind(seq)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            Page::After(seq) => {
                sqlx::query_as(
                    "SELECT id, conversation_id, seq, sender_id, client_id, kind, body, attachments, created_at, \
                 reply_to, mentions, change_seq, edited_at, deleted_at, deleted_by, pinned_at, pinned_by, reactions \
                     FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3",
                )
                .bind(conversation)
                .bind(seq)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        let mut messages: Vec<Message> = sql::all(rows);
        messages.sort_by_key(|m| m.seq);
        self.quoted(messages).await
    }

    /// The body of [`Store::last_messages`](crate::store::Store::last_messages).
    pub(super) async fn read_last(&self, conversations: &[Uuid]) -> StoreResult<Vec<Message>> {
        let mut out = Vec::new();
        for chunk in conversations.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Postgres>::new(
                "SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.client_id, m.kind, m.body, m.attachments, m.created_at, \
                 m.reply_to, m.mentions, m.change_seq, m.edited_at, m.deleted_at, m.deleted_by, m.pinned_at, m.pinned_by, m.reactions \
                 FROM conversations c JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq \
                 WHERE c.last_seq > 0 AND c.id IN ",
            );
            qb.push_tuples(chunk, |mut t, c| {
                t.push_bind(*c);
            });
            out.extend(sql::all(qb.build_query_as::<MessageRow>().fetch_all(&self.pool).await?));
        }
        self.quoted(out).await
    }
}
