//! What a browser's subscription must look like before the server will ever send to it:
//! the endpoint is where the server makes requests, so it is checked like any URL a user
//! hands a server (no credentials in it, `https`, no loopback or private address unless
//! `push.allow_http_endpoints`), and the keys must be a P-256 point and a 16-byte secret.

use std::net::IpAddr;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// Longest endpoint accepted (push services' URLs are a few hundred characters).
pub const MAX_ENDPOINT: usize = 2048;

/// A subscription's keys, decoded.
pub struct Keys {
    pub p256dh: p256::PublicKey,
    pub auth: [u8; 16],
}

/// Why a subscription is refused (the message names the field).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(why: &str) -> Invalid {
    Invalid(why.into())
}

/// Check an endpoint URL; `allow_http` also admits `http://` and local addresses.
pub fn check_endpoint(endpoint: &str, allow_http: bool) -> Result<url::Url, Invalid> {
    if endpoint.len() > MAX_ENDPOINT {
        return Err(invalid("endpoint: longer than 2048 characters"));
    }
    let url = url::Url::parse(endpoint).map_err(|_| invalid("endpoint: not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err(invalid("endpoint: must be an https URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("endpoint: must not carry credentials"));
    }
    let Some(host) = url.host() else { return Err(invalid("endpoint: has no host")) };
    if !allow_http {
        let local = match host {
            url::Host::Ipv4(ip) => !is_public(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => !is_public(IpAddr::V6(ip)),
            url::Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name == "localhost" || name.ends_with(".localhost") || !name.contains('.')
            }
        };
        if local {
            return Err(invalid("endpoint: must be a public host"));
        }
    }
    Ok(url)
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64) // 100.64.0.0/10
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link local
        }
    }
}

fn decode(value: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')).ok()
}

/// Decode and check a subscription's `keys`.
pub fn check_keys(p256dh: &str, auth: &str) -> Result<Keys, Invalid> {
    let point = decode(p256dh).filter(|b| b.len() == 65 && b[0] == 4);
    let p256dh = point
        .and_then(|b| p256::PublicKey::from_sec1_bytes(&b).ok())
        .ok_or_else(|| invalid("keys.p256dh: must be an uncompressed P-256 point, base64url"))?;
    let auth: [u8; 16] = decode(auth)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| invalid("keys.auth: must be 16 bytes, base64url"))?;
    Ok(Keys { p256dh, auth })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert!(check_endpoint("https://fcm.googleapis.com/fcm/send/abc", false).is_ok());
        assert!(check_endpoint("https://updates.push.services.mozilla.com/wpush/v2/x", false).is_ok());
        for bad in [
            "http://push.example.com/x",
            "https://user:pw@push.example.com/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://192.168.1.1/x",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://localhost/x",
            "https://db.localhost/x",
            "https://intranet/x",
            "ftp://push.example.com/x",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert!(check_endpoint(bad, false).is_err(), "{bad} accepted");
        }
        assert!(check_endpoint("http://127.0.0.1:9/push/1", true).is_ok());
        assert!(check_endpoint("https://user:pw@127.0.0.1/x", true).is_err());
        assert!(check_endpoint(&format!("https://push.example.com/{}", "a".repeat(MAX_ENDPOINT)), false).is_err());
    }

    #[test]
    fn keys() {
        let secret = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let point = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
        let auth = URL_SAFE_NO_PAD.encode([1u8; 16]);
        assert!(check_keys(&point, &auth).is_ok());
        assert!(check_keys(&format!("{point}="), &format!("{auth}==")).is_ok());
        let compressed = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(true).as_bytes());
        assert!(check_keys(&compressed, &auth).is_err());
        assert!(check_keys(&URL_SAFE_NO_PAD.encode([4u8; 65]), &auth).is_err(), "not on the curve");
        assert!(check_keys(&point, &URL_SAFE_NO_PAD.encode([1u8; 15])).is_err());
        assert!(check_keys("!!", &auth).is_err());
    }
}
