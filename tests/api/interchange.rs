//! Lossless interchange (issue 26): vCards 2.1, 3.0 and 4.0 as other programs write
//! them, imported through the upload form, every field of the fixture found on the
//! contact; then exported and imported again — into another directory, the same
//! records; into the same one, no change.
//!
//! The fixtures in `tests/fixtures/interchange/` are written by hand from the
//! published formats (the vCard 2.1 specification, RFC 2426, RFC 6350, RFC 9554) in
//! the shapes Outlook, iOS and Nextcloud write them.

use roster::domain::{
    Contact,
    import::{ImportJob, ImportStatus},
};

use crate::helpers::{TestApp, import, in_checkout, rows, spawn_app};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(in_checkout(&format!("tests/fixtures/interchange/{name}")))
        .expect("the fixture is in the checkout")
}

/// The one live contact named `name`, as the API gives it.
async fn named(app: &TestApp, name: &str) -> Contact {
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM contacts WHERE name = $1 AND deleted_at IS NULL")
            .bind(name)
            .fetch_one(&app.db)
            .await
            .unwrap_or_else(|_| panic!("{name} was imported"));
    crate::helpers::contact(app, id).await
}

fn values<T>(rows: &[T], value: impl Fn(&T) -> (Option<&str>, String)) -> Vec<(String, String)> {
    rows.iter()
        .map(|row| {
            let (label, value) = value(row);
            (label.unwrap_or_default().to_owned(), value)
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// Imports `file` into `app`, then its vCard export into a new directory and into the
/// same one; the first import's job.
async fn round_trip(app: &TestApp, name: &str, file: Vec<u8>, count: u64) -> ImportJob {
    round_trip_through(app, name, file, count, &["/export.vcf"]).await
}

/// [`round_trip`] through each of `exports`.
async fn round_trip_through(
    app: &TestApp,
    name: &str,
    file: Vec<u8>,
    count: u64,
    exports: &[&str],
) -> ImportJob {
    let first = import(app, name, file).await;
    let job = first.clone();
    assert_eq!(job.status, ImportStatus::Done, "{:?}", job.error);
    assert_eq!(job.done.create, count, "{:?}", job.invalid_rows);
    app.index_caught_up().await;

    for export in exports {
        let exported = app.get(export).await.bytes().await.unwrap().to_vec();
        let file_name = export.trim_start_matches('/');
        let other = spawn_app().await;
        let job = import(&other, file_name, exported.clone()).await;
        assert_eq!(job.done.create, count, "{export}: {:?}", job.invalid_rows);
        assert_eq!(
            rows(&other).await,
            rows(app).await,
            "{export}: the same records"
        );

        let job = import(app, file_name, exported).await;
        assert_eq!(
            (job.done.create, job.done.update, job.done.unchanged),
            (0, 0, count),
            "{export}: nothing changes"
        );
    }
    first
}

#[tokio::test]
async fn an_outlook_vcard_2_1_in_windows_1252_keeps_every_field() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let job = round_trip(
        &app,
        "outlook.vcf",
        fixture("outlook-2.1-windows-1252.vcf"),
        2,
    )
    .await;
    assert_eq!(job.charset.as_deref(), Some("windows-1252"), "detected");

    let jurgen = named(&app, "Dr. Jürgen Karl Müller").await.card;
    assert_eq!(jurgen.name_parts.family.as_deref(), Some("Müller"));
    assert_eq!(jurgen.name_parts.middle.as_deref(), Some("Karl"));
    assert_eq!(jurgen.company.as_deref(), Some("Bäckerei Müller GmbH"));
    assert_eq!(jurgen.department.as_deref(), Some("Vertrieb"));
    assert_eq!(jurgen.title.as_deref(), Some("Geschäftsführer"));
    assert_eq!(
        values(&jurgen.phones, |p| (
            p.label.as_deref(),
            p.value.as_str().to_owned()
        )),
        pairs(&[
            ("mobile", "+49 170 7654321"),
            ("work", "+49 30 1234567"),
            ("work fax", "+49 30 1234568")
        ])
    );
    assert_eq!(
        values(&jurgen.emails, |e| (
            e.label.as_deref(),
            e.value.as_str().to_owned()
        )),
        pairs(&[
            ("", "juergen@baeckerei-mueller.example"),
            ("", "jkm@privat.example")
        ])
    );
    let work = &jurgen.addresses[0];
    assert_eq!(
        (
            work.label.as_deref(),
            work.street.as_deref(),
            work.city.as_deref(),
            work.postal_code.as_deref(),
            work.country.as_deref()
        ),
        (
            Some("work"),
            Some("Hauptstraße 5"),
            Some("Berlin"),
            Some("10115"),
            Some("DE")
        )
    );
    assert_eq!(jurgen.addresses[1].city.as_deref(), Some("Potsdam"));
    assert_eq!(
        jurgen.links[0].value,
        "http://www.baeckerei-mueller.example"
    );
    assert_eq!(
        jurgen.birthday.map(|d| d.to_iso()).as_deref(),
        Some("1970-03-15")
    );
    assert_eq!(
        jurgen.notes.as_deref(),
        Some("Kunde seit 2019.\nMag Brötchen mit Mohn; ruft meist montags an.")
    );
    assert!(jurgen.photo.is_some(), "the photo");
    let extras = jurgen.extras.join("\n");
    for kept in [
        "LABEL",
        "Hauptstraße 5",
        "X-MS-OL-DEFAULT-POSTAL-ADDRESS:2",
        "X-MS-IMADDRESS:juergen@im.example",
        "X-MS-OL-DESIGN",
    ] {
        assert!(extras.contains(kept), "{kept} is kept: {extras}");
    }
    assert!(!extras.contains("REV"), "the file's own revision is not");

    let zoe = named(&app, "Zoë Lefèvre").await.card;
    assert_eq!(zoe.tags, ["Kunden", "VIP"]);
    assert_eq!(zoe.emails[0].label.as_deref(), Some("home"));
}

#[tokio::test]
async fn an_iphone_vcard_3_0_keeps_its_grouped_labels_dates_and_people() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    round_trip(&app, "iphone.vcf", fixture("iphone-3.0.vcf"), 2).await;

    let ada = named(&app, "Countess of Ada Augusta Lovelace").await.card;
    assert_eq!(ada.name_parts.nickname.as_deref(), Some("Ada"));
    assert_eq!(ada.name_parts.phonetic_given.as_deref(), Some("Ay-da"));
    assert_eq!(ada.name_parts.phonetic_family.as_deref(), Some("Luv-lace"));
    assert_eq!(
        values(&ada.emails, |e| (
            e.label.as_deref(),
            e.value.as_str().to_owned()
        )),
        pairs(&[
            ("other", "ada@analytical.example"),
            ("Laboratory", "ada@home.example"),
            ("work", "countess@engines.example")
        ])
    );
    assert_eq!(
        values(&ada.phones, |p| (
            p.label.as_deref(),
            p.value.as_str().to_owned()
        )),
        pairs(&[
            ("mobile", "+44 20 7946 0958"),
            ("home", "020 7946 0000"),
            ("Observatory", "+44 20 7946 0999")
        ])
    );
    assert_eq!(ada.addresses.len(), 2);
    assert_eq!(ada.addresses[0].country.as_deref(), Some("GB"));
    assert_eq!(ada.addresses[0].postal_code.as_deref(), Some("SW1Y 4JH"));
    assert_eq!(ada.addresses[1].region.as_deref(), Some("Leicestershire"));
    assert_eq!(
        ada.addresses[1].country.as_deref(),
        Some("GB"),
        "from X-ABADR"
    );
    assert_eq!(
        values(&ada.links, |l| (l.label.as_deref(), l.value.clone())),
        pairs(&[
            ("homepage", "https://ada.example"),
            ("twitter", "https://twitter.com/adalovelace")
        ])
    );
    assert_eq!(
        values(&ada.ims, |i| (i.label.as_deref(), i.value.clone())),
        pairs(&[("Jabber", "xmpp:ada@jabber.example")])
    );
    assert_eq!(
        ada.birthday.map(|d| d.to_iso()).as_deref(),
        Some("1815-12-10")
    );
    assert_eq!(
        values(&ada.dates, |d| (d.label.as_deref(), d.value.to_iso())),
        pairs(&[("anniversary", "1835-07-08")])
    );
    assert_eq!(
        values(&ada.related, |r| (r.label.as_deref(), r.value.clone())),
        pairs(&[("spouse", "William King"), ("father", "Lord Byron")])
    );
    assert_eq!(ada.company.as_deref(), Some("Analytical Engines Ltd"));
    assert_eq!(ada.department.as_deref(), Some("Research, Poetry"));
    assert_eq!(ada.title.as_deref(), Some("Analyst"));
    assert_eq!(ada.tags, ["mathematics", "poetry"]);
    assert_eq!(
        ada.notes.as_deref(),
        Some("First programmer.\nWrote the notes on the engine, 1843.")
    );
    assert!(ada.photo.is_some());
    assert!(
        ada.extras.iter().any(|e| e.contains("PERSON")),
        "{:?}",
        ada.extras
    );

    let charles = named(&app, "Charles Babbage").await.card;
    assert_eq!(
        values(&charles.ims, |i| (i.label.as_deref(), i.value.clone())),
        pairs(&[("aim", "cbabbage"), ("xmpp", "charles@jabber.example")])
    );
}

#[tokio::test]
async fn a_vcard_4_0_with_a_data_uri_photo_keeps_what_roster_has_no_field_for() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    round_trip(&app, "nextcloud.vcf", fixture("rfc6350-4.0.vcf"), 1).await;

    let grace = named(&app, "Grace Brewster Murray Hopper").await.card;
    assert_eq!(grace.name_parts.prefix.as_deref(), Some("Rear Admiral"));
    assert_eq!(grace.name_parts.pronouns.as_deref(), Some("she/her"));
    assert_eq!(
        grace.name_parts.nickname.as_deref(),
        Some("Amazing Grace, Grandma COBOL")
    );
    assert_eq!(
        values(&grace.emails, |e| (
            e.label.as_deref(),
            e.value.as_str().to_owned()
        )),
        pairs(&[("", "grace@example.org"), ("work", "grace@navy.example")])
    );
    assert_eq!(grace.phones[0].label.as_deref(), Some("mobile"));
    assert_eq!(grace.phones.len(), 2);
    let work = &grace.addresses[0];
    assert_eq!(
        (
            work.city.as_deref(),
            work.region.as_deref(),
            work.country.as_deref()
        ),
        (Some("Washington"), Some("DC"), Some("US"))
    );
    assert_eq!(
        grace.birthday.map(|d| d.to_iso()).as_deref(),
        Some("1906-12-09")
    );
    assert_eq!(
        values(&grace.dates, |d| (d.label.as_deref(), d.value.to_iso())),
        pairs(&[("anniversary", "--04-15")])
    );
    assert_eq!(
        values(&grace.related, |r| (r.label.as_deref(), r.value.clone())),
        pairs(&[
            ("spouse", "Vincent Foster Hopper"),
            ("relative", "Mary Murray")
        ])
    );
    assert_eq!(
        grace.links.len(),
        2,
        "the web page and the LinkedIn profile"
    );
    assert_eq!(grace.title.as_deref(), Some("Rear Admiral"));
    assert_eq!(grace.tags, ["navy", "compilers", "COBOL"]);
    assert!(grace.photo.is_some());
    let extras = grace.extras.join("\n");
    for kept in [
        "GENDER:F",
        "TZ",
        "GEO",
        "DEATHDATE",
        "ROLE:Computer scientist",
        "KIND",
        "X-CUSTOM-THING",
        "kept as it is",
    ] {
        assert!(extras.contains(kept), "{kept} is kept: {extras}");
    }
}

