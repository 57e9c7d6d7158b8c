//! Reads while writes run: the search load at a fixed rate, first alone, then beside a
//! steady stream of edits, then beside the edits and an import; and for a share of the
//! edits, the time until each instance's search finds them.
//!
//! An edit is what a person does: the contact's form page, then the save at the
//! version read, with a note holding a word made up for it (ten random letters). A
//! probed edit is looked for from the moment its save is sent (the commit lies within
//! the save): every given instance's search box is asked for the word every 10 ms until
//! the contact is in the answer — found there as a person would find it, through the
//! caches. The import is `roster import` of generated rich contacts, run as its own
//! process on every core (an administrator's import beside the site), while the reads
//! and edits go on.

use std::{
    fmt::Write as _,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::task::JoinSet;

use super::{
    Accounts, pages,
    stats::{Recorder, Summary},
    visits,
};
use crate::{domain::SearchQuery, server::config::Config};

/// How often an instance is asked whether a probed edit is found yet.
const PROBE_EVERY: Duration = Duration::from_millis(10);
/// A probed edit not found by then counts as lost.
const PROBE_GIVE_UP: Duration = Duration::from_secs(30);
/// Reads before each phase's measured part, not counted.
const WARM_UP: Duration = Duration::from_secs(3);
/// Connections the edits are made on (each its own signed-in session).
const EDITORS: usize = 16;

pub struct WritesCommand {
    /// Where reads and edits go (an instance, or the proxy before several).
    pub url: String,
    /// The instances whose search is probed for each probed edit (default: `url`).
    pub probes: Vec<String>,
    pub accounts: usize,
    pub connections: usize,
    /// Reads a second.
    pub rate: f64,
    pub endpoint: pages::Endpoint,
    pub queries: usize,
    pub seed: u64,
    pub edits_per_second: f64,
    /// Probe one edit in this many.
    pub probe_every: usize,
    /// Seconds of each phase's measured part.
    pub seconds: u64,
    /// Rows of the import phase (0: none).
    pub import_rows: u64,
    /// Seconds of the import phase (the import starts as it does).
    pub import_seconds: u64,
}

/// The edits of a phase, and what the probes found.
pub struct Editing {
    base: String,
    editors: Vec<reqwest::Client>,
    /// Each probed instance with a client signed in there.
    probes: Vec<(String, reqwest::Client)>,
    /// Contacts to edit, taken in turn.
    ids: Arc<Vec<String>>,
    next_id: Arc<AtomicUsize>,
    probe_every: usize,
    seed: u64,
    /// The form pages and saves.
    recorder: Recorder,
    /// Per probed instance: from a save sent to the contact found there.
    found: Vec<Recorder>,
    polls: AtomicUsize,
}

/// A made-up word for edit `n`: ten random lowercase letters, so no two edits' words
/// are within the search's typo distance of each other, nor of a real word.
fn probe_word(seed: u64, n: usize) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    (0..10)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}

impl Editing {
    /// Edits made on `editors` (signed-in clients of `base`), of the contacts `ids` in
    /// turn from `next_id`; one in `probe_every` looked for on each of `probes` (an
    /// instance's address and a client signed in there); `seed` makes the words.
    pub fn new(
        (base, editors): (&str, Vec<reqwest::Client>),
        probes: Vec<(String, reqwest::Client)>,
        (ids, next_id): (Arc<Vec<String>>, Arc<AtomicUsize>),
        probe_every: usize,
        seed: u64,
    ) -> Arc<Editing> {
        Arc::new(Editing {
            base: base.trim_end_matches('/').to_owned(),
            editors,
            found: probes.iter().map(|_| Recorder::default()).collect(),
            probes,
            ids,
            next_id,
            probe_every: probe_every.max(1),
            seed,
            recorder: Recorder::default(),
            polls: AtomicUsize::new(0),
        })
    }

    /// The form pages and saves: their latencies and failures.
    pub fn requests(&self) -> &Recorder {
        &self.recorder
    }

    /// From each probed edit's save sent to the contact found by search on probed
    /// instance `at`; failures (an error, or not found in time) are its errors.
    pub fn found(&self, at: usize) -> &Recorder {
        &self.found[at]
    }

