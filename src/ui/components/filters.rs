//! The filter sidebar and the sort control.
//!
//! Both are fields of the search form (`form="search-form"`), so without JavaScript
//! ticking boxes and pressing "Apply filters" submits them with the query. With the
//! search box hydrated, a change applies at once (it listens for them) and the Apply
//! button is hidden.

use leptos::prelude::*;

use crate::domain::{
    SearchQuery, SortOrder, format,
    search::{FacetValue, Facets, FilterKind},
};

#[component]
pub fn FilterSidebar(query: SearchQuery, facets: Facets) -> impl IntoView {
    let Facets {
        tiers,
        locations,
        countries,
        companies,
        tags,
        choices,
    } = facets;
    let tiers: Vec<FacetValue> = tiers
        .into_iter()
        .map(|(tier, count, selected)| FacetValue {
            value: tier.get().to_string(),
            count,
            selected,
        })
        .collect();
    let clear = (!query.filters.is_empty()).then(|| {
        view! {
            <a class="clear-filters" href=query.without_filters().href()>"Clear filters"</a>
        }
    });
    view! {
        <div class="filters">
            <h2 class="filters-title">"Filters"</h2>
            <FacetGroup title="Tier" kind=FilterKind::Tier values=tiers />
            <FacetGroup title="Location" kind=FilterKind::Location values=locations />
            <FacetGroup title="Country" kind=FilterKind::Country values=countries />
            <FacetGroup title="Company" kind=FilterKind::Company values=companies />
            <FacetGroup title="Tags" kind=FilterKind::Tag values=tags />
            {choices.into_iter().map(|facet| view! {
                <FacetGroup title=facet.name kind=FilterKind::Choice values=facet.values />
            }).collect_view()}
            <div class="filter-actions">
                <button type="submit" form="search-form" class="apply-filters">"Apply filters"</button>
                {clear}
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

/// The label shown for a value: a tier's name, a country's name, a choice's option.
fn value_label(kind: FilterKind, value: &str) -> String {
    match kind {
        FilterKind::Tier => tier_label(value),
        FilterKind::Country => crate::domain::countries::name(value)
            .unwrap_or(value)
            .to_owned(),
        FilterKind::Choice => crate::domain::search::parse_choice_value(value)
            .map_or(value, |(_, option)| option)
            .to_owned(),
        _ => value.to_owned(),
    }
}

#[component]
fn FacetGroup(
    #[prop(into)] title: String,
    kind: FilterKind,
    values: Vec<FacetValue>,
) -> impl IntoView {
    if values.is_empty() {
        return ().into_any();
    }
    view! {
        <fieldset class="facet-group">
            <legend>{title}</legend>
            <ul>
                {values
                    .into_iter()
                    .map(|FacetValue { value, count, selected }| {
                        let label = value_label(kind, &value);
                        view! {
                            <li>
                                <label class="facet">
                                    <input
                                        type="checkbox"
                                        name=kind.param()
                                        value=value
                                        form="search-form"
                                        checked=selected
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
pub fn SortSelect(query: SearchQuery) -> impl IntoView {
    let current = query.sort;
    view! {
        <label class="sort">
            <span>"Sort"</span>
            <select name="sort" form="search-form">
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
