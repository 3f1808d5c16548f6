//! [`Services`]: everything a handler, the gateway or a job may use, built once per
//! process from the [`Config`] and passed explicitly (there are no globals).
//!
//! The order of construction is the order of need: the store and the bus; then the
//! secrets, which live in them (or in the data folder); then, for a serving node, the TURN
//! relay, which needs its secret; then the services, each given everything it needs.

use std::sync::Arc;

use anyhow::Context;

use crate::{
    bus::{self, Bus},
    config::{Config, MediaBackend},
    media::{MediaStore, cloudinary::CloudinaryStore, disk::DiskStore},
    push::Vapid,
    rtc::{
        sfu::{Sfu, SfuSettings},
        turn::Relay,
    },
    service::{
        accounts::Accounts,
        admin::Admin,
        cache::Caches,
        calls::{Calls, Relaying},
        changes::Changes,
        conversations::Conversations,
        fanout::Fanout,
        health::Health,
        media::{Media, MediaLinks},
        messages::Messages,
        presence::Presence,
        push::Push,
        receipts::Receipts,
        retention::Retention,
        rooms::Rooms,
        search::Search,
        tokens,
    },
    store::{self, Store},
};

pub struct Services {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub fanout: Fanout,
    pub caches: Arc<Caches>,
    pub accounts: Accounts,
    pub admin: Admin,
    pub conversations: Conversations,
    pub messages: Arc<Messages>,
    pub changes: Changes,
    pub receipts: Arc<Receipts>,
    pub presence: Presence,
    pub push: Push,
    pub calls: Arc<Calls>,
    pub rooms: Arc<Rooms>,
    pub search: Search,
    pub health: Health,
    pub media: Media,
    pub retention: Retention,
    /// Shared secret of the TURN REST credentials.
    pub turn_secret: String,
    /// This node's TURN relay, when it serves with `turn.enabled`.
    pub turn: Option<Arc<Relay>>,
}

impl Services {
    /// The services of a serving node: [`Services::build`] plus this node's TURN relay
    /// (when `turn.enabled`).
    pub async fn start(config: Config) -> anyhow::Result<Arc<Services>> {
        Self::assemble(config, true).await
    }

    /// The services without a TURN relay, for one-off commands (`nexus user …`) and tools
    /// that share a running server's store and bus.
    pub async fn build(config: Config) -> anyhow::Result<Arc<Services>> {
        Self::assemble(config, false).await
    }

