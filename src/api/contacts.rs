//! Reading one contact.

use leptos::{prelude::*, server_fn::codec::GetUrl};
use uuid::Uuid;

use crate::{domain::Contact, error::AppError};

/// Every field of one contact; `NotFound` if there is none with this id.
#[server(prefix = "/api", endpoint = "contact", input = GetUrl)]
pub async fn get_contact(id: Uuid) -> Result<Contact, AppError> {
    let cx = crate::server::RequestContext::current()?;
    let result = crate::server::db::contacts::find(&cx.state.db, id)
        .await
        .and_then(|found| found.ok_or(crate::server::error::Error::App(AppError::NotFound)));
    cx.finish(result)
}