fn has_extra(card: &roster::domain::Card, name: &str, value: &str) {
    assert!(
        card.extras
            .iter()
            .filter_map(|line| roster::domain::card::custom_of_line(line))
            .any(|(n, v)| n == name && v == value),
        "{name}: {value} is kept: {:?}",
        card.extras
    );
}

#[tokio::test]
async fn a_google_contacts_csv_keeps_grouped_entries_labels_and_its_own_columns() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let job = round_trip_through(
        &app,
        "contacts.csv",
        fixture("google.csv"),
        2,
        &["/export.vcf", "/export-google.csv", "/export.csv"],
    )
    .await;
    assert_eq!(job.charset.as_deref(), Some("UTF-8"));

    let ada = named(&app, "Countess Ada King Lovelace").await.card;
    assert_eq!(ada.name_parts.nickname.as_deref(), Some("Ada"));
    assert_eq!(ada.name_parts.phonetic_given.as_deref(), Some("Ay-da"));
    assert_eq!(
        values(&ada.emails, |e| (
            e.label.as_deref(),
            e.value.as_str().to_owned()
        )),
        pairs(&[
            ("work", "ada@analytical.example"),
            ("home", "ada@home.example"),
            ("home", "countess@home.example"),
            ("other", "ada.l@old.example"),
        ]),
        "the starred label first; values joined by ::: are entries of their own"
    );
    assert_eq!(
        values(&ada.phones, |p| (
            p.label.as_deref(),
            p.value.as_str().to_owned()
        )),
        pairs(&[("mobile", "+44 20 7946 0001"), ("work", "+44 20 7946 0002")])
    );
    let home = &ada.addresses[0];
    assert_eq!(
        (
            home.label.as_deref(),
            home.street.as_deref(),
            home.extended.as_deref(),
            home.city.as_deref(),
            home.postal_code.as_deref(),
            home.country.as_deref()
        ),
        (
            Some("home"),
            Some("12 St James's Square"),
            Some("Flat 2"),
            Some("London"),
            Some("SW1Y 4JH"),
            Some("GB")
        )
    );
    let work = &ada.addresses[1];
    assert_eq!(
        (
            work.label.as_deref(),
            work.region.as_deref(),
            work.country.as_deref()
        ),
        (Some("work"), Some("Greater Manchester"), Some("GB"))
    );
    assert_eq!(
        values(&ada.links, |l| (l.label.as_deref(), l.value.clone())),
        pairs(&[("blog", "https://ada.example/blog")])
    );
    assert_eq!(
        values(&ada.related, |r| (r.label.as_deref(), r.value.clone())),
        pairs(&[("spouse", "William King")])
    );
    assert_eq!(
        values(&ada.dates, |d| (d.label.as_deref(), d.value.to_iso())),
        pairs(&[("anniversary", "1835-07-08")])
    );
    assert_eq!(
        values(&ada.ims, |i| (i.label.as_deref(), i.value.clone())),
        pairs(&[("skype", "ada.lovelace")]),
        "the service is the label"
    );
    assert_eq!(
        ada.birthday.map(|d| d.to_iso()).as_deref(),
        Some("1815-12-10")
    );
    assert_eq!(ada.company.as_deref(), Some("Analytical Engines"));
    assert_eq!(ada.title.as_deref(), Some("Analyst"));
    assert_eq!(ada.department.as_deref(), Some("Research"));
    assert_eq!(ada.tags, ["Friends", "Mathematicians"], "not myContacts");
    assert_eq!(
        ada.notes.as_deref(),
        Some("First programmer.\nWrote the notes on the engine, 1843.")
    );
    has_extra(&ada, "Favourite engine", "Analytical");
    assert_eq!(
        ada.file_as,
        roster::domain::card::FileAs::Family,
        "Google's 'Lovelace, Ada'"
    );
    has_extra(
        &ada,
        "Photo",
        "https://lh3.googleusercontent.com/contacts/ada-example",
    );

    let charles = named(&app, "Charles Babbage").await.card;
    assert_eq!(
        charles.birthday.map(|d| d.to_iso()).as_deref(),
        Some("--12-26")
    );
    assert_eq!(charles.tags, ["starred"]);
    assert_eq!(charles.phones[0].label.as_deref(), Some("home fax"));
}

