//! `/contacts/{id}`: every field of one contact.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::contacts::get_contact,
    domain::{Contact, format},
    error::AppError,
    ui::components::ErrorNotice,
};

#[component]
pub fn ContactPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").unwrap_or_default()));
    let contact = Resource::new(move || id.get(), get_contact);
    view! {
        <p class="back">
            <a href="/">"← Directory"</a>
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match contact.await {
                    Ok(contact) => view! { <ContactDetails contact /> }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <Title text="Contact not found" />
                        <section class="message-page">
                            <h1>"Contact not found"</h1>
                            <p>"There is no contact at this address. It may have been deleted."</p>
                        </section>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ContactDetails(contact: Contact) -> impl IntoView {
    let Contact {
        id: _,
        name,
        email,
        phone,
        company,
        title,
        location,
        tier,
        tags,
        notes,
        created_at_micros,
        updated_at_micros,
        version: _,
    } = contact;
    let role = match (&title, &company) {
        (Some(title), Some(company)) => Some(format!("{title} at {company}")),
        (Some(only), None) | (None, Some(only)) => Some(only.clone()),
        (None, None) => None,
    };
    let field = |label: &'static str, value: Option<AnyView>| {
        value.map(|value| view! { <dt>{label}</dt> <dd>{value}</dd> })
    };
    view! {
        <Title text=name.clone() />
        <article class="contact-card">
            <header class="contact-header">
                <h1>{name}</h1>
                {role.map(|role| view! { <p class="contact-role">{role}</p> })}
            </header>
            <dl class="contact-fields">
                {field("Email", email.map(|email| {
                    let href = format!("mailto:{email}");
                    view! { <a href=href>{email}</a> }.into_any()
                }))}
                {field("Phone", phone.map(|phone| {
                    let href = format!("tel:{}", phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect::<String>());
                    view! { <a href=href>{phone}</a> }.into_any()
                }))}
                {field("Company", company.map(|company| company.into_any()))}
                {field("Title", title.map(|title| title.into_any()))}
                {field("Location", location.map(|location| location.into_any()))}
                {field("Tier", Some(view! {
                    <span class=format!("tier tier-{}", tier.get())>{format!("T{}", tier.get())}</span>
                    " " {tier.label()}
                }.into_any()))}
                {field("Tags", (!tags.is_empty()).then(|| view! {
                    <ul class="tags">{tags.into_iter().map(|tag| view! { <li class="tag">{tag}</li> }).collect_view()}</ul>
                }.into_any()))}
                {field("Notes", notes.map(|notes| view! { <p class="notes">{notes}</p> }.into_any()))}
                {field("Added", Some(format::date(created_at_micros).into_any()))}
                {field("Updated", Some(format::date(updated_at_micros).into_any()))}
            </dl>
        </article>
    }
}
