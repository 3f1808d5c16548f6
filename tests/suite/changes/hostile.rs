//! Hostile input to every change, over the WebSocket and REST: a non-member (404),
//! someone else's ids, ids of another conversation, wrong types, oversize values, no
//! token. Each gets its documented error, names its `client_id`, and changes nothing.

use serde_json::{Value, json};

use super::{change, delete, edit, id, pin, react, stored};
use crate::{
    both_scales,
    common::{Scale, Ws, assert_problem, spawn, user},
};

async fn every_change_refuses_outsiders_and_bad_input(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (eve, eve_id) = user(&app, "eve").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let eves = app.conversation_id(&eve, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut e = Ws::connect(&app.base, &eve).await;
    let m = stored(&mut a, &cid, "m1", "private").await;
    let mid = id(&m);
    let in_eves = stored(&mut e, &eves, "x1", "eve's own").await;

    // Eve, not a member: 404 on each, by her conversation's id or by Alice's.
    for event in [
        edit(&cid, &mid, "k1", "pwned"),
        delete(&cid, &mid, "k2"),
        react(&cid, &mid, "k3", "💀", true),
        pin(&cid, &mid, "k4", true),
        // A message of Alice's conversation named under Eve's own: no such message there.
        edit(&eves, &mid, "k5", "pwned"),
        delete(&eves, &mid, "k6"),
        react(&eves, &mid, "k7", "💀", true),
        pin(&eves, &mid, "k8", true),
    ] {
        let client_id = event["client_id"].as_str().unwrap().to_string();
        let err = change(&mut e, event).await;
        assert_eq!((err["type"].as_str(), err["code"].as_str()), (Some("error"), Some("not_found")), "{err}");
        assert_eq!(err["client_id"], client_id.as_str());
    }
    // Alice, a member, naming Eve's message under her own conversation: not found either.
    let err = change(&mut a, react(&cid, &id(&in_eves), "k9", "👍", true)).await;
    assert_eq!(err["code"], "not_found");
    let err = change(&mut a, delete(&cid, &uuid::Uuid::now_v7().to_string(), "k10")).await;
    assert_eq!(err["code"], "not_found");

    // Wrong types and shapes: `invalid_event`, with the client_id when it had one.
    for (frame, client_id) in [
        (
            json!({"type": "message.edit", "client_id": "t1", "conversation_id": cid, "message_id": 5, "body": "x"}),
            "t1",
        ),
        (json!({"type": "message.edit", "client_id": "t2", "conversation_id": cid, "message_id": mid}), "t2"),
        (json!({"type": "message.delete", "client_id": "t3", "conversation_id": "nope", "message_id": mid}), "t3"),
        (
            json!({"type": "reaction.set", "client_id": "t4", "conversation_id": cid, "message_id": mid, "emoji": "👍",
                "on": "yes"}),
            "t4",
        ),
        (
            json!({"type": "reaction.set", "client_id": "t5", "conversation_id": cid, "message_id": mid, "emoji": ["👍"],
                "on": true}),
            "t5",
        ),
        (json!({"type": "message.pin", "client_id": "t6", "conversation_id": cid, "message_id": mid}), "t6"),
    ] {
        a.send(frame).await;
        let err = a.wait_for("error", |v| v["type"] == "error" && v["client_id"] == client_id).await;
        assert_eq!(err["code"], "invalid_event", "{err}");
    }
    // Oversize: an emoji of 1,000 bytes; a client_id too long or not ASCII.
    let err = change(&mut a, react(&cid, &mid, "o1", &"👍".repeat(250), true)).await;
    assert_eq!(err["code"], "validation_failed");
    a.send(edit(&cid, &mid, &"k".repeat(65), "x")).await;
    let err = a.wait_for("error", |v| v["type"] == "error" && v["code"] == "validation_failed").await;
    assert!(err["message"].as_str().unwrap().contains("client_id"), "{err}");

    // REST: the same rules.
    let base = format!("/api/v1/conversations/{cid}/messages/{mid}");
    let eve_paths = [
        (reqwest::Method::PATCH, base.clone(), Some(json!({"body": "pwned"}))),
        (reqwest::Method::DELETE, base.clone(), None),
        (reqwest::Method::PUT, format!("{base}/reactions/%F0%9F%92%80"), None),
        (reqwest::Method::DELETE, format!("{base}/reactions/%F0%9F%92%80"), None),
        (reqwest::Method::PUT, format!("{base}/pin"), None),
        (reqwest::Method::DELETE, format!("{base}/pin"), None),
        (reqwest::Method::GET, format!("{base}/versions"), None),
        (reqwest::Method::GET, format!("/api/v1/conversations/{cid}/pins"), None),
        (reqwest::Method::GET, format!("/api/v1/conversations/{cid}/changes"), None),
    ];
    for (method, path, body) in &eve_paths {
        let r = app.request_auth(method.clone(), path, &eve, body.clone()).await;
        assert_problem(r, 404, "not_found").await;
        // No token: 401.
        let r = app.http.request(method.clone(), app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
    }
    for body in [json!({"body": 5}), json!({}), json!({"body": "x", "extra": 1}), json!("text")] {
        let r = app.patch_auth(&base, &alice, body.clone()).await;
        assert_eq!(r.status(), 400, "{body}");
    }
    let r = app.patch_auth(&base, &alice, json!({"body": "x".repeat(4001)})).await;
    assert_problem(r, 400, "validation_failed").await;
    let r = app.patch_auth(&base, &alice, json!({"body": "ok"})).await;
    assert_eq!(r.status(), 200);
    let r = app
        .request_auth(
            reqwest::Method::PATCH,
            "/api/v1/conversations/nope/messages/x",
            &alice,
            Some(json!({"body": "x"})),
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = app.request_auth(reqwest::Method::PUT, &format!("{base}/reactions/notanemoji"), &alice, None).await;
    assert_problem(r, 400, "validation_failed").await;

    // Nothing of it stuck: one change (Alice's REST edit), no reaction, no pin.
    let history = app.history(&bob, &cid, "").await;
    let m: &Value = &history[0];
    assert_eq!((m["body"].clone(), m["change_seq"].clone()), (json!("ok"), json!(1)));
    assert_eq!((m["reactions"].clone(), m["pinned_at"].clone()), (json!([]), Value::Null));
    let _ = eve_id;
    app.finish().await;
}

both_scales!(every_change_refuses_outsiders_and_bad_input);
