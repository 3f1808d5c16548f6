//! TLS for the clients of the parts (PostgreSQL, Redis, push services, Cloudinary): one
//! rustls crypto provider for the process. Several crates bring rustls with different
//! providers compiled in, and rustls then refuses to guess; ring is chosen here, once.

/// Install ring as the process's rustls provider (a second call is a no-op).
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
