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

/// The commit this build is made from, for `nexus::VERSION`: `NEXUS_GIT_COMMIT` when set
/// (a Docker build has no `.git`), else `git rev-parse`, else "unknown". Reruns when HEAD
/// moves (a commit, a checkout), not on every build.
fn git_commit(root: &Path) {
    println!("cargo:rerun-if-env-changed=NEXUS_GIT_COMMIT");
    let git = |args: &[&str]| {
        let out = Command::new("git").args(args).current_dir(root).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let commit = match std::env::var("NEXUS_GIT_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_owned(),
        _ => git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into()),
    };
    // HEAD names the branch; the branch's ref (loose or packed) names the commit. Worktrees
    // keep HEAD in their own git dir and refs in the common one.
    for (flag, files) in [("--git-dir", &["HEAD"][..]), ("--git-common-dir", &["packed-refs", "refs/heads"][..])] {
        if let Some(dir) = git(&["rev-parse", flag]) {
            let dir = root.join(dir);
            for f in files.iter().map(|f| dir.join(f)).filter(|p| p.exists()) {
                println!("cargo:rerun-if-changed={}", f.display());
            }
        }
    }
    println!("cargo:rustc-env=NEXUS_GIT_COMMIT={commit}");
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    git_commit(&root);
    let assets = root.join("assets");
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
