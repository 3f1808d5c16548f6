//! Images in messages, on both scales: uploads attached to `message.send` (and the REST
//! post) reach every member with signed links, stay in history, and keep the pipeline's
//! promises (ack once durable, idempotent by `client_id`); someone else's upload, an
//! unknown one, one attached already, too many or repeated ones are refused, and a refused
//! message leaves its uploads free.

use serde_json::{Value, json};

use crate::{
    both_scales,
    common::{Scale, TestApp, Ws, assert_problem, spawn, user},
};

pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 3) as u8, (y * 5) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Upload a `w`×`h` image as `token`; returns the attachment.
pub async fn upload(app: &TestApp, token: &str, w: u32, h: u32) -> Value {
    let part = reqwest::multipart::Part::bytes(png(w, h)).file_name("p.png").mime_str("image/png").unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    let r = app.http.post(app.url("/api/v1/uploads")).bearer_auth(token).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

async fn send(ws: &mut Ws, conversation: &str, client_id: &str, body: &str, attachments: Value) -> Value {
    ws.send(json!({"type": "message.send", "client_id": client_id, "conversation_id": conversation,
                   "body": body, "attachments": attachments}))
        .await;
    ws.wait_for("ack or error", |v| (v["type"] == "message.ack" || v["type"] == "error") && v["client_id"] == client_id)
        .await
}

async fn attachments_reach_members_and_history(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    let (first, second) = (upload(&app, &alice, 640, 480).await, upload(&app, &alice, 90, 160).await);

    // Images only, in the order given.
    let ack = send(&mut a, &cid, "pics", "", json!([id(&second), id(&first)])).await;
    assert_eq!(ack["type"], "message.ack", "{ack}");
    let new = b.wait_for("message.new", |v| v["type"] == "message.new").await;
    let got = new["message"]["attachments"].as_array().unwrap();
    assert_eq!(got.iter().map(id).collect::<Vec<_>>(), vec![id(&second), id(&first)]);
    assert_eq!((got[1]["width"].as_i64(), got[1]["height"].as_i64()), (Some(640), Some(480)));
    assert_eq!(new["message"]["body"], "");
    for url in [got[0]["thumbnail"]["url"].as_str().unwrap(), got[1]["url"].as_str().unwrap()] {
        let r = app.http.get(app.url(url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "bob opens {url}");
    }
    // The REST post carries them too, with a caption.
    let third = upload(&app, &alice, 30, 30).await;
    let r = app
        .post_auth(
            &format!("/api/v1/conversations/{cid}/messages"),
            &alice,
            json!({"body": "and one more", "attachments": [id(&third)]}),
        )
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    b.wait_for("the posted message", |v| v["type"] == "message.new" && v["message"]["body"] == "and one more").await;

    // History and the conversation list show the same, with links that work.
    let history = app.history(&bob, &cid, "").await;
    let shown: Vec<Vec<&str>> =
        history.iter().map(|m| m["attachments"].as_array().unwrap().iter().map(id).collect()).collect();
    assert_eq!(shown, vec![vec![id(&second), id(&first)], vec![id(&third)]]);
    let url = history[1]["attachments"][0]["preview"]["url"].as_str().unwrap();
    assert_eq!(app.http.get(app.url(url)).send().await.unwrap().status(), 200);
    let list: Value = app.get_auth("/api/v1/conversations", &bob).await.json().await.unwrap();
    assert_eq!(list[0]["last_message"]["attachments"][0]["id"], id(&third));
    // A message without images says so.
    assert_eq!(a.send_message(&cid, "plain", "just text").await["type"], "message.ack");
    let plain = b.wait_for("plain", |v| v["type"] == "message.new" && v["message"]["body"] == "just text").await;
    assert_eq!(plain["message"]["attachments"], json!([]));
    app.finish().await;
}

async fn hostile_attachments_are_refused_and_leave_uploads_free(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, _) = user(&app, "carol").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let carols = app.conversation_id(&carol, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mine = upload(&app, &alice, 20, 20).await;
    let bobs = upload(&app, &bob, 20, 20).await;
    let code = |v: Value| v["code"].as_str().map(str::to_string).unwrap_or_else(|| format!("{v}"));

    let eleven: Vec<String> = (0..11).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    assert_eq!(code(send(&mut a, &cid, "c1", "x", json!(eleven)).await), "validation_failed");
    assert_eq!(code(send(&mut a, &cid, "c2", "x", json!([id(&mine), id(&mine)])).await), "validation_failed");
    assert_eq!(code(send(&mut a, &cid, "c3", "", json!([])).await), "validation_failed");
    assert_eq!(code(send(&mut a, &cid, "c4", "x", json!(["not-an-id"])).await), "invalid_event");
    assert_eq!(code(send(&mut a, &cid, "c5", "x", json!({"id": id(&mine)})).await), "invalid_event");
    // Someone else's, an unknown one (even beside a good one), and a conversation that is
    // not mine: not found, and nothing is taken.
    assert_eq!(code(send(&mut a, &cid, "c6", "x", json!([id(&bobs)])).await), "not_found");
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_eq!(code(send(&mut a, &cid, "c7", "x", json!([id(&mine), unknown])).await), "not_found");
    assert_eq!(code(send(&mut a, &carols, "c8", "x", json!([id(&mine)])).await), "not_found");

    // The upload is still free: it goes with the next message, once; a retry of that
    // message is the same message.
    let ok = send(&mut a, &cid, "c9", "now", json!([id(&mine)])).await;
    assert_eq!(ok["type"], "message.ack", "{ok}");
    let again = send(&mut a, &cid, "c9", "now", json!([id(&mine)])).await;
    assert_eq!((again["type"].as_str(), &again["id"]), (Some("message.ack"), &ok["id"]));
    assert_eq!(code(send(&mut a, &cid, "c10", "again?", json!([id(&mine)])).await), "attachment_used");
    let r = app
        .post_auth(&format!("/api/v1/conversations/{cid}/messages"), &alice, json!({"attachments": [id(&mine)]}))
        .await;
    assert_problem(r, 409, "attachment_used").await;
    let r = app
        .post_auth(&format!("/api/v1/conversations/{cid}/messages"), &alice, json!({"attachments": "everything"}))
        .await;
    assert_problem(r, 400, "invalid_request").await;
    // Acked is durable, not yet stored on the cluster scale: read history once it is.
    a.wait_for("c9 stored", |v| v["type"] == "message.new" && v["message"]["client_id"] == "c9").await;
    let history = app.history(&bob, &cid, "").await;
    assert_eq!(history.len(), 1, "one message: {history:?}");
    assert_eq!(history[0]["attachments"][0]["id"], id(&mine));
    // Bob's upload was never taken: he can send it.
    let mut b = Ws::connect(&app.base, &bob).await;
    assert_eq!(send(&mut b, &cid, "b1", "", json!([id(&bobs)])).await["type"], "message.ack");
    app.finish().await;
}

/// The same `client_id` with images sent on two sockets at once (a resend on a new socket
/// while the first is on its way): one message, and neither attempt is told
/// `attachment_used`. The loser is answered with the first one's ack or with `unavailable`
/// (retry), and its retry gets the same ack.
async fn two_attempts_of_one_message_with_images_make_one_message(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (_, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut one = Ws::connect(&app.base, &alice).await;
    let mut two = Ws::connect(&app.base, &alice).await;
    for round in 0..6 {
        let pic = upload(&app, &alice, 64, 48).await;
        let client_id = format!("twice-{round}");
        let frame = json!({"type": "message.send", "client_id": client_id, "conversation_id": cid,
                           "body": "", "attachments": [id(&pic)]});
        one.send(frame.clone()).await;
        two.send(frame.clone()).await;
        let answer = |v: &Value| (v["type"] == "message.ack" || v["type"] == "error") && v["client_id"] == client_id;
        let mut acks = Vec::new();
        for ws in [&mut one, &mut two] {
            let mut got = ws.wait_for("ack or error", answer).await;
            for _ in 0..50 {
                if got["type"] != "error" {
                    break;
                }
                assert_eq!(got["code"], "unavailable", "round {round}: {got}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                ws.send(frame.clone()).await;
                got = ws.wait_for("answer to the retry", answer).await;
            }
            assert_eq!(got["type"], "message.ack", "round {round}: {got}");
            acks.push(got["id"].clone());
        }
        assert_eq!(acks[0], acks[1], "round {round}: one message");
    }
    let history = app.history(&alice, &cid, "limit=50").await;
    assert_eq!(history.len(), 6, "one message per client_id");
    app.finish().await;
}

both_scales!(
    attachments_reach_members_and_history,
    hostile_attachments_are_refused_and_leave_uploads_free,
    two_attempts_of_one_message_with_images_make_one_message
);
