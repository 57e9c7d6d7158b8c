//! Search pages rendered once per role and served to each user as their own.

use std::{io::Read as _, time::Duration};

use roster::domain::{Role, SaveOutcome, SearchQuery};
use uuid::Uuid;

use crate::helpers::{TestApp, contact_form, eventually, save_as, spawn_app, spawn_app_with};

/// A page as a browser gets it: gzip accepted, unpacked here.
struct Page {
    cache: Option<String>,
    nonce: Option<String>,
    html: String,
}

async fn page(client: &reqwest::Client, app: &TestApp, path: &str, encoding: &str) -> Page {
    let response = client
        .get(app.url(path))
        .header("accept-encoding", encoding)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let cache = header("x-page-cache");
    let gzipped = header("content-encoding").as_deref() == Some("gzip");
    let nonce = header("content-security-policy").and_then(|policy| {
        let start = policy.find("'nonce-")? + "'nonce-".len();
        Some(policy[start..start + policy[start..].find('\'')?].to_owned())
    });
    let bytes = response.bytes().await.unwrap();
    let html = if gzipped {
        let mut html = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut html)
            .expect("a valid gzip body");
        html
    } else {
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    Page { cache, nonce, html }
}

/// The page without what legitimately differs between two renders: the nonce and the
/// search's own timing.
fn comparable(page: &Page) -> String {
    let mut html = page.html.replace(page.nonce.as_deref().unwrap(), "NONCE");
    let mut cut = |start: &str, end: &str| {
        while let Some(at) = html.find(start) {
            let Some(len) = html[at..].find(end) else {
                break;
            };
            html.replace_range(at..at + len + end.len(), "");
        }
    };
    cut("class=\"summary-time\"", "</span>");
    cut("\\\"took_micros\\\":", ",\\\"suggestion");
    html
}

/// Asserts two pages are the same, showing where they part if not.
fn assert_same(left: &str, right: &str) {
    if let Some(at) = left.bytes().zip(right.bytes()).position(|(l, r)| l != r) {
        let from = left.floor_char_boundary(at.saturating_sub(200));
        let around =
            |text: &str| text[from..text.ceil_char_boundary((at + 200).min(text.len()))].to_owned();
        panic!(
            "the pages differ at byte {at}:\n{}\n---\n{}",
            around(left),
            around(right)
        );
    }
    assert_eq!(left.len(), right.len(), "one page is longer");
}

fn search_path(text: &str) -> String {
    SearchQuery::default().with_text(text).href()
}

