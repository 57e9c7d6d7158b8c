//! The contact form (`/contacts/new`, `/contacts/{id}/edit`), an island.
//!
//! The server renders it with the values to edit (or what a refused plain post left),
//! so it works as a plain form post without JavaScript. Hydrated, the shared rules
//! (`Card::parse`) run before anything is sent, and the server's answer (errors
//! beside their fields, a conflict, a possible duplicate) shows in place, the input
//! untouched; a save goes on to the contact's page (the server function redirects).

use leptos::{ev::SubmitEvent, form::FromFormData, html, prelude::*};

use super::mark_hydrated;
use crate::{
    api::{companies::company_names, contacts::SaveContact},
    domain::{
        Card, Field, FieldErrors, SaveOutcome, Tier,
        card::{
            ADDRESS_LABELS, AddressInput, DATE_LABELS, EMAIL_LABELS, EntryInput, IM_LABELS,
            LINK_LABELS, MAX_ENTRIES, PHONE_LABELS, RELATED_LABELS, RowOp, move_row,
        },
        countries::COUNTRIES,
        custom::{self, CustomField, CustomKind},
        edit::ContactForm,
        format,
    },
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
        fields,
    } = form;
    let custom_fields = StoredValue::new(fields.clone());
    let save = ServerAction::<SaveContact>::new();
    let outcome = RwSignal::new(stashed);
    let failure = RwSignal::new(None::<AppError>);
    Effect::new(move |_| match save.value().get() {
        Some(Ok(SaveOutcome::Saved { .. } | SaveOutcome::RowsChanged)) | None => {}
        Some(Ok(refused)) => outcome.set(Some(refused)),
        Some(Err(error)) => failure.set(Some(error)),
    });

    let photo_file = NodeRef::<html::Input>::new();
    let on_submit = move |event: SubmitEvent| {
        failure.set(None);
        // A photo chosen goes with the form as the browser posts it (multipart), once
        // the rules pass: the server reads it before the save.
        let photo_chosen = photo_file
            .get_untracked()
            .is_some_and(|input| !input.value().is_empty());
        match SaveContact::from_event(&event) {
            Ok(args) => {
                match custom_fields.with_value(|fields| Card::parse_with(&args.input, fields)) {
                    Err(errors) => {
                        event.prevent_default();
                        outcome.set(Some(SaveOutcome::Invalid { errors }));
                    }
                    Ok(_) if photo_chosen => {}
                    Ok(_) => {
                        event.prevent_default();
                        save.dispatch(args);
                    }
                }
            }
            Err(_) => {
                event.prevent_default();
                failure.set(Some(AppError::BadRequest(
                    "The form could not be read. Please reload the page and try again.".into(),
                )));
            }
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
    let errors = Signal::derive(move || {
        outcome.with(|outcome| {
            outcome
                .as_ref()
                .and_then(SaveOutcome::field_errors)
                .cloned()
        })
    });
    let error_for = move |field: Field| {
        Signal::derive(move || {
            errors.with(|errors| {
                errors
                    .as_ref()
                    .and_then(|e| e.get(field))
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
    // The rarer name parts open by themselves when they hold something.
    let more_names = [
        &input.prefix,
        &input.middle,
        &input.suffix,
        &input.nickname,
        &input.phonetic_given,
        &input.phonetic_family,
        &input.pronouns,
    ]
    .iter()
    .any(|value| !value.trim().is_empty())
        || input.file_as == "family";
    // Emails and phones show one empty row to type into; the other lists start with
    // their "Add" button.
    let with_blank = |mut rows: Vec<EntryInput>| {
        if rows.is_empty() {
            rows.push(EntryInput::default());
        }
        rows
    };
    let part = |field: Field, value: &String| {
        view! { <TextField field value=value.clone() error=error_for(field) /> }
    };

    view! {
        <form
            node_ref=root
            class="contact-form"
            method="post"
            action=action
            enctype="multipart/form-data"
            novalidate
            on:submit=on_submit
        >
            {move || failure.get().map(|error| view! { <ErrorNotice error /> })}
            {move || outcome.get().and_then(|outcome| outcome.message().map(|_| view! { <OutcomeNotice outcome fields=custom_fields.get_value() /> }))}
            // Enter in a field submits with the form's first submit button: this one,
            // so it saves rather than pressing the first row's button.
            <button type="submit" class="default-submit" tabindex="-1" aria-hidden="true">"Save"</button>
            {id.map(|id| view! { <input type="hidden" name="id" value=id.to_string() /> })}
            <input type="hidden" name="version" prop:value=version_value value=version_value />
            <fieldset class="form-section">
                <legend>"Name"</legend>
                <div class="field-row">
                    {part(Field::Given, &input.given)}
                    {part(Field::Family, &input.family)}
                </div>
                <TextField
                    field=Field::Name
                    value=input.name.clone()
                    error=error_for(Field::Name)
                    hint="Shown in the directory. Leave it empty to use the name above."
                />
                <details class="more-fields" open=more_names>
                    <summary>"More name fields"</summary>
                    <div class="field-row">
                        {part(Field::Prefix, &input.prefix)}
                        {part(Field::Middle, &input.middle)}
                        {part(Field::Suffix, &input.suffix)}
                    </div>
                    <div class="field-row">
                        {part(Field::Nickname, &input.nickname)}
                        {part(Field::Pronouns, &input.pronouns)}
                    </div>
                    <div class="field-row">
                        {part(Field::PhoneticGiven, &input.phonetic_given)}
                        {part(Field::PhoneticFamily, &input.phonetic_family)}
                    </div>
                    <FileAsField value=input.file_as.clone() />
                </details>
            </fieldset>
            <PhotoField photo=input.photo.clone() file=photo_file error=error_for(Field::Photo) />
            <EntryList field=Field::Emails rows=with_blank(input.emails.clone()) errors kind="email" labels=EMAIL_LABELS />
            <EntryList field=Field::Phones rows=with_blank(input.phones.clone()) errors kind="tel" labels=PHONE_LABELS />
            <AddressList rows=input.addresses.clone() errors />
            <EntryList field=Field::Links rows=input.links.clone() errors kind="url" labels=LINK_LABELS />
            <EntryList field=Field::Ims rows=input.ims.clone() errors kind="text" labels=IM_LABELS />
            <fieldset class="form-section">
                <legend>"Dates"</legend>
                <TextField
                    field=Field::Birthday
                    value=input.birthday.clone()
                    error=error_for(Field::Birthday)
                    hint="Like 1990-04-15, or 04-15 when the year is not known."
                />
                <EntryList field=Field::Dates rows=input.dates.clone() errors kind="text" labels=DATE_LABELS />
            </fieldset>
            <EntryList field=Field::Related rows=input.related.clone() errors kind="text" labels=RELATED_LABELS />
            <fieldset class="form-section">
                <legend>"Work"</legend>
                <div class="field-row">
                    <CompanyField value=input.company.clone() error=error_for(Field::Company) />
                    {part(Field::Department, &input.department)}
                </div>
                <div class="field-row">
                    {part(Field::Title, &input.title)}
                    <TierField value=tier_now error=error_for(Field::Tier) />
                </div>
            </fieldset>
            <TextField
                field=Field::Tags
                value=input.tags.clone()
                error=error_for(Field::Tags)
                hint="Separate tags with commas, like: investor, rust, berlin"
            />
            <NotesField value=input.notes.clone() error=error_for(Field::Notes) />
            {(!fields.is_empty()).then(|| view! {
                <fieldset class="form-section custom-fields" id="custom-fields">
                    <legend>"More fields"</legend>
                    {fields.iter().map(|field| {
                        let text = custom::input_text(&input.custom, field.id);
                        let id = field.id;
                        let error = Signal::derive(move || {
                            errors.with(|errors| {
                                errors
                                    .as_ref()
                                    .and_then(|e| e.get_row(Field::Custom, id as usize))
                                    .map(str::to_owned)
                            })
                        });
                        view! { <CustomInput field=field.clone() text error /> }
                    }).collect_view()}
                </fieldset>
            })}
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

/// The rows of one list, each with a key that stays with it as rows move (so a row's
/// typed values and focus move with it), and the key the next row will take.
struct Rows<T: Send + Sync + 'static> {
    rows: RwSignal<Vec<(usize, RwSignal<T>)>>,
    next: StoredValue<usize>,
}

impl<T: Send + Sync + 'static> Clone for Rows<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Rows<T> {}

impl<T: Default + Clone + Send + Sync + 'static> Rows<T> {
    fn new(values: Vec<T>) -> Self {
        let count = values.len();
        Rows {
            rows: RwSignal::new(
                values
                    .into_iter()
                    .enumerate()
                    .map(|(key, value)| (key, RwSignal::new(value)))
                    .collect(),
            ),
            next: StoredValue::new(count),
        }
    }

    /// What a row button does, done in place (hydrated).
    fn apply(self, op: RowOp) {
        if op == RowOp::Add {
            let key = self.next.get_value();
            self.next.set_value(key + 1);
            self.rows.update(|rows| {
                if rows.len() < MAX_ENTRIES {
                    rows.push((key, RwSignal::new(T::default())));
                }
            });
        } else {
            self.rows.update(|rows| {
                move_row(rows, op);
            });
        }
    }

    /// Where the row with `key` is now.
    fn position(self, key: usize) -> Signal<usize> {
        Signal::derive(move || {
            self.rows
                .with(|rows| rows.iter().position(|(k, _)| *k == key))
                .unwrap_or(0)
        })
    }
}

/// A row button: a submit button that, without JavaScript, asks the server for the
/// form back changed (`row_op`); hydrated, it changes the rows in place.
#[component]
fn RowButton<T: Default + Clone + Send + Sync + 'static>(
    rows: Rows<T>,
    list: &'static str,
    op: Signal<RowOp>,
    label: Signal<String>,
    text: &'static str,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            name="row_op"
            class=format!("row-button {class}")
            value=move || op.get().value(list)
            formnovalidate
            aria-label=label
            on:click=move |event| {
                event.prevent_default();
                rows.apply(op.get_untracked());
            }
        >
            {text}
        </button>
    }
}

/// The buttons at the end of a row: make primary, move up and down, remove.
#[component]
fn RowActions<T: Default + Clone + Send + Sync + 'static>(
    rows: Rows<T>,
    list: &'static str,
    noun: &'static str,
    at: Signal<usize>,
) -> impl IntoView {
    let count = Signal::derive(move || rows.rows.with(Vec::len));
    let described = move |verb: &str| {
        let verb = verb.to_owned();
        Signal::derive(move || format!("{verb} {noun} {}", at.get() + 1))
    };
    view! {
        <div class="row-actions">
            {move || (at.get() > 0).then(|| view! {
                <RowButton rows list op=Signal::derive(move || RowOp::Primary(at.get())) label=described("Make primary") text="★" />
                <RowButton rows list op=Signal::derive(move || RowOp::Up(at.get())) label=described("Move up") text="↑" />
            })}
            {move || (at.get() + 1 < count.get()).then(|| view! {
                <RowButton rows list op=Signal::derive(move || RowOp::Down(at.get())) label=described("Move down") text="↓" />
            })}
            <RowButton rows list op=Signal::derive(move || RowOp::Remove(at.get())) label=described("Remove") text="✕" class="danger" />
        </div>
    }
}

/// The error shown on a list's row, or on the list itself.
fn error_signal(
    errors: Signal<Option<FieldErrors>>,
    field: Field,
    at: Option<Signal<usize>>,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        errors.with(|errors| {
            let errors = errors.as_ref()?;
            match at {
                Some(at) => errors.get_row(field, at.get()),
                None => errors.get(field),
            }
            .map(str::to_owned)
        })
    })
}

/// A labelled list (emails, phones, links, handles, dates): rows of a label (offered
/// words or anything typed) and a value.
#[component]
fn EntryList(
    field: Field,
    rows: Vec<EntryInput>,
    errors: Signal<Option<FieldErrors>>,
    kind: &'static str,
    labels: &'static [&'static str],
) -> impl IntoView {
    let list = field.as_str();
    let noun = field.label();
    let rows = Rows::new(rows);
    let datalist = format!("labels-{list}");
    let list_error = error_signal(errors, field, None);
    view! {
        <fieldset class="form-section entry-list" id=format!("list-{list}")>
            <legend>{list_legend(field)}</legend>
            <datalist id=datalist.clone()>
                {labels.iter().map(|label| view! { <option value=*label></option> }).collect_view()}
            </datalist>
            <ol class="rows">
                <For each=move || rows.rows.get() key=|(key, _)| *key let((key, row))>
                    {
                        let at = rows.position(key);
                        let error = error_signal(errors, field, Some(at));
                        let id = move |part: &str| format!("{list}-{key}-{part}");
                        let name = move |part: &'static str| move || format!("{list}[{}][{part}]", at.get());
                        let error_id = id("error");
                        let datalist = datalist.clone();
                        view! {
                            <li class="row" class:invalid=move || error.with(Option::is_some)>
                                <div class="row-label">
                                    <label for=id("label")>{move || format!("{noun} {} label", at.get() + 1)}</label>
                                    <input
                                        type="text"
                                        id=id("label")
                                        name=name("label")
                                        list=datalist
                                        autocomplete="off"
                                        prop:value=move || row.with(|r| r.label.clone())
                                        value=row.with_untracked(|r| r.label.clone())
                                        on:input=move |ev| row.update(|r| r.label = event_target_value(&ev))
                                    />
                                </div>
                                <div class="row-value">
                                    <label for=id("value")>{move || format!("{noun} {}", at.get() + 1)}</label>
                                    <input
                                        type=kind
                                        id=id("value")
                                        name=name("value")
                                        autocomplete="off"
                                        aria-invalid=move || error.with(Option::is_some).then_some("true")
                                        aria-describedby={
                                            let error_id = error_id.clone();
                                            move || error.with(Option::is_some).then(|| error_id.clone())
                                        }
                                        prop:value=move || row.with(|r| r.value.clone())
                                        value=row.with_untracked(|r| r.value.clone())
                                        on:input=move |ev| row.update(|r| r.value = event_target_value(&ev))
                                    />
                                </div>
                                <RowActions rows list noun at />
                                <FieldError id=error_id error />
                            </li>
                        }
                    }
                </For>
            </ol>
            <FieldError id=format!("list-{list}-error") error=list_error />
            <RowButton rows list op=Signal::stored(RowOp::Add) label=Signal::stored(format!("Add {}", add_noun(field))) text="+ Add" class="add-row" />
        </fieldset>
    }
}

