//! `/admin` (admins only): is Roster healthy and fast, and if not, why. A status strip
//! (one tile per alert rule and per dependency), then the fleet's panels for the chosen
//! period, per instance too, and the audit log. Rendered whole on the server (charts
//! are SVG), so it reads without JavaScript; its refresh control is an island that
//! swaps in the panels rendered anew every few seconds (selectable, pausable, and
//! paused while the tab is hidden).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::admin::{audit_log, dashboard},
    domain::{
        AuditAction,
        dashboard::{AuditPage, Dashboard, LatencyRow, Period},
        format::{self, amount},
        search::encode_component,
    },
    error::AppError,
    ui::{
        components::{BarChart, ErrorNotice, LineChart},
        islands::DashboardRefresh,
    },
};

fn millis(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |value| amount(value, "ms"))
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(
        || "—".to_owned(),
        |value| format::count(value.round() as u64),
    )
}

/// The query string's pairs, in order.
fn pairs(query: leptos_router::params::ParamsMap) -> Vec<(String, String)> {
    query
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// A link to the page with one query value changed (the others kept).
fn link_with(query: &[(String, String)], key: &str, value: &str) -> String {
    let mut parts: Vec<String> = query
        .iter()
        .filter(|(name, _)| name != key && name != "before")
        .map(|(name, value)| format!("{name}={}", encode_component(value)))
        .collect();
    parts.push(format!("{key}={}", encode_component(value)));
    format!("/admin?{}", parts.join("&"))
}

#[component]
pub fn AdminDashboardPage() -> impl IntoView {
    let pairs = use_query_map().with_untracked(|query| pairs(query.clone()));
    let period = Period::parse(
        pairs
            .iter()
            .find_map(|(name, value)| (name == "period").then_some(value.as_str()))
            .unwrap_or_default(),
    );
    let snapshot = Resource::new(
        move || period,
        |period| dashboard(period.as_str().to_owned()),
    );
    let periods = Period::ALL
        .into_iter()
        .map(|choice| {
            view! {
                <a href=link_with(&pairs, "period", choice.as_str()) aria-current=(choice == period).then_some("page")>
                    {choice.label()}
                </a>
            }
        })
        .collect_view();
    let reload = link_with(&pairs, "period", period.as_str());

    view! {
        <Title text="Dashboard" />
        <div class="page-head dashboard-head">
            <h1>"Dashboard"</h1>
            <nav class="period-selector" aria-label="Period">{periods}</nav>
            <DashboardRefresh period reload />
        </div>
        <div id="dashboard-body">
            <Suspense fallback=|| view! { <p class="loading">"Loading the dashboard…"</p> }>
                {move || Suspend::new(async move {
                    match snapshot.await {
                        Ok(dashboard) => view! { <DashboardBody dashboard /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
        <AuditLog />
    }
}

/// The tiles and panels of one snapshot: what the page shows, and what its refresh
/// (`islands::DashboardRefresh`) swaps in.
#[component]
pub fn DashboardBody(dashboard: Dashboard) -> impl IntoView {
    let search_count = dashboard.search_count();
    let statements: Vec<LatencyRow> = dashboard
        .pool
        .acquire
        .clone()
        .into_iter()
        .chain(dashboard.pool.queries.clone())
        .collect();
    let period = dashboard.period.label();
    view! {
        <ul class="tiles" aria-label="Status">
            {dashboard.tiles.into_iter().map(|tile| view! {
                <li class=format!("tile tile-{}", tile.level.class()) data-testid="tile">
                    <span class="tile-name">{tile.name}</span>
                    <strong class="tile-level">{tile.level.label()}</strong>
                    <span class="tile-value">{tile.value}</span>
                    <span class="tile-threshold">{tile.threshold}</span>
                    <span class="tile-note">{tile.note}</span>
                </li>
            }).collect_view()}
        </ul>
        <p class="summary">
            {format!("The last {period}, all instances; answered by {}.", dashboard.served_by)}
        </p>
        <div class="panels">
            <section class="panel">
                <h2>"Requests"</h2>
                <LineChart chart=dashboard.traffic label="Requests and errors per second" />
                <LineChart chart=dashboard.latency label="Request latency" />
            </section>
            <section class="panel" data-testid="search-panel">
                <h2>"Search"</h2>
                <p>
                    <strong data-testid="search-count">{format::count(search_count)}</strong>
                    {format!(" searches in the last {period}")}
                </p>
                <BarChart bars=dashboard.search_histogram label="Search latency" />
                <LatencyTable rows=dashboard.searches first="Kind" />
            </section>
            <section class="panel">
                <h2>"Cache"</h2>
                <table class="data">
                    <thead><tr><th scope="col">"Namespace"</th><th scope="col">"Hits"</th><th scope="col">"Misses"</th><th scope="col">"Hit ratio"</th></tr></thead>
                    <tbody>
                        {dashboard.cache.into_iter().map(|row| {
                            let ratio = row.ratio().map_or_else(|| "—".to_owned(), |ratio| format!("{:.1}%", ratio * 100.0));
                            view! { <tr><td>{row.namespace}</td><td>{format::count(row.hits)}</td><td>{format::count(row.misses)}</td><td>{ratio}</td></tr> }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
            <section class="panel">
                <h2>"Database"</h2>
                <dl class="figures">
                    <dt>"Connections in use"</dt><dd>{number(dashboard.pool.in_use)}</dd>
                    <dt>"Idle"</dt><dd>{number(dashboard.pool.idle)}</dd>
                    <dt>"Maximum"</dt><dd>{number(dashboard.pool.max)}</dd>
                </dl>
                <LatencyTable rows=statements first="Statement" />
            </section>
            <section class="panel">
                <h2>"Redis"</h2>
                <LineChart chart=dashboard.redis_chart label="Redis command latency" />
                <p>{format!("{} failed commands", format::count(dashboard.redis.errors))}</p>
                <LatencyTable rows=dashboard.redis.commands first="Command" />
            </section>
            <section class="panel">
                <h2>"Sessions, index, imports"</h2>
                <dl class="figures">
                    <dt>"Open sessions"</dt><dd>{number(dashboard.state.sessions_active)}</dd>
                    <dt>"Index documents"</dt><dd>{number(dashboard.state.index_documents)}</dd>
                    <dt>"Index lag (changes)"</dt><dd>{number(dashboard.state.index_lag)}</dd>
                    <dt>"Imports running"</dt><dd>{number(dashboard.state.imports_running)}</dd>
                    <dt>"Imports awaiting commit"</dt><dd>{number(dashboard.state.imports_waiting)}</dd>
                    <dt>"Rows imported"</dt><dd>{format::count(dashboard.state.import_rows)}</dd>
                </dl>
            </section>
            <section class="panel">
                <h2>"Web vitals (p75)"</h2>
                <table class="data">
                    <thead><tr><th scope="col">"Vital"</th><th scope="col">"p75"</th><th scope="col">"Rating"</th><th scope="col">"Page views"</th></tr></thead>
                    <tbody>
                        {dashboard.vitals.into_iter().map(|row| {
                            let value = row.p75.map_or_else(|| "—".to_owned(), |value| if row.unit.is_empty() { format!("{value:.3}") } else { amount(value, &row.unit) });
                            view! { <tr><td>{row.name}</td><td>{value}</td><td>{row.rating}</td><td>{format::count(row.samples)}</td></tr> }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
            <section class="panel">
                <h2>"Instances"</h2>
                <table class="data">
                    <thead><tr><th scope="col">"Instance"</th><th scope="col">"Requests"</th><th scope="col">"Errors"</th><th scope="col">"p99"</th><th scope="col">"Pool"</th><th scope="col">"Index lag"</th><th scope="col">"Last seen"</th></tr></thead>
                    <tbody>
                        {dashboard.instances.into_iter().map(|row| {
                            let pool = format!("{} / {}", number(row.pool_in_use), number(row.pool_max));
                            view! {
                                <tr data-testid="instance">
                                    <td>{row.instance}</td>
                                    <td>{format::count(row.requests)}</td>
                                    <td>{format::count(row.errors)}</td>
                                    <td>{millis(row.p99_ms)}</td>
                                    <td>{pool}</td>
                                    <td>{number(row.index_lag)}</td>
                                    <td>{format::date_time(row.last_seen_ms * 1_000)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
            <section class="panel panel-wide">
                <h2>"Slowest routes"</h2>
                <LatencyTable rows=dashboard.routes first="Route" />
                <h3>"Slow requests"</h3>
                {if dashboard.slow.is_empty() {
                    view! { <p>"None in this period."</p> }.into_any()
                } else {
                    view! {
                        <table class="data">
                            <thead><tr><th scope="col">"When"</th><th scope="col">"Route"</th><th scope="col">"Status"</th><th scope="col">"Time"</th><th scope="col">"Request id"</th><th scope="col">"Instance"</th></tr></thead>
                            <tbody>
                                {dashboard.slow.into_iter().map(|row| view! {
                                    <tr>
                                        <td>{format::date_time(row.at_ms * 1_000)}</td>
                                        <td>{row.route}</td>
                                        <td>{row.status}</td>
                                        <td>{amount(row.millis, "ms")}</td>
                                        <td><code>{row.request_id}</code></td>
                                        <td>{row.instance}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </section>
            <section class="panel panel-wide">
                <h2>"Recent errors"</h2>
                {if dashboard.errors.is_empty() {
                    view! { <p>"None in this period."</p> }.into_any()
                } else {
                    let lines = dashboard.errors.clone();
                    view! {
                        <table class="data">
                            <thead><tr><th scope="col">"Kind"</th><th scope="col">"Count"</th><th scope="col">"Last seen"</th><th scope="col">"Request id"</th><th scope="col">"Instance"</th></tr></thead>
                            <tbody>
                                {dashboard.errors.into_iter().map(|row| {
                                    let anchor = format!("#log-{}", row.request_id);
                                    view! {
                                        <tr>
                                            <td>{row.kind}</td>
                                            <td>{format::count(row.count)}</td>
                                            <td>{format::date_time(row.last_at_ms * 1_000)}</td>
                                            <td><a href=anchor><code>{row.request_id}</code></a></td>
                                            <td>{row.instance}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <h3>"Their log lines"</h3>
                        <ol class="log-lines">
                            {lines.into_iter().map(|row| view! {
                                <li id=format!("log-{}", row.request_id)><code>{row.log_line}</code></li>
                            }).collect_view()}
                        </ol>
                    }.into_any()
                }}
            </section>
            <section class="panel">
                <h2>"Rate-limited clients"</h2>
                {if dashboard.limited.is_empty() {
                    view! { <p>"None in this period."</p> }.into_any()
                } else {
                    view! {
                        <table class="data">
                            <thead><tr><th scope="col">"Client"</th><th scope="col">"Limit"</th><th scope="col">"Refused"</th></tr></thead>
                            <tbody>
                                {dashboard.limited.into_iter().map(|row| view! {
                                    <tr><td>{row.client}</td><td>{row.policy}</td><td>{format::count(row.count)}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </section>
            <section class="panel" id="attacked-admins">
                <h2>"Admin accounts under failed sign-ins"</h2>
                {if dashboard.attacked_admins.is_empty() {
                    view! { <p>"None in the last 15 minutes."</p> }.into_any()
                } else {
                    view! {
                        <p>"Sign-ins to these accounts keep failing. Attempts from the failing clients are slowed down; the owner, signing in from elsewhere, is not."</p>
                        <table class="data">
                            <thead><tr><th scope="col">"Account"</th><th scope="col">"Last failure"</th></tr></thead>
                            <tbody>
                                {dashboard.attacked_admins.into_iter().map(|row| view! {
                                    <tr><td>{row.email}</td><td>{format::date_time(row.last_at_ms * 1_000)}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </section>
        </div>
    }
}

#[component]
fn LatencyTable(rows: Vec<LatencyRow>, first: &'static str) -> impl IntoView {
    view! {
        <table class="data">
            <thead><tr><th scope="col">{first}</th><th scope="col">"Count"</th><th scope="col">"p50"</th><th scope="col">"p90"</th><th scope="col">"p99"</th><th scope="col">"p99.9"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|row| view! {
                    <tr>
                        <td>{row.name}</td>
                        <td>{format::count(row.count)}</td>
                        <td>{millis(row.p50_ms)}</td>
                        <td>{millis(row.p90_ms)}</td>
                        <td>{millis(row.p99_ms)}</td>
                        <td>{millis(row.p999_ms)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The audit log with its filters (a plain GET form: the filters are in the URL).
#[component]
fn AuditLog() -> impl IntoView {
    let query = use_query_map();
    let field = move |name: &str| query.read().get(name).unwrap_or_default();
    let page = Resource::new(
        move || {
            (
                field("who"),
                field("action"),
                field("date"),
                field("before"),
            )
        },
        |(who, action, date, before)| audit_log(who, action, date, before),
    );
    view! {
        <section class="panel panel-wide audit" aria-labelledby="audit-title">
            <h2 id="audit-title">"Audit log"</h2>
            <form method="get" action="/admin" class="audit-filters">
                <input type="hidden" name="period" value=move || field("period") />
                <label>"Who " <input type="search" name="who" value=move || field("who") placeholder="part of an email" /></label>
                <label>
                    "Action "
                    <select name="action">
                        <option value="" selected=move || field("action").is_empty()>"any"</option>
                        {AuditAction::ALL
                        .into_iter()
                        .map(|action| view! {
                            <option value=action.as_str() selected=move || field("action") == action.as_str()>{action.as_str()}</option>
                        })
                        .collect_view()}
                    </select>
                </label>
                <label>"Day (UTC) " <input type="date" name="date" value=move || field("date") /></label>
                <button type="submit" class="button">"Filter"</button>
            </form>
            <Suspense fallback=|| view! { <p class="loading">"Loading the audit log…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <AuditTable page /> }.into_any(),
                        Err(error) => view! { <AuditError error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AuditError(error: AppError) -> impl IntoView {
    view! { <ErrorNotice error /> }
}

#[component]
fn AuditTable(page: AuditPage) -> impl IntoView {
    let query = use_query_map();
    if page.entries.is_empty() {
        return view! { <p>"No entries match."</p> }.into_any();
    }
    let older = page.next_before.map(|before| {
        let pairs = pairs(query.get_untracked());
        view! { <a class="button" href=link_with(&pairs, "before", &before.to_string())>"Older entries"</a> }
    });
    view! {
        <table class="data" data-testid="audit-table">
            <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"Action"</th><th scope="col">"Contact"</th><th scope="col">"What"</th><th scope="col">"From"</th><th scope="col">"Request id"</th></tr></thead>
            <tbody>
                {page.entries.into_iter().map(|entry| {
                    let contact = entry.contact_name.clone().unwrap_or_else(|| "(purged)".to_owned());
                    view! {
                        <tr>
                            <td>{format::date_time(entry.at_micros)}</td>
                            <td>{entry.actor.unwrap_or_else(|| "—".to_owned())}</td>
                            <td>{entry.action.as_str()}</td>
                            <td><a href=format!("/contacts/{}", entry.contact_id)>{contact}</a></td>
                            <td>{entry.summary}</td>
                            <td>{entry.ip.unwrap_or_default()}</td>
                            <td><code>{entry.request_id.unwrap_or_default()}</code></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {older}
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_other_filters_and_restart_paging() {
        let query = vec![
            ("who".to_owned(), "ann b".to_owned()),
            ("before".to_owned(), "40".to_owned()),
            ("period".to_owned(), "15m".to_owned()),
        ];
        assert_eq!(
            link_with(&query, "period", "1h"),
            "/admin?who=ann%20b&period=1h"
        );
        assert_eq!(
            link_with(&query, "before", "20"),
            "/admin?who=ann%20b&period=15m&before=20"
        );
    }
}
