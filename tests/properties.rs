//! Property tests: arbitrary input never panics the search query readers, the
//! contact rules or the import readers, and valid data survives each round trip.
//! (No services needed; `cargo test --features ssr --test properties`.)

use std::io::Write as _;

use proptest::prelude::*;
use roster::{
    domain::{
        SearchQuery,
        draft::{ContactDraft, ContactInput, Email, Phone, parse_tags},
        import::ImportFormat,
    },
    server::{
        export::{defuse, restore_cell},
        import::read::{guess_mapping, rows},
        search::{query, text},
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

/// A contact that meets every rule, as a form would hold it.
fn valid_input() -> impl Strategy<Value = ContactInput> {
    let line = "[A-Za-z0-9À-ÿ][A-Za-z0-9À-ÿ &.,'()/-]{0,40}";
    (
        "[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ .'-]{0,40}[A-Za-zÀ-ÿ]",
        prop::option::of("[a-z0-9]{1,6}([._-][a-z0-9]{1,6}){0,2}@[a-z]{1,10}\\.example"),
        prop::option::of("\\+?[1-9][0-9]{2,14}"),
        prop::option::of(line),
        prop::option::of(line),
        prop::option::of(line),
        1u8..=4,
        proptest::collection::vec("[a-z][a-z0-9-]{0,12}", 0..5),
        prop::option::of("[A-Za-z0-9 .,;:!?'()-]{1,60}(\n[A-Za-z0-9 .,;:!?'()-]{1,60}){0,3}"),
    )
        .prop_map(
            |(name, email, phone, company, title, location, tier, tags, notes)| ContactInput {
                name,
                email: email.unwrap_or_default(),
                phone: phone.unwrap_or_default(),
                company: company.unwrap_or_default(),
                title: title.unwrap_or_default(),
                location: location.unwrap_or_default(),
                tier: tier.to_string(),
                tags: tags.join(", "),
                notes: notes.unwrap_or_default(),
            },
        )
}

fn arbitrary_input() -> impl Strategy<Value = ContactInput> {
    (
        messy_text(80),
        messy_text(40),
        messy_text(30),
        messy_text(40),
        messy_text(40),
        messy_text(40),
        messy_text(8),
        messy_text(80),
        messy_text(200),
    )
        .prop_map(
            |(name, email, phone, company, title, location, tier, tags, notes)| ContactInput {
                name,
                email,
                phone,
                company,
                title,
                location,
                tier,
                tags,
                notes,
            },
        )
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
    let mapping = guess_mapping(file.path(), format)?;
    let rows = rows(file.path(), format, &mapping).map_err(|error| error.to_string())?;
    Ok(rows.map(|row| row.input).collect())
}

/// Reads `bytes` as the import would and puts every row through the contact rules;
/// a file the import refuses is fine, a panic is not.
fn read_and_check(bytes: &[u8], format: ImportFormat) {
    if let Ok(rows) = read_all(bytes, format) {
        for row in rows.into_iter().flatten() {
            let _ = ContactDraft::parse(&row);
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
        match ContactDraft::parse(&input) {
            // Whatever passes is stable: saved and edited again, it is the same contact.
            Ok(draft) => prop_assert_eq!(ContactDraft::parse(&draft.to_input()), Ok(draft)),
            Err(errors) => prop_assert!(!errors.is_empty()),
        }
        let _ = Email::parse(&input.email);
        let _ = Phone::parse(&input.phone);
        let _ = parse_tags(&input.tags);
    }

    #[test]
    fn valid_contacts_round_trip_through_the_form(input in valid_input()) {
        let draft = ContactDraft::parse(&input);
        prop_assert!(draft.is_ok(), "{:?} is refused: {:?}", input, draft);
        let draft = draft.unwrap();
        prop_assert_eq!(ContactDraft::parse(&draft.to_input()), Ok(draft.clone()));
        if let Some(email) = &draft.email {
            let again = Email::parse(email.as_str()).unwrap().unwrap();
            prop_assert_eq!(again.normalized(), email.normalized());
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
        let drafts: Vec<ContactDraft> =
            inputs.iter().map(|input| ContactDraft::parse(input).unwrap()).collect();
        let mut writer = csv::WriterBuilder::new().delimiter(delimiter).from_writer(Vec::new());
        writer
            .write_record(["Name", "Email", "Phone", "Company", "Title", "Location", "Tier", "Tags", "Notes"])
            .unwrap();
        // Cells as Roster's export writes them (formula starts marked).
        for draft in &drafts {
            let form = draft.to_input();
            writer
                .write_record(
                    [
                        &form.name, &form.email, &form.phone, &form.company, &form.title,
                        &form.location, &form.tier, &form.tags, &form.notes,
                    ]
                    .map(|cell| defuse(cell)),
                )
                .unwrap();
        }
        let bytes = writer.into_inner().unwrap();
        let read = read_all(&bytes, ImportFormat::Csv).unwrap();
        prop_assert_eq!(read.len(), drafts.len());
        for (row, draft) in read.into_iter().zip(drafts) {
            let input = row.unwrap();
            prop_assert_eq!(ContactDraft::parse(&input), Ok(draft));
        }
    }
}
