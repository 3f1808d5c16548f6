//! The store against a fake Cloudinary on 127.0.0.1: the Upload API's upload and destroy
//! (signature and timestamp checked as documented) and the delivery URLs. No request
//! leaves this machine.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Form, Multipart, Path};
use poem::{EndpointExt, Response, Route, Server, get, handler, post};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::*;
use crate::media::File;

const CLOUD: &str = "nexus-test";
const API_KEY: &str = "614335564976464";
const API_SECRET: &str = "fake-secret-Q2xvdWRpbmFyeQ";

// ---- the fake -------------------------------------------------------------------------

#[derive(Default)]
struct Fake {
    state: Mutex<FakeState>,
}

#[derive(Default)]
struct FakeState {
    /// public_id → (bytes, media type of the `file` part).
    stored: HashMap<String, (Bytes, String)>,
    /// Every upload's and destroy's form fields, `file` aside.
    uploads: Vec<HashMap<String, String>>,
    destroys: Vec<HashMap<String, String>>,
    /// Every delivery path asked, after `/{cloud}/image/upload/`.
    delivered: Vec<String>,
    /// Answer everything with this status and an error body.
    fail_with: Option<u16>,
}

impl Fake {
    fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap()
    }
}

fn cloudinary_error(status: StatusCode, message: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(json!({ "error": { "message": message } }).to_string())
}

fn ok_json(value: serde_json::Value) -> Response {
    Response::builder().content_type("application/json").body(value.to_string())
}

fn failing(fake: &Fake) -> Option<Response> {
    let status = fake.state().fail_with?;
    Some(cloudinary_error(StatusCode::from_u16(status).unwrap(), "General Error"))
}

/// The fake's own reading of "Generating authentication signatures", kept apart from the
/// store's so that the one checks the other.
fn string_to_sign(fields: &HashMap<String, String>) -> String {
    let mut names: Vec<&String> = fields
        .iter()
        .filter(|(name, value)| {
            !value.is_empty()
                && !["file", "cloud_name", "resource_type", "api_key", "signature"].contains(&name.as_str())
        })
        .map(|(name, _)| name)
        .collect();
    names.sort();
    names.iter().map(|name| format!("{name}={}", fields[*name])).collect::<Vec<_>>().join("&")
}

/// Cloud name, API key, timestamp (within an hour) and signature, as Cloudinary checks them.
fn authenticate(cloud: &str, fields: &HashMap<String, String>) -> Result<(), (StatusCode, String)> {
    if cloud != CLOUD {
        return Err((StatusCode::UNAUTHORIZED, format!("Invalid cloud_name {cloud}")));
    }
    match fields.get("api_key") {
        None => return Err((StatusCode::UNAUTHORIZED, "Must supply api_key".to_owned())),
        Some(key) if key != API_KEY => {
            return Err((StatusCode::UNAUTHORIZED, format!("Unknown API key {key}")));
        }
        Some(_) => {}
    }
    let Some(timestamp) = fields.get("timestamp").and_then(|t| t.parse::<u64>().ok()) else {
        return Err((StatusCode::BAD_REQUEST, "Missing required parameter - timestamp".to_owned()));
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    if now.abs_diff(timestamp) > 3600 {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("Stale request - reported time is {timestamp} which is more than 1 hour ago"),
        ));
    }
    let Some(signature) = fields.get("signature") else {
        return Err((StatusCode::BAD_REQUEST, "Missing required parameter - signature".to_owned()));
    };
    let payload = string_to_sign(fields);
    let expected = hex::encode(sha1::Sha1::digest(format!("{payload}{API_SECRET}").as_bytes()));
    if *signature != expected {
        let message = format!("Invalid Signature {signature}. String to sign - '{payload}'.");
        return Err((StatusCode::UNAUTHORIZED, message));
    }
    Ok(())
}

