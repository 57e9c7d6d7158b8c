//! `/contacts/{id}/merge`: merge another contact into this one. First pick the other
//! (a search), then choose, field by field, which value to keep; lists and tags are
//! united.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{
        contacts::{MergeContacts, get_contact},
        search::search_contacts,
    },
    domain::{
        Card, Contact, Field, SearchQuery,
        merge::{CHOSEN_FIELDS, MergeChoices, UNITED_FIELDS},
    },
    ui::{action_url, components::ErrorNotice},
};

#[component]
pub fn MergePage() -> impl IntoView {
    let id = use_params_map().with_untracked(|p| p.get("id").unwrap_or_default());
    let (with, text) =
        use_query_map().with_untracked(|q| (q.get("with"), q.get("q").unwrap_or_default()));
    let pair = Resource::new(
        move || (id.clone(), with.clone()),
        |(id, with)| async move {
            let keep = get_contact(id).await?;
            let other = match with {
                Some(with) => Some(get_contact(with).await?),
                None => None,
            };
            Ok::<_, crate::error::AppError>((keep, other))
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let text = text.clone();
                Suspend::new(async move {
                match pair.await {
                    Ok((keep, Some(other))) => view! { <SideBySide keep other /> }.into_any(),
                    Ok((keep, None)) => view! { <PickOther keep text=text.clone() /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}}
        </Suspense>
    }
}

/// Find the contact to merge into this one.
#[component]
fn PickOther(keep: Contact, text: String) -> impl IntoView {
    let heading = format!("Merge into {}", keep.card.name);
    let searched = (!text.trim().is_empty()).then(|| text.clone());
    let keep_id = keep.id;
    let results = Resource::new(
        move || searched.clone(),
        |text| async move {
            match text {
                Some(text) => search_contacts(SearchQuery::default().with_text(&text))
                    .await
                    .map(Some),
                None => Ok(None),
            }
        },
    );
    let initial = if text.is_empty() {
        keep.card.name.clone()
    } else {
        text
    };
    view! {
        <Title text=heading.clone() />
        <p class="back"><a href=format!("/contacts/{}", keep.id)>"← Contact"</a></p>
        <h1>{heading}</h1>
        <p>"Find the contact to merge into this one. It will be deleted once merged (and can be restored for 30 days)."</p>
        <form class="search-form" method="get" role="search">
            <label for="merge-q" class="visually-hidden">"Find a contact"</label>
            <input id="merge-q" type="search" name="q" value=initial />
            <button type="submit">"Find"</button>
        </form>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(Some(page)) => {
                        let hits: Vec<_> = page.hits.into_iter().filter(|hit| hit.contact.id != keep_id).collect();
                        if hits.is_empty() {
                            view! { <p class="muted">"No other contact matches."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="merge-candidates">
                                    {hits.into_iter().map(|hit| {
                                        let href = format!("?with={}", hit.contact.id);
                                        let context = [hit.contact.company.clone(), hit.contact.email.clone()]
                                            .into_iter()
                                            .flatten()
                                            .collect::<Vec<_>>()
                                            .join(" · ");
                                        view! {
                                            <li>
                                                <a href=href>{hit.contact.name}</a>
                                                {(!context.is_empty()).then(|| view! { <span class="muted">{format!(" — {context}")}</span> })}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }
                            .into_any()
                        }
                    }
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Both contacts, a choice per field.
#[component]
fn SideBySide(keep: Contact, other: Contact) -> impl IntoView {
    let action = action_url::<MergeContacts>();
    let heading = format!("Merge {} into {}", other.card.name, keep.card.name);
    let suggested = MergeChoices::suggested(&keep.card, &other.card);
    // The lists and tags of both, as the merged contact will hold them.
    let merged = Card::parse(&suggested.merged(&keep.card, &other.card));
    let shown = |value: Option<String>| value.unwrap_or_else(|| "—".to_owned());
    let united = UNITED_FIELDS
        .into_iter()
        .filter_map(|field| {
            let value: String = match &merged {
                Ok(card) => card.field_text(field)?,
                Err(errors) => (field == Field::Emails).then(|| errors.to_string())?,
            };
            Some(view! {
                <tr>
                    <th scope="row">{field.label()}</th>
                    <td colspan="2" class="united">{value}</td>
                </tr>
            })
        })
        .collect_view();
    let rows = CHOSEN_FIELDS
        .into_iter()
        .map(|field| {
            let takes_other = suggested.takes_other(field);
            let (ours, theirs) = (keep.card.field_text(field), other.card.field_text(field));
            let name = field.as_str();
            let keep_id = format!("merge-{name}-keep");
            let other_id = format!("merge-{name}-other");
            view! {
                <tr>
                    <th scope="row">{field.label()}</th>
                    <td>
                        <input type="radio" id=keep_id.clone() name=name value="keep" checked=!takes_other />
                        <label for=keep_id>{shown(ours)}</label>
                    </td>
                    <td>
                        <input type="radio" id=other_id.clone() name=name value="other" checked=takes_other />
                        <label for=other_id>{shown(theirs)}</label>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Title text=heading.clone() />
        <p class="back"><a href=format!("/contacts/{}", keep.id)>"← Contact"</a></p>
        <h1>{heading}</h1>
        <p>{format!("Choose which value to keep for each field. Emails, phones, addresses, links, messaging, dates and tags are combined, so no entry is lost. {} will be deleted (it can be restored for 30 days), and both histories record the merge.", other.card.name)}</p>
        // A plain form post: a refusal (a contact changed meanwhile) comes back as the
        // page's notice.
        <form method="post" action=action class="merge-form">
            <input type="hidden" name="keep" value=keep.id.to_string() />
            <input type="hidden" name="other" value=other.id.to_string() />
            <input type="hidden" name="keep_version" value=keep.version.to_string() />
            <input type="hidden" name="other_version" value=other.version.to_string() />
            <table class="merge-table">
                <thead>
                    <tr>
                        <th scope="col">"Field"</th>
                        <th scope="col">{format!("{} (kept)", keep.card.name)}</th>
                        <th scope="col">{format!("{} (merged away)", other.card.name)}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows}
                    {united}
                </tbody>
            </table>
            <div class="form-actions">
                <button type="submit" class="primary">"Merge"</button>
                <a class="button" href=format!("/contacts/{}", keep.id)>"Cancel"</a>
            </div>
        </form>
    }
}
