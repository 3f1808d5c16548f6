//! Accounts: registration, login, token refresh and logout, profile, user search.
//!
//! Rules kept here:
//! - the first account is the administrator; `auth.registration` decides who else may
//!   register (`open`, `invite` with an admin-issued code, or `closed`); in `invite` mode
//!   the very first account needs no code (nobody could have issued one);
//! - login is rate-limited per client IP and per username, and an unknown username costs
//!   the same argon2 verification as a wrong password;
//! - refresh tokens rotate on every use; a replayed one revokes its family;
//! - a disabled account cannot sign in or refresh, and its access tokens are refused at
//!   once (this node's [`super::cache::DisabledUsers`]), all with `account_disabled`.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use uuid::Uuid;

use super::{
    cache::Caches,
    limits,
    passwords::Passwords,
    tokens::{self, Claims, TokenKeys},
    validate::{DisplayName, Password, Username},
};
use crate::{
    bus::{Bus, Quota, keys},
    config::{AuthConfig, Registration},
    error::{Error, Result},
    store::{NewRefreshToken, NewUser, RefreshUse, Store, StoreError, User},
};

/// Two tabs may refresh with the same cookie within this window without it counting as
/// a replay.
const REFRESH_REUSE_GRACE: Duration = Duration::from_secs(10);
const SEARCH_LIMIT: u32 = 20;

/// What a successful login, registration or refresh hands out.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
}

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub invite_code: Option<&'a str>,
}

pub struct Accounts {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    passwords: Passwords,
    keys: TokenKeys,
    config: AuthConfig,
    /// For the disabled accounts.
    caches: Arc<Caches>,
}