#[tokio::test]
async fn the_older_google_csv_layout_is_read_too() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    round_trip(&app, "google.csv", fixture("google-legacy.csv"), 1).await;

    let grace = named(&app, "Grace Hopper").await.card;
    assert_eq!(grace.name_parts.middle.as_deref(), Some("Brewster Murray"));
    assert_eq!(
        values(&grace.emails, |e| (
            e.label.as_deref(),
            e.value.as_str().to_owned()
        )),
        pairs(&[
            ("work", "grace@navy.example"),
            ("home", "grace@home.example")
        ])
    );
    assert_eq!(grace.phones[0].label.as_deref(), Some("mobile"));
    assert_eq!(
        (
            grace.addresses[0].label.as_deref(),
            grace.addresses[0].street.as_deref()
        ),
        (Some("work"), Some("The Pentagon, Arlington, Virginia")),
        "an address given whole"
    );
    assert_eq!(grace.company.as_deref(), Some("US Navy"));
    assert_eq!(grace.title.as_deref(), Some("Computer scientist"));
    assert_eq!(grace.tags, ["Navy"]);
    assert_eq!(
        values(&grace.links, |l| (l.label.as_deref(), l.value.clone())),
        pairs(&[("Profile", "https://navy.example/hopper")])
    );
    has_extra(&grace, "Gender", "female");
    has_extra(&grace, "Occupation", "Rear admiral");
    has_extra(&grace, "Organization 1 - Location", "Pentagon");
}

