//! The contact form (`/contacts/new`, `/contacts/{id}/edit`), an island.
//!
//! The server renders it with the values to edit (or what a refused plain post left),
//! so it works as a plain form post without JavaScript. Hydrated, the shared rules
//! (`ContactDraft::parse`) run before anything is sent, and the server's answer (errors
//! beside their fields, a conflict, a possible duplicate) shows in place, the input
//! untouched; a save goes on to the contact's page (the server function redirects).

use leptos::{ev::SubmitEvent, form::FromFormData, html, prelude::*};

use super::mark_hydrated;
use crate::{
    api::contacts::SaveContact,
    domain::{ContactDraft, Field, SaveOutcome, Tier, edit::ContactForm, format},
    error::AppError,
    ui::{
        action_url,
        components::{ChangeTable, ErrorNotice},
    },
};

#[island(lazy)]
pub fn ContactFormView(form: ContactForm) -> impl IntoView {
    let root = NodeRef::<html::Form>::new();
    mark_hydrated(root);
    let ContactForm {
        id,
        saved_name: _,
        input,
        version,
        outcome: stashed,
    } = form;
    let save = ServerAction::<SaveContact>::new();
    let outcome = RwSignal::new(stashed);
    let failure = RwSignal::new(None::<AppError>);
    Effect::new(move |_| match save.value().get() {
        Some(Ok(SaveOutcome::Saved { .. })) | None => {}
        Some(Ok(refused)) => outcome.set(Some(refused)),
        Some(Err(error)) => failure.set(Some(error)),
    });

    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        failure.set(None);
        match SaveContact::from_event(&event) {
            Ok(args) => match ContactDraft::parse(&args.input) {
                Err(errors) => outcome.set(Some(SaveOutcome::Invalid { errors })),
                Ok(_) => {
                    save.dispatch(args);
                }
            },
            Err(_) => failure.set(Some(AppError::BadRequest(
                "The form could not be read. Please reload the page and try again.".into(),
            ))),
        }
    };

    // After a conflict the form moves to the version it was refused against, so saving
    // again overwrites knowingly.
    let version_value = move || {
        outcome
            .with(|outcome| match outcome {
                Some(SaveOutcome::Conflict { version, .. }) => Some(*version),
                _ => version,
            })
            .map(|version| version.to_string())
            .unwrap_or_default()
    };
    let error_for = move |field: Field| {
        Signal::derive(move || {
            outcome.with(|outcome| {
                outcome
                    .as_ref()
                    .and_then(SaveOutcome::field_errors)
                    .and_then(|errors| errors.get(field))
                    .map(str::to_owned)
            })
        })
    };

    let cancel_href = id.map_or_else(|| "/".to_owned(), |id| format!("/contacts/{id}"));
    let action = action_url::<SaveContact>();
    let tier_now = if input.tier.trim().is_empty() {
        "4".to_owned()
    } else {
        input.tier.trim().to_owned()
    };

    view! {
        <form
            node_ref=root
            class="contact-form"
            method="post"
            action=action
            novalidate
            on:submit=on_submit
        >
            {move || failure.get().map(|error| view! { <ErrorNotice error /> })}
            {move || outcome.get().map(|outcome| view! { <OutcomeNotice outcome /> })}
            {id.map(|id| view! { <input type="hidden" name="id" value=id.to_string() /> })}
            <input type="hidden" name="version" prop:value=version_value value=version_value />
            <TextField field=Field::Name value=input.name error=error_for(Field::Name) required=true />
            <div class="field-row">
                <TextField field=Field::Email value=input.email error=error_for(Field::Email) kind="email" />
                <TextField field=Field::Phone value=input.phone error=error_for(Field::Phone) kind="tel" />
            </div>
            <div class="field-row">
                <TextField field=Field::Company value=input.company error=error_for(Field::Company) />
                <TextField field=Field::Title value=input.title error=error_for(Field::Title) />
            </div>
            <div class="field-row">
                <TextField field=Field::Location value=input.location error=error_for(Field::Location) />
                <TierField value=tier_now error=error_for(Field::Tier) />
            </div>
            <TextField
                field=Field::Tags
                value=input.tags
                error=error_for(Field::Tags)
                hint="Separate tags with commas, like: investor, rust, berlin"
            />
            <NotesField value=input.notes error=error_for(Field::Notes) />
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
                {move || {
                    outcome
                        .with(|outcome| matches!(outcome, Some(SaveOutcome::PossibleDuplicates { .. })))
                        .then(|| view! { <button type="submit" name="confirm" value="1">"Save anyway"</button> })
                }}
                <a class="button" href=cancel_href>"Cancel"</a>
            </div>
        </form>
    }
}

