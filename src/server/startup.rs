//! Builds the application from its settings: the database pool, the router and the
//! listening socket. Tests use the same path with port 0 and read the bound port back.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use tokio::net::TcpListener;

use super::{config::Config, db, http};

/// What every request handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: PgPool,
    pub config: Arc<Config>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// A built application whose socket is bound but which does not serve yet.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = db::connect(&config).await?;
        if config.migrate_on_start {
            db::migrate(&db).await?;
        }
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("could not listen on {} (ROSTER_LISTEN)", config.listen))?;
        let leptos_options = LeptosOptions::builder()
            .output_name("roster")
            .site_root(config.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(listener.local_addr()?)
            .env(leptos::config::Env::PROD)
            .build();
        let state = AppState {
            leptos_options,
            db,
            config: Arc::new(config),
        };
        let router = http::router(state.clone());
        Ok(Application {
            listener,
            router,
            state,
        })
    }

    /// The port the application listens on (useful when it was asked for port 0).
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|addr| addr.port())
            .unwrap_or_default()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = self.listener.local_addr()?;
        tracing::info!(%address, "serving Roster at http://{address}");
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("the web server stopped with an error")?;
        self.state.db.close().await;
        tracing::info!("stopped");
        Ok(())
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
