//! Message search (`GET /api/v1/search`) on both scales: words, prefixes and phrases,
//! ranking, snippets, every filter and paging here; who may find what, edits and deletes,
//! and hostile input in `access.rs`. Most messages are written through the store with
//! chosen times (as the retention suite does); the first test sends over the gateway, so
//! the index is seen to follow the real pipeline.

mod access;

use chrono::{DateTime, Duration, Utc};
use nexus::store::{Attachment, NewMessage, Persisted};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    attachments::upload,
    both_scales,
    common::{Scale, TestApp, Ws, assert_problem, spawn, user},
};

/// `GET /api/v1/search` with `params` as `token`.
pub async fn get(app: &TestApp, token: &str, params: &[(&str, &str)]) -> reqwest::Response {
    app.http.get(app.url("/api/v1/search")).bearer_auth(token).query(params).send().await.expect("request")
}

/// A search that must succeed; the page.
pub async fn search(app: &TestApp, token: &str, params: &[(&str, &str)]) -> Value {
    let r = get(app, token, params).await;
    let status = r.status();
    let body: Value = r.json().await.expect("a JSON page");
    assert_eq!(status, 200, "{params:?}: {body}");
    body
}

/// The bodies of a page's results, in order.
pub fn bodies(page: &Value) -> Vec<String> {
    page["results"].as_array().unwrap().iter().map(|r| r["message"]["body"].as_str().unwrap().to_string()).collect()
}

pub fn ids(page: &Value) -> Vec<String> {
    page["results"].as_array().unwrap().iter().map(|r| r["message"]["id"].as_str().unwrap().to_string()).collect()
}

pub fn uuid(s: &str) -> Uuid {
    s.parse().unwrap()
}

/// Store a message as if `sender` had sent it at `at`, with the uploads `images` attached;
/// its id.
pub async fn put(
    app: &TestApp,
    conversation: &str,
    sender: &str,
    body: &str,
    at: DateTime<Utc>,
    images: &[Uuid],
) -> Uuid {
    let store = &app.services.store;
    let (id, conversation, sender) = (Uuid::now_v7(), uuid(conversation), uuid(sender));
    let attached = store.attach_uploads(images, sender, id, conversation).await.unwrap();
    assert_eq!(attached.len(), images.len());
    let m = NewMessage {
        id,
        body: body.into(),
        attachments: attached.iter().map(Attachment::from).collect(),
        ..crate::store::new_message(conversation, sender, &format!("put-{id}"), at)
    };
    let out = store.persist_batch(&[m]).await.unwrap();
    assert!(matches!(out.results[0], Persisted::Stored(_)), "{:?}", out.results[0]);
    id
}

async fn finds_words_prefixes_and_phrases_with_marked_snippets(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let dm = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut ws = Ws::connect(&app.base, &alice).await;
    for (i, body) in [
        "Deploy the release on Friday",
        "Friday lunch: tacos?",
        "The café is closed, Привет МИР",
        "if a < b & c > d: friday",
    ]
    .iter()
    .enumerate()
    {
        let client_id = format!("c{i}");
        assert_eq!(ws.send_message(&dm, &client_id, body).await["type"], "message.ack");
        ws.wait_for("stored", |v| v["type"] == "message.new" && v["message"]["client_id"] == client_id.as_str()).await;
    }

    // A word, any case; every word must occur; a prefix of the last one.
    let page = search(&app, &bob, &[("q", "FRIDAY")]).await;
    assert_eq!(page["results"].as_array().unwrap().len(), 3, "{page}");
    assert_eq!(bodies(&search(&app, &bob, &[("q", "friday release")]).await), ["Deploy the release on Friday"]);
    assert_eq!(bodies(&search(&app, &bob, &[("q", "depl")]).await), ["Deploy the release on Friday"]);
    assert_eq!(bodies(&search(&app, &bob, &[("q", "tac")]).await), ["Friday lunch: tacos?"]);
    assert!(bodies(&search(&app, &bob, &[("q", "tac lunch")]).await).is_empty(), "only the last word is a prefix");
    assert!(bodies(&search(&app, &bob, &[("q", "\"tac\"")]).await).is_empty(), "a quoted word is whole");
    assert!(bodies(&search(&app, &bob, &[("q", "deploy tuesday")]).await).is_empty());
    // Phrases: together and in order.
    assert_eq!(bodies(&search(&app, &bob, &[("q", "\"release on friday\"")]).await), ["Deploy the release on Friday"]);
    assert!(bodies(&search(&app, &bob, &[("q", "\"friday release\"")]).await).is_empty());
    // Letters beyond ASCII; upper and lower case.
    assert_eq!(bodies(&search(&app, &bob, &[("q", "мир привет")]).await), ["The café is closed, Привет МИР"]);
    assert_eq!(bodies(&search(&app, &bob, &[("q", "café")]).await), ["The café is closed, Привет МИР"]);

    // The snippet: the body as plain text, each match between U+0002 and U+0003; HTML in
    // the body stays text.
    let page = search(&app, &bob, &[("q", "release friday")]).await;
    assert_eq!(page["results"][0]["snippet"], "Deploy the \u{2}release\u{3} on \u{2}Friday\u{3}");
    let page = search(&app, &bob, &[("q", "friday")]).await;
    let code = page["results"].as_array().unwrap().iter().find(|r| r["message"]["body"] == "if a < b & c > d: friday");
    assert_eq!(code.expect("found")["snippet"], "if a < b & c > d: \u{2}friday\u{3}");
    let page = search(&app, &bob, &[("q", "clo")]).await;
    assert_eq!(page["results"][0]["snippet"], "The café is \u{2}closed\u{3}, Привет МИР");

    // The message is the one history shows (the same view), and the page fits the spec.
    let history = app.history(&bob, &dm, "").await;
    let page = search(&app, &bob, &[("q", "tacos")]).await;
    assert_eq!(page["results"][0]["message"], history[1]);
    assert!(page["next_cursor"].is_null());
    let spec: Value = app.http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut violations = Vec::new();
    let schema = crate::schema::response_schema(&spec, "get", "/search", 200);
    crate::schema::conformance(&spec, schema, &page, "/search", &mut violations);
    assert!(violations.is_empty(), "{violations:?}");
    app.finish().await;
}

