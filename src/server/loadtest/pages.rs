//! The throughput part of the load test: a fixed number of connections, each asking
//! for the next server-rendered search page as soon as the last one arrived (a closed
//! loop: how many pages per second the server can give); the same connections asking
//! at a set rate (an open model: the latency at that rate, counted from when each
//! request was due); that again with thousands of idle keep-alive connections held
//! open beside them; and the same queries on the plain Postgres full-text path, for
//! the ratio.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::PgPool;
use tokio::task::JoinSet;

use super::{
    Accounts,
    stats::{Recorder, Summary, timed_from},
};
use crate::domain::SearchQuery;

pub struct Throughput {
    pub requests: usize,
    pub errors: u64,
    pub elapsed: Duration,
    pub latency: Summary,
    pub recorder: Recorder,
}

impl Throughput {
    /// What `recorder` holds once every worker is done with it, over `elapsed`.
    fn of(recorder: Arc<Recorder>, elapsed: Duration) -> Self {
        let recorder = Arc::try_unwrap(recorder).unwrap_or_else(|_| unreachable!());
        Throughput {
            requests: recorder.requests(),
            errors: recorder.error_count(),
            elapsed,
            latency: recorder.all(),
            recorder,
        }
    }

    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// Signs in one client per connection (round the accounts), each with a pool of one
/// connection, so `connections` is the number of TCP connections at work.
pub async fn signed_in_clients(
    base: &str,
    accounts: &Accounts,
    connections: usize,
) -> anyhow::Result<Vec<reqwest::Client>> {
    let mut clients = Vec::with_capacity(connections);
    for n in 0..connections {
        let client = super::client(true);
        let email = accounts.email(n % accounts.len());
        let response = client
            .post(format!("{base}/api/sign-in"))
            .header("accept", "application/json")
            .form(&[("email", email.as_str()), ("password", accounts.password())])
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "{email} could not sign in: HTTP {}",
            response.status()
        );
        clients.push(client);
    }
    Ok(clients)
}

/// The searches of a run, handed out in turn to every connection: each is asked once
/// before any is asked again, so a set larger than the requests made is never served
/// from a cache.
pub struct Queries {
    list: Vec<SearchQuery>,
    next: AtomicUsize,
}

impl Queries {
    pub fn new(list: Vec<SearchQuery>) -> Self {
        assert!(!list.is_empty(), "a load needs searches");
        Queries {
            list,
            next: AtomicUsize::new(0),
        }
    }

    /// How many different searches there are.
    pub fn distinct(&self) -> usize {
        self.list.len()
    }

    /// The next search in turn.
    pub fn next(&self) -> &SearchQuery {
        let at = self.next.fetch_add(1, Ordering::Relaxed);
        &self.list[at % self.list.len()]
    }

    /// Searches handed out so far.
    pub fn asked(&self) -> usize {
        self.next.load(Ordering::Relaxed)
    }
}

/// What each request asks for: the same search, as the two ways a person reaches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Endpoint {
    /// The server-rendered search page (`GET /?q=…`), as with JavaScript off or on a
    /// link followed.
    Page,
    /// The search box's server function (`GET /api/directory-view?query=…`), what the
    /// browser asks for as one types with JavaScript on: the filters and results,
    /// rendered, in JSON.
    ServerFunction,
}

impl Endpoint {
    /// The route the server labels its request metrics with.
    pub fn route(self) -> &'static str {
        match self {
            Endpoint::Page => "/",
            Endpoint::ServerFunction => "/api/directory-view",
        }
    }

    /// What one answer is called in the report.
    pub fn noun(self) -> &'static str {
        match self {
            Endpoint::Page => "search page",
            Endpoint::ServerFunction => "search box answer",
        }
    }

    /// The request for `query`, as a browser asks for it. The answer is compressed as
    /// browsers get it (the client counts the bytes, it does not unpack them).
    fn request(
        self,
        base: &str,
        client: &reqwest::Client,
        query: &SearchQuery,
    ) -> reqwest::RequestBuilder {
        let request = match self {
            Endpoint::Page => client.get(format!("{base}/?{}", query.to_query_string())),
            Endpoint::ServerFunction => client
                .get(format!("{base}/api/directory-view"))
                .query(&[
                    ("query", query.to_query_string().as_str()),
                    ("page", "first"),
                ])
                .header("accept", "application/json"),
        };
        request.header("accept-encoding", "br, gzip")
    }
}

/// How the clients ask for pages.
#[derive(Clone, Copy)]
pub enum Pace {
    /// Each asks for the next as soon as the last arrived (the server's capacity).
    ClosedLoop,
    /// So many a second in all, spread evenly over the connections (each asks every
    /// `clients / rate` seconds, the clients staggered), each latency counted from when
    /// the request was due: a connection held up by a slow answer counts the wait of
    /// the requests behind it (no coordinated omission).
    Rate(f64),
}

