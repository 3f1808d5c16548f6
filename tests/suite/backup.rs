//! `nexus backup` and `nexus restore`, on both scales, as an operator runs them: the real
//! binary against a running server's data. A round trip while a sender keeps sending —
//! accounts, conversations, every message acknowledged before the backup began, an image,
//! the signing secret — then the data wiped, restored into an empty folder (on the cluster
//! scale the database through the `pg_dump` command the backup prints, and pg_restore), and
//! a server started on it. And hostile archives: every one refused, nothing written.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    process::Output,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{
    attachments::upload,
    both_scales,
    cli::{assert_one_line_failure, nexus, stderr},
    common::{Env, Scale, TestApp, Ws, pg_base, spawn_with, start, user},
};

/// `nexus <args>` on `env`'s data (and database), run off the async threads.
async fn run(env: &Env, args: Vec<String>) -> Output {
    let mut cmd = nexus(env.dir.path());
    cmd.env("NEXUS_SERVER__DATA_DIR", env.data_dir()).args(args);
    if let Some(url) = env.database_url() {
        cmd.env("DATABASE_URL", url);
    }
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Per conversation: (messages, lowest seq, highest seq); and every client id.
async fn stored_messages(env: &Env) -> (Vec<(i64, i64, i64)>, HashSet<String>) {
    let q = "SELECT COUNT(*), MIN(seq), MAX(seq) FROM messages GROUP BY conversation_id";
    let c = "SELECT client_id FROM messages WHERE client_id IS NOT NULL";
    match env.database_url() {
        Some(url) => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let counts: Vec<(i64, i64, i64)> = sqlx::query_as(q).fetch_all(&pool).await.unwrap();
            let ids: Vec<String> = sqlx::query_scalar(c).fetch_all(&pool).await.unwrap();
            pool.close().await;
            (counts, ids.into_iter().collect())
        }
        None => {
            let path = env.data_dir().join("nexus.db");
            let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display())).await.unwrap();
            let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.unwrap();
            assert_eq!(check, "ok", "the restored database passes PRAGMA integrity_check");
            let counts: Vec<(i64, i64, i64)> = sqlx::query_as(q).fetch_all(&pool).await.unwrap();
            let ids: Vec<String> = sqlx::query_scalar(c).fetch_all(&pool).await.unwrap();
            pool.close().await;
            (counts, ids.into_iter().collect())
        }
    }
}

/// The password of `NEXUS_TEST_PG`, for the pg tools (the printed command has none).
fn pg_password() -> String {
    url::Url::parse(&pg_base()).ok().and_then(|u| u.password().map(str::to_string)).unwrap_or_default()
}

