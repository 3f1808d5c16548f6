//! The process: [`App::build`] turns a [`Config`] into a bound listener and the
//! [`Services`] of a serving node; [`App::run`] serves until the shutdown future resolves, then stops
//! accepting, lets in-flight requests finish (up to `server.shutdown_grace_secs`), stops
//! the scheduled jobs and closes the store.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use poem::{
    Server,
    listener::{Acceptor, Listener, TcpAcceptor, TcpListener},
};

pub use crate::services::Services;
use crate::{
    config::Config,
    gateway::{CLOSE_GOING_AWAY, Gateway},
    jobs::Jobs,
};

pub struct App {
    pub services: Arc<Services>,
    acceptor: NoDelay,
    addr: SocketAddr,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let services = Services::start(config).await?;
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
        let pusher = tokio::spawn(services.push.clone().run_worker(stop_rx.clone()));
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
        // Deliveries in flight finish within a few seconds; the rest stays queued (Redis)
        // for another node or the next start.
        if tokio::time::timeout(Duration::from_secs(6), pusher).await.is_err() {
            tracing::warn!("push worker did not stop in time");
        }
        let _ = dispatcher.await;
        services.rooms.shutdown().await;
        if let Err(e) = services.receipts.flush().await {
            tracing::error!(error = %e, "final receipts flush failed");
        }
        jobs.stop().await;
        if let Some(relay) = &services.turn {
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
