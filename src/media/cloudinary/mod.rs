//! [`CloudinaryStore`]: the [`MediaStore`] kept at Cloudinary, spoken to through its
//! documented Upload API with signature-based authentication.
//!
//! - `put`: `POST {base_url}/v1_1/{cloud_name}/image/upload`, multipart, with the original's
//!   bytes as `file`, `public_id` = the upload's SHA-256 (under `folder` if set) and
//!   `overwrite=false`, so storing the same bytes again keeps the first copy. Only the
//!   original is sent: Cloudinary makes the preview and the thumbnail itself.
//! - `get`: `GET {delivery_url}/{cloud_name}/image/upload/{transformation}/{public_id}`,
//!   the transformation being `c_limit,w_400,h_400/f_auto/q_auto` (thumbnail),
//!   `c_limit,w_1600,h_1600/f_auto/q_auto` (preview) or none (original). A 404 is `None`.
//! - `delete`: `POST {base_url}/v1_1/{cloud_name}/image/destroy` with `public_id` and
//!   `invalidate=true` (the CDN's cached copies go too); `not found` is not an error.
//!
//! What is signed, as Cloudinary documents it: every parameter of the call except `file`,
//! `cloud_name`, `resource_type` and `api_key`, empty ones left out, with `timestamp` (Unix
//! seconds; Cloudinary refuses one older than an hour) among them; sorted by name, joined
//! as `k=v&k2=v2`, the API secret appended, SHA-1, lower-case hex, sent as `signature`.
//! The secret itself never leaves the process and is never logged.
//!
//! Errors: Cloudinary answers `{"error": {"message": "…"}}` with a 4xx or 5xx status. A
//! 4xx is [`MediaError::Refused`] with that message, except 420 and 429 (rate limits) and
//! 408, which like a 5xx, a refused connection or a timeout are [`MediaError::Unavailable`].

mod config;
#[cfg(test)]
mod tests;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use reqwest::{Response, StatusCode, header::CONTENT_TYPE};
use serde::Deserialize;
use sha1::{Digest, Sha1};

pub use config::{CloudinaryConfig, CloudinaryConfigError};

use super::{Fetched, MediaError, MediaResult, MediaStore, Renditions, Variant};

const BACKEND: &str = "cloudinary";
/// An upload carries the whole original.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(30);
/// A delivery carries one rendition, the original at most.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Destroy: a small form and a small answer.
const API_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The parameters Cloudinary leaves out of the signature.
const UNSIGNED: [&str; 4] = ["file", "cloud_name", "resource_type", "api_key"];

/// The authentication signature of a call with these parameters, as documented: those of
/// [`UNSIGNED`] and empty values left out, sorted by name, `k=v` joined by `&`, the secret
/// appended, SHA-1 in lower-case hex.
pub fn signature(params: &[(&str, &str)], api_secret: &str) -> String {
    let mut signed: Vec<&(&str, &str)> =
        params.iter().filter(|(name, value)| !value.is_empty() && !UNSIGNED.contains(name)).collect();
    signed.sort_by(|a, b| a.0.cmp(b.0));
    let mut payload = signed.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("&");
    payload.push_str(api_secret);
    hex::encode(Sha1::digest(payload.as_bytes()))
}

/// The delivery transformation of each rendition (Cloudinary derives and caches them).
pub fn transformation(variant: Variant) -> Option<&'static str> {
    match variant {
        Variant::Original => None,
        Variant::Preview => Some("c_limit,w_1600,h_1600/f_auto/q_auto"),
        Variant::Thumbnail => Some("c_limit,w_400,h_400/f_auto/q_auto"),
    }
}

/// Images kept at Cloudinary under their SHA-256.
#[derive(Debug, Clone)]
pub struct CloudinaryStore {
    config: CloudinaryConfig,
    http: reqwest::Client,
    upload_timeout: Duration,
    delivery_timeout: Duration,
    api_timeout: Duration,
}

/// The part of the upload answer used here (it has many more fields).
#[derive(Debug, Deserialize)]
struct Uploaded {
    public_id: String,
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    bytes: Option<u64>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    width: Option<u32>,
    #[serde(default)]
    height: Option<u32>,
    #[serde(default)]
    existing: bool,
}

#[derive(Debug, Deserialize)]
struct Destroyed {
    result: String,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorMessage,
}

#[derive(Debug, Deserialize)]
struct ErrorMessage {
    message: String,
}

impl CloudinaryStore {
    pub fn new(config: CloudinaryConfig) -> Result<Self, CloudinaryConfigError> {
        config.validate()?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| CloudinaryConfigError(format!("media.cloudinary: HTTP client: {e}")))?;
        Ok(CloudinaryStore {
            config,
            http,
            upload_timeout: UPLOAD_TIMEOUT,
            delivery_timeout: DELIVERY_TIMEOUT,
            api_timeout: API_TIMEOUT,
        })
    }

    /// The same store with every request timing out after `timeout`.
    #[cfg(test)]
    fn with_timeout(self, timeout: Duration) -> Self {
        CloudinaryStore { upload_timeout: timeout, delivery_timeout: timeout, api_timeout: timeout, ..self }
    }

    fn api_url(&self, action: &str) -> String {
        format!("{}/v1_1/{}/image/{action}", self.config.base_url.trim_end_matches('/'), self.config.cloud_name)
    }

    fn delivery_url(&self, public_id: &str, variant: Variant) -> String {
        let base = self.config.delivery_url.trim_end_matches('/');
        let cloud = &self.config.cloud_name;
        match transformation(variant) {
            Some(t) => format!("{base}/{cloud}/image/upload/{t}/{public_id}"),
            None => format!("{base}/{cloud}/image/upload/{public_id}"),
        }
    }

    fn public_id(&self, sha256: &str) -> String {
        match self.config.folder() {
            Some(folder) => format!("{folder}/{sha256}"),
            None => sha256.to_owned(),
        }
    }

    fn sign(&self, params: &[(&str, &str)]) -> String {
        signature(params, &self.config.api_secret)
    }
}