#[tokio::test]
async fn an_outlook_csv_in_windows_1252_keeps_phones_by_kind_and_its_other_columns() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let job = round_trip_through(
        &app,
        "outlook.csv",
        fixture("outlook-windows-1252.csv"),
        2,
        &["/export.vcf", "/export-outlook.csv", "/export-3.0.vcf"],
    )
    .await;
    assert_eq!(job.charset.as_deref(), Some("windows-1252"), "detected");

    let katherine = named(&app, "Dr. Katherine Coleman Johnson").await.card;
    assert_eq!(
        values(&katherine.emails, |e| (
            e.label.as_deref(),
            e.value.as_str().to_owned()
        )),
        pairs(&[
            ("", "katherine@nasa.example"),
            ("", "kj@home.example"),
            ("", "kcj@old.example")
        ])
    );
    assert_eq!(
        values(&katherine.phones, |p| (
            p.label.as_deref(),
            p.value.as_str().to_owned()
        )),
        pairs(&[
            ("work", "+1 757 555 0100"),
            ("mobile", "+1 757 555 0101"),
            ("work fax", "+1 757 555 0102")
        ])
    );
    let work = &katherine.addresses[0];
    assert_eq!(
        (
            work.label.as_deref(),
            work.street.as_deref(),
            work.city.as_deref(),
            work.region.as_deref(),
            work.postal_code.as_deref(),
            work.country.as_deref()
        ),
        (
            Some("work"),
            Some("1 NASA Drive Building 1244"),
            Some("Hampton"),
            Some("VA"),
            Some("23681"),
            Some("US")
        )
    );
    assert_eq!(katherine.addresses[1].label.as_deref(), Some("home"));
    assert_eq!(katherine.addresses[1].city.as_deref(), Some("Newport News"));
    assert_eq!(
        values(&katherine.related, |r| (
            r.label.as_deref(),
            r.value.clone()
        )),
        pairs(&[("manager", "Dorothy Vaughan"), ("spouse", "James Johnson")])
    );
    assert_eq!(
        values(&katherine.ims, |i| (i.label.as_deref(), i.value.clone())),
        pairs(&[("", "katherine@im.example")])
    );
    assert_eq!(katherine.links[0].value, "https://nasa.example/kj");
    assert_eq!(
        katherine.birthday.map(|d| d.to_iso()).as_deref(),
        Some("1918-08-26"),
        "Outlook's month/day/year"
    );
    assert!(katherine.dates.is_empty(), "0/0/00 is no date");
    assert_eq!(katherine.company.as_deref(), Some("NASA"));
    assert_eq!(katherine.department.as_deref(), Some("Flight Research"));
    assert_eq!(katherine.title.as_deref(), Some("Mathematician"));
    assert_eq!(
        katherine.notes.as_deref(),
        Some("Calculated the trajectory for Freedom 7.")
    );
    has_extra(&katherine, "Office Location", "Building 1244");
    has_extra(&katherine, "Hobby", "Bridge");

    let zoe = named(&app, "Zoë Ångström").await.card;
    assert_eq!(zoe.company.as_deref(), Some("Société Générale"));
    assert!(zoe.birthday.is_none());
}

