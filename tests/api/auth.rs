//! Accounts and protection: sign-in, roles on every server function, sessions and their
//! timeouts, revocation, cross-site refusal, rate limits, headers and body limits.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode};
use roster::domain::Role;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, PrivateRedis, TestApp, attempt_sign_in, eventually, new_client,
    save, sign_in, spawn_app, spawn_app_with, spawn_process,
};

/// Every server function with the least role that may call it. A server function that
/// is not listed here fails `every_server_function_checks_the_role`, so a new one
/// cannot ship without a decision.
const SERVER_FUNCTIONS: &[(&str, Option<Role>)] = &[
    ("/api/sign-in", None),
    ("/api/notice", None),
    ("/api/me", Some(Role::Viewer)),
    ("/api/search", Some(Role::Viewer)),
    ("/api/directory", Some(Role::Viewer)),
    ("/api/directory-view", Some(Role::Viewer)),
    ("/api/contact", Some(Role::Viewer)),
    ("/api/contact-history", Some(Role::Viewer)),
    ("/api/contact-relations", Some(Role::Viewer)),
    ("/api/upcoming-birthdays", Some(Role::Viewer)),
    ("/api/company", Some(Role::Viewer)),
    ("/api/company-names", Some(Role::Viewer)),
    ("/api/custom-fields", Some(Role::Viewer)),
    ("/api/contact-form", Some(Role::Editor)),
    ("/api/save-contact", Some(Role::Editor)),
    ("/api/delete-contact", Some(Role::Editor)),
    ("/api/restore-contact", Some(Role::Editor)),
    ("/api/merge-contacts", Some(Role::Editor)),
    ("/api/save-company", Some(Role::Editor)),
    ("/api/bulk-preview", Some(Role::Editor)),
    ("/api/bulk-apply", Some(Role::Editor)),
    ("/api/import-job", Some(Role::Editor)),
    ("/api/remap-import", Some(Role::Editor)),
    ("/api/start-import", Some(Role::Editor)),
    ("/api/recent-imports", Some(Role::Editor)),
    ("/api/admin/users", Some(Role::Admin)),
    ("/api/admin/set-role", Some(Role::Admin)),
    ("/api/admin/set-disabled", Some(Role::Admin)),
    ("/api/admin/revoke", Some(Role::Admin)),
    ("/api/admin/dashboard", Some(Role::Admin)),
    ("/api/admin/dashboard-view", Some(Role::Admin)),
    ("/api/admin/audit", Some(Role::Admin)),
    ("/api/admin/add-field", Some(Role::Admin)),
    ("/api/admin/save-field", Some(Role::Admin)),
    ("/api/admin/retire-field", Some(Role::Admin)),
    ("/api/admin/move-field", Some(Role::Admin)),
    // Last: it ends the caller's session.
    ("/api/sign-out", Some(Role::Viewer)),
];

async fn call(client: &reqwest::Client, app: &TestApp, path: &str, method: &Method) -> StatusCode {
    let request = if *method == Method::GET {
        client.get(app.url(path))
    } else {
        client.post(app.url(path)).form(&[("unused", "")])
    };
    request
        .header("accept", "application/json")
        .send()
        .await
        .expect("the app answers")
        .status()
}