#[tokio::test]
async fn a_search_page_is_rendered_once_per_role_and_each_user_sees_their_own() {
    let app = spawn_app().await;
    app.seed(60).await;
    app.index_caught_up().await;
    let (ada_id, ada) = app.user("ada@example.com", Role::Editor).await;
    let (bo_id, bo) = app.user("bo.lindqvist@example.org", Role::Editor).await;
    let path = search_path("a");

    let first = page(&ada, &app, &path, "gzip, deflate, br").await;
    assert_eq!(first.cache.as_deref(), Some("miss"));
    let searches_from_kept_pages = || async {
        let metrics = app.get("/metrics").await.text().await.unwrap();
        metrics
            .lines()
            .find_map(|line| {
                line.strip_prefix(r#"search_duration_seconds_count{kind="page"}"#)?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or(0.0)
    };
    let before = searches_from_kept_pages().await;
    let second = page(&bo, &app, &path, "br, gzip").await;
    assert_eq!(
        second.cache.as_deref(),
        Some("hit"),
        "the same page for the same role"
    );
    // Bo searched, though nothing ran: the dashboard counts his search all the same.
    assert!(searches_from_kept_pages().await - before >= 1.0);

    for (page, email, (other, other_id)) in [
        (&first, "ada@example.com", ("bo.lindqvist", bo_id)),
        (&second, "bo.lindqvist@example.org", ("ada@", ada_id)),
    ] {
        let nonce = page.nonce.as_deref().expect("a policy with a nonce");
        assert!(
            page.html
                .contains(&format!("<span class=\"user-name\">{email}"))
        );
        assert!(!page.html.contains(other), "nothing of the other user");
        assert!(!page.html.contains(&other_id.to_string()));
        assert!(!page.html.contains("stand-in-"), "no stand-in left");
        // Every script the page runs carries the nonce its policy names.
        let scripts = page.html.matches("<script").count();
        assert!(scripts >= 3);
        assert_eq!(
            page.html.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts
        );
    }
    assert_ne!(
        first.nonce, second.nonce,
        "a nonce of its own for each response"
    );

    // The same page as Bo would get it rendered for him alone (no gzip: no cache).
    let rendered = page(&bo, &app, &path, "identity").await;
    assert_eq!(rendered.cache, None);
    assert_same(&comparable(&second), &comparable(&rendered));

    // Another role, another page: the admin's has the admin's links.
    let admin = page(&app.client, &app, &path, "gzip").await;
    assert_eq!(admin.cache.as_deref(), Some("miss"));
    assert!(admin.html.contains("href=\"/admin\""));
    assert!(!second.html.contains("href=\"/admin\""));
}

#[tokio::test]
async fn a_change_shows_at_once_to_its_author_and_within_a_second_to_others() {
    let app = spawn_app().await;
    app.seed(30).await;
    app.index_caught_up().await;
    let (_, ada) = app.user("ada@example.com", Role::Editor).await;
    let (_, bo) = app.user("bo@example.com", Role::Editor).await;
    // A search, and the directory's first page (newest first, from Postgres).
    let search = search_path("Zanzibar");
    let paths = [search.as_str(), "/"];
    for path in paths {
        for client in [&ada, &bo] {
            let before = page(client, &app, path, "gzip").await;
            assert!(!before.html.contains("Yusuf Zanzibar"), "{path}");
        }
        assert_eq!(
            page(&bo, &app, path, "gzip").await.cache.as_deref(),
            Some("hit"),
            "{path}"
        );
    }

    let saved = save_as(&app, &ada, &contact_form("Yusuf Zanzibar", &[])).await;
    assert!(matches!(saved, SaveOutcome::Saved { .. }), "{saved:?}");

    for path in paths {
        let author = page(&ada, &app, path, "gzip").await;
        assert!(
            author.html.contains("Yusuf Zanzibar"),
            "the author sees it at once on {path} ({:?})",
            author.cache
        );
        let seen = eventually(Duration::from_secs(1), || async {
            page(&bo, &app, path, "gzip")
                .await
                .html
                .contains("Yusuf Zanzibar")
                .then_some(())
        })
        .await;
        assert!(seen.is_some(), "others see it on {path} within a second");
    }
}

#[tokio::test]
async fn a_kept_search_page_outlives_changes_to_contacts_it_does_not_show() {
    outlives_changes_it_does_not_show(spawn_app().await).await;
}

/// The same when every search answer is read back from Redis (none kept in process):
/// the page is kept by the answer's computation, not by where it is held.
#[tokio::test]
async fn a_kept_search_page_outlives_unrelated_changes_with_answers_from_redis() {
    let app = spawn_app_with(|mut config| {
        config.search_cache_mb = 0;
        config
    })
    .await;
    outlives_changes_it_does_not_show(app).await;
}

async fn outlives_changes_it_does_not_show(app: TestApp) {
    app.seed(30).await;
    let (_, ada) = app.user("ada@example.com", Role::Editor).await;
    let (_, bo) = app.user("bo@example.com", Role::Viewer).await;
    let saved = save_as(&app, &ada, &contact_form("Quilla Zorbatrix", &[])).await;
    assert!(matches!(saved, SaveOutcome::Saved { .. }), "{saved:?}");
    app.index_caught_up().await;
    let search = search_path("Zorbatrix");
    let first = page(&bo, &app, &search, "gzip").await;
    // (The matched word is marked in the name: look for the other.)
    assert!(first.html.contains("Quilla"));
    assert_eq!(
        page(&bo, &app, &search, "gzip").await.cache.as_deref(),
        Some("hit")
    );

    // A change elsewhere moves the index on. Once the grace any answer has after the
    // index moves is over, the page is still served as kept: its search's answer was
    // checked and still holds.
    let saved = save_as(&app, &ada, &contact_form("Ulla Brandt", &[])).await;
    assert!(matches!(saved, SaveOutcome::Saved { .. }), "{saved:?}");
    app.index_caught_up().await;
    tokio::time::sleep(roster::server::search::MAX_STALENESS + Duration::from_millis(100)).await;
    let after = page(&bo, &app, &search, "gzip").await;
    assert_eq!(after.cache.as_deref(), Some("hit"));
    assert_same(&comparable(&first), &comparable(&after));

    // A change to what it shows is not outlived: the page is rendered anew with it.
    let saved = save_as(&app, &ada, &contact_form("Rosa Zorbatrix", &[])).await;
    assert!(matches!(saved, SaveOutcome::Saved { .. }), "{saved:?}");
    app.index_caught_up().await;
    tokio::time::sleep(roster::server::search::MAX_STALENESS + Duration::from_millis(100)).await;
    let changed = page(&bo, &app, &search, "gzip").await;
    assert_eq!(changed.cache.as_deref(), Some("miss"));
    assert!(changed.html.contains("Rosa") && changed.html.contains("Quilla"));
}

#[tokio::test]
async fn pages_that_are_not_plain_searches_are_rendered_for_each_request() {
    let app = spawn_app().await;
    app.seed(10).await;
    app.index_caught_up().await;
    let (_, quoted) = app.user("o'neill@example.com", Role::Editor).await;
    let search = search_path("a");
    let extra = format!("{search}&notice={}", Uuid::new_v4());
    for (client, path, who) in [
        (&app.client, "/?last=1", "admin@"),
        (&app.client, "/?sort=newest&q=a", "admin@"),
        (&app.client, extra.as_str(), "admin@"),
        (&quoted, search.as_str(), "neill@example.com"),
    ] {
        for _ in 0..2 {
            let page = page(client, &app, path, "gzip").await;
            assert_eq!(page.cache, None, "{path}");
            assert!(page.html.contains("<h1>Directory</h1>"), "{path}");
            assert!(page.html.contains(who), "{path}");
        }
    }
}
