//! Changes to messages, on both scales: replies, edits with their history, deletes,
//! reactions, pins and mentions — live on every device, in history, in the change log a
//! reconnecting client catches up with — and the hostile side of each (non-members,
//! someone else's message, deleted messages, bad ids and types, oversize bodies).

mod hostile;
mod log;

use serde_json::{Value, json};

use crate::{
    both_scales,
    common::{Scale, TestApp, Ws, assert_problem, spawn, spawn_with, user},
};

/// Send a change event and wait for its `change.ack` or `error`.
pub(super) async fn change(ws: &mut Ws, event: Value) -> Value {
    let client_id = event["client_id"].as_str().expect("a change names its client_id").to_string();
    ws.send(event).await;
    ws.wait_for("change.ack or error", |v| {
        (v["type"] == "change.ack" || v["type"] == "error") && v["client_id"] == client_id.as_str()
    })
    .await
}

pub(super) fn edit(conversation: &str, message: &str, client_id: &str, body: &str) -> Value {
    json!({"type": "message.edit", "client_id": client_id, "conversation_id": conversation, "message_id": message, "body": body})
}

pub(super) fn delete(conversation: &str, message: &str, client_id: &str) -> Value {
    json!({"type": "message.delete", "client_id": client_id, "conversation_id": conversation, "message_id": message})
}

pub(super) fn react(conversation: &str, message: &str, client_id: &str, emoji: &str, on: bool) -> Value {
    json!({"type": "reaction.set", "client_id": client_id, "conversation_id": conversation, "message_id": message,
           "emoji": emoji, "on": on})
}

pub(super) fn pin(conversation: &str, message: &str, client_id: &str, pinned: bool) -> Value {
    json!({"type": "message.pin", "client_id": client_id, "conversation_id": conversation, "message_id": message,
           "pinned": pinned})
}

/// Send `body` and wait until it is stored (its `message.new` on the sender's socket);
/// returns the stored message.
pub(super) async fn stored(ws: &mut Ws, conversation: &str, client_id: &str, body: &str) -> Value {
    let ack = ws.send_message(conversation, client_id, body).await;
    assert_eq!(ack["type"], "message.ack", "{ack}");
    ws.wait_for("message.new", |v| v["type"] == "message.new" && v["message"]["client_id"] == client_id).await
        ["message"]
        .clone()
}

pub(super) fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

