//! `/api/v1/search`: full-text search over the messages of my conversations
//! ([`crate::service::search`] has the rules).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object, OpenApi, Tags, param::Query, payload::Json};
use uuid::Uuid;

use super::BearerAuth;
use crate::{
    error::Error,
    protocol::views::MessageView,
    service::search::{Found, SearchRequest},
    services::Services,
};

#[derive(Tags)]
enum ApiTags {
    /// Message search
    Search,
}

pub struct SearchApi {
    pub services: Arc<Services>,
}

/// What a message must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
enum Has {
    /// At least one image.
    Image,
}

/// A message found.
#[derive(Object)]
struct SearchResult {
    message: MessageView,
    /// Plain text around the matches (about 24 words, at most 240 characters, `…` where the
    /// body goes on), each match between the characters U+0002 and U+0003. Never HTML:
    /// render the rest as text.
    snippet: String,
}

#[derive(Object)]
struct SearchResults {
    /// Best match first: by rank, then newest.
    results: Vec<SearchResult>,
    /// Pass as `cursor` (with the same query and filters) for the next page; `null` after
    /// the last.
    #[oai(nullable)]
    next_cursor: Option<String>,
}

impl From<Found> for SearchResult {
    fn from(f: Found) -> Self {
        SearchResult { message: f.message, snippet: f.snippet }
    }
}

#[OpenApi(tag = "ApiTags::Search")]
impl SearchApi {
    /// Search the messages of my conversations.
    ///
    /// Every word of `q` must occur (case-insensitive; on SQLite also without diacritics);
    /// `"quoted words"` must occur together, in that order; the last unquoted word of at
    /// least two characters also matches the words it begins. Anything but letters and
    /// digits only separates words: no character is query syntax. Only conversations I am
    /// a member of now are searched. At most 1,000 results per search.
    #[oai(path = "/search", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn search(
        &self,
        auth: BearerAuth,
        /// 1–200 characters, no control characters.
        q: Query<String>,
        /// Only this conversation (`404` unless I am a member).
        conversation_id: Query<Option<Uuid>>,
        /// Only messages this user sent.
        sender_id: Query<Option<Uuid>>,
        /// Only messages sent after this time.
        after: Query<Option<DateTime<Utc>>>,
        /// Only messages sent before this time.
        before: Query<Option<DateTime<Utc>>>,
        /// `image`: only messages with an image.
        has: Query<Option<Has>>,
        /// 1–50, default 20.
        limit: Query<Option<u32>>,
        /// The `next_cursor` of the page before.
        cursor: Query<Option<String>>,
    ) -> Result<Json<SearchResults>, Error> {
        let me = auth.claims(&self.services)?.sub;
        let request = SearchRequest {
            q: q.0,
            conversation_id: conversation_id.0,
            sender_id: sender_id.0,
            after: after.0,
            before: before.0,
            has_image: has.0 == Some(Has::Image),
            limit: limit.0,
            cursor: cursor.0,
        };
        let page = self.services.search.search(me, &request).await?;
        Ok(Json(SearchResults {
            results: page.results.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }
}
