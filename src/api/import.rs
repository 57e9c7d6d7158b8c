//! Import jobs: read one, change its column mapping (which runs the dry run again),
//! start it. The file itself arrives by a plain form post (`server::http::upload`).

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{domain::import::ImportJob, error::AppError};

/// A job, as its page shows it (polled while it runs).
#[server(prefix = "/api", endpoint = "import-job", input = GetUrl)]
pub async fn get_import_job(id: String) -> Result<ImportJob, AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Editor)?;
    let result = async {
        let id = uuid::Uuid::try_parse(id.trim()).map_err(|_| AppError::NotFound)?;
        crate::server::import::ensure_owner(&cx.state.db, id, cx.signed_in()?).await?;
        let job = crate::server::import::job(&cx.state.db, id).await?;
        // Its importer's searches show the imported contacts from the moment the job
        // is seen done (a finished import has reached this instance's index).
        if job.finished_at_micros.is_some() {
            cx.note_written().await;
        }
        Ok(job)
    }
    .await;
    cx.finish(result)
}

/// Sets the field each column fills (`fields[i]` for column `i`; empty ignores it) and
/// checks the file again with it.
#[server(prefix = "/api", endpoint = "remap-import")]
pub async fn remap_import(
    id: String,
    #[server(default)] fields: Vec<String>,
) -> Result<(), AppError> {
    use crate::domain::import::ColumnMapping;
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Editor)?;
    let result = async {
        let id = uuid::Uuid::try_parse(id.trim()).map_err(|_| AppError::NotFound)?;
        crate::server::import::ensure_owner(&cx.state.db, id, cx.signed_in()?).await?;
        let mapping = ColumnMapping::from_targets(&fields);
        crate::server::import::remap(
            &cx.state.db,
            &cx.state.config.data_dir,
            id,
            mapping,
            crate::server::import::ImportLimits::from_config(&cx.state.config),
        )
        .await?;
        leptos_axum::redirect(&format!("/import/{id}"));
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}

/// Commits a checked job in the background.
#[server(prefix = "/api", endpoint = "start-import")]
pub async fn start_import(id: String) -> Result<(), AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Editor)?;
    let result = async {
        let id = uuid::Uuid::try_parse(id.trim()).map_err(|_| AppError::NotFound)?;
        crate::server::import::ensure_owner(&cx.state.db, id, cx.signed_in()?).await?;
        crate::server::import::start(&cx.state.db, id).await?;
        tracing::info!(job = %id, user = %cx.signed_in()?.id, security_event = "import_started", "import started");
        leptos_axum::redirect(&format!("/import/{id}"));
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}

/// The latest imports, newest first, to return to one (a running one keeps running
/// whether or not its page is open).
#[server(prefix = "/api", endpoint = "recent-imports", input = GetUrl)]
pub async fn recent_imports() -> Result<Vec<ImportJob>, AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Editor)?;
    let result =
        async { crate::server::import::recent(&cx.state.db, cx.signed_in()?, 10).await }.await;
    cx.finish(result)
}
