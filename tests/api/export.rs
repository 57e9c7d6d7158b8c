//! Exports: the current search as CSV or vCard, and a CSV export that imports back to the
//! same contacts (into another directory, and into the same one without a change).

use roster::domain::{SaveOutcome, import::ImportStatus};
use uuid::Uuid;

use crate::helpers::{TestApp, import, rows, save, spawn_app};

async fn create(app: &TestApp, fields: &[(&str, &str)]) {
    let outcome = save(app, fields).await;
    assert!(matches!(outcome, SaveOutcome::Saved { .. }), "{outcome:?}");
}

async fn tricky_contacts(app: &TestApp) {
    let people: [&[(&str, &str)]; 5] = [
        &[
            ("name", "Zoë Lefèvre"),
            ("given", "Zoë"),
            ("family", "Lefèvre"),
            ("nickname", "Zozo"),
            ("pronouns", "she/her"),
            ("file_as", "family"),
            ("emails[0][label]", "work"),
            ("emails[0][value]", "zoe@example.fr"),
            ("emails[1][label]", "Perso; à la maison"),
            ("emails[1][value]", "zoe@home.example"),
            ("phones[0][label]", "mobile"),
            ("phones[0][value]", "+33 1 23 45 67 89"),
            ("phones[1][value]", "01 23 45 67 00"),
            ("addresses[0][label]", "work"),
            ("addresses[0][street]", "1 rue de Rivoli, bât. B"),
            ("addresses[0][city]", "Paris"),
            ("addresses[0][postal_code]", "75001"),
            ("addresses[0][country]", "France"),
            ("addresses[1][city]", "Lyon"),
            ("links[0][label]", "github"),
            ("links[0][value]", "github.com/zoe"),
            ("ims[0][label]", "signal"),
            ("ims[0][value]", "+33612345678"),
            ("birthday", "--07-14"),
            ("dates[0][label]", "anniversary"),
            ("dates[0][value]", "2015-06-20"),
            ("company", "Acme, \"The\" Company"),
            ("department", "R&D"),
            ("tier", "1"),
            ("tags", "founder, rust"),
            (
                "notes",
                "Line one\nLine two, with \"quotes\"; and semicolons",
            ),
        ],
        &[
            ("name", "=SUM(A1:A9) Formula"),
            ("email", "formula@example.com"),
            ("company", "+Plus Corp"),
            ("title", "-minus"),
            ("tags", "@at"),
        ],
        &[("name", "Name Only"), ("tier", "3")],
        &[
            ("name", "Li Wei"),
            ("company", "北京 Tech"),
            ("location", "Beijing"),
            ("notes", "Emoji 🎉 and tabs\there"),
        ],
        &[
            ("name", "Ama Mensah"),
            ("email", "ama@example.gh"),
            ("phone", "+233 30 123 4567 ext. 12"),
            ("title", "Director"),
            ("location", "Accra"),
            ("tier", "2"),
        ],
    ];
    for person in people {
        create(app, person).await;
    }
}

#[tokio::test]
async fn a_csv_export_imports_back_to_the_same_contacts() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    tricky_contacts(&app).await;

    let response = app.get("/export.csv").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.bytes().await.unwrap().to_vec();
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(
        text.contains("'=SUM(A1:A9) Formula"),
        "formulas are defused"
    );

    // Into another directory: the same contacts.
    let other = spawn_app().await;
    let job = import(&other, "export.csv", csv.clone()).await;
    assert_eq!(job.status, ImportStatus::Done, "{:?}", job.error);
    assert_eq!(job.done.create, 5, "{:?}", job.invalid_rows);
    assert_eq!(rows(&other).await, rows(&app).await);

    // Into the same one: nothing changes.
    let job = import(&app, "export.csv", csv).await;
    assert_eq!(
        (job.done.create, job.done.update, job.done.unchanged),
        (0, 0, 5)
    );

    // A vCard export also reads back to the same contacts.
    let cards = app.get("/export.vcf").await.bytes().await.unwrap().to_vec();
    let third = spawn_app().await;
    let job = import(&third, "export.vcf", cards).await;
    assert_eq!(job.done.create, 5, "{:?}", job.invalid_rows);
    assert_eq!(rows(&third).await, rows(&app).await);
}

