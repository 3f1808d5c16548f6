//! What goes on the push queue ([`Job`]), and the text of a push: the first line of a
//! message.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest `body` a push carries, in characters.
pub const MAX_PUSH_BODY: usize = 140;

/// One queue entry: a notification for some users, decided to be needed when it was
/// queued (none of them had a socket open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    Message {
        conversation_id: Uuid,
        message_id: Uuid,
        seq: i64,
        sender_id: Uuid,
        body: String,
        image: bool,
        /// The members it mentions (as resolved when it was sent).
        #[serde(default)]
        mentions: Vec<Uuid>,
        sent_at: DateTime<Utc>,
        users: Vec<Uuid>,
    },
    Call {
        call_id: Uuid,
        conversation_id: Uuid,
        caller_id: Uuid,
        callee_id: Uuid,
        sent_at: DateTime<Utc>,
    },
}

/// The first non-empty line of `body`, cut to [`MAX_PUSH_BODY`] characters (with "…").
pub fn first_line(body: &str) -> String {
    crate::text::first_line(body, MAX_PUSH_BODY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_lines() {
        assert_eq!(first_line("hello\nworld"), "hello");
        assert_eq!(first_line("\n\n  hi there  \nnext"), "hi there");
        assert_eq!(first_line(""), "");
        let long = "é".repeat(300);
        let cut = first_line(&long);
        assert_eq!(cut.chars().count(), MAX_PUSH_BODY);
        assert!(cut.ends_with('…'));
    }
}