/// Postal addresses: rows of a label and the address's parts.
#[component]
fn AddressList(rows: Vec<AddressInput>, errors: Signal<Option<FieldErrors>>) -> impl IntoView {
    let field = Field::Addresses;
    let list = field.as_str();
    let rows = Rows::new(rows);
    let list_error = error_signal(errors, field, None);
    view! {
        <fieldset class="form-section entry-list" id="list-addresses">
            <legend>"Addresses"</legend>
            <datalist id="labels-addresses">
                {ADDRESS_LABELS.iter().map(|label| view! { <option value=*label></option> }).collect_view()}
            </datalist>
            <datalist id="countries">
                {COUNTRIES.iter().map(|(code, name)| view! { <option value=*code>{*name}</option> }).collect_view()}
            </datalist>
            <ol class="rows">
                <For each=move || rows.rows.get() key=|(key, _)| *key let((key, row))>
                    {
                        let at = rows.position(key);
                        let error = error_signal(errors, field, Some(at));
                        let error_id = format!("{list}-{key}-error");
                        let part = move |part: &'static str, label: &'static str, get: fn(&AddressInput) -> String, set: fn(&mut AddressInput, String)| {
                            let id = format!("{list}-{key}-{part}");
                            let list_attr = match part {
                                "label" => Some("labels-addresses"),
                                "country" => Some("countries"),
                                _ => None,
                            };
                            view! {
                                <div class=format!("address-part address-{part}")>
                                    <label for=id.clone()>{label}</label>
                                    <input
                                        type="text"
                                        id=id
                                        name=move || format!("{list}[{}][{part}]", at.get())
                                        list=list_attr
                                        autocomplete="off"
                                        prop:value=move || row.with(get)
                                        value=row.with_untracked(get)
                                        on:input=move |ev| row.update(|r| set(r, event_target_value(&ev)))
                                    />
                                </div>
                            }
                        };
                        view! {
                            <li class="row address-row" class:invalid=move || error.with(Option::is_some)>
                                <p class="row-heading">{move || format!("Address {}", at.get() + 1)}</p>
                                <div class="address-parts">
                                    {part("label", "Label", |r| r.label.clone(), |r, v| r.label = v)}
                                    {part("street", "Street", |r| r.street.clone(), |r, v| r.street = v)}
                                    {part("extended", "Apartment, suite", |r| r.extended.clone(), |r, v| r.extended = v)}
                                    {part("city", "City", |r| r.city.clone(), |r, v| r.city = v)}
                                    {part("region", "Region", |r| r.region.clone(), |r, v| r.region = v)}
                                    {part("postal_code", "Postal code", |r| r.postal_code.clone(), |r, v| r.postal_code = v)}
                                    {part("country", "Country", |r| r.country.clone(), |r, v| r.country = v)}
                                </div>
                                <RowActions rows list noun="Address" at />
                                <FieldError id=error_id error />
                            </li>
                        }
                    }
                </For>
            </ol>
            <FieldError id="list-addresses-error".to_owned() error=list_error />
            <RowButton rows list op=Signal::stored(RowOp::Add) label=Signal::stored("Add an address".to_owned()) text="+ Add" class="add-row" />
        </fieldset>
    }
}

