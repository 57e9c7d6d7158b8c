//! Bulk actions: exactly the selection (or every match) changes, in one transaction,
//! with an audit entry per changed contact; refused as a whole when any part would fail.

use roster::domain::{SaveOutcome, bulk::BulkPreview};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

async fn create(app: &TestApp, name: &str, tags: &str) -> Uuid {
    let response = app
        .client
        .post(app.url("/api/save-contact"))
        .header("accept", "application/json")
        .form(&[
            ("name", name),
            ("tags", tags),
            ("company", "Bulk Testing Co"),
        ])
        .send()
        .await
        .unwrap();
    match response.json().await.unwrap() {
        SaveOutcome::Saved { id } => id,
        other => panic!("{other:?}"),
    }
}

/// The form fields of a selection: ids, or all matches of `search`.
fn selection(ids: &[Uuid], all: bool, search: &str) -> Vec<(String, String)> {
    let mut fields = vec![
        ("selection[all]".to_owned(), all.to_string()),
        ("selection[search]".to_owned(), search.to_owned()),
    ];
    for (i, id) in ids.iter().enumerate() {
        fields.push((format!("selection[ids][{i}]"), id.to_string()));
    }
    fields
}

async fn preview(
    app: &TestApp,
    action: &str,
    value: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    let mut query: Vec<(String, String)> = vec![
        ("action".into(), action.into()),
        ("value".into(), value.into()),
    ];
    query.extend(fields.iter().cloned());
    app.client
        .get(app.url("/api/bulk-preview"))
        .query(&query)
        .send()
        .await
        .unwrap()
}

async fn apply(
    app: &TestApp,
    action: &str,
    value: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    let mut form: Vec<(String, String)> = vec![
        ("action".into(), action.into()),
        ("value".into(), value.into()),
    ];
    form.extend(fields.iter().cloned());
    app.client
        .post(app.url("/api/bulk-apply"))
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn tags_and_version(app: &TestApp, id: Uuid) -> (Vec<String>, i16, i32) {
    sqlx::query_as("SELECT tags, tier, version FROM contacts WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn bulk_actions_change_exactly_the_selection() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let a = create(&app, "Bulkington Alpha", "").await;
    let b = create(&app, "Bulkington Beta", "friends").await;
    let c = create(&app, "Bulkington Gamma", "VIP").await;
    let outsider = create(&app, "Someone Else", "").await;

    // The preview counts what will change: Gamma has the tag already.
    let fields = selection(&[a, b, c], false, "q=bulkington");
    let response = preview(&app, "add-tag", "vip", &fields).await;
    assert_eq!(response.status(), 200);
    let seen: BulkPreview = response.json().await.unwrap();
    assert_eq!((seen.selected, seen.will_change), (3, 2));
    assert_eq!(seen.description, "Add the tag “vip” to 2 contacts");

    let response = apply(&app, "add-tag", "vip", &fields).await;
    assert_eq!(response.status(), 200);
    let changed: u64 = response.json().await.unwrap();
    assert_eq!(changed, 2);
    assert_eq!(
        tags_and_version(&app, a).await,
        (vec!["vip".to_owned()], 4, 2)
    );
    assert_eq!(tags_and_version(&app, b).await.0, ["friends", "vip"]);
    assert_eq!(
        tags_and_version(&app, c).await,
        (vec!["VIP".to_owned()], 4, 1),
        "unchanged"
    );
    assert_eq!(tags_and_version(&app, outsider).await.2, 1);
    let audited: Vec<Uuid> = sqlx::query_scalar(
        "SELECT contact_id FROM audit_log WHERE action = 'bulk' ORDER BY contact_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(audited, expected);

    // Every match of a search, not just the ticked rows: a tier for all three.
    let all = selection(&[], true, "q=bulkington");
    let changed: u64 = apply(&app, "set-tier", "1", &all)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed, 3);
    for id in [a, b, c] {
        assert_eq!(tags_and_version(&app, id).await.1, 1);
    }
    assert_eq!(tags_and_version(&app, outsider).await.1, 4);
    // The change is in search at once.
    let tier_one = app
        .search(&roster::domain::SearchQuery::from_query_string(
            "q=bulkington&tier=1",
        ))
        .await;
    assert_eq!(tier_one.total, 3);

    // Removing a tag ignores case; deleting takes them out of search at once.
    let changed: u64 = apply(&app, "remove-tag", "vip", &all)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed, 3);
    assert_eq!(tags_and_version(&app, b).await.0, ["friends"]);
    let changed: u64 = apply(&app, "delete", "", &selection(&[a, b], false, ""))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed, 2);
    assert_eq!(app.search_text("bulkington").await.total, 1);
}

#[tokio::test]
async fn a_bulk_action_is_all_or_nothing() {
    let app = spawn_app().await;
    let full_tags: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    let full = create(&app, "Full Tags", &full_tags.join(", ")).await;
    let roomy = create(&app, "Roomy Tags", "").await;
    let fields = selection(&[full, roomy], false, "");
    let response = apply(&app, "add-tag", "one-more", &fields).await;
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(body.contains("20 tags"), "{body}");
    assert!(body.contains("Nothing was changed"), "{body}");
    assert_eq!(
        tags_and_version(&app, roomy).await.2,
        1,
        "not even the other one"
    );

    // Nothing selected, or no such action: a message, not an error page.
    let response = apply(&app, "add-tag", "x", &selection(&[], false, "")).await;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Select at least one")
    );
    let response = preview(&app, "rename-all", "", &fields).await;
    assert_eq!(response.status(), 400);
    let response = preview(&app, "set-tier", "7", &fields).await;
    assert_eq!(response.status(), 400);
}