#[tokio::test]
async fn every_server_function_checks_the_role() {
    let app = spawn_app().await;
    let registered: BTreeSet<(String, Method)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| (path.to_owned(), method))
        .collect();
    let listed: BTreeSet<String> = SERVER_FUNCTIONS
        .iter()
        .map(|(path, _)| (*path).to_owned())
        .collect();
    let registered_paths: BTreeSet<String> =
        registered.iter().map(|(path, _)| path.clone()).collect();
    assert_eq!(
        registered_paths, listed,
        "every server function has a role decision"
    );
    // Changes go by POST only.
    for (path, method) in &registered {
        let is_read = matches!(
            path.as_str(),
            "/api/notice"
                | "/api/me"
                | "/api/search"
                | "/api/directory"
                | "/api/directory-view"
                | "/api/contact"
                | "/api/contact-history"
                | "/api/contact-relations"
                | "/api/upcoming-birthdays"
                | "/api/company"
                | "/api/company-names"
                | "/api/custom-fields"
                | "/api/contact-form"
                | "/api/bulk-preview"
                | "/api/import-job"
                | "/api/recent-imports"
                | "/api/admin/users"
                | "/api/admin/dashboard"
                | "/api/admin/dashboard-view"
                | "/api/admin/audit"
        );
        assert_eq!(*method == Method::GET, is_read, "{path} is {method}");
    }

    let mut callers = vec![(None, app.stranger())];
    for role in Role::ALL {
        let (_, client) = app.user(&format!("{role}@matrix.example"), role).await;
        callers.push((Some(role), client));
    }
    for (path, needed) in SERVER_FUNCTIONS {
        let method = &registered.iter().find(|(each, _)| each == path).unwrap().1;
        for (role, client) in &callers {
            let status = call(client, &app, path, method).await;
            let allowed = match (needed, role) {
                (None, _) => true,
                (Some(needed), Some(role)) => role.allows(*needed),
                (Some(_), None) => false,
            };
            match (allowed, role) {
                (true, _) => assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{path} as {role:?}: {status}"
                ),
                (false, None) => {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} as a stranger")
                }
                (false, Some(_)) => assert_eq!(status, StatusCode::FORBIDDEN, "{path} as {role:?}"),
            }
        }
    }
}

