//! The `nexus` binary as an operator meets it: subcommands, exit codes, one-line errors,
//! graceful shutdown.

use std::{
    io::Write,
    net::TcpListener,
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    both_scales,
    common::{Env, Scale},
};

pub fn nexus(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nexus"));
    c.current_dir(dir).env_remove("RUST_LOG").env("NEXUS_LOG__LEVEL", "warn");
    for (k, _) in std::env::vars() {
        if k.starts_with("NEXUS_") && k != "NEXUS_LOG__LEVEL"
            || ["PORT", "DATABASE_URL", "REDIS_URL", "JWT_SECRET"].contains(&k.as_str())
        {
            c.env_remove(k);
        }
    }
    // Parallel servers must not all want udp/3478 and udp/3479.
    c.env("NEXUS_TURN__LISTEN", "127.0.0.1:0");
    c.env("NEXUS_CALLS__SFU__LISTEN", "127.0.0.1:0");
    c
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn env_for(env: &Env, cmd: &mut Command, port: u16) {
    cmd.env("NEXUS_SERVER__HOST", "127.0.0.1").env("NEXUS_SERVER__PORT", port.to_string());
    if let Some(url) = env.database_url() {
        cmd.env("DATABASE_URL", url)
            .env("REDIS_URL", crate::common::redis_url())
            .env("NEXUS_REDIS__PREFIX", &env.redis_prefix);
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A one-line cause, no panic, no backtrace.
pub fn assert_one_line_failure(o: &Output, code: i32, mentions: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("nexus:")).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(lines[0].contains(mentions), "{mentions:?} in {err}");
}

pub async fn wait_ready(port: u16, child: &mut Child) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("server exited early: {status}");
        }
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "server not ready in 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "no exit within 20 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn help_on_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["user", "create", "--help"],
        vec!["healthcheck", "--help"],
        vec!["backup", "--help"],
        vec!["restore", "--help"],
    ] {
        let o = nexus(dir.path()).args(&args).output().unwrap();
        assert!(o.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stdout).contains("Usage"), "{args:?}");
    }
}

#[test]
fn bad_configuration_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("NEXUS_SERVER__PORT", "eighty")], "port"),
        (vec![("PORT", "99999")], "port"),
        (vec![("NEXUS_AUTH__REGISTRATION", "maybe")], "registration"),
        (vec![("NEXUS_AUTH__JWT_SECRET", "short")], "auth.jwt_secret"),
        (vec![("DATABASE_URL", "mysql://x/y")], "database.url"),
        (vec![("DATABASE_URL", "no-such-file.db")], "database.url"),
        (vec![("REDIS_URL", "http://127.0.0.1")], "redis.url"),
        (vec![("NEXUS_JOBS__PARTITIONS_CRON", "every day")], "jobs.partitions_cron"),
        (vec![("NEXUS_JOBS__RETENTION_CRON", "nightly")], "jobs.retention_cron"),
        (vec![("NEXUS_MESSAGES__RETENTION_DAYS", "-1")], "retention_days"),
        (vec![("NEXUS_MESSAGES__RETENTION_DAYS", "40000")], "messages.retention_days"),
        (vec![("NEXUS_LOG__FORMAT", "xml")], "format"),
    ];
    for (vars, key) in cases {
        let mut cmd = nexus(dir.path());
        cmd.arg("migrate");
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        let o = cmd.output().unwrap();
        assert_one_line_failure(&o, 2, key);
    }
    // A file with an unknown key, and a missing --config file.
    std::fs::write(dir.path().join("nexus.toml"), "[server]\nprot = 8080\n").unwrap();
    assert_one_line_failure(&nexus(dir.path()).arg("migrate").output().unwrap(), 2, "prot");
    std::fs::remove_file(dir.path().join("nexus.toml")).unwrap();
    let o = nexus(dir.path()).args(["--config", "missing.toml", "migrate"]).output().unwrap();
    assert_one_line_failure(&o, 2, "missing.toml");
}

