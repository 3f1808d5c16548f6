//! The search part of the Store seam: full-text search over the messages a user can see. A
//! trait of its own, which [`super::Store`] requires; each backend keeps it in
//! `*/search.rs`:
//! - SQLite: an FTS5 index over `messages.body` (external content, kept in step by
//!   triggers; `migrations/sqlite/0008_search.sql`), ranked by `bm25()`, with `snippet()`;
//! - PostgreSQL: a generated `tsvector` column with a GIN index on the partitioned parent
//!   (`migrations/postgres/0008_search.sql`), ranked by `ts_rank_cd()`, with `ts_headline()`.
//!
//! The query reaches the database as [`Term`]s, never as the user's text: each backend
//! quotes every word itself (an FTS5 string, a bound `phraseto_tsquery` argument), so no
//! character of a query is ever read as query syntax.
//!
//! Invariants kept here:
//! - only messages of conversations the user is a member of *now* are found (the
//!   statement joins `members`: a member who left finds nothing of that conversation);
//! - the order is total: rank, then newest, then id, so offsets page without repeats over
//!   an unchanged set;
//! - a snippet carries [`MATCH_START`] and [`MATCH_END`] around matches and nowhere else
//!   (those characters are removed from the body's own text first), and is plain text.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Message, StoreResult};

/// What a snippet puts before a match.
pub const MATCH_START: char = '\u{2}';
/// What a snippet puts after a match.
pub const MATCH_END: char = '\u{3}';
/// The longest snippet, in characters (markers and ellipses not counted).
pub const MAX_SNIPPET_CHARS: usize = 240;
/// About how many words a snippet shows around its matches.
pub(super) const SNIPPET_WORDS: u32 = 24;

/// One thing a message must contain: `words` next to each other in this order (a single
/// word: anywhere in it), the last one, with `prefix`, possibly only the beginning of a
/// longer word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// Lower-case runs of letters and digits; at least one.
    pub words: Vec<String>,
    pub prefix: bool,
}

/// A search of one user. Every term must match (AND); the filters narrow it further.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub user: Uuid,
    pub terms: Vec<Term>,
    pub conversation: Option<Uuid>,
    pub sender: Option<Uuid>,
    /// Only messages created after this time (exclusive).
    pub after: Option<DateTime<Utc>>,
    /// Only messages created before this time (exclusive).
    pub before: Option<DateTime<Utc>>,
    /// Only messages created at or before this time: the time of a search's first page, so
    /// that what arrives while a user pages does not shift the later pages.
    pub as_of: DateTime<Utc>,
    /// Only messages with at least one image.
    pub has_image: bool,
}

/// A message found, with the part of its body that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub message: Message,
    /// Plain text; the matches between [`MATCH_START`] and [`MATCH_END`].
    pub snippet: String,
}

#[async_trait]
pub trait SearchStore: Send + Sync {
    /// The messages matching `query`, best first (rank, then newest, then id), without the
    /// first `offset`, at most `limit`. No terms: nothing.
    async fn search_messages(&self, query: &SearchQuery, offset: u32, limit: u32) -> StoreResult<Vec<SearchHit>>;
}

/// The markers a backend asks its database to put around matches: a private-use character
/// and a random tag, which no stored body holds in practice. [`Markers::finish`] then takes
/// out any [`MATCH_START`] or [`MATCH_END`] the body itself held and puts them in for these,
/// so the ones a client sees are always the database's.
pub(super) struct Markers {
    pub start: String,
    pub end: String,
}

impl Markers {
    pub fn new() -> Self {
        let tag = &Uuid::new_v4().simple().to_string()[..12];
        Markers { start: format!("\u{E000}{tag}<"), end: format!("\u{E000}{tag}>") }
    }

    /// The snippet the client gets from what the database returned; `ellipses` adds "…"
    /// where `raw` starts after the body's start or ends before its end (SQLite's
    /// `snippet()` adds them itself; `ts_headline()` does not).
    pub fn finish(&self, raw: &str, body: &str, ellipses: bool) -> String {
        let own = |c: char| c == MATCH_START || c == MATCH_END;
        let text: String = raw.chars().filter(|c| !own(*c)).collect();
        let text = text.replace(&self.start, "\u{2}").replace(&self.end, "\u{3}");
        let text = cut(text.trim());
        if !ellipses {
            return text;
        }
        let plain: String = text.chars().filter(|c| !own(*c)).collect();
        let clean: String = body.chars().filter(|c| !own(*c)).collect();
        match clean.find(plain.as_str()) {
            Some(at) if !plain.is_empty() => {
                let before = if clean[..at].trim().is_empty() { "" } else { "…" };
                let after = if clean[at + plain.len()..].trim().is_empty() { "" } else { "…" };
                format!("{before}{text}{after}")
            }
            _ => text,
        }
    }
}

/// At most [`MAX_SNIPPET_CHARS`] characters of text (the markers kept balanced), with "…"
/// when something was cut.
fn cut(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_SNIPPET_CHARS * 4));
    let (mut shown, mut open) = (0, false);
    for c in text.chars() {
        match c {
            MATCH_START => open = true,
            MATCH_END => open = false,
            _ if shown == MAX_SNIPPET_CHARS => {
                if open {
                    out.push(MATCH_END);
                }
                out.push('…');
                return out;
            }
            _ => shown += 1,
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_the_databases_only() {
        let m = Markers::new();
        let raw = format!("a \u{2}fake\u{3} {}hit{} b", m.start, m.end);
        assert_eq!(m.finish(&raw, "a \u{2}fake\u{3} hit b", false), "a fake \u{2}hit\u{3} b");
    }

    #[test]
    fn ellipses_where_the_body_goes_on() {
        let m = Markers::new();
        let body = "one two three four five";
        let raw = format!("two {}three{}", m.start, m.end);
        assert_eq!(m.finish(&raw, body, true), "…two \u{2}three\u{3}…");
        let raw = format!("one two {}three{} four five", m.start, m.end);
        assert_eq!(m.finish(&raw, body, true), "one two \u{2}three\u{3} four five");
        assert_eq!(m.finish(&raw, body, false), "one two \u{2}three\u{3} four five");
    }

    #[test]
    fn long_snippets_are_cut_with_the_markers_balanced() {
        let m = Markers::new();
        let raw = format!("{}{}{}", m.start, "x".repeat(1000), m.end);
        let s = m.finish(&raw, &"x".repeat(1000), false);
        assert_eq!(s.chars().filter(|c| *c == 'x').count(), MAX_SNIPPET_CHARS);
        assert!(s.starts_with('\u{2}') && s.ends_with("\u{3}…"), "{s:?}");
    }
}
