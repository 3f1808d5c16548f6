//! The change log: changes of one conversation are numbered without gaps in the order they
//! commit, racing edits included, and a client that missed some (offline, or a lost
//! event) catches up exactly with `GET …/changes?after=`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{change, delete, edit, id, pin, react, stored};
use crate::{
    both_scales,
    common::{Scale, Ws, assert_problem, spawn, user},
};

async fn racing_edits_are_numbered_in_commit_order(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a1 = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    let m = stored(&mut a1, &cid, "m1", "v0").await;
    let mid = id(&m);
    let other = stored(&mut a1, &cid, "m2", "bystander").await;

    // Two devices of Alice edit, and Bob reacts, all at once.
    let mut a2 = Ws::connect(&app.base, &alice).await;
    for i in 0..8 {
        let ws = if i % 2 == 0 { &mut a1 } else { &mut a2 };
        ws.send(edit(&cid, &mid, &format!("e{i}"), &format!("v{}", i + 1))).await;
    }
    b.send(react(&cid, &id(&other), "rb", "👀", true)).await;
    let mut acks = Vec::new();
    for i in 0..8 {
        let ws = if i % 2 == 0 { &mut a1 } else { &mut a2 };
        let client_id = format!("e{i}");
        let ack = ws.wait_for("ack", |v| v["client_id"] == client_id.as_str()).await;
        assert_eq!(ack["type"], "change.ack", "{ack}");
        acks.push(ack);
    }
    b.wait_for("ack", |v| v["client_id"] == "rb").await;

    // Every change has its own number, 1 to 9 without a gap.
    let mut seen: BTreeMap<i64, Value> = BTreeMap::new();
    for _ in 0..9 {
        let ev =
            b.wait_for("change event", |v| v["type"] == "message.updated" || v["type"] == "message.reaction").await;
        let n = ev["message"]["change_seq"].as_i64().unwrap();
        assert!(seen.insert(n, ev).is_none(), "change {n} twice");
    }
    assert_eq!(seen.keys().copied().collect::<Vec<_>>(), (1..=9).collect::<Vec<_>>());
    // The body stored is the last edit to commit, and each ack's number is its commit's.
    let last_edit = seen.values().rev().find(|e| e["message"]["id"] == mid.as_str()).unwrap();
    let history = app.history(&bob, &cid, "").await;
    assert_eq!(history[0]["body"], last_edit["message"]["body"]);
    for ack in &acks {
        let n = ack["message"]["change_seq"].as_i64().unwrap();
        assert_eq!(seen[&n]["message"]["body"], ack["message"]["body"]);
    }
    // Each edit kept the body it replaced: 8 earlier versions and the current one.
    let versions: Vec<Value> =
        app.get_auth(&format!("/api/v1/conversations/{cid}/messages/{mid}/versions"), &bob).await.json().await.unwrap();
    assert_eq!(versions.len(), 9);
    assert_eq!(versions[0]["body"], "v0");
    let mut bodies: Vec<&str> = versions.iter().map(|v| v["body"].as_str().unwrap()).collect();
    bodies.sort_unstable();
    assert_eq!(bodies, (0..=8).map(|i| format!("v{i}")).collect::<Vec<_>>());
    app.finish().await;
}

