//! Custom fields end to end through the server: an admin defines them on
//! `/admin/fields`; contacts hold typed, checked values that survive a rename, a new
//! order, retirement and restoring; search finds them; CSV and vCard carry them out and
//! back in; a bulk change sets them; the history names them.

use roster::domain::{
    Role, SaveOutcome, SearchQuery,
    custom::{CustomField, CustomValue},
    search::choice_value,
};
use uuid::Uuid;

use crate::helpers::{
    TestApp, contact, finished, history, job, save, spawn_app, start_import, upload,
};

/// Posts one of `/admin/fields`' forms as a browser without JavaScript does; the
/// answer is where the redirect back led (the page, with `?notice=` when refused).
async fn admin_post(app: &TestApp, endpoint: &str, form: &[(&str, &str)]) -> String {
    let response = app
        .client
        .post(app.url(&format!("/api/admin/{endpoint}")))
        .header("referer", app.url("/admin/fields"))
        .header("accept", "text/html")
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let back = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with("/admin/fields"), "{back}");
    back
}

async fn fields(app: &TestApp) -> Vec<CustomField> {
    app.get("/api/custom-fields").await.json().await.unwrap()
}

async fn field(app: &TestApp, name: &str) -> CustomField {
    fields(app)
        .await
        .into_iter()
        .find(|field| field.name == name)
        .unwrap_or_else(|| panic!("no field {name}"))
}

async fn add(app: &TestApp, name: &str, kind: &str, options: &str) -> i32 {
    let back = admin_post(
        app,
        "add-field",
        &[("name", name), ("kind", kind), ("options", options)],
    )
    .await;
    assert!(!back.contains("notice="), "refused: {back}");
    field(app, name).await.id
}

async fn saved(app: &TestApp, fields: &[(&str, &str)]) -> Uuid {
    match save(app, fields).await {
        SaveOutcome::Saved { id } => id,
        other => panic!("expected a save, got {other:?}"),
    }
}

