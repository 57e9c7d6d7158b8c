//! The rich contact end to end through the server: several labelled emails, phones
//! and addresses, found by any entry, checked for duplicates across every entry,
//! united by a merge, changed by row buttons without JavaScript, and refused in words
//! when an entry is wrong.

use roster::domain::{
    Card, ContactInput, Field, SaveOutcome,
    card::{AddressInput, EntryInput},
};
use uuid::Uuid;

use crate::helpers::{TestApp, contact, save, spawn_app};

/// Saves `input` as a new contact, as the hydrated form does.
async fn create(app: &TestApp, input: &ContactInput) -> SaveOutcome {
    let fields = input.form_fields();
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    save(app, &fields).await
}

async fn created(app: &TestApp, input: &ContactInput) -> Uuid {
    match create(app, input).await {
        SaveOutcome::Saved { id } => id,
        other => panic!("expected the contact to be saved, got {other:?}"),
    }
}

fn rows(values: &[(&str, &str)]) -> Vec<EntryInput> {
    values
        .iter()
        .map(|(label, value)| EntryInput::new(label, value))
        .collect()
}

fn person(name: &str) -> ContactInput {
    ContactInput {
        name: name.to_owned(),
        ..ContactInput::default()
    }
}

fn names(page: &roster::domain::SearchPage) -> Vec<String> {
    page.hits
        .iter()
        .map(|hit| hit.contact.name.clone())
        .collect()
}

#[tokio::test]
async fn every_entry_is_searchable_and_the_phone_in_any_format() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    created(
        &app,
        &ContactInput {
            emails: rows(&[
                ("work", "rosa@firm.example"),
                ("home", "rosa.private@mail.example"),
            ]),
            phones: rows(&[("mobile", "+44 7700 900123"), ("work", "+1 (201) 555-0147")]),
            addresses: vec![
                AddressInput {
                    label: "work".into(),
                    city: "Lisbon".into(),
                    country: "PT".into(),
                    ..AddressInput::default()
                },
                AddressInput {
                    label: "home".into(),
                    street: "4 Quayside Walk".into(),
                    city: "Tromsø".into(),
                    country: "Norway".into(),
                    ..AddressInput::default()
                },
            ],
            nickname: "Ro".into(),
            department: "Cartography".into(),
            ..person("Rosalind Pereira")
        },
    )
    .await;
    created(&app, &person("Someone Else")).await;

    for query in [
        "rosa.private@mail.example",
        // The second phone, typed with no punctuation, without and with its country code.
        "2015550147",
        "+12015550147",
        "201-555-0147",
        // The city of the second address, with and without its accent, and its street.
        "Tromsø",
        "tromso",
        "quayside",
        // The country of an address, by its name.
        "norway",
        "cartography",
    ] {
        assert_eq!(
            names(&app.search_text(query).await),
            ["Rosalind Pereira"],
            "{query}"
        );
    }
}

#[tokio::test]
async fn duplicates_are_found_across_every_entry() {
    let app = spawn_app().await;
    let first = created(
        &app,
        &ContactInput {
            emails: rows(&[
                ("work", "first@firm.example"),
                ("home", "Shared@Home.example"),
            ]),
            phones: rows(&[("", "+44 20 7946 0958"), ("", "+1 201 555 0111")]),
            ..person("First Person")
        },
    )
    .await;

    // The same email as the first's second one, in another case: refused, naming it.
    let outcome = create(
        &app,
        &ContactInput {
            emails: rows(&[("", "new@firm.example"), ("", "shared@home.EXAMPLE")]),
            ..person("Second Person")
        },
    )
    .await;
    let SaveOutcome::DuplicateEmail { existing } = outcome else {
        panic!("expected a duplicate email, got {outcome:?}");
    };
    assert_eq!(existing.id, first);

    // The same number as the first's second phone, written another way: a possible
    // duplicate, saved only when confirmed.
    let outcome = create(
        &app,
        &ContactInput {
            phones: rows(&[("", "+33 1 00 00 00 00"), ("work", "(201) 555-0111")]),
            ..person("Third Person")
        },
    )
    .await;
    let SaveOutcome::PossibleDuplicates { matches } = outcome else {
        panic!("expected possible duplicates, got {outcome:?}");
    };
    assert_eq!(matches.iter().map(|m| m.id).collect::<Vec<_>>(), [first]);

    // Two equal addresses in one contact are one too many.
    let outcome = create(
        &app,
        &ContactInput {
            emails: rows(&[("", "a@b.example"), ("", "A@B.example")]),
            ..person("Fourth Person")
        },
    )
    .await;
    let errors = outcome.field_errors().expect("refused on the row");
    assert_eq!(
        errors.get_row(Field::Emails, 1),
        Some("This address is already listed above.")
    );
}

