//! `/contacts/{id}/delete`: "Delete this contact?" — the confirmation, as its own page so
//! it works the same with or without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::contacts::{DeleteContact, get_contact},
    domain::RESTORE_DAYS,
    error::AppError,
    ui::components::ErrorNotice,
};

#[component]
pub fn DeleteContactPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").unwrap_or_default()));
    let contact = Resource::new(move || id.get(), get_contact);
    let delete = ServerAction::<DeleteContact>::new();
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
                                <p>{format!("{} has already been deleted.", contact.name)}</p>
                                <p><a href=href>"Open it to restore it"</a></p>
                            </section>
                        }
                        .into_any()
                    }
                    Ok(contact) => {
                        let back = format!("/contacts/{}", contact.id);
                        let error = move || delete.value().get().and_then(Result::err);
                        view! {
                            <Title text=format!("Delete {}?", contact.name) />
                            <section class="confirm-page">
                                <h1>{format!("Delete {}?", contact.name)}</h1>
                                <p>
                                    {format!(
                                        "The contact leaves the directory and search at once. You can restore it from its page for {RESTORE_DAYS} days."
                                    )}
                                </p>
                                {move || error().map(|error| view! { <ErrorNotice error /> })}
                                <ActionForm action=delete>
                                    <input type="hidden" name="id" value=contact.id.to_string() />
                                    <div class="form-actions">
                                        <button type="submit" class="danger" disabled=move || delete.pending().get()>
                                            "Delete contact"
                                        </button>
                                        <a class="button" href=back>"Cancel"</a>
                                    </div>
                                </ActionForm>
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
