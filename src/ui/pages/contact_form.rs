//! `/contacts/new` and `/contacts/{id}/edit`: the contact form.
//!
//! A plain form post without JavaScript (see `api::contacts`); the form itself is an
//! island (`islands::ContactFormView`) that, hydrated, runs the same rules in the
//! browser before anything is sent and shows the server's answer in place.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::contacts::get_contact_form,
    error::AppError,
    ui::{components::ErrorNotice, islands::ContactFormView},
};

#[component]
pub fn ContactFormPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|params| params.get("id"));
    let draft = use_query_map().with_untracked(|query| query.get("draft"));
    let form = Resource::new(
        move || (id.clone(), draft.clone()),
        |(id, draft)| get_contact_form(id, draft),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(form) => {
                        let heading = match &form.saved_name {
                            Some(name) => format!("Edit {name}"),
                            None => "New contact".to_owned(),
                        };
                        let back = match form.id {
                            Some(id) => view! { <a href=format!("/contacts/{id}")>"← Contact"</a> }.into_any(),
                            None => view! { <a href="/">"← Directory"</a> }.into_any(),
                        };
                        view! {
                            <Title text=heading.clone() />
                            <p class="back">{back}</p>
                            <h1>{heading}</h1>
                            <ContactFormView form />
                        }
                        .into_any()
                    }
                    Err(AppError::NotFound) => view! {
                        <Title text="Contact not found" />
                        <section class="message-page">
                            <h1>"Contact not found"</h1>
                            <p>"There is no contact to edit at this address. It may have been deleted."</p>
                            <p><a href="/">"Back to the directory"</a></p>
                        </section>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
