//! The configuration's sections: one struct per `[section]` of `nexus.toml`, each key
//! with its meaning and its default. `docs/configuration.md` lists them all.

use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
};

use serde::{Deserialize, Serialize};

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
    /// Shards of this node's message worker: conversations are spread over them and their
    /// batches commit in parallel. 0 = two per core on PostgreSQL, one on SQLite.
    pub workers: usize,
    /// Messages older than this many days are removed by the retention job
    /// (`jobs.retention_cron`), with the images only they carried. 0 keeps them forever.
    /// On PostgreSQL whole months go, once every message of the month is past it.
    pub retention_days: u32,
    /// A message can be edited by its author for this many seconds after it was sent.
    /// 0 = no limit.
    pub edit_window_secs: u64,
    /// A message can be deleted by its author for this many seconds after it was sent
    /// (group admins delete any message at any time). 0 = no limit.
    pub delete_window_secs: u64,
    /// Message searches (`GET /api/v1/search`) per user: sustained rate per second, and
    /// burst.
    pub search_per_sec: u32,
    pub search_burst: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PresenceConfig {
    /// A device counts as connected this long after its node last said so; a node that
    /// dies has its users offline (and announced so) within this time.
    pub ttl_secs: u64,
}

/// Web Push (RFC 8030/8291/8292): notifications for users with no socket open.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushConfig {
    /// Send pushes, and accept subscriptions.
    pub enabled: bool,
    /// The VAPID contact (`mailto:` or `https:`) push services may write to.
    pub subject: String,
    /// The VAPID private key (32 bytes, base64url). Empty: derived from the token signing
    /// secret, so every node agrees and it survives a restart and a backup restore.
    pub vapid_private_key: String,
    /// Hide message content in pushes for users who did not choose themselves.
    pub hide_content: bool,
    /// A mention (`@username` in a group) is pushed even when its conversation is muted.
    pub mentions_when_muted: bool,
    /// How long a push service keeps a message push for an unreachable device (`TTL`).
    pub ttl_secs: u64,
    /// Pushes per user per minute (bursts of as many); beyond, pushes are dropped (the
    /// next one carries the newest message of its conversation).
    pub per_user_per_minute: u32,
    /// Attempts of one delivery (5xx, 429, network errors), with back-off.
    pub max_attempts: u32,
    /// Subscriptions kept per user (browsers and devices); a new one drops the oldest.
    pub max_subscriptions: u32,
    /// Timeout of one request to a push service.
    pub timeout_secs: u64,
    /// Deliveries in flight per node.
    pub concurrency: usize,
    /// Accept `http://` endpoints and loopback/private addresses (tests, a push service on
    /// your own network). Off: only `https://` to public hosts.
    pub allow_http_endpoints: bool,
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
    /// PEM file of the certificate authority that signed PostgreSQL's certificate. Set, the
    /// connection is TLS with the server verified (`sslmode=verify-full` unless the URL
    /// names another mode). Empty: the URL decides (`sslmode`, `sslrootcert`), with the
    /// system's roots.
    pub ca_file: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://…`. Empty: the in-process bus (single node).
    pub url: String,
    /// Prefix of every key and channel, so several deployments (or tests) share one Redis.
    pub prefix: String,
    /// PEM file of the certificate authority that signed Redis' certificate, for a
    /// `rediss://` URL. Empty: the system's roots.
    pub ca_file: String,
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
    /// Where uploaded images are kept: `disk` (under `dir`) or `cloudinary`.
    pub backend: MediaBackend,
    /// Folder for uploaded media (`backend = "disk"`). Empty: `DATA_DIR/media`.
    pub dir: String,
    /// Largest upload accepted, in bytes; a larger one is refused with 413 as soon as the
    /// limit is crossed.
    pub max_upload_bytes: u64,
    /// Largest image accepted, in pixels (width × height), checked from the file's header
    /// before anything is decoded.
    pub max_pixels: u64,
    /// Bytes of uploads one user may keep; 0: no limit.
    pub quota_bytes_per_user: u64,
    /// Uploads never attached to a message are deleted after this many hours.
    pub orphan_ttl_hours: u64,
    /// How long a signed media URL stays valid, in seconds (rounded up to the hour, so the
    /// URLs of one image stay the same, and cacheable, within the hour).
    pub url_ttl_secs: u64,
    /// Credentials and hosts for `backend = "cloudinary"` (or `CLOUDINARY_URL`).
    pub cloudinary: crate::media::cloudinary::CloudinaryConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaBackend {
    Disk,
    Cloudinary,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Cron (with seconds) of the partition upkeep job; empty disables it.
    pub partitions_cron: String,
    /// Cron (with seconds) of the sweep of uploads never attached (`media.orphan_ttl_hours`);
    /// empty disables it.
    pub media_sweep_cron: String,
    /// Cron (with seconds) of message retention (`messages.retention_days`, which must be
    /// above 0 for it to remove anything); empty disables it.
    pub retention_cron: String,
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
    /// Most people in one group call.
    pub max_participants: u32,
    /// Cap of each participant's camera (its top simulcast layer), kbit/s.
    pub max_video_kbps: u32,
    /// Cap of what the SFU sends one participant, all videos together, kbit/s.
    pub max_receive_kbps: u32,
    /// A node that has not shown it is alive for this long is dead: the group calls it
    /// hosted end with `node_lost` and restart on the node of whoever joins again.
    pub node_ttl_secs: u64,
    pub sfu: SfuConfig,
}

