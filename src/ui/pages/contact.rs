//! `/contacts/{id}`: every field of one contact.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::contacts::{RestoreContact, get_contact, get_contact_history},
    domain::{Contact, HistoryEntry, RESTORE_DAYS, format},
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
    let contact = Resource::new(move || id.clone(), get_contact);
    view! {
        <p class="back">
            <a href="/">"← Directory"</a>
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match contact.await {
                    Ok(contact) => view! { <ContactDetails contact history_tab /> }.into_any(),
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
fn ContactDetails(contact: Contact, history_tab: bool) -> impl IntoView {
    let Contact {
        id,
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
            {banner}
            <header class="contact-header">
                <div>
                    <h1>{name}</h1>
                    {role.map(|role| view! { <p class="contact-role">{role}</p> })}
                </div>
                {actions}
            </header>
            {tabs}
            {history_tab.then(|| view! { <History id=id.to_string() /> })}
            <dl class="contact-fields" hidden=history_tab>
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
fn History(id: String) -> impl IntoView {
    let entries = Resource::new(move || id.clone(), get_contact_history);
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
                                {entries.into_iter().map(|entry| view! { <HistoryItem entry /> }).collect_view()}
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
fn HistoryItem(entry: HistoryEntry) -> impl IntoView {
    let who = entry.actor.unwrap_or_else(|| "Someone".to_owned());
    let changes =
        (!entry.changes.is_empty()).then(|| view! { <ChangeTable changes=entry.changes /> });
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
