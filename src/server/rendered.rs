//! The search box's parts — the filters and the results it swaps in as one types
//! (`api::directory::directory_view`) — rendered once per search answer and role, and
//! served again for as long as that answer is the current one.
//!
//! Rendering fifty rows and the filters was the largest part of answering a keystroke
//! (a fifth of the server's CPU at the load test's rates), and most keystrokes ask what
//! was asked before: the search cache already answers them without searching (see
//! `search::changes`), so the rendering is kept beside the answer it was made from
//! and taken again when the search cache gives that same answer (the same computation,
//! whether held in memory or read back from Redis). A new answer (the old one outdated
//! by a change) is rendered anew. The only per-request words in the parts — the time
//! the search took — are cut out of what is kept and written in for each request.

use std::{
    ops::Range,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use crate::{
    domain::{DirectoryParts, SearchPage, SearchQuery},
    server::{
        RequestContext,
        search::{CachedPage, Found},
    },
    ui::pages::directory::{Shown, time_text},
};

/// The summary's time element, in the rendered results.
const TIME_CLASS: &str = "class=\"summary-time\"";

/// Parts as they were rendered from one answer, with where their time text is.
struct Kept {
    answer: Arc<CachedPage>,
    parts: DirectoryParts,
    /// The time text's bytes in `parts.results_html` (none: the parts show no time).
    time: Option<Range<usize>>,
}

impl Kept {
    fn new(answer: Arc<CachedPage>, parts: DirectoryParts) -> Kept {
        let time = time_span(&parts.results_html);
        Kept {
            answer,
            parts,
            time,
        }
    }

    /// The parts, saying `time` took the search.
    fn with_time(&self, time: &str) -> DirectoryParts {
        let Some(span) = self.time.clone() else {
            return self.parts.clone();
        };
        let html = &self.parts.results_html;
        let mut results_html = String::with_capacity(html.len() + time.len());
        results_html.push_str(&html[..span.start]);
        results_html.push_str(time);
        results_html.push_str(&html[span.end..]);
        DirectoryParts {
            results_html,
            ..self.parts.clone()
        }
    }

    fn size(&self) -> usize {
        self.parts.title.len() + self.parts.filters_html.len() + self.parts.results_html.len()
    }
}

/// The text inside the summary's time element.
fn time_span(html: &str) -> Option<Range<usize>> {
    let opening = html.find(TIME_CLASS)?;
    let start = opening + html[opening..].find('>')? + 1;
    let end = start + html[start..].find("</span>")?;
    Some(start..end)
}

pub struct RenderedParts {
    entries: moka::sync::Cache<String, Arc<Kept>>,
    enabled: bool,
    /// Parts served from what was kept, since the start.
    served_kept: AtomicU64,
}

impl RenderedParts {
    /// Keeps at most `megabytes` of rendered parts (about 40 KB each); 0 renders them
    /// for every request.
    pub fn new(megabytes: u64) -> Self {
        RenderedParts {
            entries: moka::sync::Cache::builder()
                .max_capacity(megabytes * 1024 * 1024)
                .weigher(|key: &String, kept: &Arc<Kept>| {
                    u32::try_from(key.len() + kept.size()).unwrap_or(u32::MAX)
                })
                .build(),
            enabled: megabytes > 0,
            served_kept: AtomicU64::new(0),
        }
    }

    /// How many parts were served as kept rather than rendered.
    pub fn served_kept(&self) -> u64 {
        self.served_kept.load(Ordering::Relaxed)
    }

    /// The filters and results of the directory itself (`query` is a browse): listed
    /// from Postgres, never kept.
    pub async fn browse_parts(
        &self,
        query: SearchQuery,
        page: crate::domain::PageRequest,
        can_edit: bool,
    ) -> DirectoryParts {
        Shown::load(query, page, can_edit).await.render()
    }

    /// The filters and results for `query` (not a browse of the directory), for a
    /// user who can edit or not.
    pub async fn search_parts(
        &self,
        cx: &RequestContext,
        query: SearchQuery,
        can_edit: bool,
    ) -> DirectoryParts {
        let started = Instant::now();
        let written = cx.written_position().await;
        let (answer, cached) = match cx.state.search.answer(query.clone(), written).await {
            Ok(Found::Kept(answer)) => (answer, true),
            Ok(Found::Computed(answer)) => (answer, false),
            Ok(Found::Fallback(page)) => {
                return Shown::searched(query, Ok(*page), can_edit).render();
            }
            Err(error) => {
                return Shown::searched(query, cx.finish(Err(error)), can_edit).render();
            }
        };
        // The choice facets are named by the custom fields, which the kept parts must
        // match too.
        let fields = if answer.page.facets.choices.is_empty() {
            None
        } else {
            match cx.state.search.custom_fields().await {
                Ok(fields) => Some(fields),
                Err(error) => {
                    return Shown::searched(query, cx.finish(Err(error)), can_edit).render();
                }
            }
        };
        let named_by = fields
            .as_deref()
            .map_or(0, crate::server::search::names_key);
        let key = format!("{can_edit}|{named_by}|{}", query.to_query_string());
        if let Some(kept) = self
            .entries
            .get(&key)
            .filter(|kept| kept.answer.is_same_answer(&answer))
        {
            metrics::counter!("rendered_parts_total", "outcome" => "kept").increment(1);
            self.served_kept.fetch_add(1, Ordering::Relaxed);
            return kept.with_time(&time_text(started.elapsed().as_micros() as u64, true));
        }
        let mut page = SearchPage {
            cached,
            took_micros: started.elapsed().as_micros() as u64,
            ..answer.page.clone()
        };
        if let Some(fields) = &fields {
            crate::server::search::name_choice_facets(&mut page.facets, fields);
        }
        let parts = Shown::searched(query, Ok(page), can_edit).render();
        metrics::counter!("rendered_parts_total", "outcome" => "rendered").increment(1);
        if self.enabled {
            self.entries
                .insert(key, Arc::new(Kept::new(answer, parts.clone())));
        }
        parts
    }
}

/// The dashboard's tiles and panels as its page shows them: what its refresh swaps in.
pub fn dashboard_body(dashboard: crate::domain::dashboard::Dashboard) -> String {
    use crate::ui::pages::admin_dashboard::DashboardBody;
    use leptos::prelude::*;
    view! { <DashboardBody dashboard /> }.to_html()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(results_html: &str) -> DirectoryParts {
        DirectoryParts {
            title: "“ada” · Roster".to_owned(),
            filters_html: "<ul></ul>".to_owned(),
            results_html: results_html.to_owned(),
        }
    }

    #[test]
    fn the_time_is_written_in_for_each_request() {
        let answer = Arc::new(CachedPage::new(1, 1, SearchPage::default()));
        let html = format!(
            "<p class=\"summary\"><span class=\"summary-count\">3 contacts match</span>\
             <span title=\"Time the server took\" {TIME_CLASS}>{}</span></p><table></table>",
            time_text(2_100, false)
        );
        let kept = Kept::new(answer, parts(&html));
        let served = kept.with_time(&time_text(80, true));
        assert_eq!(
            served.results_html,
            html.replace(" · 2.1 ms", " · 0.1 ms (cached)")
        );
        assert_eq!(served.title, kept.parts.title);
        assert_eq!(served.filters_html, kept.parts.filters_html);

        // Parts without a time (an error shown instead of results) are served as kept.
        let plain = Kept::new(
            Arc::new(CachedPage::new(1, 1, SearchPage::default())),
            parts("<p class=\"notice\">Not now</p>"),
        );
        assert_eq!(
            plain.with_time(" · 1 ms").results_html,
            "<p class=\"notice\">Not now</p>"
        );
    }
}
