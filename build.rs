//! Builds the web client (`assets/`, Vite) into `assets/dist/` when it is missing or older
//! than its sources, so that `cargo build` on a fresh clone yields a binary with the client
//! inside. Needs Node.js ≥ 20 and npm. Set `NEXUS_SKIP_CLIENT_BUILD=1` to skip (the binary
//! then serves whatever `assets/dist/` holds).

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::SystemTime,
};

const SOURCES: &[&str] =
    &["src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"];

fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_dir() {
        std::fs::read_dir(path).ok()?.filter_map(|e| e.ok()).filter_map(|e| newest(&e.path())).max()
    } else {
        meta.modified().ok()
    }
}

fn run(dir: &Path, args: &[&str]) {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let status = Command::new(npm).args(args).current_dir(dir).status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!("`npm {}` failed ({s})", args.join(" "))),
        Err(e) => fail(&format!("cannot run npm ({e}); install Node.js 20+ and npm, or set NEXUS_SKIP_CLIENT_BUILD=1")),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: building the web client: {msg}");
    std::process::exit(1);
}

fn main() {
    let assets = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("assets");
    let dist = assets.join("dist");
    println!("cargo:rerun-if-env-changed=NEXUS_SKIP_CLIENT_BUILD");
    // Only paths that exist: cargo reruns the script on every build for a missing one.
    for s in SOURCES.iter().filter(|s| assets.join(s).exists()) {
        println!("cargo:rerun-if-changed=assets/{s}");
    }
    std::fs::create_dir_all(&dist).ok();
    println!("cargo:rerun-if-changed=assets/dist");
    if std::env::var_os("NEXUS_SKIP_CLIENT_BUILD").is_some_and(|v| v != "0") {
        return;
    }
    let built = newest(&dist.join("index.html"));
    let sources = SOURCES.iter().filter_map(|s| newest(&assets.join(s))).max();
    if built.is_some() && built >= sources {
        return;
    }
    let installed = newest(&assets.join("node_modules/.package-lock.json"));
    let lock = newest(&assets.join("package-lock.json"));
    if installed.is_none() || installed < lock {
        run(&assets, &["ci", "--no-audit", "--no-fund"]);
    }
    run(&assets, &["run", "build"]);
}