#[tokio::test]
async fn values_are_typed_checked_and_outlive_renames_reordering_and_retirement() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let size = add(&app, "Shirt size", "choice", "S\nM\nL").await;
    let langs = add(&app, "Languages", "choices", "Go\nRust\nZig").await;
    let score = add(&app, "Score", "number", "").await;
    let met = add(&app, "Met at", "text", "").await;
    let board = add(&app, "Board member", "checkbox", "").await;
    let (size_key, score_key, met_key, board_key) = (
        format!("custom[f{size}]"),
        format!("custom[f{score}]"),
        format!("custom[f{met}]"),
        format!("custom[f{board}]"),
    );
    let (rust_key, zig_key) = (format!("custom[f{langs}.1]"), format!("custom[f{langs}.2]"));

    // A value of the wrong kind is refused on its field; nothing is written.
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let refused = save(
        &app,
        &[
            ("name", "Grace Hopper"),
            (&size_key, "XXL"),
            (&score_key, "twelve"),
        ],
    )
    .await;
    let SaveOutcome::Invalid { errors } = refused else {
        panic!("expected the form refused, got {refused:?}");
    };
    use roster::domain::Field;
    assert_eq!(
        errors.get_row(Field::Custom, size as usize),
        Some("Choose one of: S, M, L.")
    );
    assert_eq!(
        errors.get_row(Field::Custom, score as usize),
        Some("Enter a number, like 42 or 3.5.")
    );
    // A field that does not exist is refused too, never dropped silently.
    let unknown = save(&app, &[("name", "Grace Hopper"), ("custom[f9999]", "x")]).await;
    assert!(
        matches!(unknown, SaveOutcome::Invalid { .. }),
        "{unknown:?}"
    );
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(before, after);

    // Typed and canonical: the option as the field spells it, the number as a number.
    let id = saved(
        &app,
        &[
            ("name", "Grace Hopper"),
            (&size_key, "m"),
            (&rust_key, "Rust"),
            (&zig_key, "Zig"),
            (&score_key, "1,000.50"),
            (&met_key, "COBOL standards meeting"),
            (&board_key, "yes"),
        ],
    )
    .await;
    let stored: serde_json::Value = sqlx::query_scalar("SELECT custom FROM contacts WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        stored[size.to_string()],
        serde_json::json!({ "choice": "M" })
    );
    assert_eq!(
        stored[langs.to_string()],
        serde_json::json!({ "choices": ["Rust", "Zig"] })
    );
    assert_eq!(
        stored[score.to_string()],
        serde_json::json!({ "number": "1000.5" })
    );
    assert_eq!(
        stored[board.to_string()],
        serde_json::json!({ "checkbox": true })
    );

    // Shown on the page with the field's name.
    let page = app
        .get(&format!("/contacts/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Shirt size") && page.contains("COBOL standards meeting"));

    // Found by a custom value, filtered by a choice, counted by choice and country
    // (the first address's).
    saved(
        &app,
        &[
            ("name", "Grace Murray"),
            (&size_key, "S"),
            ("addresses[0][city]", "Arlington"),
            ("addresses[0][country]", "United States"),
        ],
    )
    .await;
    app.index_caught_up().await;
    let hits = app.search_text("cobol standards").await;
    assert!(hits.hits.iter().any(|hit| hit.contact.id == id), "{hits:?}");
    let grace = SearchQuery::default().with_text("grace");
    let all = app.search(&grace).await;
    assert_eq!(all.total, 2);
    let sizes = all
        .facets
        .choices
        .iter()
        .find(|facet| facet.field == size)
        .expect("a facet for the size");
    assert_eq!(sizes.name, "Shirt size");
    let counted: Vec<(String, u64)> = sizes
        .values
        .iter()
        .map(|v| (v.value.clone(), v.count))
        .collect();
    assert!(
        counted.contains(&(choice_value(size, "M"), 1)),
        "{counted:?}"
    );
    assert!(
        counted.contains(&(choice_value(size, "S"), 1)),
        "{counted:?}"
    );
    assert_eq!(all.facets.countries[0].value, "US");
    let mut only_m = grace.clone();
    only_m.filters.choices = vec![choice_value(size, "M")];
    let filtered = app.search(&only_m).await;
    assert_eq!(filtered.total, 1);
    assert_eq!(filtered.hits[0].contact.id, id);
    let mut in_us = grace.clone();
    in_us.filters.countries = vec!["US".into()];
    assert_eq!(
        app.search(&in_us).await.hits[0].contact.name,
        "Grace Murray"
    );
    // The page offers them by name, as boxes to tick without JavaScript.
    let page = app
        .get(&format!("/?{}", grace.to_query_string()))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<legend>Shirt size</legend>"),
        "the facet is named"
    );
    assert!(page.contains(&format!("value=\"{}\"", choice_value(size, "M"))));

    // A rename and a new order touch no contact (and the facet takes the new name at
    // once, though no contact changed).
    let version = contact(&app, id).await.version;
    let back = admin_post(
        &app,
        "save-field",
        &[
            ("id", &size.to_string()),
            ("name", "T-shirt size"),
            ("options", "S\nM\nL\nXL"),
        ],
    )
    .await;
    assert!(!back.contains("notice="), "{back}");
    admin_post(
        &app,
        "move-field",
        &[("id", &board.to_string()), ("direction", "up")],
    )
    .await;
    let order: Vec<String> = fields(&app).await.into_iter().map(|f| f.name).collect();
    assert_eq!(
        order,
        [
            "T-shirt size",
            "Languages",
            "Score",
            "Board member",
            "Met at"
        ]
    );
    let again = contact(&app, id).await;
    assert_eq!(again.version, version);
    assert_eq!(
        again.card.custom.get(&size),
        Some(&CustomValue::Choice("M".into()))
    );
    app.index_caught_up().await;
    let renamed = app.search(&grace).await;
    assert_eq!(renamed.facets.choices[0].name, "T-shirt size");
    let page = app
        .get(&format!("/?{}", grace.to_query_string()))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<legend>T-shirt size</legend>"),
        "the page is made again"
    );
    // An option a contact holds cannot be taken away.
    let back = admin_post(
        &app,
        "save-field",
        &[
            ("id", &size.to_string()),
            ("name", "T-shirt size"),
            ("options", "S\nL"),
        ],
    )
    .await;
    assert!(back.contains("notice="), "{back}");
    assert_eq!(
        field(&app, "T-shirt size").await.options,
        ["S", "M", "L", "XL"]
    );

    // Retired: gone from the form, kept on the contact through an edit, back when
    // restored.
    admin_post(
        &app,
        "retire-field",
        &[("id", &met.to_string()), ("retired", "true")],
    )
    .await;
    let form = app
        .get(&format!("/contacts/{id}/edit"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !form.contains(&met_key),
        "a retired field is not on the form"
    );
    saved(
        &app,
        &[
            ("id", &id.to_string()),
            ("version", &version.to_string()),
            ("name", "Grace Brewster Hopper"),
            (&size_key, "L"),
        ],
    )
    .await;
    let edited = contact(&app, id).await;
    assert_eq!(edited.card.name, "Grace Brewster Hopper");
    assert_eq!(
        edited.card.custom.get(&met),
        Some(&CustomValue::Text("COBOL standards meeting".into())),
        "the retired field's value is kept"
    );
    assert_eq!(edited.card.custom.get(&board), None, "unticked, so cleared");
    admin_post(
        &app,
        "retire-field",
        &[("id", &met.to_string()), ("retired", "false")],
    )
    .await;
    assert!(!field(&app, "Met at").await.retired);

    // The history names the custom field and its values.
    let history = history(&app, id).await;
    let change = history[0]
        .changes
        .iter()
        .find(|change| change.custom == Some(size))
        .expect("the size change is recorded");
    assert_eq!(
        (change.old.as_deref(), change.new.as_deref()),
        (Some("M"), Some("L"))
    );
    let page = app
        .get(&format!("/contacts/{id}?tab=history"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("T-shirt size"));
}

#[tokio::test]
async fn only_admins_define_fields() {
    let app = spawn_app().await;
    let (_, editor) = app.user("editor@example.com", Role::Editor).await;
    let response = editor
        .post(app.url("/api/admin/add-field"))
        .form(&[("name", "Sneaky"), ("kind", "text")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let page = editor.get(app.url("/admin/fields")).send().await.unwrap();
    assert_eq!(page.status(), 403);
    assert!(fields(&app).await.is_empty());
    // Names are checked: none, a duplicate, a choice without options.
    add(&app, "Region", "text", "").await;
    for form in [
        [("name", " "), ("kind", "text"), ("options", "")],
        [("name", "region"), ("kind", "text"), ("options", "")],
        [("name", "Size"), ("kind", "choice"), ("options", "\n")],
        [("name", "Size"), ("kind", "colour"), ("options", "")],
    ] {
        let back = admin_post(&app, "add-field", &form).await;
        assert!(back.contains("notice="), "{form:?} was accepted");
    }
    assert_eq!(fields(&app).await.len(), 1);
}

#[tokio::test]
async fn exports_carry_custom_values_and_imports_read_them_back() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let size = add(&app, "Shirt size", "choice", "S\nM\nL").await;
    let joined = add(&app, "Joined", "date", "").await;
    let old = add(&app, "Old code", "text", "").await;
    let ada = saved(
        &app,
        &[
            ("name", "Ada Lovelace"),
            ("emails[0][value]", "ada@example.com"),
            (&format!("custom[f{size}]"), "S"),
            (&format!("custom[f{joined}]"), "--12-10"),
            (&format!("custom[f{old}]"), "AL-1"),
        ],
    )
    .await;
    admin_post(
        &app,
        "retire-field",
        &[("id", &old.to_string()), ("retired", "true")],
    )
    .await;
    app.index_caught_up().await;

    let csv = app.get("/export.csv").await.text().await.unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.ends_with("Shirt size,Joined,Old code (retired)"),
        "{header}"
    );
    // A date without its year starts like a formula, so it is marked (and unmarked
    // again by the import).
    assert!(csv.contains(",S,'--12-10,AL-1"), "{csv}");
    let vcard = app
        .get(&format!("/contacts/{ada}/vcard"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        vcard.contains("X-ROSTER-CUSTOM;X-ROSTER-FIELD=\"Shirt size\":S"),
        "{vcard}"
    );

    // A file with the field's column updates the contact (found by email); a value
    // that is not an option is an invalid row, named.
    let file = "Name,Email,Shirt size,Joined\n\
                Ada Lovelace,ada@example.com,L,1815-12-10\n\
                New Person,new@example.com,Huge,\n";
    let id = upload(&app, "sizes.csv", file).await;
    let checked = job(&app, id).await;
    assert_eq!(checked.mapping.custom_at(2), Some(size));
    assert_eq!(
        checked.planned.update, 1,
        "{:?} {:?}",
        checked.planned, checked.invalid_rows
    );
    assert_eq!(checked.planned.invalid, 1);
    assert!(
        checked.invalid_rows[0].reason == "Shirt size: Choose one of: S, M, L.",
        "{:?}",
        checked.invalid_rows
    );
    start_import(&app, id).await;
    finished(&app, id, std::time::Duration::from_secs(30)).await;
    let updated = contact(&app, ada).await;
    assert_eq!(
        updated.card.custom.get(&size),
        Some(&CustomValue::Choice("L".into()))
    );
    assert_eq!(
        updated.card.custom.get(&joined).map(CustomValue::to_text),
        Some("1815-12-10".into())
    );
    assert_eq!(
        updated.card.custom.get(&old),
        Some(&CustomValue::Text("AL-1".into())),
        "the retired field's value survives the import's update"
    );

    // A vCard names the field; a value for a field the directory does not have is kept
    // as other data.
    let card = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Alan Turing\r\n\
                X-ROSTER-CUSTOM;X-ROSTER-FIELD=\"shirt size\":M\r\n\
                X-ROSTER-CUSTOM;X-ROSTER-FIELD=Unknown:x\r\nEND:VCARD\r\n";
    let id = upload(&app, "alan.vcf", card).await;
    start_import(&app, id).await;
    finished(&app, id, std::time::Duration::from_secs(30)).await;
    let alan: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM contacts WHERE name = 'Alan Turing' AND custom = $1",
    )
    .bind(serde_json::json!({ size.to_string(): { "choice": "M" } }))
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(alan, 1);
    let kept: Vec<String> =
        sqlx::query_scalar("SELECT extras FROM contacts WHERE name = 'Alan Turing'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(kept, ["X-ROSTER-CUSTOM;X-ROSTER-FIELD=Unknown:x"]);
}

#[tokio::test]
async fn bulk_changes_set_a_company_or_a_custom_field() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let size = add(&app, "Shirt size", "choice", "S\nM\nL").await;
    let mut ids = Vec::new();
    for name in ["Bulk One", "Bulk Two", "Bulk Three"] {
        ids.push(saved(&app, &[("name", name), ("tags", "bulkcustom")]).await);
    }
    app.index_caught_up().await;
    let apply = |action: &'static str, value: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/bulk-apply"))
                .header("accept", "application/json")
                .form(&[
                    ("action", action),
                    ("value", value),
                    ("selection[all]", "true"),
                    ("selection[search]", "q=bulkcustom"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let response = apply("set-field", "shirt size: M").await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let response = apply("set-company", "Bulk  Co").await;
    assert_eq!(response.status(), 200);
    for id in &ids {
        let contact = contact(&app, *id).await;
        assert_eq!(
            contact.card.custom.get(&size),
            Some(&CustomValue::Choice("M".into()))
        );
        assert_eq!(contact.card.company.as_deref(), Some("Bulk Co"));
        assert!(contact.company_id.is_some(), "linked to a company record");
    }
    let history = history(&app, ids[0]).await;
    assert!(history.iter().any(|entry| {
        entry
            .changes
            .iter()
            .any(|c| c.custom == Some(size) && c.new.as_deref() == Some("M"))
    }));
    // A value that is not an option is refused, nothing changed.
    let response = apply("set-field", "Shirt size: XXL").await;
    assert_eq!(response.status(), 400);
    let response = apply("set-field", "Shirt size:").await;
    assert_eq!(response.status(), 200);
    assert!(contact(&app, ids[1]).await.card.custom.is_empty());
}
