//! Importing files: the dry run, the commit, a re-import that changes nothing, bad rows,
//! a remapped column, and an import whose process is killed mid-way, then resumed.

use std::{process::Stdio, time::Duration};

use roster::domain::import::ImportStatus;
use uuid::Uuid;

use crate::helpers::{
    TestApp, eventually, finished, job, people_csv, restart, spawn_app, start_import, upload,
    url_for,
};

async fn count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM contacts WHERE deleted_at IS NULL")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

const PEOPLE: &str = "Full Name,E-mail,Organization,Job Title,City,Labels,Tier\n\
Ada Lovelace,ada@example.com,Analytical Engines,Analyst,London,maths,1\n\
Alan Turing,alan@example.com,Bletchley Park,Cryptanalyst,Bletchley,\"maths, codes\",2\n\
Grace Hopper,not-an-email,US Navy,Rear Admiral,Arlington,,\n\
Katherine Johnson,,NASA,Mathematician,Hampton,,3\n\
Ada L.,ADA@example.com,,,,,\n\
Edsger Dijkstra,edsger@example.com,Eindhoven University,Professor,Nuenen,,\n";

#[tokio::test]
async fn dry_run_commit_and_a_reimport_that_changes_nothing() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    // Alan is already in the directory, with another title.
    sqlx::query(
        r#"INSERT INTO contacts (name, emails, company, title) VALUES ('Alan Turing', '[{"value": "Alan@Example.com"}]', 'Bletchley Park', 'Mathematician')"#,
    )
    .execute(&app.db)
    .await
    .unwrap();
    let before = count(&app).await;

    let id = upload(&app, "people.csv", PEOPLE).await;
    let checked = job(&app, id).await;
    assert_eq!(checked.status, ImportStatus::Ready);
    let planned = &checked.planned;
    assert_eq!(
        (
            planned.rows,
            planned.create,
            planned.update,
            planned.duplicate,
            planned.invalid
        ),
        (6, 3, 1, 1, 1),
        "{planned:?}"
    );
    assert_eq!(checked.invalid_rows.len(), 1);
    assert_eq!(
        checked.invalid_rows[0].line, 4,
        "Grace's row, counting the header"
    );
    assert!(checked.invalid_rows[0].reason.contains("Email"));
    assert_eq!(checked.duplicate_rows[0].line, 6);
    assert_eq!(count(&app).await, before, "a dry run changes nothing");

    start_import(&app, id).await;
    let done = finished(&app, id, Duration::from_secs(30)).await;
    assert_eq!(done.status, ImportStatus::Done, "{:?}", done.error);
    assert_eq!((done.done.create, done.done.update), (3, 1));
    assert_eq!(count(&app).await, before + 3);
    let alan: (String, i32, Vec<String>) = sqlx::query_as(
        "SELECT title, version, tags FROM contacts WHERE lower(emails->0->>'value') = 'alan@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        alan,
        (
            "Cryptanalyst".to_owned(),
            2,
            vec!["maths".to_owned(), "codes".to_owned()]
        )
    );
    // Searchable once done, and every change is in the audit log.
    assert_eq!(app.search_text("dijkstra").await.total, 1);
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'import'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 4);

    // The same file again: everything matches, nothing changes.
    let versions = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_as::<_, (Uuid, i32)>("SELECT id, version FROM contacts ORDER BY id")
                .fetch_all(&db)
                .await
                .unwrap()
        }
    };
    let versions_before = versions(&app).await;
    let again = upload(&app, "people.csv", PEOPLE).await;
    let planned = job(&app, again).await.planned;
    assert_eq!(
        (planned.create, planned.update, planned.unchanged),
        (0, 0, 4)
    );
    start_import(&app, again).await;
    let done = finished(&app, again, Duration::from_secs(30)).await;
    assert_eq!(
        (done.done.create, done.done.update, done.done.unchanged),
        (0, 0, 4)
    );
    assert_eq!(versions(&app).await, versions_before);
}

