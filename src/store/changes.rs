//! The [`ChangeStore`] part of the seam: changes to stored messages (edits, deletes,
//! reactions, pins), the reads that show them (versions, pins, the change log), and
//! mention counts.
//!
//! Every change that alters a message takes the next number of its conversation's change
//! counter (`conversations.last_change`) inside the transaction that applies it, and leaves
//! it in the message's `change_seq`. Changes of one conversation are therefore numbered in
//! the order they commit, without gaps, and "every message whose `change_seq` is above N"
//! is exactly what a client that saw change N has missed. A change that alters nothing (a
//! reaction already there, a retried edit, a pin already set) takes no number.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Message, StoreResult};

/// Distinct reactions one message may carry.
pub const MAX_REACTIONS: usize = 20;

/// What a reader sees of the message a reply answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub id: Uuid,
    pub seq: i64,
    pub sender_id: Uuid,
    /// The first line of its body, cut at [`Reply::SNIPPET_CHARS`] (with "…"); empty
    /// once deleted.
    pub snippet: String,
    pub deleted: bool,
    /// How many images it carries.
    pub attachments: i64,
}

impl Reply {
    pub const SNIPPET_CHARS: usize = 140;

    /// The quote of `original`.
    pub fn of(original: &Message) -> Self {
        let deleted = original.deleted_at.is_some();
        let snippet =
            if deleted { String::new() } else { crate::text::first_line(&original.body, Self::SNIPPET_CHARS) };
        Reply {
            id: original.id,
            seq: original.seq,
            sender_id: original.sender_id,
            snippet,
            deleted,
            attachments: if deleted { 0 } else { original.attachments.len() as i64 },
        }
    }
}

/// One emoji on a message and who put it there, in the order they did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub user_ids: Vec<Uuid>,
}

/// A body an edit replaced. Version 1 is the body as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub version: i64,
    pub body: String,
    /// When this body became the message's.
    pub created_at: DateTime<Utc>,
    /// When an edit replaced it.
    pub replaced_at: DateTime<Utc>,
    pub editor_id: Uuid,
}