fn field_id(field: Field) -> String {
    format!("field-{}", field.as_str())
}

/// A labelled one-line field, with its error (if any) beside it.
#[component]
fn TextField(
    field: Field,
    value: String,
    error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let id = field_id(field);
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.with(Option::is_some) {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:invalid=move || error.with(Option::is_some)>
            <label for=id.clone()>
                {field.label()}
                {required.then_some(view! { <span class="required" aria-hidden="true">" *"</span> })}
            </label>
            <input
                type=kind
                id=id
                name=field.as_str()
                value=value
                aria-required=required.then_some("true")
                aria-invalid=move || error.with(Option::is_some).then_some("true")
                aria-describedby=described
                autocomplete="off"
            />
            {hint.map(|hint| view! { <p class="field-hint" id=hint_id>{hint}</p> })}
            <FieldError id=error_id error />
        </div>
    }
}

#[component]
fn TierField(value: String, error: Signal<Option<String>>) -> impl IntoView {
    let id = field_id(Field::Tier);
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:invalid=move || error.with(Option::is_some)>
            <label for=id.clone()>{Field::Tier.label()}</label>
            <select
                id=id
                name="tier"
                aria-invalid=move || error.with(Option::is_some).then_some("true")
                aria-describedby={
                    let error_id = error_id.clone();
                    move || error.with(Option::is_some).then(|| error_id.clone())
                }
            >
                {Tier::ALL
                    .into_iter()
                    .map(|tier| {
                        let number = tier.get().to_string();
                        let selected = number == value;
                        view! {
                            <option value=number.clone() selected=selected>
                                {format!("{number} · {}", tier.label())}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <FieldError id=error_id error />
        </div>
    }
}

#[component]
fn NotesField(value: String, error: Signal<Option<String>>) -> impl IntoView {
    let id = field_id(Field::Notes);
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:invalid=move || error.with(Option::is_some)>
            <label for=id.clone()>{Field::Notes.label()}</label>
            <textarea
                id=id
                name="notes"
                rows="6"
                aria-invalid=move || error.with(Option::is_some).then_some("true")
                aria-describedby={
                    let error_id = error_id.clone();
                    move || error.with(Option::is_some).then(|| error_id.clone())
                }
            >
                {crate::ui::textarea_text(&value)}
            </textarea>
            <FieldError id=error_id error />
        </div>
    }
}

#[component]
fn FieldError(id: String, error: Signal<Option<String>>) -> impl IntoView {
    move || {
        error.get().map(|message| {
            view! { <p class="field-error" id=id.clone()>{message}</p> }
        })
    }
}

/// Why the last save was refused, with what the person needs to decide what next.
#[component]
fn OutcomeNotice(outcome: SaveOutcome) -> impl IntoView {
    let message = outcome.message();
    let details = match outcome {
        SaveOutcome::Conflict {
            changes, at_micros, ..
        } => Some(
            view! {
                <p class="notice-detail">{format!("Changed on {}:", format::date(at_micros))}</p>
                <ChangeTable changes />
            }
            .into_any(),
        ),
        SaveOutcome::DuplicateEmail { existing } => {
            let href = format!("/contacts/{}", existing.id);
            Some(view! { <p><a href=href>{format!("Open {}", existing.name)}</a></p> }.into_any())
        }
        SaveOutcome::PossibleDuplicates { matches } => Some(
            view! {
                <ul class="duplicate-list">
                    {matches
                        .into_iter()
                        .map(|contact| {
                            let href = format!("/contacts/{}", contact.id);
                            let context = [contact.company.clone(), contact.email.clone()]
                                .into_iter()
                                .flatten()
                                .collect::<Vec<_>>()
                                .join(" · ");
                            view! {
                                <li>
                                    <a href=href>{contact.name}</a>
                                    {(!context.is_empty()).then(|| view! { <span class="muted">{format!(" — {context}")}</span> })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any(),
        ),
        _ => None,
    };
    view! {
        <div class="notice notice-error form-outcome" role="alert">
            <p>{message}</p>
            {details}
        </div>
    }
}