#[tokio::test]
async fn a_linkedin_connections_csv_is_read_past_its_notes() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let job = round_trip(
        &app,
        "Connections.csv",
        fixture("linkedin-connections.csv"),
        2,
    )
    .await;
    assert!(job.invalid_rows.is_empty(), "{:?}", job.invalid_rows);

    let margaret = named(&app, "Margaret Hamilton").await.card;
    assert_eq!(
        values(&margaret.links, |l| (l.label.as_deref(), l.value.clone())),
        pairs(&[(
            "linkedin",
            "https://www.linkedin.com/in/margaret-hamilton-example"
        )])
    );
    assert_eq!(
        margaret.emails[0].value.as_str(),
        "margaret@hamilton.example"
    );
    assert_eq!(margaret.company.as_deref(), Some("Hamilton Technologies"));
    assert_eq!(margaret.title.as_deref(), Some("Founder"));
    assert_eq!(
        values(&margaret.dates, |d| (d.label.as_deref(), d.value.to_iso())),
        pairs(&[("connected on LinkedIn", "2021-03-14")])
    );
    let alan = named(&app, "Alan Kay").await.card;
    assert!(alan.emails.is_empty());
    assert_eq!(alan.dates[0].value.to_iso(), "2019-01-02");
}

/// A PNG that claims 60,000 × 60,000 pixels in a few bytes (a decompression bomb).
fn bomb_png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(60_000u32.to_be_bytes());
    png.extend(60_000u32.to_be_bytes());
    png.extend([8, 6, 0, 0, 0]);
    png.extend(crc32fast::hash(&png[12..]).to_be_bytes());
    png.extend(b"\0\0\0\0IDAT");
    png.extend(crc32fast::hash(b"IDAT").to_be_bytes());
    png.extend(b"\0\0\0\0IEND");
    png.extend(crc32fast::hash(b"IEND").to_be_bytes());
    png
}