fn list_legend(field: Field) -> &'static str {
    match field {
        Field::Emails => "Emails",
        Field::Phones => "Phones",
        Field::Links => "Links",
        Field::Ims => "Messaging",
        Field::Related => "Related people",
        Field::Dates => "Other dates",
        _ => field.label(),
    }
}

fn add_noun(field: Field) -> &'static str {
    match field {
        Field::Emails => "an email",
        Field::Phones => "a phone",
        Field::Links => "a link",
        Field::Ims => "a messaging handle",
        Field::Related => "a related person",
        Field::Dates => "a date",
        _ => "a row",
    }
}

/// The company, with the names of companies already in the directory offered as one
/// types (hydrated; without JavaScript any name is typed, and an existing company is
/// still found by its name whatever its case and spacing).
#[component]
fn CompanyField(value: String, error: Signal<Option<String>>) -> impl IntoView {
    let id = field_id(Field::Company);
    let error_id = format!("{id}-error");
    let names = RwSignal::new(Vec::<String>::new());
    let asked = RwSignal::new(String::new());
    let on_input = move |event: leptos::ev::Event| {
        let typed = event_target_value(&event);
        asked.set(typed.clone());
        leptos::task::spawn_local(async move {
            if let Ok(found) = company_names(typed.clone()).await
                && asked.get_untracked() == typed
            {
                names.set(found);
            }
        });
    };
    view! {
        <div class="field" class:invalid=move || error.with(Option::is_some)>
            <label for=id.clone()>{Field::Company.label()}</label>
            <input
                type="text"
                id=id
                name="company"
                value=value
                list="company-names"
                autocomplete="off"
                aria-invalid=move || error.with(Option::is_some).then_some("true")
                aria-describedby={
                    let error_id = error_id.clone();
                    move || error.with(Option::is_some).then(|| error_id.clone())
                }
                on:input=on_input
            />
            <datalist id="company-names">
                {move || names.get().into_iter().map(|name| view! { <option value=name></option> }).collect_view()}
            </datalist>
            <FieldError id=error_id error />
        </div>
    }
}