impl Accounts {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        keys: TokenKeys,
        config: AuthConfig,
        caches: Arc<Caches>,
    ) -> anyhow::Result<Self> {
        Ok(Self { store, bus, passwords: Passwords::new()?, keys, config, caches })
    }

    pub fn registration(&self) -> Registration {
        self.config.registration
    }

    /// No account exists yet: the next registration creates the administrator and needs
    /// no invite code.
    pub async fn setup_required(&self) -> Result<bool> {
        Ok(!self.store.has_users().await?)
    }

    /// Verify an access token; a disabled account's is refused.
    pub fn authenticate(&self, token: &str) -> Result<Claims> {
        let claims = self.keys.verify(token)?;
        if self.caches.disabled.contains(claims.sub) {
            return Err(account_disabled());
        }
        Ok(claims)
    }

    async fn limit(&self, key: &str, quota: Quota) -> Result<()> {
        limits::check(&*self.bus, key, quota).await
    }

    pub async fn register(&self, input: NewAccount<'_>, client_ip: &str) -> Result<Session> {
        self.limit(
            &keys::register_ip(client_ip),
            Quota::per_hour(self.config.register_per_ip_per_hour, self.config.register_per_ip_per_hour),
        )
        .await?;
        let username = Username::parse(input.username)?;
        let display_name = DisplayName::parse(input.display_name)?;
        let password = Password::parse(input.password)?;
        let mut invite = None;
        match self.config.registration {
            Registration::Open => {}
            Registration::Closed => {
                return Err(Error::Forbidden("registration is closed on this server; ask an administrator".into()));
            }
            Registration::Invite => {
                if self.store.has_users().await? {
                    let code = input.invite_code.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| {
                        Error::invalid("invite_required", "registration needs an invite code on this server")
                    })?;
                    if self.store.credentials_by_username(username.as_str()).await?.is_some() {
                        return Err(username_taken());
                    }
                    let code_hash = tokens::hash_token(code);
                    if code.len() > 64 || !self.store.consume_invite(&code_hash, Utc::now()).await? {
                        return Err(Error::invalid("invalid_invite", "the invite code is unknown, used or expired"));
                    }
                    invite = Some(code_hash);
                }
            }
        }
        let user = self.create_user(&username, &display_name, &password, None).await?;
        if let Some(code_hash) = invite {
            self.store.record_invite_use(&code_hash, user.id).await?;
        }
        tracing::info!(user_id = %user.id, username = user.username, admin = user.is_admin, "account registered");
        self.new_session(user, Uuid::now_v7()).await
    }

    /// Create an account without the registration rules (the `nexus user create` CLI).
    pub async fn create_user(
        &self,
        username: &Username,
        display_name: &DisplayName,
        password: &Password,
        admin: Option<bool>,
    ) -> Result<User> {
        let password_hash = self.passwords.hash(password.as_str()).await?;
        self.store
            .create_user(NewUser {
                id: Uuid::now_v7(),
                username: username.as_str().to_string(),
                display_name: display_name.as_str().to_string(),
                password_hash,
                admin,
                created_at: Utc::now(),
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => username_taken(),
                other => other.into(),
            })
    }

    pub async fn login(&self, username: &str, password: &str, client_ip: &str) -> Result<Session> {
        // The per-username key uses the normalised name, bounded, even if it is invalid.
        let normalised: String = username.trim().to_ascii_lowercase().chars().take(64).collect();
        self.limit(
            &keys::login_ip(client_ip),
            Quota::per_minute(self.config.login_per_ip_per_minute, self.config.login_per_ip_burst),
        )
        .await?;
        self.limit(
            &keys::login_user(&normalised),
            Quota::per_minute(self.config.login_per_user_per_minute, self.config.login_per_user_burst),
        )
        .await?;
        let creds = match Username::parse(&normalised) {
            Ok(u) if password.len() <= 1024 => self.store.credentials_by_username(u.as_str()).await?,
            _ => None,
        };
        // An over-long password cannot match (registration refuses them) but still costs a
        // verification, like every other failure.
        let candidate = if password.len() <= 1024 { password } else { "" };
        let ok = self.passwords.verify(candidate, creds.as_ref().map(|c| c.password_hash.as_str())).await?;
        let user = match (ok, creds) {
            (true, Some(c)) => self.store.user_by_id(c.id).await?,
            _ => None,
        };
        let Some(user) = user else {
            return Err(Error::unauthorized("wrong username or password").with_code("invalid_credentials"));
        };
        if self.store.is_disabled(user.id).await? {
            return Err(account_disabled());
        }
        self.new_session(user, Uuid::now_v7()).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<Session> {
        if refresh_token.is_empty() || refresh_token.len() > 128 {
            return Err(invalid_refresh());
        }
        let now = Utc::now();
        let grace = chrono::Duration::from_std(REFRESH_REUSE_GRACE).unwrap_or_default();
        match self.store.consume_refresh_token(&tokens::hash_token(refresh_token), now, grace).await? {
            RefreshUse::Fresh { user_id, family_id } => {
                let user = self.store.user_by_id(user_id).await?.ok_or_else(invalid_refresh)?;
                if self.store.is_disabled(user_id).await? {
                    return Err(account_disabled());
                }
                self.new_session(user, family_id).await
            }
            RefreshUse::Replayed { user_id, family_id } => {
                tracing::warn!(%user_id, %family_id, "refresh token replayed; session family revoked");
                Err(Error::unauthorized("this refresh token was already used; the session has been ended")
                    .with_code("refresh_token_reused"))
            }
            RefreshUse::Invalid => Err(invalid_refresh()),
        }
    }

    /// End the session the refresh token belongs to. Unknown tokens are ignored.
    pub async fn logout(&self, refresh_token: &str) -> Result<()> {
        if refresh_token.is_empty() || refresh_token.len() > 128 {
            return Ok(());
        }
        let now = Utc::now();
        let grace = chrono::Duration::zero();
        match self.store.consume_refresh_token(&tokens::hash_token(refresh_token), now, grace).await? {
            RefreshUse::Fresh { family_id, .. } | RefreshUse::Replayed { family_id, .. } => {
                self.store.revoke_refresh_family(family_id, now).await?;
            }
            RefreshUse::Invalid => {}
        }
        Ok(())
    }

    /// End every session of the user (refresh tokens; access tokens expire on their own).
    pub async fn logout_all(&self, user_id: Uuid) -> Result<u64> {
        Ok(self.store.revoke_user_refresh_tokens(user_id, Utc::now(), None).await?)
    }

    pub async fn me(&self, user_id: Uuid) -> Result<User> {
        self.store.user_by_id(user_id).await?.ok_or_else(|| Error::unauthorized("account no longer exists"))
    }

    /// Change the display name and/or the password (which needs the current one and ends
    /// every session but `keep_session`, the one asking).
    pub async fn update_me(
        &self,
        user_id: Uuid,
        keep_session: Option<Uuid>,
        display_name: Option<&str>,
        password: Option<(&str, &str)>,
    ) -> Result<User> {
        let display_name = display_name.map(DisplayName::parse).transpose()?;
        let new_hash = match password {
            None => None,
            Some((current, new)) => {
                let new = Password::parse(new)?;
                let creds = self.store.credentials_by_id(user_id).await?;
                let ok = self.passwords.verify(current, creds.as_ref().map(|c| c.password_hash.as_str())).await?;
                if !ok {
                    return Err(Error::invalid("invalid_credentials", "current password is wrong"));
                }
                Some(self.passwords.hash(new.as_str()).await?)
            }
        };
        let user = self
            .store
            .update_user(user_id, display_name.as_ref().map(DisplayName::as_str), new_hash.as_deref())
            .await?
            .ok_or_else(|| Error::unauthorized("account no longer exists"))?;
        if new_hash.is_some() {
            self.store.revoke_user_refresh_tokens(user_id, Utc::now(), keep_session).await?;
        }
        Ok(user)
    }

    pub async fn search(&self, query: &str) -> Result<Vec<User>> {
        let q = query.trim();
        if q.is_empty() || q.chars().count() > 64 {
            return Err(Error::validation("query: must be 1 to 64 characters"));
        }
        // No username or display name holds a control character (NUL cannot even reach
        // PostgreSQL's text): such a query matches no one.
        if q.contains(char::is_control) {
            return Ok(Vec::new());
        }
        Ok(self.store.search_users(q, SEARCH_LIMIT).await?)
    }

    async fn new_session(&self, user: User, family_id: Uuid) -> Result<Session> {
        let now = Utc::now();
        let access_token = self.keys.issue_for(user.id, user.is_admin, now, Some(family_id))?;
        let (refresh_token, token_hash) = tokens::new_refresh_token();
        let ttl =
            chrono::Duration::from_std(Duration::from_secs(self.config.refresh_token_ttl_secs)).unwrap_or_default();
        self.store
            .insert_refresh_token(NewRefreshToken {
                token_hash,
                user_id: user.id,
                family_id,
                created_at: now,
                expires_at: now + ttl,
            })
            .await?;
        Ok(Session { user, access_token, expires_in: self.keys.access_ttl.as_secs(), refresh_token })
    }
}

fn username_taken() -> Error {
    Error::Conflict { code: "username_taken", detail: "this username is taken".into() }
}

fn invalid_refresh() -> Error {
    Error::unauthorized("refresh token missing, unknown or expired").with_code("invalid_refresh_token")
}

fn account_disabled() -> Error {
    Error::unauthorized("this account has been disabled by an administrator").with_code("account_disabled")
}
