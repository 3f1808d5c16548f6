//! The `nexus` command: `serve` (default), `migrate`, `user create`, `healthcheck`,
//! `backup`, `restore` (their logic is in `nexus::ops`).
//! Exit codes: 0 success, 1 runtime failure (one line on stderr), 2 bad configuration,
//! 3 refused without changing anything (e.g. `restore` into a data folder that is not empty).

use std::{io::IsTerminal, path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use nexus::{
    app::{App, Services, shutdown_signal},
    config::{Config, ConfigError},
    ops,
    service::validate::{DisplayName, Password, Username},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// mimalloc returns freed memory to the system promptly; with glibc's allocator the
/// 19 MiB argon2 buffers stayed resident in per-thread arenas (hundreds of MB after a
/// burst of logins).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "nexus", version = nexus::VERSION, about = "Self-hosted real-time chat in one binary")]
struct Cli {
    /// Configuration file (default: ./nexus.toml when it exists). Environment variables
    /// NEXUS_* override it.
    #[arg(long, global = true, env = "NEXUS_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and create message partitions, then exit.
    Migrate,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Exit 0 if the local server answers /healthz, 1 otherwise (container HEALTHCHECK).
    Healthcheck {
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 3)]
        timeout: u64,
    },
    /// Back up the database (SQLite: a consistent snapshot while the server runs; PostgreSQL:
    /// prints the pg_dump command), the secret key and the media folder into one .tar.gz.
    Backup {
        /// A file to write, or a folder to write it in (default: ./nexus-backup-<UTC time>.tar.gz).
        path: Option<PathBuf>,
    },
    /// Restore a backup into an empty data folder (exit 3, changing nothing, if it is not
    /// empty); the archive is checked against its manifest first.
    Restore {
        /// The .tar.gz written by `nexus backup`.
        path: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account, bypassing the registration mode. The password is asked for on a
    /// terminal, or read from the first line of standard input.
    Create {
        /// Username: 3-32 characters of a-z 0-9 _ .
        name: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
        /// Display name (default: the username).
        #[arg(long)]
        display_name: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(ConfigError(msg)) => {
            eprintln!("nexus: configuration error: {msg}");
            return ExitCode::from(2);
        }
    };
    nexus::telemetry::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("nexus: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config).await,
            Command::User { command: UserCommand::Create { name, admin, display_name } } => {
                create_user(config, name, admin, display_name).await
            }
            Command::Healthcheck { timeout } => healthcheck(config, timeout).await,
            Command::Backup { path } => backup(config, path).await,
            Command::Restore { path } => restore(config, path).await,
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<ops::Refused>() => {
            eprintln!("nexus: {e:#}");
            ExitCode::from(ops::Refused::EXIT_CODE)
        }
        Err(e) => {
            // One line: the error and its causes, no backtrace.
            eprintln!("nexus: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = App::build(config).await?;
    app.run(shutdown_signal()).await
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let services = Services::build(config).await?;
    println!("database migrated ({})", services.store.backend());
    Ok(())
}

async fn backup(config: Config, path: Option<PathBuf>) -> anyhow::Result<()> {
    let report = ops::backup::run(&config, path.as_deref()).await?;
    let bytes: u64 = report.manifest.files.iter().map(|f| f.bytes).sum();
    println!(
        "backup written to {} ({} files, {bytes} bytes before compression)",
        report.path.display(),
        report.manifest.files.len()
    );
    for name in &report.vanished {
        println!("note: {name} was deleted while the backup ran (the sweep of unattached uploads); it is not in it");
    }
    if let Some(command) = report.pg_dump {
        println!("the database is PostgreSQL: this archive holds the local files only. Back the database up with");
        println!("  {command}");
        println!("(pg_dump asks for the password, or reads PGPASSWORD or ~/.pgpass); restore it with pg_restore.");
    }
    Ok(())
}

async fn restore(config: Config, path: PathBuf) -> anyhow::Result<()> {
    let manifest = ops::restore::run(&config, &path).await?;
    println!(
        "restored {} files from {} (nexus {}, {}) into {}",
        manifest.files.len(),
        path.display(),
        manifest.nexus_version,
        manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        config.server.data_dir.display()
    );
    if manifest.database == "postgres" {
        println!("the database was not in this archive: restore it with pg_restore before starting nexus.");
    }
    Ok(())
}

async fn create_user(config: Config, name: String, admin: bool, display_name: Option<String>) -> anyhow::Result<()> {
    let username = Username::parse(&name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let display_name =
        DisplayName::parse(display_name.as_deref().unwrap_or(username.as_str())).map_err(|e| anyhow::anyhow!("{e}"))?;
    let password = read_password().await?;
    let password = Password::parse(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let services = Services::build(config).await?;
    let user = services
        .accounts
        .create_user(&username, &display_name, &password, admin.then_some(true))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("created user {} ({}){}", user.username, user.id, if user.is_admin { ", administrator" } else { "" });
    Ok(())
}

async fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == again, "the passwords differ");
        return Ok(first);
    }
    let mut input = String::new();
    tokio::io::stdin().take(4096).read_to_string(&mut input).await?;
    let line = input.lines().next().unwrap_or_default().to_string();
    anyhow::ensure!(!line.is_empty(), "no password on standard input");
    Ok(line)
}

async fn healthcheck(config: Config, timeout: u64) -> anyhow::Result<()> {
    let mut addr = config.listen_addr();
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() });
    }
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<_, std::io::Error>(head)
    };
    let head = tokio::time::timeout(Duration::from_secs(timeout), probe)
        .await
        .map_err(|_| anyhow::anyhow!("no answer from {addr} within {timeout}s"))?
        .map_err(|e| anyhow::anyhow!("cannot reach {addr}: {e}"))?;
    anyhow::ensure!(head.starts_with(b"HTTP/1.1 200"), "{addr} answered {}", String::from_utf8_lossy(&head));
    println!("ok");
    Ok(())
}
