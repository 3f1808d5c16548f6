//! Message search: what a query means, its limits, and paging. The store finds
//! ([`crate::store::SearchStore`]); this service decides what may be asked and how pages
//! follow each other.
//!
//! A query is words: runs of letters and digits (everything else separates them and is
//! never query syntax), case-insensitive. Every word must occur; `"two words"` in double
//! quotes must occur next to each other in that order; the last word, unless quoted, also
//! matches the words it begins (`depl` finds "deploy") once it has at least
//! [`MIN_PREFIX_CHARS`] characters. A query with no word at all (`"`, `*`, `-`) finds
//! nothing.
//!
//! Pages: results are ordered by rank, then newest. The first page fixes the search's time
//! (`as_of`); later pages leave out messages created after it, so new messages do not shift
//! them. The cursor also names the last result shown (the anchor): when messages matched
//! before it appeared or went away in between (an edit, a delete, a membership change), the
//! next page starts after the anchor wherever it now is, within [`ANCHOR_SLACK`] places of
//! where it was. A search shows at most [`MAX_RESULTS`] results.

use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{limits, media::MediaLinks};
use crate::{
    bus::{Bus, Quota, keys},
    error::{Error, Result},
    protocol::views::MessageView,
    store::{SearchQuery, Store, Term},
};

pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_WORDS: usize = 16;
pub const MIN_PREFIX_CHARS: usize = 2;
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 50;
/// Results one search can page through.
pub const MAX_RESULTS: u32 = 1000;
/// How far (in places) the anchor is looked for around where it was.
pub const ANCHOR_SLACK: u32 = 5;
const MAX_CURSOR_CHARS: usize = 200;

/// What a client asks (`GET /search`).
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub q: String,
    pub conversation_id: Option<Uuid>,
    pub sender_id: Option<Uuid>,
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    pub has_image: bool,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A message found, as its readers see it, with the part of its body that matched.
#[derive(Debug, Clone)]
pub struct Found {
    pub message: MessageView,
    /// Plain text, matches between `\u{2}` and `\u{3}`.
    pub snippet: String,
}

#[derive(Debug, Clone)]
pub struct SearchPage {
    pub results: Vec<Found>,
    /// For the next page; `None` after the last one.
    pub next_cursor: Option<String>,
}

pub struct Search {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    /// Signs the links of the attachments of what is found.
    links: Arc<MediaLinks>,
    /// Searches per user, over every device and node (`messages.search_per_sec`,
    /// `search_burst`): a search costs the database far more than a message.
    quota: Quota,
}

impl Search {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>, links: Arc<MediaLinks>, quota: Quota) -> Self {
        Self { store, bus, links, quota }
    }

    /// One page of `me`'s search: messages of the conversations `me` is a member of now.
    /// Filtering by a conversation `me` is not a member of is `not_found`.
    pub async fn search(&self, me: Uuid, req: &SearchRequest) -> Result<SearchPage> {
        let terms = parse(&req.q)?;
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::validation(format!("limit: must be 1 to {MAX_LIMIT}")));
        }
        if let (Some(a), Some(b)) = (req.after, req.before)
            && a >= b
        {
            return Err(Error::validation("after: must be earlier than before"));
        }
        let check = fingerprint(&terms, req);
        let cursor = match &req.cursor {
            Some(c) => Some(Cursor::decode(c, check)?),
            None => None,
        };
        limits::check(&*self.bus, &keys::search_rate(&me), self.quota).await?;
        if let Some(c) = req.conversation_id
            && self.store.member_role(c, me).await?.is_none()
        {
            return Err(Error::NotFound("no such conversation".into()));
        }
        let (as_of, offset, anchor) = match &cursor {
            Some(c) => (c.as_of, c.offset, Some(c.anchor)),
            None => (Utc::now(), 0, None),
        };
        let empty = SearchPage { results: Vec::new(), next_cursor: None };
        if terms.is_empty() || offset >= MAX_RESULTS {
            return Ok(empty);
        }
        let limit = limit.min(MAX_RESULTS - offset);
        let query = SearchQuery {
            user: me,
            terms,
            conversation: req.conversation_id,
            sender: req.sender_id,
            after: req.after,
            before: req.before,
            as_of,
            has_image: req.has_image,
        };
        // From a little before where the last page ended, to find its last result (the
        // anchor) if it moved; one more than the page, to know whether another follows.
        let start = if anchor.is_some() { offset.saturating_sub(ANCHOR_SLACK) } else { offset };
        let expected = (offset - start) as usize;
        let fetch = (offset - start) + 2 * ANCHOR_SLACK + limit + 1;
        let mut hits = self.store.search_messages(&query, start, fetch).await?;
        let begin = anchor
            .and_then(|a| hits.iter().position(|h| h.message.id == a))
            .map_or(expected, |p| p + 1)
            .min(hits.len());
        let more = hits.len() > begin + limit as usize;
        hits.truncate(begin + limit as usize);
        let page: Vec<_> = hits.drain(begin..).collect();
        let next_offset = start + (begin + page.len()) as u32;
        let next_cursor = match page.last() {
            Some(last) if more && next_offset < MAX_RESULTS => {
                Some(Cursor { as_of, offset: next_offset, anchor: last.message.id, check }.encode())
            }
            _ => None,
        };
        let results =
            page.into_iter().map(|h| Found { message: self.links.message(h.message), snippet: h.snippet }).collect();
        Ok(SearchPage { results, next_cursor })
    }
}

