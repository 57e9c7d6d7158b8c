//! `/contacts/{id}/delete`: "Delete this contact?" — the confirmation, as its own page
//! with a plain form post, so it works the same with or without JavaScript (a refusal
//! comes back as the page's notice).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::contacts::{DeleteContact, get_contact},
    domain::RESTORE_DAYS,
    error::AppError,
    ui::{action_url, components::ErrorNotice},
};

#[component]
pub fn DeleteContactPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|params| params.get("id").unwrap_or_default());
    let contact = Resource::new(move || id.clone(), get_contact);
    let action = action_url::<DeleteContact>();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match contact.await {
                    Ok(contact) if contact.deleted_at_micros.is_some() => {
                        let href = format!("/contacts/{}", contact.id);
                        view! {
                            <Title text="Already deleted" />
                            <section class="message-page">
                                <h1>"Already deleted"</h1>
                                <p>{format!("{} has already been deleted.", contact.card.name)}</p>
                                <p><a href=href>"Open it to restore it"</a></p>
                            </section>
                        }
                        .into_any()
                    }
                    Ok(contact) => {
                        let back = format!("/contacts/{}", contact.id);
                        view! {
                            <Title text=format!("Delete {}?", contact.card.name) />
                            <section class="confirm-page">
                                <h1>{format!("Delete {}?", contact.card.name)}</h1>
                                <p>
                                    {format!(
                                        "The contact leaves the directory and search at once. You can restore it from its page for {RESTORE_DAYS} days."
                                    )}
                                </p>
                                <form method="post" action=action>
                                    <input type="hidden" name="id" value=contact.id.to_string() />
                                    <div class="form-actions">
                                        <button type="submit" class="danger">"Delete contact"</button>
                                        <a class="button" href=back>"Cancel"</a>
                                    </div>
                                </form>
                            </section>
                        }
                        .into_any()
                    }
                    Err(AppError::NotFound) => view! {
                        <Title text="Contact not found" />
                        <section class="message-page">
                            <h1>"Contact not found"</h1>
                            <p>"There is no contact at this address."</p>
                        </section>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