#[tokio::test]
async fn a_viewer_changes_nothing_whatever_it_calls() {
    let app = spawn_app().await;
    let saved = save(&app, &[("name", "Ada Viewer-Proof")]).await;
    let roster::domain::SaveOutcome::Saved { id } = saved else {
        panic!("saved: {saved:?}")
    };
    // The history names who made the change.
    let history: Vec<roster::domain::HistoryEntry> = app
        .get(&format!("/api/contact-history?id={id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history[0].actor.as_deref(), Some(ADMIN_EMAIL));
    let (_, viewer) = app.user("viewer@example.com", Role::Viewer).await;
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        viewer
            .post(app.url(path))
            .header("accept", "application/json")
            .form(&form)
            .send()
    };
    let created = post("/api/save-contact", vec![("name", "Mallory".to_owned())])
        .await
        .unwrap();
    assert_eq!(created.status(), 403);
    let deleted = post("/api/delete-contact", vec![("id", id.to_string())])
        .await
        .unwrap();
    assert_eq!(deleted.status(), 403);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts WHERE deleted_at IS NULL")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1, "nothing created, nothing deleted");
    // Exports and uploads are for editors too; reading is not.
    let export = viewer.get(app.url("/export.csv")).send().await.unwrap();
    assert_eq!(export.status(), 403);
    let page = viewer
        .get(app.url(&format!("/contacts/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Ada Viewer-Proof"));
    assert!(
        !html.contains(&format!("/contacts/{id}/edit")),
        "no edit control for a viewer"
    );
}

#[tokio::test]
async fn strangers_are_sent_to_sign_in() {
    let app = spawn_app().await;
    let stranger = app.stranger();
    let page = stranger
        .get(app.url("/contacts/new?x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(
        page.headers()["location"],
        "/login?next=/contacts/new%3Fx%3D1"
    );
    let api = stranger.get(app.url("/api/search")).send().await.unwrap();
    assert_eq!(api.status(), 401);
    let login = stranger.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    assert!(
        login.headers().get("set-cookie").is_none(),
        "no session for a stranger"
    );
    let html = login.text().await.unwrap();
    for needle in [
        r#"for="login-email""#,
        r#"for="login-password""#,
        "Sign in</button>",
    ] {
        assert!(html.contains(needle), "the sign-in form has {needle}");
    }
    assert_eq!(
        stranger
            .get(app.url("/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// The session cookie a response sets, as `name=value`.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|cookie| cookie.starts_with("roster="))
        .map(|cookie| cookie.split(';').next().unwrap().to_owned())
}

async fn sign_in_with_cookie(
    app: &TestApp,
    cookie: Option<&str>,
    password: &str,
) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = client
        .post(app.url("/api/sign-in"))
        .header("accept", "application/json")
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", ADMIN_EMAIL), ("password", password)]);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

async fn status_with_cookie(app: &TestApp, cookie: &str, path: &str) -> StatusCode {
    reqwest::Client::new()
        .get(app.url(path))
        .header("cookie", cookie)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn signing_in_renews_the_session_and_signing_out_ends_it() {
    let app = spawn_app().await;
    let first = sign_in_with_cookie(&app, None, ADMIN_PASSWORD).await;
    assert_eq!(first.status(), 200);
    let cookie = session_cookie(&first).expect("a session cookie");
    let attributes = first.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        attributes.contains("httponly") && attributes.contains("samesite=lax"),
        "{attributes}"
    );
    assert!(
        !attributes.contains("secure"),
        "plain HTTP in tests: {attributes}"
    );
    assert_eq!(status_with_cookie(&app, &cookie, "/api/me").await, 200);

    // Signing in again from that session gives it a new id; the old one is worthless.
    let second = sign_in_with_cookie(&app, Some(&cookie), ADMIN_PASSWORD).await;
    let renewed = session_cookie(&second).expect("a new session cookie");
    assert_ne!(renewed, cookie);
    assert_eq!(status_with_cookie(&app, &cookie, "/api/me").await, 401);
    assert_eq!(status_with_cookie(&app, &renewed, "/api/me").await, 200);

    // Signing out deletes the session from the store.
    let out = reqwest::Client::new()
        .post(app.url("/api/sign-out"))
        .header("cookie", &renewed)
        .header("sec-fetch-site", "same-origin")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert_eq!(status_with_cookie(&app, &renewed, "/api/me").await, 401);
}

#[tokio::test]
async fn a_wrong_email_or_password_gets_one_message() {
    let app = spawn_app().await;
    let client = new_client();
    let attempt = |email, password| attempt_sign_in(&client, &app.address, email, password);
    let wrong_password = attempt(ADMIN_EMAIL, "not the password").await;
    assert_eq!(wrong_password.status(), 400);
    let wrong_password = wrong_password.text().await.unwrap();
    let wrong_email = attempt("nobody@example.com", "not the password")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(wrong_password, wrong_email);
    assert!(
        wrong_password.contains("email or password"),
        "{wrong_password}"
    );
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_lifetime() {
    let app = spawn_app_with(|mut config| {
        config.session_idle_secs = 3;
        config
    })
    .await;
    let (_, client) = app.user("idle@example.com", Role::Viewer).await;
    let me = || async {
        client
            .get(app.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status()
    };
    // Activity keeps it alive past the idle timeout…
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(me().await, 200);
    }
    // …and idleness ends it.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(me().await, 401);

    let app = spawn_app_with(|mut config| {
        config.session_lifetime_secs = 3;
        config
    })
    .await;
    let (_, client) = app.user("busy@example.com", Role::Viewer).await;
    let signed_in = Instant::now();
    let ended = eventually(Duration::from_secs(10), || async {
        (client
            .get(app.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status()
            == 401)
            .then(|| signed_in.elapsed())
    })
    .await
    .expect("the session ends at its lifetime, however active");
    assert!(ended >= Duration::from_secs(2), "ended after {ended:?}");
}

#[tokio::test]
async fn disabling_or_demoting_a_user_ends_their_sessions() {
    let app = spawn_app().await;
    let (id, first) = app.user("editor@example.com", Role::Editor).await;
    let second = new_client();
    sign_in(
        &second,
        &app.address,
        "editor@example.com",
        "a long enough password",
    )
    .await;
    let status = |client: &reqwest::Client| {
        let request = client.get(app.url("/api/me"));
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(status(&first).await, 200);

    // The admin sees both sessions.
    let users: roster::domain::account::UsersPage =
        app.get("/api/admin/users").await.json().await.unwrap();
    let listed = users.users.iter().find(|user| user.id == id).unwrap();
    assert_eq!(listed.sessions.len(), 2);

    // Revoking one ends that one only.
    let handle = listed.sessions[0].handle.clone();
    let revoke = app
        .client
        .post(app.url("/api/admin/revoke"))
        .header("accept", "application/json")
        .form(&[("user", id.to_string()), ("session", handle)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    let alive = [status(&first).await, status(&second).await];
    assert_eq!(
        alive.iter().filter(|status| **status == 200).count(),
        1,
        "{alive:?}"
    );

    // A role change ends the rest.
    let demote = app
        .client
        .post(app.url("/api/admin/set-role"))
        .header("accept", "application/json")
        .form(&[("user", id.to_string()), ("role", "viewer".to_owned())])
        .send()
        .await
        .unwrap();
    assert_eq!(demote.status(), 200);
    assert_eq!(status(&first).await, 401);
    assert_eq!(status(&second).await, 401);

    // Disabled: a new sign-in ends at once, and no new one is possible.
    let third = new_client();
    sign_in(
        &third,
        &app.address,
        "editor@example.com",
        "a long enough password",
    )
    .await;
    let disable = app
        .client
        .post(app.url("/api/admin/set-disabled"))
        .header("accept", "application/json")
        .form(&[("user", id.to_string()), ("disabled", "true".to_owned())])
        .send()
        .await
        .unwrap();
    assert_eq!(disable.status(), 200);
    assert_eq!(status(&third).await, 401);
    let again = attempt_sign_in(
        &third,
        &app.address,
        "editor@example.com",
        "a long enough password",
    )
    .await;
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("disabled"));
}

#[tokio::test]
async fn a_change_posted_from_another_site_is_refused() {
    let app = spawn_app().await;
    // A client that sends only what each case names.
    let client = crate::helpers::bare_client();
    sign_in(&client, &app.address, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for header in [
        Some(("origin", "https://evil.example")),
        Some(("sec-fetch-site", "cross-site")),
        // A session cookie, and no word of where the post comes from.
        None,
    ] {
        let mut request = client
            .post(app.url("/api/save-contact"))
            .header("accept", "application/json")
            .form(&[("name", "Forged Contact")]);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "{header:?}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was saved");
    // The same post from the site itself goes through, whichever header says so.
    for (name, value) in [
        ("origin", app.address.as_str()),
        ("sec-fetch-site", "same-origin"),
    ] {
        let response = client
            .post(app.url("/api/save-contact"))
            .header(name, value)
            .header("accept", "application/json")
            .form(&[("name", "Real Contact")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
    }
}

#[tokio::test]
async fn over_the_limit_answers_429_with_the_headers() {
    let app = spawn_app_with(|mut config| {
        config.limit_reads_per_minute = 5;
        config
    })
    .await;
    let (_, client) = app.user("reader@example.com", Role::Viewer).await;
    for n in 0..5 {
        let response = client.get(app.url("/api/me")).send().await.unwrap();
        assert_eq!(response.status(), 200, "request {n}");
        assert_eq!(response.headers()["ratelimit-policy"], "\"read\";q=5;w=60");
        assert_eq!(
            response.headers()["ratelimit"].to_str().unwrap(),
            format!("\"read\";r={};t={}", 4 - n, 12 * (n + 1))
        );
    }
    let refused = client.get(app.url("/api/me")).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=12).contains(&retry), "retry after {retry}");
    assert!(refused.headers().contains_key("ratelimit"));
    let error: roster::error::AppError = refused.json().await.unwrap();
    assert!(
        matches!(error, roster::error::AppError::TooManyRequests { .. }),
        "{error:?}"
    );
    // A person gets a page that says so and tries again by itself.
    let page = client
        .get(app.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 429);
    let html = page.text().await.unwrap();
    assert!(html.contains("Too many requests") && html.contains("http-equiv=\"refresh\""));
    // Other users and static files are not affected.
    assert_eq!(app.get("/api/me").await.status(), 200);
    assert_eq!(
        client
            .get(app.url("/favicon.svg"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn sign_in_is_limited_per_address_and_per_account() {
    let app = spawn_app_with(|mut config| {
        config.limit_sign_in_per_minute = 1_000;
        config
    })
    .await;
    let client = new_client();
    let attempt = |email, password| attempt_sign_in(&client, &app.address, email, password);
    for _ in 0..5 {
        assert_eq!(attempt(ADMIN_EMAIL, "wrong").await.status(), 400);
    }
    // Five failures: this client's next attempt must wait (tests/api/security.rs shows
    // that nobody else waits, and that the wait grows).
    let slowed = attempt(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(slowed.status(), 429);
    assert!(slowed.headers().contains_key("retry-after"));

    let app = spawn_app().await;
    let client = new_client();
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let email = format!("someone{}@example.com", statuses.len());
        let response = attempt_sign_in(&client, &app.address, &email, "x").await;
        statuses.push(response.status().as_u16());
    }
    // The test client's own sign-in was the first of ten this minute.
    assert_eq!(statuses[..9], [400; 9], "ten attempts a minute per address");
    assert_eq!(statuses[9..], [429, 429]);
}

#[tokio::test]
async fn two_server_processes_share_the_limits() {
    if std::env::var("REDIS_URL").is_err() {
        panic!("this test needs REDIS_URL (make test sets it)");
    }
    let app = spawn_app_with(|mut config| {
        config.limit_sign_in_per_minute = 5;
        config
    })
    .await;
    let other = spawn_process(
        &app,
        &[
            ("REDIS_URL", std::env::var("REDIS_URL").unwrap()),
            ("ROSTER_LIMIT_SIGN_IN_PER_MINUTE", "5".to_owned()),
        ],
    )
    .await;
    let client = new_client();
    let mut statuses = Vec::new();
    // The test client's own sign-in was the first of five.
    for address in [
        &app.address,
        &other.address,
        &app.address,
        &other.address,
        &other.address,
    ] {
        let response = attempt_sign_in(&client, address, "nobody@example.com", "wrong").await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses,
        [400, 400, 400, 400, 429],
        "five a minute across both"
    );
}

#[tokio::test]
async fn responses_carry_the_security_headers() {
    let app = spawn_app().await;
    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for part in [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the page's policy names a nonce")
        .to_owned();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
    ] {
        assert_eq!(page.headers()[name], value);
    }
    assert!(page.headers().contains_key("permissions-policy"));
    assert!(
        !page.headers().contains_key("strict-transport-security"),
        "plain HTTP"
    );
    assert!(!page.headers().contains_key("access-control-allow-origin"));
    let html = page.text().await.unwrap();
    let scripts = html.matches("<script").count();
    let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
    assert!(
        scripts > 0 && with_nonce >= scripts,
        "{with_nonce} of {scripts} scripts carry the nonce"
    );

    let asset = app.get("/favicon.svg").await;
    assert_eq!(asset.headers()["x-content-type-options"], "nosniff");
    assert!(asset.headers().contains_key("content-security-policy"));

    // Bodies over 1 MB are refused before they are read.
    let big = app
        .client
        .post(app.url("/api/save-contact"))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name={}", "x".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
}

#[tokio::test]
async fn over_https_the_cookie_is_secure_and_hsts_is_sent() {
    let app = spawn_app_with(|mut config| {
        config.https = true;
        config
    })
    .await;
    let response = attempt_sign_in(
        &reqwest::Client::new(),
        &app.address,
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
    )
    .await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(cookie.starts_with("__host-roster="), "{cookie}");
    assert!(
        cookie.contains("secure") && cookie.contains("path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("domain="), "{cookie}");
    assert!(response.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn with_redis_down_pages_say_so_and_recover_when_it_returns() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut redis = PrivateRedis::start(port);
    let url = format!("redis://127.0.0.1:{port}");
    let app = spawn_app_with(|mut config| {
        config.redis_url = Some(secrecy::SecretString::from(url.clone()));
        config
    })
    .await;
    assert_eq!(
        app.get("/api/me").await.status(),
        200,
        "signed in through Redis"
    );

    redis.stop();
    // Sign-in attempts are still limited, in process: ten a minute per address.
    let stranger = new_client();
    let mut statuses = Vec::new();
    for n in 0..11 {
        let email = format!("nobody{n}@example.com");
        let response = attempt_sign_in(&stranger, &app.address, &email, "wrong").await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses[..10], [400; 10], "{statuses:?}");
    assert_eq!(statuses[10], 429, "{statuses:?}");
    app.pages_say_unavailable().await;
    let api = app.get("/api/search").await;
    assert_eq!(api.status(), 503);
    // What needs no session still works.
    assert_eq!(app.get("/health").await.status(), 200);
    assert_eq!(
        app.stranger()
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let _redis = PrivateRedis::start(port);
    let recovered = eventually(Duration::from_secs(15), || async {
        let client = new_client();
        let response = attempt_sign_in(&client, &app.address, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        (response.status() == 200).then_some(client)
    })
    .await
    .expect("signing in works again once Redis is back, with no restart");
    let page = recovered.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn origins_on_the_allow_list_may_call_across_sites() {
    let app = spawn_app_with(|mut config| {
        config.cors_allowed_origins = vec!["https://intranet.example".to_owned()];
        config
    })
    .await;
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/save-contact"))
        .header("origin", "https://intranet.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://intranet.example"
    );
    assert_eq!(
        preflight.headers()["access-control-allow-credentials"],
        "true"
    );
    let save_from = |origin: &'static str, name: &'static str| {
        app.client
            .post(app.url("/api/save-contact"))
            .header("origin", origin)
            .header("sec-fetch-site", "cross-site")
            .header("accept", "application/json")
            .form(&[("name", name)])
            .send()
    };
    let allowed = save_from("https://intranet.example", "From The Intranet")
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    let other = save_from("https://elsewhere.example", "From Elsewhere")
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn strangers_calling_the_api_are_limited_per_address() {
    let app = spawn_app_with(|mut config| {
        config.limit_anonymous_per_15_minutes = 4;
        config
    })
    .await;
    // The test client's sign-in was the first of the four.
    let stranger = app.stranger();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = stranger.get(app.url("/api/search")).send().await.unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    // Pages are not counted (they send strangers to sign in), nor are static files.
    let page = stranger.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 303);
    let asset = stranger.get(app.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(asset.status(), 200);
    // Signed-in users are counted per user, not per address.
    assert_eq!(app.get("/api/me").await.status(), 200);
}

/// Runs `roster user …` on the database of `app`, with `input` on standard input.
/// `without` names environment variables the command does not get.
pub async fn user_command(
    app: &TestApp,
    args: &[&str],
    input: &str,
    without: &[&str],
) -> std::process::Output {
    use tokio::io::AsyncWriteExt as _;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_roster"));
    for name in without {
        command.env_remove(name);
    }
    let mut child = command
        .arg("user")
        .args(args)
        .env_remove("ROSTER_CONFIG")
        .env("DATABASE_URL", crate::helpers::url_for(&app.database))
        .env("ROSTER_REDIS_PREFIX", app.state.config.redis_prefix.clone())
        .env("ROSTER_DB_MIN_CONNECTIONS", "0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the roster binary runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    child.wait_with_output().await.unwrap()
}

#[tokio::test]
async fn accounts_are_managed_from_the_command_line() {
    let app = spawn_app().await;
    let added = user_command(
        &app,
        &["add", "--email", "cli@example.com", "--role", "editor"],
        "a password typed in\n",
        &[],
    )
    .await;
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let client = new_client();
    sign_in(
        &client,
        &app.address,
        "cli@example.com",
        "a password typed in",
    )
    .await;
    let me: Option<roster::domain::CurrentUser> = client
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me.map(|me| me.role), Some(Role::Editor));

    let short = user_command(&app, &["add", "--email", "b@example.com"], "short\n", &[]).await;
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));

    // Disabling from the command line ends the session in Redis too.
    let disabled = user_command(&app, &["disable", "--email", "cli@example.com"], "", &[]).await;
    assert!(
        disabled.status.success(),
        "{}",
        String::from_utf8_lossy(&disabled.stderr)
    );
    assert_eq!(
        client
            .get(app.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