/// Every kind of bad input the issue names, in one directory: each gets a message
/// naming its line, never a 500; the good rows beside the bad ones import; a refused
/// file leaves nothing behind.
#[tokio::test]
async fn bad_files_are_named_line_by_line_and_the_rest_imports() {
    use base64::Engine as _;
    let app = spawn_app().await;
    app.index_caught_up().await;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let card = |name: &str, extra: &str| {
        format!("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{name}\r\nN:{name};;;;\r\n{extra}END:VCARD\r\n")
    };
    // 20 MB of photo inside one card.
    let huge = b64(&vec![0x42u8; 20 * 1024 * 1024]);
    let file = [
        card("Good One", "EMAIL:one@example.com\r\n"),
        card(
            "Malformed Line",
            "this line has no colon\r\nEMAIL:malformed@example.com\r\n",
        ),
        card(
            "Huge Photo",
            &format!("PHOTO;ENCODING=b;TYPE=JPEG:{huge}\r\n"),
        ),
        card(
            "Bomb Photo",
            &format!("PHOTO;ENCODING=b;TYPE=PNG:{}\r\n", b64(&bomb_png())),
        ),
        card("Good Two", "EMAIL:two@example.com\r\n"),
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No End\r\n".to_owned(),
    ]
    .concat();
    let job = import(&app, "bad.vcf", file.into_bytes()).await;
    assert_eq!(job.status, ImportStatus::Done, "{:?}", job.error);
    let reasons: Vec<(u64, String)> = job
        .invalid_rows
        .iter()
        .map(|row| (row.line, row.reason.clone()))
        .collect();
    let reason_at = |line: u64| {
        reasons
            .iter()
            .find(|(at, _)| *at == line)
            .map(|(_, reason)| reason.clone())
            .unwrap_or_else(|| panic!("line {line} is named: {reasons:?}"))
    };
    // Cards start on lines 1, 7, 14, 20, 26 and 32.
    assert!(reason_at(14).contains("16 MB"), "{reasons:?}");
    assert!(reason_at(20).contains("megapixels"), "{reasons:?}");
    assert!(reason_at(32).contains("END:VCARD"), "{reasons:?}");
    for name in ["Good One", "Good Two"] {
        named(&app, name).await;
    }
    // The malformed line is named, with the card it is in.
    assert!(
        reason_at(7).starts_with("Line 11 is not a vCard property"),
        "{reasons:?}"
    );
    assert_eq!(job.done.create, 2);

    // A ragged CSV: a short row imports, a row with cells past the header is named.
    let job = import(
        &app,
        "ragged.csv",
        b"Name,Email,Company\nShort Row,short@example.com\nLong Row,long@example.com,Acme,lost?\nFine Row,fine@example.com,Acme\n".to_vec(),
    )
    .await;
    assert_eq!(job.done.create, 2);
    assert_eq!(job.invalid_rows.len(), 1);
    assert_eq!(job.invalid_rows[0].line, 3);
    assert!(
        job.invalid_rows[0].reason.contains("4 cells"),
        "{:?}",
        job.invalid_rows
    );

    // An unknown character set is refused in words.
    let form = reqwest::multipart::Form::new()
        .text("charset", "klingon")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"Name\nAda\n".to_vec()).file_name("x.csv"),
        );
    let response = app
        .client
        .post(app.url("/import/upload"))
        .header("accept", "text/html")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with("error=charset"), "{location}");
    let page = app.get(&location).await.text().await.unwrap();
    assert!(page.contains("does not know that character set"));

    // A file of 2 GB is cut off at the upload cap without being read to its end.
    let jobs_before: i64 = sqlx::query_scalar("SELECT count(*) FROM import_jobs")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let chunk = bytes::Bytes::from(vec![b'x'; 1024 * 1024]);
    let endless =
        futures_util::stream::iter(std::iter::repeat_n(chunk, 2048).map(Ok::<_, std::io::Error>));
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::stream_with_length(
            reqwest::Body::wrap_stream(endless),
            2 * 1024 * 1024 * 1024,
        )
        .file_name("huge.csv"),
    );
    let started = std::time::Instant::now();
    let response = app
        .client
        .post(app.url("/import/upload"))
        .header("accept", "text/html")
        .multipart(form)
        .send()
        .await;
    if let Ok(response) = response {
        assert_ne!(response.status(), 500);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.ends_with("error=too-large"), "{location}");
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "not read to its end"
    );
    let jobs_after: i64 = sqlx::query_scalar("SELECT count(*) FROM import_jobs")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(jobs_after, jobs_before, "nothing kept of a refused file");
}