both_scales!(finds_words_prefixes_and_phrases_with_marked_snippets);

async fn long_bodies_give_short_snippets_around_the_match(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let group = app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": []})).await;
    let filler = |n: usize| (0..n).map(|i| format!("filler{i}")).collect::<Vec<_>>().join(" ");
    let body = format!("{} the needle is here {}", filler(60), filler(60));
    put(&app, &group, &alice_id, &body, Utc::now() - Duration::minutes(1), &[]).await;
    // A body holding the marker characters itself: they are not taken for markers.
    put(&app, &group, &alice_id, "odd \u{2}marker\u{3} text", Utc::now() - Duration::minutes(1), &[]).await;

    let page = search(&app, &alice, &[("q", "needle")]).await;
    let snippet = page["results"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("\u{2}needle\u{3}"), "{snippet}");
    assert!(snippet.starts_with('…') && snippet.ends_with('…'), "{snippet}");
    let words = snippet.split_whitespace().count();
    assert!((8..=30).contains(&words), "{words} words: {snippet}");
    let page = search(&app, &alice, &[("q", "text")]).await;
    assert_eq!(page["results"][0]["snippet"], "odd marker \u{2}text\u{3}");
    assert_eq!(page["results"][0]["message"]["body"], "odd \u{2}marker\u{3} text", "the message is as stored");
    app.finish().await;
}

both_scales!(long_bodies_give_short_snippets_around_the_match);

async fn ranked_by_relevance_then_newest(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let group = app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": []})).await;
    let t0 = Utc::now() - Duration::hours(1);
    let long = "rust came up in a long message about many other things that go on and on for a while";
    put(&app, &group, &alice_id, "rust", t0, &[]).await;
    put(&app, &group, &alice_id, "rust rust rust", t0 + Duration::minutes(1), &[]).await;
    put(&app, &group, &alice_id, long, t0 + Duration::minutes(2), &[]).await;
    put(&app, &group, &alice_id, "Rust", t0 + Duration::minutes(3), &[]).await;
    put(&app, &group, &alice_id, "nothing to see", t0 + Duration::minutes(4), &[]).await;

    // More occurrences first (older though); a short body before a long one; equal rank:
    // the newer first.
    let page = search(&app, &alice, &[("q", "rust")]).await;
    assert_eq!(bodies(&page), ["rust rust rust", "Rust", "rust", long]);
    app.finish().await;
}

both_scales!(ranked_by_relevance_then_newest);

