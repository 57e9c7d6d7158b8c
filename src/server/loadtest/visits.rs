//! The open-model part of the load test: visits arrive at a set rate, whatever the
//! response times (a slow server cannot slow the arrivals down and hide its slowness),
//! and each visit does what a person in a browser does, asking what the browser asks.
//!
//! A visit: sign in (a new session) or come back with the account's session, open the
//! directory (a server-rendered page), type a search letter by letter (one call of the
//! search box's server function per letter, as the island makes after its 150 ms
//! debounce: the filters and results rendered), open one of the results (its page),
//! and sometimes edit it (the form's page, then the save at the version it holds, as
//! the form's island posts it). Everything is asked for compressed, as browsers do.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use tokio::task::JoinSet;

use super::{
    Accounts,
    stats::{Recorder, timed},
};
use crate::domain::{DirectoryParts, SaveOutcome, SearchQuery, edit::ContactForm};

pub struct Phase {
    pub name: &'static str,
    /// New visits per second.
    pub rate: f64,
    pub duration: Duration,
}

pub struct VisitOptions {
    pub phases: Vec<Phase>,
    /// Share of visits that sign in anew; the others continue the account's session
    /// (every account's first visit signs in).
    pub sign_in_share: f64,
    /// Share of visits that edit the contact they open.
    pub edit_share: f64,
    /// Pauses between steps are multiplied by this (1 = a person's pace).
    pub pace: f64,
    pub seed: u64,
}

/// What one phase measured.
pub struct PhaseResult {
    pub name: &'static str,
    pub rate: f64,
    pub duration: Duration,
    pub visits: u64,
    /// From the first arrival to the last visit's end.
    pub elapsed: Duration,
    /// The longest an arrival started after its planned time (the generator's own lag).
    pub worst_start_lag: Duration,
    pub recorder: Recorder,
}

/// The words people type: names and companies from the directory.
pub struct Words(pub Vec<String>);

struct Shared {
    base: String,
    accounts: Accounts,
    /// Each account's client (its cookie jar holds the session), once signed in.
    clients: Vec<Mutex<Option<reqwest::Client>>>,
    words: Words,
    options_sign_in_share: f64,
    options_edit_share: f64,
    pace: f64,
    visit_counter: AtomicU64,
    seed: u64,
}

impl Shared {
    fn new(base: &str, accounts: Accounts, words: Words, options: &VisitOptions) -> Arc<Shared> {
        let clients = (0..accounts.len()).map(|_| Mutex::new(None)).collect();
        Arc::new(Shared {
            base: base.trim_end_matches('/').to_owned(),
            accounts,
            clients,
            words,
            options_sign_in_share: options.sign_in_share,
            options_edit_share: options.edit_share,
            pace: options.pace,
            visit_counter: AtomicU64::new(0),
            seed: options.seed,
        })
    }
}

pub async fn run(
    base: &str,
    accounts: Accounts,
    words: Words,
    options: VisitOptions,
) -> anyhow::Result<Vec<PhaseResult>> {
    anyhow::ensure!(!words.0.is_empty(), "no words to search for");
    let shared = Shared::new(base, accounts, words, &options);
    let mut results = Vec::new();
    for phase in options.phases {
        eprintln!(
            "phase {}: {} visits/s for {} s…",
            phase.name,
            phase.rate,
            phase.duration.as_secs()
        );
        let recorder = Arc::new(Recorder::default());
        let planned = (phase.rate * phase.duration.as_secs_f64()).round() as u64;
        let started = tokio::time::Instant::now();
        let mut worst_start_lag = Duration::ZERO;
        let mut visits = JoinSet::new();
        for n in 0..planned {
            let at = started + Duration::from_secs_f64(n as f64 / phase.rate);
            tokio::time::sleep_until(at).await;
            worst_start_lag = worst_start_lag.max(at.elapsed());
            let shared = shared.clone();
            let recorder = recorder.clone();
            visits.spawn(async move { visit(&shared, &recorder).await });
            // Reap finished visits as we go, so the set stays small.
            while visits.try_join_next().is_some() {}
        }
        while visits.join_next().await.is_some() {}
        let elapsed = started.elapsed();
        let recorder = Arc::try_unwrap(recorder).unwrap_or_else(|_| unreachable!());
        eprintln!(
            "  {} requests, {} errors",
            recorder.requests(),
            recorder.error_count()
        );
        results.push(PhaseResult {
            name: phase.name,
            rate: phase.rate,
            duration: phase.duration,
            visits: planned,
            elapsed,
            worst_start_lag,
            recorder,
        });
    }
    Ok(results)
}