/// The terms of `q` (see the module doc), or `validation_failed` for a query that is
/// empty, longer than [`MAX_QUERY_CHARS`], holds a control character (NUL included; tabs
/// and line breaks are spaces) or more than [`MAX_WORDS`] words.
pub fn parse(q: &str) -> Result<Vec<Term>> {
    if q.trim().is_empty() || q.chars().count() > MAX_QUERY_CHARS {
        return Err(Error::validation(format!("q: must be 1 to {MAX_QUERY_CHARS} characters")));
    }
    if q.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(Error::validation("q: must not contain control characters"));
    }
    let mut terms: Vec<Term> = Vec::new();
    let mut phrase: Option<Vec<String>> = None;
    let mut word = String::new();
    // Whether the last term is a word outside quotes (or in quotes still open).
    let mut last_open = false;
    let flush = |word: &mut String, phrase: &mut Option<Vec<String>>, terms: &mut Vec<Term>| {
        if word.is_empty() {
            return false;
        }
        let w = std::mem::take(word);
        match phrase {
            Some(p) => p.push(w),
            None => terms.push(Term { words: vec![w], prefix: false }),
        }
        phrase.is_none()
    };
    for c in q.chars() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
            continue;
        }
        if flush(&mut word, &mut phrase, &mut terms) {
            last_open = true;
        }
        if c == '"' {
            match phrase.take() {
                Some(p) if !p.is_empty() => {
                    terms.push(Term { words: p, prefix: false });
                    last_open = false;
                }
                Some(_) => {}
                None => phrase = Some(Vec::new()),
            }
        }
    }
    if flush(&mut word, &mut phrase, &mut terms) {
        last_open = true;
    }
    if let Some(p) = phrase.filter(|p| !p.is_empty()) {
        terms.push(Term { words: p, prefix: false });
        last_open = true;
    }
    if last_open
        && let Some(last) = terms.last_mut()
        && last.words.last().is_some_and(|w| w.chars().count() >= MIN_PREFIX_CHARS)
    {
        last.prefix = true;
    }
    let mut unique: Vec<Term> = Vec::with_capacity(terms.len());
    for t in terms {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    if unique.iter().map(|t| t.words.len()).sum::<usize>() > MAX_WORDS {
        return Err(Error::validation(format!("q: at most {MAX_WORDS} words")));
    }
    Ok(unique)
}

/// A digest of what a search asks (its terms and filters, not its page), so a cursor is
/// only taken back by the search it came from.
fn fingerprint(terms: &[Term], req: &SearchRequest) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |s: &str| {
        for b in s.bytes().chain([0xff]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for t in terms {
        feed(&t.words.join(" "));
        feed(if t.prefix { "*" } else { "" });
    }
    let id = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_micros().to_string()).unwrap_or_default();
    feed(&id(req.conversation_id));
    feed(&id(req.sender_id));
    feed(&time(req.after));
    feed(&time(req.before));
    feed(if req.has_image { "image" } else { "" });
    h
}

/// Where the next page starts: the search's time, the offset, the last result shown, and
/// the search it belongs to. Opaque to clients (base64url of `1.micros.offset.id.check`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    as_of: DateTime<Utc>,
    offset: u32,
    anchor: Uuid,
    check: u64,
}