#[component]
fn FileAsField(value: String) -> impl IntoView {
    let id = field_id(Field::FileAs);
    let family = value == "family";
    view! {
        <div class="field">
            <label for=id.clone()>{Field::FileAs.label()}</label>
            <select id=id name="file_as">
                <option value="given" selected=!family>"Given name first (Ada Lovelace)"</option>
                <option value="family" selected=family>"Family name first (Lovelace, Ada)"</option>
            </select>
        </div>
    }
}

fn field_id(field: Field) -> String {
    format!("field-{}", field.as_str())
}

/// The photo: the one kept (with a box to remove it), and a file to choose. The file
/// goes with the form's own post; the server reads it (`server::photos`).
#[component]
fn PhotoField(
    photo: String,
    file: NodeRef<html::Input>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let has_photo = !photo.trim().is_empty();
    let described = move || {
        if error.with(Option::is_some) {
            "photo-hint photo-error".to_owned()
        } else {
            "photo-hint".to_owned()
        }
    };
    view! {
        <fieldset class="form-section photo-field" id="photo" class:invalid=move || error.with(Option::is_some)>
            <legend>"Photo"</legend>
            <input type="hidden" name="photo" value=photo.clone() />
            {has_photo.then(|| view! {
                <img class="avatar avatar-photo" src=format!("/photos/{photo}-96.jpg") alt="The photo kept" width="96" height="96" />
                <label class="choice" for="remove-photo">
                    <input type="checkbox" id="remove-photo" name="remove_photo" value="yes" />
                    "Remove the photo"
                </label>
            })}
            <div class="field">
                <label for="photo-file">{if has_photo { "Choose another photo" } else { "Choose a photo" }}</label>
                <input
                    type="file"
                    id="photo-file"
                    name="photo_file"
                    node_ref=file
                    accept="image/jpeg,image/png,image/webp,image/gif"
                    aria-invalid=move || error.with(Option::is_some).then_some("true")
                    aria-describedby=described
                />
                <p class="field-hint" id="photo-hint">"A JPEG, PNG, WebP or GIF of 10 MB or less. It is cut square and kept without its camera data (place, time, device)."</p>
                <FieldError id="photo-error".to_owned() error />
            </div>
        </fieldset>
    }
}

