//! `/admin/fields` (admins only): the custom fields every contact can hold. An admin
//! adds a field (its kind is fixed from then on), renames it, changes a choice field's
//! options, moves it up or down the form, and retires or restores it; no change here
//! touches a contact's values. Each is a plain form post that comes back to this page
//! (a refusal as the page's notice).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::custom_fields::{
        AddCustomField, MoveCustomField, RetireCustomField, SaveCustomField, custom_fields,
    },
    domain::custom::{CustomField, CustomKind},
    ui::{action_url, components::ErrorNotice},
};

#[component]
pub fn AdminFieldsPage() -> impl IntoView {
    let fields = Resource::new(|| (), |_| custom_fields());
    view! {
        <Title text="Custom fields" />
        <div class="page-head"><h1>"Custom fields"</h1></div>
        <p class="summary">
            "Fields every contact can hold, shown on the contact's page and form in this order. "
            "Retiring a field hides it and keeps every contact's value; restore it to show them again."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading fields…"</p> }>
            {move || Suspend::new(async move {
                match fields.await {
                    Ok(fields) => {
                        let (live, retired): (Vec<CustomField>, Vec<CustomField>) =
                            fields.into_iter().partition(|field| !field.retired);
                        let count = live.len();
                        view! {
                            {live.is_empty().then(|| view! { <p class="muted">"No custom fields yet."</p> })}
                            <ol class="field-defs">
                                {live.into_iter().enumerate().map(|(at, field)| view! {
                                    <FieldRow field first=at == 0 last=at + 1 == count />
                                }).collect_view()}
                            </ol>
                            <AddField />
                            {(!retired.is_empty()).then(|| view! {
                                <section aria-labelledby="retired-heading">
                                    <h2 id="retired-heading">"Retired fields"</h2>
                                    <ul class="field-defs retired">
                                        {retired.into_iter().map(|field| view! { <RetiredRow field /> }).collect_view()}
                                    </ul>
                                </section>
                            })}
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn FieldRow(field: CustomField, first: bool, last: bool) -> impl IntoView {
    let CustomField {
        id,
        name,
        kind,
        options,
        ..
    } = field;
    let id = id.to_string();
    let name_id = format!("field-{id}-name");
    let options_id = format!("field-{id}-options");
    let mover = |direction: &'static str, text: &'static str, label: String| {
        let id = id.clone();
        view! {
            <form method="post" action={action_url::<MoveCustomField>()} class="inline-form">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="direction" value=direction />
                <button type="submit" aria-label=label>{text}</button>
            </form>
        }
    };
    view! {
        <li class="field-def" id=format!("field-{id}") data-field=name.clone()>
            <form method="post" action={action_url::<SaveCustomField>()} class="field-def-form">
                <input type="hidden" name="id" value=id.clone() />
                <input type="hidden" name="kind" value=kind.as_str() />
                <div class="field">
                    <label for=name_id.clone()>"Name"</label>
                    <input type="text" id=name_id name="name" value=name.clone() required maxlength="60" />
                </div>
                <p class="field-kind">{kind.label()}</p>
                {kind.has_options().then(|| view! {
                    <div class="field">
                        <label for=options_id.clone()>"Options, one per line"</label>
                        <textarea id=options_id name="options" rows="4">
                            {crate::ui::textarea_text(&options.join("\n"))}
                        </textarea>
                    </div>
                })}
                <button type="submit">{format!("Save {name}")}</button>
            </form>
            <div class="field-def-actions">
                {(!first).then(|| mover("up", "↑", format!("Move {name} up")))}
                {(!last).then(|| mover("down", "↓", format!("Move {name} down")))}
                <form method="post" action={action_url::<RetireCustomField>()} class="inline-form">
                    <input type="hidden" name="id" value=id.clone() />
                    <input type="hidden" name="retired" value="true" />
                    <button type="submit" class="danger">{format!("Retire {name}")}</button>
                </form>
            </div>
        </li>
    }
}

#[component]
fn RetiredRow(field: CustomField) -> impl IntoView {
    view! {
        <li class="field-def" id=format!("field-{}", field.id) data-field=field.name.clone()>
            <span>{field.name.clone()}</span>
            <span class="field-kind">{field.kind.label()}</span>
            <form method="post" action={action_url::<RetireCustomField>()} class="inline-form">
                <input type="hidden" name="id" value=field.id.to_string() />
                <input type="hidden" name="retired" value="false" />
                <button type="submit">{format!("Restore {}", field.name)}</button>
            </form>
        </li>
    }
}

#[component]
fn AddField() -> impl IntoView {
    view! {
        <section aria-labelledby="add-field-heading" class="add-field">
            <h2 id="add-field-heading">"Add a field"</h2>
            <form method="post" action={action_url::<AddCustomField>()} class="contact-form">
                <div class="field-row">
                    <div class="field">
                        <label for="new-field-name">"Name"</label>
                        <input type="text" id="new-field-name" name="name" required maxlength="60" />
                    </div>
                    <div class="field">
                        <label for="new-field-kind">"Holds"</label>
                        <select id="new-field-kind" name="kind">
                            {CustomKind::ALL.into_iter().map(|kind| view! {
                                <option value=kind.as_str()>{kind.label()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                </div>
                <div class="field">
                    <label for="new-field-options">"Options, one per line"</label>
                    <textarea id="new-field-options" name="options" rows="4" aria-describedby="new-field-options-hint"></textarea>
                    <p class="hint" id="new-field-options-hint">"For a single or multiple choice only. A field's kind cannot be changed later."</p>
                </div>
                <div class="form-actions">
                    <button type="submit" class="primary">"Add field"</button>
                </div>
            </form>
        </section>
    }
}
