//! Property tests: arbitrary input never panics the search query readers, the
//! contact rules or the import readers, and valid data survives each round trip.
//! (No services needed; `cargo test --features ssr --test properties`.)

use std::io::Write as _;

use proptest::prelude::*;
use roster::{
    domain::{
        SearchQuery,
        card::{AddressInput, EntryInput, add_extras, custom_line},
        custom::{CustomField, CustomKind, by_name},
        draft::{Card, ContactInput, Email, Phone, parse_tags},
        import::ImportFormat,
    },
    server::{
        export::{
            VcardVersion, csv_header, csv_record, defuse, google, outlook, restore_cell,
            vcard_with_photo,
        },
        import::read::{guess_mapping, rows},
        search::{query, schema::IndexedContact, text},
    },
};

/// Text as people and attackers type it: any characters, weighted towards the ones
/// that mean something to a URL, a CSV file or a query.
fn messy_text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(any::<char>(), 0..max)
            .prop_map(|chars| chars.into_iter().collect::<String>()),
        proptest::collection::vec(
            prop_oneof![
                Just('%'),
                Just('&'),
                Just('='),
                Just('+'),
                Just('?'),
                Just('"'),
                Just(','),
                Just(';'),
                Just('\n'),
                Just('\r'),
                Just('\t'),
                Just('\u{0}'),
                Just('@'),
                Just('\''),
                Just('-'),
                Just('é'),
                Just('Ω'),
                Just('😀'),
                proptest::char::range('0', '9'),
                proptest::char::range('a', 'z'),
                proptest::char::range('A', 'F'),
                Just(' '),
            ],
            0..max
        )
        .prop_map(|chars| chars.into_iter().collect::<String>()),
    ]
}

/// A label as people pick or type them (never with ": ", which a CSV cell's entry
/// uses to separate the label from the value).
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("work".to_owned()),
        Just("home".to_owned()),
        Just("mobile".to_owned()),
        Just("other".to_owned()),
        "[A-Z][a-z]{1,8}( [a-z]{1,8})?",
    ]
}

fn entry_rows(
    values: impl Strategy<Value = String>,
    max: usize,
) -> impl Strategy<Value = Vec<EntryInput>> {
    proptest::collection::vec((label(), values), 0..max).prop_map(|rows| {
        rows.into_iter()
            .map(|(label, value)| EntryInput { label, value })
            .collect()
    })
}

fn date() -> impl Strategy<Value = String> {
    (prop::option::of(1900u16..2030), 1u8..=12, 1u8..=28).prop_map(
        |(year, month, day)| match year {
            Some(year) => format!("{year:04}-{month:02}-{day:02}"),
            None => format!("--{month:02}-{day:02}"),
        },
    )
}