    /// Edits at `rate` a second for `duration`, each on time whatever the others take
    /// (an open model), then waits for the last edit and its probes.
    pub async fn run(self: Arc<Self>, rate: f64, duration: Duration) {
        let every = Duration::from_secs_f64(1.0 / rate.max(0.001));
        let stop = tokio::time::Instant::now() + duration;
        let mut due = tokio::time::Instant::now();
        let mut edits = JoinSet::new();
        let mut n = 0usize;
        while due < stop {
            tokio::time::sleep_until(due).await;
            let editing = self.clone();
            edits.spawn(async move { editing.edit(n).await });
            while edits.try_join_next().is_some() {}
            n += 1;
            due += every;
        }
        while edits.join_next().await.is_some() {}
    }

    async fn edit(self: Arc<Self>, n: usize) {
        let client = &self.editors[n % self.editors.len()];
        let at = self.next_id.fetch_add(1, Ordering::Relaxed);
        let id = &self.ids[at % self.ids.len()];
        let Some(form) = visits::open_form(client, &self.base, &self.recorder, id).await else {
            return;
        };
        let word = probe_word(self.seed, at);
        let notes = format!("Load test edit {at}: {word}");
        let sent = Instant::now();
        let saved = visits::save(client, &self.base, &self.recorder, id, form, notes).await;
        if saved != Some(true) || !n.is_multiple_of(self.probe_every) {
            return;
        }
        let mut probes = JoinSet::new();
        for at in 0..self.probes.len() {
            let (editing, word, id) = (self.clone(), word.clone(), id.clone());
            probes.spawn(async move { editing.until_found(at, &word, &id, sent).await });
        }
        while probes.join_next().await.is_some() {}
    }

    /// Asks probed instance `at` for `word` until its answer holds contact `id`.
    async fn until_found(&self, at: usize, word: &str, id: &str, sent: Instant) {
        let (base, client) = &self.probes[at];
        let found = &self.found[at];
        let query = SearchQuery::default().with_text(word).to_query_string();
        loop {
            self.polls.fetch_add(1, Ordering::Relaxed);
            let answer = client
                .get(format!("{base}/api/directory-view"))
                .query(&[("query", query.as_str()), ("page", "first")])
                .header("accept", "application/json")
                .send()
                .await;
            let holds = match answer {
                Ok(response) if response.status().is_success() => {
                    response.text().await.is_ok_and(|body| body.contains(id))
                }
                Ok(response) => {
                    found.error("probe", format!("HTTP {}", response.status().as_u16()));
                    return;
                }
                Err(error) => {
                    found.error("probe", super::stats::cause(&error));
                    return;
                }
            };
            if holds {
                found.latency("found", sent.elapsed());
                return;
            }
            if sent.elapsed() > PROBE_GIVE_UP {
                found.error("probe", "not found within 30 s");
                return;
            }
            tokio::time::sleep(PROBE_EVERY).await;
        }
    }
}

/// What one phase measured.
struct PhaseRun {
    name: String,
    reads: pages::Throughput,
    editing: Option<Arc<Editing>>,
    elapsed: Duration,
    /// The import's time and outcome, when the phase had one.
    import: Option<(Duration, String)>,
}

/// The contacts the edits take in turn: `count` live ones drawn at random.
async fn contacts_to_edit(pool: &sqlx::PgPool, count: usize) -> anyhow::Result<Vec<String>> {
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM contacts WHERE deleted_at IS NULL ORDER BY random() LIMIT $1",
    )
    .bind(count as i64)
    .fetch_all(pool)
    .await?;
    anyhow::ensure!(!ids.is_empty(), "no contact to edit");
    Ok(ids.iter().map(uuid::Uuid::to_string).collect())
}

/// `roster import FILE` as its own process, on every core of this machine even when
/// this generator was pinned to one (an administrator's import does not share the
/// generator's core).
fn import_process(file: &std::path::Path) -> anyhow::Result<tokio::process::Child> {
    let exe = std::env::current_exe().context("finding this program")?;
    let cpus = std::fs::read_to_string("/sys/devices/system/cpu/online")
        .map(|text| text.trim().to_owned())
        .unwrap_or_default();
    let quiet = |mut command: tokio::process::Command| {
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        command
    };
    if !cpus.is_empty() {
        let mut command = tokio::process::Command::new("taskset");
        command
            .arg("-c")
            .arg(&cpus)
            .arg(&exe)
            .arg("import")
            .arg(file);
        if let Ok(child) = quiet(command).spawn() {
            return Ok(child);
        }
    }
    let mut command = tokio::process::Command::new(&exe);
    command.arg("import").arg(file);
    Ok(quiet(command).spawn()?)
}

