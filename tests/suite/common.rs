//! The harness: spawn the real server on port 0 at either scale, and clean up after it;
//! talk to it through [`nexus::client`] (shared with `nexus-bench`), with the assertions
//! every test makes about a request that must succeed.

#![allow(dead_code)]

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use nexus::{
    app::{App, Services},
    client::{self, NoEvent},
    config::Config,
};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::{Connection, Executor};
use tokio::{sync::oneshot, task::JoinHandle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// SQLite + in-process bus.
    Embedded,
    /// PostgreSQL + Redis.
    Cluster,
}

/// Define `mod $name { embedded(), cluster() }` running `$body(Scale)` on each scale.
#[macro_export]
macro_rules! both_scales {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    super::$name($crate::common::Scale::Embedded).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn cluster() {
                    super::$name($crate::common::Scale::Cluster).await
                }
            }
        )*
    };
}

pub fn pg_base() -> String {
    std::env::var("NEXUS_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn redis_url() -> String {
    std::env::var("NEXUS_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Where a test's state lives; reused to restart a server on the same data.
#[derive(Clone)]
pub struct Env {
    pub scale: Scale,
    pub dir: Arc<tempfile::TempDir>,
    pub db_name: Option<String>,
    pub redis_prefix: String,
}

impl Env {
    pub async fn new(scale: Scale) -> Env {
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        let id = uuid::Uuid::new_v4().simple().to_string();
        let db_name = match scale {
            Scale::Embedded => None,
            Scale::Cluster => {
                let name = format!("nexus_t_{}", &id[..16]);
                let mut conn = sqlx::PgConnection::connect(&format!("{}/postgres", pg_base())).await.expect(
                    "PostgreSQL at NEXUS_TEST_PG (default 127.0.0.1:5432) must be running: scripts/test starts it",
                );
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("create database");
                Some(name)
            }
        };
        Env { scale, dir, db_name, redis_prefix: format!("nexus:t:{}:", &id[..16]) }
    }

    pub fn database_url(&self) -> Option<String> {
        self.db_name.as_ref().map(|n| format!("{}/{}", pg_base(), n))
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn config(&self) -> Config {
        let mut c = Config::default();
        c.server.host = [127, 0, 0, 1].into();
        c.server.port = 0;
        c.server.data_dir = self.data_dir();
        c.server.shutdown_grace_secs = 2;
        c.log.level = "warn".into();
        c.turn.listen = ([127, 0, 0, 1], 0).into();
        c.calls.sfu.listen = ([127, 0, 0, 1], 0).into();
        if let Some(url) = self.database_url() {
            c.database.url = url;
            c.database.max_connections = 8;
            c.redis.url = redis_url();
            c.redis.prefix = self.redis_prefix.clone();
        }
        c
    }

    /// Drop the test database and the Redis keys of this test.
    pub async fn cleanup(&self) {
        if let Some(name) = &self.db_name
            && let Ok(mut conn) = sqlx::PgConnection::connect(&format!("{}/postgres", pg_base())).await
        {
            let _ = conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await;
        }
        if self.scale == Scale::Cluster
            && let Ok(client) = redis::Client::open(redis_url())
            && let Ok(mut c) = client.get_multiplexed_async_connection().await
        {
            let keys: Vec<String> =
                redis::cmd("KEYS").arg(format!("{}*", self.redis_prefix)).query_async(&mut c).await.unwrap_or_default();
            if !keys.is_empty() {
                let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query_async(&mut c).await;
            }
        }
    }
}

pub struct TestApp {
    pub env: Env,
    pub addr: SocketAddr,
    pub base: String,
    pub services: Arc<Services>,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Spawn a server with the default test configuration.
pub async fn spawn(scale: Scale) -> TestApp {
    spawn_with(scale, |_| {}).await
}

pub async fn spawn_with(scale: Scale, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let env = Env::new(scale).await;
    start(env, tweak).await
}

/// Start a server on an existing [`Env`] (a restart keeps its data).
pub async fn start(env: Env, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = env.config();
    tweak(&mut config);
    // Logs are captured per test and shown when it fails.
    nexus::telemetry::init(&config.log);
    let app = App::build(config).await.expect("app builds");
    let addr = app.addr();
    let services = app.services.clone();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run(async move {
        let _ = rx.await;
    }));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    TestApp { env, addr, base: format!("http://{addr}"), services, http, stop: Some(tx), handle: Some(handle) }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Graceful stop; the data stays for a restart.
    pub async fn stop(mut self) -> Env {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("server task").expect("server stopped cleanly");
        }
        self.env.clone()
    }

    /// Stop and remove everything the test created.
    pub async fn finish(self) {
        let env = self.stop().await;
        env.cleanup().await;
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http.post(self.url(path)).json(&body).send().await.expect("request")
    }

    /// `method path` as `token`, with `body` as JSON when given.
    pub async fn request_auth(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> reqwest::Response {
        self.request_auth(Method::GET, path, token, None).await
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.request_auth(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch_auth(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.request_auth(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete_auth(&self, path: &str, token: &str) -> reqwest::Response {
        self.request_auth(Method::DELETE, path, token, None).await
    }

    /// Register `name` with password `password123`; returns the auth body.
    pub async fn register(&self, name: &str) -> Value {
        let (status, body) = client::register(&self.http, &self.base, name, &name.to_uppercase(), "password123")
            .await
            .expect("register request");
        assert_eq!(status, 201, "register {name}: {body}");
        body
    }

    pub async fn token(&self, name: &str) -> String {
        self.register(name).await["access_token"].as_str().unwrap().to_string()
    }
}

/// Assert `resp` is problem JSON with `status` and `code`; returns the body.
pub async fn assert_problem(resp: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(ct.starts_with("application/problem+json"), "content-type {ct}");
    let body: Value = resp.json().await.expect("problem body is JSON");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["detail"].is_string() && body["title"].is_string() && body["type"].is_string(), "{body}");
    body
}

/// A WebSocket client speaking the Nexus protocol.
pub struct Ws {
    stream: client::WsStream,
    /// The `ready` event.
    pub ready: Value,
    /// Events read while waiting for another one, handed out first by later waits.
    backlog: std::collections::VecDeque<Value>,
}

impl Ws {
    pub async fn connect(base: &str, token: &str) -> Ws {
        let stream = client::connect(base, token).await.expect("websocket connects");
        let mut ws = Ws { stream, ready: Value::Null, backlog: Default::default() };
        let ready = ws.next().await;
        assert_eq!(ready["type"], "ready", "first event: {ready}");
        ws.ready = ready;
        ws
    }

    pub async fn send(&mut self, v: Value) {
        client::send_event(&mut self.stream, &v).await.expect("send");
    }

    pub async fn send_text(&mut self, s: &str) {
        use futures_util::SinkExt;
        self.stream.send(tokio_tungstenite::tungstenite::Message::text(s)).await.expect("send");
    }

    pub async fn send_raw(&mut self, m: tokio_tungstenite::tungstenite::Message) -> bool {
        use futures_util::SinkExt;
        self.stream.send(m).await.is_ok()
    }

    /// The next event (pings skipped), within 10 s.
    pub async fn next(&mut self) -> Value {
        self.try_next(Duration::from_secs(10)).await.expect("an event within 10 s")
    }

    /// The next event within `within`; `None` if the socket closed or nothing came.
    pub async fn try_next(&mut self, within: Duration) -> Option<Value> {
        match client::next_event(&mut self.stream, tokio::time::Instant::now() + within).await {
            Ok(v) => Some(v),
            Err(NoEvent::NotJson(e)) => panic!("events are JSON: {e}"),
            Err(NoEvent::TimedOut | NoEvent::Closed | NoEvent::Read(_) | NoEvent::Pong(_)) => None,
        }
    }

    /// The first event that matches, from the backlog or the socket; events passed over
    /// are kept in the backlog for later waits.
    pub async fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i).unwrap();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(v) = self.try_next(left).await else {
                panic!("no {what} within 15 s (socket closed or timed out)")
            };
            if pred(&v) {
                return v;
            }
            self.backlog.push_back(v);
        }
    }

    /// Events of one type until none arrives for `quiet`.
    pub async fn collect(&mut self, kind: &str, quiet: Duration) -> Vec<Value> {
        let mut out: Vec<Value> = self.backlog.drain(..).filter(|v| v["type"] == kind).collect();
        while let Some(v) = self.try_next(quiet).await {
            if v["type"] == kind {
                out.push(v);
            }
        }
        out
    }

    /// The close code the server sends, reading past other frames (within 15 s).
    pub async fn close_code(&mut self) -> Option<u16> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_))) | Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Send `body` and wait for its ack; returns the ack.
    pub async fn send_message(&mut self, conversation: &str, client_id: &str, body: &str) -> Value {
        self.send(
            json!({"type": "message.send", "client_id": client_id, "conversation_id": conversation, "body": body}),
        )
        .await;
        self.wait_for("message.ack", |v| {
            (v["type"] == "message.ack" || v["type"] == "error") && v["client_id"] == client_id
        })
        .await
    }
}

impl TestApp {
    /// `POST /api/v1/conversations` as `token`; returns the conversation.
    pub async fn conversation(&self, token: &str, body: Value) -> Value {
        let (status, body) =
            client::create_conversation(&self.http, &self.base, token, &body).await.expect("create conversation");
        assert!(status.is_success(), "create conversation: {status} {body}");
        body
    }

    /// [`TestApp::conversation`], returning only its id.
    pub async fn conversation_id(&self, token: &str, body: Value) -> String {
        self.conversation(token, body).await["id"].as_str().expect("a conversation id").to_string()
    }

    pub async fn history(&self, token: &str, conversation: &str, query: &str) -> Vec<Value> {
        let (status, page) =
            client::history(&self.http, &self.base, token, conversation, query).await.expect("history request");
        assert_eq!(status, 200);
        serde_json::from_value(page).expect("a page of messages")
    }

    /// `POST /api/v1/conversations/{conversation}/messages` (the REST path for bots) as
    /// `token`, with `key` as the `Idempotency-Key`.
    pub async fn post_message(&self, token: &str, conversation: &str, key: &str, body: &str) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/api/v1/conversations/{conversation}/messages")))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&json!({ "body": body }))
            .send()
            .await
            .expect("request")
    }
}

