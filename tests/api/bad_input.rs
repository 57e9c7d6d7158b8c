//! Bad input over HTTP: whatever arrives, the answer is a clear 4xx (never a 500),
//! nothing is lost or executed, and no response reveals how the server is built.

use reqwest::{Method, StatusCode};
use roster::domain::SaveOutcome;

use crate::helpers::{TestApp, contact_form, save, spawn_app};

/// Words that only internals would put in a response body.
const INTERNALS: &[&str] = &[
    "sqlx",
    "tantivy",
    "panicked",
    "stack backtrace",
    "src/",
    ".rs:",
    "serde",
    "error returned from database",
    "ServerFnError",
    "/root/",
    "/home/",
    "/etc/passwd",
    "root:x:0:0",
    "[package]",
];

/// Sends `request` and checks the answer: `expected` (when given) or any 4xx, and a
/// body free of internals. Returns the status and the body.
async fn check(
    what: &str,
    request: reqwest::RequestBuilder,
    expected: Option<StatusCode>,
) -> (StatusCode, String) {
    let response = request.send().await.expect("the app answers");
    let status = response.status();
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|value| value.to_str().unwrap_or_default().to_owned());
    let body = String::from_utf8_lossy(&response.bytes().await.unwrap_or_default()).into_owned();
    match expected {
        Some(expected) => assert_eq!(status, expected, "{what}: {body}"),
        None => assert!(status.is_client_error(), "{what}: {status} {body}"),
    }
    assert!(
        request_id.is_some(),
        "{what}: every answer has a request id"
    );
    for word in INTERNALS {
        assert!(
            !body.contains(word),
            "{what}: the body reveals {word:?}: {body}"
        );
    }
    (status, body)
}

fn raw(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .header("accept", "application/json")
}

#[tokio::test]
async fn unknown_routes_and_paths_outside_the_site_answer_404() {
    let app = spawn_app().await;
    let (_, page) = check(
        "an unknown page",
        app.client
            .get(app.url("/no/such/page"))
            .header("accept", "text/html"),
        Some(StatusCode::NOT_FOUND),
    )
    .await;
    assert!(page.contains("Page not found"), "{page}");
    check(
        "an unknown server function",
        raw(&app, Method::POST, "/api/no-such-function"),
        Some(StatusCode::NOT_FOUND),
    )
    .await;
    for path in [
        "/pkg/../Cargo.toml",
        "/pkg/..%2f..%2fCargo.toml",
        "/pkg/%2e%2e/%2e%2e/Cargo.toml",
        "/pkg/....//....//Cargo.toml",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/..%5c..%5cCargo.toml",
        "/pkg/%00.wasm",
        "/favicon.svg/..%2f..%2fCargo.toml",
        "/pkg//etc/passwd",
    ] {
        check(
            path,
            app.client.get(app.url(path)),
            Some(StatusCode::NOT_FOUND),
        )
        .await;
    }
}

#[tokio::test]
async fn broken_encodings_and_absurd_numbers_get_a_plain_answer() {
    let app = spawn_app().await;
    app.seed(30).await;
    app.index_caught_up().await;
    // Pages: a wrong page number or cursor shows the first page or says it is not
    // there; it never fails.
    for path in [
        "/?q=%FF%FE",
        "/?q=%ZZ",
        "/?page=99999999999999999999",
        "/?q=a&page=99999999999999999999",
        "/?q=a&page=-1",
        "/?q=a&page=abc",
        "/?q=a&page=1000000",
        "/?after=not-a-cursor",
        "/?before=%FF",
        "/?tier=9&tier=-1&tier=x",
        "/?sort=sideways",
        &format!("/?q={}", "a".repeat(20_000)),
        "/contacts/%FF",
        "/contacts/00000000-0000-0000-0000-000000000000",
        "/contacts/not-an-id/edit",
        "/import/%FF",
    ] {
        let response = app
            .client
            .get(app.url(path))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(
            status.is_success() || status.is_client_error(),
            "{path}: {status}"
        );
        let body = response.text().await.unwrap();
        for word in INTERNALS {
            assert!(!body.contains(word), "{path}: reveals {word:?}");
        }
    }
    // Search reads its query as leniently as the page's address: what it cannot read
    // it leaves out, and a page past the end is empty.
    for (what, path) in [
        ("search with a broken query", "/api/search?query=%FF%FE%ZZ"),
        (
            "search with an absurd page",
            "/api/search?query=q%3Da%26page%3D99999999999999999999",
        ),
    ] {
        check(what, raw(&app, Method::GET, path), Some(StatusCode::OK)).await;
    }
    // Server functions: malformed payloads are a 400 with a plain message.
    let bad_calls: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "a directory page with a broken cursor",
            raw(
                &app,
                Method::GET,
                "/api/directory?page=after%3Ayesterday%3A%FF",
            ),
        ),
        (
            "a directory page with no page at all",
            raw(&app, Method::GET, "/api/directory?pgae=1"),
        ),
        (
            "a contact with an id that is not one",
            raw(&app, Method::GET, "/api/contact?id=%27%20OR%201%3D1%20--"),
        ),
        (
            "a save whose body is not a form",
            raw(&app, Method::POST, "/api/save-contact")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(vec![0xff, 0xfe, 0x00, 0x80, b'=', 0xc3]),
        ),
        (
            "a delete with no id",
            raw(&app, Method::POST, "/api/delete-contact").form(&[("nothing", "")]),
        ),
        (
            "bulk with a nonsense action",
            raw(&app, Method::POST, "/api/bulk-apply")
                .form(&[("action", "drop-table"), ("ids", "not-a-uuid")]),
        ),
        (
            "an import job that does not exist",
            raw(&app, Method::GET, "/api/import-job?id=%FF"),
        ),
    ];
    for (what, request) in bad_calls {
        let (status, body) = check(what, request, None).await;
        assert!(
            !body.trim().is_empty() && status != StatusCode::INTERNAL_SERVER_ERROR,
            "{what}: {status} says something"
        );
    }
    // Saves whose fields are wrong are answered field by field, as the form shows them.
    // (A body in another format reads as an empty form.)
    let explained: Vec<(&str, reqwest::RequestBuilder, &str)> = vec![
        (
            "a save in JSON where a form is expected",
            raw(&app, Method::POST, "/api/save-contact")
                .header("content-type", "application/json")
                .body(r#"{"name": ["not", "a", "string"]}"#),
            "Enter a name, or a given or family name.",
        ),
        (
            "a save with a tier out of range",
            raw(&app, Method::POST, "/api/save-contact").form(&contact_form(
                "Tier Nine",
                &[("tier", "99999999999999999999")],
            )),
            "Choose a tier from 1 to 4.",
        ),
        (
            "a save with a name of a megabyte less one",
            raw(&app, Method::POST, "/api/save-contact")
                .form(&contact_form(&"n".repeat(1_000_000), &[])),
            "\"name\"",
        ),
    ];
    for (what, request, message) in explained {
        let (_, body) = check(what, request, Some(StatusCode::OK)).await;
        assert!(
            body.contains("Invalid") && body.contains(message),
            "{what}: {body}"
        );
    }
    // Nothing above was saved.
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 30);
}

