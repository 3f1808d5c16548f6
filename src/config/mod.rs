//! Configuration: built-in defaults < `nexus.toml` (or `--config PATH`) < the seed's plain
//! environment names (`PORT`, `DATABASE_URL`, `REDIS_URL`, `JWT_SECRET`) < `NEXUS_*`
//! environment variables (nested keys split on `__`, e.g. `NEXUS_DATABASE__URL`).
//!
//! Every key is documented in `docs/configuration.md`. [`Config::load`] both extracts and
//! validates, so a bad value stops start-up with a message naming the key.

use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    time::Duration,
};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

mod sections;
pub use self::sections::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[derive(Default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub auth: AuthConfig,
    pub gateway: GatewayConfig,
    pub messages: MessagesConfig,
    pub receipts: ReceiptsConfig,
    pub presence: PresenceConfig,
    pub push: PushConfig,
    pub media: MediaConfig,
    pub jobs: JobsConfig,
    pub calls: CallsConfig,
    pub turn: TurnConfig,
    pub log: LogConfig,
}

/// The top-level sections: `NEXUS_<SECTION>__<KEY>` variables are read for these only.
/// Derived from the defaults, so a new section can never be forgotten here.
fn sections() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// A configuration problem, naming the key. `main` prints it and exits with code 2.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Which database the URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Config {
    /// Build the figment: defaults < file < plain environment names < `NEXUS_*`.
    /// `file` is an explicit `--config PATH` (must exist); otherwise `nexus.toml` is read
    /// when present.
    pub fn figment(file: Option<&Path>) -> Result<Figment, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.is_file() {
                    return Err(ConfigError(format!("file {} does not exist", path.display())));
                }
                fig = fig.merge(Toml::file_exact(path));
            }
            None if Path::new("nexus.toml").is_file() => fig = fig.merge(Toml::file_exact("nexus.toml")),
            None => {}
        }
        let plain =
            Env::raw().only(&["PORT", "DATABASE_URL", "REDIS_URL", "JWT_SECRET"]).map(|key| match key.as_str() {
                "PORT" => "server.port".into(),
                "DATABASE_URL" => "database.url".into(),
                "REDIS_URL" => "redis.url".into(),
                _ => "auth.jwt_secret".into(),
            });
        // Only variables naming a section are configuration (`NEXUS_SERVER__PORT`); others
        // such as `NEXUS_CONFIG` or build and test switches are not.
        let sections = sections();
        let nexus = Env::prefixed("NEXUS_").split("__").filter(move |key| {
            let section = key.as_str().split('.').next().unwrap_or_default().to_ascii_lowercase();
            sections.contains(&section)
        });
        Ok(fig.merge(plain).merge(nexus))
    }

    /// Extract and validate.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::from_figment(Self::figment(file)?)
    }

    pub fn from_figment(fig: Figment) -> Result<Config, ConfigError> {
        let config: Config = fig.extract().map_err(|e| {
            // Each problem names its key (`server.port`) and where the value came from.
            let lines: Vec<String> = e
                .into_iter()
                .map(|e| {
                    let key = e.path.join(".").to_ascii_lowercase();
                    let from = e.metadata.as_ref().map(|m| format!(" (from {})", m.name)).unwrap_or_default();
                    if key.is_empty() { format!("{}{from}", e.kind) } else { format!("{key}: {}{from}", e.kind) }
                })
                .collect();
            ConfigError(lines.join("; "))
        })?;
        let mut config = config;
        // The plain `CLOUDINARY_URL` of Cloudinary's own tools, when no cloud is configured.
        if config.media.cloudinary.cloud_name.is_empty()
            && let Ok(url) = std::env::var("CLOUDINARY_URL")
            && !url.is_empty()
        {
            let parsed = crate::media::cloudinary::CloudinaryConfig::from_url(&url)
                .map_err(|e| ConfigError(format!("CLOUDINARY_URL: {e}")))?;
            let folder = config.media.cloudinary.folder.take();
            config.media.cloudinary = crate::media::cloudinary::CloudinaryConfig { folder, ..parsed };
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        if self.server.data_dir.as_os_str().is_empty() {
            return bad("server.data_dir", "must not be empty");
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections", "must be at least 1");
        }
        if self.database.partitions_ahead > 24 {
            return bad("database.partitions_ahead", "must be at most 24");
        }
        self.database_kind()?;
        if !self.redis.url.is_empty() {
            let scheme = self.redis.url.split(':').next().unwrap_or_default();
            if !matches!(scheme, "redis" | "rediss" | "redis+unix" | "unix") {
                return bad("redis.url", "must start with redis:// (or be empty for the in-process bus)");
            }
            if url::Url::parse(&self.redis.url).is_err() {
                return bad("redis.url", "is not a valid URL");
            }
        }
        let m = &self.media;
        if m.max_upload_bytes < 1024 {
            return bad("media.max_upload_bytes", "must be at least 1024");
        }
        if m.max_pixels < 1 {
            return bad("media.max_pixels", "must be at least 1");
        }
        if m.orphan_ttl_hours < 1 {
            return bad("media.orphan_ttl_hours", "must be at least 1");
        }
        if !(60..=7 * 24 * 3600).contains(&m.url_ttl_secs) {
            return bad("media.url_ttl_secs", "must be between 60 and 604800");
        }
        if m.backend == MediaBackend::Cloudinary
            && let Err(e) = m.cloudinary.validate()
        {
            return Err(ConfigError(format!("{e} (or set CLOUDINARY_URL)")));
        }
        if !self.auth.jwt_secret.is_empty() && self.auth.jwt_secret.len() < 32 {
            return bad("auth.jwt_secret", "must be at least 32 characters (or empty to generate one)");
        }
        if !(60..=24 * 3600).contains(&self.auth.access_token_ttl_secs) {
            return bad("auth.access_token_ttl_secs", "must be between 60 and 86400");
        }
        if self.auth.refresh_token_ttl_secs < 3600 {
            return bad("auth.refresh_token_ttl_secs", "must be at least 3600");
        }
        for (key, v) in [
            ("auth.login_per_ip_per_minute", self.auth.login_per_ip_per_minute),
            ("auth.login_per_ip_burst", self.auth.login_per_ip_burst),
            ("auth.login_per_user_per_minute", self.auth.login_per_user_per_minute),
            ("auth.login_per_user_burst", self.auth.login_per_user_burst),
            ("auth.register_per_ip_per_hour", self.auth.register_per_ip_per_hour),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1");
            }
        }
        for (key, cron) in [
            ("jobs.partitions_cron", &self.jobs.partitions_cron),
            ("jobs.media_sweep_cron", &self.jobs.media_sweep_cron),
            ("jobs.retention_cron", &self.jobs.retention_cron),
        ] {
            if !cron.is_empty()
                && tokio_cron_scheduler::Job::new_async(cron.as_str(), |_, _| Box::pin(async {})).is_err()
            {
                return bad(key, "is not a cron expression (sec min hour day month weekday), or empty");
            }
        }
        if self.messages.retention_days > 36_500 {
            return bad("messages.retention_days", "must be at most 36500 (0 keeps messages forever)");
        }
        for (key, v) in [
            ("gateway.max_frame_bytes", self.gateway.max_frame_bytes as u64),
            ("gateway.send_queue", self.gateway.send_queue as u64),
            ("gateway.ping_interval_secs", self.gateway.ping_interval_secs),
            ("gateway.frames_per_sec", u64::from(self.gateway.frames_per_sec)),
            ("messages.max_body_chars", self.messages.max_body_chars as u64),
            ("messages.rate_per_sec", u64::from(self.messages.rate_per_sec)),
            ("messages.rate_burst", u64::from(self.messages.rate_burst)),
            ("messages.search_per_sec", u64::from(self.messages.search_per_sec)),
            ("messages.search_burst", u64::from(self.messages.search_burst)),
            ("messages.batch_size", self.messages.batch_size as u64),
            ("messages.reclaim_idle_secs", self.messages.reclaim_idle_secs),
            ("messages.max_attempts", self.messages.max_attempts),
            ("messages.dedupe_ttl_secs", self.messages.dedupe_ttl_secs),
            ("receipts.flush_interval_secs", self.receipts.flush_interval_secs),
            ("calls.ring_timeout_secs", self.calls.ring_timeout_secs),
            ("calls.connect_timeout_secs", self.calls.connect_timeout_secs),
            ("calls.reconnect_grace_secs", self.calls.reconnect_grace_secs),
            ("calls.invites_per_minute", u64::from(self.calls.invites_per_minute)),
            ("calls.max_participants", u64::from(self.calls.max_participants)),
            ("calls.max_video_kbps", u64::from(self.calls.max_video_kbps)),
            ("calls.max_receive_kbps", u64::from(self.calls.max_receive_kbps)),
            ("calls.node_ttl_secs", self.calls.node_ttl_secs),
            ("calls.sfu.room_queue", self.calls.sfu.room_queue as u64),
            ("turn.credential_ttl_secs", self.turn.credential_ttl_secs),
            ("turn.user_quota", u64::from(self.turn.user_quota)),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1");
            }
        }
        if !self.calls.sfu.public_ip.is_empty() && self.calls.sfu.public_ip.parse::<IpAddr>().is_err() {
            return bad("calls.sfu.public_ip", "must be an IP address (or empty)");
        }
        if self.turn.enabled {
            if self.turn.relay_min_port == 0 || self.turn.relay_max_port < self.turn.relay_min_port {
                return bad(
                    "turn.relay_max_port",
                    "turn.relay_min_port..=turn.relay_max_port must be a non-empty range of ports above 0",
                );
            }
            if self.turn.realm.is_empty() || !self.turn.realm.is_ascii() || self.turn.realm.len() > 127 {
                return bad("turn.realm", "must be 1 to 127 ASCII characters");
            }
            if !self.turn.public_ip.is_empty() && self.turn.public_ip.parse::<IpAddr>().is_err() {
                return bad("turn.public_ip", "must be an IP address (or empty)");
            }
        }
        if !self.turn.secret.is_empty() && self.turn.secret.len() < 16 {
            return bad("turn.secret", "must be at least 16 characters (or empty to derive one)");
        }
        if self.turn.public_host.contains(['/', ' ', '?', '#']) {
            return bad("turn.public_host", "must be a bare host name or address");
        }
        for url in &self.turn.extra_urls {
            if !(url.starts_with("stun:") || url.starts_with("turn:") || url.starts_with("turns:")) {
                return bad("turn.extra_urls", "each URL must start with stun:, turn: or turns:");
            }
        }
        if !(self.push.subject.starts_with("mailto:") || self.push.subject.starts_with("https://")) {
            return bad("push.subject", "must be a mailto: or https: URL (the VAPID contact)");
        }
        if !self.push.vapid_private_key.is_empty()
            && crate::push::Vapid::from_base64(&self.push.vapid_private_key).is_err()
        {
            return bad("push.vapid_private_key", "must be a P-256 private key: 32 bytes, base64url (or empty)");
        }
        if self.push.max_attempts == 0 || self.push.max_subscriptions == 0 || self.push.concurrency == 0 {
            return bad("push", "max_attempts, max_subscriptions and concurrency must be at least 1");
        }
        if self.gateway.idle_timeout_secs <= self.gateway.ping_interval_secs {
            return bad("gateway.idle_timeout_secs", "must be longer than gateway.ping_interval_secs");
        }
        if self.gateway.max_frame_bytes < 1024 {
            return bad("gateway.max_frame_bytes", "must be at least 1024");
        }
        if self.messages.max_body_chars > 100_000 {
            return bad("messages.max_body_chars", "must be at most 100000");
        }
        if self.messages.workers > 256 {
            return bad("messages.workers", "must be at most 256 (0 = chosen by the database)");
        }
        if !(3..=3600).contains(&self.presence.ttl_secs) {
            return bad("presence.ttl_secs", "must be 3 to 3600");
        }
        if self.messages.batch_size > 5000 {
            return bad("messages.batch_size", "must be at most 5000");
        }
        for origin in &self.gateway.allowed_origins {
            let ok = url::Url::parse(origin)
                .map(|u| u.origin().is_tuple() && u.origin().ascii_serialization() == origin.trim_end_matches('/'))
                .unwrap_or(false);
            if !ok {
                return bad("gateway.allowed_origins", "each must be an origin (scheme://host[:port], no path)");
            }
        }
        if tracing_subscriber::EnvFilter::try_new(self.log.level.trim()).is_err() || self.log.level.trim().is_empty() {
            return bad("log.level", "is not a log filter (e.g. info, or info,nexus=debug)");
        }
        for (key, file) in [("database.ca_file", &self.database.ca_file), ("redis.ca_file", &self.redis.ca_file)] {
            if !file.is_empty() && !Path::new(file).is_file() {
                return bad(key, "names no readable file (a PEM certificate authority)");
            }
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.server.host, self.server.port)
    }

    /// Which database `database.url` selects. A bare path is accepted only when the file
    /// exists, so a typo never silently creates an empty database elsewhere.
    pub fn database_kind(&self) -> Result<DatabaseKind, ConfigError> {
        let url = self.database.url.trim();
        if url.is_empty() {
            return Ok(DatabaseKind::Sqlite(self.server.data_dir.join("nexus.db")));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseKind::Postgres(url.to_string()));
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            if path.is_empty() || path.contains(":memory:") {
                return Err(ConfigError("database.url: a SQLite URL needs a file path".into()));
            }
            return Ok(DatabaseKind::Sqlite(PathBuf::from(path)));
        }
        if url.contains("://") {
            return Err(ConfigError(format!(
                "database.url: unsupported scheme in {:?} (use postgres://… or sqlite:PATH)",
                url.split("://").next().unwrap_or_default()
            )));
        }
        let path = PathBuf::from(url);
        if path.is_file() {
            Ok(DatabaseKind::Sqlite(path))
        } else {
            Err(ConfigError(format!(
                "database.url: {url:?} is neither a URL nor an existing file (use sqlite:{url} to create it)"
            )))
        }
    }

    pub fn media_dir(&self) -> PathBuf {
        if self.media.dir.is_empty() { self.server.data_dir.join("media") } else { PathBuf::from(&self.media.dir) }
    }

    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.auth.access_token_ttl_secs)
    }

    pub fn refresh_token_ttl(&self) -> Duration {
        Duration::from_secs(self.auth.refresh_token_ttl_secs)
    }
}
