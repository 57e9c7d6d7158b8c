//! Reading the directory.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{
    domain::{DirectoryPage, DirectoryParts, PageRequest, SearchQuery, UpcomingBirthday},
    error::AppError,
};

/// One page of the directory, newest contacts first.
#[server(prefix = "/api", endpoint = "directory", input = GetUrl)]
pub async fn get_directory(page: PageRequest) -> Result<DirectoryPage, AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Viewer)?;
    let result = async {
        let mut conn = cx.read_connection().await?;
        crate::server::db::contacts::directory_page(&mut conn, page).await
    }
    .await;
    cx.finish(result)
}

/// The birthdays of the next 30 days (the server's date, UTC), soonest first.
#[server(prefix = "/api", endpoint = "upcoming-birthdays", input = GetUrl)]
pub async fn get_upcoming_birthdays() -> Result<Vec<UpcomingBirthday>, AppError> {
    use crate::domain::contact::{UPCOMING_BIRTHDAY_DAYS, UPCOMING_BIRTHDAYS_SHOWN};
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Viewer)?;
    let today = time::OffsetDateTime::now_utc().date();
    let result = async {
        let mut conn = cx.read_connection().await?;
        crate::server::db::contacts::upcoming_birthdays(
            &mut *conn,
            today,
            UPCOMING_BIRTHDAY_DAYS,
            UPCOMING_BIRTHDAYS_SHOWN,
        )
        .await
    }
    .await;
    cx.finish(result)
}

/// The directory page's filters and results for `query` (and `page`, when browsing),
/// rendered by the same components as the page: what the search box swaps in as one
/// types or follows a link within them. An error of the search itself is part of what
/// is shown, as on the page.
#[server(prefix = "/api", endpoint = "directory-view", input = GetUrl)]
pub async fn directory_view(
    query: SearchQuery,
    page: PageRequest,
) -> Result<DirectoryParts, AppError> {
    use crate::domain::Role;
    let cx = crate::server::RequestContext::with_role(Role::Viewer)?;
    let can_edit = cx
        .user
        .as_ref()
        .is_some_and(|user| user.role.allows(Role::Editor));
    if query.is_browse() {
        return Ok(cx.state.rendered.browse_parts(query, page, can_edit).await);
    }
    Ok(cx.state.rendered.search_parts(&cx, query, can_edit).await)
}
