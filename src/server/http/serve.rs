//! Serving connections: HTTP/1.1 through hyper, with the limits a server facing the
//! open network needs and `axum::serve` does not offer.
//!
//! - **Header read timeout**: a request's headers must arrive within
//!   `ROSTER_HEADER_READ_TIMEOUT_SECS` of its first byte, else the connection is
//!   closed (a client trickling a byte a second holds nothing for long).
//! - **Idle keep-alive timeout**: a connection with no request for
//!   `ROSTER_KEEP_ALIVE_IDLE_SECS` (counted from its opening or its last answer) is
//!   closed.
//! - **Send timeout**: an answer whose client reads nothing for
//!   `ROSTER_SEND_TIMEOUT_SECS` (the socket's send buffer stays full) has its connection
//!   closed, so a stalled download holds nothing for long.
//! - **Connection limit**: beyond `ROSTER_MAX_CONNECTIONS` open connections, a new one
//!   is answered a short 503 at once and closed, so the process's descriptors and
//!   memory stay bounded whatever arrives.
//!
//! Each connection is watched by its own task, which knows from the socket when a
//! request starts (its first byte after an idle spell) and from the service when one
//! is being answered (a request in flight holds no timer; the request timeout and the
//! export's send timeout bound those).
//!
//! Shutdown is the caller's: when `shutdown` completes, no connection is accepted any
//! more; the open ones are still read from for `grace` (or until they have all closed,
//! if sooner), then each finishes the request it is answering and closes; `serve`
//! returns once all have.

use std::{
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    pin::{Pin, pin},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{Router, body::Body, extract::ConnectInfo};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf},
    net::TcpStream,
    sync::watch,
};
use tower::ServiceExt as _;

/// The limits on connections (see the module's documentation).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub keep_alive_idle: Duration,
    pub send_timeout: Duration,
    pub max_connections: usize,
}

impl ConnectionLimits {
    pub fn from_config(config: &crate::server::config::Config) -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs.max(1)),
            keep_alive_idle: Duration::from_secs(config.keep_alive_idle_secs.max(1)),
            send_timeout: Duration::from_secs(config.send_timeout_secs.max(1)),
            max_connections: config.max_connections.max(1),
        }
    }
}

/// Something that hands out accepted connections (the server's listener).
pub trait Accept: Send {
    fn accept(&mut self) -> impl Future<Output = (TcpStream, SocketAddr)> + Send;
}

impl Accept for tokio::net::TcpListener {
    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        // (axum's listener retries what accept errors it can, such as running out of
        // descriptors, after a pause.)
        axum::serve::Listener::accept(self).await
    }
}

/// Serves `router` on every connection `listener` accepts until `shutdown` completes,
/// keeps serving the open ones for `grace` (ended early once none is open), then lets
/// each connection finish what it is answering; returns once all are closed.
pub async fn serve(
    mut listener: impl Accept,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) {
    // Dropped when shutdown starts: each connection sees it and winds down.
    let (stop_tx, stop_rx) = watch::channel(());
    // Each connection holds a receiver: `closed()` on the sender waits for all.
    let (all_closed_tx, all_closed_rx) = watch::channel(());
    let open = Arc::new(AtomicUsize::new(0));
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        if open.load(Ordering::Relaxed) >= limits.max_connections {
            metrics::counter!("http_server_connections_refused_total").increment(1);
            tokio::spawn(refuse(stream));
            continue;
        }
        let _ = stream.set_nodelay(true);
        let open = OpenConnection::new(open.clone());
        let router = router.clone();
        let stop = stop_rx.clone();
        let closed = all_closed_rx.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, router, limits, stop).await;
            drop(open);
            drop(closed);
        });
    }
    // New connections are refused from here on (a balancer retries them elsewhere).
    drop(listener);
    drop(all_closed_rx);
    tokio::select! {
        () = tokio::time::sleep(grace) => {}
        () = all_closed_tx.closed() => {}
    }
    drop(stop_tx);
    all_closed_tx.closed().await;
}

/// Counts an open connection for as long as it lives.
struct OpenConnection(Arc<AtomicUsize>);

impl OpenConnection {
    fn new(open: Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!("http_server_open_connections").increment(1.0);
        OpenConnection(open)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!("http_server_open_connections").decrement(1.0);
    }
}

