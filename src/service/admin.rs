//! Administration: accounts (list, make or remove administrators, disable and enable),
//! invites (create with a note and a lifetime, list with who used each, revoke) and the
//! figures of the server panel. Every call is for administrators only, checked against
//! the database (an access token's `adm` claim may be stale).
//!
//! Rules kept here:
//! - the last enabled administrator can be neither demoted nor disabled (`409 last_admin`;
//!   the store makes the check atomic);
//! - disabling an account ends it everywhere at once: its refresh tokens are revoked, this
//!   node stops accepting its access tokens before the call returns, and a
//!   `UserDisabled` directive on the bus makes every node do the same and close its
//!   sockets (`4010`). Enabling it lets it sign in again; old sessions stay ended;
//! - an invite's code is shown once, at creation; only its hash is kept.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use uuid::Uuid;

use super::{
    cache::Caches,
    fanout::{Effect, Envelope, Fanout},
    tokens::{self, Claims},
};
use crate::{
    error::{Error, Result},
    store::{AdminUser, FlagChange, InviteRecord, InviteRevoke, NewInvite, Store, User},
};

/// Invite lifetime when none is asked for: 7 days.
pub const DEFAULT_INVITE_HOURS: u32 = 7 * 24;
/// The longest an invite may live: a year.
pub const MAX_INVITE_HOURS: u32 = 365 * 24;
pub const MAX_NOTE_CHARS: usize = 200;
/// Invites listed, newest first.
const INVITES_LISTED: u32 = 500;
/// Accounts per page at most.
pub const MAX_PAGE: u32 = 200;
/// Files counted in the media folder at most (the size of a bigger folder is a lower bound).
const MEDIA_WALK_LIMIT: usize = 200_000;

/// What an administrator may change about an account; `None` leaves it.
#[derive(Debug, Default, Clone, Copy)]
pub struct AccountChange {
    pub is_admin: Option<bool>,
    pub disabled: Option<bool>,
}

/// The figures of the server panel that do not come from this node's counters.
#[derive(Debug, Clone)]
pub struct Overview {
    pub users: i64,
    pub disabled_users: i64,
    pub uptime: Duration,
    pub database_bytes: i64,
    /// `None` when media are not kept on this node's disk (Cloudinary).
    pub media_bytes: Option<u64>,
}

pub struct Admin {
    store: Arc<dyn Store>,
    fanout: Fanout,
    caches: Arc<Caches>,
    /// The media folder when media are stored on disk.
    media_dir: Option<PathBuf>,
    started: Instant,
}

impl Admin {
    pub fn new(store: Arc<dyn Store>, fanout: Fanout, caches: Arc<Caches>, media_dir: Option<PathBuf>) -> Self {
        Self { store, fanout, caches, media_dir, started: Instant::now() }
    }

    /// The caller, if an enabled administrator.
    pub async fn require_admin(&self, claims: &Claims) -> Result<User> {
        let user =
            self.store.admin_user(claims.sub).await?.ok_or_else(|| Error::unauthorized("account no longer exists"))?;
        if !user.user.is_admin || user.disabled_at.is_some() {
            return Err(Error::Forbidden("administrators only".into()));
        }
        Ok(user.user)
    }