impl Cursor {
    fn encode(&self) -> String {
        let raw =
            format!("1.{}.{}.{}.{:016x}", self.as_of.timestamp_micros(), self.offset, self.anchor.simple(), self.check);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    fn decode(s: &str, check: u64) -> Result<Cursor> {
        let bad = || Error::validation("cursor: not a cursor of this search (start again without it)");
        if s.len() > MAX_CURSOR_CHARS {
            return Err(bad());
        }
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let parts: Vec<&str> = raw.split('.').collect();
        let [version, micros, offset, anchor, digest] = parts[..] else {
            return Err(bad());
        };
        let cursor = Cursor {
            as_of: micros.parse().ok().and_then(DateTime::from_timestamp_micros).ok_or_else(bad)?,
            offset: offset.parse().map_err(|_| bad())?,
            anchor: Uuid::try_parse(anchor).map_err(|_| bad())?,
            check: u64::from_str_radix(digest, 16).map_err(|_| bad())?,
        };
        if version != "1" || cursor.check != check || cursor.offset > MAX_RESULTS {
            return Err(bad());
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(q: &str) -> Vec<(String, bool)> {
        parse(q).unwrap().into_iter().map(|t| (t.words.join(" "), t.prefix)).collect()
    }

    fn t(words: &str, prefix: bool) -> (String, bool) {
        (words.to_string(), prefix)
    }

    #[test]
    fn words_phrases_and_the_last_prefix() {
        assert_eq!(terms("Deploy FRI"), vec![t("deploy", false), t("fri", true)]);
        assert_eq!(terms("deploy fri "), vec![t("deploy", false), t("fri", true)]);
        assert_eq!(terms("\"release notes\" v2"), vec![t("release notes", false), t("v2", true)]);
        assert_eq!(terms("v2 \"release notes\""), vec![t("v2", false), t("release notes", false)]);
        assert_eq!(terms("\"release no"), vec![t("release no", true)]);
        assert_eq!(terms("a"), vec![t("a", false)]);
        assert_eq!(terms("Café-au-lait"), vec![t("café", false), t("au", false), t("lait", true)]);
        assert_eq!(terms("привет МИР"), vec![t("привет", false), t("мир", true)]);
        assert_eq!(terms("echo echo"), vec![t("echo", false), t("echo", true)]);
        assert_eq!(terms("x x x"), vec![t("x", false)]);
    }

    #[test]
    fn syntax_is_only_separators() {
        for q in ["\"", "*", "-", "()", "\"\"", "^ : + -", "'", "\\"] {
            assert!(parse(q).unwrap().is_empty(), "{q}");
        }
        assert_eq!(terms("NEAR(a b)"), vec![t("near", false), t("a", false), t("b", false)]);
        assert_eq!(terms("cats OR dogs"), vec![t("cats", false), t("or", false), t("dogs", true)]);
        assert_eq!(terms("-secret body:x*"), vec![t("secret", false), t("body", false), t("x", false)]);
        assert_eq!(terms("don't"), vec![t("don", false), t("t", false)]);
    }

    #[test]
    fn refused_queries() {
        let refused = |q: &str| parse(q).unwrap_err().to_string();
        assert_eq!(refused(""), "q: must be 1 to 200 characters");
        assert_eq!(refused(" \t\n"), "q: must be 1 to 200 characters");
        assert_eq!(refused(&"x".repeat(201)), "q: must be 1 to 200 characters");
        assert!(parse(&"é".repeat(200)).is_ok());
        assert_eq!(refused("a\0b"), "q: must not contain control characters");
        assert_eq!(refused("a\u{1b}b"), "q: must not contain control characters");
        assert!(parse("a\tb\nc").is_ok());
        assert_eq!(refused(&(0..17).map(|i| format!("w{i} ")).collect::<String>()), "q: at most 16 words");
        assert!(parse(&(0..16).map(|i| format!("w{i} ")).collect::<String>()).is_ok());
    }

    #[test]
    fn cursors_round_trip_and_refuse_others() {
        let c = Cursor {
            as_of: DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap(),
            offset: 40,
            anchor: Uuid::now_v7(),
            check: 0xdead_beef,
        };
        let s = c.encode();
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{s}");
        assert_eq!(Cursor::decode(&s, 0xdead_beef).unwrap(), c);
        assert!(Cursor::decode(&s, 0xdead_bee0).is_err(), "another search's cursor");
        for bad in ["", "x", "!!!", &"A".repeat(300), "MS4xLjIuMy40"] {
            assert!(Cursor::decode(bad, 0xdead_beef).is_err(), "{bad}");
        }
        let far = Cursor { offset: MAX_RESULTS + 1, ..c };
        assert!(Cursor::decode(&far.encode(), 0xdead_beef).is_err());
    }

    #[test]
    fn fingerprints_follow_the_terms_and_filters_not_the_spelling() {
        let req = |q: &str| SearchRequest { q: q.into(), ..Default::default() };
        let f = |r: &SearchRequest| fingerprint(&parse(&r.q).unwrap(), r);
        assert_eq!(f(&req("Deploy  friday")), f(&req("deploy friday")));
        assert_ne!(f(&req("deploy friday")), f(&req("deploy fri")));
        let mut with_image = req("deploy friday");
        with_image.has_image = true;
        assert_ne!(f(&with_image), f(&req("deploy friday")));
    }
}