pub async fn writes(config: &Config, command: WritesCommand) -> anyhow::Result<String> {
    let pool = super::load_database(config).await?;
    let base = command.url.trim_end_matches('/').to_owned();
    let probes: Vec<String> = if command.probes.is_empty() {
        vec![base.clone()]
    } else {
        command
            .probes
            .iter()
            .map(|url| url.trim_end_matches('/').to_owned())
            .collect()
    };
    let queries = Arc::new(pages::Queries::new(
        super::distinct_queries(&pool, command.queries, command.seed).await?,
    ));
    let accounts = Accounts::new(command.accounts);
    let duration = Duration::from_secs(command.seconds);
    let edits_per_phase = (command.edits_per_second
        * (WARM_UP + duration.max(Duration::from_secs(command.import_seconds))).as_secs_f64())
        as usize;
    let ids = Arc::new(contacts_to_edit(&pool, 3 * edits_per_phase + 100).await?);
    let next_id = Arc::new(AtomicUsize::new(0));

    // The import's file, written before anything is measured: rich contacts with
    // numbers (so emails) and ids no earlier run used.
    let work = tempfile::tempdir().context("creating a temporary folder")?;
    let import_file = work.path().join("contacts.csv");
    if command.import_rows > 0 {
        eprintln!("writing {} rich contacts to import…", command.import_rows);
        let field = crate::server::bench::bench_field(&pool).await?;
        let first = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
            * 1_000;
        let file = import_file.clone();
        let rows = command.import_rows;
        tokio::task::spawn_blocking(move || {
            crate::server::bench::write_rich_files(
                &field,
                (first, first..first + rows),
                &file,
                None,
            )
        })
        .await??;
    }

    eprintln!("signing in…");
    let readers = pages::signed_in_clients(&base, &accounts, command.connections).await?;
    let editors = pages::signed_in_clients(&base, &accounts, EDITORS).await?;
    let mut probe_clients = Vec::new();
    for url in &probes {
        let client = pages::signed_in_clients(url, &accounts, 1).await?.remove(0);
        probe_clients.push((url.clone(), client));
    }
    let editing = |phase: u64| {
        Editing::new(
            (&base, editors.clone()),
            probe_clients.clone(),
            (ids.clone(), next_id.clone()),
            command.probe_every,
            command.seed ^ phase.wrapping_mul(0x2545_F491_4F6C_DD1D),
        )
    };
    let reads = |duration: Duration| {
        pages::search_pages(
            (base.as_str(), command.endpoint),
            &readers,
            queries.clone(),
            pages::Pace::Rate(command.rate),
            WARM_UP,
            duration,
        )
    };

    let mut phases = Vec::new();
    eprintln!("reads alone…");
    let started = Instant::now();
    phases.push(PhaseRun {
        name: "reads alone".to_owned(),
        reads: reads(duration).await,
        editing: None,
        elapsed: started.elapsed(),
        import: None,
    });

    eprintln!("reads beside {} edits a second…", command.edits_per_second);
    let edits = editing(1);
    let started = Instant::now();
    let (read, ()) = tokio::join!(
        reads(duration),
        edits
            .clone()
            .run(command.edits_per_second, WARM_UP + duration)
    );
    phases.push(PhaseRun {
        name: format!("reads, {:.0} edits/s", command.edits_per_second),
        reads: read,
        editing: Some(edits),
        elapsed: started.elapsed(),
        import: None,
    });

    if command.import_rows > 0 {
        let length = Duration::from_secs(command.import_seconds);
        eprintln!(
            "reads beside the edits and an import of {} rows…",
            command.import_rows
        );
        let edits = editing(2);
        let started = Instant::now();
        let mut child = import_process(&import_file)?;
        let importing = async {
            let stderr = child.stderr.take();
            let output = async {
                let mut text = String::new();
                if let Some(mut stderr) = stderr {
                    let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text).await;
                }
                text
            };
            let (status, text) = tokio::join!(child.wait(), output);
            let outcome = match status {
                Ok(status) if status.success() => "imported".to_owned(),
                Ok(status) => format!("failed ({status}): {}", text.trim()),
                Err(error) => format!("could not be waited for: {error}"),
            };
            (started.elapsed(), outcome)
        };
        let (read, (), import) = tokio::join!(
            reads(length),
            edits
                .clone()
                .run(command.edits_per_second, WARM_UP + length),
            importing
        );
        phases.push(PhaseRun {
            name: format!(
                "reads, {:.0} edits/s, an import of {}",
                command.edits_per_second, command.import_rows
            ),
            reads: read,
            editing: Some(edits),
            elapsed: started.elapsed(),
            import: Some(import),
        });
    }

    Ok(report(&command, &probes, queries.distinct(), &phases))
}

