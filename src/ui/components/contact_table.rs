//! The directory's rows.

use leptos::prelude::*;

use crate::domain::ContactSummary;

#[component]
pub fn ContactTable(contacts: Vec<ContactSummary>) -> impl IntoView {
    if contacts.is_empty() {
        return view! { <p class="empty">"No contacts here yet."</p> }.into_any();
    }
    view! {
        <table class="contacts">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Company"</th>
                    <th scope="col">"Title"</th>
                    <th scope="col">"Location"</th>
                    <th scope="col">"Tier"</th>
                    <th scope="col">"Tags"</th>
                </tr>
            </thead>
            <tbody>
                {contacts.into_iter().map(|contact| view! { <ContactRow contact /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ContactRow(contact: ContactSummary) -> impl IntoView {
    let ContactSummary {
        id,
        name,
        email,
        company,
        title,
        location,
        tier,
        tags,
    } = contact;
    let tier_number = tier.get();
    view! {
        <tr data-contact-id=id.to_string()>
            <td class="cell-name">
                <span class="contact-name">{name}</span>
                {email.map(|email| {
                    let full = email.clone();
                    view! { <span class="contact-email" title=full>{email}</span> }
                })}
            </td>
            <td data-label="Company">{company}</td>
            <td data-label="Title">{title}</td>
            <td data-label="Location">{location}</td>
            <td data-label="Tier">
                <span class=format!("tier tier-{tier_number}") title=tier.label()>
                    {format!("T{tier_number}")}
                </span>
            </td>
            <td data-label="Tags">
                <ul class="tags">
                    {tags.into_iter().map(|tag| view! { <li class="tag">{tag}</li> }).collect_view()}
                </ul>
            </td>
        </tr>
    }
}