#[tokio::test]
async fn oversize_bodies_are_refused_with_413_before_they_are_read() {
    let app = spawn_app().await;
    let big = "x".repeat(2 * 1024 * 1024);
    for path in [
        "/api/save-contact",
        "/api/sign-in",
        "/api/bulk-apply",
        "/api/vitals",
    ] {
        check(
            path,
            raw(&app, Method::POST, path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("name={big}")),
            Some(StatusCode::PAYLOAD_TOO_LARGE),
        )
        .await;
    }
    // The public routes that take a few fields refuse far less.
    let form = format!("email=a%40example.com&password={}", "x".repeat(10 * 1024));
    check(
        "/api/sign-in",
        raw(&app, Method::POST, "/api/sign-in")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form),
        Some(StatusCode::PAYLOAD_TOO_LARGE),
    )
    .await;
    check(
        "/api/vitals",
        raw(&app, Method::POST, "/api/vitals")
            .header("content-type", "application/json")
            .body(format!(
                "{{\"name\":\"LCP\",\"value\":1,\"pad\":\"{}\"}}",
                "x".repeat(10 * 1024)
            )),
        Some(StatusCode::PAYLOAD_TOO_LARGE),
    )
    .await;
}

/// Strings that would do harm if a layer used them as SQL, HTML or a header.
const HOSTILE: &[&str] = &[
    "Robert'); DROP TABLE contacts;--",
    "' OR '1'='1",
    "<script>alert('x')</script>",
    "\"><img src=x onerror=alert(1)>",
    "</textarea><script>alert(2)</script>",
    "{{7*7}} ${7*7} %s %n",
    "\u{202e}evil\u{0}null",
];

#[tokio::test]
async fn injection_strings_are_stored_as_text_and_shown_back_escaped() {
    let app = spawn_app().await;
    for (n, hostile) in HOSTILE.iter().enumerate() {
        let email = format!("hostile{n}@example.com");
        let tags = format!("tag, {hostile}");
        let name = format!("Hostile {n} {hostile}");
        let fields = [
            ("email", email.as_str()),
            ("phone", hostile),
            ("company", hostile),
            ("title", hostile),
            ("location", hostile),
            ("tags", tags.as_str()),
            ("notes", hostile),
        ];
        let outcome = save(&app, &contact_form(&name, &fields)).await;
        let id = match outcome {
            SaveOutcome::Saved { id } => id,
            // A field that the rules refuse (a phone made of letters, say) comes back
            // as a message per field, and nothing is stored.
            SaveOutcome::Invalid { .. } => {
                let without_phone: Vec<_> = fields
                    .into_iter()
                    .filter(|(field, _)| *field != "phone")
                    .collect();
                match save(&app, &contact_form(&name, &without_phone)).await {
                    SaveOutcome::Saved { id } => id,
                    other => panic!("{hostile:?} without the phone: {other:?}"),
                }
            }
            other => panic!("{hostile:?}: {other:?}"),
        };
        // Stored as typed (the null character aside, which text cannot hold).
        let (stored_company, stored_notes): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT company, notes FROM contacts WHERE id = $1")
                .bind(id)
                .fetch_one(&app.db)
                .await
                .unwrap();
        let expected = hostile.replace('\u{0}', "");
        assert_eq!(
            stored_company.as_deref(),
            Some(expected.trim()),
            "{hostile:?}"
        );
        assert_eq!(
            stored_notes.as_deref(),
            Some(expected.trim()),
            "{hostile:?}"
        );

        // Shown back escaped on every page that shows it.
        for path in [
            format!("/contacts/{id}"),
            format!("/contacts/{id}/edit"),
            format!("/?q=hostile+{n}"),
        ] {
            let response = app
                .client
                .get(app.url(&path))
                .header("accept", "text/html")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let html = response.text().await.unwrap();
            for raw_markup in ["<script>alert", "<img src=x", "</textarea><script>"] {
                assert!(
                    !html.contains(raw_markup),
                    "{path} shows {raw_markup:?} unescaped"
                );
            }
        }
    }
    app.index_caught_up().await;
    // The table is still there, holding exactly what was saved.
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, HOSTILE.len() as i64);
    assert_eq!(app.search_text("Robert DROP TABLE").await.total, 1);
    assert_eq!(app.search_text("' OR '1'='1").await.total, 1);
}
