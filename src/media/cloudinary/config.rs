//! `media.cloudinary`: the product environment's credentials and hosts, from the config file,
//! the environment or a plain `CLOUDINARY_URL` (`cloudinary://API_KEY:API_SECRET@CLOUD_NAME`).
//! The API secret is never printed: [`Debug`] redacts it and no error message quotes it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where and as whom to reach Cloudinary.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CloudinaryConfig {
    /// The product environment's cloud name (the `demo` of `res.cloudinary.com/demo/…`).
    pub cloud_name: String,
    pub api_key: String,
    /// Signs every API request; never sent itself.
    pub api_secret: String,
    /// The API host: uploads and deletions.
    pub base_url: String,
    /// The delivery host: the stored images and their transformations.
    pub delivery_url: String,
    /// Folder the public IDs are put under (e.g. `nexus`); none: the root.
    pub folder: Option<String>,
}

impl CloudinaryConfig {
    pub const DEFAULT_BASE_URL: &'static str = "https://api.cloudinary.com";
    pub const DEFAULT_DELIVERY_URL: &'static str = "https://res.cloudinary.com";

    /// Parses `cloudinary://API_KEY:API_SECRET@CLOUD_NAME`, as the console shows it. An
    /// `upload_prefix` query parameter (a regional API host) sets [`Self::base_url`]; other
    /// query parameters are SDK settings with no meaning here and are ignored.
    pub fn from_url(url: &str) -> Result<Self, CloudinaryConfigError> {
        let bad = |why: &str| {
            CloudinaryConfigError(format!("CLOUDINARY_URL {why} (expected cloudinary://API_KEY:API_SECRET@CLOUD_NAME)"))
        };
        let rest = url.trim().strip_prefix("cloudinary://").ok_or_else(|| bad("does not start with cloudinary://"))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        // The cloud name cannot contain '@'; a secret could, so split at the last one.
        let (credentials, cloud_name) = rest.rsplit_once('@').ok_or_else(|| bad("has no credentials before '@'"))?;
        let (api_key, api_secret) =
            credentials.split_once(':').ok_or_else(|| bad("has no ':' between key and secret"))?;
        let cloud_name = cloud_name.trim_end_matches('/');
        if api_key.is_empty() {
            return Err(bad("has an empty API key"));
        }
        if api_secret.is_empty() {
            return Err(bad("has an empty API secret"));
        }
        if !valid_cloud_name(cloud_name) {
            return Err(bad("has an empty or malformed cloud name"));
        }
        let mut config = CloudinaryConfig {
            cloud_name: cloud_name.to_owned(),
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
            ..Self::default()
        };
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if name == "upload_prefix" {
                config.base_url = value.into_owned();
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Everything [`super::CloudinaryStore::new`] needs is there and well formed.
    pub fn validate(&self) -> Result<(), CloudinaryConfigError> {
        let bad = |field: &str, why: &str| Err(CloudinaryConfigError(format!("media.cloudinary.{field} {why}")));
        if !valid_cloud_name(&self.cloud_name) {
            return bad("cloud_name", "must be set, with letters, digits, '-' and '_' only");
        }
        if self.api_key.is_empty() {
            return bad("api_key", "must be set");
        }
        if self.api_secret.is_empty() {
            return bad("api_secret", "must be set");
        }
        for (field, value) in [("base_url", &self.base_url), ("delivery_url", &self.delivery_url)] {
            match url::Url::parse(value) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {}
                _ => return bad(field, "must be an http(s) URL"),
            }
        }
        if let Some(folder) = self.folder() {
            let ok = folder.split('/').all(|part| !part.is_empty() && part.chars().all(public_id_char));
            if !ok {
                return bad("folder", "may hold letters, digits, '-', '_' and inner '/' only");
            }
        }
        Ok(())
    }

    /// The folder, an empty one counting as none.
    pub fn folder(&self) -> Option<&str> {
        self.folder.as_deref().filter(|f| !f.is_empty())
    }
}

impl Default for CloudinaryConfig {
    fn default() -> Self {
        CloudinaryConfig {
            cloud_name: String::new(),
            api_key: String::new(),
            api_secret: String::new(),
            base_url: Self::DEFAULT_BASE_URL.to_owned(),
            delivery_url: Self::DEFAULT_DELIVERY_URL.to_owned(),
            folder: None,
        }
    }
}

impl fmt::Debug for CloudinaryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = if self.api_secret.is_empty() { "" } else { "<redacted>" };
        f.debug_struct("CloudinaryConfig")
            .field("cloud_name", &self.cloud_name)
            .field("api_key", &self.api_key)
            .field("api_secret", &secret)
            .field("base_url", &self.base_url)
            .field("delivery_url", &self.delivery_url)
            .field("folder", &self.folder)
            .finish()
    }
}

/// A missing or malformed Cloudinary setting. The message names the setting, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CloudinaryConfigError(pub(super) String);

fn valid_cloud_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The characters the public IDs made here use: no '.', which delivery URLs read as a format.
pub(super) fn public_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}