async fn catch_up_after_a_reconnect_delivers_every_missed_change(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let gid = app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": [bob_id]})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let msgs: Vec<Value> = {
        let mut v = Vec::new();
        for i in 1..=4 {
            v.push(stored(&mut a, &gid, &format!("m{i}"), &format!("message {i}")).await);
        }
        v
    };
    let list: Vec<Value> = app.get_auth("/api/v1/conversations", &bob).await.json().await.unwrap();
    assert_eq!(list[0]["last_change_seq"], 0);
    // Bob sees one change live, then goes offline.
    let mut b = Ws::connect(&app.base, &bob).await;
    change(&mut a, edit(&gid, &id(&msgs[0]), "e1", "message one")).await;
    let live = b.wait_for("live", |v| v["type"] == "message.updated").await;
    let held = live["message"]["change_seq"].as_i64().unwrap();
    drop(b);

    // While he is away: an edit of an old message, a delete, a reaction, a pin, and a
    // second edit of the first message.
    change(&mut a, edit(&gid, &id(&msgs[1]), "e2", "message two, edited")).await;
    change(&mut a, delete(&gid, &id(&msgs[2]), "d3")).await;
    change(&mut a, react(&gid, &id(&msgs[3]), "r4", "🔥", true)).await;
    change(&mut a, pin(&gid, &id(&msgs[3]), "p4", true)).await;
    change(&mut a, edit(&gid, &id(&msgs[0]), "e5", "message one, again")).await;

    // The list tells him he is behind; the log after what he held has exactly the four
    // messages changed since, each once, as they are now, in change order.
    let list: Vec<Value> = app.get_auth("/api/v1/conversations", &bob).await.json().await.unwrap();
    assert_eq!(list[0]["last_change_seq"], 6);
    let path = format!("/api/v1/conversations/{gid}/changes");
    let log: Value = app.get_auth(&format!("{path}?after={held}"), &bob).await.json().await.unwrap();
    assert_eq!(log["last_change_seq"], 6);
    let got: Vec<(String, i64)> = log["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["body"].as_str().unwrap().to_string(), m["change_seq"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("message two, edited".to_string(), 2),
            ("".to_string(), 3),
            ("message 4".to_string(), 5),
            ("message one, again".to_string(), 6),
        ]
    );
    let fourth = &log["messages"][2];
    assert_eq!(fourth["reactions"][0]["emoji"], "🔥");
    assert!(fourth["pinned_at"].is_string());
    assert!(log["messages"][1]["deleted_at"].is_string());
    // Paging: one at a time, with the highest change_seq received as the next `after`.
    let mut after = held;
    let mut paged = Vec::new();
    loop {
        let page: Value = app.get_auth(&format!("{path}?after={after}&limit=1"), &bob).await.json().await.unwrap();
        let list = page["messages"].as_array().unwrap();
        if list.is_empty() {
            break;
        }
        after = list[0]["change_seq"].as_i64().unwrap();
        paged.push(list[0]["id"].clone());
    }
    assert_eq!(paged.len(), 4);
    assert_eq!(after, 6);
    // Caught up: nothing after the last.
    let log: Value = app.get_auth(&format!("{path}?after=6"), &bob).await.json().await.unwrap();
    assert_eq!(log["messages"], json!([]));
    // History returns the same current state.
    let history = app.history(&bob, &gid, "").await;
    assert_eq!(history[0]["body"], "message one, again");
    assert!(history[2]["deleted_at"].is_string());

    // Hostile: members only, sane bounds.
    let (carol, _) = user(&app, "carol").await;
    assert_problem(app.get_auth(&path, &carol).await, 404, "not_found").await;
    for q in ["after=-1", "limit=0", "limit=501", "after=x", "limit=-3"] {
        let r = app.get_auth(&format!("{path}?{q}"), &bob).await;
        assert_eq!(r.status(), 400, "{q}");
    }
    let r = app.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    app.finish().await;
}

async fn a_removed_member_reads_no_more_changes(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let gid = app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": [bob_id]})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    let m = stored(&mut a, &gid, "m1", "hello").await;
    assert_eq!(app.delete_auth(&format!("/api/v1/conversations/{gid}/members/{bob_id}"), &alice).await.status(), 204);
    b.wait_for("removed", |v| v["type"] == "conversation.removed").await;
    change(&mut a, edit(&gid, &id(&m), "e1", "secret now")).await;
    assert!(b.collect("message.updated", std::time::Duration::from_millis(500)).await.is_empty());
    for path in [
        format!("/api/v1/conversations/{gid}/changes"),
        format!("/api/v1/conversations/{gid}/pins"),
        format!("/api/v1/conversations/{gid}/messages/{}/versions", id(&m)),
    ] {
        assert_problem(app.get_auth(&path, &bob).await, 404, "not_found").await;
    }
    let err = change(&mut b, react(&gid, &id(&m), "r", "👍", true)).await;
    assert_eq!(err["code"], "not_found");
    app.finish().await;
}

/// Search follows changes made through the change events: an edit is found by its new
/// words and no longer by its old ones, a deleted message not at all.
async fn search_sees_edits_and_deletes(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let m = stored(&mut a, &cid, "m1", "the pelican arrives").await;
    let other = stored(&mut a, &cid, "m2", "the heron leaves").await;
    let found = |q: &'static str| {
        let (app, bob) = (&app, &bob);
        async move {
            let page = crate::search::search(app, bob, &[("q", q)]).await;
            page["results"].as_array().unwrap().iter().map(|r| r["message"]["id"].clone()).collect::<Vec<_>>()
        }
    };
    assert_eq!(found("pelican").await, vec![m["id"].clone()]);
    change(&mut a, edit(&cid, &id(&m), "e1", "the albatross arrives")).await;
    assert!(found("pelican").await.is_empty(), "the old words are gone");
    assert_eq!(found("albatross").await, vec![m["id"].clone()]);
    change(&mut a, delete(&cid, &id(&other), "d1")).await;
    assert!(found("heron").await.is_empty(), "a deleted message is not found");
    assert_eq!(found("arrives").await, vec![m["id"].clone()]);
    app.finish().await;
}

both_scales!(
    search_sees_edits_and_deletes,
    racing_edits_are_numbered_in_commit_order,
    catch_up_after_a_reconnect_delivers_every_missed_change,
    a_removed_member_reads_no_more_changes,
);