async fn replies_quote_their_original_as_it_is_now(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    let original = stored(&mut a, &cid, "o1", "\n  Dinner at eight?  \nsecond line").await;

    b.send(json!({"type": "message.send", "client_id": "r1", "conversation_id": cid, "body": "yes!",
                  "reply_to": id(&original)}))
        .await;
    let ack = b.wait_for("ack", |v| v["client_id"] == "r1").await;
    assert_eq!(ack["type"], "message.ack", "{ack}");
    let reply_id = ack["id"].clone();
    let new = a.wait_for("the reply", |v| v["type"] == "message.new" && v["message"]["client_id"] == "r1").await;
    let quote = &new["message"]["reply_to"];
    assert_eq!(quote["id"], original["id"]);
    assert_eq!(quote["seq"], 1);
    assert_eq!(quote["sender_id"], alice_id);
    assert_eq!(quote["snippet"], "Dinner at eight?", "the first line that is not blank");
    assert_eq!(quote["deleted"], false);
    // A long first line is cut at 140 characters.
    let long = stored(&mut a, &cid, "o2", &"é".repeat(300)).await;
    let r = app
        .post_auth(
            &format!("/api/v1/conversations/{cid}/messages"),
            &bob,
            json!({"body": "over REST", "reply_to": id(&long)}),
        )
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let new = a.wait_for("REST reply", |v| v["type"] == "message.new" && v["message"]["body"] == "over REST").await;
    assert_eq!(new["message"]["reply_to"]["snippet"].as_str().unwrap().chars().count(), 140);

    // History shows the original as it is now: edited, then deleted.
    let ack = change(&mut a, edit(&cid, &id(&original), "e1", "Dinner at nine?")).await;
    assert_eq!(ack["type"], "change.ack", "{ack}");
    let history = app.history(&bob, &cid, "").await;
    assert_eq!(history[1]["reply_to"]["snippet"], "Dinner at nine?");
    assert_eq!(history[0]["reply_to"], Value::Null, "not a reply");
    assert_eq!(change(&mut a, delete(&cid, &id(&original), "d1")).await["type"], "change.ack");
    // A retry of the reply sent before is still answered with its ack.
    b.send(json!({"type": "message.send", "client_id": "r1", "conversation_id": cid, "body": "yes!",
                  "reply_to": id(&original)}))
        .await;
    let again = b.wait_for("the retry's ack", |v| v["client_id"] == "r1").await;
    assert_eq!((again["type"].as_str(), again["id"].clone()), (Some("message.ack"), reply_id), "{again}");
    let history = app.history(&bob, &cid, "").await;
    assert_eq!(history[1]["reply_to"]["deleted"], true);
    assert_eq!(history[1]["reply_to"]["snippet"], "");
    assert_eq!(history[1]["reply_to"]["id"], original["id"]);

    // Refused: a deleted original, one of another conversation, one that does not exist.
    let (carol, carol_id) = user(&app, "carol").await;
    let other = app.conversation_id(&alice, json!({"kind": "direct", "user_id": carol_id})).await;
    let elsewhere = stored(&mut a, &other, "x1", "not yours, bob").await;
    for (reply_to, code) in [
        (id(&original), "message_deleted"),
        (id(&elsewhere), "not_found"),
        (uuid::Uuid::now_v7().to_string(), "not_found"),
    ] {
        b.send(json!({"type": "message.send", "client_id": "bad", "conversation_id": cid, "body": "?",
                      "reply_to": reply_to}))
            .await;
        let err = b.wait_for("error", |v| v["type"] == "error" && v["client_id"] == "bad").await;
        assert_eq!(err["code"], code, "{err}");
    }
    b.send(json!({"type": "message.send", "client_id": "bad2", "conversation_id": cid, "body": "?", "reply_to": 7}))
        .await;
    let err = b.wait_for("error", |v| v["type"] == "error" && v["client_id"] == "bad2").await;
    assert_eq!(err["code"], "invalid_event");
    let r = app
        .post_auth(
            &format!("/api/v1/conversations/{cid}/messages"),
            &bob,
            json!({"body": "x", "reply_to": id(&elsewhere)}),
        )
        .await;
    assert_problem(r, 404, "not_found").await;
    drop(carol);
    app.finish().await;
}

