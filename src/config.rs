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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub auth: AuthConfig,
    pub gateway: GatewayConfig,
    pub messages: MessagesConfig,
    pub receipts: ReceiptsConfig,
    pub media: MediaConfig,
    pub jobs: JobsConfig,
    pub calls: CallsConfig,
    pub turn: TurnConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Origins (besides the server's own) allowed to open WebSockets, e.g.
    /// `["https://chat.example.org"]`. Requests without an `Origin` header (non-browser
    /// clients) are always allowed.
    pub allowed_origins: Vec<String>,
    /// Largest WebSocket message accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Events queued for one socket before it counts as too slow and is closed (4008).
    pub send_queue: usize,
    pub ping_interval_secs: u64,
    /// Close a socket that sent nothing, not even a pong, for this long (4002).
    pub idle_timeout_secs: u64,
    /// Frames per second one socket may send on average (any type); bursts of 10× are
    /// tolerated, beyond that the socket is closed (4029).
    pub frames_per_sec: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessagesConfig {
    /// Longest message body, in characters.
    pub max_body_chars: usize,
    /// `message.send` per user: sustained rate per second, and burst.
    pub rate_per_sec: u32,
    pub rate_burst: u32,
    /// Messages the worker stores per transaction at most.
    pub batch_size: usize,
    /// A queued message pending this long on a consumer that stopped is taken over.
    pub reclaim_idle_secs: u64,
    /// Attempts before a message is dead-lettered and its sender told.
    pub max_attempts: u64,
    /// How long a `client_id` is remembered for deduplication (the database also
    /// deduplicates, for ever).
    pub dedupe_ttl_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiptsConfig {
    /// Seconds between flushes of buffered receipts to the database.
    pub flush_interval_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub host: IpAddr,
    /// Port to listen on; 0 lets the system pick one (tests).
    pub port: u16,
    /// Human name of this server, shown by the web client.
    pub name: String,
    /// Folder every default path derives from (SQLite file, secret key, media).
    pub data_dir: PathBuf,
    /// Trust the last address of `X-Forwarded-For` (the one the proxy appended) as the
    /// client IP, behind a reverse proxy.
    pub trust_forwarded_for: bool,
    /// Seconds to wait for in-flight requests on shutdown.
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite:PATH`, a bare path to a SQLite file, or `postgres://…`. Empty: `DATA_DIR/nexus.db`.
    pub url: String,
    pub max_connections: u32,
    /// Months of message partitions kept ahead of the current one (PostgreSQL).
    pub partitions_ahead: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://…`. Empty: the in-process bus (single node).
    pub url: String,
    /// Prefix of every key and channel, so several deployments (or tests) share one Redis.
    pub prefix: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    Open,
    Invite,
    Closed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// HMAC secret for access tokens. Empty: 32 random bytes kept in `DATA_DIR/secret.key`.
    pub jwt_secret: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    pub registration: Registration,
    /// Login attempts per minute per client IP, and the burst above it.
    pub login_per_ip_per_minute: u32,
    pub login_per_ip_burst: u32,
    /// Login attempts per minute per username, and the burst above it.
    pub login_per_user_per_minute: u32,
    pub login_per_user_burst: u32,
    /// Registrations per hour per client IP.
    pub register_per_ip_per_hour: u32,
    /// Mark the refresh cookie `Secure` (set when serving over HTTPS).
    pub secure_cookies: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Folder for uploaded media. Empty: `DATA_DIR/media`.
    pub dir: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Cron (with seconds) of the partition upkeep job; empty disables it.
    pub partitions_cron: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallsConfig {
    /// An unanswered call ends as `missed` after this long.
    pub ring_timeout_secs: u64,
    /// An accepted call whose media does not connect in this long ends as `failed`.
    pub connect_timeout_secs: u64,
    /// A participant whose socket dropped has this long to come back (`call.rejoin`).
    pub reconnect_grace_secs: u64,
    /// `call.invite` per user per minute (bursts of the same size).
    pub invites_per_minute: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TurnConfig {
    /// Run the embedded TURN/STUN relay (UDP).
    pub enabled: bool,
    /// UDP address of the relay's listener; port 0 picks one (tests).
    pub listen: SocketAddr,
    /// Host name or address browsers use to reach the relay (in the ICE server URLs).
    /// Empty: the host name of the request to `GET /api/v1/calls/ice-servers`.
    pub public_host: String,
    /// Address relayed ports are announced at (must be reachable by the peers). Empty: the
    /// listener's address if it is a specific one, else this machine's primary address.
    pub public_ip: String,
    /// Relay ports are taken from this range (open it in the firewall, UDP).
    pub relay_min_port: u16,
    pub relay_max_port: u16,
    pub realm: String,
    /// Shared secret of the TURN REST credentials. Empty: derived from the signing secret
    /// (so every node of a cluster agrees). Set it to the same value as an external TURN
    /// server's `static-auth-secret` to hand out its credentials instead.
    pub secret: String,
    /// Lifetime of the credentials `ice-servers` hands out.
    pub credential_ttl_secs: u64,
    /// Relay allocations one user may hold at once.
    pub user_quota: u32,
    /// Relay to loopback, private and other reserved addresses too. Only for tests on one
    /// machine: on a real server it would let anyone reach the server's internal network.
    pub allow_private_peers: bool,
    /// Extra ICE server URLs to hand out (e.g. `turn:turn.example.org:3478` of an external
    /// coturn sharing `turn.secret`, or `stun:…`). TURN URLs get the same credentials.
    pub extra_urls: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// Default filter when `RUST_LOG` is unset.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            redis: RedisConfig::default(),
            auth: AuthConfig::default(),
            gateway: GatewayConfig::default(),
            messages: MessagesConfig::default(),
            receipts: ReceiptsConfig::default(),
            media: MediaConfig::default(),
            jobs: JobsConfig::default(),
            calls: CallsConfig::default(),
            turn: TurnConfig::default(),
            log: LogConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::from([0, 0, 0, 0]),
            port: 8080,
            name: "Nexus".into(),
            data_dir: PathBuf::from("data"),
            trust_forwarded_for: false,
            shutdown_grace_secs: 10,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: String::new(), max_connections: 16, partitions_ahead: 3 }
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self { url: String::new(), prefix: "nexus:".into() }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: String::new(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            registration: Registration::Open,
            login_per_ip_per_minute: 20,
            login_per_ip_burst: 20,
            login_per_user_per_minute: 5,
            login_per_user_burst: 10,
            register_per_ip_per_hour: 20,
            secure_cookies: false,
        }
    }
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            max_frame_bytes: 64 * 1024,
            send_queue: 1024,
            ping_interval_secs: 20,
            idle_timeout_secs: 60,
            frames_per_sec: 50,
        }
    }
}

