//! SIGTERM: a `roster serve` process refuses new connections at once, lets the
//! request in flight finish, commits the search index and exits with 0.

use std::time::Duration;

use roster::{
    domain::SaveOutcome,
    server::search::{replica::Replica, sync::database_position},
};

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, ServerProcess, TestApp, eventually, new_client, sign_in,
    spawn_app, spawn_process,
};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// `http_server_active_requests` as the process's metrics listener reports it.
async fn active_requests(metrics: &str) -> Option<f64> {
    let text = reqwest::get(metrics).await.ok()?.text().await.ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("http_server_active_requests "))
        .and_then(|value| value.trim().parse().ok())
}

/// Waits until the port refuses new connections (shutdown has begun).
async fn refuses_connections(port: u16) {
    let address = format!("127.0.0.1:{port}");
    eventually(Duration::from_secs(10), || async {
        tokio::net::TcpStream::connect(&address)
            .await
            .is_err()
            .then_some(())
    })
    .await
    .expect("new connections are refused");
}

type Chunk = Result<&'static str, std::io::Error>;

/// A `roster serve` process with `drain_secs` of drain time, and a save sent to it
/// whose body has arrived only as far as `first_part`: in flight, as the server's own
/// `http_server_active_requests` shows, until the rest is sent down `rest`.
struct SlowSave {
    server: ServerProcess,
    rest: tokio::sync::mpsc::Sender<Chunk>,
    answer: tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>,
}

impl SlowSave {
    async fn start(app: &TestApp, drain_secs: u64, first_part: &'static str) -> SlowSave {
        let metrics_port = free_port();
        let metrics = format!("http://127.0.0.1:{metrics_port}/metrics");
        let server = spawn_process(
            app,
            &[
                ("ROSTER_SHUTDOWN_DRAIN_SECS", drain_secs.to_string()),
                ("ROSTER_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}")),
            ],
        )
        .await;
        let client = new_client();
        sign_in(&client, &server.address, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (rest, receive) = tokio::sync::mpsc::channel::<Chunk>(1);
        let answer = tokio::spawn({
            let url = format!("{}/api/save-contact", server.address);
            async move {
                client
                    .post(url)
                    .header("accept", "application/json")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(reqwest::Body::wrap_stream(tokio_stream(receive)))
                    .send()
                    .await
            }
        });
        rest.send(Ok(first_part)).await.unwrap();
        eventually(Duration::from_secs(10), || async {
            (active_requests(&metrics).await? >= 1.0).then_some(())
        })
        .await
        .expect("the save is in flight");
        SlowSave {
            server,
            rest,
            answer,
        }
    }
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_refuses_new_ones_and_commits() {
    let app = spawn_app().await;
    app.seed(20).await;
    let SlowSave {
        mut server,
        rest,
        answer,
    } = SlowSave::start(&app, 60, "name=Ada+Drained&email=ada.drained%40example.com").await;

    server.terminate();
    // New connections are refused once shutdown has begun.
    refuses_connections(server.port).await;

    // The request in flight completes, and is saved.
    rest.send(Ok("&tier=2&tags=&notes=")).await.unwrap();
    drop(rest);
    let response = answer.await.unwrap().expect("the save is answered");
    assert_eq!(response.status(), 200);
    let outcome: SaveOutcome = response.json().await.unwrap();
    assert!(matches!(outcome, SaveOutcome::Saved { .. }), "{outcome:?}");

    let status = server.exited(Duration::from_secs(30)).await;
    assert!(status.success(), "exit status {status:?}");
    // The index holds everything Postgres had at exit, the last save included.
    let (replica, payload) =
        Replica::open_active(&server.data.path().join("index"), Default::default())
            .expect("the index opens")
            .expect("an index was committed");
    assert_eq!(payload.position, database_position(&app.db).await.unwrap());
    assert_eq!(replica.num_docs(), 21);
}

#[tokio::test]
async fn a_request_that_never_finishes_does_not_hold_the_shutdown_past_the_drain_time() {
    let app = spawn_app().await;
    let SlowSave {
        mut server,
        rest,
        answer,
    } = SlowSave::start(&app, 1, "name=Never+Finished").await;

    let started = std::time::Instant::now();
    server.terminate();
    let status = server.exited(Duration::from_secs(20)).await;
    assert!(status.success(), "exit status {status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "stopped {:?} after the signal",
        started.elapsed()
    );
    // The stuck request's connection was closed, not answered.
    assert!(answer.await.unwrap().is_err());
    drop(rest);
}

/// Sends `GET /health` on `connection` and reads the answer's head and body (by its
/// `content-length`): the request a load balancer sends on a connection it keeps open.
async fn health_on(connection: &mut tokio::net::TcpStream) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    connection
        .write_all(b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await?;
    let mut answer = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        let read = connection.read(&mut buffer).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        answer.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if answer.len() >= end + 4 + length {
                return Ok(text);
            }
        }
    }
}

#[tokio::test]
async fn a_connection_kept_open_is_still_answered_as_shutdown_begins_and_told_to_close() {
    let app = spawn_app().await;
    // A grace far longer than this test may take between the listener closing and the
    // next request, however loaded the machine; it ends once the connection closes.
    let mut server = spawn_process(
        &app,
        &[
            ("ROSTER_SHUTDOWN_GRACE_MS", "120000".to_owned()),
            ("ROSTER_SHUTDOWN_DRAIN_SECS", "300".to_owned()),
        ],
    )
    .await;
    let mut connection = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let first = health_on(&mut connection).await.unwrap();
    assert!(first.starts_with("http/1.1 200"), "{first}");
    assert!(!first.contains("connection: close"), "{first}");

    server.terminate();
    refuses_connections(server.port).await;
    // Shutdown has begun. A balancer that sends its next request on the connection it
    // holds gets an answer (not a closed connection it could not retry a POST after),
    // with word to close it.
    let second = health_on(&mut connection)
        .await
        .expect("answered on the open connection");
    assert!(second.starts_with("http/1.1 200"), "{second}");
    assert!(second.contains("connection: close"), "{second}");
    // That answer closed the last open connection: the grace ends there, not minutes on.
    let status = server.exited(Duration::from_secs(30)).await;
    assert!(status.success(), "exit status {status:?}");
}

/// The receiving end of a channel as a stream of body chunks.
fn tokio_stream(
    mut receive: tokio::sync::mpsc::Receiver<Chunk>,
) -> impl futures_util::Stream<Item = Chunk> {
    futures_util::stream::poll_fn(move |cx| receive.poll_recv(cx))
}
