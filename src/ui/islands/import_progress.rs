//! A running import's progress (`/import/{id}`), an island.
//!
//! Rendered by the server as the job stood. Hydrated, it follows the job twice a
//! second; once the job is no longer running, the page is loaded afresh to show its
//! report. (Without JavaScript the page reloads itself, see `pages::import`.)

use std::time::Duration;

use leptos::{html, prelude::*};

use super::mark_hydrated;
use crate::{
    api::import::get_import_job,
    domain::{
        format,
        import::{ImportJob, ImportStatus},
    },
    error::AppError,
};

/// How often a running job is looked at.
const POLL: Duration = Duration::from_millis(500);

#[island(lazy)]
pub fn ImportProgress(job: ImportJob) -> impl IntoView {
    let root = NodeRef::<html::Div>::new();
    mark_hydrated(root);
    let id = job.id.to_string();
    let job = RwSignal::new(job);
    Effect::new(move |_| follow(id.clone(), job, POLL));
    view! {
        <div class="import-progress" role="status" node_ref=root>
            {move || view! { <ProgressDetail job=job.get() /> }}
        </div>
    }
}

/// Looks at the job again after `delay`, and keeps doing so while it runs.
fn follow(id: String, job: RwSignal<ImportJob>, delay: Duration) {
    set_timeout(
        move || {
            leptos::task::spawn_local(async move {
                match get_import_job(id.clone()).await {
                    Ok(now) if now.status == ImportStatus::Running => {
                        job.set(now);
                        follow(id, job, POLL);
                    }
                    Ok(_) => {
                        let _ = window().location().reload();
                    }
                    Err(AppError::TooManyRequests { retry_after_secs }) => {
                        follow(id, job, Duration::from_secs(retry_after_secs));
                    }
                    // Unreachable for a moment: keep the bar, and look again shortly.
                    Err(_) => follow(id, job, POLL * 4),
                }
            })
        },
        delay,
    );
}

/// The bar's contents: the percentage, the bar, rows, rate and time left.
#[component]
pub fn ProgressDetail(job: ImportJob) -> impl IntoView {
    let now = job.observed_at_micros;
    let percent = job.percent();
    let detail = [
        Some(format!(
            "{} of {} rows",
            format::count(job.done.rows),
            format::count(job.planned.rows)
        )),
        job.rows_per_second(now)
            .map(|rate| format!("{} rows/s", format::count(rate.round() as u64))),
        job.seconds_left(now)
            .map(|seconds| format!("about {seconds} s left")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <label for="import-progress">{format!("{percent}%")}</label>
        <progress id="import-progress" max="100" value=percent.to_string()>{format!("{percent}%")}</progress>
        <p class="muted">{detail}</p>
    }
}