#[tokio::test]
async fn a_merge_keeps_every_entry_of_both() {
    let app = spawn_app().await;
    let keep = created(
        &app,
        &ContactInput {
            emails: rows(&[("work", "ada@engines.example")]),
            phones: rows(&[("mobile", "+44 20 7946 0001")]),
            addresses: vec![AddressInput {
                city: "London".into(),
                ..AddressInput::default()
            }],
            birthday: "1815-12-10".into(),
            ..person("Ada Lovelace")
        },
    )
    .await;
    let other = ContactInput {
        emails: rows(&[("home", "ada@home.example")]),
        phones: rows(&[("", "+44 (20) 7946-0001"), ("home", "+44 20 7946 0002")]),
        addresses: vec![AddressInput {
            city: "Ockham".into(),
            country: "GB".into(),
            ..AddressInput::default()
        }],
        links: rows(&[("", "example.com/ada")]),
        dates: rows(&[("anniversary", "1835-07-08")]),
        ..person("Augusta Ada King")
    };
    // A possible duplicate (the same phone): saved knowingly.
    let mut fields = other.form_fields();
    fields.push(("confirm".to_owned(), "1".to_owned()));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let SaveOutcome::Saved { id: other } = save(&app, &fields).await else {
        panic!("the other contact is saved");
    };

    let response = app
        .client
        .post(app.url("/api/merge-contacts"))
        .header("accept", "application/json")
        .form(&[
            ("keep", keep.to_string()),
            ("other", other.to_string()),
            ("keep_version", "1".to_owned()),
            ("other_version", "1".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);

    let card = contact(&app, keep).await.card;
    assert_eq!(
        card.emails
            .iter()
            .map(|e| e.value.as_str())
            .collect::<Vec<_>>(),
        ["ada@engines.example", "ada@home.example"]
    );
    assert_eq!(
        card.phones
            .iter()
            .map(|p| p.value.as_str())
            .collect::<Vec<_>>(),
        ["+44 20 7946 0001", "+44 20 7946 0002"],
        "the same number written another way is one entry"
    );
    assert_eq!(
        card.addresses
            .iter()
            .map(|a| a.city.clone().unwrap())
            .collect::<Vec<_>>(),
        ["London", "Ockham"]
    );
    assert_eq!(card.links[0].value, "example.com/ada");
    assert_eq!(card.dates[0].label.as_deref(), Some("anniversary"));
    assert_eq!(
        card.birthday.map(|b| b.to_iso()).as_deref(),
        Some("1815-12-10")
    );
    assert_eq!(card.name, "Ada Lovelace");
}

#[tokio::test]
async fn row_buttons_without_javascript_come_back_with_the_form_changed_and_nothing_saved() {
    let app = spawn_app().await;
    let input = ContactInput {
        emails: rows(&[("work", "one@firm.example"), ("home", "two@home.example")]),
        ..person("Rowan Button")
    };
    let mut fields = input.form_fields();
    fields.push(("row_op".to_owned(), "primary:emails:1".to_owned()));
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    // A plain form post, as a browser without JavaScript sends it.
    let response = app
        .client
        .post(app.url("/api/save-contact"))
        .header("accept", "text/html")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/contacts/new?draft=") && location.ends_with("#list-emails"),
        "{location}"
    );
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(after, before, "nothing saved");

    let page = app
        .get(location.split('#').next().unwrap())
        .await
        .text()
        .await
        .unwrap();
    let first = page
        .find("two@home.example")
        .expect("the second email is shown");
    let second = page
        .find("one@firm.example")
        .expect("the first email is shown");
    assert!(first < second, "the chosen email is now the first");
    assert!(
        page.contains("Rowan Button"),
        "the rest of the form is kept"
    );

    // A row button naming no list is ignored, and the redirect holds no text of it.
    let mut odd = input.form_fields();
    odd.push(("row_op".to_owned(), "add:\r\nx-evil: 1".to_owned()));
    let response = app
        .client
        .post(app.url("/api/save-contact"))
        .header("accept", "text/html")
        .form(&odd)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.ends_with("#list-"), "{location}");
    assert!(response.headers().get("x-evil").is_none());
}

