//! Companies: a company's page, its form, and names for the contact form's
//! autocomplete.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{
    domain::company::{CompanyInput, CompanyPage},
    error::AppError,
};

/// A company and its people; `NotFound` for an unknown id.
#[server(prefix = "/api", endpoint = "company", input = GetUrl)]
pub async fn get_company(id: String) -> Result<CompanyPage, AppError> {
    use crate::server::db::{companies, replica::Source};
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Viewer)?;
    let result = async {
        let id = uuid::Uuid::try_parse(id.trim()).map_err(|_| AppError::NotFound)?;
        let mut conn = cx.read_connection().await?;
        let mut company = companies::find(&mut *conn, id).await?;
        // A company younger than the replica's lag is on the primary.
        if company.is_none() && conn.source == Source::Replica {
            conn = cx.state.reads.acquire_primary().await?;
            company = companies::find(&mut *conn, id).await?;
        }
        let company = company.ok_or(AppError::NotFound)?;
        let (people, total) = companies::people(&mut conn, id).await?;
        Ok(CompanyPage {
            company,
            people,
            total,
        })
    }
    .await;
    cx.finish(result)
}

/// Saves a company's name, domain, address and notes, and goes back to its page (a
/// refusal comes back as the page's notice without JavaScript).
#[server(prefix = "/api", endpoint = "save-company")]
pub async fn save_company(
    id: String,
    #[server(flatten)] input: CompanyInput,
) -> Result<(), AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Editor)?;
    let result = async {
        let id = uuid::Uuid::try_parse(id.trim()).map_err(|_| AppError::NotFound)?;
        crate::server::companies::save(
            &cx.state.db,
            &cx.state.search.index,
            &cx.actor(),
            id,
            &input,
        )
        .await?;
        cx.note_written().await;
        leptos_axum::redirect(&format!("/companies/{id}"));
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}

/// Company names starting with `prefix`, most people first: the contact form's
/// suggestions.
#[server(prefix = "/api", endpoint = "company-names", input = GetUrl)]
pub async fn company_names(prefix: String) -> Result<Vec<String>, AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Viewer)?;
    let prefix: String = prefix.chars().take(100).collect();
    let result = if prefix.trim().is_empty() {
        Ok(Vec::new())
    } else {
        crate::server::db::companies::names_starting(&cx.state.db, &prefix, 10).await
    };
    cx.finish(result)
}