/// A rich contact that meets every rule, as a form would hold it.
fn valid_core() -> impl Strategy<Value = ContactInput> {
    let line = "[A-Za-z0-9À-ÿ][A-Za-z0-9À-ÿ &.,'()/-]{0,40}";
    let word = "[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'-]{0,20}";
    let names = (
        prop::option::of("[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ .'-]{0,40}[A-Za-zÀ-ÿ]"),
        word,
        prop::option::of(word),
        prop::option::of(word),
        prop::option::of("[A-Z][a-z]{0,5}\\."),
        prop::option::of("(she/her|he/him|they/them)"),
        any::<bool>(),
    );
    let lists = (
        entry_rows(
            "[a-z0-9]{1,6}([._-][a-z0-9]{1,6}){0,2}@[a-z]{1,10}\\.example",
            4,
        ),
        entry_rows("\\+?[1-9][0-9]{2,14}", 4),
        proptest::collection::vec(
            (
                label(),
                prop::option::of(line),
                line,
                prop::option::of(line),
                prop::option::of("[A-Z0-9]{3,8}"),
                prop::option::of(prop_oneof![Just("PT"), Just("DE"), Just("JP"), Just("US")]),
            ),
            0..3,
        ),
        entry_rows("[a-z]{1,10}\\.example(/[a-z0-9]{1,8})?", 3),
        entry_rows("[a-z@+][a-z0-9.]{0,20}", 3),
        prop::option::of(date()),
        entry_rows(date(), 3),
    );
    let rest = (
        prop::option::of(line),
        prop::option::of(line),
        prop::option::of(line),
        1u8..=4,
        proptest::collection::vec("[a-z][a-z0-9-]{0,12}", 0..5),
        prop::option::of("[A-Za-z0-9 .,;:!?'()-]{1,60}(\n[A-Za-z0-9 .,;:!?'()-]{1,60}){0,3}"),
    );
    (names, lists, rest).prop_map(
        |(
            (name, given, family, nickname, prefix, pronouns, family_first),
            (emails, phones, addresses, links, ims, birthday, dates),
            (company, department, title, tier, tags, notes),
        )| {
            // Emails are unique within a contact: number them.
            let emails = emails
                .into_iter()
                .enumerate()
                .map(|(at, row)| EntryInput {
                    value: format!("{at}{}", row.value),
                    ..row
                })
                .collect();
            ContactInput {
                name: name.unwrap_or_default(),
                given,
                family: family.unwrap_or_default(),
                nickname: nickname.unwrap_or_default(),
                prefix: prefix.unwrap_or_default(),
                pronouns: pronouns.unwrap_or_default(),
                file_as: if family_first { "family" } else { "given" }.to_owned(),
                emails,
                phones,
                addresses: addresses
                    .into_iter()
                    .map(
                        |(label, street, city, region, postal_code, country)| AddressInput {
                            label,
                            street: street.unwrap_or_default(),
                            city,
                            region: region.unwrap_or_default(),
                            postal_code: postal_code.unwrap_or_default(),
                            country: country.unwrap_or_default().to_owned(),
                            ..AddressInput::default()
                        },
                    )
                    .collect(),
                links,
                ims,
                birthday: birthday.unwrap_or_default(),
                dates,
                company: company.unwrap_or_default(),
                department: department.unwrap_or_default(),
                title: title.unwrap_or_default(),
                tier: tier.to_string(),
                tags: tags.join(", "),
                notes: notes.unwrap_or_default(),
                ..ContactInput::default()
            }
        },
    )
}

fn arbitrary_input() -> impl Strategy<Value = ContactInput> {
    let messy_rows = |max: usize| {
        proptest::collection::vec((messy_text(12), messy_text(40)), 0..max).prop_map(|rows| {
            rows.into_iter()
                .map(|(label, value)| EntryInput { label, value })
                .collect::<Vec<_>>()
        })
    };
    (
        (
            messy_text(80),
            messy_text(30),
            messy_text(30),
            messy_text(10),
        ),
        (
            messy_rows(4),
            messy_rows(4),
            messy_rows(3),
            messy_rows(3),
            messy_rows(3),
        ),
        proptest::collection::vec(
            (
                messy_text(10),
                messy_text(30),
                messy_text(30),
                messy_text(20),
            ),
            0..3,
        ),
        messy_text(12),
        (
            messy_text(40),
            messy_text(40),
            messy_text(8),
            messy_text(80),
            messy_text(200),
        ),
    )
        .prop_map(
            |(
                (name, given, family, file_as),
                (emails, phones, links, ims, dates),
                addresses,
                birthday,
                (company, title, tier, tags, notes),
            )| ContactInput {
                name,
                given,
                family,
                file_as,
                emails,
                phones,
                links,
                ims,
                dates,
                addresses: addresses
                    .into_iter()
                    .map(|(label, street, city, country)| AddressInput {
                        label,
                        street,
                        city,
                        country,
                        ..AddressInput::default()
                    })
                    .collect(),
                birthday,
                company,
                title,
                tier,
                tags,
                notes,
                ..ContactInput::default()
            },
        )
}

/// Custom fields of every kind (and a retired one), as an admin might define them.
fn custom_fields() -> Vec<CustomField> {
    let field = |id: i32, name: &str, kind: CustomKind, options: &[&str]| CustomField {
        id,
        name: name.to_owned(),
        kind,
        options: options.iter().map(|o| (*o).to_owned()).collect(),
        position: id,
        retired: false,
    };
    vec![
        field(1, "Met at", CustomKind::Text, &[]),
        field(2, "Score", CustomKind::Number, &[]),
        field(3, "Joined", CustomKind::Date, &[]),
        field(
            4,
            "Shirt size",
            CustomKind::Choice,
            &["S", "M", "L, or larger"],
        ),
        field(
            5,
            "Languages",
            CustomKind::Choices,
            &["Go", "Rust", "Zig; or C"],
        ),
        field(6, "Board member", CustomKind::Checkbox, &[]),
        field(7, "Profile", CustomKind::Url, &[]),
    ]
}