#[tokio::test]
async fn wrong_entries_are_refused_in_words_on_their_rows_and_nothing_is_written() {
    let app = spawn_app().await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    // 10,000 phones in one post.
    let many: Vec<EntryInput> = (0..10_000)
        .map(|n| EntryInput::new("", &format!("+1 201 555 {:04}", n % 10_000)))
        .collect();
    let outcome = create(
        &app,
        &ContactInput {
            phones: many,
            ..person("Many Phones")
        },
    )
    .await;
    let errors = outcome.field_errors().expect("refused, not a 500");
    assert!(
        errors.get(Field::Phones).unwrap().contains("at most 20"),
        "{errors}"
    );

    let outcome = create(
        &app,
        &ContactInput {
            birthday: "2023-02-31".into(),
            addresses: vec![AddressInput {
                city: "Nowhere".into(),
                country: "Atlantis".into(),
                ..AddressInput::default()
            }],
            links: rows(&[("", "javascript:alert(1)")]),
            dates: rows(&[("anniversary", "2020-13-01")]),
            ..person("Wrong Entries")
        },
    )
    .await;
    let errors = outcome.field_errors().expect("refused field by field");
    assert_eq!(
        errors.get(Field::Birthday),
        Some("February 2023 has 28 days.")
    );
    assert!(
        errors
            .get_row(Field::Addresses, 0)
            .unwrap()
            .contains("“Atlantis” is not a country")
    );
    assert!(
        errors
            .get_row(Field::Links, 0)
            .unwrap()
            .contains("web address")
    );
    assert!(errors.get_row(Field::Dates, 0).unwrap().contains("month"));
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(after, before, "nothing was written");

    // The browser runs the same rules and gets the same words.
    let same = Card::parse(&ContactInput {
        birthday: "2023-02-31".into(),
        ..person("Wrong Entries")
    })
    .unwrap_err();
    assert_eq!(same.get(Field::Birthday), errors.get(Field::Birthday));
}

