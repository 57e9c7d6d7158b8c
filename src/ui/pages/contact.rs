//! `/contacts/{id}`: every field of one contact.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{
        contacts::{RestoreContact, get_contact, get_contact_history, get_contact_relations},
        custom_fields::custom_fields,
    },
    domain::{
        Card, Contact, HistoryEntry, RESTORE_DAYS,
        card::{Address, label_text, link_href},
        contact::RelatedPerson,
        custom::{CustomField, CustomValue},
        format,
    },
    error::AppError,
    ui::{
        action_url,
        components::{ChangeTable, ErrorNotice},
    },
};

#[component]
pub fn ContactPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|params| params.get("id").unwrap_or_default());
    let history_tab =
        use_query_map().with_untracked(|query| query.get("tab").as_deref() == Some("history"));
    let relations = {
        let id = id.clone();
        Resource::new(move || id.clone(), get_contact_relations)
    };
    let contact = Resource::new(move || id.clone(), get_contact);
    let fields = Resource::new(|| (), |_| custom_fields());
    view! {
        <p class="back">
            <a href="/">"← Directory"</a>
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (contact.await, fields.await) {
                    (Ok(contact), Ok(fields)) => {
                        let related_to = relations.await.unwrap_or_default();
                        view! { <ContactDetails contact fields related_to history_tab /> }.into_any()
                    }
                    (Err(AppError::NotFound), _) => view! {
                        <Title text="Contact not found" />
                        <section class="message-page">
                            <h1>"Contact not found"</h1>
                            <p>"There is no contact at this address. It may have been deleted."</p>
                        </section>
                    }
                    .into_any(),
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ContactDetails(
    contact: Contact,
    fields: Vec<CustomField>,
    related_to: Vec<RelatedPerson>,
    history_tab: bool,
) -> impl IntoView {
    let Contact {
        id,
        card,
        company_id,
        company_domain: _,
        created_at_micros,
        updated_at_micros,
        version: _,
        deleted_at_micros,
    } = contact;
    let base = format!("/contacts/{id}");
    let tabs = {
        let base = base.clone();
        view! {
            <nav class="tabs" aria-label="Contact sections">
                <a href=base.clone() aria-current=(!history_tab).then_some("page")>"Details"</a>
                <a href=format!("{base}?tab=history") aria-current=history_tab.then_some("page")>"History"</a>
            </nav>
        }
    };
    let editor = crate::ui::session::can_edit();
    let actions = (deleted_at_micros.is_none() && editor).then(|| {
        view! {
            <div class="contact-actions">
                <a class="button" href=format!("{base}/edit")>"Edit"</a>
                <a class="button" href=format!("{base}/vcard") download rel="external">"vCard"</a>
                <a class="button" href=format!("{base}/merge")>"Merge…"</a>
                <a class="button danger" href=format!("{base}/delete")>"Delete"</a>
            </div>
        }
    });
    let banner = deleted_at_micros.map(|deleted_at| {
        view! { <DeletedBanner id=id.to_string() deleted_at /> }
    });
    let company_line = match (&card.company, &card.department) {
        (Some(company), Some(department)) => Some(format!("{company}, {department}")),
        (Some(only), None) | (None, Some(only)) => Some(only.clone()),
        (None, None) => None,
    };
    let role = match (&card.title, company_line) {
        (Some(title), Some(company)) => Some(format!("{title} at {company}")),
        (Some(title), None) => Some(title.clone()),
        (None, company) => company,
    };
    // The company's own page, with everyone who works there.
    let company_link = company_id
        .zip(card.company.clone())
        .map(|(company_id, name)| {
            view! {
                <dt>"Company"</dt>
                <dd><a href=format!("/companies/{company_id}") class="company-link">{name}</a></dd>
            }
        });
    let parts = card.name_parts.clone();
    let also = [
        parts.nickname.clone().map(|n| format!("“{n}”")),
        parts.pronouns.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let field = |label: &'static str, value: Option<AnyView>| {
        value.map(|value| view! { <dt>{label}</dt> <dd>{value}</dd> })
    };
    let name = card.name.clone();
    let initials = initials(&name);
    let Card {
        emails,
        phones,
        addresses,
        links,
        ims,
        birthday,
        dates,
        tier,
        tags,
        notes,
        custom,
        photo: card_photo,
        related,
        extras,
        ..
    } = card;
    // The people this contact names, then those who name it (once each: a spouse
    // both name each other).
    let mut people: Vec<(Option<String>, AnyView)> = related
        .iter()
        .map(|r| {
            let shown = match r.contact {
                Some(other) => {
                    view! { <a href=format!("/contacts/{other}")>{r.value.clone()}</a> }.into_any()
                }
                None => r.value.clone().into_any(),
            };
            (r.label.clone(), shown)
        })
        .collect();
    for person in related_to
        .into_iter()
        .filter(|person| !related.iter().any(|r| r.contact == Some(person.id)))
    {
        people.push((
            Some(person.label),
            view! { <a href=format!("/contacts/{}", person.id)>{person.name}</a> }.into_any(),
        ));
    }
    // The live fields' values, in the fields' order (a retired field's value is kept
    // but not shown).
    let custom_rows = fields
        .iter()
        .filter(|field| !field.retired)
        .filter_map(|field| {
            let value = custom.get(&field.id)?;
            let shown = match value {
                CustomValue::Url(url) => {
                    let href = link_href(url);
                    view! { <a href=href rel="noopener noreferrer nofollow">{url.clone()}</a> }.into_any()
                }
                CustomValue::Choices(chosen) => view! {
                    <ul class="tags">{chosen.iter().map(|c| view! { <li class="tag">{c.clone()}</li> }).collect_view()}</ul>
                }
                .into_any(),
                other => other.display().into_any(),
            };
            Some(view! { <dt>{field.name.clone()}</dt> <dd data-custom=field.name.clone()>{shown}</dd> })
        })
        .collect_view();
    let full_name = {
        let spelled = parts.display_name();
        let phonetic = [parts.phonetic_given.clone(), parts.phonetic_family.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let mut lines = Vec::new();
        if !spelled.is_empty() && spelled != name {
            lines.push(spelled);
        }
        if !phonetic.is_empty() {
            lines.push(format!("Pronounced {phonetic}"));
        }
        (!lines.is_empty()).then(|| lines.join(" — "))
    };
    view! {
        <Title text=name.clone() />
        <article class="contact-card">
            {banner}
            <header class="contact-header">
                <div class="contact-identity">
                    {match card_photo {
                        Some(hash) => view! {
                            <img class="avatar avatar-photo" src=format!("/photos/{hash}-384.jpg") alt="" width="96" height="96" />
                        }.into_any(),
                        None => view! { <span class="avatar" aria-hidden="true">{initials}</span> }.into_any(),
                    }}
                    <div>
                        <h1>{name}</h1>
                        {(!also.is_empty()).then(|| view! { <p class="contact-also">{also}</p> })}
                        {role.map(|role| view! { <p class="contact-role">{role}</p> })}
                    </div>
                </div>
                {actions}
            </header>
            {tabs}
            {history_tab.then(|| view! { <History id=id.to_string() fields=fields.clone() /> })}
            <dl class="contact-fields" hidden=history_tab>
                {field("Full name", full_name.map(|name| name.into_any()))}
                {company_link}
                {field("Email", entries(emails.into_iter().map(|e| {
                    let address = e.value.as_str().to_owned();
                    let href = format!("mailto:{address}");
                    (e.label, view! { <a href=href>{address}</a> }.into_any())
                }).collect()))}
                {field("Phone", entries(phones.into_iter().map(|p| {
                    let dial = p.e164.clone().unwrap_or_else(|| {
                        p.value.as_str().chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
                    });
                    let href = format!("tel:{dial}");
                    (p.label, view! { <a href=href>{p.value.as_str().to_owned()}</a> }.into_any())
                }).collect()))}
                {field("Address", entries(addresses.into_iter().map(|a| {
                    let lines = address_lines(&a);
                    (a.label.clone(), view! {
                        <address>{lines.into_iter().map(|line| view! { <span class="address-line">{line}</span> }).collect_view()}</address>
                    }.into_any())
                }).collect()))}
                {field("Link", entries(links.into_iter().map(|l| {
                    let href = link_href(&l.value);
                    (l.label, view! { <a href=href rel="noopener noreferrer nofollow">{l.value}</a> }.into_any())
                }).collect()))}
                {field("Messaging", entries(ims.into_iter().map(|i| (i.label, i.value.into_any())).collect()))}
                {field("Related", entries(people))}
                {field("Birthday", birthday.map(|date| date.display().into_any()))}
                {field("Date", entries(dates.into_iter().map(|d| (d.label, d.value.display().into_any())).collect()))}
                {field("Tier", Some(view! {
                    <span class=format!("tier tier-{}", tier.get())>{format!("T{}", tier.get())}</span>
                    " " {tier.label()}
                }.into_any()))}
                {field("Tags", (!tags.is_empty()).then(|| view! {
                    <ul class="tags">{tags.into_iter().map(|tag| view! { <li class="tag">{tag}</li> }).collect_view()}</ul>
                }.into_any()))}
                {field("Notes", notes.map(|notes| view! { <p class="notes">{notes}</p> }.into_any()))}
                {custom_rows}
                {field("Other vCard data", (!extras.is_empty()).then(|| view! {
                    <details class="extras">
                        <summary>{format!("{} propert{} from an imported card", extras.len(), if extras.len() == 1 { "y" } else { "ies" })}</summary>
                        <ul>{extras.into_iter().map(|line| {
                            let shown: String = line.chars().take(300).collect();
                            view! { <li><code>{shown}</code></li> }
                        }).collect_view()}</ul>
                    </details>
                }.into_any()))}
                {field("Added", Some(format::date(created_at_micros).into_any()))}
                {field("Updated", Some(format::date(updated_at_micros).into_any()))}
            </dl>
        </article>
    }
}

/// A list's entries, each with its label; the first marked primary when there are
/// several. `None` for an empty list.
fn entries(entries: Vec<(Option<String>, AnyView)>) -> Option<AnyView> {
    let several = entries.len() > 1;
    (!entries.is_empty()).then(|| {
        view! {
            <ul class="entries">
                {entries
                    .into_iter()
                    .enumerate()
                    .map(|(at, (label, value))| {
                        view! {
                            <li>
                                {value}
                                {label.map(|label| view! { <span class="entry-label">{label_text(&label)}</span> })}
                                {(several && at == 0).then(|| view! { <span class="entry-primary">"primary"</span> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    })
}

/// An address as it is written on an envelope.
fn address_lines(address: &Address) -> Vec<String> {
    let locality = [
        address.postal_code.as_deref(),
        address.city.as_deref(),
        address.region.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    [
        address.street.clone(),
        address.extended.clone(),
        (!locality.is_empty()).then_some(locality),
        address.country_name().map(str::to_owned),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Up to two letters for the avatar: the first letters of the first and last words.
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let first = |word: &&str| word.chars().next().into_iter().flat_map(char::to_uppercase);
    match words.as_slice() {
        [] => String::new(),
        [only] => first(only).collect(),
        [head, .., last] => first(head).chain(first(last)).collect(),
    }
}

/// "Deleted on …", and the way back while there is one (a plain form post: a refusal
/// comes back as the page's notice).
#[component]
fn DeletedBanner(id: String, deleted_at: i64) -> impl IntoView {
    let until = deleted_at + RESTORE_DAYS * 86_400_000_000;
    let action = action_url::<RestoreContact>();
    view! {
        <div class="notice notice-warning deleted-banner" role="status">
            <p>
                {format!(
                    "This contact was deleted on {}. It is not in the directory or in search, and can be restored until {}.",
                    format::date(deleted_at),
                    format::date(until),
                )}
            </p>
            {crate::ui::session::can_edit().then(|| view! {
                <form method="post" action=action>
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="primary">"Restore"</button>
                </form>
            })}
        </div>
    }
}

/// The contact's changes, newest first.
#[component]
fn History(id: String, fields: Vec<CustomField>) -> impl IntoView {
    let entries = Resource::new(move || id.clone(), get_contact_history);
    let fields = StoredValue::new(fields);
    view! {
        <section class="history" aria-label="History">
            <Suspense fallback=|| view! { <p class="loading">"Loading history…"</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(entries) if entries.is_empty() => view! {
                            <p class="muted">"No changes recorded yet."</p>
                        }
                        .into_any(),
                        Ok(entries) => view! {
                            <ol class="history-list">
                                {entries.into_iter().map(|entry| view! { <HistoryItem entry fields=fields.get_value() /> }).collect_view()}
                            </ol>
                        }
                        .into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn HistoryItem(entry: HistoryEntry, fields: Vec<CustomField>) -> impl IntoView {
    let who = entry.actor.unwrap_or_else(|| "Someone".to_owned());
    let changes =
        (!entry.changes.is_empty()).then(|| view! { <ChangeTable changes=entry.changes fields /> });
    view! {
        <li class="history-entry">
            <p>
                <strong>{entry.action.label()}</strong>
                {format!(" by {who} on {}", format::date(entry.at_micros))}
            </p>
            {changes}
        </li>
    }
}