#[handler]
async fn fake_upload(Path(cloud): Path<String>, Data(fake): Data<&Arc<Fake>>, mut multipart: Multipart) -> Response {
    if let Some(failure) = failing(fake) {
        return failure;
    }
    let mut fields = HashMap::new();
    let mut file = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let mime = field.content_type().unwrap_or_default().to_owned();
            file = Some((Bytes::from(field.bytes().await.unwrap()), mime));
        } else {
            fields.insert(name, field.text().await.unwrap());
        }
    }
    fake.state().uploads.push(fields.clone());
    if let Err((status, message)) = authenticate(&cloud, &fields) {
        return cloudinary_error(status, &message);
    }
    let Some((bytes, mime)) = file else {
        return cloudinary_error(StatusCode::BAD_REQUEST, "Missing required parameter - file");
    };
    let Some(public_id) = fields.get("public_id").cloned() else {
        return cloudinary_error(StatusCode::BAD_REQUEST, "Missing required parameter - public_id");
    };
    let overwrite = fields.get("overwrite").is_none_or(|o| o != "false");
    let mut state = fake.state();
    let existing = state.stored.contains_key(&public_id);
    if !existing || overwrite {
        state.stored.insert(public_id.clone(), (bytes, mime));
    }
    let size = state.stored[&public_id].0.len();
    let version = 1_700_000_000u64;
    let mut answer = json!({
        "asset_id": "3515c6000a548515f1134043f9785c2f",
        "public_id": public_id,
        "version": version,
        "signature": "ce0f2d5b2a52d2e17eea1ecda2aa8da1c5b8d4d2",
        "width": 1,
        "height": 1,
        "format": "jpg",
        "resource_type": "image",
        "type": "upload",
        "bytes": size,
        "url": format!("http://res.cloudinary.com/{CLOUD}/image/upload/v{version}/{public_id}.jpg"),
        "secure_url": format!("https://res.cloudinary.com/{CLOUD}/image/upload/v{version}/{public_id}.jpg"),
    });
    if existing {
        answer["existing"] = json!(true);
    }
    ok_json(answer)
}

#[handler]
fn fake_destroy(
    Path(cloud): Path<String>,
    Data(fake): Data<&Arc<Fake>>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    if let Some(failure) = failing(fake) {
        return failure;
    }
    fake.state().destroys.push(fields.clone());
    if let Err((status, message)) = authenticate(&cloud, &fields) {
        return cloudinary_error(status, &message);
    }
    let Some(public_id) = fields.get("public_id") else {
        return cloudinary_error(StatusCode::BAD_REQUEST, "Missing required parameter - public_id");
    };
    let removed = fake.state().stored.remove(public_id).is_some();
    ok_json(json!({ "result": if removed { "ok" } else { "not found" } }))
}

/// `/{cloud}/image/upload/[transformation/]public_id`: any transformation, the stored bytes.
#[handler]
fn fake_deliver(Path((cloud, rest)): Path<(String, String)>, Data(fake): Data<&Arc<Fake>>) -> Response {
    if let Some(failure) = failing(fake) {
        return failure;
    }
    let mut state = fake.state();
    state.delivered.push(rest.clone());
    let found = state
        .stored
        .iter()
        .find(|(id, _)| rest == **id || rest.ends_with(&format!("/{id}")))
        .map(|(_, (bytes, _))| bytes.clone());
    match (cloud == CLOUD, found) {
        (true, Some(bytes)) => Response::builder().content_type("image/jpeg").body(bytes),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header("x-cld-error", format!("Resource not found - {rest}"))
            .finish(),
    }
}

async fn start_fake() -> (Arc<Fake>, String) {
    let fake = Arc::new(Fake::default());
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr: SocketAddr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let app = Route::new()
        .at("/v1_1/:cloud/image/upload", post(fake_upload))
        .at("/v1_1/:cloud/image/destroy", post(fake_destroy))
        .at("/:cloud/image/upload/*rest", get(fake_deliver))
        .data(fake.clone());
    tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    (fake, format!("http://{addr}"))
}

// ---- helpers --------------------------------------------------------------------------

fn config(base: &str, folder: Option<&str>) -> CloudinaryConfig {
    CloudinaryConfig {
        cloud_name: CLOUD.into(),
        api_key: API_KEY.into(),
        api_secret: API_SECRET.into(),
        base_url: base.into(),
        delivery_url: base.into(),
        folder: folder.map(Into::into),
    }
}

