//! `receipts`: drives the receipts service directly against a database and bus (no
//! server) and counts database statements: one upsert per receipt (naive) versus the
//! write-behind buffer and its flush.

use std::time::Instant;

use chrono::Utc;
use nexus::{
    app::Services,
    config::Config,
    service::receipts::Kind,
    store::{NewMessage, NewUser, Receipt},
};
use serde_json::json;
use uuid::Uuid;

pub async fn run(
    database_url: &str,
    redis_url: &str,
    redis_prefix: &str,
    events: usize,
    conversations: usize,
    users: usize,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("nexus-bench-{}", Uuid::now_v7().simple()));
    let mut config = Config::default();
    config.server.data_dir = dir.clone();
    config.database.url = database_url.to_string();
    config.redis.url = redis_url.to_string();
    config.redis.prefix = redis_prefix.to_string();
    let services = Services::build(config).await?;
    let store = services.store.clone();
    let scale = format!("{} + {}", store.backend(), services.bus.backend());

    // Users and conversations (members spread evenly), each with 100 messages.
    let mut user_ids = Vec::with_capacity(users);
    for i in 0..users {
        let u = store
            .create_user(NewUser {
                id: Uuid::now_v7(),
                username: format!("r{}_{i}", &Uuid::now_v7().simple().to_string()[24..]),
                display_name: format!("R {i}"),
                password_hash: "x".into(),
                admin: Some(false),
                created_at: Utc::now(),
            })
            .await?;
        user_ids.push(u.id);
    }
    let per = users / conversations;
    let mut convs = Vec::with_capacity(conversations);
    for c in 0..conversations {
        let members: Vec<Uuid> = user_ids[c * per..(c + 1) * per].to_vec();
        let conv = store.create_group(Uuid::now_v7(), &format!("c{c}"), members[0], &members[1..], Utc::now()).await?;
        let batch: Vec<NewMessage> = (0..100)
            .map(|k| NewMessage {
                id: Uuid::now_v7(),
                conversation_id: conv.id,
                sender_id: members[k % members.len()],
                client_id: format!("seed-{k}"),
                kind: "text".into(),
                body: "seed".into(),
                attachments: Vec::new(),
                created_at: Utc::now(),
                reply_to: None,
                reply: None,
                mentions: Vec::new(),
            })
            .collect();
        store.persist_batch(&batch).await?;
        convs.push((conv.id, members));
    }
    // The events: deterministic pseudo-random (conversation, member, kind, seq).
    let evs: Vec<(Uuid, Uuid, Kind, i64)> = (0..events)
        .map(|i| {
            let (c, members) = &convs[(i * 7919) % convs.len()];
            // Spread over every member of every conversation (all `users`).
            let u = members[(i / convs.len() + i) % members.len()];
            let kind = if i % 2 == 0 { Kind::Delivered } else { Kind::Read };
            (*c, u, kind, 1 + ((i * 31) % 100) as i64)
        })
        .collect();

    // Naive: one upsert per event.
    let t = Instant::now();
    let mut naive_statements = 0;
    for (c, u, kind, seq) in &evs {
        let (d, r) = match kind {
            Kind::Delivered => (*seq, 0),
            Kind::Read => (*seq, *seq),
        };
        naive_statements += store
            .upsert_receipts(&[Receipt { conversation_id: *c, user_id: *u, delivered_seq: d, read_seq: r }], Utc::now())
            .await?;
    }
    let naive_secs = t.elapsed().as_secs_f64();

    // Write-behind: every event through the service (validation, buffer, real-time fan-out),
    // then flushes; one flush here stands for the 10 s schedule.
    let t = Instant::now();
    for (c, u, kind, seq) in &evs {
        services.receipts.record(*u, *c, *kind, *seq).await?;
    }
    let record_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let report = services.receipts.flush().await?;
    let flush_secs = t.elapsed().as_secs_f64();
    let reduction = 100.0 * (1.0 - report.statements as f64 / naive_statements as f64);
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "scale": scale,
            "events": events,
            "conversations": conversations,
            "users": users,
            "naive": {"statements": naive_statements, "seconds": naive_secs, "events_per_s": events as f64 / naive_secs},
            "write_behind": {
                "statements": report.statements,
                "rows_flushed": report.entries,
                "record_seconds": record_secs,
                "events_per_s": events as f64 / record_secs,
                "flush_seconds": flush_secs,
            },
            "statement_reduction_percent": reduction,
        }))?
    );
    services.store.close().await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
