//! Searching the directory.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{
    domain::{SearchPage, SearchQuery},
    error::AppError,
};

/// A page of search results with facet counts. Any query text is valid.
#[server(prefix = "/api", endpoint = "search", input = GetUrl)]
pub async fn search_contacts(query: SearchQuery) -> Result<SearchPage, AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Viewer)?;
    let written = cx.written_position().await;
    let result = match cx
        .answered
        .clone()
        .filter(|answered| answered.answer.page.query == query)
    {
        // A page rendered to be kept shows the answer it is kept by.
        Some(answered) => {
            let started = std::time::Instant::now();
            cx.state
                .search
                .present(answered.into_found(), started)
                .await
        }
        None => cx.state.search.search(query, written).await,
    };
    cx.finish(result)
}