    pub async fn users(&self, claims: &Claims, query: Option<&str>, limit: u32, offset: u32) -> Result<Vec<AdminUser>> {
        self.require_admin(claims).await?;
        let query = query.map(str::trim).filter(|q| !q.is_empty());
        if query.is_some_and(|q| q.chars().count() > 64) {
            return Err(Error::validation("query: at most 64 characters"));
        }
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::validation(format!("limit: must be 1 to {MAX_PAGE}")));
        }
        // Names hold no control characters (and PostgreSQL's text no NUL): no match.
        if query.is_some_and(|q| q.contains(char::is_control)) {
            return Ok(Vec::new());
        }
        Ok(self.store.list_users(query, limit, offset).await?)
    }

    /// Apply `change` to the account `id` (administrator first, then disabled).
    pub async fn update_user(&self, claims: &Claims, id: Uuid, change: AccountChange) -> Result<AdminUser> {
        let admin = self.require_admin(claims).await?;
        let now = Utc::now();
        let mut current = self.store.admin_user(id).await?.ok_or_else(|| Error::NotFound("no such user".into()))?;
        if let Some(is_admin) = change.is_admin {
            current = flag_result(self.store.set_admin(id, is_admin, now).await?)?;
        }
        if let Some(disabled) = change.disabled {
            let was = current.disabled_at.is_some();
            current = flag_result(self.store.set_disabled(id, disabled, now).await?)?;
            if disabled {
                self.store.revoke_user_refresh_tokens(id, now, None).await?;
            }
            if disabled || was {
                self.announce(id, disabled).await?;
            }
        }
        tracing::info!(admin = %admin.id, user = %id, ?change, "account changed by an administrator");
        Ok(current)
    }

    /// This node at once, then every node (sockets close there).
    async fn announce(&self, user_id: Uuid, disabled: bool) -> Result<()> {
        let effect = match disabled {
            true => Effect::UserDisabled { user_id },
            false => Effect::UserEnabled { user_id },
        };
        self.caches.apply(&effect);
        self.fanout.publish(&[Envelope::directive(effect)]).await
    }

    /// A single-use invite; returns it and its code (shown this once).
    pub async fn create_invite(
        &self,
        claims: &Claims,
        note: Option<&str>,
        expires_in_hours: Option<u32>,
    ) -> Result<(InviteRecord, String)> {
        let admin = self.require_admin(claims).await?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS || n.chars().any(char::is_control)) {
            return Err(Error::validation(format!("note: at most {MAX_NOTE_CHARS} characters, no control characters")));
        }
        let hours = expires_in_hours.unwrap_or(DEFAULT_INVITE_HOURS);
        if !(1..=MAX_INVITE_HOURS).contains(&hours) {
            return Err(Error::validation(format!("expires_in_hours: must be 1 to {MAX_INVITE_HOURS}")));
        }
        let (code, code_hash) = tokens::new_invite_code();
        let now = Utc::now();
        let invite = NewInvite {
            id: Uuid::now_v7(),
            code_hash,
            created_by: admin.id,
            note: note.map(str::to_string),
            created_at: now,
            expires_at: now + chrono::Duration::hours(i64::from(hours)),
        };
        self.store.create_invite(invite.clone()).await?;
        let record = InviteRecord {
            id: invite.id,
            note: invite.note,
            created_by: Some(admin),
            created_at: invite.created_at,
            expires_at: invite.expires_at,
            used_at: None,
            used_by: None,
            revoked_at: None,
        };
        Ok((record, code))
    }

    pub async fn invites(&self, claims: &Claims) -> Result<Vec<InviteRecord>> {
        self.require_admin(claims).await?;
        Ok(self.store.invites(INVITES_LISTED).await?)
    }

    pub async fn revoke_invite(&self, claims: &Claims, id: Uuid) -> Result<()> {
        self.require_admin(claims).await?;
        match self.store.revoke_invite(id, Utc::now()).await? {
            InviteRevoke::Revoked => Ok(()),
            InviteRevoke::NotFound => Err(Error::NotFound("no such invite".into())),
            InviteRevoke::Used => Err(Error::Conflict {
                code: "invite_used",
                detail: "this invite has been used; there is nothing to revoke".into(),
            }),
        }
    }

    pub async fn overview(&self, claims: &Claims) -> Result<Overview> {
        self.require_admin(claims).await?;
        let (users, disabled_users) = self.store.user_counts().await?;
        let database_bytes = self.store.database_bytes().await?;
        let media_bytes = match self.media_dir.clone() {
            Some(dir) => Some(tokio::task::spawn_blocking(move || folder_bytes(&dir)).await.map_err(Error::internal)?),
            None => None,
        };
        Ok(Overview { users, disabled_users, uptime: self.started.elapsed(), database_bytes, media_bytes })
    }
}

fn flag_result(change: FlagChange) -> Result<AdminUser> {
    match change {
        FlagChange::Done(u) => Ok(u),
        FlagChange::NotFound => Err(Error::NotFound("no such user".into())),
        FlagChange::LastAdmin => Err(Error::Conflict {
            code: "last_admin",
            detail: "this is the last enabled administrator; make someone else an administrator first".into(),
        }),
    }
}

/// Bytes of the files under `dir` (0 if it does not exist), counting at most
/// [`MEDIA_WALK_LIMIT`] entries; symbolic links are not followed.
fn folder_bytes(dir: &Path) -> u64 {
    let mut total = 0u64;
    let mut seen = 0usize;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MEDIA_WALK_LIMIT {
                return total;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() {
                total += meta.len();
            }
        }
    }
    total
}