#[tokio::test]
async fn an_export_holds_every_match_of_the_search_and_nothing_else() {
    let app = spawn_app().await;
    app.seed(300).await;
    app.index_caught_up().await;
    tricky_contacts(&app).await;

    // More matches than a page: all of them, not just the first fifty.
    let all = app.search_text("").await.total;
    assert!(all > 50, "more than a page");
    let body = app.get("/export.csv").await.bytes().await.unwrap().to_vec();
    let other = spawn_app().await;
    let job = import(&other, "all.csv", body).await;
    assert_eq!(job.done.rows, all, "every match is exported");
    let exported = app.get("/export.csv?tier=1").await.text().await.unwrap();
    let tier_one = app
        .search(&roster::domain::SearchQuery::from_query_string("tier=1"))
        .await
        .total;
    assert!(tier_one < all);
    assert!(exported.contains("Zoë Lefèvre"));
    assert!(
        !exported.contains("Name Only"),
        "tier 3 is not in a tier 1 export"
    );

    // Read back, the filtered export is exactly the matches.
    let job = import(&other, "tier1.csv", exported.into_bytes()).await;
    assert_eq!(job.done.rows, tier_one);

    let one = app
        .get("/export.vcf?q=ama%20mensah")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(one.matches("BEGIN:VCARD").count(), 1);
    assert!(one.contains("FN:Ama Mensah"));
}

#[tokio::test]
async fn one_contact_downloads_as_a_vcard() {
    let app = spawn_app().await;
    tricky_contacts(&app).await;
    let id: Uuid = sqlx::query_scalar("SELECT id FROM contacts WHERE name = 'Zoë Lefèvre'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let response = app.get(&format!("/contacts/{id}/vcard")).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".vcf")
    );
    let card = response.text().await.unwrap();
    assert!(card.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\n"));
    assert!(card.contains("ORG:Acme\\, \"The\" Company"));
    assert_eq!(app.get("/contacts/not-an-id/vcard").await.status(), 404);
    assert_eq!(
        app.get(&format!("/contacts/{}/vcard", Uuid::new_v4()))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn the_ticked_rows_download_as_vcards() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    tricky_contacts(&app).await;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM contacts WHERE name IN ('Li Wei', 'Ama Mensah') ORDER BY name",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    // As the results' form sends it: the search, the action fields, the ticked ids.
    let cards = app
        .get(&format!(
            "/export.vcf?search=q%3Da&action=add-tag&value=&id={}&id={}",
            ids[0], ids[1]
        ))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(cards.matches("BEGIN:VCARD").count(), 2);
    assert!(cards.contains("FN:Ama Mensah") && cards.contains("FN:Li Wei"));
    // "All matching" exports the search instead.
    let all = app
        .get("/export.vcf?search=q%3Dama%2520mensah&all=1")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(all.matches("BEGIN:VCARD").count(), 1);
}

#[tokio::test]
async fn a_compressed_export_arrives_whole() {
    let app = spawn_app().await;
    app.seed(300).await;
    app.index_caught_up().await;
    let export = |encoding: &'static str| {
        app.client
            .get(app.url("/export.csv"))
            .header("accept-encoding", encoding)
            .send()
    };
    let plain = export("identity").await.unwrap();
    assert_eq!(plain.status(), 200);
    let plain = plain.bytes().await.expect("the whole export");
    assert!(plain.len() > 10_000, "{} bytes", plain.len());

    let compressed = export("gzip").await.unwrap();
    assert_eq!(compressed.status(), 200);
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    // The stream ends properly (it used to be cut short: the compression layer polls a
    // body once more after its end), and gzip's trailer gives the uncompressed size.
    let bytes = compressed
        .bytes()
        .await
        .expect("the whole compressed export");
    let size = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap());
    assert_eq!(size as usize, plain.len());
    assert!(bytes.len() < plain.len() / 2);
}