async fn edits_keep_their_history_and_reach_every_device(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b1 = Ws::connect(&app.base, &bob).await;
    let mut b2 = Ws::connect(&app.base, &bob).await;
    let m = stored(&mut a, &cid, "m1", "helo").await;
    let mid = id(&m);
    assert_eq!((m["change_seq"].clone(), m["edited_at"].clone()), (json!(0), Value::Null));

    let ack = change(&mut a, edit(&cid, &mid, "e1", "hello")).await;
    assert_eq!(ack["type"], "change.ack", "{ack}");
    assert_eq!(ack["message"]["body"], "hello");
    assert_eq!(ack["message"]["change_seq"], 1);
    assert_eq!(ack["message"]["seq"], 1, "an edit keeps the message's place");
    assert!(ack["message"]["edited_at"].is_string());
    for ws in [&mut b1, &mut b2, &mut a] {
        let ev = ws.wait_for("message.updated", |v| v["type"] == "message.updated").await;
        assert_eq!((ev["change"].clone(), ev["by"].clone()), (json!("edited"), json!(alice_id)));
        assert_eq!(ev["message"]["body"], "hello");
        assert_eq!(ev["message"]["change_seq"], 1);
    }
    // A retry of the same edit changes nothing more; a second edit is the next change.
    let again = change(&mut a, edit(&cid, &mid, "e1", "hello")).await;
    assert_eq!(again["message"]["change_seq"], 1, "{again}");
    let ack = change(&mut a, edit(&cid, &mid, "e2", "hello, world")).await;
    assert_eq!(ack["message"]["change_seq"], 2);
    // Also over REST, with Idempotency-Key as the edit's client_id (a retry: no change).
    let path = format!("/api/v1/conversations/{cid}/messages/{mid}");
    let rest = |key: &'static str, body: &'static str| {
        app.http.patch(app.url(&path)).bearer_auth(&alice).header("Idempotency-Key", key).json(&json!({"body": body}))
    };
    let r = rest("e3", "hello, world!").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["change_seq"], 3);
    let r = rest("e3", "hello, world!").send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["change_seq"], 3);

    // Every body, oldest first, the current one last; members only.
    let versions: Vec<Value> = app.get_auth(&format!("{path}/versions"), &bob).await.json().await.unwrap();
    let bodies: Vec<&str> = versions.iter().map(|v| v["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["helo", "hello", "hello, world", "hello, world!"]);
    assert_eq!(versions.iter().map(|v| v["version"].as_i64().unwrap()).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert!(versions[0]["replaced_at"].is_string() && versions[3]["replaced_at"].is_null());
    assert_eq!(versions[1]["created_at"], versions[0]["replaced_at"]);
    let history = app.history(&bob, &cid, "").await;
    assert_eq!(history[0]["body"], "hello, world!");
    assert_eq!(history[0]["change_seq"], 3);

    // Not the author: 403. Empty or oversize: refused, nothing stored.
    let err = change(&mut b1, edit(&cid, &mid, "b1", "mine now")).await;
    assert_eq!(err["code"], "forbidden", "{err}");
    assert_problem(app.patch_auth(&path, &bob, json!({"body": "mine"})).await, 403, "forbidden").await;
    for body in ["", "  \n ", &"x".repeat(4001), "nul\0"] {
        let err = change(&mut a, edit(&cid, &mid, "bad", body)).await;
        assert_eq!(err["code"], "validation_failed", "{body:?}: {err}");
    }
    assert_eq!(app.history(&bob, &cid, "").await[0]["change_seq"], 3);
    app.finish().await;
}

async fn the_edit_and_delete_windows_hold(scale: Scale) {
    let app = spawn_with(scale, |c| {
        c.messages.edit_window_secs = 1;
        c.messages.delete_window_secs = 1;
    })
    .await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let gid = app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": [bob_id]})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    let m = stored(&mut b, &gid, "m1", "soon old").await;
    let other = stored(&mut b, &gid, "m2", "also old").await;
    assert_eq!(change(&mut b, edit(&gid, &id(&m), "e0", "still new")).await["type"], "change.ack");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(change(&mut b, edit(&gid, &id(&m), "e1", "too late")).await["code"], "edit_window_passed");
    assert_eq!(change(&mut b, delete(&gid, &id(&m), "d1")).await["code"], "delete_window_passed");
    // A group admin deletes any message, at any time.
    let ack = change(&mut a, delete(&gid, &id(&other), "d2")).await;
    assert_eq!(ack["type"], "change.ack", "{ack}");
    assert!(ack["message"]["deleted_at"].is_string());
    app.finish().await;
}

async fn deletes_leave_a_tombstone_in_order(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, carol_id) = user(&app, "carol").await;
    let gid =
        app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": [bob_id, carol_id]})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    let mut c = Ws::connect(&app.base, &carol).await;
    // With an image and a reaction, pinned: all of it goes. The same picture in another
    // message (one stored file for both) stays.
    let image = crate::attachments::upload(&app, &bob, 64, 48).await;
    let twin = crate::attachments::upload(&app, &bob, 64, 48).await;
    b.send(json!({"type": "message.send", "client_id": "twin", "conversation_id": gid, "body": "",
                  "attachments": [id(&twin)]}))
        .await;
    let kept = b.wait_for("stored", |v| v["type"] == "message.new" && v["message"]["client_id"] == "twin").await
        ["message"]["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    b.send(json!({"type": "message.send", "client_id": "pic", "conversation_id": gid, "body": "look",
                  "attachments": [id(&image)]}))
        .await;
    let m = b.wait_for("stored", |v| v["type"] == "message.new" && v["message"]["client_id"] == "pic").await["message"]
        .clone();
    let url = m["attachments"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(app.http.get(app.url(&url)).send().await.unwrap().status(), 200);
    assert_eq!(change(&mut c, react(&gid, &id(&m), "r1", "🎉", true)).await["type"], "change.ack");
    assert_eq!(change(&mut a, pin(&gid, &id(&m), "p1", true)).await["type"], "change.ack");
    let after = stored(&mut a, &gid, "next", "after it").await;

    // Carol may not delete Bob's message; Bob may.
    assert_eq!(change(&mut c, delete(&gid, &id(&m), "cd")).await["code"], "forbidden");
    let ack = change(&mut b, delete(&gid, &id(&m), "bd")).await;
    assert_eq!(ack["type"], "change.ack", "{ack}");
    for ws in [&mut a, &mut c] {
        let ev = ws.wait_for("message.deleted", |v| v["type"] == "message.deleted").await;
        let t = &ev["message"];
        assert_eq!(ev["by"], bob_id);
        assert_eq!(
            (t["body"].clone(), t["attachments"].clone(), t["reactions"].clone()),
            (json!(""), json!([]), json!([]))
        );
        assert!(t["deleted_at"].is_string() && t["pinned_at"].is_null());
        assert_eq!(t["deleted_by"], bob_id);
    }
    // In order, in its place; the image is gone; the pin too.
    let history = app.history(&carol, &gid, "").await;
    assert_eq!(history.iter().map(|m| m["seq"].as_i64().unwrap()).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert!(history[1]["deleted_at"].is_string());
    assert_eq!(history[2]["id"], after["id"]);
    assert_eq!(app.http.get(app.url(&url)).send().await.unwrap().status(), 404, "the image is removed");
    assert_eq!(app.http.get(app.url(&kept)).send().await.unwrap().status(), 200, "its twin is not");
    let pins: Vec<Value> =
        app.get_auth(&format!("/api/v1/conversations/{gid}/pins"), &carol).await.json().await.unwrap();
    assert!(pins.is_empty());
    let versions: Vec<Value> = app
        .get_auth(&format!("/api/v1/conversations/{gid}/messages/{}/versions", id(&m)), &carol)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(versions.len(), 1, "no history is kept of a deleted message");
    assert_eq!(versions[0]["body"], "");

    // Nothing more happens to a deleted message; deleting it again answers the tombstone.
    assert_eq!(change(&mut b, edit(&gid, &id(&m), "e", "back")).await["code"], "message_deleted");
    assert_eq!(change(&mut c, react(&gid, &id(&m), "r2", "👍", true)).await["code"], "message_deleted");
    assert_eq!(change(&mut a, pin(&gid, &id(&m), "p2", true)).await["code"], "message_deleted");
    let again = change(&mut b, delete(&gid, &id(&m), "bd2")).await;
    assert_eq!(again["message"]["change_seq"], ack["message"]["change_seq"]);
    // The group admin deletes anyone's; over REST too.
    let carols = stored(&mut c, &gid, "c1", "oops").await;
    let r = app.delete_auth(&format!("/api/v1/conversations/{gid}/messages/{}", id(&carols)), &alice).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["deleted_by"], alice_id);
    // In a direct chat, only the author.
    let dm = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mine = stored(&mut a, &dm, "dm1", "private").await;
    assert_eq!(change(&mut b, delete(&dm, &id(&mine), "x")).await["code"], "forbidden");
    app.finish().await;
}

