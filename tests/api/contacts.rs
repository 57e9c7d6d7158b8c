//! Editing contacts through the server functions, as the hydrated form and a plain form
//! post make them: validation, version conflicts, duplicates, soft delete and restore,
//! and the audit log written with each change.

use roster::domain::{AuditAction, Field, SaveOutcome};
use uuid::Uuid;

use crate::helpers::{TestApp, contact, contact_form as form, history, save, spawn_app};

async fn create(app: &TestApp, fields: &[(&str, &str)]) -> Uuid {
    match save(app, fields).await {
        SaveOutcome::Saved { id } => id,
        other => panic!("expected the contact to be saved, got {other:?}"),
    }
}

async fn post(app: &TestApp, endpoint: &str, id: Uuid) -> reqwest::Response {
    app.client
        .post(app.url(endpoint))
        .header("accept", "application/json")
        .form(&[("id", id.to_string())])
        .send()
        .await
        .unwrap()
}

async fn live_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM contacts WHERE deleted_at IS NULL")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_saved_contact_is_normalized_searchable_and_in_its_history() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let id = create(
        &app,
        &form(
            "  Ada   Lovelace ",
            &[
                ("email", "Ada@Analytical.example"),
                ("phone", "+44 (20) 7946-0958"),
                ("company", "Analytical Engines"),
                ("tier", "1"),
                ("tags", "maths, poetry, Maths"),
                ("notes", "Met at the Royal Society.\r\nWrites notes."),
            ],
        ),
    )
    .await;

    let saved = contact(&app, id).await;
    assert_eq!(saved.card.name, "Ada Lovelace");
    // Kept as typed, with its E.164 form beside it.
    let phone = &saved.card.phones[0];
    assert_eq!(phone.value.as_str(), "+44 (20) 7946-0958");
    assert_eq!(phone.e164.as_deref(), Some("+442079460958"));
    assert_eq!(saved.card.tags, ["maths", "poetry"]);
    assert_eq!(
        saved.card.notes.as_deref(),
        Some("Met at the Royal Society.\nWrites notes.")
    );
    assert_eq!(saved.version, 1);
    // The author's next search finds it: the save waits for the local index.
    let page = app.search_text("lovelace").await;
    assert_eq!(page.hits.first().map(|hit| hit.contact.id), Some(id));

    let entries = history(&app, id).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, AuditAction::Create);
    assert!(
        entries[0]
            .changes
            .iter()
            .any(|c| c.field == Field::Emails && c.new.as_deref() == Some("Ada@Analytical.example"))
    );
}

