//! What goes on the push queue ([`Job`]), and the text rules of a push: the first line of a
//! message, and whether it mentions someone.

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
        /// The whole body: mentions are looked for in all of it.
        body: String,
        image: bool,
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
    let line = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    if line.chars().count() <= MAX_PUSH_BODY {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(MAX_PUSH_BODY - 1).collect();
    cut.push('…');
    cut
}

/// Whether `body` mentions `@username` (case-insensitive), as a whole word: `@ann` is in
/// "hi @Ann!" but not in "@anna" or "mail@ann".
pub fn mentions(body: &str, username: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.' || c == '-';
    let lower = body.to_lowercase();
    let name = username.to_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find('@') {
        let at = from + i;
        let before_ok = lower[..at].chars().next_back().is_none_or(|c| !word(c));
        let rest = &lower[at + 1..];
        if before_ok && rest.starts_with(&name) {
            let after = rest[name.len()..].chars().next();
            // A trailing dot ends the sentence rather than the name ("thanks @ann.").
            let ends = match after {
                None => true,
                Some('.') => rest[name.len() + 1..].chars().next().is_none_or(|c| !word(c)),
                Some(c) => !word(c),
            };
            if ends {
                return true;
            }
        }
        from = at + 1;
    }
    false
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

    #[test]
    fn mention_words() {
        assert!(mentions("hi @ann!", "ann"));
        assert!(mentions("@Ann can you", "ann"));
        assert!(mentions("thanks @ann.", "ann"));
        assert!(mentions("@bob, @ann", "ann"));
        assert!(!mentions("@anna hi", "ann"));
        assert!(!mentions("mail me at x@ann.org", "ann"));
        assert!(!mentions("ann", "ann"));
        assert!(!mentions("@ann.lee", "ann"));
        assert!(mentions("@ann.lee", "ann.lee"));
        assert!(!mentions("@", "ann"));
        assert!(mentions("ünïcode @ÄNN ok", "änn"));
    }
}
