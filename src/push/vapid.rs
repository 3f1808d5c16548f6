//! VAPID (RFC 8292): the server's P-256 key pair, and the signed JWT that tells a push
//! service which application server is sending.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use p256::{SecretKey, elliptic_curve::sec1::ToEncodedPoint, pkcs8::EncodePrivateKey};

/// How long one signed JWT is valid (RFC 8292 allows at most 24 hours).
const JWT_VALIDITY: Duration = Duration::from_secs(12 * 3600);

/// The application server's key pair, and the contact it signs with.
#[derive(Clone)]
pub struct Vapid {
    secret: SecretKey,
    /// The uncompressed public point, base64url: what browsers take as
    /// `applicationServerKey`, and the `k=` of every request.
    public: String,
    signing: jsonwebtoken::EncodingKey,
    subject: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct VapidClaims {
    /// The push service's origin.
    pub aud: String,
    pub exp: u64,
    pub sub: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid").field("public", &self.public).field("subject", &self.subject).finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not a P-256 private key")]
pub struct BadKey;

impl Vapid {
    /// The key pair of a 32-byte scalar; a seed that is not a valid scalar (zero, or not
    /// below the group order: odds of 2^-32) is hashed again until it is.
    pub fn from_seed(seed: &[u8]) -> Self {
        use sha2::Digest;
        let mut bytes = sha2::Sha256::digest(seed);
        loop {
            if let Ok(secret) = SecretKey::from_slice(&bytes) {
                return Self::from_secret(secret);
            }
            bytes = sha2::Sha256::digest(bytes);
        }
    }

    /// A configured private key: 32 bytes, base64url (padding tolerated).
    pub fn from_base64(key: &str) -> Result<Self, BadKey> {
        let bytes = URL_SAFE_NO_PAD.decode(key.trim().trim_end_matches('=')).map_err(|_| BadKey)?;
        if bytes.len() != 32 {
            return Err(BadKey);
        }
        Ok(Self::from_secret(SecretKey::from_slice(&bytes).map_err(|_| BadKey)?))
    }

    fn from_secret(secret: SecretKey) -> Self {
        let public = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
        let der = secret.to_pkcs8_der().expect("a valid P-256 key encodes as PKCS#8");
        let signing = jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes());
        Vapid { secret, public, signing, subject: String::new() }
    }

    pub fn with_subject(mut self, subject: &str) -> Self {
        self.subject = subject.to_string();
        self
    }

    /// The public key, base64url (65 bytes, uncompressed).
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The private scalar, base64url (for `push.vapid_private_key` when moving servers).
    pub fn private_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.secret.to_bytes())
    }

    /// The `Authorization` header for a request to `endpoint` (RFC 8292 section 3):
    /// `vapid t=<JWT for the endpoint's origin>, k=<public key>`.
    pub fn authorization(&self, endpoint: &url::Url, now: u64) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = VapidClaims {
            aud: endpoint.origin().ascii_serialization(),
            exp: now + JWT_VALIDITY.as_secs(),
            sub: self.subject.clone(),
        };
        let jwt =
            jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256), &claims, &self.signing)?;
        Ok(format!("vapid t={jwt}, k={}", self.public))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_pair_is_stable_and_round_trips() {
        let a = Vapid::from_seed(b"seed");
        let b = Vapid::from_seed(b"seed");
        assert_eq!(a.public_key(), b.public_key());
        assert_ne!(a.public_key(), Vapid::from_seed(b"other").public_key());
        assert_eq!(URL_SAFE_NO_PAD.decode(a.public_key()).unwrap().len(), 65);
        let again = Vapid::from_base64(&a.private_key()).unwrap();
        assert_eq!(again.public_key(), a.public_key());
        assert!(Vapid::from_base64("not a key").is_err());
        assert!(Vapid::from_base64(&URL_SAFE_NO_PAD.encode([0u8; 32])).is_err());
        assert!(Vapid::from_base64(&URL_SAFE_NO_PAD.encode([1u8; 31])).is_err());
    }

    #[test]
    fn the_jwt_verifies_with_the_public_key_and_names_the_origin() {
        let v = Vapid::from_seed(b"seed").with_subject("mailto:ops@example.org");
        let url = url::Url::parse("https://push.example.net:8443/send/abc?x=1").unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let header = v.authorization(&url, now).unwrap();
        let (t, k) = header.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, v.public_key());
        let point = URL_SAFE_NO_PAD.decode(k).unwrap();
        let (x, y) = (URL_SAFE_NO_PAD.encode(&point[1..33]), URL_SAFE_NO_PAD.encode(&point[33..]));
        let key = jsonwebtoken::DecodingKey::from_ec_components(&x, &y).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.set_audience(&["https://push.example.net:8443"]);
        let claims = jsonwebtoken::decode::<VapidClaims>(t, &key, &validation).unwrap().claims;
        assert_eq!(claims.sub, "mailto:ops@example.org");
        assert!(claims.exp > now && claims.exp <= now + 24 * 3600);
        // Another key does not verify it.
        let other = Vapid::from_seed(b"other");
        let point = URL_SAFE_NO_PAD.decode(other.public_key()).unwrap();
        let (x, y) = (URL_SAFE_NO_PAD.encode(&point[1..33]), URL_SAFE_NO_PAD.encode(&point[33..]));
        let key = jsonwebtoken::DecodingKey::from_ec_components(&x, &y).unwrap();
        assert!(jsonwebtoken::decode::<VapidClaims>(t, &key, &validation).is_err());
    }
}