async fn reactions_toggle_aggregate_and_are_capped(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    let m = stored(&mut a, &cid, "m1", "party?").await;
    let mid = id(&m);

    let ack = change(&mut a, react(&cid, &mid, "r1", "👍", true)).await;
    assert_eq!(ack["message"]["reactions"], json!([{"emoji": "👍", "count": 1, "user_ids": [alice_id]}]));
    let ev = b.wait_for("message.reaction", |v| v["type"] == "message.reaction").await;
    assert_eq!((ev["emoji"].clone(), ev["on"].clone(), ev["by"].clone()), (json!("👍"), json!(true), json!(alice_id)));
    let ack = change(&mut b, react(&cid, &mid, "r2", "👍", true)).await;
    assert_eq!(ack["message"]["reactions"][0]["count"], 2);
    assert_eq!(ack["message"]["reactions"][0]["user_ids"], json!([alice_id, bob_id]));
    let seq = ack["message"]["change_seq"].clone();
    // Already on: nothing changes, and nobody is told.
    let same = change(&mut b, react(&cid, &mid, "r3", "👍", true)).await;
    assert_eq!(same["message"]["change_seq"], seq);
    // A skin tone is its own reaction; REST with the emoji URL-encoded.
    let path = format!("/api/v1/conversations/{cid}/messages/{mid}/reactions/%F0%9F%91%8D%F0%9F%8F%BD");
    let r = app.request_auth(reqwest::Method::PUT, &path, &alice, None).await;
    assert_eq!(r.status(), 200);
    let now: Value = r.json().await.unwrap();
    assert_eq!(now["reactions"].as_array().unwrap().len(), 2);
    let r = app.request_auth(reqwest::Method::DELETE, &path, &alice, None).await;
    assert_eq!(r.json::<Value>().await.unwrap()["reactions"].as_array().unwrap().len(), 1);
    // Off again: the count drops; the last one off removes the emoji.
    change(&mut a, react(&cid, &mid, "r4", "👍", false)).await;
    let ack = change(&mut b, react(&cid, &mid, "r5", "👍", false)).await;
    assert_eq!(ack["message"]["reactions"], json!([]));
    let off = b.wait_for("off", |v| v["type"] == "message.reaction" && v["on"] == false).await;
    assert_eq!(off["by"], alice_id);

    // Not an emoji.
    for bad in ["a", "", "👍👍", ":+1:", "<b>"] {
        let err = change(&mut a, react(&cid, &mid, "bad", bad, true)).await;
        assert_eq!(err["code"], "validation_failed", "{bad:?}: {err}");
    }
    // At most 20 distinct.
    let twenty = [
        "😀", "😂", "😍", "😎", "😭", "😡", "👍", "👎", "👏", "🙏", "🔥", "🎉", "❤️", "💯", "🤔", "😴", "🤯", "🥳",
        "😇", "🙈",
    ];
    for (i, e) in twenty.iter().enumerate() {
        let r = app
            .request_auth(
                reqwest::Method::PUT,
                &format!(
                    "/api/v1/conversations/{cid}/messages/{mid}/reactions/{}",
                    url::form_urlencoded::byte_serialize(e.as_bytes()).collect::<String>()
                ),
                if i % 2 == 0 { &alice } else { &bob },
                None,
            )
            .await;
        assert_eq!(r.status(), 200, "{e}");
    }
    let err = change(&mut a, react(&cid, &mid, "r21", "🦄", true)).await;
    assert_eq!(err["code"], "too_many_reactions", "{err}");
    // One already there can still be added to.
    let ack = change(&mut a, react(&cid, &mid, "r22", "😂", true)).await;
    assert_eq!(ack["message"]["reactions"][1]["count"], 2);
    let history = app.history(&bob, &cid, "").await;
    assert_eq!(history[0]["reactions"].as_array().unwrap().len(), 20);
    app.finish().await;
}

