use roster::domain::{DirectoryPage, PageRequest, page::PAGE_SIZE};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

/// One page through the server function, as the hydrated browser fetches it.
async fn fetch(app: &TestApp, request: PageRequest) -> DirectoryPage {
    let token = serde_json::to_value(request).unwrap();
    let response = app
        .client
        .get(app.url("/api/directory"))
        .query(&[("page", token.as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{request:?}");
    response.json().await.unwrap()
}

/// Every id, in the directory's order, straight from the table.
async fn expected_order(app: &TestApp) -> Vec<Uuid> {
    sqlx::query_scalar("SELECT id FROM contacts ORDER BY created_at DESC, id DESC")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

fn ids(page: &DirectoryPage) -> Vec<Uuid> {
    page.contacts.iter().map(|c| c.id).collect()
}

/// Follows `next` links from the first page to the end, checking each link pair.
async fn walk_forward(app: &TestApp) -> (Vec<Uuid>, usize) {
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut request = PageRequest::First;
    loop {
        let page = fetch(app, request).await;
        pages += 1;
        assert!(page.contacts.len() <= PAGE_SIZE);
        assert_eq!(
            page.previous.is_none(),
            pages == 1,
            "page {pages} previous link"
        );
        seen.extend(ids(&page));
        match page.next {
            Some(next) => request = next,
            None => break,
        }
        assert!(pages < 10_000, "paging does not end");
    }
    (seen, pages)
}

#[tokio::test]
async fn paging_forward_returns_every_contact_exactly_once_in_order() {
    let app = spawn_app().await;
    app.seed(173).await;

    let (seen, pages) = walk_forward(&app).await;

    assert_eq!(seen, expected_order(&app).await);
    assert_eq!(pages, 4, "173 contacts make 3 full pages and one of 23");
}

#[tokio::test]
async fn page_one_page_two_and_the_last_page_hold_the_right_rows() {
    let app = spawn_app().await;
    app.seed(173).await;
    let order = expected_order(&app).await;

    let first = fetch(&app, PageRequest::First).await;
    assert_eq!(ids(&first), order[..50]);
    let second = fetch(&app, first.next.expect("a second page")).await;
    assert_eq!(ids(&second), order[50..100]);
    assert!(second.previous.is_some() && second.next.is_some());

    let last = fetch(&app, PageRequest::Last).await;
    assert_eq!(
        ids(&last),
        order[123..],
        "the last page ends at the oldest contact"
    );
    assert!(last.next.is_none());

    // Walking back from the last page meets page one again, in order, without gaps.
    let mut seen = ids(&last);
    let mut previous = last.previous;
    while let Some(request) = previous {
        let page = fetch(&app, request).await;
        seen.splice(0..0, ids(&page));
        previous = page.previous;
    }
    assert_eq!(seen, order);
}

#[tokio::test]
async fn contacts_created_at_the_same_instant_are_neither_skipped_nor_repeated() {
    let app = spawn_app().await;
    sqlx::query(
        "INSERT INTO contacts (name, created_at)
         SELECT 'Same Moment ' || n, '2026-01-01T00:00:00Z' FROM generate_series(1, 120) AS n",
    )
    .execute(&app.db)
    .await
    .unwrap();

    let (seen, pages) = walk_forward(&app).await;

    assert_eq!(pages, 3);
    assert_eq!(seen, expected_order(&app).await);
}

#[tokio::test]
async fn the_page_renders_on_the_server_with_links_that_work_without_javascript() {
    let app = spawn_app().await;
    app.seed(120).await;
    let order = expected_order(&app).await;

    let html = app.get("/").await.text().await.unwrap();
    let rows = rendered_ids(&html);
    assert_eq!(rows, order[..50]);
    assert!(html.contains("<h1>Directory</h1>"));

    let next = link(&html, "next").expect("a Next link");
    let html = app.get(&next).await.text().await.unwrap();
    assert_eq!(rendered_ids(&html), order[50..100]);

    // The last page is aligned to the end: the 50 oldest contacts.
    let last = link(&html, "last").expect("a Last link");
    let html = app.get(&last).await.text().await.unwrap();
    assert_eq!(rendered_ids(&html), order[70..]);
    assert!(link(&html, "next").is_none(), "no Next on the last page");

    let previous = link(&html, "prev").expect("a Previous link");
    let html = app.get(&previous).await.text().await.unwrap();
    assert_eq!(rendered_ids(&html), order[20..70]);
}

#[tokio::test]
async fn a_mangled_page_link_shows_the_first_page() {
    let app = spawn_app().await;
    app.seed(60).await;
    let order = expected_order(&app).await;

    for path in [
        "/?after=garbage",
        "/?before=1.2",
        "/?after=%00%ff",
        "/?after=-1.zz",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert_eq!(rendered_ids(&html), order[..50], "{path}");
    }
}

#[tokio::test]
async fn an_empty_directory_says_so() {
    let app = spawn_app().await;

    let html = app.get("/").await.text().await.unwrap();

    assert!(html.contains("No contacts here yet."));
    assert!(link(&html, "next").is_none());
}

#[tokio::test]
async fn malformed_calls_get_400_with_a_plain_message() {
    let app = spawn_app().await;

    for query in ["", "?page=sideways", "?page=after:1.nothex", "?page=%FF%FE"] {
        let response = app.get(&format!("/api/directory{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains("The request was malformed."),
            "{query}: {body}"
        );
    }
}

#[tokio::test]
async fn an_unknown_address_gets_the_not_found_page() {
    let app = spawn_app().await;

    let response = app.get("/no/such/page").await;

    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

/// The contact ids of the rows in a rendered page, in order.
fn rendered_ids(html: &str) -> Vec<Uuid> {
    html.split("data-contact-id=\"")
        .skip(1)
        .map(|rest| Uuid::parse_str(&rest[..36]).unwrap())
        .collect()
}

/// The `href` of the pager link with this `rel`, if the page has one.
fn link(html: &str, rel: &str) -> Option<String> {
    let anchor_end = html.find(&format!("rel=\"{rel}\""))?;
    let anchor_start = html[..anchor_end].rfind("<a ")?;
    let anchor = &html[anchor_start..anchor_end];
    let href = anchor.split("href=\"").nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&"))
}

/// The directory's filters and results as the search box asks for them.
async fn parts(
    client: &reqwest::Client,
    app: &TestApp,
    query: &roster::domain::SearchQuery,
    page: PageRequest,
) -> roster::domain::DirectoryParts {
    let page = serde_json::to_value(page).unwrap();
    let response = client
        .get(app.url("/api/directory-view"))
        .query(&[
            ("query", query.to_query_string().as_str()),
            ("page", page.as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_search_box_parts_are_kept_per_answer_and_rendered_anew_when_it_changes() {
    use roster::domain::SearchQuery;
    let app = spawn_app().await;
    app.seed(60).await;
    sqlx::query("INSERT INTO contacts (name, title) VALUES ('Quentin Marlowe', 'Harbourmaster')")
        .execute(&app.db)
        .await
        .unwrap();
    app.index_caught_up().await;
    let query = SearchQuery::default().with_text("marlowe");
    let kept = || app.state.rendered.served_kept();

    let first = parts(&app.client, &app, &query, PageRequest::First).await;
    assert!(first.results_html.contains("Harbourmaster"));
    assert!(!first.results_html.contains("(cached)"));
    assert_eq!(kept(), 0);
    let again = parts(&app.client, &app, &query, PageRequest::First).await;
    assert_eq!(kept(), 1, "the same answer: the parts are served as kept");
    assert!(
        again.results_html.contains("(cached)"),
        "with this request's time"
    );
    assert_eq!(again.filters_html, first.filters_html);

    // A change to what the search shows: rendered anew, never the kept parts.
    app.write_past_staleness(
        "UPDATE contacts SET title = 'Lighthouse keeper' WHERE name = 'Quentin Marlowe'",
    )
    .await;
    let changed = parts(&app.client, &app, &query, PageRequest::First).await;
    assert!(changed.results_html.contains("Lighthouse keeper"));
    assert!(!changed.results_html.contains("Harbourmaster"));
    assert_eq!(kept(), 1);
}

#[tokio::test]
async fn the_search_box_gets_the_parts_the_page_would_show_for_its_role() {
    use roster::domain::{Role, SearchQuery};
    let app = spawn_app().await;
    app.seed(120).await;
    app.index_caught_up().await;
    let (_, viewer) = app.user("vera@example.com", Role::Viewer).await;
    let query = SearchQuery::default().with_text("a");

    // The same components render the page and the parts: the page holds them as they
    // are, for either role.
    for (client, editor) in [(&app.client, true), (&viewer, false)] {
        let parts = parts(client, &app, &query, PageRequest::First).await;
        let page = client
            .get(app.url(&query.href()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!parts.results_html.is_empty());
        // (The time the search took is the one thing that differs between two renders.)
        let untimed = |html: &str| {
            let mut html = html.to_owned();
            while let Some(at) = html.find("class=\"summary-time\"") {
                let end = at + html[at..].find("</span>").unwrap();
                html.replace_range(at..end, "");
            }
            html
        };
        assert!(untimed(&page).contains(&untimed(&parts.results_html)));
        assert!(page.contains(&parts.filters_html));
        assert!(page.contains(&format!("<title>{}</title>", parts.title)));
        assert_eq!(parts.title, "“a” · Roster");
        // Bulk selection and exports are an editor's.
        assert_eq!(parts.results_html.contains("name=\"id\""), editor);
        assert_eq!(parts.results_html.contains("/export.csv"), editor);
    }

    // Browsing, a later page of the directory.
    let order = expected_order(&app).await;
    let first = parts(
        &app.client,
        &app,
        &SearchQuery::default(),
        PageRequest::First,
    )
    .await;
    assert_eq!(rendered_ids(&first.results_html), order[..50]);
    assert_eq!(first.title, "Directory · Roster");
    let last = parts(
        &app.client,
        &app,
        &SearchQuery::default(),
        PageRequest::Last,
    )
    .await;
    assert_eq!(rendered_ids(&last.results_html), order[70..]);
}

/// A `DATABASE_READ_URL` naming a server that replays nothing (here another database
/// on the primary) is never read from: pages come from the primary and show what it
/// holds. (A real replica, and another directory's copy on it: tests/chaos.rs.)
#[tokio::test]
async fn a_read_url_naming_no_standby_is_never_read() {
    let elsewhere = crate::helpers::url_for(&crate::helpers::fresh_database().await);
    let app = crate::helpers::spawn_app_with(|mut config| {
        config.database_read_url = Some(elsewhere.into());
        config
    })
    .await;
    app.seed(3).await;
    // Nothing to wait for: the watcher looks again every WATCH_EVERY, and each look
    // must leave the pages on the primary.
    for _ in 0..10 {
        assert_eq!(fetch(&app, PageRequest::First).await.contacts.len(), 3);
        tokio::time::sleep(roster::server::db::replica::WATCH_EVERY).await;
    }
}