/// Values for some of [`custom_fields`], as a form holds them.
fn custom_values() -> impl Strategy<Value = std::collections::BTreeMap<String, String>> {
    (
        prop::option::of("[A-Za-z0-9À-ÿ][A-Za-z0-9À-ÿ &.,;'()/=+-]{0,60}"),
        prop::option::of(-1_000_000i64..1_000_000),
        prop::option::of((1900u16..2030, 1u8..13, 1u8..29)),
        prop::option::of(0usize..3),
        proptest::collection::vec(any::<bool>(), 3),
        any::<bool>(),
        prop::option::of("https://[a-z]{1,10}\\.example/[a-z0-9]{0,10}"),
    )
        .prop_map(|(text, score, joined, size, languages, board, profile)| {
            let fields = custom_fields();
            let mut values = std::collections::BTreeMap::new();
            let mut put = |id: i32, value: String| {
                values.insert(format!("f{id}"), value);
            };
            if let Some(text) = text {
                put(1, text);
            }
            if let Some(score) = score {
                put(2, format!("{}", score as f64 / 100.0));
            }
            if let Some((year, month, day)) = joined {
                put(3, format!("{year:04}-{month:02}-{day:02}"));
            }
            if let Some(at) = size {
                put(4, fields[3].options[at].clone());
            }
            let chosen: Vec<String> = languages
                .iter()
                .zip(&fields[4].options)
                .filter(|(ticked, _)| **ticked)
                .map(|(_, option)| option.clone())
                .collect();
            if !chosen.is_empty() {
                put(5, chosen.join("\n"));
            }
            if board {
                put(6, "yes".to_owned());
            }
            if let Some(profile) = profile {
                put(7, profile);
            }
            values
        })
}

/// A valid contact with related people and custom values.
fn valid_input() -> impl Strategy<Value = ContactInput> {
    let related = proptest::collection::vec(
        (
            prop_oneof![
                Just(""),
                Just("spouse"),
                Just("manager"),
                Just("relative"),
                Just("Mentor; or so")
            ],
            "[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ .,;'-]{0,30}[a-z]",
        ),
        0..3,
    );
    // Properties an imported vCard carried that Roster has no field for, as the
    // import writes them (names upper-case; values in characters vCard leaves as
    // they are).
    let extras = proptest::collection::vec(
        (
            prop_oneof![Just(""), Just("item1.")],
            // No name the reader maps onto a field (`X-AIM`, `X-ABLABEL`…) starts `X-T`.
            "X-T[A-Z]{1,6}",
            "[A-Za-z0-9À-ÿ][A-Za-z0-9À-ÿ ./@-]{0,30}",
        ),
        0..3,
    );
    (valid_core(), custom_values(), related, extras).prop_map(
        |(mut input, custom, related, extras)| {
            input.custom = custom;
            input.related = related
                .into_iter()
                .map(|(label, name)| EntryInput::new(label, &name))
                .collect();
            input.extras = extras
                .into_iter()
                .map(|(group, name, value)| format!("{group}{name}:{}", value.trim_end()))
                .collect();
            input
        },
    )
}

/// The contact rules with [`custom_fields`].
fn parse(input: &ContactInput) -> Result<Card, roster::domain::FieldErrors> {
    Card::parse_with(input, &custom_fields())
}

/// A card as the index stores it, for the export writers.
fn indexed(card: Card) -> IndexedContact {
    IndexedContact {
        id: uuid::Uuid::nil(),
        card,
        company_domain: None,
        created_at_micros: 0,
        version: 1,
    }
}

/// `bytes` in a file of their own, for the import readers.
fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(bytes).expect("written");
    file.flush().expect("flushed");
    file
}

