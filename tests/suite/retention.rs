//! Message retention on both scales, with a moved clock: messages written through the
//! store with old timestamps, then the job's one step run at `now`. What is past retention
//! goes (with the image only it carried, its file included), and the edges stay right: a
//! conversation emptied by it still lists, with no last message; unread counts count only
//! what exists; a new message takes the next `seq`; `/metrics` counts the removed ones.

use chrono::{Duration, Utc};
use nexus::store::{Attachment, NewMessage, Persisted};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    attachments::upload,
    both_scales,
    common::{Scale, TestApp, Ws, spawn_with, user},
};

/// Store a message as if sent at `at`, with `uploads` (ids) attached.
async fn old_message(
    app: &TestApp,
    conversation: Uuid,
    sender: Uuid,
    body: &str,
    at: chrono::DateTime<Utc>,
    uploads: &[Uuid],
) {
    let store = &app.services.store;
    let id = Uuid::now_v7();
    let attached = store.attach_uploads(uploads, sender, id, conversation).await.unwrap();
    assert_eq!(attached.len(), uploads.len());
    let m = NewMessage {
        id,
        body: body.into(),
        attachments: attached.iter().map(Attachment::from).collect(),
        ..crate::store::new_message(conversation, sender, &format!("old-{body}"), at)
    };
    let out = store.persist_batch(&[m]).await.unwrap();
    assert!(matches!(out.results[0], Persisted::Stored(_)), "{:?}", out.results[0]);
}

async fn list(app: &TestApp, token: &str) -> Vec<Value> {
    app.get_auth("/api/v1/conversations", token).await.json().await.unwrap()
}

fn uuid(v: &Value) -> Uuid {
    v.as_str().unwrap().parse().unwrap()
}

