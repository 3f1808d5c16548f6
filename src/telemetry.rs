//! Logging with `tracing`: `RUST_LOG` wins over `log.level`; `log.format = "json"` for
//! machine-read logs.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{LogConfig, LogFormat};

pub fn init(config: &LogConfig) {
    // str0m warns about ordinary offers (e.g. "Ignore remote PT RED change" for every
    // Chrome offer); its errors still show.
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(format!("{},str0m=error", config.level)))
        .unwrap_or_else(|_| EnvFilter::new("info,str0m=error"));
    let registry = tracing_subscriber::registry().with(filter);
    // A second init (tests start several servers in one process) is a harmless no-op.
    let _ = match config.format {
        LogFormat::Json => registry.with(fmt::layer().json().with_current_span(false)).try_init(),
        LogFormat::Text => registry.with(fmt::layer().with_target(false)).try_init(),
    };
}
