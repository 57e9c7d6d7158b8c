//! Builds the application from its settings: the database pool, Redis, the search
//! index and its follower, the router and the listening socket. Tests use the same
//! path with port 0 and read the bound port back.

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context as _;
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use secrecy::ExposeSecret as _;

use super::{
    auth::{self, Sessions},
    cache::CacheNamespace,
    config::Config,
    db, http,
    limits::Limiter,
    monitor::{self, Monitor},
    redis,
    rendered::RenderedParts,
    search::{SearchService, sync::Follower},
    state::AppState,
};

/// How long search answers are kept in process (their memory is `search_cache_mb`)
/// and in Redis (the design docs' five minutes).
const SEARCH_MEMORY_TTL: Duration = Duration::from_secs(300);
const SEARCH_REDIS_TTL: Duration = Duration::from_secs(300);

/// How long shutdown waits for the search follower to commit and stop.
const FOLLOWER_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A built application whose socket is bound but which does not serve yet.
pub struct Application {
    listener: TcpListener,
    /// The `/metrics`-only listener, when one is configured.
    metrics_listener: Option<TcpListener>,
    router: axum::Router,
    state: AppState,
    stop_follower: watch::Sender<bool>,
    follower: JoinHandle<()>,
    /// Import jobs, the purge of contacts deleted long ago, metrics upkeep.
    background: JoinHandle<()>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        // Installed before anything records a metric (earlier records would be lost).
        http::metrics::handle();
        crate::server::phones::set_default_region_from(&config);
        let db = db::connect(&config).await?;
        if config.migrate_on_start {
            db::migrate(&db).await?;
        }
        let reads = Arc::new(db::replica::Reads::new(db.clone(), &config)?);
        let redis = match &config.redis_url {
            Some(url) => Some(redis::connect(url)?),
            None => {
                tracing::warn!(
                    "REDIS_URL is not set: sessions, rate limits and caches are kept in this \
                     process only, which is right for a single instance and wrong for several"
                );
                None
            }
        };
        let deployment = auth::sessions::Deployment {
            db: db.clone(),
            directory: crate::server::search::sync::directory_id(&db)
                .await
                .context("reading the directory id")?,
        };
        let sessions = match &config.redis_url {
            Some(url) => Sessions::redis(
                redis::connect_with_timeout(url, redis::SESSION_COMMAND_TIMEOUT)?,
                &config.redis_prefix,
                deployment,
            ),
            None => Sessions::memory(deployment),
        };
        let limiter = Limiter::new(&config, redis.clone());
        auth::users::ensure_admin(
            &db,
            &config.admin_email,
            config
                .admin_password
                .as_ref()
                .map(|secret| secret.expose_secret()),
            &config.data_dir,
        )
        .await
        .context("creating the first admin account")?;
        // The first sign-in should not pay for building the dummy hash.
        tokio::task::spawn_blocking(auth::password::warm_up);
        let metrics_listener = match config.metrics_listen {
            Some(address) => Some(TcpListener::bind(address).await.with_context(|| {
                format!("could not listen on {address} (ROSTER_METRICS_LISTEN)")
            })?),
            None => None,
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("could not listen on {} (ROSTER_LISTEN)", config.listen))?;

        let index = config.search_index();
        let cache = CacheNamespace::new(
            "search",
            redis.clone(),
            config.search_cache_mb * 1024 * 1024,
            SEARCH_MEMORY_TTL,
            SEARCH_REDIS_TTL,
        );
        let search = Arc::new(SearchService::new(index.clone(), cache, db.clone()));
        let (stop_follower, stopped) = watch::channel(false);
        let follower =
            tokio::spawn(Follower::new(db.clone(), index.clone(), stopped.clone()).run());
        let monitor = Monitor::new(
            monitor::instance_name(listener.local_addr()?.port()),
            redis.clone(),
            &config.redis_prefix,
        );
        let background = tokio::spawn({
            let (db, data_dir) = (db.clone(), config.data_dir.clone());
            let max_connections = config.db_max_connections;
            let (sessions, monitor) = (sessions.clone(), monitor.clone());
            let reads = reads.clone();
            async move {
                tokio::join!(
                    crate::server::import::run_jobs(
                        db.clone(),
                        index.clone(),
                        data_dir.clone(),
                        stopped.clone()
                    ),
                    purge_deleted(db.clone(), data_dir, stopped.clone()),
                    http::metrics::upkeep(db, index, sessions, max_connections, stopped.clone()),
                    reads.watch(stopped.clone()),
                    monitor.run(stopped),
                );
            }
        });

