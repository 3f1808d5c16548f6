//! Upgrade safety: a database written by the previous release (the fixtures of
//! `scripts/upgrade-fixture`, one per scale) is loaded into a fresh database, and the current
//! server starts on it. It must apply every newer migration over the data (and find the
//! checksums of the ones already applied unchanged: an edited old migration fails here),
//! then serve that data as if nothing had happened: sign-in with the old password hashes,
//! the conversations with their last messages and unread counts, the whole history with
//! its attachment, an invite made before the upgrade, and new messages continuing the old
//! sequence.

use serde_json::{Value, json};
use sqlx::Connection;

use crate::{
    both_scales,
    common::{Env, Scale, TestApp, start},
};

const PASSWORD: &str = "upgrade-fixture-pass";

fn fixture(scale: Scale) -> &'static str {
    match scale {
        Scale::Embedded => include_str!("../fixtures/upgrade/sqlite.sql"),
        Scale::Cluster => include_str!("../fixtures/upgrade/postgres.sql"),
    }
}

/// Loads the fixture into `env`'s (empty) database; returns the unused invite code it holds.
async fn load(env: &Env) -> String {
    let sql = fixture(env.scale);
    match env.database_url() {
        Some(url) => {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.expect("the PostgreSQL fixture loads");
            conn.close().await.unwrap();
        }
        None => {
            std::fs::create_dir_all(env.data_dir()).unwrap();
            let path = env.data_dir().join("nexus.db");
            let mut conn =
                sqlx::SqliteConnection::connect(&format!("sqlite:{}?mode=rwc", path.display())).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.expect("the SQLite fixture loads");
            conn.close().await.unwrap();
        }
    }
    let header = sql.lines().find(|l| l.contains("Unused invite code: ")).expect("the fixture names its invite");
    header.rsplit("Unused invite code: ").next().unwrap().trim().to_string()
}

async fn login(app: &TestApp, name: &str) -> String {
    let resp = app.post("/api/v1/auth/login", json!({"username": name, "password": PASSWORD})).await;
    assert_eq!(resp.status(), 200, "{name} signs in with the password set before the upgrade");
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

async fn upgrade_keeps_everything(scale: Scale) {
    let env = Env::new(scale).await;
    let invite = load(&env).await;
    let app = start(env, |c| c.auth.registration = nexus::config::Registration::Invite).await;

    let alice = login(&app, "alice").await;
    let bob = login(&app, "bob").await;
    login(&app, "carol").await;
    assert_eq!(
        app.post("/api/v1/auth/login", json!({"username": "alice", "password": "wrong-password"})).await.status(),
        401
    );

    // The conversations, with their last messages and bob's unread counts.
    let list: Vec<Value> = app.get_auth("/api/v1/conversations", &bob).await.json().await.unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    let direct = list.iter().find(|c| c["kind"] == "direct").expect("the direct conversation");
    let group = list.iter().find(|c| c["kind"] == "group").expect("the group");
    assert_eq!(group["name"], "Fixture group");
    assert_eq!(direct["last_message"]["body"], "direct 12");
    assert_eq!(direct["unread_count"], 2, "bob had read up to 10 of 12");
    assert_eq!(group["last_message"]["body"], "group 5");
    assert_eq!(group["unread_count"], 0, "bob wrote all of the group's messages");

    // The whole history in order, the image attached to the last message.
    let direct_id = direct["id"].as_str().unwrap();
    let history = app.history(&alice, direct_id, "limit=100").await;
    let bodies: Vec<&str> = history.iter().map(|m| m["body"].as_str().unwrap()).collect();
    let expected: Vec<String> = (1..=12).map(|i| format!("direct {i}")).collect();
    assert_eq!(bodies, expected);
    let seqs: Vec<i64> = history.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=12).collect::<Vec<_>>());
    let attachments = history[11]["attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["mime"], "image/png");
    assert_eq!((attachments[0]["width"].as_i64(), attachments[0]["height"].as_i64()), (Some(2), Some(2)));

    // What was stored before the upgrade is found by a search (the migration indexed it).
    let r =
        app.http.get(app.url("/api/v1/search")).bearer_auth(&alice).query(&[("q", "Direct 7")]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let found: Value = r.json().await.unwrap();
    let results = found["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{found}");
    assert_eq!(results[0]["message"]["body"], "direct 7");
    assert_eq!(results[0]["snippet"], "\u{2}direct\u{3} \u{2}7\u{3}");

    // New messages continue the old sequence.
    let resp = app.post_message(&alice, direct_id, "after-upgrade-1", "after the upgrade").await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let mut seq = None;
    for _ in 0..100 {
        let h = app.history(&alice, direct_id, "after_seq=12").await;
        if let Some(m) = h.first() {
            assert_eq!(m["body"], "after the upgrade");
            seq = m["seq"].as_i64();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seq, Some(13));

    // The invite made before the upgrade still lets someone in, once.
    let dave = json!({"username": "dave", "display_name": "Dave", "password": PASSWORD, "invite_code": invite});
    let resp = app.post("/api/v1/auth/register", dave.clone()).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let again = json!({"username": "erin", "display_name": "Erin", "password": PASSWORD, "invite_code": invite});
    assert_ne!(app.post("/api/v1/auth/register", again).await.status(), 201, "the invite works once");

    app.finish().await;
}

both_scales!(upgrade_keeps_everything);
