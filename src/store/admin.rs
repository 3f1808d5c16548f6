//! The administration part of the Store seam: invites (created, used, listed, revoked)
//! and the account flags an administrator changes (administrator, disabled). A trait of
//! its own, which [`super::Store`] requires, so each backend keeps it in a file of its own
//! (`sqlite/admin.rs`, `postgres/admin.rs`) in the same method order.
//!
//! Invariants kept here:
//! - an invite is consumed at most once, and never once revoked or expired;
//! - the server never loses its last administrator: [`AdminStore::set_admin`] and
//!   [`AdminStore::set_disabled`] refuse to demote or disable the last enabled
//!   administrator, in one statement (SQLite, one writer) or after locking the enabled
//!   administrators' rows (PostgreSQL), so two administrators demoting each other at once
//!   cannot both succeed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{StoreResult, User};

#[derive(Debug, Clone)]
pub struct NewInvite {
    pub id: Uuid,
    pub code_hash: Vec<u8>,
    pub created_by: Uuid,
    /// The administrator's reminder of whom it is for.
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An invite as an administrator sees it (never its code, which is kept as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRecord {
    pub id: Uuid,
    pub note: Option<String>,
    /// The administrator who created it (`None` once that account is gone).
    pub created_by: Option<User>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// The account registered with it (`None` if unused, or that account is gone).
    pub used_by: Option<User>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An account with the flags only administrators see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUser {
    pub user: User,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// The outcome of changing an account's flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagChange {
    Done(AdminUser),
    NotFound,
    /// Refused: it would leave no enabled administrator.
    LastAdmin,
}

/// The outcome of revoking an invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteRevoke {
    /// Revoked now, or already revoked.
    Revoked,
    NotFound,
    /// Used already: there is nothing left to revoke.
    Used,
}

#[async_trait]
pub trait AdminStore: Send + Sync {
    // invites
    async fn create_invite(&self, invite: NewInvite) -> StoreResult<()>;
    /// Mark an unused, unrevoked, unexpired invite used; false if there is none.
    async fn consume_invite(&self, code_hash: &[u8], now: DateTime<Utc>) -> StoreResult<bool>;
    /// Record which account a consumed invite created.
    async fn record_invite_use(&self, code_hash: &[u8], user: Uuid) -> StoreResult<()>;
    /// The newest `limit` invites, newest first.
    async fn invites(&self, limit: u32) -> StoreResult<Vec<InviteRecord>>;
    async fn revoke_invite(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<InviteRevoke>;

    // accounts
    /// Accounts by username, those whose username or display name contains `query`
    /// (case-insensitive) when given; a page of `limit` from `offset`.
    async fn list_users(&self, query: Option<&str>, limit: u32, offset: u32) -> StoreResult<Vec<AdminUser>>;
    async fn admin_user(&self, id: Uuid) -> StoreResult<Option<AdminUser>>;
    /// Make or remove an administrator (never the last enabled one).
    async fn set_admin(&self, id: Uuid, admin: bool, now: DateTime<Utc>) -> StoreResult<FlagChange>;
    /// Disable (at `now`, kept if already disabled) or enable an account (never disable
    /// the last enabled administrator).
    async fn set_disabled(&self, id: Uuid, disabled: bool, now: DateTime<Utc>) -> StoreResult<FlagChange>;
    /// Whether the account is disabled (false if it does not exist).
    async fn is_disabled(&self, id: Uuid) -> StoreResult<bool>;
    /// Every disabled account.
    async fn disabled_users(&self) -> StoreResult<Vec<Uuid>>;
    /// `(accounts, disabled accounts)`.
    async fn user_counts(&self) -> StoreResult<(i64, i64)>;
    /// Bytes the database takes (SQLite: pages in use; PostgreSQL: `pg_database_size`).
    async fn database_bytes(&self) -> StoreResult<i64>;
}
