//! Who finds what: members of a conversation now, and nobody else; the index follows the
//! stored body (an edit, a delete's empty body, a removed row); hostile queries and
//! parameters are answered as documented, never with a server error.

use chrono::{Duration, Utc};
use serde_json::json;

use super::{bodies, get, put, search};
use crate::{
    both_scales,
    common::{Scale, TestApp, assert_problem, spawn, spawn_with, user},
};

/// `id`'s row as the database holds it, for raw SQL on either scale.
fn row(app: &TestApp, id: &str) -> String {
    match app.env.scale {
        Scale::Embedded => format!("X'{}'", uuid::Uuid::parse_str(id).unwrap().simple()),
        Scale::Cluster => format!("'{id}'"),
    }
}

/// Change a stored body behind the server's back, as an edit (or a delete: `""`) does.
pub async fn set_body(app: &TestApp, id: &str, body: &str) {
    assert!(!body.contains('\''));
    app.sql(&format!("UPDATE messages SET body = '{body}' WHERE id = {}", row(app, id))).await;
}

async fn members_now_find_and_nobody_else(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, carol_id) = user(&app, "carol").await;
    let (dave, _) = user(&app, "dave").await;
    let group =
        app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": [bob_id, carol_id]})).await;
    let dm = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let at = Utc::now() - Duration::minutes(5);
    put(&app, &group, &bob_id, "the launch plan is ready", at, &[]).await;
    put(&app, &dm, &alice_id, "launch between us", at, &[]).await;

    assert_eq!(bodies(&search(&app, &carol, &[("q", "launch")]).await), ["the launch plan is ready"]);
    assert_eq!(bodies(&search(&app, &bob, &[("q", "launch")]).await).len(), 2);
    // Dave shares no conversation: nothing, whatever he asks.
    assert!(bodies(&search(&app, &dave, &[("q", "launch")]).await).is_empty());
    assert!(bodies(&search(&app, &dave, &[("q", "launch"), ("sender_id", &bob_id)]).await).is_empty());
    assert_problem(get(&app, &dave, &[("q", "launch"), ("conversation_id", &group)]).await, 404, "not_found").await;

    // Carol is removed: the group's messages are no longer hers to find.
    let r = app.delete_auth(&format!("/api/v1/conversations/{group}/members/{carol_id}"), &alice).await;
    assert_eq!(r.status(), 204);
    assert!(bodies(&search(&app, &carol, &[("q", "launch")]).await).is_empty());
    assert!(bodies(&search(&app, &carol, &[("q", "plan")]).await).is_empty());
    assert_problem(get(&app, &carol, &[("q", "launch"), ("conversation_id", &group)]).await, 404, "not_found").await;
    // Bob leaves on his own: the same.
    assert_eq!(app.delete_auth(&format!("/api/v1/conversations/{group}/members/{bob_id}"), &bob).await.status(), 204);
    assert_eq!(bodies(&search(&app, &bob, &[("q", "launch")]).await), ["launch between us"]);
    // Added again, carol finds them again: membership is read at each search.
    let r =
        app.post_auth(&format!("/api/v1/conversations/{group}/members"), &alice, json!({"user_ids": [carol_id]})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(bodies(&search(&app, &carol, &[("q", "launch")]).await), ["the launch plan is ready"]);
    app.finish().await;
}

both_scales!(members_now_find_and_nobody_else);