        let leptos_options = LeptosOptions::builder()
            .output_name("roster")
            .site_root(config.site_root.as_str())
            .site_pkg_dir("pkg")
            .hash_files(http::assets::hashed())
            .site_addr(listener.local_addr()?)
            .env(leptos::config::Env::PROD)
            .build();
        let pages = Arc::new(http::page_cache::PageCache::new(config.page_cache_mb));
        let rendered = Arc::new(RenderedParts::new(config.page_cache_mb));
        let state = AppState {
            leptos_options,
            db,
            reads,
            redis,
            search,
            config: Arc::new(config),
            health: Arc::default(),
            sessions,
            limiter,
            monitor,
            pages,
            rendered,
            exports: Arc::default(),
        };
        let router = http::router(state.clone());
        Ok(Application {
            listener,
            metrics_listener,
            router,
            state,
            stop_follower,
            follower,
            background,
        })
    }

    /// The port the application listens on (useful when it was asked for port 0).
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|addr| addr.port())
            .unwrap_or_default()
    }

    /// The port of the `/metrics`-only listener, if one is configured.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
            .map(|addr| addr.port())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then refuses new connections, lets requests
    /// in flight finish (for at most `shutdown_drain_secs`), stops the search follower
    /// (which commits) and the background jobs, and closes the pools.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = self.listener.local_addr()?;
        tracing::info!(%address, "serving Roster at http://{address}");
        let (stopping, stopped) = watch::channel(false);
        let drain = self.state.config.shutdown_drain();
        // Shutdown in two steps. First the listener closes (new connections are
        // refused, which a load balancer retries on another instance, a POST too, since
        // nothing was sent) while the connections already open are still served, each
        // answer now telling the peer to close (`Connection: close`). A request that a
        // balancer sends on a kept-alive connection at that moment is answered, not
        // lost. Then, after the grace (or sooner, once every open connection has
        // closed), the server stops reading new requests and the ones in flight get
        // what is left of the drain time.
        let grace = self.state.config.shutdown_grace().min(drain);
        let shutdown = async move {
            shutdown.await;
            let _ = stopping.send(true);
            tracing::info!(
                grace_ms = grace.as_millis() as u64,
                "stopping: refusing new connections, closing open ones as they answer"
            );
        };
        let metrics = self.metrics_listener.map(|listener| {
            let mut stopped = stopped.clone();
            let state = self.state.clone();
            tokio::spawn(async move {
                // A private address: the metrics, and the deep check with its details.
                let router = axum::Router::new()
                    .route("/metrics", axum::routing::get(http::metrics::scrape))
                    .route(
                        "/health/deep",
                        axum::routing::get(http::health::deep_private),
                    )
                    .with_state(state);
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.changed().await;
                    })
                    .await;
            })
        });
        // Once shutdown begins, requests in flight get the drain time to finish; then
        // their connections are dropped and the server stops anyway.
        let drained = {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|stopping| *stopping).await;
                tokio::time::sleep(drain).await;
            }
        };
        let closing = stopped.clone();
        let router = self.router.layer(axum::middleware::map_response(
            move |mut response: axum::response::Response| {
                let closing = *closing.borrow();
                async move {
                    if closing {
                        response.headers_mut().insert(
                            axum::http::header::CONNECTION,
                            axum::http::HeaderValue::from_static("close"),
                        );
                    }
                    response
                }
            },
        ));
        let serving = http::serve::serve(
            self.listener,
            router,
            http::serve::ConnectionLimits::from_config(&self.state.config),
            shutdown,
            grace,
        );
        tokio::select! {
            () = serving => {}
            () = drained => {
                tracing::warn!(
                    drain_secs = drain.as_secs(),
                    "requests still in flight after the drain time; closing their connections"
                );
            }
        };

        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        let _ = self.stop_follower.send(true);
        if tokio::time::timeout(FOLLOWER_STOP_TIMEOUT, self.follower)
            .await
            .is_err()
        {
            tracing::warn!("the search follower did not stop in time");
        }
        // An import stops between batches; the job resumes on the next start.
        if tokio::time::timeout(FOLLOWER_STOP_TIMEOUT, self.background)
            .await
            .is_err()
        {
            tracing::warn!("background jobs did not stop in time");
        }
        self.state.reads.close().await;
        self.state.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Removes, every hour, the contacts deleted longer ago than they can be restored
/// (with their history and photo), import files never started within a day, and
/// photos no contact has shown for a day.
async fn purge_deleted(db: PgPool, data_dir: std::path::PathBuf, mut stop: watch::Receiver<bool>) {
    loop {
        match crate::server::db::contacts::purge_deleted(&db).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged contacts deleted over 30 days ago"),
            Err(error) => tracing::warn!(error = %error, "purging deleted contacts"),
        }
        match crate::server::import::sweep_unstarted(&db, &data_dir).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed import files never started"),
            Err(error) => tracing::warn!(error = %error, "removing import files never started"),
        }
        match crate::server::photos::sweep_unused(&db).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed photos no contact shows"),
            Err(error) => tracing::warn!(error = %error, "removing photos no contact shows"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Completes on Ctrl-C or SIGTERM, whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