async fn pins_by_admins_or_either_member_of_a_direct_chat(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let gid = app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": [bob_id]})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    let first = stored(&mut b, &gid, "m1", "the plan").await;
    let second = stored(&mut a, &gid, "m2", "the address").await;
    assert_eq!(change(&mut b, pin(&gid, &id(&first), "bp", true)).await["code"], "forbidden");
    let ack = change(&mut a, pin(&gid, &id(&first), "p1", true)).await;
    assert_eq!(ack["message"]["pinned_by"], alice_id);
    let ev = b.wait_for("pinned", |v| v["type"] == "message.updated" && v["change"] == "pinned").await;
    assert_eq!(ev["message"]["id"], first["id"]);
    let r = app
        .request_auth(
            reqwest::Method::PUT,
            &format!("/api/v1/conversations/{gid}/messages/{}/pin", id(&second)),
            &alice,
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let pins: Vec<Value> = app.get_auth(&format!("/api/v1/conversations/{gid}/pins"), &bob).await.json().await.unwrap();
    assert_eq!(pins.iter().map(id).collect::<Vec<_>>(), vec![id(&second), id(&first)], "newest pin first");
    // Pinning again changes nothing; unpinning tells everyone.
    let same = change(&mut a, pin(&gid, &id(&first), "p2", true)).await;
    assert_eq!(same["message"]["change_seq"], ack["message"]["change_seq"]);
    change(&mut a, pin(&gid, &id(&first), "p3", false)).await;
    b.wait_for("unpinned", |v| v["type"] == "message.updated" && v["change"] == "unpinned").await;
    let pins: Vec<Value> = app.get_auth(&format!("/api/v1/conversations/{gid}/pins"), &bob).await.json().await.unwrap();
    assert_eq!(pins.iter().map(id).collect::<Vec<_>>(), vec![id(&second)]);
    // Direct chat: either member.
    let dm = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let m = stored(&mut a, &dm, "d1", "pin me").await;
    assert_eq!(change(&mut b, pin(&dm, &id(&m), "bp2", true)).await["message"]["pinned_by"], bob_id);
    app.finish().await;
}

async fn mentions_resolve_to_members_and_count_until_read(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, carol_id) = user(&app, "carol").await;
    let (_dave, _) = user(&app, "dave").await;
    let gid =
        app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": [bob_id, carol_id]})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let m = stored(&mut a, &gid, "m1", "hi @Bob, @dave is not here, @nobody either; mail bob@example.org").await;
    assert_eq!(m["mentions"], json!([bob_id]));
    stored(&mut a, &gid, "m2", "@bob @carol lunch?").await;
    stored(&mut a, &gid, "m3", "no mention").await;
    let count = |list: &Vec<Value>| list.iter().find(|c| c["id"] == gid.as_str()).unwrap()["mention_count"].clone();
    let list: Vec<Value> = app.get_auth("/api/v1/conversations", &bob).await.json().await.unwrap();
    assert_eq!((count(&list), list[0]["unread_count"].clone()), (json!(2), json!(3)));
    let list: Vec<Value> = app.get_auth("/api/v1/conversations", &carol).await.json().await.unwrap();
    assert_eq!(count(&list), 1);
    // Reading past the first mention leaves one; reading all leaves none.
    let read_path = format!("/api/v1/conversations/{gid}/read");
    let read = |seq: i64| app.post_auth(&read_path, &bob, json!({"seq": seq}));
    assert_eq!(read(1).await.status(), 204);
    let list: Vec<Value> = app.get_auth("/api/v1/conversations", &bob).await.json().await.unwrap();
    assert_eq!(count(&list), 1);
    assert_eq!(read(3).await.status(), 204);
    let list: Vec<Value> = app.get_auth("/api/v1/conversations", &bob).await.json().await.unwrap();
    assert_eq!(count(&list), 0);
    // A deleted message's mention no longer counts.
    let m4 = stored(&mut a, &gid, "m4", "@carol again").await;
    change(&mut a, delete(&gid, &id(&m4), "d4")).await;
    let list: Vec<Value> = app.get_auth("/api/v1/conversations", &carol).await.json().await.unwrap();
    assert_eq!(count(&list), 1);
    app.finish().await;
}