/// What the import makes of a file: every row's outcome, in order.
fn read_all(
    bytes: &[u8],
    format: ImportFormat,
) -> Result<Vec<Result<ContactInput, String>>, String> {
    let file = file_with(bytes);
    let mut mapping = guess_mapping(file.path(), format)?;
    mapping.match_custom(&custom_fields());
    let rows = rows(file.path(), format, &mapping).map_err(|error| error.to_string())?;
    Ok(rows
        .map(|row| {
            row.input.map(|mut input| {
                // As the import does: values named by no field are kept as extras.
                for (name, value) in by_name(&mut input.custom, &custom_fields()) {
                    add_extras(&mut input.extras, &[custom_line(&name, &value)]);
                }
                input
            })
        })
        .collect())
}

/// Reads `bytes` as the import would and puts every row through the contact rules;
/// a file the import refuses is fine, a panic is not.
fn read_and_check(bytes: &[u8], format: ImportFormat) {
    if let Ok(rows) = read_all(bytes, format) {
        for row in rows.into_iter().flatten() {
            let _ = parse(&row);
        }
    }
}

/// `cases` cases; a failure is reported with its smallest input, not saved to a file.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn any_query_string_reads_into_a_canonical_search(raw in messy_text(300)) {
        let query = SearchQuery::from_query_string(&raw);
        let canonical = query.to_query_string();
        prop_assert_eq!(SearchQuery::from_query_string(&canonical), query.clone());
        prop_assert_eq!(SearchQuery::from_query_string(&format!("?{canonical}")), query.clone());
        // The page's address and the server function carry the same search.
        let json = serde_json::to_string(&query).unwrap();
        prop_assert_eq!(serde_json::from_str::<SearchQuery>(&json).unwrap(), query.clone());
        prop_assert!(query.page >= 1);
    }

    #[test]
    fn typed_words_survive_the_address(words in messy_text(100), page in 1u32..500) {
        let query = SearchQuery::default().with_text(&words).with_page(page);
        prop_assert_eq!(SearchQuery::from_query_string(&query.to_query_string()), query);
    }

    #[test]
    fn the_search_parser_takes_any_text(raw in messy_text(300)) {
        let parsed = query::parse(&raw);
        for term in parsed.terms() {
            prop_assert!(!term.text.is_empty());
        }
        let _ = text::words(&raw);
        let _ = text::folded_words(&raw);
        prop_assert!(text::edit_distance(&raw, "roster", 2) <= 3);
    }

    #[test]
    fn exported_cells_read_back_as_written(cell in messy_text(40)) {
        let marked = defuse(&cell);
        prop_assert_eq!(restore_cell(&marked), cell.as_str());
        prop_assert!(!marked.starts_with(['=', '+', '-', '@', '\t', '\r']));
    }

    #[test]
    fn the_contact_rules_take_any_form(input in arbitrary_input()) {
        match Card::parse(&input) {
            // Whatever passes is stable: saved and edited again, it is the same contact.
            Ok(draft) => prop_assert_eq!(Card::parse(&draft.to_input()), Ok(draft)),
            Err(errors) => prop_assert!(!errors.is_empty()),
        }
        for row in input.emails.iter().chain(&input.phones) {
            let _ = Email::parse(&row.value);
            let _ = Phone::parse(&row.value);
        }
        let _ = parse_tags(&input.tags);
    }

    #[test]
    fn valid_contacts_round_trip_through_the_form(input in valid_input()) {
        let draft = parse(&input);
        prop_assert!(draft.is_ok(), "{:?} is refused: {:?}", input, draft);
        let draft = draft.unwrap();
        prop_assert_eq!(parse(&draft.to_input()), Ok(draft.clone()));
        for email in &draft.emails {
            let again = Email::parse(email.value.as_str()).unwrap().unwrap();
            prop_assert_eq!(again.normalized(), email.value.normalized());
        }
    }
}

