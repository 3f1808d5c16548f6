//! `nexus-bench`: load and measurement for a running Nexus server (loopback only).
//!
//! - `chat`: registers N users, opens their sockets, creates direct conversations and
//!   groups, sends at a fixed offered rate for a set time, then reports send→ack and
//!   send→delivered latency percentiles, delivered messages per second, messages lost or
//!   duplicated (checked against history afterwards) and the server's RSS.
//! - `group`: one group of N members, each with a socket, and one sender posting at a fixed
//!   rate: deliveries expected and received, lost, duplicated, send→delivered percentiles,
//!   deliveries per second and per server CPU-second, and the server's RSS.
//! - `idle`: opens many idle WebSocket connections (up to 100,000: spread over several
//!   127.0.0.x source addresses, a bounded number at a time) and reports the server's RSS
//!   before, with them and after they closed, and the load generator's own.
//! - `calls`: pairs of users call each other over and over (invite → ringing → accept →
//!   connecting → offer/answer/candidates relayed → connected → active → hang-up) and it
//!   reports each step's latency, the whole set-up time, and failures.
//! - `uploads`: users upload JPEG photos at the same time; reports uploads per second, the
//!   time until each thumbnail is ready, and the server's RSS peak.
//! - `sfu`: rooms of WebRTC participants (str0m, synthetic Opus and VP8) through the
//!   server's SFU: frames received against sent, send→receive delay, server CPU per
//!   forwarded track, datagrams out per second, RSS per participant.
//! - `hostile`: a bounded stream of bad frames over many sockets (random bytes, invalid
//!   UTF-8, deep nesting, huge numbers, wrong and unknown types, others' ids, oversize,
//!   binary, fragmented, ping frames); every answer checked against the documented one,
//!   the server's RSS and open sockets before and after.
//! - `chaos`: the messaging load of clients that behave as the web client does when things
//!   break (back-off, resending with the same `client_id`, catch-up after every reconnect and
//!   gap), with shell commands run at set times as the faults (`scripts/chaos`); afterwards
//!   acknowledged messages lost, stored twice, or missing on any device, and the time to
//!   recover from each fault.
//! - `receipts`: drives the receipts service directly against a database and bus and
//!   counts database statements: one upsert per receipt (naive) versus write-behind.
//! - `search`: many messages written straight into the server's database, then searches
//!   over REST as random users: the insert rate and the query latency percentiles.
//!
//! The server must allow the load: raise `auth.register_per_ip_per_hour` (all users
//! register from one address) and, for high rates, `messages.rate_per_sec`; `group`'s single
//! sender also needs `gateway.frames_per_sec` above its rate, and `idle` an open-file limit
//! above the connection count in both processes (`scripts/bench` sets all of these).
//!
//! One module per scenario; `common` holds what they share, on top of [`nexus::client`].

