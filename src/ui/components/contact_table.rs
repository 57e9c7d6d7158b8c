//! The directory's and the search's rows: one table for both.

use leptos::prelude::*;

use super::Highlighted;
use crate::domain::search::SearchHit;

/// The rows, with matched words marked. Each row is `#result-{n}`, for the search
/// box's keyboard selection (`aria-selected`).
#[component]
pub fn ContactTable(
    rows: Vec<SearchHit>,
    /// A checkbox per row (`name="id"`), for bulk actions.
    #[prop(optional)]
    selectable: bool,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">"No contacts here yet."</p> }.into_any();
    }
    view! {
        <table class="contacts" id="results">
            <thead>
                <tr>
                    {selectable.then(|| view! { <th scope="col" class="cell-select"><span class="visually-hidden">"Select"</span></th> })}
                    <th scope="col">"Name"</th>
                    <th scope="col">"Company"</th>
                    <th scope="col">"Title"</th>
                    <th scope="col">"Location"</th>
                    <th scope="col">"Tier"</th>
                    <th scope="col">"Tags"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .enumerate()
                    .map(|(position, hit)| view! { <ContactRow hit position selectable /> })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ContactRow(hit: SearchHit, position: usize, selectable: bool) -> impl IntoView {
    let SearchHit {
        contact,
        name_highlights,
        notes_snippet,
    } = hit;
    let tier_number = contact.tier.get();
    view! {
        <tr
            id=format!("result-{position}")
            data-contact-id=contact.id.to_string()
        >
            {selectable.then(|| {
                let label = format!("Select {}", contact.name);
                view! {
                    <td class="cell-select">
                        <input type="checkbox" name="id" value=contact.id.to_string() aria-label=label />
                    </td>
                }
            })}
            <td class="cell-name">
                <a class="contact-link" href=format!("/contacts/{}", contact.id)>
                    <Highlighted text=contact.name highlights=name_highlights />
                </a>
                {contact.email.map(|email| {
                    let full = email.clone();
                    view! { <span class="contact-email" title=full>{email}</span> }
                })}
                {notes_snippet.map(|snippet| view! {
                    <span class="snippet">
                        {snippet.cut_before.then_some("…")}
                        <Highlighted text=snippet.text highlights=snippet.highlights />
                        {snippet.cut_after.then_some("…")}
                    </span>
                })}
            </td>
            <td data-label="Company">{contact.company}</td>
            <td data-label="Title">{contact.title}</td>
            <td data-label="Location">{contact.location}</td>
            <td data-label="Tier">
                <span class=format!("tier tier-{tier_number}") title=contact.tier.label()>
                    {format!("T{tier_number}")}
                </span>
            </td>
            <td data-label="Tags">
                <ul class="tags">
                    {contact.tags.into_iter().map(|tag| view! { <li class="tag">{tag}</li> }).collect_view()}
                </ul>
            </td>
        </tr>
    }
}
