//! `GET /healthz`: the process is alive. `GET /readyz`: the database and the bus answer.

use std::sync::Arc;

use poem::{IntoResponse, Response, handler, http::StatusCode, web::Data, web::Json};
use serde_json::json;

use super::problem::Problem;
use crate::services::Services;

#[handler]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

#[handler]
pub async fn readyz(services: Data<&Arc<Services>>) -> Response {
    let r = services.health.readiness().await;
    if r.database_ok && r.bus_ok {
        return Json(json!({ "status": "ready", "database": r.database, "bus": r.bus })).into_response();
    }
    let mut down = Vec::new();
    if !r.database_ok {
        down.push(format!("database ({})", r.database));
    }
    if !r.bus_ok {
        down.push(format!("bus ({})", r.bus));
    }
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", format!("not reachable: {}", down.join(", ")), None)
        .into_response()
}

/// `GET /metrics`: Prometheus text format.
#[handler]
pub async fn metrics(services: Data<&Arc<Services>>, gateway: Data<&crate::gateway::Gateway>) -> Response {
    use std::{fmt::Write, sync::atomic::Ordering::Relaxed};
    let m = &services.messages.stats;
    let r = &services.receipts.stats;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    };
    metric("nexus_websocket_connections", "gauge", "WebSocket sessions on this node.", gateway.registry.len() as f64);
    metric(
        "nexus_messages_accepted_total",
        "counter",
        "Messages accepted for delivery by this node.",
        m.accepted.load(Relaxed) as f64,
    );
    metric(
        "nexus_messages_stored_total",
        "counter",
        "Messages stored by this node's worker.",
        m.stored.load(Relaxed) as f64,
    );
    metric(
        "nexus_messages_duplicates_total",
        "counter",
        "Retries answered with the stored message.",
        m.duplicates.load(Relaxed) as f64,
    );
    metric("nexus_message_batches_total", "counter", "Batches (transactions) stored.", m.batches.load(Relaxed) as f64);
    metric(
        "nexus_messages_reclaimed_total",
        "counter",
        "Messages taken over from stopped consumers.",
        m.reclaimed.load(Relaxed) as f64,
    );
    metric(
        "nexus_messages_dead_lettered_total",
        "counter",
        "Messages given up after repeated failures.",
        m.dead_lettered.load(Relaxed) as f64,
    );
    metric(
        "nexus_messages_retention_removed_total",
        "counter",
        "Messages removed by retention (messages.retention_days) on this node.",
        services.retention.stats.messages_removed.load(Relaxed) as f64,
    );
    metric(
        "nexus_uploads_retention_removed_total",
        "counter",
        "Uploads removed with the messages retention removed, on this node.",
        services.retention.stats.uploads_removed.load(Relaxed) as f64,
    );
    metric(
        "nexus_receipts_flushes_total",
        "counter",
        "Receipt flushes run by this node.",
        r.flushes.load(Relaxed) as f64,
    );
    metric("nexus_receipts_flushed_total", "counter", "Receipt pointer pairs written.", r.entries.load(Relaxed) as f64);
    metric(
        "nexus_receipts_flush_statements_total",
        "counter",
        "Database statements of receipt flushes.",
        r.statements.load(Relaxed) as f64,
    );
    metric(
        "nexus_receipts_flush_failures_total",
        "counter",
        "Failed receipt flushes.",
        r.failures.load(Relaxed) as f64,
    );
    metric(
        "nexus_receipts_last_flush_seconds",
        "gauge",
        "Duration of the last flush.",
        r.last_duration_us.load(Relaxed) as f64 / 1e6,
    );
    metric(
        "nexus_receipts_last_flush_success_timestamp_seconds",
        "gauge",
        "Unix time of the last successful flush.",
        r.last_success.load(Relaxed) as f64,
    );
    let f = &services.fanout.stats;
    metric(
        "nexus_fanout_published_total",
        "counter",
        "Fan-out payloads published (one per destination node of a batch).",
        f.published.load(Relaxed) as f64,
    );
    metric(
        "nexus_fanout_received_total",
        "counter",
        "Fan-out payloads this node received.",
        f.received.load(Relaxed) as f64,
    );
    metric(
        "nexus_fanout_received_envelopes_total",
        "counter",
        "Events (one per recipient set) in the fan-out payloads this node received.",
        f.received_envelopes.load(Relaxed) as f64,
    );
    let c = &services.calls.stats;
    metric("nexus_calls_started_total", "counter", "Calls that rang.", c.started.load(Relaxed) as f64);
    metric("nexus_calls_ended_total", "counter", "Calls that ended (any reason).", c.ended.load(Relaxed) as f64);
    metric("nexus_calls_missed_total", "counter", "Calls nobody answered.", c.missed.load(Relaxed) as f64);
    metric("nexus_calls_busy_total", "counter", "Invites refused as busy.", c.busy.load(Relaxed) as f64);
    let p = services.push.stats();
    for (name, help, v) in [
        (
            "nexus_push_queued_total",
            "Push jobs queued (a message or a call, for users with no socket open).",
            &p.queued,
        ),
        ("nexus_push_sent_total", "Pushes a push service accepted.", &p.sent),
        ("nexus_push_retried_total", "Push attempts to be tried again (429, 5xx, network).", &p.retried),
        ("nexus_push_failed_total", "Pushes given up (attempts exhausted or refused).", &p.failed),
        ("nexus_push_gone_total", "Subscriptions deleted: their push service said 404/410.", &p.gone),
        ("nexus_push_silenced_total", "Pushes not sent: do-not-disturb, a mute or a disabled account.", &p.silenced),
        ("nexus_push_rate_limited_total", "Pushes dropped by the per-user rate limit.", &p.rate_limited),
    ] {
        metric(name, "counter", help, v.load(Relaxed) as f64);
    }
    if let Some(sfu) = services.rooms.sfu() {
        use crate::rtc::sfu::SfuStats;
        let s = &sfu.stats;
        for (name, kind, help, v) in [
            ("nexus_sfu_rooms", "gauge", "Group calls whose SFU room runs on this node.", &s.rooms),
            ("nexus_sfu_participants", "gauge", "Participants in this node's SFU rooms.", &s.participants),
            ("nexus_sfu_packets_in_total", "counter", "Datagrams the SFU received.", &s.packets_in),
            ("nexus_sfu_bytes_in_total", "counter", "Bytes the SFU received.", &s.bytes_in),
            ("nexus_sfu_packets_out_total", "counter", "Datagrams the SFU sent.", &s.packets_out),
            ("nexus_sfu_bytes_out_total", "counter", "Bytes the SFU sent.", &s.bytes_out),
            ("nexus_sfu_forwarded_frames_total", "counter", "Media frames forwarded to subscribers.", &s.forwarded),
            ("nexus_sfu_forwarded_bytes_total", "counter", "Media bytes forwarded to subscribers.", &s.forwarded_bytes),
            (
                "nexus_sfu_dropped_total",
                "counter",
                "Datagrams or frames lost inside the SFU (full queues).",
                &s.dropped,
            ),
            ("nexus_sfu_unrouted_total", "counter", "Datagrams from addresses of no participant.", &s.unrouted),
            (
                "nexus_sfu_keyframe_requests_total",
                "counter",
                "Keyframe requests (PLI/FIR) sent to publishers.",
                &s.keyframe_requests,
            ),
        ] {
            metric(name, kind, help, SfuStats::get(v) as f64);
        }
    }
    if let Some(turn) = &services.turn {
        let t = &turn.stats;
        metric("nexus_turn_allocations", "gauge", "TURN allocations open now.", t.allocations.load(Relaxed) as f64);
        metric(
            "nexus_turn_allocations_total",
            "counter",
            "TURN allocations granted.",
            t.allocations_total.load(Relaxed) as f64,
        );
        metric(
            "nexus_turn_relayed_bytes_total",
            "counter",
            "Bytes relayed to and from peers.",
            t.relayed_bytes.load(Relaxed) as f64,
        );
        metric(
            "nexus_turn_refused_quota_total",
            "counter",
            "Allocations refused: user quota reached.",
            t.refused_quota.load(Relaxed) as f64,
        );
        metric(
            "nexus_turn_refused_peer_total",
            "counter",
            "Permissions or packets refused: reserved peer address.",
            t.refused_peer.load(Relaxed) as f64,
        );
        metric(
            "nexus_turn_refused_credentials_total",
            "counter",
            "Requests with expired, forged or malformed credentials.",
            t.refused_credentials.load(Relaxed) as f64,
        );
        metric(
            "nexus_turn_refused_flood_total",
            "counter",
            "Unauthenticated requests dropped over the per-source or overall budget.",
            t.refused_flood.load(Relaxed) as f64,
        );
    }
    if let Some(rss) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse::<f64>().ok())
    {
        metric("process_resident_memory_bytes", "gauge", "Resident memory of this process.", rss * 1024.0);
    }
    Response::builder().content_type("text/plain; version=0.0.4").body(out)
}