/// Every client asks `endpoint` for searches at `pace`, taking them in turn, until
/// `duration` is up. The first `warm_up` is not counted.
pub async fn search_pages(
    (base, endpoint): (&str, Endpoint),
    clients: &[reqwest::Client],
    queries: Arc<Queries>,
    pace: Pace,
    warm_up: Duration,
    duration: Duration,
) -> Throughput {
    let recorder = Arc::new(Recorder::default());
    let start = tokio::time::Instant::now();
    let warm_until = start + warm_up;
    let stop_at = warm_until + duration;
    // The time between one connection's requests, and between two connections' first.
    let (every, stagger) = match pace {
        Pace::ClosedLoop => (Duration::ZERO, Duration::ZERO),
        Pace::Rate(rate) => (
            Duration::from_secs_f64(clients.len() as f64 / rate),
            Duration::from_secs_f64(1.0 / rate),
        ),
    };
    let mut workers = JoinSet::new();
    for (n, client) in clients.iter().enumerate() {
        let client = client.clone();
        let queries = queries.clone();
        let recorder = recorder.clone();
        let base = base.to_owned();
        workers.spawn(async move {
            let throwaway = Recorder::default();
            let mut due = start + stagger * u32::try_from(n).unwrap_or(u32::MAX);
            loop {
                if let Pace::ClosedLoop = pace {
                    due = tokio::time::Instant::now();
                }
                // Checked before waiting: a request due after the end is not waited
                // for, or a slow pace would stretch the run and understate its rate.
                if due >= stop_at {
                    break;
                }
                if let Pace::Rate(_) = pace {
                    tokio::time::sleep_until(due).await;
                }
                let query = queries.next();
                let counted = if due < warm_until {
                    &throwaway
                } else {
                    &recorder
                };
                let request = endpoint.request(&base, &client, query);
                timed_from(counted, endpoint.noun(), request, due.into_std()).await;
                due += every;
            }
        });
    }
    while workers.join_next().await.is_some() {}
    // Until the last answer: a server that cannot keep up takes longer than planned,
    // and its rate is what it gave, not what was asked.
    Throughput::of(recorder, warm_until.elapsed().max(duration))
}

/// Opens `count` keep-alive connections, each with one request answered, and keeps
/// them idle (one client each, holding its connection in its pool). Connects in
/// batches so the listen backlog is not flooded.
pub async fn idle_connections(base: &str, count: usize) -> anyhow::Result<Vec<reqwest::Client>> {
    let mut clients = Vec::with_capacity(count);
    let mut failed = 0usize;
    for batch in (0..count).collect::<Vec<_>>().chunks(250) {
        let mut opening = JoinSet::new();
        for _ in batch {
            let client = super::idle_client();
            let url = format!("{base}/health");
            opening.spawn(async move {
                let answered = client
                    .get(url)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status);
                match answered {
                    // Read to the end, so the connection goes back to the pool, open.
                    Ok(response) => response.bytes().await.ok().map(|_| client),
                    Err(_) => None,
                }
            });
        }
        while let Some(opened) = opening.join_next().await {
            match opened.ok().flatten() {
                Some(client) => clients.push(client),
                None => failed += 1,
            }
        }
    }
    anyhow::ensure!(
        failed == 0,
        "{failed} of {count} idle connections could not be opened (is the open-file limit high enough? `ulimit -n`)"
    );
    Ok(clients)
}

/// TCP connections on this machine to `port` that are established right now (read
/// from /proc/net/tcp), to show the idle ones were still held at the end.
pub fn established_to(port: u16) -> Option<usize> {
    let mut total = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        total += text
            .lines()
            .skip(1)
            .filter(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                fields.len() > 3
                    && fields[3] == "01"
                    && fields[2]
                        .rsplit_once(':')
                        .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok())
                        == Some(port)
            })
            .count();
    }
    Some(total)
}

/// The same searches on Postgres full text (a tsvector column with a GIN index, every
/// word required and the last as a prefix; a page of 25 newest first and the count),
/// `concurrency` clients sharing `db`'s pool, for `duration`. Only the queries: no
/// HTTP, no page, so the ratio flatters Postgres if anything.
pub async fn postgres_full_text(
    db: &PgPool,
    queries: Arc<Queries>,
    concurrency: usize,
    duration: Duration,
) -> Throughput {
    let recorder = Arc::new(Recorder::default());
    let stop_at = Instant::now() + duration;
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        let db = db.clone();
        let queries = queries.clone();
        let recorder = recorder.clone();
        workers.spawn(async move {
            while Instant::now() < stop_at {
                let query = queries.next();
                let started = Instant::now();
                let outcome = async {
                    let mut conn = db.acquire().await?;
                    crate::server::bench::postgres_full_text(&mut conn, query).await
                }
                .await;
                recorder.latency("postgres full text", started.elapsed());
                if let Err(error) = outcome {
                    recorder.error("postgres full text", error.to_string());
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    Throughput::of(recorder, duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_are_handed_out_in_turn_each_once_before_any_again() {
        let queries = Queries::new(
            ["ada", "lin", "kay"]
                .map(|text| SearchQuery::default().with_text(text))
                .to_vec(),
        );
        let asked: Vec<String> = (0..7).map(|_| queries.next().text.clone()).collect();
        assert_eq!(asked, ["ada", "lin", "kay", "ada", "lin", "kay", "ada"]);
        assert_eq!(queries.asked(), 7);
        assert_eq!(queries.distinct(), 3);
    }
}
