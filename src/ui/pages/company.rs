//! `/companies/{id}`: a company, its people, and (for editors) its form.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::companies::{SaveCompany, get_company},
    domain::{card::link_href, company::CompanyPage as Page, format, search::SearchHit},
    error::AppError,
    ui::{
        action_url,
        components::{ContactTable, ErrorNotice},
    },
};

#[component]
pub fn CompanyPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|params| params.get("id").unwrap_or_default());
    let page = Resource::new(move || id.clone(), get_company);
    view! {
        <p class="back"><a href="/">"← Directory"</a></p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <CompanyDetails page /> }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <Title text="Company not found" />
                        <section class="message-page">
                            <h1>"Company not found"</h1>
                            <p>"There is no company at this address."</p>
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
fn CompanyDetails(page: Page) -> impl IntoView {
    let Page {
        company,
        people,
        total,
    } = page;
    let input = company.to_input();
    let address = company.address.as_ref().map(|a| a.one_line());
    let people_heading = match total {
        1 => "1 person".to_owned(),
        n => format!("{} people", format::count(n)),
    };
    let shown = people.len() as u64;
    let rows: Vec<SearchHit> = people
        .into_iter()
        .map(|contact| SearchHit {
            contact,
            name_highlights: Vec::new(),
            notes_snippet: None,
        })
        .collect();
    let editor = crate::ui::session::can_edit();
    let action = action_url::<SaveCompany>();
    let id = company.id.to_string();
    view! {
        <Title text=company.name.clone() />
        <article class="company-card">
            <header class="contact-header">
                <h1>{company.name.clone()}</h1>
            </header>
            <dl class="contact-fields">
                {company.domain.clone().map(|domain| {
                    let href = link_href(&domain);
                    view! {
                        <dt>"Web"</dt>
                        <dd><a href=href rel="noopener noreferrer nofollow">{domain}</a></dd>
                    }
                })}
                {address.map(|line| view! { <dt>"Address"</dt> <dd>{line}</dd> })}
                {company.notes.clone().map(|notes| view! {
                    <dt>"Notes"</dt>
                    <dd><p class="notes">{notes}</p></dd>
                })}
            </dl>
            <section aria-labelledby="people-heading">
                <h2 id="people-heading">{people_heading}</h2>
                {(shown < total).then(|| view! {
                    <p class="muted">{format!("The first {} by name.", format::count(shown))}</p>
                })}
                <ContactTable rows />
            </section>
            {editor.then(|| view! {
                <details class="company-edit">
                    <summary>"Edit company"</summary>
                    <form method="post" action=action class="contact-form">
                        <input type="hidden" name="id" value=id />
                        <CompanyField name="name" label="Name" value=input.name />
                        <CompanyField name="domain" label="Web domain" value=input.domain />
                        <div class="field-row">
                            <CompanyField name="street" label="Street" value=input.address.street />
                            <CompanyField name="city" label="City" value=input.address.city />
                        </div>
                        <div class="field-row">
                            <CompanyField name="region" label="Region" value=input.address.region />
                            <CompanyField name="postal_code" label="Postal code" value=input.address.postal_code />
                        </div>
                        <CompanyField name="country" label="Country" value=input.address.country />
                        <div class="field">
                            <label for="company-notes">"Notes"</label>
                            <textarea id="company-notes" name="notes" rows="4">
                                {crate::ui::textarea_text(&input.notes)}
                            </textarea>
                        </div>
                        <div class="form-actions">
                            <button type="submit" class="primary">"Save company"</button>
                        </div>
                    </form>
                </details>
            })}
        </article>
    }
}

#[component]
fn CompanyField(name: &'static str, label: &'static str, value: String) -> impl IntoView {
    let id = format!("company-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input type="text" id=id name=name value=value autocomplete="off" />
        </div>
    }
}
