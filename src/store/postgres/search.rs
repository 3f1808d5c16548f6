//! Search on PostgreSQL ([`SearchStore`]): the generated `messages.body_tsv` column and its
//! GIN index, on every partition (`migrations/postgres/0008_search.sql`). One statement:
//! the page of matching messages ranked by `ts_rank_cd()` (cover density, with the length
//! normalisation `1`: longer bodies rank lower), then `ts_headline()` of just that page (it
//! parses each body again).
//!
//! Right after a bulk load, the index's new entries wait in its pending list (`fastupdate`)
//! until a vacuum, and the planner, pricing the index high, scans the partitions instead.
//! Autovacuum clears the list soon after such a load (`docs/benchmarks.md` has both
//! figures).

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder};

use super::PgStore;
use crate::store::{
    SearchHit, SearchQuery, SearchStore, StoreResult, Term,
    search::{Markers, SNIPPET_WORDS},
    sql::{SearchRow, message_columns_of},
};

#[async_trait]
impl SearchStore for PgStore {
    async fn search_messages(&self, query: &SearchQuery, offset: u32, limit: u32) -> StoreResult<Vec<SearchHit>> {
        if query.terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let markers = Markers::new();
        // The query is written out where it is used (not taken from a CTE): as a constant
        // expression the planner estimates its matches and chooses between the GIN index
        // and a scan.
        let mut qb = QueryBuilder::<Postgres>::new("WITH page AS (SELECT ");
        qb.push(message_columns_of("m")).push(", ts_rank_cd(m.body_tsv, ");
        push_tsquery(&mut qb, &query.terms);
        qb.push(", 1) AS score FROM messages m WHERE m.body_tsv @@ (");
        push_tsquery(&mut qb, &query.terms);
        qb.push(") AND m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = ");
        qb.push_bind(query.user).push(")");
        if let Some(c) = query.conversation {
            qb.push(" AND m.conversation_id = ").push_bind(c);
        }
        if let Some(s) = query.sender {
            qb.push(" AND m.sender_id = ").push_bind(s);
        }
        if let Some(t) = query.after {
            qb.push(" AND m.created_at > ").push_bind(t);
        }
        if let Some(t) = query.before {
            qb.push(" AND m.created_at < ").push_bind(t);
        }
        qb.push(" AND m.created_at <= ").push_bind(query.as_of);
        if query.has_image {
            qb.push(" AND m.attachments <> '[]'");
        }
        qb.push(" ORDER BY score DESC, m.created_at DESC, m.id DESC LIMIT ").push_bind(i64::from(limit));
        qb.push(" OFFSET ").push_bind(i64::from(offset));
        qb.push(") SELECT ").push(message_columns_of("page")).push(", ts_headline('simple', page.body, ");
        push_tsquery(&mut qb, &query.terms);
        qb.push(", ").push_bind(headline_options(&markers));
        qb.push(") AS snippet FROM page ORDER BY page.score DESC, page.created_at DESC, page.id DESC");
        let rows: Vec<SearchRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        let mut hits: Vec<SearchHit> = rows
            .into_iter()
            .map(|r| {
                let message: crate::store::Message = r.message.into();
                let snippet = markers.finish(&r.snippet, &message.body, true);
                SearchHit { message, snippet }
            })
            .collect();
        // Replies among the hits carry their quotes, as in history.
        let quoted = self.quoted(hits.iter().map(|h| h.message.clone()).collect()).await?;
        for (hit, message) in hits.iter_mut().zip(quoted) {
            hit.message = message;
        }
        Ok(hits)
    }
}

/// The `tsquery` of `terms`, all of them ANDed (`&&`). The words are bound parameters:
/// a term is `phraseto_tsquery('simple', 'its words')`, which reads its text as words only
/// (no operator); a prefix word is `to_tsquery('simple', '''word'':*')` of its letters and
/// digits alone, so nothing in it is tsquery syntax either.
fn push_tsquery(qb: &mut QueryBuilder<Postgres>, terms: &[Term]) {
    for (i, t) in terms.iter().enumerate() {
        if i > 0 {
            qb.push(" && ");
        }
        let Some((last, first)) = t.words.split_last() else {
            // No word: nothing to require (as FTS5 does with an empty string).
            qb.push("''::tsquery");
            continue;
        };
        let stem: String = last.chars().filter(|c| c.is_alphanumeric()).collect();
        if !t.prefix || stem.is_empty() {
            qb.push("phraseto_tsquery('simple', ").push_bind(t.words.join(" ")).push(")");
            continue;
        }
        let prefix = format!("'{stem}':*");
        if first.is_empty() {
            qb.push("to_tsquery('simple', ").push_bind(prefix).push(")");
        } else {
            qb.push("tsquery_phrase(phraseto_tsquery('simple', ").push_bind(first.join(" "));
            qb.push("), to_tsquery('simple', ").push_bind(prefix).push("))");
        }
    }
}

/// `ts_headline`'s options: the markers, about [`SNIPPET_WORDS`] words around the best
/// match, short words kept.
fn headline_options(m: &Markers) -> String {
    format!(
        "StartSel=\"{}\", StopSel=\"{}\", MaxWords={SNIPPET_WORDS}, MinWords={}, ShortWord=0, MaxFragments=1, \
         FragmentDelimiter=\" … \"",
        m.start,
        m.end,
        SNIPPET_WORDS / 2,
    )
}
