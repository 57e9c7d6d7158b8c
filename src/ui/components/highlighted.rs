//! Text with some stretches marked (`<mark>`), as search results show matches.

use leptos::prelude::*;

use crate::domain::search::Highlight;

/// `text` with the given byte ranges wrapped in `<mark>`. Ranges that do not fall on
/// character boundaries, overlap or run past the end are ignored.
#[component]
pub fn Highlighted(text: String, highlights: Vec<Highlight>) -> impl IntoView {
    let mut parts: Vec<(String, bool)> = Vec::new();
    let mut at = 0usize;
    for mark in highlights {
        let (start, end) = (mark.start as usize, mark.end as usize);
        if start < at || end <= start || end > text.len() {
            continue;
        }
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        if start > at {
            parts.push((text[at..start].to_owned(), false));
        }
        parts.push((text[start..end].to_owned(), true));
        at = end;
    }
    if at < text.len() {
        parts.push((text[at..].to_owned(), false));
    }
    parts
        .into_iter()
        .map(|(part, marked)| {
            if marked {
                view! { <mark>{part}</mark> }.into_any()
            } else {
                part.into_any()
            }
        })
        .collect_view()
}