/// A custom field's control, by its kind: a text box, a list to choose from, boxes to
/// tick. A multiple choice posts each ticked option as `custom[7.N]`.
#[component]
fn CustomInput(field: CustomField, text: String, error: Signal<Option<String>>) -> impl IntoView {
    let id = format!("custom-{}", field.id);
    let name = format!("custom[{}]", custom::input_key(field.id));
    let error_id = format!("{id}-error");
    let described = {
        let error_id = error_id.clone();
        move || error.with(Option::is_some).then(|| error_id.clone())
    };
    let invalid = move || error.with(Option::is_some).then_some("true");
    let control = match field.kind {
        CustomKind::Choice => {
            let chosen = text.trim().to_lowercase();
            view! {
                <label for=id.clone()>{field.name.clone()}</label>
                <select id=id.clone() name=name aria-invalid=invalid aria-describedby=described>
                    <option value="">"—"</option>
                    {field.options.iter().map(|option| view! {
                        <option value=option.clone() selected=option.to_lowercase() == chosen>{option.clone()}</option>
                    }).collect_view()}
                </select>
            }
            .into_any()
        }
        CustomKind::Choices => {
            let chosen: Vec<String> = text
                .lines()
                .map(|line| line.trim().to_lowercase())
                .collect();
            view! {
                <fieldset class="choices" id=id.clone() aria-invalid=invalid aria-describedby=described>
                    <legend>{field.name.clone()}</legend>
                    {field.options.iter().enumerate().map(|(at, option)| {
                        let box_id = format!("{id}-{at}");
                        let label_for = box_id.clone();
                        view! {
                            <label class="choice" for=label_for>
                                <input
                                    type="checkbox"
                                    id=box_id
                                    name=format!("custom[{}.{at}]", custom::input_key(field.id))
                                    value=option.clone()
                                    checked=chosen.contains(&option.to_lowercase())
                                />
                                {option.clone()}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
            }
            .into_any()
        }
        CustomKind::Checkbox => {
            let ticked = !matches!(
                text.trim().to_lowercase().as_str(),
                "" | "no" | "false" | "0" | "off"
            );
            view! {
                <label class="choice" for=id.clone()>
                    <input type="checkbox" id=id.clone() name=name value="yes" checked=ticked aria-describedby=described />
                    {field.name.clone()}
                </label>
            }
            .into_any()
        }
        kind => {
            let (input_type, mode, hint) = match kind {
                CustomKind::Number => ("text", Some("decimal"), None),
                CustomKind::Date => (
                    "text",
                    None,
                    Some("Like 2024-04-15, or 04-15 without a year."),
                ),
                CustomKind::Url => ("url", None, None),
                _ => ("text", None, None),
            };
            let hint_id = format!("{id}-hint");
            let described = described_by(hint.map(|_| hint_id.clone()), error_id.clone(), error);
            view! {
                <label for=id.clone()>{field.name.clone()}</label>
                <input
                    type=input_type
                    id=id.clone()
                    name=name
                    value=text
                    inputmode=mode
                    aria-invalid=invalid
                    aria-describedby=described
                    autocomplete="off"
                />
                {hint.map(|hint| view! { <p class="field-hint" id=hint_id>{hint}</p> })}
            }
            .into_any()
        }
    };
    view! {
        <div class="field" class:invalid=move || error.with(Option::is_some) data-custom=field.name.clone()>
            {control}
            <FieldError id=error_id error />
        </div>
    }
}

/// What describes a field (`aria-describedby`): its hint, if it has one, and its
/// error while it has one.
fn described_by(
    hint_id: Option<String>,
    error_id: String,
    error: Signal<Option<String>>,
) -> impl Fn() -> Option<String> + Send + Sync + Clone + 'static {
    move || {
        let ids: Vec<&str> = hint_id
            .as_deref()
            .into_iter()
            .chain(error.with(Option::is_some).then_some(error_id.as_str()))
            .collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
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
    let described = described_by(hint.map(|_| hint_id.clone()), error_id.clone(), error);
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
fn OutcomeNotice(outcome: SaveOutcome, fields: Vec<CustomField>) -> impl IntoView {
    let message = outcome.message();
    let details = match outcome {
        SaveOutcome::Conflict {
            changes, at_micros, ..
        } => Some(
            view! {
                <p class="notice-detail">{format!("Changed on {}:", format::date(at_micros))}</p>
                <ChangeTable changes fields />
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
