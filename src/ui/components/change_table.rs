//! What a change did, field by field: before and after.

use leptos::prelude::*;

use crate::domain::{FieldChange, custom::CustomField};

/// Field, before, after. `fields` name the custom fields changed (every one, retired
/// ones too).
#[component]
pub fn ChangeTable(
    changes: Vec<FieldChange>,
    #[prop(optional)] fields: Vec<CustomField>,
) -> impl IntoView {
    let shown = |value: Option<String>| value.unwrap_or_else(|| "—".to_owned());
    view! {
        <table class="changes">
            <thead>
                <tr><th scope="col">"Field"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr>
            </thead>
            <tbody>
                {changes
                    .into_iter()
                    .map(|change| view! {
                        <tr>
                            <th scope="row">{change.label(&fields)}</th>
                            <td>{shown(change.old)}</td>
                            <td>{shown(change.new)}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
