//! The rules of changes that need no store: who may edit or delete and until when, what
//! an emoji is, which `@username`s a body mentions, and which event a change makes.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    config::MessagesConfig,
    error::{Error, Result},
    protocol::client::check_edit,
    store::{Change, Message},
};

/// The event a stored change is announced with.
pub(super) enum EventKind {
    Updated(&'static str),
    Deleted,
    Reaction { emoji: String, on: bool },
}

impl EventKind {
    pub(super) fn of(change: &Change) -> Self {
        match change {
            Change::Edit { .. } => EventKind::Updated("edited"),
            Change::Pin { pinned: true } => EventKind::Updated("pinned"),
            Change::Pin { pinned: false } => EventKind::Updated("unpinned"),
            Change::Delete => EventKind::Deleted,
            Change::React { emoji, on } => EventKind::Reaction { emoji: emoji.clone(), on: *on },
        }
    }
}

/// `me` may give `m` the body `body` now.
pub(super) fn may_edit(
    m: &Message,
    me: Uuid,
    client_id: &str,
    body: &str,
    config: &MessagesConfig,
    now: DateTime<Utc>,
) -> Result<()> {
    check_edit(client_id, body, !m.attachments.is_empty(), config.max_body_chars).map_err(Error::validation)?;
    if m.sender_id != me {
        return Err(Error::Forbidden("only its author can edit a message".into()));
    }
    if m.kind != "text" {
        return Err(Error::Forbidden("a call entry cannot be edited".into()));
    }
    if m.deleted_at.is_some() {
        return Err(super::deleted());
    }
    if past(m, config.edit_window_secs, now) {
        return Err(Error::Conflict {
            code: "edit_window_passed",
            detail: format!("messages can be edited for {} seconds after sending", config.edit_window_secs),
        });
    }
    Ok(())
}

/// `me` (a group admin when `admin`) may delete `m` now.
pub(super) fn may_delete(
    m: &Message,
    me: Uuid,
    admin: bool,
    config: &MessagesConfig,
    now: DateTime<Utc>,
) -> Result<()> {
    if admin {
        return Ok(());
    }
    if m.sender_id != me {
        return Err(Error::Forbidden("only its author or a group admin can delete a message".into()));
    }
    if past(m, config.delete_window_secs, now) {
        return Err(Error::Conflict {
            code: "delete_window_passed",
            detail: format!("messages can be deleted for {} seconds after sending", config.delete_window_secs),
        });
    }
    Ok(())
}

/// More than `window` seconds (0: no limit) since `m` was sent.
fn past(m: &Message, window: u64, now: DateTime<Utc>) -> bool {
    window > 0 && (now - m.created_at).num_seconds() > window as i64
}

/// One emoji (with its skin tone or other variation, as Unicode lists it).
pub fn check_emoji(emoji: &str) -> Result<()> {
    if emoji.len() > 64 || emojis::get(emoji).is_none() {
        return Err(Error::validation("emoji: must be one emoji"));
    }
    Ok(())
}

/// The lower-cased usernames `@name` in `body` names: a `@` at the start or after a
/// character that is not part of a name, then 3–32 of `[a-z0-9_.]` (a trailing `.` ends
/// the sentence, not the name). At most 50, each once.
pub fn mentioned_usernames(body: &str) -> Vec<String> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let mut out: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in body.char_indices() {
        let starts = c == '@' && !prev.is_some_and(|p| is_name(p) || p == '@');
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &body[i + 1..];
        let len = rest.find(|c: char| !is_name(c)).unwrap_or(rest.len());
        let name = rest[..len].trim_end_matches('.').to_ascii_lowercase();
        if (3..=32).contains(&name.len()) && !out.contains(&name) {
            out.push(name);
            if out.len() == 50 {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_names_after_an_at() {
        assert_eq!(mentioned_usernames("hi @alice and @Bob."), vec!["alice", "bob"]);
        assert_eq!(mentioned_usernames("@carol.smith, @carol.smith"), vec!["carol.smith"]);
        assert!(mentioned_usernames("mail me: dave@example.org").is_empty());
        assert!(mentioned_usernames("@al @@eve @").is_empty());
        assert_eq!(mentioned_usernames("(@frank_1)"), vec!["frank_1"]);
        assert_eq!(mentioned_usernames(&"@user ".repeat(10)), vec!["user"]);
        let many: String = (0..80).map(|i| format!("@user{i} ")).collect();
        assert_eq!(mentioned_usernames(&many).len(), 50);
        assert_eq!(mentioned_usernames("@ünïcode @ok_name"), vec!["ok_name"]);
    }

    #[test]
    fn emoji_is_one_emoji() {
        for ok in ["👍", "❤️", "👍🏽", "🇫🇷", "👨‍👩‍👧"] {
            assert!(check_emoji(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "👍👍", ":+1:", "👍 ", &"👍".repeat(40), "\0"] {
            assert!(check_emoji(bad).is_err(), "{bad:?}");
        }
    }
}