/// The answer to a connection over the limit: a plain 503, then close.
async fn refuse(mut stream: TcpStream) {
    const BODY: &str = "Roster is answering as many connections as it may just now. \
                        Please try again in a moment.\n";
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// What a connection is doing, as its watcher sees it.
struct Activity {
    started: Instant,
    /// Requests being answered.
    in_flight: AtomicU32,
    /// A request has begun arriving (bytes read since the connection was last idle).
    reading: AtomicBool,
    /// When the current phase (idle or reading) began, in ms since `started`.
    since_ms: AtomicU64,
    /// Since when writing has waited for the client to read (ms since `started`;
    /// `NOT_BLOCKED` while writes go through).
    write_blocked_since_ms: AtomicU64,
    /// Wakes the watcher when a request begins arriving or writing stalls (its timer is
    /// then shorter).
    changed: tokio::sync::Notify,
}

const NOT_BLOCKED: u64 = u64::MAX;

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Activity {
            started: Instant::now(),
            in_flight: AtomicU32::new(0),
            reading: AtomicBool::new(false),
            since_ms: AtomicU64::new(0),
            write_blocked_since_ms: AtomicU64::new(NOT_BLOCKED),
            changed: tokio::sync::Notify::new(),
        })
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Bytes arrived: if the connection was idle, a request has begun.
    fn read_some(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0 && !self.reading.swap(true, Ordering::AcqRel)
        {
            self.since_ms.store(self.now_ms(), Ordering::Release);
            self.changed.notify_one();
        }
    }

    /// A write went through, or waits for the client to read.
    fn wrote<T>(&self, polled: &Poll<T>) {
        if polled.is_pending() {
            if self.write_blocked_since_ms.load(Ordering::Acquire) == NOT_BLOCKED {
                self.write_blocked_since_ms
                    .store(self.now_ms(), Ordering::Release);
                self.changed.notify_one();
            }
        } else {
            self.write_blocked_since_ms
                .store(NOT_BLOCKED, Ordering::Release);
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.reading.store(false, Ordering::Release);
        InFlight(self.clone())
    }

    /// How long until the connection has overstayed (`None`: it has), given `limits`;
    /// a connection answering a request is looked at again after the shorter limit.
    fn time_left(&self, limits: &ConnectionLimits) -> Option<Duration> {
        let blocked_since = self.write_blocked_since_ms.load(Ordering::Acquire);
        if blocked_since != NOT_BLOCKED {
            let blocked = Duration::from_millis(self.now_ms().saturating_sub(blocked_since));
            return limits
                .send_timeout
                .checked_sub(blocked)
                .filter(|left| !left.is_zero());
        }
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Some(limits.header_read_timeout.min(limits.keep_alive_idle));
        }
        let limit = if self.reading.load(Ordering::Acquire) {
            limits.header_read_timeout
        } else {
            limits.keep_alive_idle
        };
        let elapsed = Duration::from_millis(
            self.now_ms()
                .saturating_sub(self.since_ms.load(Ordering::Acquire)),
        );
        limit.checked_sub(elapsed).filter(|left| !left.is_zero())
    }
}

/// A request being answered, until its response body is done with.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        activity
            .since_ms
            .store(activity.now_ms(), Ordering::Release);
        activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The socket, telling the connection's [`Activity`] when bytes arrive.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read_some();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.activity.wrote(&polled);
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_flush(cx);
        self.activity.wrote(&polled);
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.activity.wrote(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<()>,
) {
    let activity = Activity::new();
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = activity.begin();
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            let answer = router.clone().oneshot(request);
            async move {
                let response = answer
                    .await
                    .unwrap_or_else(|never: Infallible| match never {});
                // The request counts as answered once its body is sent or dropped.
                Ok::<_, Infallible>(response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _answering = &in_flight;
                        frame
                    }))
                }))
            }
        })
    };
    let mut connection = pin!(
        hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            // The watcher below times the headers from their first byte; hyper's own
            // timer would count the idle wait before them too.
            .header_read_timeout(None)
            .serve_connection(io, service)
    );
    let mut stopping = false;
    loop {
        let watch = async {
            loop {
                match activity.time_left(&limits) {
                    Some(left) => {
                        tokio::select! {
                            () = tokio::time::sleep(left) => {}
                            () = activity.changed.notified() => {}
                        }
                    }
                    None => return,
                }
            }
        };
        tokio::select! {
            _ = connection.as_mut() => return,
            () = watch => {
                metrics::counter!("http_server_connections_timed_out_total").increment(1);
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}
