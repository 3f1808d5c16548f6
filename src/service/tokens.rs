//! Access and refresh tokens.
//!
//! - Access tokens are HS256 JWTs (`sub`, `iat`, `exp`, `adm`), 15 minutes by default.
//!   Only HS256 is accepted: `alg: none` and every other algorithm are refused.
//! - Refresh tokens are 32 random bytes (base64url); only their SHA-256 is stored. Each use
//!   consumes the token and issues a successor in the same family; presenting a consumed
//!   token again revokes the family (see `Store::consume_refresh_token`).
//! - The signing secret comes from `auth.jwt_secret`, or is generated once into
//!   `DATA_DIR/secret.key` (mode 0600) and reused. There is no built-in secret.

use std::{io::Write, path::Path, time::Duration};

use anyhow::Context;
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{Error, Result};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub iat: i64,
    pub exp: i64,
    /// Administrator at the time of issue.
    #[serde(default)]
    pub adm: bool,
    /// The session (refresh token family) this token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &[u8], access_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
        }
    }

    pub fn issue(&self, user_id: Uuid, admin: bool, now: DateTime<Utc>) -> Result<String> {
        self.issue_for(user_id, admin, now, None)
    }

    /// An access token of session `sid`.
    pub fn issue_for(&self, user_id: Uuid, admin: bool, now: DateTime<Utc>, sid: Option<Uuid>) -> Result<String> {
        let claims = Claims {
            sub: user_id,
            iat: now.timestamp(),
            exp: now.timestamp() + self.access_ttl.as_secs() as i64,
            adm: admin,
            sid,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(Error::internal)
    }

    pub fn verify(&self, token: &str) -> Result<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map(|d| d.claims).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            let detail = match e.kind() {
                ErrorKind::ExpiredSignature => "access token expired",
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "access token algorithm not accepted",
                ErrorKind::InvalidSignature => "access token signature invalid",
                _ => "access token malformed",
            };
            Error::unauthorized(detail)
        })
    }
}

/// A new opaque refresh token and the hash that is stored.
pub fn new_refresh_token() -> (String, Vec<u8>) {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = B64.encode(raw);
    let hash = hash_token(&token);
    (token, hash)
}

/// A new invite code (shown once) and the hash that is stored.
pub fn new_invite_code() -> (String, Vec<u8>) {
    let mut raw = [0u8; 12];
    rand::rng().fill_bytes(&mut raw);
    let code = B64.encode(raw);
    let hash = hash_token(&code);
    (code, hash)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// 32 random bytes.
/// A secret for another purpose derived from the signing secret (HMAC-SHA256 over
/// `purpose`, hex), so that every node that shares the one agrees on the other.
pub fn derived_secret(secret: &[u8], purpose: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(purpose);
    hex::encode(mac.finalize().into_bytes())
}

pub fn random_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// The configured secret, or the one kept in `data_dir/secret.key`, created on first use.
pub fn load_or_create_secret(configured: &str, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if !configured.is_empty() {
        return Ok(configured.as_bytes().to_vec());
    }
    let path = data_dir.join("secret.key");
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() >= 32 => return Ok(bytes),
        Ok(_) => anyhow::bail!("{} is shorter than 32 bytes; delete it to generate a new one", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut secret = vec![0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut f) => {
            f.write_all(&secret)?;
            f.sync_all()?;
            tracing::info!(path = %path.display(), "generated a new token signing secret");
            Ok(secret)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(std::fs::read(&path)?),
        Err(e) => Err(e).with_context(|| format!("cannot write {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_other_algorithms_and_forgeries() {
        let keys = TokenKeys::new(&[7u8; 32], Duration::from_secs(900));
        let id = Uuid::new_v4();
        let good = keys.issue(id, false, Utc::now()).unwrap();
        assert_eq!(keys.verify(&good).unwrap().sub, id);

        let other = TokenKeys::new(&[8u8; 32], Duration::from_secs(900));
        assert!(other.verify(&good).is_err());

        // alg = none, unsigned
        let header = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = B64.encode(format!(r#"{{"sub":"{id}","iat":1,"exp":9999999999}}"#));
        assert!(keys.verify(&format!("{header}.{payload}.")).is_err());

        let expired = keys.issue(id, false, Utc::now() - chrono::Duration::hours(1)).unwrap();
        assert!(keys.verify(&expired).is_err());
    }

    #[test]
    fn secret_is_created_once_with_mode_0600() {
        let dir = std::env::temp_dir().join(format!("nexus-secret-{}", Uuid::new_v4()));
        let a = load_or_create_secret("", &dir).unwrap();
        let b = load_or_create_secret("", &dir).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secret.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
