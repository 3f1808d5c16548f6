//! Changes to stored messages: edits (with their history), deletes, reactions and pins,
//! and the reads that show them (versions, pins, the change log for catch-up).
//!
//! Who may do what is decided here: the author edits (within `messages.edit_window_secs`)
//! and deletes (within `messages.delete_window_secs`; a group admin any time); any member
//! reacts; group admins pin (any member in a direct chat). The store applies a change in one
//! transaction that gives it the conversation's next change number
//! ([`crate::store::ChangeStore`]); only after that commit is it fanned out to every
//! member's devices (`message.updated`, `message.deleted`, `message.reaction`). A change that
//! alters nothing (a retried edit, a reaction already there) is acknowledged with the
//! message as it is and sent to nobody. A fan-out that fails loses nothing: clients catch up
//! with the change log ([`Changes::changes`]).

mod rules;

use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use super::{cache::Caches, fanout::Fanout, limits, media::MediaLinks};
use crate::{
    bus::{Bus, Quota, keys},
    config::MessagesConfig,
    error::{Error, Result},
    media::MediaStore,
    protocol::{
        ServerEvent,
        client::check_edit,
        views::{MessageView, VersionView},
    },
    store::{Change, ChangeRequest, Changed, Message, Store},
};

pub use rules::{check_emoji, mentioned_usernames};

/// Pins listed per conversation at most.
pub const MAX_PINS: u32 = 100;

pub struct Changes {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    fanout: Fanout,
    caches: Arc<Caches>,
    links: Arc<MediaLinks>,
    files: Arc<dyn MediaStore>,
    config: MessagesConfig,
}

