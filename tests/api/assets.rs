//! Static files precompressed and cached by their names; pages compressed on the fly
//! and never reused without asking.

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn pages_are_compressed_on_the_fly_and_never_reused_unchecked() {
    let app = spawn_app().await;
    // A page of results, as people get it (an empty directory is too small to show much).
    app.seed(60).await;
    app.index_caught_up().await;
    let page = |encoding: Option<&'static str>| {
        let mut request = app.client.get(app.url("/")).header("accept", "text/html");
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        request.send()
    };
    let plain = page(None).await.unwrap();
    assert_eq!(plain.status(), 200);
    // Signed in: the directory's contents are never stored.
    assert_eq!(plain.headers()["cache-control"], "no-store");
    assert!(!plain.headers().contains_key("content-encoding"));
    let plain_length = plain.bytes().await.unwrap().len();

    for encoding in ["br", "gzip"] {
        let compressed = page(Some(encoding)).await.unwrap();
        assert_eq!(compressed.status(), 200);
        assert_eq!(compressed.headers()["content-encoding"], encoding);
        assert_eq!(compressed.headers()["cache-control"], "no-store");
        let length = compressed.bytes().await.unwrap().len();
        assert!(
            length * 2 < plain_length,
            "{encoding}: {length} of {plain_length}"
        );
    }
    // The sign-in page, to a stranger: checked before each use.
    let login = app.stranger().get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.headers()["cache-control"], "private, no-cache");
    // Health checks keep their own policy.
    assert_eq!(
        app.get("/health").await.headers()["cache-control"],
        "no-store"
    );
}

#[tokio::test]
async fn built_assets_are_served_precompressed_as_the_browser_accepts() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    std::fs::write(pkg.join("roster.js"), "console.log('plain');").unwrap();
    // Not real compressed data: what is served shows which file was chosen.
    std::fs::write(pkg.join("roster.js.br"), "from the .br file").unwrap();
    std::fs::write(pkg.join("roster.js.gz"), "from the .gz file").unwrap();
    let root = site.path().to_str().unwrap().to_owned();
    let app = spawn_app_with(move |mut config| {
        config.site_root = root;
        config
    })
    .await;
    let fetch = |encoding: &'static str| {
        app.stranger()
            .get(app.url("/pkg/roster.js"))
            .header("accept-encoding", encoding)
            .send()
    };
    for (accepted, encoding, body) in [
        ("br, gzip", Some("br"), "from the .br file"),
        ("gzip", Some("gzip"), "from the .gz file"),
        ("identity", None, "console.log('plain');"),
    ] {
        let response = fetch(accepted).await.unwrap();
        assert_eq!(response.status(), 200, "{accepted}");
        assert_eq!(
            response
                .headers()
                .get("content-encoding")
                .map(|value| value.to_str().unwrap()),
            encoding,
            "{accepted}"
        );
        // This test binary has no hash.txt beside it: the names are not hashed, so the
        // files are revalidated rather than kept for a year.
        assert_eq!(response.headers()["cache-control"], "no-cache");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains("javascript")
        );
        assert_eq!(response.text().await.unwrap(), body, "{accepted}");
    }
    let missing = app
        .stranger()
        .get(app.url("/pkg/roster.0123abcd.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["cache-control"], "no-store");
}