/// `GET …/messages?around_seq=` centres a page on a message (a reply's original or a
/// search hit).
async fn history_around_a_seq(scale: Scale) {
    let app: TestApp = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (_, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    for i in 1..=9 {
        stored(&mut a, &cid, &format!("m{i}"), &format!("n{i}")).await;
    }
    let seqs = |page: Vec<Value>| page.iter().map(|m| m["seq"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(seqs(app.history(&alice, &cid, "around_seq=5&limit=4").await), vec![3, 4, 5, 6]);
    assert_eq!(seqs(app.history(&alice, &cid, "around_seq=1&limit=4").await), vec![1, 2, 3, 4]);
    assert_eq!(seqs(app.history(&alice, &cid, "around_seq=9&limit=5").await), vec![7, 8, 9]);
    let path = format!("/api/v1/conversations/{cid}/messages");
    for q in ["around_seq=0", "around_seq=-4", "around_seq=2&before_seq=5", "around_seq=x", "around_seq=3&limit=0"] {
        let r = app.get_auth(&format!("{path}?{q}"), &alice).await;
        assert_eq!(r.status(), 400, "{q}");
    }
    app.finish().await;
}

both_scales!(
    replies_quote_their_original_as_it_is_now,
    edits_keep_their_history_and_reach_every_device,
    the_edit_and_delete_windows_hold,
    deletes_leave_a_tombstone_in_order,
    reactions_toggle_aggregate_and_are_capped,
    pins_by_admins_or_either_member_of_a_direct_chat,
    mentions_resolve_to_members_and_count_until_read,
    history_around_a_seq,
);
