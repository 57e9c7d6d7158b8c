//! Logging setup: one subscriber for the process, JSON lines or readable text, and
//! beside the log the monitoring layer (`monitor::log`), which has its own filter.

use tracing_subscriber::{EnvFilter, Layer as _, fmt, prelude::*};

use super::{config::LogFormat, monitor};

/// The filter when `RUST_LOG` is not set: our own messages and request summaries at
/// info, libraries only when they warn.
const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=info,tantivy=warn";

/// Installs the global subscriber. Safe to call more than once (later calls do nothing),
/// which tests rely on.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let output = match format {
        // Logs go to standard error: standard output is for what a command reports
        // (a benchmark's or the load test's tables).
        LogFormat::Json => fmt::layer()
            .with_writer(std::io::stderr)
            .json()
            .flatten_event(true)
            // Every enclosing span, so a line logged deep inside a request still
            // carries the request's id.
            .with_current_span(false)
            .with_span_list(true)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_filter(filter)
            .boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(output)
        .with(monitor::log::layer())
        .try_init();
}

/// For tests: the monitoring layer, and the log only as far as `RUST_LOG` asks
/// (nothing by default), through the test harness's capture.
pub fn init_for_tests() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("off"));
    let _ = tracing_subscriber::registry()
        .with(fmt::layer().with_test_writer().with_filter(filter))
        .with(monitor::log::layer())
        .try_init();
}
