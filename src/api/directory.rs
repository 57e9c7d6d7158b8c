//! Reading the directory.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{
    domain::{DirectoryPage, PageRequest},
    error::AppError,
};

/// One page of the directory, newest contacts first.
#[server(prefix = "/api", endpoint = "directory", input = GetUrl)]
pub async fn get_directory(page: PageRequest) -> Result<DirectoryPage, AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Viewer)?;
    let result = crate::server::db::contacts::directory_page(&cx.state.db, page).await;
    cx.finish(result)
}
