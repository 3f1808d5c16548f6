//! `search`: message search on a server holding many messages. Users and group
//! conversations are made over REST; the messages are then written **straight into the
//! server's database** through the store (`persist_batch`, batches of 500, the same
//! transaction the message worker runs, so the index triggers and the generated column do
//! their work as they would), spread over the last `--months` months: sending 100,000
//! messages over the gateway would measure the pipeline, not search. The queries then go
//! over REST as a client sends them (`GET /api/v1/search`, bearer token, JSON read in full),
//! one at a time per `--concurrency` worker, each as a random user: one word (35 %), two
//! words (20 %), the beginning of a word (20 %), a quoted two-word phrase taken from a
//! message (10 %), one word within one of the user's conversations (10 %), one of the 20
//! most frequent words (5 %). Message words come from a Zipf-distributed vocabulary of
//! everyday chat; query words from the same, less its 40 most frequent ones (see
//! [`COMMON`]). With `--settle` (default) PostgreSQL is vacuumed between the load and the
//! queries, as autovacuum soon would be. Reports the insert rate and the latency
//! percentiles of the queries (after `--warmup` unmeasured ones), overall and per kind.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use chrono::Utc;
use nexus::{config::Config, store::NewMessage};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::common;

pub struct SearchPlan {
    pub url: String,
    /// The server's database: `postgres://…` or `sqlite:PATH` (its `nexus.db`).
    pub database_url: String,
    pub messages: usize,
    pub conversations: usize,
    pub users: usize,
    pub members: usize,
    pub months: u32,
    pub queries: usize,
    pub warmup: usize,
    pub concurrency: usize,
    pub seed: u64,
    /// Vacuum after the load (PostgreSQL), as autovacuum soon does.
    pub settle: bool,
    pub server_pid: Option<u32>,
}

/// Words of everyday chat, most frequent first (a word's rank sets its Zipf weight).
const VOCABULARY: &str = "the i you to a and it is that of in we for on this be have are not with \
    can just do will so me but at what my know if was get like all your they there about \
    ok yes no go up out now one time think here when today tomorrow good see how going \
    back meeting new work call thanks need let make sure right well please also could \
    would done still then more later week send check looks great some day first again \
    team update should last people any because file review plan next issue build test \
    deploy release morning monday friday lunch coffee working problem idea question \
    change fix code branch merge server client design doc docs notes customer project \
    report budget numbers data dashboard launch schedule weekend office remote home \
    travel flight hotel dinner birthday party music movie game football weather rain \
    snow summer winter holiday vacation picture photo video link email message chat \
    phone laptop screen bug crash error logs database query index search slow fast \
    memory disk network cluster node backup restore migration version feature request \
    approve approved pending blocked urgent tonight yesterday afternoon evening minute \
    hour soon quick short long big small happy sorry awesome nice cool funny weird \
    kitchen garden car bike train station airport harbour market shop groceries pizza \
    tacos sushi salad bread cheese wine beer tea juice water doctor dentist school \
    teacher homework exam lecture library book article paper draft slides agenda \
    invoice contract payment salary tax insurance apartment rent landlord neighbour \
    parcel delivery courier printer keyboard mouse cable charger battery password \
    account login signup profile settings notification permission calendar reminder \
    deadline milestone roadmap sprint retro standup interview candidate offer welcome";

/// One query: the user who asks, the query string's parameters, its kind.
type Query = (usize, Vec<(&'static str, String)>, &'static str);

/// How many of the most frequent words most queries leave out.
const COMMON: usize = 40;

fn vocabulary() -> Vec<&'static str> {
    VOCABULARY.split_whitespace().collect()
}

/// Zipf (s = 1) over `n` ranks: cumulative weights, for sampling by binary search.
fn zipf(n: usize) -> Vec<f64> {
    let mut acc = 0.0;
    (1..=n)
        .map(|r| {
            acc += 1.0 / r as f64;
            acc
        })
        .collect()
}

fn pick<'a>(words: &[&'a str], cdf: &[f64], rng: &mut StdRng) -> &'a str {
    let x = rng.random_range(0.0..*cdf.last().unwrap());
    words[cdf.partition_point(|c| *c < x).min(words.len() - 1)]
}

fn body(words: &[&str], cdf: &[f64], rng: &mut StdRng) -> String {
    let n = rng.random_range(3..=20);
    (0..n).map(|_| pick(words, cdf, rng)).collect::<Vec<_>>().join(" ")
}