async fn shell(dir: &Path, command: String) -> Output {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(&command)
            .current_dir(dir)
            .env("PGPASSWORD", pg_password())
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

async fn backup_while_sending_then_restore_into_an_empty_folder(scale: Scale) {
    // The sender sends as fast as it is acked, past the default rate limits.
    let app = spawn_with(scale, |c| {
        (c.messages.rate_per_sec, c.messages.rate_burst, c.gateway.frames_per_sec) = (10_000, 10_000, 10_000);
    })
    .await;
    let target = Env::new(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (_, carol_id) = user(&app, "carol").await;
    let dm = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let grp =
        app.conversation_id(&alice, json!({"kind": "group", "name": "g", "member_ids": [bob_id, carol_id]})).await;
    let image = upload(&app, &alice, 48, 36).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    a.send(json!({"type": "message.send", "client_id": "pic", "conversation_id": dm, "body": "look",
                  "attachments": [image["id"]]}))
        .await;
    a.wait_for("pic stored", |v| v["type"] == "message.new" && v["message"]["client_id"] == "pic").await;
    for i in 0..5 {
        a.send_message(&grp, &format!("g{i}"), "hello group").await;
    }
    let original = app.http.get(app.url(image["url"].as_str().unwrap())).send().await.unwrap().bytes().await.unwrap();
    assert!(!original.is_empty());

    // A sender that keeps sending, each message after the last one's ack.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (acked, stop, base, token, dm) = (acked.clone(), stop.clone(), app.base.clone(), bob.clone(), dm.clone());
        tokio::spawn(async move {
            let mut ws = Ws::connect(&base, &token).await;
            for i in 0..20_000 {
                if stop.load(Ordering::Relaxed) {
                    return true;
                }
                let id = format!("s{i}");
                let ack = ws.send_message(&dm, &id, "while backing up").await;
                assert_eq!(ack["type"], "message.ack", "{ack}");
                acked.lock().unwrap().push(id);
            }
            false
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < 20 {
        assert!(Instant::now() < deadline, "the sender is stuck");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before: Vec<String> = acked.lock().unwrap().clone();
    if scale == Scale::Cluster {
        // Acked there means in Redis; the database holds what the worker stored, and it is
        // the database that is backed up: wait until these are in it.
        let deadline = Instant::now() + Duration::from_secs(20);
        while !stored_has(&app, &before).await {
            assert!(Instant::now() < deadline, "acked messages not stored within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let archive = target.dir.path().join("nexus.tar.gz");
    let out = run(&app.env, vec!["backup".into(), archive.display().to_string()]).await;
    assert!(out.status.success(), "backup: {}", stderr(&out));
    let still_sending = !sender.is_finished();
    stop.store(true, Ordering::Relaxed);
    assert!(sender.await.unwrap() && still_sending, "the sender was still sending when the backup ended");
    assert!(stdout(&out).contains("backup written to"), "{}", stdout(&out));
    let printed = stdout(&out);
    match scale {
        Scale::Embedded => assert!(!printed.contains("pg_dump"), "{printed}"),
        Scale::Cluster => {
            // The printed command, run as given (the password comes from PGPASSWORD).
            let command = printed.lines().find(|l| l.trim_start().starts_with("pg_dump ")).expect(&printed);
            let password = pg_password();
            assert!(password.is_empty() || !command.contains(&format!(":{password}@")), "no password: {command}");
            let dump = shell(target.dir.path(), command.trim().to_string()).await;
            assert!(dump.status.success(), "{command}: {}", stderr(&dump));
            let file = std::fs::read_dir(target.dir.path())
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|e| e == "pgdump"))
                .expect("the dump file");
            let restore =
                format!("pg_restore --no-owner --dbname='{}' '{}'", target.database_url().unwrap(), file.display());
            let restored = shell(target.dir.path(), restore).await;
            assert!(restored.status.success(), "pg_restore: {}", stderr(&restored));
        }
    }

    // Wipe: the server goes, and its data with it.
    let old = app.stop().await;
    std::fs::remove_dir_all(old.data_dir()).unwrap();
    old.cleanup().await;

    let out = run(&target, vec!["restore".into(), archive.display().to_string()]).await;
    assert!(out.status.success(), "restore: {}", stderr(&out));
    assert!(stdout(&out).contains("restored"), "{}", stdout(&out));
    let (counts, ids) = stored_messages(&target).await;
    assert_eq!(counts.len(), 2, "two conversations with messages: {counts:?}");
    for (n, min, max) in &counts {
        assert_eq!((*min, *max), (1, *n), "seq is gap-free from 1 in every conversation: {counts:?}");
    }
    let missing: Vec<&String> = before.iter().filter(|id| !ids.contains(*id)).collect();
    assert!(missing.is_empty(), "acked before the backup began, missing after restore: {missing:?}");

    // A server on the restored data: the accounts sign in, the old token still holds (the
    // signing secret came back), the messages and the image are there.
    let app = start(target, |_| {}).await;
    let login = app.post("/api/v1/auth/login", json!({"username": "alice", "password": "password123"})).await;
    assert_eq!(login.status(), 200);
    assert_eq!(app.get_auth("/api/v1/users/me", &bob).await.status(), 200, "tokens signed before still verify");
    let list: Vec<Value> = app.get_auth("/api/v1/conversations", &alice).await.json().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(app.history(&alice, &grp, "").await.len(), 5);
    let first = app.history(&alice, &dm, "after_seq=0&limit=1").await;
    assert_eq!(first[0]["client_id"], "pic");
    let url = first[0]["attachments"][0]["url"].as_str().unwrap();
    let r = app.http.get(app.url(url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap(), original, "the same image");
    // The search index came back with the messages (rebuilt by pg_restore on the cluster).
    let found: Value = app.get_auth("/api/v1/search?q=hello+group", &alice).await.json().await.unwrap();
    assert_eq!(found["results"].as_array().map(Vec::len), Some(5), "{found}");
    let found: Value = app.get_auth("/api/v1/search?q=look", &alice).await.json().await.unwrap();
    assert_eq!(found["results"][0]["message"]["client_id"], "pic", "{found}");
    app.finish().await;
}

/// True once every id of `ids` is stored (the cluster's worker caught up).
async fn stored_has(app: &TestApp, ids: &[String]) -> bool {
    let Some(url) = app.env.database_url() else { return true };
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE client_id = ANY($1)")
        .bind(ids)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n as usize == ids.len()
}

/// A `.tar.gz` of `entries` (name, kind, bytes), written with raw headers so that hostile
/// names survive; a manifest for `listed` files is appended when `manifest` is given.
fn archive(path: &Path, entries: &[(&str, tar::EntryType, &[u8])], manifest: Option<Value>) {
    let file = std::fs::File::create(path).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::fast()));
    let mut add = |name: &str, kind: tar::EntryType, data: &[u8]| {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        if kind == tar::EntryType::Symlink {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_cksum();
        tar.append(&h, data).unwrap();
    };
    for (name, kind, data) in entries {
        add(name, *kind, data);
    }
    if let Some(m) = manifest {
        add("manifest.json", tar::EntryType::Regular, serde_json::to_vec(&m).unwrap().as_slice());
    }
    tar.into_inner().unwrap().finish().unwrap();
}

fn sha(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

fn manifest(database: &str, files: &[(&str, &[u8])]) -> Value {
    let files: Vec<Value> = files.iter().map(|(p, d)| json!({"path": p, "bytes": d.len(), "sha256": sha(d)})).collect();
    json!({"format": 1, "nexus_version": "0.0.0", "created_at": "2026-01-01T00:00:00Z", "database": database, "files": files})
}

fn is_empty_or_missing(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|mut d| d.next().is_none()).unwrap_or(true)
}

async fn hostile_archives_are_refused_and_nothing_is_written(scale: Scale) {
    let env = Env::new(scale).await;
    let dir = env.dir.path();
    let regular = tar::EntryType::Regular;
    let key: &[u8] = b"0123456789abcdef0123456789abcdef";
    // What this scale's archive is: a SQLite one holds nexus.db; a PostgreSQL one does not.
    let (database, other) = match scale {
        Scale::Embedded => ("sqlite", "postgres"),
        Scale::Cluster => ("postgres", "sqlite"),
    };
    let base: Vec<(&str, &[u8])> = vec![("secret.key", key)];
    let path = |name: &str| -> PathBuf { dir.join(name) };
    let cases: Vec<(&str, Vec<(&str, tar::EntryType, &[u8])>, Option<Value>, i32, &str)> = vec![
        (
            "traversal",
            vec![("../escape", regular, b"x"), ("secret.key", regular, key)],
            Some(manifest(database, &base)),
            1,
            "leaving the archive",
        ),
        (
            "absolute",
            vec![("/tmp/nexus-escape", regular, b"x")],
            Some(manifest(database, &base)),
            1,
            "leaving the archive",
        ),
        (
            "nested",
            vec![("media/../../escape", regular, b"x")],
            Some(manifest(database, &base)),
            1,
            "leaving the archive",
        ),
        (
            "symlink",
            vec![("secret.key", tar::EntryType::Symlink, b"")],
            Some(manifest(database, &base)),
            1,
            "regular files",
        ),
        ("unknown", vec![("notes.txt", regular, b"x")], Some(manifest(database, &base)), 1, "does not have"),
        (
            "tampered",
            vec![("secret.key", regular, b"tampered-key-tampered-key-tamper")],
            Some(manifest(database, &base)),
            1,
            "checksum",
        ),
        (
            "unlisted",
            vec![("secret.key", regular, key), ("media/ab/x.png", regular, b"x")],
            Some(manifest(database, &base)),
            1,
            "not listed",
        ),
        ("missing", vec![], Some(manifest(database, &base)), 1, "missing"),
        ("no-manifest", vec![("secret.key", regular, key)], None, 1, "no manifest"),
        (
            "format",
            vec![("secret.key", regular, key)],
            Some({
                let mut m = manifest(database, &base);
                m["format"] = json!(99);
                m
            }),
            1,
            "format 99",
        ),
        ("other-database", vec![("secret.key", regular, key)], Some(manifest(other, &base)), 3, "database"),
    ];
    for (name, entries, manifest, code, mentions) in cases {
        let file = path(&format!("{name}.tar.gz"));
        archive(&file, &entries, manifest);
        let out = run(&env, vec!["restore".into(), file.display().to_string()]).await;
        assert_one_line_failure(&out, code, mentions);
        assert!(is_empty_or_missing(&env.data_dir()), "{name}: the data folder stays empty");
        assert!(!dir.join("escape").exists() && !Path::new("/tmp/nexus-escape").exists(), "{name}: nothing escaped");
    }
    let garbage = path("garbage.tar.gz");
    std::fs::write(&garbage, b"not a gzip file at all").unwrap();
    let out = run(&env, vec!["restore".into(), garbage.display().to_string()]).await;
    assert_one_line_failure(&out, 1, "not a valid nexus backup");
    let out = run(&env, vec!["restore".into(), path("absent.tar.gz").display().to_string()]).await;
    assert_one_line_failure(&out, 1, "cannot open");

    // A data folder in use: refused with exit 3, and left alone.
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(env.data_dir().join("keep.txt"), b"mine").unwrap();
    let good = path("good.tar.gz");
    archive(&good, &[("secret.key", regular, key)], Some(manifest(database, &base)));
    let out = run(&env, vec!["restore".into(), good.display().to_string()]).await;
    assert_one_line_failure(&out, 3, "is not empty");
    assert_eq!(std::fs::read(env.data_dir().join("keep.txt")).unwrap(), b"mine");
    assert!(!env.data_dir().join("secret.key").exists());
    // A backup never overwrites a file.
    let out = run(&env, vec!["backup".into(), good.display().to_string()]).await;
    assert_one_line_failure(&out, 3, "exists already");
    env.cleanup().await;
}

both_scales!(
    backup_while_sending_then_restore_into_an_empty_folder,
    hostile_archives_are_refused_and_nothing_is_written
);