    async fn assemble(config: Config, serving: bool) -> anyhow::Result<Arc<Services>> {
        let store = store::open(&config).await?;
        let bus = bus::open(&config).await?;

        // The signing secret: configured; else shared through the database (every node of a
        // cluster must agree); else generated once into the data folder.
        let shared = match config.auth.jwt_secret.is_empty() {
            true => store.shared_secret("jwt", &tokens::random_secret()).await?,
            false => None,
        };
        let secret = match shared {
            Some(s) => s,
            None => tokens::load_or_create_secret(&config.auth.jwt_secret, &config.server.data_dir)?,
        };
        // Configured, or derived from the signing secret so that every node agrees.
        let turn_secret = match config.turn.secret.is_empty() {
            false => config.turn.secret.clone(),
            true => tokens::derived_secret(&secret, b"nexus turn rest secret"),
        };
        let turn = match serving && config.turn.enabled {
            true => Some(Relay::start(&config.turn, turn_secret.clone()).await?),
            false => None,
        };

        let links = Arc::new(MediaLinks::new(
            tokens::derived_secret(&secret, b"nexus media url").into_bytes(),
            config.media.url_ttl_secs,
        ));
        let keys = tokens::TokenKeys::new(&secret, config.access_token_ttl());
        let fanout = Fanout::new(bus.clone());
        let caches = Arc::new(Caches::default());
        caches.disabled.reload(&*store).await?;
        let accounts = Accounts::new(store.clone(), bus.clone(), keys, config.auth.clone(), caches.clone())?;
        let media_dir = matches!(config.media.backend, MediaBackend::Disk).then(|| config.media_dir());
        let admin = Admin::new(store.clone(), fanout.clone(), caches.clone(), media_dir);
        let receipts = Arc::new(Receipts::new(store.clone(), bus.clone(), fanout.clone(), caches.clone()));
        // This node, as presence, the fan-out and the SFU hosts name it.
        let node = uuid::Uuid::now_v7();
        let presence = Presence::new(
            store.clone(),
            bus.clone(),
            fanout.clone(),
            node,
            std::time::Duration::from_secs(config.presence.ttl_secs),
        );
        let conversations = Conversations::new(
            store.clone(),
            fanout.clone(),
            caches.clone(),
            receipts.clone(),
            presence.clone(),
            links.clone(),
        );
        // The VAPID key pair: configured, or derived from the signing secret (which every
        // node shares, through the database on a cluster).
        let vapid = match config.push.vapid_private_key.is_empty() {
            true => Vapid::from_seed(tokens::derived_secret(&secret, b"nexus vapid key").as_bytes()),
            false => Vapid::from_base64(&config.push.vapid_private_key)?,
        };
        let push = Push::new(
            store.clone(),
            bus.clone(),
            caches.clone(),
            receipts.clone(),
            config.push.clone(),
            vapid,
            std::time::Duration::from_secs(config.calls.ring_timeout_secs),
        )?;
        let messages = Arc::new(Messages::new(
            store.clone(),
            bus.clone(),
            fanout.clone(),
            caches.clone(),
            receipts.clone(),
            links.clone(),
            push.clone(),
            config.messages.clone(),
        ));
        let relaying = Relaying { relay: turn.clone(), secret: turn_secret.clone(), config: config.turn.clone() };
        let calls = Calls::new(
            store.clone(),
            bus.clone(),
            fanout.clone(),
            messages.clone(),
            push.clone(),
            config.calls.clone(),
            relaying,
        );
        let (sfu, sfu_events) = match serving {
            true => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                (Some(Sfu::start(sfu_settings(&config), tx).await?), Some(rx))
            }
            false => (None, None),
        };
        if let (Some(relay), Some(sfu)) = (&turn, &sfu) {
            relay.allow_peer(sfu.address());
        }
        let rooms =
            Rooms::new(store.clone(), bus.clone(), fanout.clone(), calls.clone(), config.calls.clone(), sfu, node);
        if let Some(events) = sfu_events {
            rooms.run(events).await?;
        }
        let health = Health::new(store.clone(), bus.clone());
        let files: Arc<dyn MediaStore> = match config.media.backend {
            MediaBackend::Disk => Arc::new(DiskStore::open(&config.media_dir()).with_context(|| {
                format!("cannot open the media folder {} (set media.dir)", config.media_dir().display())
            })?),
            MediaBackend::Cloudinary => Arc::new(CloudinaryStore::new(config.media.cloudinary.clone())?),
        };
        let search = Search::new(
            store.clone(),
            bus.clone(),
            links.clone(),
            crate::bus::Quota::per_second(config.messages.search_per_sec, config.messages.search_burst),
        );
        let retention = Retention::new(store.clone(), files.clone(), config.messages.retention_days);
        let changes = Changes::new(
            store.clone(),
            bus.clone(),
            fanout.clone(),
            caches.clone(),
            links.clone(),
            files.clone(),
            config.messages.clone(),
        );
        let media = Media::new(store.clone(), files, config.media.clone(), links, config.server.data_dir.join("tmp"));
        Ok(Arc::new(Services {
            config,
            store,
            bus,
            fanout,
            caches,
            accounts,
            admin,
            conversations,
            messages,
            changes,
            receipts,
            presence,
            push,
            calls,
            rooms,
            search,
            health,
            media,
            retention,
            turn_secret,
            turn,
        }))
    }
}

fn sfu_settings(config: &Config) -> SfuSettings {
    let c = &config.calls;
    SfuSettings {
        bind: c.sfu.listen,
        public_ip: c.sfu.public_ip.parse().ok(),
        connect_timeout: std::time::Duration::from_secs(c.connect_timeout_secs),
        media_grace: std::time::Duration::from_secs(c.reconnect_grace_secs),
        max_subscriber_kbps: u64::from(c.max_receive_kbps),
        room_queue: c.sfu.room_queue,
    }
}
