//! Scheduled work, run in-process by `tokio-cron-scheduler`: partition upkeep (daily, cron
//! `jobs.partitions_cron`), the sweep of uploads never attached (hourly,
//! `jobs.media_sweep_cron`), message retention (daily, `jobs.retention_cron`, when
//! `messages.retention_days` is set), the receipts flush (every
//! `receipts.flush_interval_secs`) and the reload of the disabled accounts (every 30 s, so
//! a missed bus directive heals). Each job is a public
//! "one step" function (tests call it directly) plus its schedule from `jobs.*`; an empty
//! schedule disables a job. Jobs that must run on one node at a time take a lock.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::services::Services;

pub struct Jobs {
    scheduler: JobScheduler,
}

impl Jobs {
    pub async fn start(services: Arc<Services>) -> anyhow::Result<Jobs> {
        let scheduler = JobScheduler::new().await.context("cannot start the job scheduler")?;
        let cron = services.config.jobs.partitions_cron.clone();
        if !cron.is_empty() {
            let s = services.clone();
            let job = Job::new_async(cron.as_str(), move |_, _| {
                let s = s.clone();
                Box::pin(async move {
                    if let Err(e) = partitions_step(&s).await {
                        tracing::error!(error = %format!("{e:#}"), "partition upkeep failed");
                    }
                })
            })
            .context("jobs.partitions_cron")?;
            scheduler.add(job).await.context("cannot schedule partition upkeep")?;
        }
        let cron = services.config.jobs.media_sweep_cron.clone();
        if !cron.is_empty() {
            let s = services.clone();
            let job = Job::new_async(cron.as_str(), move |_, _| {
                let s = s.clone();
                Box::pin(async move {
                    if let Err(e) = media_sweep_step(&s).await {
                        tracing::error!(error = %format!("{e:#}"), "media sweep failed");
                    }
                })
            })
            .context("jobs.media_sweep_cron")?;
            scheduler.add(job).await.context("cannot schedule the media sweep")?;
        }
        let cron = services.config.jobs.retention_cron.clone();
        if !cron.is_empty() && services.config.messages.retention_days > 0 {
            let s = services.clone();
            let job = Job::new_async(cron.as_str(), move |_, _| {
                let s = s.clone();
                Box::pin(async move {
                    if let Err(e) = retention_step(&s, chrono::Utc::now()).await {
                        tracing::error!(error = %format!("{e:#}"), "message retention failed");
                    }
                })
            })
            .context("jobs.retention_cron")?;
            scheduler.add(job).await.context("cannot schedule message retention")?;
        }
        let s = services.clone();
        let every = Duration::from_secs(services.config.receipts.flush_interval_secs);
        let job = Job::new_repeated_async(every, move |_, _| {
            let s = s.clone();
            Box::pin(async move {
                // Errors are logged by the flusher; the batch stays buffered for the next run.
                let _ = s.receipts.flush().await;
            })
        })
        .context("receipts.flush_interval_secs")?;
        scheduler.add(job).await.context("cannot schedule the receipts flush")?;
        let s = services.clone();
        let job = Job::new_repeated_async(crate::service::cache::DISABLED_RELOAD, move |_, _| {
            let s = s.clone();
            Box::pin(async move {
                if let Err(e) = s.caches.disabled.reload(&*s.store).await {
                    tracing::warn!(error = %e, "reload of the disabled accounts failed");
                }
            })
        })
        .context("disabled accounts reload")?;
        scheduler.add(job).await.context("cannot schedule the disabled accounts reload")?;
        scheduler.start().await.context("cannot start the job scheduler")?;
        Ok(Jobs { scheduler })
    }

    pub async fn stop(mut self) {
        if let Err(e) = self.scheduler.shutdown().await {
            tracing::warn!(error = %e, "job scheduler shutdown");
        }
    }
}

/// Keep `database.partitions_ahead` months of message partitions ahead of today. Only the
/// node holding the advisory lock does the work; returns `None` on the others.
pub async fn partitions_step(services: &Services) -> anyhow::Result<Option<Vec<String>>> {
    let created =
        services.store.ensure_partitions_locked(chrono::Utc::now(), services.config.database.partitions_ahead).await?;
    match &created {
        Some(names) if !names.is_empty() => tracing::info!(?names, "message partitions created"),
        Some(_) => tracing::debug!("message partitions up to date"),
        None => tracing::debug!("partition upkeep running on another node"),
    }
    Ok(created)
}

/// Delete uploads never attached within `media.orphan_ttl_hours` (and their files), on one
/// node at a time; returns `None` when another node holds the sweep.
pub async fn media_sweep_step(services: &Services) -> anyhow::Result<Option<usize>> {
    let lock = crate::bus::keys::MEDIA_SWEEP_LOCK;
    let Some(token) = services.bus.try_lock(lock, Duration::from_secs(300)).await? else { return Ok(None) };
    let result = services.media.sweep_orphans(chrono::Utc::now()).await;
    if let Err(e) = services.bus.unlock(lock, &token).await {
        tracing::warn!(error = %e, "media sweep lock not released (it expires)");
    }
    Ok(Some(result?))
}

/// Remove the messages older than `messages.retention_days` at `now` (and the images only
/// they carried), on one node at a time; returns `None` when another node holds the work.
/// With retention off it removes nothing.
pub async fn retention_step(
    services: &Services,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Option<crate::store::Expired>> {
    let lock = crate::bus::keys::RETENTION_LOCK;
    let Some(token) = services.bus.try_lock(lock, Duration::from_secs(3600)).await? else { return Ok(None) };
    let result = services.retention.run(now).await;
    if let Err(e) = services.bus.unlock(lock, &token).await {
        tracing::warn!(error = %e, "retention lock not released (it expires)");
    }
    Ok(result?)
}
