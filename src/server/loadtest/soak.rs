//! `roster loadtest soak` (`make soak`): the load test's visits by a fixed crowd of
//! people for a long stretch, then a verdict: no errors, every latency within the
//! performance targets, and the server's memory not growing.

use std::{fmt::Write as _, time::Duration};

use super::{Accounts, load_database, scrape, server_figures, stats::Summary, visits, words};
use crate::server::config::Config;

/// The performance targets a soak holds the server to (p99, milliseconds): search as
/// typed, and every other request a page load needs.
const SEARCH_P99_MS: f64 = 200.0;
const OTHER_P99_MS: f64 = 1_500.0;
/// The most the server's resident memory may grow from the reference sample to the end.
const MEMORY_GROWTH: f64 = 0.10;

pub struct SoakCommand {
    pub url: String,
    pub metrics_url: Option<String>,
    /// Accounts signed in as (one per person unless set).
    pub accounts: usize,
    pub users: usize,
    pub seconds: u64,
    /// The server's process id, to read its resident memory from /proc.
    pub server_pid: u32,
    /// When the memory reference is taken (the "minute 2").
    pub memory_from_secs: u64,
}

/// The report, and whether the run passed.
pub async fn soak(config: &Config, command: SoakCommand) -> anyhow::Result<(String, bool)> {
    let pool = load_database(config).await?;
    let words = words(&pool).await?;
    anyhow::ensure!(
        resident_bytes(command.server_pid).is_some(),
        "cannot read the memory of process {} (is it the running server?)",
        command.server_pid
    );
    let before = scrape(command.metrics_url.as_deref()).await;
    let duration = Duration::from_secs(command.seconds);
    let options = visits::VisitOptions {
        phases: Vec::new(),
        sign_in_share: 0.2,
        edit_share: 0.1,
        pace: 1.0,
        seed: 11,
    };
    eprintln!(
        "soak: {} people for {} s…",
        command.users,
        duration.as_secs()
    );
    let sampling = tokio::spawn(sample_memory(command.server_pid, duration));
    let started = std::time::Instant::now();
    let recorder = visits::soak(
        &command.url,
        Accounts::new(command.accounts),
        words,
        command.users,
        duration,
        options,
    )
    .await?;
    let elapsed = started.elapsed();
    let samples = sampling.await?;
    let after = scrape(command.metrics_url.as_deref()).await;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Soak\n\n{} people on {} accounts, arriving over the first sixth of the run (at most 30 s), each \
         starting a new visit as soon as the last ends, or 3 s after one that failed (the \
         visits' mix: sign in anew 20%, directory, a search typed letter by letter, a contact, \
         an edit 10%), for {} s; {} requests ({:.0}/s).\n",
        command.users,
        command.accounts,
        duration.as_secs(),
        recorder.requests(),
        recorder.requests() as f64 / elapsed.as_secs_f64()
    );
    out.push_str(&recorder.table(elapsed));
    out.push('\n');
    out.push_str(&recorder.failures());
    out.push('\n');

    let mut verdicts = Vec::new();
    let errors = recorder.error_count();
    verdicts.push((errors == 0, format!("errors: {errors} (target 0)")));
    for (kind, summary) in recorder.by_kind() {
        let limit = if kind.starts_with("search") {
            SEARCH_P99_MS
        } else {
            OTHER_P99_MS
        };
        let p99 = millis(&summary);
        verdicts.push((
            p99 <= limit,
            format!("{kind}: p99 {p99:.1} ms (target ≤ {limit:.0} ms)"),
        ));
    }
    let memory_from = Duration::from_secs(command.memory_from_secs);
    let reference = samples.iter().find(|(at, _)| *at >= memory_from);
    match (reference, samples.last()) {
        // Growth means something only once the caches have filled: a run shorter than
        // twice the reference time reports its memory without judging it.
        _ if duration < memory_from * 2 => {
            verdicts.push((
                true,
                format!(
                    "server memory: not judged (the run is shorter than twice the {} s \
                     reference time)",
                    memory_from.as_secs()
                ),
            ));
        }
        (Some(&(from_at, from)), Some(&(to_at, to))) => {
            let growth = to as f64 / from as f64 - 1.0;
            verdicts.push((
                growth < MEMORY_GROWTH,
                format!(
                    "server memory: {:.1} MiB at {} s, {:.1} MiB at {} s: {:+.1}% (target < +{:.0}%)",
                    mib(from),
                    from_at.as_secs(),
                    mib(to),
                    to_at.as_secs(),
                    growth * 100.0,
                    MEMORY_GROWTH * 100.0
                ),
            ));
        }
        _ => verdicts.push((false, "server memory: no samples".to_owned())),
    }
    let _ = writeln!(
        out,
        "Server memory (resident, every 10 s): {}\n",
        samples
            .iter()
            .map(|(at, bytes)| format!("{} s {:.0} MiB", at.as_secs(), mib(*bytes)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out.push_str(&server_figures(&before, &after));
    out.push_str("\n### Verdict\n\n");
    for (passed, line) in &verdicts {
        let _ = writeln!(out, "- {} {line}", if *passed { "PASS" } else { "FAIL" });
    }
    let passed = verdicts.iter().all(|(passed, _)| *passed);
    let _ = writeln!(
        out,
        "\n**{}**",
        if passed { "soak passed" } else { "soak failed" }
    );
    Ok((out, passed))
}

fn millis(summary: &Summary) -> f64 {
    f64::from(summary.p99) / 1000.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The server's resident memory every 10 s (and at the end), from the run's start.
async fn sample_memory(pid: u32, duration: Duration) -> Vec<(Duration, u64)> {
    let started = tokio::time::Instant::now();
    let mut samples = Vec::new();
    let mut ticks = tokio::time::interval(Duration::from_secs(10));
    loop {
        ticks.tick().await;
        let at = started.elapsed();
        if let Some(bytes) = resident_bytes(pid) {
            samples.push((at, bytes));
        }
        if at >= duration {
            return samples;
        }
    }
}

/// `VmRSS` of a process, in bytes.
fn resident_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::parse_vm_rss;

    #[test]
    fn resident_memory_is_read_from_proc_status() {
        let status = "Name:\troster\nVmPeak:\t  900000 kB\nVmRSS:\t  123456 kB\nThreads:\t4\n";
        assert_eq!(parse_vm_rss(status), Some(123_456 * 1024));
        assert_eq!(parse_vm_rss("Name:\troster\n"), None);
        let own = super::resident_bytes(std::process::id()).expect("this process has a VmRSS");
        assert!(own > 1024 * 1024);
    }
}
