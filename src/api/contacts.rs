//! Reading one contact.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{domain::Contact, error::AppError};

/// Every field of one contact; `NotFound` if there is none with this id (or the id
/// is not one), so the page answers 404 either way.
#[server(prefix = "/api", endpoint = "contact", input = GetUrl)]
pub async fn get_contact(id: String) -> Result<Contact, AppError> {
    use crate::server::{db::contacts, error::Error};
    let cx = crate::server::RequestContext::current()?;
    let result = match uuid::Uuid::try_parse(&id) {
        Ok(id) => contacts::find(&cx.state.db, id)
            .await
            .and_then(|found| found.ok_or(Error::App(AppError::NotFound))),
        Err(_) => Err(Error::App(AppError::NotFound)),
    };
    cx.finish(result)
}