/// Register `name`; returns `(token, user id)`.
pub async fn user(app: &TestApp, name: &str) -> (String, String) {
    let r = app.register(name).await;
    (r["access_token"].as_str().unwrap().to_string(), r["user"]["id"].as_str().unwrap().to_string())
}

impl TestApp {
    /// The user id behind an access token.
    pub async fn register_id_of(&self, token: &str) -> String {
        let me: Value = self.get_auth("/api/v1/users/me", token).await.json().await.unwrap();
        me["id"].as_str().unwrap().to_string()
    }

    /// The token signing secret the server generated (file on SQLite, table on PostgreSQL).
    pub async fn signing_secret(&self) -> Vec<u8> {
        match self.env.database_url() {
            Some(url) => {
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                let (v,): (Vec<u8>,) = sqlx::query_as("SELECT value FROM server_secrets WHERE name = 'jwt'")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                v
            }
            None => std::fs::read(self.env.data_dir().join("secret.key")).unwrap(),
        }
    }

    /// Run raw SQL against this test's database (to break things on purpose).
    pub async fn sql(&self, statement: &str) {
        match self.env.database_url() {
            Some(url) => {
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(&pool).await.unwrap();
                pool.close().await;
            }
            None => {
                let path = self.env.data_dir().join("nexus.db");
                let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display())).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
    }
}
