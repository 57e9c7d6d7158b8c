//! The filter sidebar and the sort control.
//!
//! Both are fields of the search form (`form="search-form"`), so without JavaScript
//! ticking boxes and pressing "Apply filters" submits them with the query. Hydrated,
//! a change applies at once and the Apply button is hidden.

use leptos::{ev, prelude::*};
use leptos_router::{NavigateOptions, hooks::use_navigate};

use crate::domain::{
    SearchQuery, SortOrder, format,
    search::{FacetValue, Facets, FilterKind},
};

fn go_to(navigate: &impl Fn(&str, NavigateOptions), next: &SearchQuery) {
    navigate(
        &next.href(),
        NavigateOptions {
            scroll: false,
            ..Default::default()
        },
    );
}

#[component]
pub fn FilterSidebar(query: Memo<SearchQuery>, facets: Facets) -> impl IntoView {
    let Facets {
        tiers,
        locations,
        companies,
        tags,
    } = facets;
    let tiers: Vec<FacetValue> = tiers
        .into_iter()
        .map(|(tier, count, selected)| FacetValue {
            value: tier.get().to_string(),
            count,
            selected,
        })
        .collect();
    let has_filters = move || query.with(|query| !query.filters.is_empty());
    view! {
        <div class="filters">
            <h2 class="filters-title">"Filters"</h2>
            <FacetGroup title="Tier" kind=FilterKind::Tier values=tiers query />
            <FacetGroup title="Location" kind=FilterKind::Location values=locations query />
            <FacetGroup title="Company" kind=FilterKind::Company values=companies query />
            <FacetGroup title="Tags" kind=FilterKind::Tag values=tags query />
            <div class="filter-actions">
                <button type="submit" form="search-form" class="apply-filters">"Apply filters"</button>
                <Show when=has_filters>
                    <a class="clear-filters" href=move || query.with(SearchQuery::without_filters).href()>
                        "Clear filters"
                    </a>
                </Show>
            </div>
        </div>
    }
}

/// The label shown for a tier value.
fn tier_label(value: &str) -> String {
    let tier = value
        .parse::<i64>()
        .ok()
        .and_then(|n| crate::domain::Tier::parse(n).ok());
    match tier {
        Some(tier) => format!("T{} · {}", tier.get(), tier.label()),
        None => value.to_owned(),
    }
}

#[component]
fn FacetGroup(
    title: &'static str,
    kind: FilterKind,
    values: Vec<FacetValue>,
    query: Memo<SearchQuery>,
) -> impl IntoView {
    if values.is_empty() {
        return ().into_any();
    }
    let navigate = use_navigate();
    view! {
        <fieldset class="facet-group">
            <legend>{title}</legend>
            <ul>
                {values
                    .into_iter()
                    .map(|FacetValue { value, count, selected }| {
                        let navigate = navigate.clone();
                        let toggled = value.clone();
                        let on_change = move |_: ev::Event| {
                            let next = query.get_untracked().toggled(kind, &toggled);
                            go_to(&navigate, &next);
                        };
                        let label = if kind == FilterKind::Tier { tier_label(&value) } else { value.clone() };
                        view! {
                            <li>
                                <label class="facet">
                                    <input
                                        type="checkbox"
                                        name=kind.param()
                                        value=value
                                        form="search-form"
                                        checked=selected
                                        on:change=on_change
                                    />
                                    <span class="facet-label">{label}</span>
                                    <span class="facet-count">{format::count(count)}</span>
                                </label>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </fieldset>
    }
    .into_any()
}

#[component]
pub fn SortSelect(query: Memo<SearchQuery>) -> impl IntoView {
    let navigate = use_navigate();
    let on_change = move |event: ev::Event| {
        let chosen = SortOrder::parse(&event_target_value(&event)).unwrap_or_default();
        let next = query.get_untracked().with_sort(chosen);
        go_to(&navigate, &next);
    };
    let current = query.with_untracked(|query| query.sort);
    view! {
        <label class="sort">
            <span>"Sort"</span>
            <select name="sort" form="search-form" on:change=on_change>
                {SortOrder::ALL
                    .into_iter()
                    .map(|sort| view! {
                        <option value=sort.as_str() selected=sort == current>{sort.label()}</option>
                    })
                    .collect_view()}
            </select>
        </label>
    }
}