/// The closed model: `users` people, each starting a new visit as soon as the last
/// one ends, until `duration` has passed. Visits in progress then finish.
pub async fn soak(
    base: &str,
    accounts: Accounts,
    words: Words,
    users: usize,
    duration: Duration,
    options: VisitOptions,
) -> anyhow::Result<Recorder> {
    anyhow::ensure!(!words.0.is_empty(), "no words to search for");
    let shared = Shared::new(base, accounts, words, &options);
    let recorder = Arc::new(Recorder::default());
    let started = tokio::time::Instant::now();
    let until = started + duration;
    // People arrive over the first sixth of the run (at most 30 s), not all in the
    // same instant; after a failed visit a person waits as the answer asks
    // (`Retry-After: 3`) before trying again.
    let ramp = (duration / 6).min(Duration::from_secs(30));
    let mut people = JoinSet::new();
    for person in 0..users {
        let (shared, recorder) = (shared.clone(), recorder.clone());
        let arrives = started + ramp.mul_f64(person as f64 / users as f64);
        people.spawn(async move {
            tokio::time::sleep_until(arrives).await;
            while tokio::time::Instant::now() < until {
                if !visit(&shared, &recorder).await {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
            }
        });
    }
    while people.join_next().await.is_some() {}
    Ok(Arc::try_unwrap(recorder).unwrap_or_else(|_| unreachable!()))
}

/// A body as sent: unpacked when it came gzip-compressed.
pub(super) fn unpacked(body: &[u8]) -> Vec<u8> {
    use std::io::Read as _;
    let mut out = Vec::new();
    if body.starts_with(&[0x1f, 0x8b])
        && flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .is_ok()
    {
        return out;
    }
    body.to_vec()
}

/// The contacts that rendered results show, in order (each row names its id).
pub(super) fn contact_ids(html: &str) -> Vec<String> {
    const MARK: &str = "data-contact-id=\"";
    html.match_indices(MARK)
        .filter_map(|(at, _)| html.get(at + MARK.len()..at + MARK.len() + 36))
        .map(str::to_owned)
        .collect()
}

/// The contact form's data in its page, as the island reads it: the props serialized
/// in its element's `data-props` attribute.
fn form_of(page: &[u8]) -> Option<ContactForm> {
    #[derive(Deserialize)]
    struct Props {
        form: ContactForm,
    }
    let page = std::str::from_utf8(page).ok()?;
    const MARK: &str = "data-props=\"";
    let start = page.find(MARK)? + MARK.len();
    let end = start + page[start..].find('"')?;
    let json = page[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str::<Props>(&json)
        .ok()
        .map(|props| props.form)
}

async fn pause(shared: &Shared, rng: &mut ChaCha8Rng, millis: std::ops::Range<u64>) {
    let wait = rng.random_range(millis) as f64 * shared.pace;
    tokio::time::sleep(Duration::from_secs_f64(wait / 1000.0)).await;
}

/// One visit; false when it ended early on a failure (as a person would stop at an
/// error page).
async fn visit(shared: &Shared, recorder: &Recorder) -> bool {
    let n = shared.visit_counter.fetch_add(1, Ordering::Relaxed);
    let mut rng = ChaCha8Rng::seed_from_u64(shared.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let account = (n % shared.accounts.len() as u64) as usize;
    let base = &shared.base;

    let existing = shared.clients[account]
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    let client = match existing {
        Some(client) if !rng.random_bool(shared.options_sign_in_share) => client,
        _ => {
            let Some(client) = sign_in(shared, recorder, account).await else {
                return false;
            };
            *shared.clients[account]
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(client.clone());
            client
        }
    };

    // The directory, server-rendered as a first load is, compressed as a browser
    // takes it (the client counts the bytes, it does not unpack them).
    let directory = client
        .get(format!("{base}/"))
        .header("accept-encoding", "br, gzip");
    if timed(recorder, "directory page", directory).await.is_none() {
        return false;
    }
    pause(shared, &mut rng, 500..1500).await;

    // A search typed letter by letter: one call per letter, as the debounced box makes
    // for someone typing at about five letters a second.
    let word = shared.words.0.choose(&mut rng).expect("words").clone();
    let letters: Vec<char> = word.chars().collect();
    let typed = rng.random_range(2..=letters.len().clamp(2, 7));
    let mut shown = Vec::new();
    for length in 1..=typed.min(letters.len()) {
        pause(shared, &mut rng, 160..320).await;
        let text: String = letters[..length].iter().collect();
        let query = SearchQuery::default().with_text(&text).to_query_string();
        let request = client
            .get(format!("{base}/api/directory-view"))
            .header("accept-encoding", "gzip")
            .query(&[("query", query.as_str()), ("page", "first")]);
        let Some((_, body)) = timed(recorder, "search (server fn)", request).await else {
            return false;
        };
        if length == typed.min(letters.len()) {
            shown = serde_json::from_slice::<DirectoryParts>(&unpacked(&body))
                .map(|parts| contact_ids(&parts.results_html))
                .unwrap_or_default();
        }
    }
    let Some(id) = shown
        .iter()
        .take(5)
        .collect::<Vec<_>>()
        .choose(&mut rng)
        .map(|id| (*id).clone())
    else {
        recorder.note("searches with no result to open");
        return true;
    };
    pause(shared, &mut rng, 500..1500).await;

    // The contact's page.
    let request = client
        .get(format!("{base}/contacts/{id}"))
        .header("accept-encoding", "br, gzip");
    if timed(recorder, "contact page", request).await.is_none() {
        return false;
    }
    if !rng.random_bool(shared.options_edit_share) {
        return true;
    }

    // An edit: the form's page (the form's island holds the values and the version
    // read), a changed note, the save.
    pause(shared, &mut rng, 500..1500).await;
    let Some(form) = open_form(&client, base, recorder, &id).await else {
        return false;
    };
    pause(shared, &mut rng, 1000..3000).await;
    let notes = format!("Load test visit {n}: called about the spring meeting.");
    save(&client, base, recorder, &id, form, notes)
        .await
        .is_some()
}

/// The contact form's page of `id`, and the form it holds (the values and the version
/// read, as the form's island has them); `None` after recording why not.
pub(super) async fn open_form(
    client: &reqwest::Client,
    base: &str,
    recorder: &Recorder,
    id: &str,
) -> Option<ContactForm> {
    let request = client
        .get(format!("{base}/contacts/{id}/edit"))
        .header("accept-encoding", "gzip");
    let (_, body) = timed(recorder, "contact form page", request).await?;
    let form = form_of(&unpacked(&body));
    if form.is_none() {
        recorder.error("contact form page", "no form in the page");
    }
    form
}

/// Saves `form` of `id` with its notes changed to `notes`, at the version it was read
/// at, as the form's island posts it. `Some(true)` when saved, `Some(false)` when
/// refused as a conflict (someone saved in between: noted, not an error), `None` after
/// recording a failure.
pub(super) async fn save(
    client: &reqwest::Client,
    base: &str,
    recorder: &Recorder,
    id: &str,
    form: ContactForm,
    notes: String,
) -> Option<bool> {
    let mut input = form.input;
    input.notes = notes;
    let version = form.version.map(|v| v.to_string()).unwrap_or_default();
    let mut fields = input.form_fields();
    fields.push(("id".to_owned(), id.to_owned()));
    fields.push(("version".to_owned(), version));
    let request = client
        .post(format!("{base}/api/save-contact"))
        .header("accept", "application/json")
        .form(&fields);
    let (_, body) = timed(recorder, "save contact (server fn)", request).await?;
    match serde_json::from_slice::<SaveOutcome>(&body) {
        Ok(SaveOutcome::Saved { .. }) => Some(true),
        Ok(SaveOutcome::Conflict { .. }) => {
            recorder.note("edits refused as conflicts");
            Some(false)
        }
        Ok(other) => {
            recorder.error(
                "save contact (server fn)",
                format!("refused: {}", outcome_name(&other)),
            );
            None
        }
        Err(_) => {
            recorder.error("save contact (server fn)", "unreadable answer");
            None
        }
    }
}

fn outcome_name(outcome: &SaveOutcome) -> &'static str {
    match outcome {
        SaveOutcome::Saved { .. } => "saved",
        SaveOutcome::Invalid { .. } => "invalid",
        SaveOutcome::Conflict { .. } => "conflict",
        _ => "other",
    }
}

/// A new session: the sign-in page, then the sign-in as the hydrated page posts it.
async fn sign_in(shared: &Shared, recorder: &Recorder, account: usize) -> Option<reqwest::Client> {
    let client = super::client(true);
    let base = &shared.base;
    timed(
        recorder,
        "sign-in page",
        client
            .get(format!("{base}/login"))
            .header("accept-encoding", "br, gzip"),
    )
    .await?;
    let email = shared.accounts.email(account);
    let request = client
        .post(format!("{base}/api/sign-in"))
        .header("accept", "application/json")
        .form(&[
            ("email", email.as_str()),
            ("password", shared.accounts.password()),
        ]);
    timed(recorder, "sign in (server fn)", request).await?;
    Some(client)
}
