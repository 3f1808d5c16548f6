//! TURN REST credentials (`username = <expiry>:<user>`, `password =
//! base64(HMAC-SHA1(secret, username))`): made here for the API's ICE server list, and
//! checked here for every request the relay sees.

use std::{
    net::SocketAddr,
    sync::{Arc, atomic::Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use chrono::{DateTime, Utc};
use stun::{
    integrity::MessageIntegrity,
    message::{METHOD_ALLOCATE, Message},
};
use turn::auth::{AuthHandler, generate_auth_key};
use uuid::Uuid;

use super::TurnStats;

/// Credentials for `user` valid until `expires`: `(username, password)`.
pub fn rest_credentials(secret: &str, user: Uuid, expires: DateTime<Utc>) -> (String, String) {
    let username = format!("{}:{user}", expires.timestamp());
    let password = rest_password(secret, &username);
    (username, password)
}

/// TURN REST credentials: the key for `username` if its expiry is ahead.
pub(super) struct RestAuth {
    pub(super) secret: String,
    pub(super) stats: Arc<TurnStats>,
}

impl AuthHandler for RestAuth {
    fn auth_handle(&self, username: &str, realm: &str, src: SocketAddr) -> Result<Vec<u8>, turn::Error> {
        let refuse = |why: &str| {
            self.stats.refused_credentials.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%src, username, why, "TURN credentials refused");
            Err(turn::Error::Other(why.to_string()))
        };
        // The expiry itself is checked by the listener before the engine, for Allocate
        // requests only (see `authentic`); here only the username's shape.
        let Some((expiry, user)) = username.split_once(':') else { return refuse("username is not <expiry>:<user>") };
        if expiry.parse::<u64>().is_err() {
            return refuse("expiry is not a number");
        }
        if user.is_empty() {
            return refuse("no user");
        }
        Ok(generate_auth_key(username, realm, &rest_password(&self.secret, username)))
    }
}

/// The request's MESSAGE-INTEGRITY checks out with the REST password of `username`; and,
/// for an Allocate, the username has not expired. Credentials are what it takes to *make*
/// an allocation: one made in time may be refreshed, and given permissions and channels,
/// after they expire, as long as its call lasts (it is deleted when the call ends).
pub(super) fn authentic(secret: &str, m: &Message, username: &str, now: SystemTime) -> bool {
    let Some(expiry) = username.split_once(':').and_then(|(e, _)| e.parse::<u64>().ok()) else { return false };
    let now = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    if m.typ.method == METHOD_ALLOCATE && expiry < now {
        return false;
    }
    let Some(realm) = m.get(stun::attributes::ATTR_REALM).ok().and_then(|r| String::from_utf8(r).ok()) else {
        return false;
    };
    let integrity =
        MessageIntegrity::new_long_term_integrity(username.to_string(), realm, rest_password(secret, username));
    let mut copy = m.clone();
    integrity.check(&mut copy).is_ok()
}

fn rest_password(secret: &str, username: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use stun::attributes::ATTR_USERNAME;
    use stun::message::{CLASS_REQUEST, METHOD_CREATE_PERMISSION, MessageType, Setter};

    use super::*;

    #[test]
    fn rest_credentials_match_the_published_scheme() {
        // RFC-draft "TURN REST API" example shape: HMAC-SHA1 over the username, base64.
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let (u, p) = rest_credentials("north", Uuid::nil(), at);
        assert_eq!(u, "1700000000:00000000-0000-0000-0000-000000000000");
        // `printf %s "$u" | openssl dgst -sha1 -hmac north -binary | base64`
        assert_eq!(p, "WLicnZche6KJWOPqFFjtz/SZGys=");
    }

    /// A request as a TURN client sends it: long-term credentials over a nonce.
    fn signed(method: stun::message::Method, username: &str, password: &str) -> Message {
        use stun::{agent::TransactionId, textattrs::TextAttribute};
        let mut m = Message::new();
        let setters: Vec<Box<dyn Setter>> = vec![
            Box::new(TransactionId::new()),
            Box::new(MessageType::new(method, CLASS_REQUEST)),
            Box::new(TextAttribute::new(ATTR_USERNAME, username.into())),
            Box::new(TextAttribute::new(stun::attributes::ATTR_REALM, "nexus".into())),
            Box::new(TextAttribute::new(stun::attributes::ATTR_NONCE, "n0nce".into())),
            Box::new(MessageIntegrity::new_long_term_integrity(username.into(), "nexus".into(), password.into())),
        ];
        m.build(&setters).unwrap();
        let mut parsed = Message { raw: m.raw.clone(), ..Default::default() };
        parsed.decode().unwrap();
        parsed
    }

    #[test]
    fn expired_credentials_make_no_allocation_but_keep_one_alive() {
        let now = SystemTime::now();
        let secs = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let (live, old) = (format!("{}:alice", secs + 600), format!("{}:alice", secs - 5));
        let ok = |m: &Message, u: &str| authentic("s3cret-s3cret-s3cret", m, u, now);
        let key = |u: &str| rest_password("s3cret-s3cret-s3cret", u);
        assert!(ok(&signed(METHOD_ALLOCATE, &live, &key(&live)), &live));
        assert!(!ok(&signed(METHOD_ALLOCATE, &old, &key(&old)), &old), "expired: no new allocation");
        assert!(ok(&signed(stun::message::METHOD_REFRESH, &old, &key(&old)), &old), "refresh after expiry");
        assert!(ok(&signed(METHOD_CREATE_PERMISSION, &old, &key(&old)), &old));
        assert!(!ok(&signed(stun::message::METHOD_REFRESH, &old, "forged"), &old), "forged never");
        assert!(!ok(&signed(METHOD_ALLOCATE, &live, "forged"), &live));
        assert!(!ok(&signed(METHOD_ALLOCATE, "alice", &key("alice")), "alice"), "not <expiry>:<user>");
    }

    #[test]
    fn rest_password_is_hmac_sha1_base64() {
        // `printf %s 1700000000:alice | openssl dgst -sha1 -hmac north -binary | base64`
        assert_eq!(rest_password("north", "1700000000:alice"), "Cd/49soE35ICqcJF/bCTn8Z4OyE=");
    }
}
