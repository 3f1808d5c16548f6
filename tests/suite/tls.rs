//! TLS to the parts, as managed databases require it: a PostgreSQL that accepts TLS only
//! (`hostssl`, plain connections rejected by `pg_hba.conf`) and a Redis with a TLS port
//! only, both started here with certificates of a throw-away authority. The cluster runs
//! over them with `sslmode=verify-full` and `rediss://`, each verified against the CA file
//! (`database.ca_file`, `redis.ca_file`); a certificate of another authority, and a plain
//! connection, are refused. Cluster scale only: the embedded scale has no network parts.
//!
//! Needs `openssl`, PostgreSQL's server binaries and `redis-server` (scripts/services
//! installs them); as root the database runs as the `postgres` user.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::json;

use crate::common::{Env, Scale, Ws, start, user};

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn openssl(dir: &Path, args: &[&str]) {
    run(Command::new("openssl").current_dir(dir).args(args));
}

/// A certificate authority `name` (`name.pem`, `name.key`) in `dir`.
fn authority(dir: &Path, name: &str) -> PathBuf {
    let (pem, key) = (format!("{name}.pem"), format!("{name}.key"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &format!("/CN=Nexus test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    dir.join(pem)
}

/// `server.pem` / `server.key` for 127.0.0.1 and localhost, signed by authority `ca`.
fn server_certificate(dir: &Path, ca: &str) {
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn pg_binary(name: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| PathBuf::from(name))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// `program args` as the `postgres` user when running as root (PostgreSQL refuses root).
fn as_postgres(program: &Path, args: &[&str]) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program).args(args);
        c
    } else {
        let mut c = Command::new(program);
        c.args(args);
        c
    }
}

/// A child process killed when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The parts, TLS only, until dropped.
struct Parts {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    other_ca: PathBuf,
    pg_port: u16,
    redis_port: u16,
    _pg: Killed,
    _redis: Killed,
}

impl Parts {
    async fn start() -> Parts {
        let dir = tempfile::Builder::new().prefix("nexus-tls-").tempdir().unwrap();
        let d = dir.path();
        let ca = authority(d, "ca");
        let other_ca = authority(d, "other");
        server_certificate(d, "ca");

        // PostgreSQL: TLS only.
        let data = d.join("pg");
        std::fs::create_dir(&data).unwrap();
        if is_root() {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(d));
        }
        let data_s = data.to_str().unwrap();
        run(&mut as_postgres(&pg_binary("initdb"), &["-D", data_s, "-U", "postgres", "-A", "trust", "--no-sync"]));
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 reject\n",
        )
        .unwrap();
        for f in ["server.pem", "server.key"] {
            std::fs::copy(d.join(f), data.join(f)).unwrap();
        }
        if is_root() {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&data));
        }
        run(Command::new("chmod").arg("600").arg(data.join("server.key")));
        let pg_port = free_port();
        let port = pg_port.to_string();
        let pg = Killed(
            as_postgres(
                &pg_binary("postgres"),
                &[
                    "-D",
                    data_s,
                    "-p",
                    &port,
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    &format!("unix_socket_directories={data_s}"),
                    "-c",
                    "ssl=on",
                    "-c",
                    "ssl_cert_file=server.pem",
                    "-c",
                    "ssl_key_file=server.key",
                    "-c",
                    "fsync=off",
                ],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        );

        // Redis: a TLS port and no plain one.
        let redis_port = free_port();
        let redis = Killed(
            Command::new("redis-server")
                .current_dir(d)
                .args(["--port", "0", "--tls-port", &redis_port.to_string(), "--bind", "127.0.0.1"])
                .args(["--tls-cert-file", "server.pem", "--tls-key-file", "server.key", "--tls-ca-cert-file", "ca.pem"])
                .args(["--tls-auth-clients", "no", "--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );

        let parts = Parts { _dir: dir, ca, other_ca, pg_port, redis_port, _pg: pg, _redis: redis };
        // Ready once PostgreSQL answers a verified TLS connection.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let url = parts.pg_url("postgres", "");
            if nexus::store::postgres::PgStore::connect_with(&url, 1, Some(&parts.ca)).await.is_ok() {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "the TLS PostgreSQL did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        parts
    }

    fn pg_url(&self, db: &str, query: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}{query}", self.pg_port)
    }

    fn redis_url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.redis_port)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_runs_over_tls_to_postgresql_and_redis() {
    let parts = Parts::start().await;
    let env = Env::new(Scale::Cluster).await;
    let (url, redis, ca) = (parts.pg_url("postgres", ""), parts.redis_url(), parts.ca.clone());
    let app = start(env, |c| {
        c.database.url = url;
        c.database.ca_file = ca.to_string_lossy().into();
        c.redis.url = redis;
        c.redis.ca_file = ca.to_string_lossy().into();
    })
    .await;
    assert_eq!(app.services.store.backend(), "postgres");
    assert_eq!(app.services.bus.backend(), "redis");
    // A message goes the whole way: queue (Redis), batch (PostgreSQL), fan-out (Redis).
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let conv = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    let ack = a.send_message(&conv, "c1", "over TLS").await;
    assert_eq!(ack["type"], "message.ack", "{ack}");
    let got = b.wait_for("message.new", |v| v["type"] == "message.new").await;
    assert_eq!(got["message"]["body"], "over TLS");
    assert_eq!(app.history(&bob, &conv, "").await.len(), 1);
    let ready: serde_json::Value = app.http.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    app.finish().await;

    // `sslrootcert` in the URL does the same without `database.ca_file`.
    let query = format!("?sslmode=verify-full&sslrootcert={}", parts.ca.display());
    nexus::store::postgres::PgStore::connect(&parts.pg_url("postgres", &query), 1).await.expect("URL options");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_of_another_authority_or_a_plain_connection_is_refused() {
    use nexus::{bus::redis::RedisBus, store::postgres::PgStore};
    let parts = Parts::start().await;
    let url = parts.pg_url("postgres", "");
    assert!(PgStore::connect_with(&url, 1, Some(&parts.ca)).await.is_ok());
    let wrong = PgStore::connect_with(&url, 1, Some(&parts.other_ca)).await;
    assert!(wrong.is_err(), "a server certificate the CA file did not sign is refused");
    let plain = PgStore::connect(&parts.pg_url("postgres", "?sslmode=disable"), 1).await;
    assert!(plain.is_err(), "the server takes TLS only");
    // The system roots do not know the test authority.
    assert!(PgStore::connect(&parts.pg_url("postgres", "?sslmode=verify-full"), 1).await.is_err());

    let redis = parts.redis_url();
    let ok = RedisBus::connect_with(&redis, "nexus:tls:", Some(&parts.ca)).await;
    assert!(ok.is_ok(), "{:?}", ok.err());
    assert!(RedisBus::connect_with(&redis, "nexus:tls:", Some(&parts.other_ca)).await.is_err());
    assert!(RedisBus::connect(&redis, "nexus:tls:").await.is_err(), "the system roots do not know it");
    let plain = format!("redis://127.0.0.1:{}", parts.redis_port);
    assert!(RedisBus::connect(&plain, "nexus:tls:").await.is_err(), "no plain port");

    // A CA file that does not exist stops start-up with the key named.
    for key in ["database", "redis"] {
        let mut config = nexus::config::Config::default();
        match key {
            "database" => config.database.ca_file = "/nonexistent/ca.pem".into(),
            _ => config.redis.ca_file = "/nonexistent/ca.pem".into(),
        }
        let figment = figment::Figment::from(figment::providers::Serialized::defaults(config));
        let err = nexus::config::Config::from_figment(figment).err().expect("refused").to_string();
        assert!(err.contains(&format!("{key}.ca_file")), "{err}");
    }
}