mod calls;
mod chaos;
mod chat;
mod common;
mod group;
mod hostile;
mod idle;
mod receipts;
mod search;
mod sfu;
mod uploads;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "nexus-bench", about = "Load generator and measurements for Nexus (loopback only)")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Messaging load: latency, throughput, loss and duplicates.
    Chat {
        /// The server; repeat (or comma-separate) for the nodes of a cluster: sockets are
        /// spread over them.
        #[arg(long, default_value = "http://127.0.0.1:8080", value_delimiter = ',')]
        url: Vec<String>,
        #[arg(long, default_value_t = 1000)]
        users: usize,
        /// Messages per second offered, in total.
        #[arg(long, default_value_t = 2000)]
        rate: u64,
        /// Seconds of load.
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// Groups of `group_size` users (the rest talk in direct pairs).
        #[arg(long, default_value_t = 10)]
        groups: usize,
        #[arg(long, default_value_t = 10)]
        group_size: usize,
        /// Share of messages sent to groups, in percent.
        #[arg(long, default_value_t = 10)]
        group_share: u64,
        /// PID of the server (repeat or comma-separate for several nodes), to report RSS
        /// and CPU (same machine).
        #[arg(long, value_delimiter = ',')]
        server_pid: Vec<u32>,
    },
    /// Fan-out to one large group: delivery latency, loss, CPU per delivery.
    Group {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Members of the group (the sender included), one socket each.
        #[arg(long, default_value_t = 1000)]
        members: usize,
        /// Messages per second the sender posts.
        #[arg(long, default_value_t = 100)]
        rate: u64,
        /// Seconds of sending before the measured window (not counted).
        #[arg(long, default_value_t = 3)]
        warmup: u64,
        /// Seconds of the measured window.
        #[arg(long, default_value_t = 30)]
        duration: u64,
        /// Seconds to wait after the last send for deliveries still on their way.
        #[arg(long, default_value_t = 10)]
        drain: u64,
        #[arg(long)]
        server_pid: Option<u32>,
        /// Several server processes (nodes on this machine): CPU and RSS are summed.
        #[arg(long, value_delimiter = ',')]
        server_pids: Vec<u32>,
    },
    /// Idle connections: the server's memory per socket.
    Idle {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Users the connections are spread over (the server has no per-user cap).
        #[arg(long, default_value_t = 100)]
        users: usize,
        /// Seconds to hold them open before measuring.
        #[arg(long, default_value_t = 10)]
        hold: u64,
        /// Bind the sockets to 127.0.0.1 … 127.0.0.N in turn (about 28,000 per address).
        #[arg(long, default_value_t = 1)]
        source_addrs: u8,
        /// Connections being opened at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// Seconds after closing before the server's RSS is read again.
        #[arg(long, default_value_t = 10)]
        after: u64,
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Call signaling: set-up latency and relay latency with many calls at once.
    Calls {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Pairs of users calling each other at the same time.
        #[arg(long, default_value_t = 100)]
        pairs: usize,
        /// Calls each pair makes, one after the other.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// ICE candidates each side sends per call.
        #[arg(long, default_value_t = 8)]
        candidates: usize,
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Image uploads: throughput, time to thumbnail, and the server's memory peak.
    Uploads {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Users uploading at the same time.
        #[arg(long, default_value_t = 8)]
        users: usize,
        /// Uploads each user makes, one after the other.
        #[arg(long, default_value_t = 5)]
        per_user: usize,
        /// Size of the JPEG, in megabytes (about).
        #[arg(long, default_value_t = 2.0)]
        megabytes: f64,
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Group calls through the SFU: loss, added delay, CPU per forwarded track.
    Sfu {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, default_value_t = 4)]
        rooms: usize,
        /// Participants per room (each sends audio, and video unless --audio-only).
        #[arg(long, default_value_t = 5)]
        participants: usize,
        /// Seconds before the measured window (ICE, DTLS, negotiation).
        #[arg(long, default_value_t = 5)]
        warmup: u64,
        #[arg(long, default_value_t = 30)]
        duration: u64,
        #[arg(long)]
        audio_only: bool,
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Bad frames: every answer as documented, no leak, the server still serving.
    Hostile {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Frames in all (bounded; the run stops by itself).
        #[arg(long, default_value_t = 1_000_000)]
        frames: u64,
        /// Sockets sending at once (one user each).
        #[arg(long, default_value_t = 64)]
        sockets: usize,
        /// Seed of the frame choice, for a run that can be repeated.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Messaging through faults: lost, duplicated, missing on devices, time to recover.
    Chaos {
        /// The nodes (repeat or comma-separate); set-up and the final check use the first.
        #[arg(long, default_value = "http://127.0.0.1:8080", value_delimiter = ',')]
        url: Vec<String>,
        #[arg(long, default_value_t = 200)]
        users: usize,
        /// Sockets per user (device 0 of each user sends, the others only receive).
        #[arg(long, default_value_t = 1)]
        devices: usize,
        /// The senders on the last node and the other devices on the first (else spread).
        #[arg(long)]
        split: bool,
        #[arg(long, default_value_t = 2000)]
        rate: u64,
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// Seconds after the load for acks, reconnects and catch-up to finish.
        #[arg(long, default_value_t = 30)]
        settle: u64,
        #[arg(long, default_value_t = 10)]
        groups: usize,
        #[arg(long, default_value_t = 10)]
        group_size: usize,
        #[arg(long, default_value_t = 10)]
        group_share: u64,
        /// `SECONDS:COMMAND`: run COMMAND with `sh -c` that many seconds into the load (repeat).
        #[arg(long)]
        fault: Vec<String>,
        #[arg(long, default_value_t = 25)]
        ping_secs: u64,
        #[arg(long, default_value_t = 10)]
        pong_timeout_secs: u64,
        #[arg(long, default_value_t = 10)]
        send_timeout_secs: u64,
        /// Extra sockets of group members that never read (a slow consumer each).
        #[arg(long, default_value_t = 0)]
        stalled: usize,
    },
    /// Database statements for receipts: naive upserts versus write-behind.
    Receipts {
        /// `postgres://…` (with `--redis-url`) or empty for SQLite + in-process.
        #[arg(long, default_value = "")]
        database_url: String,
        #[arg(long, default_value = "")]
        redis_url: String,
        /// Prefix of the Redis keys this run makes.
        #[arg(long, default_value = "nexus:bench:")]
        redis_prefix: String,
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        #[arg(long, default_value_t = 100)]
        conversations: usize,
        #[arg(long, default_value_t = 500)]
        users: usize,
    },
    /// Message search: the insert rate with the index, and query latency.
    Search {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// The server's database, written directly: `postgres://…` or `sqlite:PATH`.
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 100_000)]
        messages: usize,
        #[arg(long, default_value_t = 50)]
        conversations: usize,
        #[arg(long, default_value_t = 100)]
        users: usize,
        /// Members of each conversation.
        #[arg(long, default_value_t = 10)]
        members: usize,
        /// The messages' times spread over this many months up to now.
        #[arg(long, default_value_t = 12)]
        months: u32,
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        /// Queries sent first and not measured.
        #[arg(long, default_value_t = 20)]
        warmup: usize,
        /// Queries in flight at once (each worker waits for its answer).
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Vacuum PostgreSQL between the load and the queries (`--settle false`: query at once).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        settle: bool,
        #[arg(long)]
        server_pid: Option<u32>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        match cli.command {
            Cmd::Chat { url, users, rate, duration, groups, group_size, group_share, server_pid } => {
                chat::run(chat::ChatPlan {
                    urls: url,
                    users,
                    rate,
                    duration,
                    groups,
                    group_size,
                    group_share,
                    server_pids: server_pid,
                })
                .await
            }
            Cmd::Group { url, members, rate, warmup, duration, drain, server_pid, server_pids } => {
                let server_pids = server_pid.into_iter().chain(server_pids).collect();
                group::run(group::GroupPlan { url, members, rate, warmup, duration, drain, server_pids }).await
            }
            Cmd::Idle { url, connections, users, hold, source_addrs, concurrency, after, server_pid } => {
                idle::run(idle::IdlePlan {
                    url,
                    connections,
                    users,
                    hold,
                    source_addrs,
                    concurrency,
                    after,
                    server_pid,
                })
                .await
            }
            Cmd::Calls { url, pairs, rounds, candidates, server_pid } => {
                calls::run(&url, pairs, rounds, candidates, server_pid).await
            }
            Cmd::Uploads { url, users, per_user, megabytes, server_pid } => {
                uploads::run(&url, users, per_user, megabytes, server_pid).await
            }
            Cmd::Sfu { url, rooms, participants, warmup, duration, audio_only, server_pid } => {
                sfu::run(sfu::SfuPlan { url, rooms, participants, warmup, duration, video: !audio_only, server_pid })
                    .await
            }
            Cmd::Hostile { url, frames, sockets, seed, server_pid } => {
                hostile::run(hostile::HostilePlan { url, frames, sockets, seed, server_pid }).await
            }
            Cmd::Chaos {
                url,
                users,
                devices,
                split,
                rate,
                duration,
                settle,
                groups,
                group_size,
                group_share,
                fault,
                ping_secs,
                pong_timeout_secs,
                send_timeout_secs,
                stalled,
            } => {
                let mut faults = Vec::new();
                for f in fault {
                    let (at, cmd) = f.split_once(':').ok_or_else(|| anyhow::anyhow!("--fault SECONDS:COMMAND"))?;
                    faults.push((at.trim().parse::<f64>()?, cmd.to_string()));
                }
                chaos::run(chaos::ChaosPlan {
                    urls: url,
                    users,
                    devices,
                    split,
                    rate,
                    duration,
                    settle,
                    groups,
                    group_size,
                    group_share,
                    faults,
                    ping_secs,
                    pong_timeout_secs,
                    send_timeout_secs,
                    stalled,
                })
                .await
            }
            Cmd::Receipts { database_url, redis_url, redis_prefix, events, conversations, users } => {
                receipts::run(&database_url, &redis_url, &redis_prefix, events, conversations, users).await
            }
            Cmd::Search {
                url,
                database_url,
                messages,
                conversations,
                users,
                members,
                months,
                queries,
                warmup,
                concurrency,
                seed,
                settle,
                server_pid,
            } => {
                search::run(search::SearchPlan {
                    url,
                    database_url,
                    messages,
                    conversations,
                    users,
                    members,
                    months,
                    queries,
                    warmup,
                    concurrency,
                    seed,
                    settle,
                    server_pid,
                })
                .await
            }
        }
    })
}