/// What a change does. Who may make it is the service's rule; the store applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new body; `client_id` is the edit's own (a retry changes nothing more).
    Edit {
        body: String,
        client_id: String,
    },
    /// Body, attachments (their uploads too) and reactions go; a tombstone stays.
    Delete,
    /// `by`'s reaction `emoji` on (`true`) or off.
    React {
        emoji: String,
        on: bool,
    },
    Pin {
        pinned: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequest {
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    /// The message's `created_at` (its id's time): on PostgreSQL it names the partition.
    pub message_at: DateTime<Utc>,
    pub by: Uuid,
    pub at: DateTime<Utc>,
    pub change: Change,
}

/// What became of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Applied, with the next change number: the message as it is now.
    Applied(Message),
    /// Nothing to do (already so, or a retried edit): the message as it is.
    Unchanged(Message),
    /// Refused: the message is deleted (the tombstone). Deleting it again is `Unchanged`.
    Deleted(Message),
    /// Refused: the message has [`MAX_REACTIONS`] distinct reactions already.
    TooManyReactions(Message),
    /// No such message in that conversation.
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeOutcome {
    pub result: Changed,
    /// A delete's removed images: their storage keys, to remove from the media store.
    pub removed_keys: Vec<String>,
}

#[async_trait]
pub trait ChangeStore: Send + Sync {
    /// One message of a conversation, as readers see it (its reply quote included).
    async fn message(&self, conversation: Uuid, id: Uuid) -> StoreResult<Option<Message>>;
    /// Apply `request` in one transaction that numbers it (see the module's text).
    async fn apply_change(&self, request: &ChangeRequest) -> StoreResult<ChangeOutcome>;
    /// The bodies edits replaced, oldest first (the current one is the message's).
    async fn versions(&self, conversation: Uuid, id: Uuid) -> StoreResult<Vec<Version>>;
    /// Pinned messages, newest pin first.
    async fn pins(&self, conversation: Uuid, limit: u32) -> StoreResult<Vec<Message>>;
    /// Messages whose `change_seq` is above `after`, in `change_seq` order.
    async fn changes(&self, conversation: Uuid, after: i64, limit: u32) -> StoreResult<Vec<Message>>;
    /// The quotes of the messages `ids` (those that exist), for replies read in a page.
    async fn replies(&self, ids: &[Uuid]) -> StoreResult<Vec<Message>>;
    /// The members of `conversation` whose usernames are among `usernames` (lower case).
    async fn members_named(&self, conversation: Uuid, usernames: &[String]) -> StoreResult<Vec<Uuid>>;
    /// Per conversation of `read` (`(conversation, read_seq)`), how many messages after
    /// `read_seq` mention `user`; conversations with none are left out.
    async fn mention_counts(&self, user: Uuid, read: &[(Uuid, i64)]) -> StoreResult<Vec<(Uuid, i64)>>;
}

/// Fill in the reply quote of every message of `messages` that answers another.
pub(super) fn quote(messages: &mut [Message], originals: &[Message]) {
    for m in messages.iter_mut() {
        if let Some(id) = m.reply_to {
            m.reply = originals.iter().find(|o| o.id == id).map(Reply::of).or_else(|| {
                // Removed by retention: shown as deleted.
                Some(Reply {
                    id,
                    seq: 0,
                    sender_id: Uuid::nil(),
                    snippet: String::new(),
                    deleted: true,
                    attachments: 0,
                })
            });
        }
    }
}

/// The reactions of a message after `user` turned `emoji` on or off; `None` when that
/// changes nothing, `Err(())` when it would be one distinct reaction too many.
pub(super) fn react(current: &[Reaction], user: Uuid, emoji: &str, on: bool) -> Result<Option<Vec<Reaction>>, ()> {
    let mut next = current.to_vec();
    match (next.iter().position(|r| r.emoji == emoji), on) {
        (Some(i), true) => {
            if next[i].user_ids.contains(&user) {
                return Ok(None);
            }
            next[i].user_ids.push(user);
        }
        (Some(i), false) => {
            let before = next[i].user_ids.len();
            next[i].user_ids.retain(|u| *u != user);
            if next[i].user_ids.len() == before {
                return Ok(None);
            }
            if next[i].user_ids.is_empty() {
                next.remove(i);
            }
        }
        (None, true) => {
            if next.len() >= MAX_REACTIONS {
                return Err(());
            }
            next.push(Reaction { emoji: emoji.to_string(), user_ids: vec![user] });
        }
        (None, false) => return Ok(None),
    }
    Ok(Some(next))
}

/// What a change writes: the message as it will be (its `change_seq` still the old one),
/// the body an edit replaced, and whether its uploads, history and mentions go.
pub(super) struct Plan {
    pub message: Message,
    pub replaced: Option<Version>,
    pub delete: bool,
}

pub(super) enum Decision {
    /// Nothing to write.
    Done(Changed),
    Write(Plan),
}

/// The plain-Rust middle of [`ChangeStore::apply_change`], the same for both backends: from
/// the message as stored (read under the conversation's lock) and the request, what to
/// write. `retried` tells that this editor's edit `client_id` is stored already.
pub(super) fn decide(current: Message, request: &ChangeRequest, retried: bool) -> Decision {
    let (by, at) = (request.by, request.at);
    if current.deleted_at.is_some() {
        return Decision::Done(match request.change {
            Change::Delete => Changed::Unchanged(current),
            _ => Changed::Deleted(current),
        });
    }
    let mut next = current.clone();
    let mut replaced = None;
    let mut delete = false;
    match &request.change {
        Change::Edit { body, .. } => {
            if retried || *body == current.body {
                return Decision::Done(Changed::Unchanged(current));
            }
            replaced = Some(Version {
                version: 0,
                body: std::mem::replace(&mut next.body, body.clone()),
                created_at: current.edited_at.unwrap_or(current.created_at),
                replaced_at: at,
                editor_id: by,
            });
            next.edited_at = Some(at);
        }
        Change::Delete => {
            delete = true;
            next.body = String::new();
            next.attachments = Vec::new();
            next.reactions = Vec::new();
            next.mentions = Vec::new();
            next.pinned_at = None;
            next.pinned_by = None;
            next.deleted_at = Some(at);
            next.deleted_by = Some(by);
        }
        Change::React { emoji, on } => match react(&current.reactions, by, emoji, *on) {
            Ok(Some(reactions)) => next.reactions = reactions,
            Ok(None) => return Decision::Done(Changed::Unchanged(current)),
            Err(()) => return Decision::Done(Changed::TooManyReactions(current)),
        },
        Change::Pin { pinned } => {
            if *pinned == current.pinned_at.is_some() {
                return Decision::Done(Changed::Unchanged(current));
            }
            next.pinned_at = pinned.then_some(at);
            next.pinned_by = pinned.then_some(by);
        }
    }
    Decision::Write(Plan { message: next, replaced, delete })
}

/// The edit's `client_id`, when the change is an edit.
pub(super) fn edit_client_id(change: &Change) -> Option<&str> {
    match change {
        Change::Edit { client_id, .. } => Some(client_id),
        _ => None,
    }
}