/// Public IDs this store makes: `[folder/]hex`. Anything else was never stored here, and
/// is never put into a URL.
fn is_own_public_id(key: &str) -> bool {
    !key.is_empty() && key.split('/').all(|part| !part.is_empty() && part.chars().all(config::public_id_char))
}

fn unix_now() -> String {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default().to_string()
}

fn unavailable(detail: impl Into<String>) -> MediaError {
    MediaError::Unavailable { backend: BACKEND, detail: detail.into() }
}

fn refused(detail: impl Into<String>) -> MediaError {
    MediaError::Refused { backend: BACKEND, detail: detail.into() }
}

/// A request that got no answer: refused connection, timeout, broken body.
fn transport(what: &str, e: reqwest::Error) -> MediaError {
    let why = if e.is_timeout() { "timed out" } else { "failed" };
    unavailable(format!("{what} {why}: {e}"))
}

/// An answer with a failure status, `detail` being Cloudinary's message or a stand-in.
fn failed(status: StatusCode, detail: String) -> MediaError {
    let retryable = matches!(status.as_u16(), 408 | 420 | 429);
    if status.is_client_error() && !retryable {
        refused(detail)
    } else {
        unavailable(format!("HTTP {}: {detail}", status.as_u16()))
    }
}

/// Maps a non-success answer of the API, reading its `{"error": {"message"}}`.
async fn api_failure(what: &str, response: Response) -> MediaError {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    let detail = match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(e) => e.error.message,
        Err(_) => format!("{what}: HTTP {status} without an error message"),
    };
    failed(status, detail)
}

/// A success answer's JSON; one that is not what Cloudinary documents is a backend fault.
async fn json<T: for<'de> Deserialize<'de>>(what: &str, response: Response) -> MediaResult<T> {
    let body = response.bytes().await.map_err(|e| transport(what, e))?;
    serde_json::from_slice(&body).map_err(|e| unavailable(format!("{what}: unexpected answer: {e}")))
}

#[async_trait]
impl MediaStore for CloudinaryStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn put(&self, files: &Renditions) -> MediaResult<String> {
        if files.sha256.is_empty() || !files.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(refused("upload: the content address is not a hex SHA-256"));
        }
        let public_id = self.public_id(&files.sha256);
        let timestamp = unix_now();
        let signed = [("public_id", public_id.as_str()), ("overwrite", "false"), ("timestamp", timestamp.as_str())];
        let signature = self.sign(&signed);
        let original = &files.original;
        let file = reqwest::multipart::Part::stream_with_length(original.bytes.clone(), original.bytes.len() as u64)
            .file_name(files.sha256.clone())
            .mime_str(original.mime)
            .map_err(|e| refused(format!("upload: media type {:?}: {e}", original.mime)))?;
        let mut form = reqwest::multipart::Form::new().part("file", file);
        for (name, value) in signed {
            form = form.text(name, value.to_owned());
        }
        let form = form.text("api_key", self.config.api_key.clone()).text("signature", signature);

        let response = self
            .http
            .post(self.api_url("upload"))
            .multipart(form)
            .timeout(self.upload_timeout)
            .send()
            .await
            .map_err(|e| transport("upload", e))?;
        if !response.status().is_success() {
            return Err(api_failure("upload", response).await);
        }
        let uploaded: Uploaded = json("upload", response).await?;
        tracing::debug!(
            public_id = %uploaded.public_id,
            version = ?uploaded.version,
            bytes = ?uploaded.bytes,
            format = ?uploaded.format,
            width = ?uploaded.width,
            height = ?uploaded.height,
            existing = uploaded.existing,
            "cloudinary upload"
        );
        Ok(uploaded.public_id)
    }

    async fn get(&self, key: &str, variant: Variant) -> MediaResult<Option<Fetched>> {
        if !is_own_public_id(key) {
            return Ok(None);
        }
        let response = self
            .http
            .get(self.delivery_url(key, variant))
            .timeout(self.delivery_timeout)
            .send()
            .await
            .map_err(|e| transport("delivery", e))?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            // Delivery errors come as a header, not JSON.
            let detail = response
                .headers()
                .get("x-cld-error")
                .and_then(|v| v.to_str().ok())
                .map_or_else(|| format!("delivery of {key} ({})", variant.as_str()), str::to_owned);
            return Err(failed(status, detail));
        }
        let mime = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = response.bytes().await.map_err(|e| transport("delivery", e))?;
        Ok(Some(Fetched { mime, bytes }))
    }

    async fn delete(&self, key: &str) -> MediaResult<()> {
        if !is_own_public_id(key) {
            return Ok(());
        }
        let timestamp = unix_now();
        let signed = [("public_id", key), ("invalidate", "true"), ("timestamp", timestamp.as_str())];
        let signature = self.sign(&signed);
        let mut form: Vec<(&str, &str)> = signed.to_vec();
        form.push(("api_key", &self.config.api_key));
        form.push(("signature", &signature));

        let response = self
            .http
            .post(self.api_url("destroy"))
            .form(&form)
            .timeout(self.api_timeout)
            .send()
            .await
            .map_err(|e| transport("destroy", e))?;
        if !response.status().is_success() {
            return Err(api_failure("destroy", response).await);
        }
        let destroyed: Destroyed = json("destroy", response).await?;
        match destroyed.result.as_str() {
            "ok" | "not found" => Ok(()),
            other => Err(refused(format!("destroy of {key}: result {other:?}"))),
        }
    }
}