async fn the_index_follows_the_stored_body(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let group = app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": []})).await;
    let at = Utc::now() - Duration::minutes(5);
    let removed = put(&app, &group, &alice_id, "expired notes", at, &[]).await.to_string();
    let edited = put(&app, &group, &alice_id, "meet at the harbour", at, &[]).await.to_string();
    let deleted = put(&app, &group, &alice_id, "burn after reading", at, &[]).await.to_string();
    assert_eq!(bodies(&search(&app, &alice, &[("q", "harbour")]).await), ["meet at the harbour"]);

    // An edit: found by its new words, no longer by its old ones.
    set_body(&app, &edited, "meet at the station").await;
    assert!(bodies(&search(&app, &alice, &[("q", "harbour")]).await).is_empty());
    assert!(bodies(&search(&app, &alice, &[("q", "\"meet at the harbour\"")]).await).is_empty());
    let page = search(&app, &alice, &[("q", "station")]).await;
    assert_eq!(bodies(&page), ["meet at the station"]);
    assert_eq!(page["results"][0]["snippet"], "meet at the \u{2}station\u{3}");
    // A delete leaves an empty body: found by nothing.
    set_body(&app, &deleted, "").await;
    assert!(bodies(&search(&app, &alice, &[("q", "burn")]).await).is_empty());
    assert!(bodies(&search(&app, &alice, &[("q", "reading")]).await).is_empty());
    // A row removed (retention): gone from the index.
    app.sql(&format!("DELETE FROM messages WHERE id = {}", row(&app, &removed))).await;
    assert!(bodies(&search(&app, &alice, &[("q", "expired")]).await).is_empty());
    // What is left is still found, and found once.
    assert_eq!(bodies(&search(&app, &alice, &[("q", "meet")]).await), ["meet at the station"]);
    if scale == Scale::Embedded {
        // The external-content index agrees with its table, row for row; also in a copy
        // made as `nexus backup` makes it (VACUUM INTO keeps the rowids the index is keyed
        // by, gaps included: a row was just removed).
        app.sql("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").await;
        let copy = app.env.dir.path().join("copy.db");
        app.sql(&format!("VACUUM INTO '{}'", copy.display())).await;
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", copy.display())).await.unwrap();
        sqlx::query("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
            .execute(&pool)
            .await
            .expect("the copy's index agrees with its table");
        let (body,): (String,) = sqlx::query_as(
            "SELECT m.body FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid \
             WHERE messages_fts MATCH 'station'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(body, "meet at the station");
        pool.close().await;
    }
    app.finish().await;
}

both_scales!(the_index_follows_the_stored_body);

async fn a_reply_is_found_with_its_quote_as_history_shows_it(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let group = app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": [bob_id]})).await;
    let original =
        put(&app, &group, &alice_id, "lunch at the harbour", Utc::now() - Duration::minutes(5), &[]).await.to_string();
    let mut ws = crate::common::Ws::connect(&app.base, &bob).await;
    ws.send(json!({"type": "message.send", "client_id": "r1", "conversation_id": group,
                   "body": "see you at the harbour", "reply_to": original}))
        .await;
    ws.wait_for("stored", |v| v["type"] == "message.new" && v["message"]["client_id"] == "r1").await;
    // The original edited afterwards: the quote follows it, in search as in history.
    let r = app
        .patch_auth(
            &format!("/api/v1/conversations/{group}/messages/{original}"),
            &alice,
            json!({"body": "lunch at the harbour, 12:30"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let page = search(&app, &alice, &[("q", "harbour")]).await;
    assert_eq!(bodies(&page).len(), 2, "{page}");
    let history = app.history(&alice, &group, "").await;
    for hit in page["results"].as_array().unwrap() {
        let shown = history.iter().find(|m| m["id"] == hit["message"]["id"]).expect("in history");
        assert_eq!(&hit["message"], shown, "a hit is the message as history shows it");
    }
    let reply = page["results"].as_array().unwrap().iter().find(|h| h["message"]["client_id"] == "r1").unwrap();
    assert_eq!(reply["message"]["reply_to"]["id"], original.as_str(), "{reply}");
    assert_eq!(reply["message"]["reply_to"]["snippet"], "lunch at the harbour, 12:30", "{reply}");
    app.finish().await;
}

both_scales!(a_reply_is_found_with_its_quote_as_history_shows_it);

async fn hostile_queries_are_answered_not_failed(scale: Scale) {
    // Many queries in a row: the per-user search rate is raised (it has its own test).
    let app = spawn_with(scale, |c| {
        c.messages.search_per_sec = 1000;
        c.messages.search_burst = 1000;
    })
    .await;
    let (alice, alice_id) = user(&app, "alice").await;
    let group = app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": []})).await;
    let at = Utc::now() - Duration::minutes(5);
    put(&app, &group, &alice_id, "stand NEAR the door OR the window - not * here", at, &[]).await;
    put(&app, &group, &alice_id, "quote \" and col:umn ^caret", at, &[]).await;

    // FTS5 and tsquery syntax is only separators: never an error, the words are words.
    for (q, found) in [
        ("\"", 0),
        ("*", 0),
        ("-", 0),
        ("NEAR(", 1),
        ("NEAR(door", 1),
        ("near/2", 0),
        ("OR", 1),
        ("door OR", 1),
        ("door OR kitchen", 0),
        ("-door", 1),
        ("door -window", 1),
        ("NOT window", 1),
        ("door AND", 0),
        ("\"door", 1),
        ("door\"", 1),
        ("\"\"\"", 0),
        ("col:umn", 1),
        ("body:door", 0),
        ("^caret", 1),
        ("{door}", 1),
        ("(door) & (window) | !x", 0),
        ("door:*", 1),
        ("'door'", 1),
        ("\\", 0),
        ("d'); DROP TABLE messages; --", 0),
        ("%", 0),
        ("_", 0),
        ("\u{202e}door", 1),
        ("🦀 door", 1),
    ] {
        let page = search(&app, &alice, &[("q", q)]).await;
        assert_eq!(bodies(&page).len(), found, "q = {q:?}: {page}");
    }
    let q200 = format!("door {}", "x".repeat(195));
    assert!(bodies(&search(&app, &alice, &[("q", &q200)]).await).is_empty());
    assert!(bodies(&search(&app, &alice, &[("q", &"é".repeat(200))]).await).is_empty());

    // Refused: empty, blank, too long, control characters, too many words.
    let invalid = |q: String| {
        let app = &app;
        let alice = &alice;
        async move { assert_problem(get(app, alice, &[("q", &q)]).await, 400, "validation_failed").await }
    };
    for q in [
        String::new(),
        "   ".into(),
        "x".repeat(201),
        format!("door {}", "y".repeat(196)),
        "do\0or".into(),
        "\0".into(),
        "door\u{1b}".into(),
        (0..17).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" "),
    ] {
        invalid(q).await;
    }
    // Parameters that are not what they say: refused before anything runs.
    let s = |v: &str| v.to_string();
    for params in [
        vec![],
        vec![("limit", s("20"))],
        vec![("q", s("door")), ("limit", s("abc"))],
        vec![("q", s("door")), ("limit", s("-1"))],
        vec![("q", s("door")), ("limit", s("99999999999999999999"))],
        vec![("q", s("door")), ("conversation_id", s("zzz"))],
        vec![("q", s("door")), ("sender_id", s("1"))],
        vec![("q", s("door")), ("after", s("yesterday"))],
        vec![("q", s("door")), ("before", s("2026-13-45"))],
        vec![("q", s("door")), ("has", s("video"))],
    ] {
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_problem(get(&app, &alice, &params).await, 400, "invalid_request").await;
    }
    for (k, v) in [("limit", "0"), ("limit", "51"), ("cursor", "garbage"), ("cursor", ""), ("cursor", "MS4yLjMuNC41")] {
        assert_problem(get(&app, &alice, &[("q", "door"), (k, v)]).await, 400, "validation_failed").await;
    }
    let cursor = "A".repeat(5000);
    assert_problem(get(&app, &alice, &[("q", "door"), ("cursor", &cursor)]).await, 400, "validation_failed").await;
    // Bytes that are not UTF-8 arrive as U+FFFD: no word.
    let r = app.http.get(app.url("/api/v1/search?q=%FF%FE")).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // Without a valid token: 401, whatever the query.
    let r = app.http.get(app.url("/api/v1/search?q=door")).send().await.unwrap();
    assert_problem(r, 401, "unauthorized").await;
    let r = app.http.get(app.url("/api/v1/search?q=door")).bearer_auth("not-a-token").send().await.unwrap();
    assert_problem(r, 401, "unauthorized").await;
    let r = app.http.get(app.url("/api/v1/search?q=%00")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Still serving.
    assert_eq!(bodies(&search(&app, &alice, &[("q", "door")]).await).len(), 1);
    app.finish().await;
}

both_scales!(hostile_queries_are_answered_not_failed);

/// A user's searches are rate limited on every device and node together; others are not
/// held back by it.
async fn searches_are_rate_limited_per_user(scale: Scale) {
    let app = spawn_with(scale, |c| {
        c.messages.search_per_sec = 1;
        c.messages.search_burst = 3;
    })
    .await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, _) = user(&app, "bob").await;
    for _ in 0..3 {
        search(&app, &alice, &[("q", "anything")]).await;
    }
    let problem = assert_problem(get(&app, &alice, &[("q", "anything")]).await, 429, "rate_limited").await;
    assert!(problem["retry_after_ms"].as_u64().is_some_and(|ms| ms > 0 && ms <= 1000), "{problem}");
    search(&app, &bob, &[("q", "anything")]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    search(&app, &alice, &[("q", "anything")]).await;
    app.finish().await;
}

both_scales!(searches_are_rate_limited_per_user);