impl Changes {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        fanout: Fanout,
        caches: Arc<Caches>,
        links: Arc<MediaLinks>,
        files: Arc<dyn MediaStore>,
        config: MessagesConfig,
    ) -> Self {
        Self { store, bus, fanout, caches, links, files, config }
    }

    /// Replace the body of `me`'s message. `client_id` is the edit's: a retry changes
    /// nothing more.
    pub async fn edit(
        &self,
        me: Uuid,
        conversation: Uuid,
        id: Uuid,
        client_id: &str,
        body: &str,
    ) -> Result<MessageView> {
        // What needs no state first (an empty body is judged once the message is known).
        check_edit(client_id, body, true, self.config.max_body_chars).map_err(Error::validation)?;
        let m = self.target(me, conversation, id).await?;
        rules::may_edit(&m, me, client_id, body, &self.config, Utc::now())?;
        let change = Change::Edit { body: body.to_string(), client_id: client_id.to_string() };
        self.apply(me, &m, change).await
    }

    /// Delete a message: `me`'s own, or any as a group admin.
    pub async fn delete(&self, me: Uuid, conversation: Uuid, id: Uuid) -> Result<MessageView> {
        let m = self.target(me, conversation, id).await?;
        if m.deleted_at.is_none() {
            let admin = self.group_admin(conversation, me).await? == Some(true);
            rules::may_delete(&m, me, admin, &self.config, Utc::now())?;
        }
        self.apply(me, &m, Change::Delete).await
    }

    /// Turn `me`'s reaction `emoji` on or off.
    pub async fn react(&self, me: Uuid, conversation: Uuid, id: Uuid, emoji: &str, on: bool) -> Result<MessageView> {
        check_emoji(emoji)?;
        let m = self.target(me, conversation, id).await?;
        self.apply(me, &m, Change::React { emoji: emoji.to_string(), on }).await
    }

    /// Pin or unpin: group admins, or either member of a direct chat.
    pub async fn pin(&self, me: Uuid, conversation: Uuid, id: Uuid, pinned: bool) -> Result<MessageView> {
        let m = self.target(me, conversation, id).await?;
        if self.group_admin(conversation, me).await? == Some(false) {
            return Err(Error::Forbidden("only group admins pin messages".into()));
        }
        self.apply(me, &m, Change::Pin { pinned }).await
    }

    /// Every body of a message, oldest first, the current one last.
    pub async fn versions(&self, me: Uuid, conversation: Uuid, id: Uuid) -> Result<Vec<VersionView>> {
        let m = self.target(me, conversation, id).await?;
        let mut out: Vec<VersionView> = self
            .store
            .versions(conversation, id)
            .await?
            .into_iter()
            .map(|v| VersionView {
                version: v.version,
                body: v.body,
                created_at: v.created_at,
                replaced_at: Some(v.replaced_at),
            })
            .collect();
        out.push(VersionView {
            version: out.len() as i64 + 1,
            body: m.body,
            created_at: m.edited_at.unwrap_or(m.created_at),
            replaced_at: None,
        });
        Ok(out)
    }

    /// The pinned messages of a conversation, newest pin first.
    pub async fn pins(&self, me: Uuid, conversation: Uuid) -> Result<Vec<MessageView>> {
        self.member(me, conversation).await?;
        let pins = self.store.pins(conversation, MAX_PINS).await?;
        Ok(pins.into_iter().map(|m| self.links.message(m)).collect())
    }

    /// The change log after `after`: the messages changed since, as they are now, in
    /// change order, and the conversation's last change number.
    pub async fn changes(
        &self,
        me: Uuid,
        conversation: Uuid,
        after: i64,
        limit: u32,
    ) -> Result<(Vec<MessageView>, i64)> {
        if !(1..=500).contains(&limit) {
            return Err(Error::validation("limit: must be 1 to 500"));
        }
        if after < 0 {
            return Err(Error::validation("after: must not be negative"));
        }
        self.member(me, conversation).await?;
        // The counter first: a change committed between the two reads is then in the page
        // or after the number returned, never lost between them.
        let c = self.store.conversation(conversation).await?.ok_or_else(no_conversation)?;
        let messages = self.store.changes(conversation, after, limit).await?;
        let last = messages.iter().map(|m| m.change_seq).max().unwrap_or(0).max(c.last_change);
        Ok((messages.into_iter().map(|m| self.links.message(m)).collect(), last))
    }

    /// The message `id` of a conversation `me` is a member of.
    async fn target(&self, me: Uuid, conversation: Uuid, id: Uuid) -> Result<Message> {
        self.member(me, conversation).await?;
        let quota = Quota::per_second(self.config.rate_per_sec, self.config.rate_burst);
        limits::check(&*self.bus, &keys::message_rate(&me), quota).await?;
        self.store
            .message(conversation, id)
            .await?
            .ok_or_else(|| Error::NotFound("no such message in this conversation".into()))
    }

    async fn member(&self, me: Uuid, conversation: Uuid) -> Result<()> {
        match self.caches.is_member(self.store.as_ref(), conversation, me).await? {
            true => Ok(()),
            false => Err(no_conversation()),
        }
    }

    /// In a group, whether `me` is its admin; `None` in a direct conversation.
    async fn group_admin(&self, conversation: Uuid, me: Uuid) -> Result<Option<bool>> {
        let c = self.store.conversation(conversation).await?.ok_or_else(no_conversation)?;
        if c.kind != "group" {
            return Ok(None);
        }
        Ok(Some(self.store.member_role(conversation, me).await?.as_deref() == Some("admin")))
    }

    /// Store the change, then (if it changed anything) tell every member.
    async fn apply(&self, me: Uuid, m: &Message, change: Change) -> Result<MessageView> {
        let event_kind = rules::EventKind::of(&change);
        let request = ChangeRequest {
            conversation_id: m.conversation_id,
            message_id: m.id,
            message_at: m.created_at,
            by: me,
            at: Utc::now(),
            change,
        };
        let outcome = self.store.apply_change(&request).await?;
        let stored = match outcome.result {
            Changed::Applied(m) => m,
            Changed::Unchanged(m) => return Ok(self.links.message(m)),
            Changed::Deleted(_) => return Err(deleted()),
            Changed::TooManyReactions(_) => {
                return Err(Error::Conflict {
                    code: "too_many_reactions",
                    detail: format!("a message carries at most {} distinct reactions", crate::store::MAX_REACTIONS),
                });
            }
            Changed::NotFound => return Err(Error::NotFound("no such message in this conversation".into())),
        };
        for key in &outcome.removed_keys {
            if let Err(e) = self.files.delete(key).await {
                tracing::warn!(key, error = %e, "file of a deleted message's image not deleted");
            }
        }
        let view = self.links.message(stored);
        let event = event_kind.event(view.clone(), me);
        let members = self.caches.members(self.store.as_ref(), m.conversation_id).await?;
        if let Err(e) = self.fanout.send(members.to_vec(), &event).await {
            // Stored: members see it at their next catch-up (`…/changes?after=`).
            tracing::warn!(error = %e, message_id = %m.id, "fan-out of a change failed");
        }
        Ok(view)
    }
}

fn no_conversation() -> Error {
    Error::NotFound("no such conversation".into())
}

pub(crate) fn deleted() -> Error {
    Error::Conflict { code: "message_deleted", detail: "this message was deleted".into() }
}

impl rules::EventKind {
    fn event(self, message: MessageView, by: Uuid) -> ServerEvent {
        match self {
            rules::EventKind::Updated(change) => ServerEvent::MessageUpdated { message, change, by },
            rules::EventKind::Deleted => ServerEvent::MessageDeleted { message, by },
            rules::EventKind::Reaction { emoji, on } => ServerEvent::MessageReaction { message, by, emoji, on },
        }
    }
}