#[tokio::test]
async fn an_unknown_column_can_be_mapped_before_commit() {
    let app = spawn_app().await;
    let id = upload(
        &app,
        "who.csv",
        "Who,City\nAda Lovelace,London\nAlan Turing,Bletchley\n",
    )
    .await;
    let checked = job(&app, id).await;
    assert_eq!(
        checked.mapping.fields,
        [
            Some(roster::domain::Field::Extras),
            Some(roster::domain::Field::Addresses)
        ],
        "a column Roster does not know is kept as other data"
    );
    assert_eq!(
        checked.mapping.slot_at(1).map(|slot| slot.part),
        Some(roster::domain::columns::Part::City)
    );
    assert_eq!(checked.planned.invalid, 2, "no name column yet");

    let response = app
        .client
        .post(app.url("/api/remap-import"))
        .header("accept", "application/json")
        .form(&[
            ("id", id.to_string()),
            ("fields[0]", "name".to_owned()),
            ("fields[1]", "location".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let remapped = job(&app, id).await;
    assert_eq!(remapped.planned.create, 2);
    assert_eq!(remapped.planned.invalid, 0);

    // The next file with the same header is read as this one was set.
    let next = upload(&app, "who-2.csv", "Who,City\nGrace Hopper,Arlington\n").await;
    let next = job(&app, next).await;
    assert!(next.mapping.remembered);
    assert_eq!(
        next.mapping.fields,
        [
            Some(roster::domain::Field::Name),
            Some(roster::domain::Field::Addresses)
        ]
    );
    assert_eq!(next.planned.create, 1);
    let page = app
        .get(&format!("/import/{}", next.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("an earlier file with the same header"),
        "{page}"
    );
    // Another header is guessed afresh.
    let other = upload(&app, "who-3.csv", "Who,Town\nGrace Hopper,Arlington\n").await;
    assert!(!job(&app, other).await.mapping.remembered);
}

#[tokio::test]
async fn bad_files_are_refused_in_words() {
    let app = spawn_app().await;
    for (contents, code) in [("", "empty"), ("\u{0}\u{0}", "unreadable")] {
        let response =
            crate::helpers::post_upload(&app, "x.csv", contents.as_bytes(), "text/html").await;
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.ends_with(code), "{contents:?}: {location}");
        let page = app.get(&location).await.text().await.unwrap();
        assert!(page.contains("role=\"alert\""));
    }
    // vCards take the same path.
    let id = upload(
        &app,
        "cards.vcf",
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Hedy Lamarr\r\nEMAIL:hedy@example.com\r\nEND:VCARD\r\n",
    )
    .await;
    assert_eq!(job(&app, id).await.planned.create, 1);
}

#[tokio::test]
async fn an_import_killed_mid_way_resumes_where_it_stopped() {
    let app = spawn_app().await;
    let (database, data) = app.identity();
    app.stop().await;

    let rows: i64 = 40_000;
    let csv = people_csv(rows);
    let file = data.path().join("many.csv");
    std::fs::write(&file, csv).unwrap();

    // The command line imports it; it is killed once some batches are committed.
    let mut process = tokio::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("import")
        .arg(&file)
        .env_remove("ROSTER_CONFIG")
        .env_remove("REDIS_URL")
        .env("DATABASE_URL", url_for(&database))
        .env("ROSTER_DATA_DIR", data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the command starts");
    let db = sqlx::PgPool::connect(&url_for(&database)).await.unwrap();
    let progress = || {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT (done->>'rows')::bigint FROM import_jobs WHERE status = 'running'",
            )
            .fetch_optional(&db)
            .await
            .unwrap()
            .flatten()
        }
    };
    let reached = eventually(Duration::from_secs(60), || async {
        progress().await.filter(|rows| *rows > 0)
    })
    .await
    .expect("the import commits a first batch");
    process.start_kill().unwrap();
    process.wait().await.unwrap();
    let stopped_at = progress().await.expect("the job is left running");
    assert!(
        stopped_at >= reached && stopped_at < rows,
        "killed mid-way: {stopped_at}"
    );
    let committed: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(
        committed, stopped_at,
        "exactly the rows counted as done are in"
    );

    // A server starting on the database takes the job over and finishes it.
    let app = restart(database, data).await;
    let id: Uuid = sqlx::query_scalar("SELECT id FROM import_jobs")
        .fetch_one(&db)
        .await
        .unwrap();
    let done = finished(&app, id, Duration::from_secs(120)).await;
    assert_eq!(done.status, ImportStatus::Done, "{:?}", done.error);
    assert_eq!(done.done.rows, rows as u64);
    assert_eq!(done.done.create, rows as u64);
    assert_eq!(count(&app).await, rows);
    let (entries, contacts): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT contact_id) FROM audit_log WHERE action = 'import'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!((entries, contacts), (rows, rows), "each row applied once");
}

#[tokio::test]
async fn blank_cells_and_missing_columns_leave_values_alone() {
    let app = spawn_app().await;
    sqlx::query(
        r#"INSERT INTO contacts (name, emails, phones, company, tags)
         VALUES ('Hedy Lamarr', '[{"value": "hedy@example.com"}]', '[{"value": "+1 555 010 2000"}]', 'MGM', '{inventor}'),
                ('Nikola Tesla', '[{"value": "tesla@example.com"}]', '[]', NULL, '{}')"#,
    )
    .execute(&app.db)
    .await
    .unwrap();
    // Only a title for Hedy; a Nikola Tesla without an email is someone else (a contact
    // with an email is known by it, not by name).
    let id = upload(
        &app,
        "titles.csv",
        "Name,Email,Title\nHedy Lamarr,hedy@example.com,Inventor\nNikola Tesla,,\n",
    )
    .await;
    let planned = job(&app, id).await.planned;
    assert_eq!((planned.create, planned.update), (1, 1), "{planned:?}");
    start_import(&app, id).await;
    finished(&app, id, Duration::from_secs(30)).await;
    let hedy: (Option<String>, Option<String>, Option<String>, Vec<String>) = sqlx::query_as(
        "SELECT title, phones->0->>'value', company, tags FROM contacts
          WHERE emails->0->>'value' = 'hedy@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        hedy,
        (
            Some("Inventor".to_owned()),
            Some("+1 555 010 2000".to_owned()),
            Some("MGM".to_owned()),
            vec!["inventor".to_owned()]
        )
    );
    let teslas: Vec<Option<String>> =
        sqlx::query_scalar("SELECT emails->0->>'value' AS email FROM contacts WHERE name = 'Nikola Tesla' ORDER BY email")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(teslas, [Some("tesla@example.com".to_owned()), None]);
}

#[tokio::test]
async fn possible_duplicates_are_listed_before_commit() {
    let app = spawn_app().await;
    let (existing,): (Uuid,) = sqlx::query_as(
        r#"INSERT INTO contacts (name, phones, company) VALUES ('Grace Hopper', '[{"value": "+1 555 010 2000"}]', 'US Navy')
         RETURNING id"#,
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let id = upload(
        &app,
        "maybe.csv",
        "Name,Phone,Company,Email\n\
         G. Hopper,(1) 555-010-2000,,g@example.com\n\
         grace hopper,,US NAVY,grace@example.com\n\
         Someone New,+44 20 7946 0000,Elsewhere,new@example.com\n",
    )
    .await;
    let checked = job(&app, id).await;
    assert_eq!(checked.planned.create, 3);
    assert_eq!(checked.planned.possible_duplicate, 2);
    let listed: Vec<(u64, Uuid)> = checked
        .possible_duplicates
        .iter()
        .map(|row| (row.line, row.existing))
        .collect();
    assert_eq!(listed, [(2, existing), (3, existing)]);
    assert!(checked.possible_duplicates[0].reason.contains("phone"));
    let page = app
        .get(&format!("/import/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("/contacts/{existing}")),
        "linked from the report"
    );
}