pub async fn run(plan: SearchPlan) -> anyhow::Result<()> {
    common::check_loopback(&plan.url)?;
    if plan.members > plan.users || plan.members == 0 || plan.conversations == 0 || plan.users < 2 {
        bail!("--members must be 1..=--users, with at least one conversation and two users");
    }
    let http = common::http_client()?;
    let tag = common::run_tag();
    let users = common::register_users(&http, &plan.url, &format!("s{tag}"), plan.users).await?;

    // Each conversation: `members` consecutive users (wrapping), its first one the creator.
    let mut conversations: Vec<(Uuid, Vec<usize>)> = Vec::with_capacity(plan.conversations);
    for c in 0..plan.conversations {
        let members: Vec<usize> = (0..plan.members).map(|k| (c * 7 + k) % plan.users).collect();
        let others: Vec<&str> = members[1..].iter().map(|&m| users[m].id.as_str()).collect();
        let body = json!({"kind": "group", "name": format!("search {c}"), "member_ids": others});
        let id = common::create_conversation(&http, &plan.url, &users[members[0]].token, body).await?;
        conversations.push((id.parse()?, members));
    }
    let mut of_user: Vec<Vec<Uuid>> = vec![Vec::new(); plan.users];
    for (id, members) in &conversations {
        for &m in members {
            of_user[m].push(*id);
        }
    }

    // The messages, oldest first, straight into the server's database.
    let mut config = Config::default();
    config.database.url = plan.database_url.clone();
    config.server.data_dir = std::env::temp_dir().join(format!("nexus-bench-search-{tag}"));
    let store = nexus::store::open(&config).await.context("the server's database (--database-url)")?;
    let words = vocabulary();
    let cdf = zipf(words.len());
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let span = chrono::Duration::days(30 * i64::from(plan.months.max(1)));
    let start = Utc::now() - span - chrono::Duration::hours(1);
    let step = span / plan.messages.max(1) as i32;
    // The months' partitions first (PostgreSQL), as the daily upkeep would have made them:
    // an insert that finds none creates it, which is not what is measured here.
    store.ensure_partitions(start, plan.months + 1).await?;
    let mut phrases: Vec<String> = Vec::new();
    let t = Instant::now();
    let mut written = 0;
    while written < plan.messages {
        let n = (plan.messages - written).min(500);
        let batch: Vec<NewMessage> = (written..written + n)
            .map(|i| {
                let (conversation, members) = &conversations[rng.random_range(0..conversations.len())];
                let sender = &users[members[rng.random_range(0..members.len())]];
                let text = body(&words, &cdf, &mut rng);
                if i % 97 == 0 {
                    let w: Vec<&str> = text.split(' ').collect();
                    phrases.push(format!("\"{} {}\"", w[0], w[1]));
                }
                NewMessage {
                    id: Uuid::now_v7(),
                    conversation_id: *conversation,
                    sender_id: sender.id.parse().expect("a user id"),
                    client_id: format!("bench-{i}"),
                    kind: "text".into(),
                    body: text,
                    attachments: Vec::new(),
                    created_at: start + step * i as i32,
                    reply_to: None,
                    reply: None,
                    mentions: Vec::new(),
                }
            })
            .collect();
        store.persist_batch(&batch).await?;
        written += n;
    }
    let insert_secs = t.elapsed().as_secs_f64();
    store.close().await;
    let _ = std::fs::remove_dir_all(&config.server.data_dir);

    // The queries, decided up front (same seed, same queries). People search for what a
    // conversation was about, rarely for "the": the words of most queries are those past
    // the 40 most frequent (Zipf among themselves); one query in 20 is one of the 20 most
    // frequent, the worst case (it matches most messages).
    let content = &words[COMMON..];
    let content_cdf = zipf(content.len());
    let total = plan.warmup + plan.queries;
    let queries: Vec<Query> = (0..total)
        .map(|_| {
            let u = rng.random_range(0..plan.users);
            let roll = rng.random_range(0..100);
            let word = |rng: &mut StdRng| pick(content, &content_cdf, rng).to_string();
            let (params, kind) = match roll {
                0..35 => (vec![("q", word(&mut rng))], "word"),
                35..55 => (vec![("q", format!("{} {}", word(&mut rng), word(&mut rng)))], "two words"),
                55..75 => {
                    let w = loop {
                        let w = word(&mut rng);
                        if w.chars().count() >= 4 {
                            break w;
                        }
                    };
                    let keep = rng.random_range(3..=w.chars().count().min(5));
                    (vec![("q", w.chars().take(keep).collect())], "prefix")
                }
                75..85 => (vec![("q", phrases[rng.random_range(0..phrases.len())].clone())], "phrase"),
                85..95 => {
                    let c = of_user[u].get(rng.random_range(0..of_user[u].len().max(1))).copied();
                    let mut p = vec![("q", word(&mut rng))];
                    if let Some(c) = c {
                        p.push(("conversation_id", c.to_string()));
                    }
                    (p, "word in a conversation")
                }
                _ => (vec![("q", words[rng.random_range(0..20)].to_string())], "common word"),
            };
            (u, params, kind)
        })
        .collect();
    if plan.settle {
        settle(&plan.database_url).await?;
    }

    let rss_before = common::rss_mb(plan.server_pid);
    let next = Arc::new(Mutex::new(0usize));
    let results = Arc::new(Mutex::new(Vec::<(bool, u32, usize, &'static str)>::with_capacity(total)));
    let queries = Arc::new(queries);
    let users = Arc::new(users);
    let t = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..plan.concurrency.max(1) {
        let (next, results, queries, users, http, url) =
            (next.clone(), results.clone(), queries.clone(), users.clone(), http.clone(), plan.url.clone());
        let warmup = plan.warmup;
        workers.push(tokio::spawn(async move {
            loop {
                let i = {
                    let mut n = next.lock().await;
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some((u, params, kind)) = queries.get(i) else { return anyhow::Ok(()) };
                let started = Instant::now();
                let r = http
                    .get(format!("{url}/api/v1/search"))
                    .bearer_auth(&users[*u].token)
                    .query(params)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await?;
                let status = r.status();
                let page: Value = r.json().await?;
                let micros = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                if !status.is_success() {
                    bail!("search {params:?}: {status} {page}");
                }
                let found = page["results"].as_array().map_or(0, Vec::len);
                results.lock().await.push((i >= warmup, micros, found, kind));
            }
        }));
    }
    for w in workers {
        w.await??;
    }
    let wall = t.elapsed().as_secs_f64();
    let results = results.lock().await;
    let measured: Vec<&(bool, u32, usize, &str)> = results.iter().filter(|r| r.0).collect();
    let mut all: Vec<u32> = measured.iter().map(|r| r.1).collect();
    all.sort_unstable();
    let mut by_kind = serde_json::Map::new();
    for kind in ["word", "two words", "prefix", "phrase", "word in a conversation", "common word"] {
        let mut l: Vec<u32> = measured.iter().filter(|r| r.3 == kind).map(|r| r.1).collect();
        l.sort_unstable();
        let found: usize = measured.iter().filter(|r| r.3 == kind).map(|r| r.2).sum();
        by_kind.insert(
            kind.into(),
            json!({"queries": l.len(), "p50_ms": common::percentile(&l, 0.5), "p99_ms": common::percentile(&l, 0.99),
                   "mean_results": found as f64 / l.len().max(1) as f64}),
        );
    }
    let empty = measured.iter().filter(|r| r.2 == 0).count();
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "messages": plan.messages,
            "conversations": plan.conversations,
            "users": plan.users,
            "members_per_conversation": plan.members,
            "months": plan.months,
            "settled": plan.settle,
            "insert": {"seconds": insert_secs, "messages_per_s": plan.messages as f64 / insert_secs},
            "queries": measured.len(),
            "warmup": plan.warmup,
            "concurrency": plan.concurrency,
            "wall_seconds": wall,
            "queries_per_s_with_warmup": results.len() as f64 / wall,
            "latency_ms": {
                "p50": common::percentile(&all, 0.5),
                "p90": common::percentile(&all, 0.9),
                "p99": common::percentile(&all, 0.99),
                "max": common::percentile(&all, 1.0),
            },
            "by_kind": by_kind,
            "queries_with_no_result": empty,
            "server_rss_mb": {"before_queries": rss_before, "after": common::rss_mb(plan.server_pid)},
        }))?
    );
    Ok(())
}

/// After a bulk load, what autovacuum does within minutes on PostgreSQL: `VACUUM (ANALYZE)`
/// moves the GIN index's pending entries into the index proper and refreshes the planner's
/// statistics. SQLite has nothing to settle (FTS5 merges its segments as it goes).
async fn settle(database_url: &str) -> anyhow::Result<()> {
    if database_url.starts_with("postgres") {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(database_url).await?;
        sqlx::query("VACUUM (ANALYZE) messages").execute(&mut conn).await?;
        conn.close().await?;
    }
    Ok(())
}
