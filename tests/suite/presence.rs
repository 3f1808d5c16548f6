//! Presence between people who come to share a conversation while both are connected (a
//! new direct chat, a new group, members added), and between people who stop sharing one
//! (a member removed). On the cluster scale the second user's socket is on another node
//! (a second server on the same PostgreSQL and Redis), so the introduction crosses nodes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    both_scales,
    common::{Scale, TestApp, Ws, spawn, start, user},
};

/// On the cluster scale, a second node of the same cluster; on the embedded scale, none
/// (there is one node).
async fn second_node(app: &TestApp) -> Option<TestApp> {
    if app.env.scale != Scale::Cluster {
        return None;
    }
    let dir = app.env.dir.path().join("node-b");
    Some(start(app.env.clone(), |c| c.server.data_dir = dir).await)
}

fn is_presence_of(v: &Value, user: &str) -> bool {
    v["type"] == "presence" && v["user_id"] == user
}

async fn presence_of(ws: &mut Ws, user: &str) -> Value {
    ws.wait_for(&format!("presence of {user}"), |v| is_presence_of(v, user)).await
}

async fn a_new_direct_conversation_introduces_both(scale: Scale) {
    let app = spawn(scale).await;
    let node_b = second_node(&app).await;
    let base_b = node_b.as_ref().map_or(app.base.clone(), |n| n.base.clone());
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&base_b, &bob).await;
    assert_eq!(a.ready["presence"], json!([]), "nothing shared yet");

    app.conversation(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let p = presence_of(&mut a, &bob_id).await;
    assert_eq!((p["online"].as_bool(), &p["last_seen"]), (Some(true), &Value::Null), "{p}");
    let p = presence_of(&mut b, &alice_id).await;
    assert_eq!(p["online"], true, "{p}");

    // Later changes reach them without a reconnect.
    drop(b);
    let p = presence_of(&mut a, &bob_id).await;
    assert_eq!(p["online"], false, "{p}");
    assert!(p["last_seen"].is_string(), "{p}");
    if let Some(node) = node_b {
        node.stop().await;
    }
    app.finish().await;
}

async fn members_added_learn_presence_and_removed_ones_stop_hearing(scale: Scale) {
    let app = spawn(scale).await;
    let node_b = second_node(&app).await;
    let base_b = node_b.as_ref().map_or(app.base.clone(), |n| n.base.clone());
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, carol_id) = user(&app, "carol").await;
    let (dave, dave_id) = user(&app, "dave").await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&base_b, &bob).await;

    // A new group: every member learns every other member's presence, offline ones too.
    let group =
        app.conversation(&alice, json!({"kind": "group", "name": "team", "member_ids": [bob_id, carol_id]})).await;
    let gid = group["id"].as_str().unwrap().to_string();
    assert_eq!(presence_of(&mut a, &bob_id).await["online"], true);
    assert_eq!(presence_of(&mut b, &alice_id).await["online"], true);
    let p = presence_of(&mut a, &carol_id).await;
    assert_eq!((p["online"].as_bool(), &p["last_seen"]), (Some(false), &Value::Null), "{p}");
    assert_eq!(presence_of(&mut b, &carol_id).await["online"], false);
    let c = Ws::connect(&base_b, &carol).await;
    assert_eq!(presence_of(&mut a, &carol_id).await["online"], true, "later changes reach the members");
    assert_eq!(presence_of(&mut b, &carol_id).await["online"], true);

    // Dave, connected on the first node and sharing nothing, is added.
    let mut d = Ws::connect(&app.base, &dave).await;
    assert_eq!(d.ready["presence"], json!([]));
    let r =
        app.post_auth(&format!("/api/v1/conversations/{gid}/members"), &alice, json!({"user_ids": [dave_id]})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    for who in [&alice_id, &bob_id, &carol_id] {
        assert_eq!(presence_of(&mut d, who).await["online"], true, "dave learns {who}");
    }
    assert_eq!(presence_of(&mut a, &dave_id).await["online"], true, "the members learn dave");
    assert_eq!(presence_of(&mut b, &dave_id).await["online"], true);

    // Dave is removed: he hears no more of them, and they no more of him.
    let r = app.delete_auth(&format!("/api/v1/conversations/{gid}/members/{dave_id}"), &alice).await;
    assert_eq!(r.status(), 204);
    d.wait_for("conversation.removed", |v| v["type"] == "conversation.removed").await;
    drop(c);
    assert_eq!(presence_of(&mut a, &carol_id).await["online"], false, "the members still hear carol");
    assert_eq!(presence_of(&mut b, &carol_id).await["online"], false);
    let heard = d.collect("presence", Duration::from_millis(700)).await;
    assert_eq!(heard, Vec::<Value>::new(), "a removed member hears nothing more");
    drop(d);
    let heard = a.collect("presence", Duration::from_millis(700)).await;
    assert!(!heard.iter().any(|v| v["user_id"] == dave_id.as_str()), "nor do the members hear him: {heard:?}");
    if let Some(node) = node_b {
        node.stop().await;
    }
    app.finish().await;
}

both_scales!(a_new_direct_conversation_introduces_both, members_added_learn_presence_and_removed_ones_stop_hearing);