fn report(
    command: &WritesCommand,
    probes: &[String],
    distinct: usize,
    phases: &[PhaseRun],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Reads while writes run\n\n{} connections asking for {}s at {:.0} a second \
         (open model, {distinct} distinct searches, seed {}), measured after {} s each \
         phase; edits at {:.0} a second on {EDITORS} sessions (the form's page, then the \
         save), one in {} probed on {} every {} ms until found.\n",
        command.connections,
        command.endpoint.noun(),
        command.rate,
        command.seed,
        WARM_UP.as_secs(),
        command.edits_per_second,
        command.probe_every.max(1),
        probes.join(" and "),
        PROBE_EVERY.as_millis(),
    );
    let alone = phases
        .first()
        .map_or(1, |phase| phase.reads.latency.p99.max(1));
    let _ = writeln!(
        out,
        "| phase | reads | per s | p50 ms | p95 ms | p99 ms | max ms | errors | p99 ÷ alone |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for phase in phases {
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {:.2} |",
            phase.name,
            phase.reads.requests,
            phase.reads.per_second(),
            phase.reads.latency.cells(),
            phase.reads.errors,
            f64::from(phase.reads.latency.p99) / f64::from(alone),
        );
    }
    let _ = writeln!(
        out,
        "\n| phase | request | count | p50 ms | p95 ms | p99 ms | max ms |\n\
         |---|---|---:|---:|---:|---:|---:|"
    );
    for phase in phases {
        let Some(editing) = &phase.editing else {
            continue;
        };
        for (kind, summary) in editing.recorder.by_kind() {
            let _ = writeln!(
                out,
                "| {} | {kind} | {} | {} |",
                phase.name,
                summary.count,
                summary.cells()
            );
        }
        for (url, found) in probes.iter().zip(&editing.found) {
            let summary = found
                .by_kind()
                .into_iter()
                .find(|(kind, _)| *kind == "found")
                .map_or(Summary::default(), |(_, summary)| summary);
            let _ = writeln!(
                out,
                "| {} | edit found by search on {url} | {} | {} |",
                phase.name,
                summary.count,
                summary.cells()
            );
        }
    }
    out.push('\n');
    for phase in phases {
        if let Some((took, outcome)) = &phase.import {
            let _ = writeln!(
                out,
                "- {}: the import took {:.1} s ({outcome}); the phase {:.1} s.",
                phase.name,
                took.as_secs_f64(),
                phase.elapsed.as_secs_f64()
            );
        }
        if let Some(editing) = &phase.editing {
            let _ = writeln!(
                out,
                "- {}: probes asked {:.0} searches a second beside the reads.",
                phase.name,
                editing.polls.load(Ordering::Relaxed) as f64
                    / phase.elapsed.as_secs_f64().max(f64::EPSILON)
            );
            for (url, found) in probes.iter().zip(&editing.found) {
                if found.error_count() > 0 {
                    let _ = write!(out, "- probes on {url}: {}", found.failures());
                }
            }
            if editing.recorder.error_count() > 0 {
                let _ = write!(out, "- edits: {}", editing.recorder.failures());
            }
        }
        if phase.reads.errors > 0 {
            let _ = write!(out, "- reads: {}", phase.reads.recorder.failures());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_words_are_ten_letters_and_differ_by_edit_and_seed() {
        let word = probe_word(7, 1);
        assert_eq!(word.len(), 10);
        assert!(word.bytes().all(|b| b.is_ascii_lowercase()), "{word}");
        assert_eq!(word, probe_word(7, 1));
        assert_ne!(word, probe_word(7, 2));
        assert_ne!(word, probe_word(8, 1));
    }
}