proptest! {
    // Each case writes a file: fewer of them.
    #![proptest_config(config(128))]

    #[test]
    fn the_csv_reader_takes_any_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..2_000),
        text in messy_text(600),
    ) {
        for bytes in [bytes.as_slice(), text.as_bytes()] {
            read_and_check(bytes, ImportFormat::Csv);
        }
    }

    #[test]
    fn the_vcard_reader_takes_any_bytes(
        text in messy_text(600),
        fields in proptest::collection::vec(
            (prop_oneof![Just("FN"), Just("EMAIL"), Just("TEL;TYPE=cell"), Just("ORG"),
                         Just("NOTE"), Just("CATEGORIES"), Just("ADR"), Just("X-ODD")],
             messy_text(60)),
            0..12,
        ),
    ) {
        let mut card = String::from("BEGIN:VCARD\r\nVERSION:3.0\r\n");
        for (name, value) in &fields {
            card.push_str(&format!("{name}:{value}\r\n"));
        }
        card.push_str("END:VCARD\r\n");
        for bytes in [text.as_bytes(), card.as_bytes()] {
            read_and_check(bytes, ImportFormat::Vcard);
        }
    }

    #[test]
    fn valid_contacts_round_trip_through_a_csv_file(
        inputs in proptest::collection::vec(valid_input(), 1..20),
        delimiter in prop_oneof![Just(b','), Just(b';'), Just(b'\t')],
    ) {
        let cards: Vec<Card> =
            inputs.iter().map(|input| parse(input).unwrap()).collect();
        let mut writer = csv::WriterBuilder::new().delimiter(delimiter).from_writer(Vec::new());
        writer.write_record(csv_header(&custom_fields())).unwrap();
        // Cells as Roster's export writes them (formula starts marked).
        for card in &cards {
            writer.write_record(csv_record(&indexed(card.clone()), &custom_fields())).unwrap();
        }
        let bytes = writer.into_inner().unwrap();
        let read = read_all(&bytes, ImportFormat::Csv).unwrap();
        prop_assert_eq!(read.len(), cards.len());
        for (row, card) in read.into_iter().zip(cards) {
            let input = row.unwrap();
            prop_assert_eq!(parse(&input), Ok(card));
        }
    }

    #[test]
    fn valid_contacts_round_trip_through_google_and_outlook_csv_files(
        inputs in proptest::collection::vec(valid_input(), 1..20),
    ) {
        let cards: Vec<Card> =
            inputs.iter().map(|input| parse(input).unwrap()).collect();
        let mut groups = google::Groups::default();
        for card in &cards {
            groups.fit(&indexed(card.clone()), &custom_fields());
        }
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(groups.header()).unwrap();
        for card in &cards {
            writer.write_record(groups.record(&indexed(card.clone()), &custom_fields())).unwrap();
        }
        let bytes = writer.into_inner().unwrap();
        let read = read_all(&bytes, ImportFormat::Csv).unwrap();
        prop_assert_eq!(read.len(), cards.len());
        for (row, card) in read.into_iter().zip(&cards) {
            let input = row.unwrap();
            prop_assert_eq!(&parse(&input), &Ok(card.clone()), "Google CSV");
        }
        // Outlook's fixed layout: every contact is read back as a valid contact (what
        // does not fit is in its notes), with its name.
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(outlook::HEADER).unwrap();
        for card in &cards {
            writer.write_record(outlook::record(&indexed(card.clone()), &custom_fields())).unwrap();
        }
        let bytes = writer.into_inner().unwrap();
        let read = read_all(&bytes, ImportFormat::Csv).unwrap();
        prop_assert_eq!(read.len(), cards.len());
        for (row, card) in read.into_iter().zip(&cards) {
            let back = parse(&row.unwrap());
            prop_assert!(back.is_ok(), "Outlook CSV: {:?}", back);
            let back = back.unwrap();
            prop_assert_eq!(&back.name_parts.family, &card.name_parts.family);
        }
    }

    #[test]
    fn valid_contacts_round_trip_through_a_vcard_file(
        inputs in proptest::collection::vec(valid_input(), 1..10),
    ) {
        let cards: Vec<Card> =
            inputs.iter().map(|input| parse(input).unwrap()).collect();
        for version in [VcardVersion::V4, VcardVersion::V3] {
            let text: String = cards
                .iter()
                .map(|card| vcard_with_photo(&indexed(card.clone()), &custom_fields(), None, version))
                .collect();
            let read = read_all(text.as_bytes(), ImportFormat::Vcard).unwrap();
            prop_assert_eq!(read.len(), cards.len());
            for (row, card) in read.into_iter().zip(&cards) {
                let input = row.unwrap();
                prop_assert_eq!(&parse(&input), &Ok(card.clone()), "vCard {:?}", version);
            }
        }
    }
}