#[test]
fn configuration_layers_file_then_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custom.toml");
    std::fs::write(&path, "[server]\nname = \"From file\"\nport = 1234\n").unwrap();
    let fig = nexus::config::Config::figment(Some(&path)).unwrap();
    let c = nexus::config::Config::from_figment(fig).unwrap();
    assert_eq!((c.server.name.as_str(), c.server.port), ("From file", 1234));
    let fig = nexus::config::Config::figment(Some(&path))
        .unwrap()
        .merge(figment::providers::Serialized::default("server.port", 4321));
    assert_eq!(nexus::config::Config::from_figment(fig).unwrap().server.port, 4321);
}

#[test]
fn unreachable_services_fail_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let o =
        nexus(dir.path()).arg("migrate").env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nope").output().unwrap();
    assert_one_line_failure(&o, 1, "PostgreSQL");
    let o = nexus(dir.path()).arg("migrate").env("REDIS_URL", "redis://127.0.0.1:1").output().unwrap();
    assert_one_line_failure(&o, 1, "Redis");
}

#[test]
fn port_in_use_fails_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let o = nexus(dir.path()).env("NEXUS_SERVER__HOST", "127.0.0.1").env("PORT", port.to_string()).output().unwrap();
    assert_one_line_failure(&o, 1, "cannot listen");
}

#[test]
fn turn_port_in_use_fails_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let turn = busy.local_addr().unwrap();
    let o = nexus(dir.path())
        .env("NEXUS_SERVER__HOST", "127.0.0.1")
        .env("PORT", free_port().to_string())
        .env("NEXUS_TURN__LISTEN", turn.to_string())
        .output()
        .unwrap();
    assert_one_line_failure(&o, 1, "turn.enabled = false");
}

#[test]
fn sfu_port_in_use_fails_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let o = nexus(dir.path())
        .env("NEXUS_SERVER__HOST", "127.0.0.1")
        .env("PORT", free_port().to_string())
        .env("NEXUS_CALLS__SFU__LISTEN", busy.local_addr().unwrap().to_string())
        .output()
        .unwrap();
    assert_one_line_failure(&o, 1, "calls.sfu.listen");
}

async fn serve_user_create_healthcheck_and_sigterm(scale: Scale) {
    let env = Env::new(scale).await;
    let dir = env.dir.path();
    let port = free_port();
    // Create the administrator from the command line, password on stdin.
    let mut cmd = nexus(dir);
    env_for(&env, &mut cmd, port);
    let mut child = cmd
        .args(["user", "create", "Root_Admin", "--admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret-password\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("administrator"));
    let mut cmd = nexus(dir);
    env_for(&env, &mut cmd, port);
    let mut child = cmd.args(["user", "create", "x"]).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"pw\n").unwrap();
    assert_one_line_failure(&child.wait_with_output().unwrap(), 1, "username");

    // Healthcheck with no server: exit 1.
    let mut cmd = nexus(dir);
    env_for(&env, &mut cmd, port);
    assert_eq!(cmd.args(["healthcheck", "--timeout", "2"]).output().unwrap().status.code(), Some(1));

    // Serve (the default command), log in as the CLI-made admin.
    let mut cmd = nexus(dir);
    env_for(&env, &mut cmd, port);
    let mut server = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    wait_ready(port, &mut server).await;
    let mut cmd = nexus(dir);
    env_for(&env, &mut cmd, port);
    let o = cmd.arg("healthcheck").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let r = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/login"))
        .json(&json!({"username": "root_admin", "password": "s3cret-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["user"]["is_admin"], true);

    // SIGTERM: graceful stop, exit 0.
    let status = terminate(&mut server);
    assert!(status.success(), "exit status {status}");
    if scale == Scale::Embedded {
        // The generated secret is private to its owner.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("data/secret.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    env.cleanup().await;
}

both_scales!(serve_user_create_healthcheck_and_sigterm);
