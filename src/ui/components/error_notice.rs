//! An error, told to the person in plain words. A rate-limited read says when it will
//! be tried again, and is: the pages' resources follow [`retry_tick`], which moves on
//! once the delay the server gave has passed.

use leptos::prelude::*;

use crate::error::AppError;

/// Moves on each time a refused read may be tried again.
#[derive(Clone, Copy)]
pub struct RetryClock(RwSignal<u32>);

pub fn provide_retry_clock() {
    provide_context(RetryClock(RwSignal::new(0)));
}

/// Read in a resource's source: the resource loads again when a rate-limited read may
/// be retried.
pub fn retry_tick() -> u32 {
    use_context::<RetryClock>().map_or(0, |clock| clock.0.get())
}

#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    if let AppError::TooManyRequests { retry_after_secs } = error {
        let clock = use_context::<RetryClock>();
        Effect::new(move |_| {
            if let Some(RetryClock(tick)) = clock {
                set_timeout(
                    move || tick.update(|tick| *tick += 1),
                    std::time::Duration::from_secs(retry_after_secs),
                );
            }
        });
        return view! {
            <div class="notice notice-warning" role="status">
                {format!("Roster is receiving too many requests from you. Trying again in {retry_after_secs} s…")}
            </div>
        }
        .into_any();
    }
    view! {
        <div class="notice notice-error" role="alert">
            {error.to_string()}
        </div>
    }
    .into_any()
}
