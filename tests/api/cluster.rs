//! `make cluster` for real: `scripts/cluster.sh` starts two `roster serve` processes on
//! one database and Redis behind nginx (deploy/nginx.conf), and these tests use it as
//! people and operators would: a session from one instance is good on the other, a
//! contact saved on one is found on the other within a second, the sign-in limit
//! counts on both, the dashboard lists both, and stopping one under traffic loses no
//! request and no write.

use std::{
    path::PathBuf,
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use roster::domain::{SaveOutcome, SearchPage, SearchQuery, dashboard::Dashboard};
use tokio::task::JoinSet;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, attempt_sign_in, eventually, fresh_database, in_checkout,
    new_client, sign_in, url_for,
};

/// A cluster of two instances behind nginx, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    env: Vec<(&'static str, String)>,
    database: String,
}

impl Cluster {
    async fn start() -> Cluster {
        let database = fresh_database().await;
        let dir = tempfile::tempdir().expect("a temporary folder");
        let port = free_port_run(3);
        let env = vec![
            ("ROSTER_BIN", env!("CARGO_BIN_EXE_roster").to_owned()),
            ("ROSTER_CLUSTER_PORT", port.to_string()),
            ("ROSTER_CLUSTER_DIR", dir.path().display().to_string()),
            ("DATABASE_URL", url_for(&database)),
            (
                "ROSTER_SITE_ROOT",
                in_checkout("public").display().to_string(),
            ),
            ("ROSTER_REDIS_PREFIX", format!("test-{database}")),
            ("ROSTER_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
            ("ROSTER_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
            ("ROSTER_DB_MIN_CONNECTIONS", "0".to_owned()),
            ("ROSTER_DB_MAX_CONNECTIONS", "5".to_owned()),
            ("ROSTER_LOG_FORMAT", "json".to_owned()),
            // Low, to see it counted across instances; per-user limits out of the way.
            ("ROSTER_LIMIT_SIGN_IN_PER_MINUTE", "4".to_owned()),
            ("ROSTER_LIMIT_SEARCHES_PER_MINUTE", "1000000".to_owned()),
            ("ROSTER_LIMIT_READS_PER_MINUTE", "1000000".to_owned()),
            ("ROSTER_LIMIT_WRITES_PER_MINUTE", "1000000".to_owned()),
        ];
        let cluster = Cluster {
            dir,
            port,
            env,
            database,
        };
        let output = cluster.script("start");
        assert!(
            output.status.success(),
            "scripts/cluster.sh start failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        cluster
    }

    fn script(&self, action: &str) -> std::process::Output {
        let mut command = Command::new(in_checkout("scripts/cluster.sh"));
        command.arg(action).env_remove("ROSTER_CONFIG");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command.output().expect("scripts/cluster.sh runs")
    }

    /// nginx's address.
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Instance `n` (1 or 2), directly.
    fn instance(&self, n: u16) -> String {
        format!("http://127.0.0.1:{}", self.port + n)
    }

    fn pid_file(&self, n: u16) -> PathBuf {
        self.dir.path().join(format!("instance-{n}.pid"))
    }

    fn log(&self, n: u16) -> String {
        self.file(&format!("instance-{n}.log"))
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// The end of each log, for a failure's message.
    fn logs(&self) -> String {
        ["instance-1.log", "instance-2.log", "nginx-error.log"]
            .iter()
            .map(|name| {
                let text = self.file(name);
                let lines: Vec<&str> = text.lines().collect();
                format!(
                    "--- {name}:\n{}",
                    lines[lines.len().saturating_sub(12)..].join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.script("stop");
    }
}

/// The first of `count` consecutive free ports.
fn free_port_run(count: u16) -> u16 {
    for _ in 0..200 {
        let base = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        if base > 65_000 {
            continue;
        }
        let free = (0..count)
            .all(|offset| std::net::TcpListener::bind(("127.0.0.1", base + offset)).is_ok());
        if free {
            return base;
        }
    }
    panic!("no run of {count} free ports");
}

fn search_for(text: &str) -> Vec<(&'static str, String)> {
    vec![(
        "query",
        SearchQuery::default().with_text(text).to_query_string(),
    )]
}

async fn save_new(
    client: &reqwest::Client,
    base: &str,
    name: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{base}/api/save-contact"))
        .header("accept", "application/json")
        .form(&[
            ("name", name),
            ("email", ""),
            ("phone", ""),
            ("company", "Cluster Test Ltd"),
            ("title", ""),
            ("location", ""),
            ("tier", "3"),
            ("tags", ""),
            ("notes", ""),
            // Saved even if it looks like another (the traffic below makes many alike).
            ("confirm", "yes"),
        ])
        .send()
        .await
}

#[tokio::test]
async fn instances_behind_nginx_share_sessions_data_limits_and_the_dashboard() {
    let cluster = Cluster::start().await;
    let (one, two) = (cluster.instance(1), cluster.instance(2));

    // A session made on instance 1 is good on instance 2 and through nginx.
    let client = new_client();
    sign_in(&client, &one, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for base in [&two, &cluster.url()] {
        let me = client.get(format!("{base}/api/me")).send().await.unwrap();
        assert_eq!(me.status(), 200);
        let body = me.text().await.unwrap();
        assert!(body.contains(ADMIN_EMAIL), "signed in on {base}: {body}");
    }

    // A contact saved on instance 1 is found by search on instance 2 within a second.
    let response = save_new(&client, &one, "Quillon Marchetti-Vance")
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let saved_at = Instant::now();
    let found = eventually(Duration::from_secs(5), || async {
        let page: SearchPage = client
            .get(format!("{two}/api/search"))
            .query(&search_for("Quillon Marchetti"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (page.total == 1).then_some(saved_at.elapsed())
    })
    .await
    .expect("the contact is found on the other instance");
    assert!(found <= Duration::from_secs(1), "found after {found:?}");

    // The sign-in limit (4 a minute per client address, here set low) counts attempts
    // on both instances and through nginx alike. The client's address comes from
    // X-Forwarded-For, which the instances believe from the proxy's address.
    let stranger = new_client();
    let attempt = |base: String| {
        let stranger = stranger.clone();
        async move {
            stranger
                .post(format!("{base}/api/sign-in"))
                .header("accept", "application/json")
                .header("x-forwarded-for", "203.0.113.9")
                .form(&[("email", "nobody@example.com"), ("password", "wrong")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for base in [&one, &two, &one, &two] {
        assert_eq!(
            attempt(base.clone()).await,
            400,
            "refused, not yet limited, on {base}"
        );
    }
    for base in [&one, &two, &cluster.url()] {
        assert_eq!(attempt(base.clone()).await, 429, "limited on {base}");
    }
    // Another address is not limited.
    assert_eq!(
        attempt_sign_in(&new_client(), &cluster.url(), ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        200
    );

    // The dashboard lists both instances (each publishes its figures every 10 s).
    let ports = [cluster.port + 1, cluster.port + 2];
    let listed = eventually(Duration::from_secs(30), || async {
        let dashboard: Dashboard = client
            .get(format!("{}/api/admin/dashboard", cluster.url()))
            .query(&[("period", "15m")])
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let names: Vec<String> = dashboard
            .instances
            .iter()
            .map(|row| row.instance.clone())
            .collect();
        ports
            .iter()
            .all(|port| names.iter().any(|name| name.ends_with(&format!(":{port}"))))
            .then_some(names)
    })
    .await;
    assert!(listed.is_some(), "both instances on the dashboard");
    drop(cluster);
}

#[tokio::test]
async fn stopping_an_instance_under_traffic_loses_no_request_and_no_write() {
    let cluster = Cluster::start().await;
    let base = cluster.url();
    let client = new_client();
    sign_in(&client, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Readers and writers through nginx, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let mut traffic = JoinSet::new();
    for worker in 0..6 {
        let client = client.clone();
        let base = base.clone();
        let stop = stop.clone();
        traffic.spawn(async move {
            let mut failures = Vec::new();
            let mut saved = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                if worker % 2 == 0 {
                    let name = format!("Drain Worker{worker} Number{n}");
                    match save_new(&client, &base, &name).await {
                        Ok(response) if response.status() == 200 => {
                            match response.json::<SaveOutcome>().await {
                                Ok(SaveOutcome::Saved { id }) => saved.push(id),
                                other => failures.push(format!("save {name}: {other:?}")),
                            }
                        }
                        Ok(response) => {
                            failures.push(format!("save {name}: HTTP {}", response.status()))
                        }
                        Err(error) => failures.push(format!("save {name}: {error}")),
                    }
                } else {
                    let response = client
                        .get(format!("{base}/api/search"))
                        .query(&search_for("drain"))
                        .send()
                        .await;
                    match response {
                        Ok(response) if response.status() == 200 => {
                            let _ = response.bytes().await;
                        }
                        Ok(response) => {
                            failures.push(format!("search: HTTP {}", response.status()))
                        }
                        Err(error) => failures.push(format!("search: {error}")),
                    }
                    let contact = client.get(format!("{base}/api/me")).send().await;
                    match contact {
                        Ok(response) if response.status() == 200 => {
                            let _ = response.bytes().await;
                        }
                        Ok(response) => failures.push(format!("me: HTTP {}", response.status())),
                        Err(error) => failures.push(format!("me: {error}")),
                    }
                }
            }
            (failures, saved, n)
        });
    }

    // Let traffic reach both instances, then stop instance 1 as an operator does.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = std::fs::read_to_string(cluster.pid_file(1)).expect("instance 1's pid file");
    let killed = Command::new("kill")
        .args(["-TERM", pid.trim()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let exited = eventually(Duration::from_secs(30), || async {
        let alive = Command::new("kill")
            .args(["-0", pid.trim()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        (!alive).then_some(())
    })
    .await;
    assert!(exited.is_some(), "instance 1 exits after SIGTERM");
    // Traffic goes on against the one instance left.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);

    let mut failures = Vec::new();
    let mut saved = Vec::new();
    let mut requests = 0;
    while let Some(result) = traffic.join_next().await {
        let (mut failed, mut ids, n) = result.expect("a traffic worker");
        failures.append(&mut failed);
        saved.append(&mut ids);
        requests += n;
    }
    assert!(requests > 50, "only {requests} requests were made");
    assert!(
        failures.is_empty(),
        "{} of {requests} requests failed, first: {:#?}\n{}",
        failures.len(),
        &failures[..failures.len().min(10)],
        cluster.logs()
    );
    assert!(
        cluster.log(1).contains("\"message\":\"stopped\""),
        "instance 1 shut down cleanly"
    );

    // Every acknowledged write is in Postgres.
    let db = sqlx::PgPool::connect(&url_for(&cluster.database))
        .await
        .unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts WHERE id = ANY($1)")
        .bind(&saved)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(
        stored as usize,
        saved.len(),
        "every saved contact is stored"
    );
    assert!(!saved.is_empty());
    db.close().await;
    drop(cluster);
}