async fn retention_removes_old_messages_and_keeps_the_edges_right(scale: Scale) {
    let app = spawn_with(scale, |c| c.messages.retention_days = 30).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (alice_id, bob_id) = (uuid(&json!(alice_id)), uuid(&json!(bob_id)));
    let dm = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let grp = app.conversation_id(&alice, json!({"kind": "group", "name": "old", "member_ids": [bob_id]})).await;
    let (dm_id, grp_id) = (uuid(&json!(dm)), uuid(&json!(grp)));

    // 100 days ago (on PostgreSQL a whole month before the cutoff): an image only it
    // carries, and one whose bytes a recent message shares.
    let long_ago = Utc::now() - Duration::days(100);
    let (alone, twin, fresh) =
        (upload(&app, &alice, 31, 17).await, upload(&app, &alice, 23, 29).await, upload(&app, &alice, 23, 29).await);
    let ids = |v: &[&Value]| v.iter().map(|u| uuid(&u["id"])).collect::<Vec<_>>();
    old_message(&app, dm_id, alice_id, "old 1", long_ago, &ids(&[&alone, &twin])).await;
    old_message(&app, dm_id, bob_id, "old 2", long_ago + Duration::minutes(1), &[]).await;
    old_message(&app, grp_id, bob_id, "old group", long_ago, &[]).await;
    // Now: two messages in the direct chat, one with the twin's bytes.
    let mut a = Ws::connect(&app.base, &alice).await;
    a.send(json!({"type": "message.send", "client_id": "n1", "conversation_id": dm, "body": "new 1",
                  "attachments": [fresh["id"]]}))
        .await;
    a.wait_for("n1 stored", |v| v["type"] == "message.new" && v["message"]["client_id"] == "n1").await;
    a.send_message(&dm, "n2", "new 2").await;
    a.wait_for("n2 stored", |v| v["type"] == "message.new" && v["message"]["client_id"] == "n2").await;
    assert_eq!(app.history(&bob, &dm, "").await.len(), 4);
    let alone_url = app.history(&bob, &dm, "").await[0]["attachments"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(app.http.get(app.url(&alone_url)).send().await.unwrap().status(), 200);
    let stored = |id: &Value| {
        let store = app.services.store.clone();
        let id = uuid(id);
        async move { store.upload(id).await.unwrap() }
    };
    let alone_key = stored(&alone["id"]).await.unwrap().storage_key;
    let media = app.env.data_dir().join("media");
    let folder = media.join(&alone_key[..2]).join(&alone_key[2..4]).join(&alone_key);
    assert!(folder.is_dir(), "{}", folder.display());

    let removed = nexus::jobs::retention_step(&app.services, Utc::now()).await.unwrap().expect("this node runs it");
    assert_eq!(removed.messages, 3, "{removed:?}");
    assert_eq!(removed.uploads, 2);

    // History keeps the recent ones with their seqs; the image only the old one carried is
    // gone, file and all; the shared bytes stay for the recent message.
    let history = app.history(&bob, &dm, "").await;
    let kept: Vec<(i64, &str)> =
        history.iter().map(|m| (m["seq"].as_i64().unwrap(), m["body"].as_str().unwrap())).collect();
    assert_eq!(kept, vec![(3, "new 1"), (4, "new 2")]);
    assert!(app.history(&bob, &grp, "").await.is_empty());
    assert_eq!(app.http.get(app.url(&alone_url)).send().await.unwrap().status(), 404);
    assert!(!folder.exists(), "the files of an image no message carries are deleted");
    assert!(stored(&twin["id"]).await.is_none());
    let fresh_url = history[0]["attachments"][0]["url"].as_str().unwrap();
    assert_eq!(app.http.get(app.url(fresh_url)).send().await.unwrap().status(), 200, "shared bytes stay");

    // The list: both conversations, the emptied one with no last message; bob has read
    // nothing, and only what exists counts as unread.
    let conversations = list(&app, &bob).await;
    let by_id = |id: &str| conversations.iter().find(|c| c["id"] == id).cloned().expect("still listed");
    let (d, g) = (by_id(&dm), by_id(&grp));
    assert_eq!((d["unread_count"].as_i64(), d["last_message"]["body"].as_str()), (Some(2), Some("new 2")));
    assert_eq!((g["unread_count"].as_i64(), g["last_message"].is_null()), (Some(0), true), "{g}");
    assert_eq!(g["last_seq"], 1, "the counter is not lowered");

    // A new message in the emptied group takes the next seq, and counts as unread once.
    let ack = a.send_message(&grp, "g2", "after").await;
    assert_eq!(ack["type"], "message.ack");
    let new = a.wait_for("g2", |v| v["type"] == "message.new" && v["message"]["client_id"] == "g2").await;
    assert_eq!(new["message"]["seq"], 2);
    let g = list(&app, &bob).await.into_iter().find(|c| c["id"] == grp.as_str()).unwrap();
    assert_eq!((g["unread_count"].as_i64(), g["last_message"]["body"].as_str()), (Some(1), Some("after")));

    // Nothing more is due; the metric counts what went.
    assert_eq!(nexus::jobs::retention_step(&app.services, Utc::now()).await.unwrap().unwrap().messages, 0);
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("\nnexus_messages_retention_removed_total 3\n"), "{metrics}");
    app.finish().await;
}

async fn retention_off_keeps_everything(scale: Scale) {
    let app = spawn_with(scale, |_| {}).await;
    assert_eq!(app.services.config.messages.retention_days, 0, "keeping forever is the default");
    let (alice, alice_id) = user(&app, "alice").await;
    let (_, bob_id) = user(&app, "bob").await;
    let dm = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    old_message(&app, uuid(&json!(dm)), uuid(&json!(alice_id)), "ancient", Utc::now() - Duration::days(3650), &[])
        .await;
    let removed = nexus::jobs::retention_step(&app.services, Utc::now()).await.unwrap().unwrap();
    assert_eq!(removed.messages, 0);
    assert_eq!(app.history(&alice, &dm, "").await.len(), 1);
    app.finish().await;
}

both_scales!(retention_removes_old_messages_and_keeps_the_edges_right, retention_off_keeps_everything);