#[tokio::test]
async fn an_edit_records_a_field_level_diff_with_who_and_where() {
    let app = spawn_app().await;
    let id = create(&app, &form("Grace Hopper", &[("title", "Captain")])).await;
    let id_text = id.to_string();

    let response = app
        .client
        .post(app.url("/api/save-contact"))
        .header("accept", "application/json")
        .header("x-request-id", "edit-request-1")
        .form(&form(
            "Grace Hopper",
            &[
                ("title", "Rear Admiral"),
                ("id", &id_text),
                ("version", "1"),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // The client is no trusted proxy: its own id is not believed, the server's is used.
    let given_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(given_id, "edit-request-1");
    let outcome: SaveOutcome = response.json().await.unwrap();
    assert_eq!(outcome, SaveOutcome::Saved { id });

    let edited = contact(&app, id).await;
    assert_eq!(edited.card.title.as_deref(), Some("Rear Admiral"));
    assert_eq!(edited.version, 2);
    let entries = history(&app, id).await;
    assert_eq!(entries[0].action, AuditAction::Update);
    assert_eq!(entries[0].changes.len(), 1, "only the title changed");
    assert_eq!(entries[0].changes[0].field, Field::Title);
    assert_eq!(entries[0].changes[0].old.as_deref(), Some("Captain"));
    assert_eq!(entries[0].changes[0].new.as_deref(), Some("Rear Admiral"));

    let (ip, request_id): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT host(ip), request_id FROM audit_log WHERE contact_id = $1 AND action = 'update'",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(request_id.as_deref(), Some(given_id.as_str()));

    // Saving the same values again changes nothing and records nothing.
    let same = save(
        &app,
        &form(
            "Grace Hopper",
            &[
                ("title", "Rear Admiral"),
                ("id", &id_text),
                ("version", "2"),
            ],
        ),
    )
    .await;
    assert_eq!(same, SaveOutcome::Saved { id });
    assert_eq!(contact(&app, id).await.version, 2);
    assert_eq!(history(&app, id).await.len(), 2);
}

#[tokio::test]
async fn saving_over_a_newer_version_is_refused_showing_what_changed() {
    let app = spawn_app().await;
    let id = create(&app, &form("Alan Turing", &[("location", "Manchester")])).await;
    let id_text = id.to_string();

    // Two people open the form at version 1; the first saves a new location.
    let first = save(
        &app,
        &form(
            "Alan Turing",
            &[
                ("location", "Bletchley"),
                ("id", &id_text),
                ("version", "1"),
            ],
        ),
    )
    .await;
    assert_eq!(first, SaveOutcome::Saved { id });

    // The second, still at version 1, changes the title: refused, never a silent overwrite.
    let second = save(
        &app,
        &form(
            "Alan Turing",
            &[
                ("location", "Manchester"),
                ("title", "Mathematician"),
                ("id", &id_text),
                ("version", "1"),
            ],
        ),
    )
    .await;
    let SaveOutcome::Conflict {
        version, changes, ..
    } = &second
    else {
        panic!("expected a conflict, got {second:?}");
    };
    assert_eq!(*version, 2);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].field, Field::Addresses);
    assert_eq!(changes[0].old.as_deref(), Some("Manchester"));
    assert_eq!(changes[0].new.as_deref(), Some("Bletchley"));
    assert!(second.message().unwrap().contains("changed this contact"));
    let now = contact(&app, id).await;
    assert_eq!(now.card.city(), Some("Bletchley"));
    assert_eq!(now.card.title, None);

    // Having seen the changes, they save again at the version now current.
    let again = save(
        &app,
        &form(
            "Alan Turing",
            &[
                ("location", "Bletchley"),
                ("title", "Mathematician"),
                ("id", &id_text),
                ("version", "2"),
            ],
        ),
    )
    .await;
    assert_eq!(again, SaveOutcome::Saved { id });
    assert_eq!(contact(&app, id).await.version, 3);
}

#[tokio::test]
async fn the_server_enforces_the_rules_whatever_the_client_sends() {
    let app = spawn_app().await;
    let before = live_count(&app).await;
    let long_name = "x".repeat(10_000);
    let outcome = save(
        &app,
        &form(
            &long_name,
            &[
                ("email", "not-an-email"),
                ("tier", "9"),
                ("phone", "call me maybe"),
            ],
        ),
    )
    .await;
    let errors = outcome.field_errors().expect("refused field by field");
    for field in [Field::Name, Field::Tier] {
        assert!(errors.get(field).is_some(), "{field:?} has its message");
    }
    for field in [Field::Emails, Field::Phones] {
        assert!(
            errors.get_row(field, 0).is_some(),
            "{field:?} has its message on its row"
        );
    }
    assert!(errors.get(Field::Name).unwrap().contains("200 characters"));
    assert_eq!(live_count(&app).await, before, "nothing was written");

    // Missing fields are empty fields, not a server error.
    let bare = app
        .client
        .post(app.url("/api/save-contact"))
        .header("accept", "application/json")
        .form(&[("notes", "just notes")])
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 200);
    let bare: SaveOutcome = bare.json().await.unwrap();
    assert_eq!(
        bare.field_errors().and_then(|e| e.get(Field::Name)),
        Some("Enter a name, or a given or family name.")
    );

    // Nonsense ids and versions are a missing contact or a conflict, never a 500.
    let response = app
        .client
        .post(app.url("/api/save-contact"))
        .header("accept", "application/json")
        .form(&form("A", &[("id", "'; DROP TABLE contacts; --")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let id = create(&app, &form("Versioned", &[])).await;
    let id_text = id.to_string();
    let outcome = save(
        &app,
        &form("Versioned", &[("id", &id_text), ("version", "banana")]),
    )
    .await;
    assert!(matches!(outcome, SaveOutcome::Conflict { version: 1, .. }));
}

#[tokio::test]
async fn duplicates_are_refused_or_confirmed() {
    let app = spawn_app().await;
    let ada = create(
        &app,
        &form(
            "Ada Lovelace",
            &[
                ("email", "ada@example.com"),
                ("company", "Analytical Engines"),
                ("phone", "+1 555 010 2000"),
            ],
        ),
    )
    .await;

    // The same email in another case is the same contact: refused, with a link to it.
    let outcome = save(&app, &form("Someone Else", &[("email", "ADA@Example.COM")])).await;
    match outcome {
        SaveOutcome::DuplicateEmail { existing } => assert_eq!(existing.id, ada),
        other => panic!("expected a duplicate email, got {other:?}"),
    }

    // A close name at the same company: a possible duplicate, saved only when confirmed.
    let close = form("Ada Lovelase", &[("company", "analytical engines")]);
    let outcome = save(&app, &close).await;
    match &outcome {
        SaveOutcome::PossibleDuplicates { matches } => {
            assert_eq!(matches.iter().map(|m| m.id).collect::<Vec<_>>(), [ada])
        }
        other => panic!("expected possible duplicates, got {other:?}"),
    }
    // The same phone, written differently.
    let outcome = save(&app, &form("A. L.", &[("phone", "(1) 555-010-2000")])).await;
    assert!(matches!(outcome, SaveOutcome::PossibleDuplicates { .. }));

    let mut confirmed = close.clone();
    confirmed.push(("confirm", "1"));
    assert!(matches!(
        save(&app, &confirmed).await,
        SaveOutcome::Saved { .. }
    ));
    // A different person at the same company is no duplicate.
    assert!(matches!(
        save(
            &app,
            &form("Charles Babbage", &[("company", "Analytical Engines")])
        )
        .await,
        SaveOutcome::Saved { .. }
    ));
}

#[tokio::test]
async fn delete_is_soft_immediate_and_restorable() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let id = create(&app, &form("Hedy Lamarr", &[("email", "hedy@example.com")])).await;
    assert_eq!(app.search_text("lamarr").await.total, 1);
    let live = live_count(&app).await;

    let response = post(&app, "/api/delete-contact", id).await;
    assert_eq!(response.status(), 200);
    // Gone from search and the directory at once, but kept, with its history.
    assert_eq!(app.search_text("lamarr").await.total, 0);
    assert_eq!(live_count(&app).await, live - 1);
    let deleted = contact(&app, id).await;
    assert!(deleted.deleted_at_micros.is_some());
    let first = serde_json::to_value(roster::domain::PageRequest::First).unwrap();
    let listing = app
        .client
        .get(app.url("/api/directory"))
        .query(&[("page", first.as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 200);
    let listing = listing.text().await.unwrap();
    assert!(!listing.contains(&id.to_string()), "not listed");
    // Its address is free for a new contact meanwhile, and a deleted contact cannot be edited.
    let id_text = id.to_string();
    let edit = save(
        &app,
        &form("Hedy Lamarr", &[("id", &id_text), ("version", "2")]),
    )
    .await;
    assert_eq!(edit, SaveOutcome::Gone);

    let response = post(&app, "/api/restore-contact", id).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.search_text("lamarr").await.total, 1);
    assert!(contact(&app, id).await.deleted_at_micros.is_none());
    let actions: Vec<AuditAction> = history(&app, id).await.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::Restore,
            AuditAction::Delete,
            AuditAction::Create
        ]
    );

    // Restoring while another contact has taken the address is refused, saying who.
    post(&app, "/api/delete-contact", id).await;
    create(
        &app,
        &form("Hedy Kiesler", &[("email", "HEDY@example.com")]),
    )
    .await;
    let response = post(&app, "/api/restore-contact", id).await;
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(body.contains("Hedy Kiesler"), "{body}");
    assert!(contact(&app, id).await.deleted_at_micros.is_some());

    // Without JavaScript the refusal comes back to the page the form was on.
    let page = format!("/contacts/{id}");
    let response = app
        .client
        .post(app.url("/api/restore-contact"))
        .header("accept", "text/html")
        .header("referer", app.url(&page))
        .form(&[("id", id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{page}?notice=")),
        "{location}"
    );
    let html = app.get(&location).await.text().await.unwrap();
    assert!(
        html.contains("Hedy Kiesler now has this contact"),
        "the reason is shown"
    );
}

#[tokio::test]
async fn a_plain_form_post_redirects_back_with_the_input_and_the_reasons() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/save-contact"))
        .header("accept", "text/html")
        .header("referer", app.url("/contacts/new"))
        .form(&form(
            "Marie Curie",
            &[
                ("email", "marie@@example.com"),
                (
                    "notes",
                    "Two Nobel prizes <b>bold</b></textarea><script>alert(1)</script>",
                ),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/contacts/new?draft="),
        "back to the form: {location}"
    );

    let page = app.get(&location).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("value=\"Marie Curie\""), "the name is kept");
    assert!(html.contains("marie@@example.com"), "the bad email is kept");
    assert!(
        html.contains("Two Nobel prizes &lt;b&gt;bold&lt;/b&gt;&lt;/textarea&gt;&lt;script&gt;"),
        "notes kept, escaped: {}",
        html.find("Nobel")
            .map_or("(absent)", |at| &html[at.saturating_sub(60)..at + 60])
    );
    assert!(
        !html.contains("<script>alert(1)"),
        "nothing breaks out of the textarea"
    );
    assert!(html.contains("Enter an email address like name@example.com."));

    // Corrected, it saves and goes to the contact.
    let response = app
        .client
        .post(app.url("/api/save-contact"))
        .header("accept", "text/html")
        .header("referer", app.url(&location))
        .form(&form("Marie Curie", &[("email", "marie@example.com")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id: Uuid = location
        .strip_prefix("/contacts/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("to the contact: {location}"));
    assert_eq!(contact(&app, id).await.card.name, "Marie Curie");

    // A draft is only found by its own id.
    let page = app
        .get(&format!("/contacts/new?draft={}", Uuid::new_v4()))
        .await;
    assert_eq!(page.status(), 200);
    assert!(!page.text().await.unwrap().contains("Marie Curie"));
}

async fn merge(app: &TestApp, fields: &[(&str, String)]) -> reqwest::Response {
    app.client
        .post(app.url("/api/merge-contacts"))
        .header("accept", "application/json")
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn merging_keeps_chosen_fields_unites_tags_and_records_both_sides() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let keep = create(
        &app,
        &form(
            "Ada Lovelace",
            &[("company", "Analytical Engines"), ("tags", "maths, poetry")],
        ),
    )
    .await;
    let mut confirmed = form(
        "Ada Lovelase",
        &[
            ("company", "Analytical Engines"),
            ("email", "ada@example.com"),
            ("title", "Analyst"),
            ("tags", "Poetry, engines"),
        ],
    );
    confirmed.push(("confirm", "1"));
    let other = create(&app, &confirmed).await;

    // A stale page is refused: the other contact changed since it was shown.
    let stale = merge(
        &app,
        &[
            ("keep", keep.to_string()),
            ("other", other.to_string()),
            ("keep_version", "1".into()),
            ("other_version", "0".into()),
        ],
    )
    .await;
    assert_eq!(stale.status(), 400);

    let response = merge(
        &app,
        &[
            ("keep", keep.to_string()),
            ("other", other.to_string()),
            ("keep_version", "1".into()),
            ("other_version", "1".into()),
            ("title", "other".into()),
        ],
    )
    .await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);

    let merged = contact(&app, keep).await;
    assert_eq!(merged.card.name, "Ada Lovelace", "kept by default");
    assert_eq!(
        merged.card.primary_email().map(|e| e.as_str()),
        Some("ada@example.com"),
        "the lists are united: the kept one had none, so the other's comes first"
    );
    assert_eq!(merged.card.title.as_deref(), Some("Analyst"));
    assert_eq!(merged.card.tags, ["maths", "poetry", "engines"]);
    assert!(contact(&app, other).await.deleted_at_micros.is_some());
    assert_eq!(
        app.search_text("lovelase").await.hits.len(),
        1,
        "only the kept one is found"
    );
    assert_eq!(history(&app, keep).await[0].action, AuditAction::Merge);
    assert_eq!(history(&app, other).await[0].action, AuditAction::Merge);

    // Merging with a deleted contact, or with itself, is refused in words.
    let again = merge(
        &app,
        &[
            ("keep", keep.to_string()),
            ("other", other.to_string()),
            ("keep_version", "2".into()),
            ("other_version", "2".into()),
        ],
    )
    .await;
    assert_eq!(again.status(), 400);
    let itself = merge(
        &app,
        &[
            ("keep", keep.to_string()),
            ("other", keep.to_string()),
            ("keep_version", "2".into()),
            ("other_version", "2".into()),
        ],
    )
    .await;
    assert_eq!(itself.status(), 400);
}