#[tokio::test]
async fn the_directory_lists_the_birthdays_of_the_next_30_days_soonest_first() {
    let app = spawn_app().await;
    let today = time::OffsetDateTime::now_utc().date();
    let day = |ahead: i64| today + time::Duration::days(ahead);
    let with_year = |date: time::Date, born: i32| {
        format!("{born:04}-{:02}-{:02}", u8::from(date.month()), date.day())
    };
    let without_year =
        |date: time::Date| format!("--{:02}-{:02}", u8::from(date.month()), date.day());
    for (name, birthday) in [
        ("In Three Days", with_year(day(3), 1990)),
        ("Tomorrow Person", without_year(day(1))),
        ("Today Person", with_year(day(0), 2000)),
        ("Too Far Ahead", without_year(day(40))),
        ("Just Passed", without_year(day(-1))),
    ] {
        created(
            &app,
            &ContactInput {
                birthday,
                ..person(name)
            },
        )
        .await;
    }
    let deleted = created(
        &app,
        &ContactInput {
            birthday: without_year(day(2)),
            ..person("Deleted Person")
        },
    )
    .await;
    let response = app
        .client
        .post(app.url("/api/delete-contact"))
        .header("accept", "application/json")
        .form(&[("id", deleted.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let html = app.get("/").await.text().await.unwrap();
    let panel = &html[html.find("Upcoming birthdays").expect("the panel is shown")..];
    let panel = &panel[..panel.find("</section>").unwrap()];
    let order: Vec<usize> = ["Today Person", "Tomorrow Person", "In Three Days"]
        .iter()
        .map(|name| panel.find(name).unwrap_or_else(|| panel.len() + 1))
        .collect();
    assert!(
        order.windows(2).all(|pair| pair[0] < pair[1]) && order[2] <= panel.len(),
        "soonest first: {panel}"
    );
    assert!(panel.contains("Today"));
    assert!(
        panel.contains(&format!("turns {}", day(3).year() - 1990)),
        "{panel}"
    );
    for absent in ["Too Far Ahead", "Just Passed", "Deleted Person"] {
        assert!(!panel.contains(absent), "{absent}: {panel}");
    }
    // A search shows its results, not the panel.
    let html = app.get("/?q=person").await.text().await.unwrap();
    assert!(!html.contains("Upcoming birthdays"));
}

#[tokio::test]
async fn companies_are_records_with_their_people_one_per_name_and_renamed_everywhere() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let ada = created(
        &app,
        &ContactInput {
            company: "Analytical Engines".into(),
            title: "Analyst".into(),
            ..person("Ada Lovelace")
        },
    )
    .await;
    // Typed another way, it is the same company.
    let charles = created(
        &app,
        &ContactInput {
            company: "  analytical   ENGINES ".into(),
            department: "Design".into(),
            ..person("Charles Babbage")
        },
    )
    .await;
    let (a, c) = (contact(&app, ada).await, contact(&app, charles).await);
    let company = a.company_id.expect("linked to a company record");
    assert_eq!(c.company_id, Some(company));
    assert_eq!(
        c.card.company.as_deref(),
        Some("Analytical Engines"),
        "the record's spelling"
    );
    let companies: i64 = sqlx::query_scalar("SELECT count(*) FROM companies")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(companies, 1);

    // Its page lists its people; the contact's page links to it.
    let page = app.get(&format!("/companies/{company}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for expected in [
        "Analytical Engines",
        "2 people",
        "Ada Lovelace",
        "Charles Babbage",
    ] {
        assert!(html.contains(expected), "{expected}");
    }
    let html = app
        .get(&format!("/contacts/{ada}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("/companies/{company}")));
    assert_eq!(
        app.get(&format!("/companies/{}", Uuid::new_v4()))
            .await
            .status(),
        404
    );
    assert_eq!(app.get("/companies/not-an-id").await.status(), 404);

    // The contact form's suggestions.
    let names: Vec<String> = app
        .get("/api/company-names?prefix=analyt")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(names, ["Analytical Engines"]);

    // Renamed, with a domain: every person shows the new name, in search too, and
    // their history says who renamed it.
    let response = app
        .client
        .post(app.url("/api/save-company"))
        .header("accept", "application/json")
        .form(&[
            ("id", company.to_string()),
            ("name", "Difference Engines Ltd".to_owned()),
            ("domain", "https://www.difference.example/".to_owned()),
            ("city", "London".to_owned()),
            ("country", "GB".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let a = contact(&app, ada).await;
    assert_eq!(a.card.company.as_deref(), Some("Difference Engines Ltd"));
    assert_eq!(
        a.version, 2,
        "a form opened before the rename would be a conflict"
    );
    assert_eq!(
        names_of(&app.search_text("difference").await),
        ["Ada Lovelace", "Charles Babbage"]
    );
    let html = app
        .get(&format!("/companies/{company}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("difference.example") && html.contains("London"));

    // Its people are found by the company's web domain, and by a new one at once
    // (their cards, and versions, untouched).
    app.index_caught_up().await;
    assert_eq!(
        names_of(&app.search_text("difference.example").await),
        ["Ada Lovelace", "Charles Babbage"]
    );
    let response = app
        .client
        .post(app.url("/api/save-company"))
        .header("accept", "application/json")
        .form(&[
            ("id", company.to_string()),
            ("name", "Difference Engines Ltd".to_owned()),
            ("domain", "zqxcompute.example".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.index_caught_up().await;
    assert_eq!(
        names_of(&app.search_text("zqxcompute").await),
        ["Ada Lovelace", "Charles Babbage"]
    );
    assert_eq!(contact(&app, ada).await.version, 2);

    // A name another company has is refused in words.
    created(
        &app,
        &ContactInput {
            company: "Other Works".into(),
            ..person("Someone Else")
        },
    )
    .await;
    let response = app
        .client
        .post(app.url("/api/save-company"))
        .header("accept", "application/json")
        .form(&[
            ("id", company.to_string()),
            ("name", "other works".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("already called"));
}

fn names_of(page: &roster::domain::SearchPage) -> Vec<String> {
    let mut names = names(page);
    names.sort();
    names
}

#[tokio::test]
async fn relationships_link_to_the_persons_contact_and_show_on_both_pages() {
    use roster::domain::contact::RelatedPerson;
    let app = spawn_app().await;
    let bo = created(&app, &person("Bo Manager")).await;
    created(&app, &person("Sam Twin")).await;
    created(&app, &person("Sam Twin")).await;
    let ada = created(
        &app,
        &ContactInput {
            related: rows(&[
                ("manager", "bo manager"),
                ("spouse", "Jo Outside"),
                ("friend", "Sam Twin"),
            ]),
            ..person("Ada Report")
        },
    )
    .await;
    let card = contact(&app, ada).await.card;
    let links: Vec<(Option<&str>, &str, Option<Uuid>)> = card
        .related
        .iter()
        .map(|r| (r.label.as_deref(), r.value.as_str(), r.contact))
        .collect();
    assert_eq!(
        links,
        [
            (Some("manager"), "bo manager", Some(bo)),
            (Some("spouse"), "Jo Outside", None),
            (Some("friend"), "Sam Twin", None),
        ],
        "linked when one contact has the name; a name alone otherwise"
    );
    // Bo's page lists Ada, from his side.
    let relations: Vec<RelatedPerson> = app
        .get(&format!("/api/contact-relations?id={bo}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        relations,
        [RelatedPerson {
            id: ada,
            name: "Ada Report".into(),
            label: "report".into()
        }]
    );
    let page = app
        .get(&format!("/contacts/{bo}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("/contacts/{ada}")) && page.contains(">Report<"),
        "{page}"
    );

    // Bo renamed: Ada's entry keeps its link through an edit that leaves it as is.
    let bo_version = contact(&app, bo).await.version.to_string();
    let saved = save(
        &app,
        &[
            ("id", &bo.to_string()),
            ("version", &bo_version),
            ("name", "Robert Manager"),
        ],
    )
    .await;
    assert!(matches!(saved, SaveOutcome::Saved { .. }), "{saved:?}");
    let mut input = contact(&app, ada).await.card.to_input();
    input.title = "Engineer".into();
    let mut fields = input.form_fields();
    fields.push(("id".into(), ada.to_string()));
    fields.push((
        "version".into(),
        contact(&app, ada).await.version.to_string(),
    ));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert!(matches!(
        save(&app, &fields).await,
        SaveOutcome::Saved { .. }
    ));
    assert_eq!(contact(&app, ada).await.card.related[0].contact, Some(bo));

    // Deleted, Ada no longer shows on Bo's page.
    app.client
        .post(app.url("/api/delete-contact"))
        .header("accept", "application/json")
        .form(&[("id", ada.to_string())])
        .send()
        .await
        .unwrap();
    let relations: Vec<RelatedPerson> = app
        .get(&format!("/api/contact-relations?id={bo}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(relations.is_empty());
}

/// The email and phone keys (what duplicate checks and the one-owner-per-email rule
/// read) are kept by statement triggers: after every kind of write, of one row or of
/// many, they are exactly what the live contacts hold.
#[tokio::test]
async fn the_email_and_phone_keys_follow_every_write() {
    let app = spawn_app().await;
    type Keys = Vec<(Uuid, String, String)>;
    async fn kept(app: &TestApp) -> Keys {
        sqlx::query_as("SELECT contact_id, kind, key FROM contact_keys ORDER BY 1, 2, 3")
            .fetch_all(&app.db)
            .await
            .unwrap()
    }
    async fn expected(app: &TestApp) -> Keys {
        sqlx::query_as(
            "SELECT DISTINCT id, 'email', lower(e->>'value') COLLATE \"C\"
               FROM contacts, jsonb_array_elements(emails) e WHERE deleted_at IS NULL
             UNION
             SELECT DISTINCT id, 'phone', contact_phone_key(p) COLLATE \"C\"
               FROM contacts, jsonb_array_elements(phones) p
              WHERE deleted_at IS NULL AND contact_phone_key(p) <> ''
             ORDER BY 1, 2, 3",
        )
        .fetch_all(&app.db)
        .await
        .unwrap()
    }
    let steps = [
        // Many at once, with a repeated email in one list and a phone with no digits.
        "INSERT INTO contacts (name, emails, phones)
         SELECT 'Keyed ' || g,
                jsonb_build_array(jsonb_build_object('value', 'K' || g || '@keys.example'),
                                  jsonb_build_object('value', 'k' || g || '@keys.example'),
                                  jsonb_build_object('value', 'other' || g || '@keys.example')),
                jsonb_build_array(jsonb_build_object('value', '+1 201 555 01' || g),
                                  jsonb_build_object('value', 'ext'))
           FROM generate_series(10, 30) g",
        // Edits that touch no key, then ones that do.
        "UPDATE contacts SET notes = 'noted' WHERE name LIKE 'Keyed 1%'",
        "UPDATE contacts SET emails = '[]' WHERE name = 'Keyed 11'",
        "UPDATE contacts SET phones = jsonb_build_array(jsonb_build_object('value', '020 7946 0018'))
          WHERE name LIKE 'Keyed 2%'",
        // Deleted (the keys go), restored (they come back), purged.
        "UPDATE contacts SET deleted_at = now() WHERE name LIKE 'Keyed 3%' OR name = 'Keyed 12'",
        "UPDATE contacts SET deleted_at = NULL WHERE name = 'Keyed 12'",
        "DELETE FROM contacts WHERE name IN ('Keyed 13', 'Keyed 14')",
    ];
    for step in steps {
        sqlx::query(step).execute(&app.db).await.unwrap();
        let kept = kept(&app).await;
        assert_eq!(kept, expected(&app).await, "after {step}");
    }
    let emails = kept(&app).await.iter().filter(|k| k.1 == "email").count();
    // 21 made, 30 deleted, 13 and 14 purged, 11 emptied: 17 with two emails each.
    assert_eq!(emails, 2 * 17);

    // The one-owner rule holds across statements and within one.
    let taken = sqlx::query(
        "INSERT INTO contacts (name, emails) VALUES
           ('Taker', jsonb_build_array(jsonb_build_object('value', 'K15@KEYS.example')))",
    )
    .execute(&app.db)
    .await
    .unwrap_err();
    let constraint = taken.as_database_error().and_then(|e| e.constraint());
    assert_eq!(constraint, Some(roster::server::db::contacts::EMAIL_KEY));
    let twice = sqlx::query(
        "INSERT INTO contacts (name, emails) VALUES
           ('Twin A', jsonb_build_array(jsonb_build_object('value', 'twin@keys.example'))),
           ('Twin B', jsonb_build_array(jsonb_build_object('value', 'Twin@keys.example')))",
    )
    .execute(&app.db)
    .await
    .unwrap_err();
    let constraint = twice.as_database_error().and_then(|e| e.constraint());
    assert_eq!(constraint, Some(roster::server::db::contacts::EMAIL_KEY));
}

#[tokio::test]
async fn every_write_links_its_company_one_record_per_name() {
    let app = spawn_app().await;
    // Every contact naming a company points at the record of that name (ignoring case
    // and spacing) and spells it as the record does; no company is recorded twice.
    async fn check(app: &TestApp, after: &str) {
        let wrong: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT c.name, c.company, k.name FROM contacts c
               LEFT JOIN companies k ON k.id = c.company_id
              WHERE (c.company IS NULL) <> (c.company_id IS NULL)
                 OR c.company IS DISTINCT FROM k.name",
        )
        .fetch_all(&app.db)
        .await
        .unwrap();
        assert_eq!(wrong, vec![], "after {after}");
        let twice: i64 = sqlx::query_scalar(
            "SELECT count(*) - count(DISTINCT company_key(name)) FROM companies",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(twice, 0, "after {after}");
    }
    async fn spelled(app: &TestApp, name: &str) -> Option<String> {
        sqlx::query_scalar("SELECT company FROM contacts WHERE name = $1")
            .bind(name)
            .fetch_one(&app.db)
            .await
            .unwrap()
    }
    // One at a time, by hand: the trigger links them.
    sqlx::query(
        "INSERT INTO contacts (name, company) VALUES ('Hand One', 'Initech'), ('Hand Two', NULL)",
    )
    .execute(&app.db)
    .await
    .unwrap();
    check(&app, "a hand-written insert").await;

    // Many at once, as an import writes them: new companies spelled as their first
    // contact spells them, known ones as recorded, none made twice.
    let cards: Vec<Card> = [
        ("Batch One", Some("  Globex   Corporation ")),
        ("Batch Two", Some("globex corporation")),
        ("Batch Three", Some("INITECH")),
        ("Batch Four", None),
        ("Batch Five", Some("Umbrella")),
    ]
    .into_iter()
    .map(|(name, company)| {
        let input = ContactInput {
            company: company.unwrap_or_default().to_owned(),
            ..person(name)
        };
        Card::parse_with(&input, &[]).unwrap()
    })
    .collect();
    let mut conn = app.db.acquire().await.unwrap();
    let refs: Vec<&Card> = cards.iter().collect();
    roster::server::db::contacts::insert_many(&mut conn, &refs)
        .await
        .unwrap();
    drop(conn);
    check(&app, "a batch insert").await;
    assert_eq!(
        spelled(&app, "Batch Two").await.as_deref(),
        Some("Globex Corporation")
    );
    assert_eq!(
        spelled(&app, "Batch Three").await.as_deref(),
        Some("Initech")
    );
    assert_eq!(spelled(&app, "Batch Four").await, None);
    let companies: i64 = sqlx::query_scalar("SELECT count(*) FROM companies")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(companies, 3);

    // Updates: another company, the same one typed otherwise, none, and back.
    for (step, company, expected) in [
        ("moved", Some("Umbrella"), Some("Umbrella")),
        ("retyped", Some("umbrella "), Some("Umbrella")),
        ("left", None, None),
        ("joined", Some("Hooli"), Some("Hooli")),
    ] {
        sqlx::query("UPDATE contacts SET company = $1 WHERE name = 'Batch One'")
            .bind(company)
            .execute(&app.db)
            .await
            .unwrap();
        check(&app, step).await;
        assert_eq!(
            spelled(&app, "Batch One").await.as_deref(),
            expected,
            "{step}"
        );
    }
}