async fn every_filter_narrows(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (_, carol_id) = user(&app, "carol").await;
    let dm = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let group = app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": [bob_id]})).await;
    let other = app.conversation_id(&bob, json!({"kind": "direct", "user_id": carol_id})).await;
    let image = upload(&app, &alice, 8, 8).await;
    let t0 = Utc::now() - Duration::days(10);
    put(&app, &dm, &alice_id, "report one", t0, &[]).await;
    put(&app, &dm, &bob_id, "report two", t0 + Duration::days(1), &[]).await;
    put(&app, &group, &alice_id, "report three", t0 + Duration::days(2), &[uuid(image["id"].as_str().unwrap())]).await;
    put(&app, &group, &bob_id, "report four", t0 + Duration::days(3), &[]).await;
    put(&app, &other, &bob_id, "report five", t0 + Duration::days(4), &[]).await;

    let found = |page: Value| {
        let mut b = bodies(&page);
        b.sort();
        b
    };
    let at = |days: i64| (t0 + Duration::days(days) - Duration::hours(1)).to_rfc3339();
    let (d1, d3) = (at(1), at(3));
    assert_eq!(
        found(search(&app, &alice, &[("q", "report")]).await),
        ["report four", "report one", "report three", "report two"]
    );
    assert_eq!(
        found(search(&app, &alice, &[("q", "report"), ("conversation_id", &dm)]).await),
        ["report one", "report two"]
    );
    assert_eq!(
        found(search(&app, &alice, &[("q", "report"), ("sender_id", &bob_id)]).await),
        ["report four", "report two"]
    );
    assert_eq!(
        found(search(&app, &alice, &[("q", "report"), ("after", &d1)]).await),
        ["report four", "report three", "report two"]
    );
    assert_eq!(found(search(&app, &alice, &[("q", "report"), ("before", &d1)]).await), ["report one"]);
    assert_eq!(
        found(search(&app, &alice, &[("q", "report"), ("after", &d1), ("before", &d3)]).await),
        ["report three", "report two"]
    );
    let page = search(&app, &alice, &[("q", "report"), ("has", "image")]).await;
    assert_eq!(bodies(&page), ["report three"]);
    // Its image's links are signed, as in history, and they load.
    let url = page["results"][0]["message"]["attachments"][0]["thumbnail"]["url"].as_str().unwrap();
    assert!(url.contains("sig="), "{url}");
    assert_eq!(app.http.get(app.url(url)).send().await.unwrap().status(), 200);
    // Together, and with the filters of bob, who also sees the conversation with carol.
    let both = [("q", "report"), ("conversation_id", group.as_str()), ("sender_id", bob_id.as_str())];
    assert_eq!(found(search(&app, &alice, &both).await), ["report four"]);
    assert_eq!(found(search(&app, &bob, &[("q", "report"), ("after", &at(4))]).await), ["report five"]);
    // Filtering by a conversation I am not in: as if it did not exist.
    assert_problem(get(&app, &alice, &[("q", "report"), ("conversation_id", &other)]).await, 404, "not_found").await;
    let nowhere = Uuid::now_v7().to_string();
    assert_problem(get(&app, &alice, &[("q", "report"), ("conversation_id", &nowhere)]).await, 404, "not_found").await;
    // An empty range is a mistake.
    assert_problem(
        get(&app, &alice, &[("q", "report"), ("after", &d3), ("before", &d1)]).await,
        400,
        "validation_failed",
    )
    .await;
    app.finish().await;
}

both_scales!(every_filter_narrows);

async fn pages_follow_without_repeats(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let group = app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": []})).await;
    // 45 matches, many of equal rank (the same text), some ranked higher.
    let t0 = Utc::now() - Duration::hours(2);
    let mut all = Vec::new();
    for i in 0..45 {
        let body = if i % 5 == 0 { "status status update".to_string() } else { format!("status {}", i % 3) };
        all.push(put(&app, &group, &alice_id, &body, t0 + Duration::seconds(i), &[]).await.to_string());
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    for page_no in 0..10 {
        let mut params = vec![("q", "status"), ("limit", "10")];
        if let Some(c) = &cursor {
            params.push(("cursor", c.as_str()));
        }
        let page = search(&app, &alice, &params).await;
        seen.extend(ids(&page));
        if page_no == 1 {
            // Meanwhile: a new match (newer than the search: left out of its later pages) and
            // one already shown is edited away (the rest move up one place).
            put(&app, &group, &alice_id, "status new", Utc::now(), &[]).await;
            access::set_body(&app, &seen[3], "gone").await;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no result twice");
    all.sort();
    assert_eq!(unique, all, "every match once, none left out");

    // A cursor belongs to its search: another query, or another filter, refuses it.
    let first = search(&app, &alice, &[("q", "status"), ("limit", "10")]).await;
    let c = first["next_cursor"].as_str().unwrap();
    assert_problem(get(&app, &alice, &[("q", "update"), ("cursor", c)]).await, 400, "validation_failed").await;
    assert_problem(
        get(&app, &alice, &[("q", "status"), ("has", "image"), ("cursor", c)]).await,
        400,
        "validation_failed",
    )
    .await;
    // The same search with another page size takes it.
    assert_eq!(
        search(&app, &alice, &[("q", "STATUS"), ("limit", "5"), ("cursor", c)]).await["results"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // Default and largest pages.
    assert_eq!(search(&app, &alice, &[("q", "status")]).await["results"].as_array().unwrap().len(), 20);
    assert_eq!(
        search(&app, &alice, &[("q", "status"), ("limit", "50")]).await["results"].as_array().unwrap().len(),
        45
    );
    app.finish().await;
}

both_scales!(pages_follow_without_repeats);