fn store(config: CloudinaryConfig) -> CloudinaryStore {
    CloudinaryStore::new(config).unwrap()
}

fn renditions(content: &[u8]) -> Renditions {
    let file = |mime, bytes: &[u8]| File { mime, bytes: Bytes::copy_from_slice(bytes) };
    Renditions {
        sha256: hex::encode(Sha256::digest(content)),
        original: file("image/jpeg", content),
        preview: file("image/webp", b"preview, never sent"),
        thumbnail: file("image/webp", b"thumbnail, never sent"),
    }
}

fn assert_refused(result: MediaResult<impl std::fmt::Debug>, starts_with: &str) {
    match result {
        Err(MediaError::Refused { backend: "cloudinary", detail }) => {
            assert!(detail.starts_with(starts_with), "detail {detail:?} should start with {starts_with:?}");
            assert!(!detail.contains(API_SECRET), "the secret is in {detail:?}");
        }
        other => panic!("expected Refused, got {other:?}"),
    }
}

fn assert_unavailable(result: MediaResult<impl std::fmt::Debug>) {
    assert!(
        matches!(result, Err(MediaError::Unavailable { backend: "cloudinary", .. })),
        "expected Unavailable, got {result:?}"
    );
}

// ---- the signature --------------------------------------------------------------------

#[test]
fn signature_matches_the_documented_example() {
    let params =
        [("eager", "w_400,h_300,c_pad|w_260,h_200,c_crop"), ("public_id", "sample_image"), ("timestamp", "1315060510")];
    assert_eq!(signature(&params, "abcd"), "bfd09f95f331f558cbd1320e67aa8d488770583e");
}

#[test]
fn signature_leaves_out_what_the_docs_leave_out_and_ignores_order() {
    let documented = signature(&[("public_id", "sample_image"), ("timestamp", "1315060510")], "abcd");
    let with_unsigned = signature(
        &[
            ("timestamp", "1315060510"),
            ("file", "https://www.example.com/sample.jpg"),
            ("api_key", "1234"),
            ("cloud_name", "demo"),
            ("resource_type", "image"),
            ("folder", ""),
            ("public_id", "sample_image"),
        ],
        "abcd",
    );
    assert_eq!(documented, with_unsigned);
    assert_ne!(documented, signature(&[("public_id", "sample_image"), ("timestamp", "1315060511")], "abcd"));
}

#[test]
fn transformations_are_the_documented_ones() {
    assert_eq!(transformation(Variant::Thumbnail), Some("c_limit,w_400,h_400/f_auto/q_auto"));
    assert_eq!(transformation(Variant::Preview), Some("c_limit,w_1600,h_1600/f_auto/q_auto"));
    assert_eq!(transformation(Variant::Original), None);
}

// ---- against the fake -----------------------------------------------------------------

#[tokio::test]
async fn put_get_each_variant_delete_then_nothing() {
    let (fake, base) = start_fake().await;
    let store = store(config(&base, Some("nexus")));
    assert_eq!(store.backend(), "cloudinary");
    let files = renditions(b"\xff\xd8\xff the original, metadata removed");
    let public_id = format!("nexus/{}", files.sha256);

    let key = store.put(&files).await.unwrap();
    assert_eq!(key, public_id);
    {
        let state = fake.state();
        let sent = &state.uploads[0];
        let mut names: Vec<&str> = sent.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["api_key", "overwrite", "public_id", "signature", "timestamp"]);
        assert_eq!(sent["overwrite"], "false");
        assert_eq!(sent["public_id"], public_id);
        let (bytes, mime) = &state.stored[&public_id];
        assert_eq!(bytes, &files.original.bytes, "only the original is uploaded");
        assert_eq!(mime, "image/jpeg");
    }

    for variant in [Variant::Thumbnail, Variant::Preview, Variant::Original] {
        let fetched = store.get(&key, variant).await.unwrap().expect("stored");
        assert_eq!(fetched.mime, "image/jpeg");
        assert_eq!(fetched.bytes, files.original.bytes);
    }
    assert_eq!(
        fake.state().delivered,
        [
            format!("c_limit,w_400,h_400/f_auto/q_auto/{public_id}"),
            format!("c_limit,w_1600,h_1600/f_auto/q_auto/{public_id}"),
            public_id.clone(),
        ]
    );

    // The same bytes again: the same key, the first copy kept.
    assert_eq!(store.put(&files).await.unwrap(), key);
    assert_eq!(fake.state().stored.len(), 1);

    store.delete(&key).await.unwrap();
    {
        let state = fake.state();
        let sent = &state.destroys[0];
        assert_eq!(sent["public_id"], public_id);
        assert_eq!(sent["invalidate"], "true");
        assert!(sent.contains_key("signature") && sent.contains_key("timestamp"));
        assert!(state.stored.is_empty());
    }
    assert!(store.get(&key, Variant::Original).await.unwrap().is_none());
    assert!(store.get(&key, Variant::Thumbnail).await.unwrap().is_none());
    // Already gone: not an error ("not found").
    store.delete(&key).await.unwrap();
}