impl Default for MessagesConfig {
    fn default() -> Self {
        Self {
            max_body_chars: 4000,
            rate_per_sec: 10,
            rate_burst: 30,
            batch_size: 256,
            reclaim_idle_secs: 30,
            max_attempts: 5,
            dedupe_ttl_secs: 24 * 3600,
        }
    }
}

impl Default for ReceiptsConfig {
    fn default() -> Self {
        Self { flush_interval_secs: 10 }
    }
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self { dir: String::new() }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self { partitions_cron: "0 17 3 * * *".into() }
    }
}

impl Default for CallsConfig {
    fn default() -> Self {
        Self { ring_timeout_secs: 45, connect_timeout_secs: 30, reconnect_grace_secs: 30, invites_per_minute: 10 }
    }
}

impl Default for TurnConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([0, 0, 0, 0], 3478)),
            public_host: String::new(),
            public_ip: String::new(),
            relay_min_port: 49160,
            relay_max_port: 49359,
            realm: "nexus".into(),
            secret: String::new(),
            credential_ttl_secs: 600,
            user_quota: 10,
            allow_private_peers: false,
            extra_urls: Vec::new(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Text, level: "info,tokio_cron_scheduler=warn".into() }
    }
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
        if !self.jobs.partitions_cron.is_empty()
            && tokio_cron_scheduler::Job::new_async(self.jobs.partitions_cron.as_str(), |_, _| Box::pin(async {}))
                .is_err()
        {
            return bad("jobs.partitions_cron", "is not a cron expression (sec min hour day month weekday), or empty");
        }
        for (key, v) in [
            ("gateway.max_frame_bytes", self.gateway.max_frame_bytes as u64),
            ("gateway.send_queue", self.gateway.send_queue as u64),
            ("gateway.ping_interval_secs", self.gateway.ping_interval_secs),
            ("gateway.frames_per_sec", u64::from(self.gateway.frames_per_sec)),
            ("messages.max_body_chars", self.messages.max_body_chars as u64),
            ("messages.rate_per_sec", u64::from(self.messages.rate_per_sec)),
            ("messages.rate_burst", u64::from(self.messages.rate_burst)),
            ("messages.batch_size", self.messages.batch_size as u64),
            ("messages.reclaim_idle_secs", self.messages.reclaim_idle_secs),
            ("messages.max_attempts", self.messages.max_attempts),
            ("messages.dedupe_ttl_secs", self.messages.dedupe_ttl_secs),
            ("receipts.flush_interval_secs", self.receipts.flush_interval_secs),
            ("calls.ring_timeout_secs", self.calls.ring_timeout_secs),
            ("calls.connect_timeout_secs", self.calls.connect_timeout_secs),
            ("calls.reconnect_grace_secs", self.calls.reconnect_grace_secs),
            ("calls.invites_per_minute", u64::from(self.calls.invites_per_minute)),
            ("turn.credential_ttl_secs", self.turn.credential_ttl_secs),
            ("turn.user_quota", u64::from(self.turn.user_quota)),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1");
            }
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
        if self.gateway.idle_timeout_secs <= self.gateway.ping_interval_secs {
            return bad("gateway.idle_timeout_secs", "must be longer than gateway.ping_interval_secs");
        }
        if self.gateway.max_frame_bytes < 1024 {
            return bad("gateway.max_frame_bytes", "must be at least 1024");
        }
        if self.messages.max_body_chars > 100_000 {
            return bad("messages.max_body_chars", "must be at most 100000");
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
        if self.redis.url.starts_with("rediss") {
            return bad(
                "redis.url",
                "TLS (rediss://) is not supported; reach Redis over a private network or a tunnel",
            );
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
