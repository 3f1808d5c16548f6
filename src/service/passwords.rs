//! argon2id password hashing at OWASP's minimum (m = 19 MiB, t = 2, p = 1), on the
//! blocking pool so a login never stalls the async workers.

use std::sync::Arc;

use anyhow::Context;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Passwords {
    argon: Arc<Argon2<'static>>,
    /// At most one hash per core at a time: each takes 19 MiB and a core for tens of
    /// milliseconds, so a flood of logins queues instead of exhausting memory (and the
    /// allocator reuses the same few buffers instead of growing an arena per thread).
    slots: Arc<tokio::sync::Semaphore>,
    /// A hash of a random password, verified against when the username is unknown so
    /// that "no such user" costs the same time as "wrong password".
    dummy_hash: Arc<String>,
}

impl Passwords {
    pub fn new() -> anyhow::Result<Self> {
        let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = uuid::Uuid::new_v4().to_string();
        let dummy_hash = argon
            .hash_password(dummy.as_bytes())
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
            .context("hashing the timing-equaliser password")?
            .to_string();
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Ok(Self {
            argon: Arc::new(argon),
            slots: Arc::new(tokio::sync::Semaphore::new(cores)),
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        let _slot = self.slots.acquire().await.map_err(Error::internal)?;
        let argon = self.argon.clone();
        let password = password.to_string();
        tokio::task::spawn_blocking(move || {
            argon.hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| anyhow::anyhow!("argon2: {e}"))
        })
        .await
        .map_err(Error::internal)?
        .map_err(Error::Internal)
    }

    /// True when `password` matches `hash`. With `hash = None` (unknown user) a dummy
    /// verification runs and the answer is false.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool> {
        let _slot = self.slots.acquire().await.map_err(Error::internal)?;
        let argon = self.argon.clone();
        let password = password.to_string();
        let (hash, known) = match hash {
            Some(h) => (h.to_string(), true),
            None => (self.dummy_hash.as_str().to_string(), false),
        };
        let ok = tokio::task::spawn_blocking(move || argon.verify_password(password.as_bytes(), hash.as_str()).is_ok())
            .await
            .map_err(Error::internal)?;
        Ok(ok && known)
    }
}