#[tokio::test]
async fn without_a_folder_the_key_is_the_sha256() {
    let (fake, base) = start_fake().await;
    let store = store(config(&base, None));
    let files = renditions(b"another image");
    assert_eq!(store.put(&files).await.unwrap(), files.sha256);
    assert!(fake.state().stored.contains_key(&files.sha256));
}

#[tokio::test]
async fn keys_not_made_here_are_never_put_in_a_url() {
    let (fake, base) = start_fake().await;
    let store = store(config(&base, Some("nexus")));
    for key in ["", "../admin", "nexus/a.jpg", "a//b", "a?b", "/abs"] {
        assert!(store.get(key, Variant::Original).await.unwrap().is_none(), "{key:?}");
        store.delete(key).await.unwrap();
    }
    let state = fake.state();
    assert!(state.delivered.is_empty() && state.destroys.is_empty());
}

#[tokio::test]
async fn a_wrong_secret_is_refused_with_cloudinarys_message() {
    let (fake, base) = start_fake().await;
    let right = store(config(&base, Some("nexus")));
    let key = right.put(&renditions(b"kept")).await.unwrap();

    let wrong = store(CloudinaryConfig { api_secret: "not-the-secret".into(), ..config(&base, Some("nexus")) });
    assert_refused(wrong.put(&renditions(b"image")).await, "Invalid Signature ");
    assert_refused(wrong.delete(&key).await, "Invalid Signature ");
    assert!(fake.state().stored.contains_key(&key), "a refused destroy removes nothing");

    let unknown_key = store(CloudinaryConfig { api_key: "999".into(), ..config(&base, None) });
    assert_refused(unknown_key.put(&renditions(b"image")).await, "Unknown API key 999");
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_unavailable() {
    let (fake, base) = start_fake().await;
    let store = store(config(&base, Some("nexus")));
    let files = renditions(b"image");
    let key = store.put(&files).await.unwrap();
    for status in [500, 503, 420, 429] {
        fake.state().fail_with = Some(status);
        assert_unavailable(store.put(&files).await);
        assert_unavailable(store.get(&key, Variant::Preview).await);
        assert_unavailable(store.delete(&key).await);
    }
    fake.state().fail_with = Some(400);
    assert_refused(store.put(&files).await, "General Error");
}

#[tokio::test]
async fn an_unreachable_port_is_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let store = store(config(&base, Some("nexus")));
    assert_unavailable(store.put(&renditions(b"image")).await);
    assert_unavailable(store.get("nexus/abc", Variant::Thumbnail).await);
    assert_unavailable(store.delete("nexus/abc").await);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_as_unavailable() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", silent.local_addr().unwrap());
    // Accept connections and keep them open without a byte of answer.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let store = store(config(&base, None)).with_timeout(Duration::from_millis(300));
    for result in [
        store.put(&renditions(b"image")).await.map(|_| ()),
        store.get("abc", Variant::Original).await.map(|_| ()),
        store.delete("abc").await,
    ] {
        match result {
            Err(MediaError::Unavailable { backend: "cloudinary", detail }) => {
                assert!(detail.contains("timed out"), "{detail}")
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_fake_refuses_a_stale_timestamp_and_a_bad_signature() {
    let (_fake, base) = start_fake().await;
    let http = reqwest::Client::new();
    let destroy = |timestamp: String, secret: &str| {
        let params = [("public_id", "x"), ("timestamp", timestamp.as_str())];
        let signature = signature(&params, secret);
        let form =
            [("public_id", "x"), ("timestamp", timestamp.as_str()), ("api_key", API_KEY), ("signature", &signature)];
        http.post(format!("{base}/v1_1/{CLOUD}/image/destroy")).form(&form).send()
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();

    let fresh = destroy(now.to_string(), API_SECRET).await.unwrap();
    assert_eq!(fresh.status(), 200);
    assert_eq!(fresh.json::<serde_json::Value>().await.unwrap(), json!({ "result": "not found" }));

    let stale = destroy((now - 3601).to_string(), API_SECRET).await.unwrap();
    assert_eq!(stale.status(), 400);
    assert!(stale.text().await.unwrap().contains("Stale request"));

    let forged = destroy(now.to_string(), "abcd").await.unwrap();
    assert_eq!(forged.status(), 401);
    let body: serde_json::Value = forged.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Invalid Signature ") && message.contains("public_id=x&timestamp="), "{message}");
}

// ---- configuration --------------------------------------------------------------------

#[test]
fn from_url_parses_the_plain_cloudinary_url() {
    let config = CloudinaryConfig::from_url("cloudinary://614335564976464:Ab-c_D3f@nexus-demo").unwrap();
    assert_eq!(config.cloud_name, "nexus-demo");
    assert_eq!(config.api_key, "614335564976464");
    assert_eq!(config.api_secret, "Ab-c_D3f");
    assert_eq!(config.base_url, "https://api.cloudinary.com");
    assert_eq!(config.delivery_url, "https://res.cloudinary.com");
    assert_eq!(config.folder, None);

    let regional =
        CloudinaryConfig::from_url("cloudinary://k:s@c?upload_prefix=https%3A%2F%2Fapi-eu.cloudinary.com&secure=true")
            .unwrap();
    assert_eq!(regional.base_url, "https://api-eu.cloudinary.com");
}

#[test]
fn from_url_rejects_malformed_ones_without_quoting_the_secret() {
    let secret = "SuperSecret42";
    for url in [
        format!("https://614335564976464:{secret}@demo"),
        format!("cloudinary://614335564976464:{secret}"),
        format!("cloudinary://614335564976464{secret}@demo"),
        format!("cloudinary://:{secret}@demo"),
        "cloudinary://614335564976464:@demo".to_owned(),
        format!("cloudinary://614335564976464:{secret}@"),
        format!("cloudinary://614335564976464:{secret}@de/mo"),
        format!("cloudinary://k:{secret}@demo?upload_prefix=ftp://x"),
    ] {
        let error = CloudinaryConfig::from_url(&url).expect_err(&url).to_string();
        assert!(!error.contains(secret), "{error}");
        assert!(error.contains("CLOUDINARY_URL") || error.contains("media.cloudinary"), "{error}");
    }
}

#[test]
fn new_rejects_an_incomplete_config() {
    let error = CloudinaryStore::new(CloudinaryConfig::default()).unwrap_err();
    assert!(error.to_string().starts_with("media.cloudinary.cloud_name"), "{error}");
    let no_secret = CloudinaryConfig { api_secret: String::new(), ..config("http://127.0.0.1:1", None) };
    assert!(CloudinaryStore::new(no_secret).unwrap_err().to_string().starts_with("media.cloudinary.api_secret"));
    let bad_folder = config("http://127.0.0.1:1", Some("a/../b"));
    assert!(CloudinaryStore::new(bad_folder).unwrap_err().to_string().starts_with("media.cloudinary.folder"));
}

#[test]
fn debug_redacts_the_secret() {
    let config = config("http://127.0.0.1:1", Some("nexus"));
    let shown = format!("{config:?}");
    assert!(!shown.contains(API_SECRET), "{shown}");
    assert!(shown.contains("<redacted>") && shown.contains(API_KEY) && shown.contains(CLOUD), "{shown}");
    let store = format!("{:?}", store(config));
    assert!(!store.contains(API_SECRET), "{store}");
}