/// The SFU of group calls (`docs/architecture.md`, "Group calls").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SfuConfig {
    /// UDP address of the SFU's socket (all media of the node's group calls); port 0
    /// picks one (tests). Each node on one host needs its own port.
    pub listen: SocketAddr,
    /// Address announced to browsers (must be reachable by them). Empty: the listener's
    /// address if it is a specific one, else this machine's primary address.
    pub public_ip: String,
    /// Datagrams queued for one room before new ones are dropped.
    pub room_queue: usize,
}

impl Default for SfuConfig {
    fn default() -> Self {
        Self { listen: SocketAddr::from(([0, 0, 0, 0], 3479)), public_ip: String::new(), room_queue: 2048 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TurnConfig {
    /// Run the embedded TURN/STUN relay (UDP).
    pub enabled: bool,
    /// UDP address of the relay's listener; port 0 picks one (tests).
    pub listen: SocketAddr,
    /// Also accept TURN over TCP on the same address and port (for networks that block
    /// UDP; relayed traffic stays UDP).
    pub tcp: bool,
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
        Self { url: String::new(), max_connections: 16, partitions_ahead: 3, ca_file: String::new() }
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self { url: String::new(), prefix: "nexus:".into(), ca_file: String::new() }
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
            workers: 0,
            retention_days: 0,
            edit_window_secs: 0,
            delete_window_secs: 0,
            search_per_sec: 5,
            search_burst: 20,
        }
    }
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self { ttl_secs: 30 }
    }
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            subject: "mailto:admin@localhost".into(),
            vapid_private_key: String::new(),
            hide_content: false,
            mentions_when_muted: true,
            ttl_secs: 24 * 3600,
            per_user_per_minute: 30,
            max_attempts: 5,
            max_subscriptions: 20,
            timeout_secs: 10,
            concurrency: 32,
            allow_http_endpoints: false,
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
        Self {
            backend: MediaBackend::Disk,
            dir: String::new(),
            max_upload_bytes: 25 * 1024 * 1024,
            max_pixels: 50_000_000,
            quota_bytes_per_user: 1024 * 1024 * 1024,
            orphan_ttl_hours: 24,
            url_ttl_secs: 24 * 3600,
            cloudinary: Default::default(),
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            partitions_cron: "0 17 3 * * *".into(),
            media_sweep_cron: "0 41 * * * *".into(),
            retention_cron: "0 47 3 * * *".into(),
        }
    }
}

impl Default for CallsConfig {
    fn default() -> Self {
        Self {
            ring_timeout_secs: 45,
            connect_timeout_secs: 30,
            reconnect_grace_secs: 30,
            invites_per_minute: 10,
            max_participants: 16,
            max_video_kbps: 1500,
            max_receive_kbps: 8000,
            node_ttl_secs: 15,
            sfu: SfuConfig::default(),
        }
    }
}

impl Default for TurnConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([0, 0, 0, 0], 3478)),
            tcp: true,
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
