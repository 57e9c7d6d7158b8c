//! Logging setup: one subscriber for the process, JSON lines or readable text.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use super::config::LogFormat;

/// The filter when `RUST_LOG` is not set: our own messages and request summaries at
/// info, libraries only when they warn.
const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=info,tantivy=warn";

/// Installs the global subscriber. Safe to call more than once (later calls do nothing),
/// which tests rely on.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().with_target(false)).try_init(),
    };
}
