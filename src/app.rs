//! Wiring: [`App::build`] turns a [`Config`] into a bound listener and the services (store,
//! bus, accounts, …); [`App::run`] serves until the shutdown future resolves, then stops
//! accepting, lets in-flight requests finish (up to `server.shutdown_grace_secs`), stops
//! the scheduled jobs and closes the store.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use poem::{
    Server,
    listener::{Acceptor, Listener, TcpAcceptor, TcpListener},
};

use crate::{
    bus::{self, Bus},
    config::Config,
    gateway::{CLOSE_GOING_AWAY, Gateway},
    jobs::Jobs,
    rtc::turn::{Relay, ReleaseOnCallEnd},
    service::{
        accounts::Accounts, cache::Caches, calls::Calls, conversations::Conversations, events::Fanout,
        messages::Messages, presence::Presence, receipts::Receipts, tokens,
    },
    store::{self, Store},
};

/// Everything a handler may use. Passed explicitly; there are no globals.
pub struct Services {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub fanout: Fanout,
    pub caches: Arc<Caches>,
    pub accounts: Accounts,
    pub conversations: Conversations,
    pub messages: Arc<Messages>,
    pub receipts: Arc<Receipts>,
    pub presence: Presence,
    pub calls: Arc<Calls>,
    /// Shared secret of the TURN REST credentials.
    pub turn_secret: String,
    /// This node's TURN relay, once started.
    pub turn: std::sync::OnceLock<Arc<Relay>>,
}

impl Services {
    /// Open the store (migrating it) and the bus, and build the services.
    pub async fn build(config: Config) -> anyhow::Result<Arc<Services>> {
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
        let keys = tokens::TokenKeys::new(&secret, config.access_token_ttl());
        let accounts = Accounts::new(store.clone(), bus.clone(), keys, config.auth.clone())?;
        let fanout = Fanout::new(bus.clone());
        let caches = Arc::new(Caches::default());
        let receipts = Arc::new(Receipts::new(store.clone(), bus.clone(), fanout.clone(), caches.clone()));
        let conversations = Conversations::new(store.clone(), fanout.clone(), caches.clone(), receipts.clone());
        let messages = Arc::new(Messages::new(
            store.clone(),
            bus.clone(),
            fanout.clone(),
            caches.clone(),
            receipts.clone(),
            config.messages.clone(),
        ));
        let presence = Presence::new(store.clone(), bus.clone(), fanout.clone());
        let calls = Calls::new(store.clone(), bus.clone(), fanout.clone(), messages.clone(), config.calls.clone());
        // Configured, or derived from the signing secret so that every node agrees.
        let turn_secret = match config.turn.secret.is_empty() {
            false => config.turn.secret.clone(),
            true => {
                use hmac::{Hmac, Mac};
                let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&secret).expect("HMAC takes any key length");
                mac.update(b"nexus turn rest secret");
                hex::encode(mac.finalize().into_bytes())
            }
        };
        Ok(Arc::new(Services {
            config,
            store,
            bus,
            fanout,
            caches,
            accounts,
            conversations,
            messages,
            receipts,
            presence,
            calls,
            turn_secret,
            turn: std::sync::OnceLock::new(),
        }))
    }
}

pub struct App {
    pub services: Arc<Services>,
    acceptor: NoDelay,
    addr: SocketAddr,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let services = Services::build(config).await?;
        if services.config.turn.enabled {
            let relay = Relay::start(&services.config.turn, services.turn_secret.clone()).await?;
            services.calls.set_hook(Arc::new(ReleaseOnCallEnd(relay.clone())));
            let _ = services.turn.set(relay);
        }
        let wanted = services.config.listen_addr();
        let acceptor =
            TcpListener::bind(wanted).into_acceptor().await.with_context(|| format!("cannot listen on {wanted}"))?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("listener has no address")?;
        Ok(App { services, acceptor: NoDelay(acceptor), addr })
    }

    /// The bound address (the real port when configured with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serve until `shutdown` resolves. Then: stop accepting, close WebSockets with 1001,
    /// let in-flight requests finish, drain the message worker, flush receipts, stop jobs.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let services = self.services;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let (gateway, dispatcher) = Gateway::start(services.clone(), stop_rx.clone()).await?;
        let worker = tokio::spawn(services.messages.clone().run_worker(stop_rx.clone()));
        let jobs = Jobs::start(services.clone()).await?;
        tracing::info!(
            addr = %self.addr,
            database = services.store.backend(),
            bus = services.bus.backend(),
            "nexus is serving"
        );
        let grace = Duration::from_secs(services.config.server.shutdown_grace_secs);
        let registry = gateway.registry.clone();
        let stop_sessions = stop_tx.clone();
        let signal = async move {
            shutdown.await;
            // WebSockets never finish on their own: ask every session to close.
            let _ = stop_sessions.send(true);
            registry.kick_all(CLOSE_GOING_AWAY);
        };
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(crate::http::routes(services.clone(), gateway), signal, Some(grace))
            .await;
        let _ = stop_tx.send(true);
        // What is still queued here (embedded mode) is a few batches at most.
        if tokio::time::timeout(Duration::from_secs(5), worker).await.is_err() {
            tracing::warn!("message worker did not stop in time");
        }
        let _ = dispatcher.await;
        if let Err(e) = services.receipts.flush().await {
            tracing::error!(error = %e, "final receipts flush failed");
        }
        jobs.stop().await;
        if let Some(relay) = services.turn.get() {
            relay.close().await;
        }
        services.store.close().await;
        tracing::info!("stopped");
        result.context("server error")
    }
}

/// Accepted connections send at once (`TCP_NODELAY`). Without it, a server push that
/// follows another within the client's delayed-ACK window (40 ms on Linux) waits for that
/// ACK (Nagle's algorithm): measured as a 42 ms step in call set-up (`nexus-bench calls`).
struct NoDelay(TcpAcceptor);

impl Acceptor for NoDelay {
    type Io = tokio::net::TcpStream;

    fn local_addr(&self) -> Vec<poem::web::LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(
        &mut self,
    ) -> std::io::Result<(Self::Io, poem::web::LocalAddr, poem::web::RemoteAddr, poem::http::uri::Scheme)> {
        let (io, local, remote, scheme) = self.0.accept().await?;
        let _ = io.set_nodelay(true);
        Ok((io, local, remote, scheme))
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight work");
}
