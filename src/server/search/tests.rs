//! The search service's tests: real indexes in temporary folders.

use tantivy::Term;

use super::{replica::Payload, *};
use crate::domain::search::{FacetValue, Filters, SortOrder};

pub(super) fn contact(n: u128, name: &str, notes: Option<&str>) -> IndexedContact {
    let mut contact = IndexedContact::named(Uuid::from_u128(n), name, n as i64);
    contact.card.notes = notes.map(str::to_owned);
    contact
}

fn in_city(city: &str) -> Vec<crate::domain::card::Address> {
    vec![crate::domain::card::Address {
        city: Some(city.to_owned()),
        ..Default::default()
    }]
}

fn with_emails_and_phones(
    mut contact: IndexedContact,
    emails: &[&str],
    phones: &[&str],
) -> IndexedContact {
    let mut input = contact.card.to_input();
    input.emails = emails
        .iter()
        .map(|e| crate::domain::card::EntryInput::new("", e))
        .collect();
    input.phones = phones
        .iter()
        .map(|p| crate::domain::card::EntryInput::new("", p))
        .collect();
    contact.card = crate::domain::Card::parse(&input).unwrap();
    crate::server::phones::normalize(&mut contact.card);
    contact
}

/// A real index in a temporary folder holding `contacts`.
pub(super) fn index_of(contacts: &[IndexedContact]) -> (tempfile::TempDir, Replica) {
    index_reading(contacts, false)
}

/// [`index_of`], with every file mapped or not (`map_all`).
fn index_reading(contacts: &[IndexedContact], map_all: bool) -> (tempfile::TempDir, Replica) {
    let dir = tempfile::tempdir().unwrap();
    let tuning = Tuning {
        map_all,
        ..Tuning::default()
    };
    let replica = Replica::create(dir.path(), tuning).unwrap();
    let mut writer: tantivy::IndexWriter = replica.index.writer(20_000_000).unwrap();
    for contact in contacts {
        writer
            .add_document(schema::document(&replica.fields, contact))
            .unwrap();
    }
    let mut commit = writer.prepare_commit().unwrap();
    let payload = Payload {
        schema: schema::SCHEMA_VERSION,
        directory: Uuid::nil(),
        position: 1,
    };
    commit.set_payload(&serde_json::to_string(&payload).unwrap());
    commit.commit().unwrap();
    replica.reload().unwrap();
    (dir, replica)
}

fn names(replica: &Replica, text: &str) -> Vec<String> {
    let query = SearchQuery::default().with_text(text);
    run(replica, query)
        .unwrap()
        .hits
        .into_iter()
        .map(|hit| hit.contact.name)
        .collect()
}

/// KiB of this process's memory that are pages of files under `dir` named `*.extension`
/// (their mappings' `Rss` in `/proc/self/smaps`).
fn resident_file_kib(dir: &std::path::Path, extension: &str) -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut counting = false;
    let mut total = 0;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        let is_mapping = first.split_once('-').is_some_and(|(start, end)| {
            u64::from_str_radix(start, 16).is_ok() && u64::from_str_radix(end, 16).is_ok()
        });
        if is_mapping {
            let file = line.split_whitespace().nth(5).unwrap_or_default();
            counting = file.starts_with(&*dir.to_string_lossy())
                && file.ends_with(&format!(".{extension}"));
        } else if counting && first == "Rss:" {
            total += words.next().unwrap().parse::<u64>().unwrap();
        }
    }
    total
}

#[test]
fn stored_contacts_are_read_through_the_file_cache_unless_every_file_is_mapped() {
    let contacts: Vec<_> = (1..=2_000)
        .map(|n| contact(n, &format!("Person {n}"), Some("met at the fair")))
        .collect();
    for map_all in [false, true] {
        let (dir, replica) = index_reading(&contacts, map_all);
        // A page of hits, each read from the stored contacts.
        assert_eq!(
            names(&replica, "person").len(),
            crate::domain::search::RESULTS_PER_PAGE
        );
        let resident = resident_file_kib(dir.path(), "store");
        if map_all {
            assert!(
                resident > 0,
                "mapped, the page's stored contacts are resident"
            );
        } else {
            assert_eq!(resident, 0, "read, none of the stored contacts is resident");
            // The columns a search reads whole stay mapped.
            assert!(resident_file_kib(dir.path(), "fast") > 0);
        }
    }
}

#[test]
fn cached_answers_are_served_while_current_enough() {
    let cached = super::CachedPage::new(10, 1_000, SearchPage::default());
    let bound = super::MAX_STALENESS.as_millis() as i64;
    // At the index's position: served however old.
    assert!(cached.serves(0, 10, 1_000 + 10 * bound));
    // The index has moved on: served within the bound, not after it.
    assert!(cached.serves(0, 12, 1_000 + bound));
    assert!(!cached.serves(0, 12, 1_000 + bound + 1));
    // Never to a session that has itself written a later change, however fresh.
    assert!(!cached.serves(11, 12, 1_000));
    assert!(cached.serves(10, 12, 1_000));
}

#[test]
fn exact_beats_prefix_beats_fuzzy() {
    let (_dir, replica) = index_of(&[
        contact(1, "Maria Mayfield", None), // prefix "may…"
        contact(2, "Maria Mey", None),      // nothing for "may"
        contact(3, "Maria May", None),      // exact
    ]);
    assert_eq!(
        names(&replica, "maria may"),
        ["Maria May", "Maria Mayfield"]
    );

    let (_dir, replica) = index_of(&[
        contact(1, "Anthonyx Smith", None), // one typo (not the last word: no prefix)
        contact(2, "Antony Smith", None),   // one typo
        contact(3, "Anthony Smith", None),  // exact
    ]);
    let found = names(&replica, "anthony smith");
    assert_eq!(found[0], "Anthony Smith");
    let mut typos = found[1..].to_vec();
    typos.sort();
    assert_eq!(
        typos,
        ["Anthonyx Smith", "Antony Smith"],
        "equal scores, either order"
    );
}

#[test]
fn the_exact_full_name_comes_first() {
    let (_dir, replica) = index_of(&[
        contact(1, "Anthony May Jr", None),
        contact(2, "May Anthony", None),
        contact(3, "Anthony Mayer", None),
        contact(4, "Anthony May", None),
        contact(5, "Anthony Smith", Some("Met Anthony May at a conference")),
    ]);
    let found = names(&replica, "Anthony May");
    assert_eq!(found[0], "Anthony May");
    assert!(found.contains(&"Anthony Mayer".to_owned()));
}

#[test]
fn name_matches_outrank_notes_matches() {
    let (_dir, replica) = index_of(&[
        contact(
            1,
            "Olga Petrova",
            Some("Introduced by Haruto at the summit"),
        ),
        contact(2, "Haruto Tanaka", None),
    ]);
    assert_eq!(names(&replica, "haruto"), ["Haruto Tanaka", "Olga Petrova"]);
}

#[test]
fn accents_case_and_typos_are_forgiven() {
    let (_dir, replica) = index_of(&[
        contact(1, "José Núñez", None),
        contact(2, "Zoë Lefèvre", None),
    ]);
    assert_eq!(names(&replica, "jose nunez"), ["José Núñez"]);
    assert_eq!(names(&replica, "JOSÉ"), ["José Núñez"]);
    assert_eq!(names(&replica, "lefevre"), ["Zoë Lefèvre"]);
    assert_eq!(names(&replica, "lefevr"), ["Zoë Lefèvre"], "prefix");
    assert_eq!(names(&replica, "lefervre zoe"), ["Zoë Lefèvre"], "typo");
    assert_eq!(
        names(&replica, "lfevre zoe"),
        ["Zoë Lefèvre"],
        "one deletion"
    );
    assert!(
        names(&replica, "jise").is_empty(),
        "no typos in four letters"
    );
}

#[test]
fn email_and_phone_queries_find_their_contact() {
    let ana = with_emails_and_phones(
        contact(1, "Ana Silva", None),
        &["Ana.Silva@Example.com", "ana@home.example"],
        &["+1 (555) 010-2000", "(201) 555-0199"],
    );
    let bo = with_emails_and_phones(
        contact(2, "Bo Silva", None),
        &["bo.silva@example.com"],
        &["+44 20 7946 0123"],
    );
    let (_dir, replica) = index_of(&[ana, bo]);
    assert_eq!(names(&replica, "ana.silva@example.com"), ["Ana Silva"]);
    assert_eq!(
        names(&replica, "ana@home.example"),
        ["Ana Silva"],
        "a second email"
    );
    assert_eq!(names(&replica, "5550102000"), ["Ana Silva"]);
    assert_eq!(names(&replica, "+1 (555) 010-2000"), ["Ana Silva"]);
    // A second phone, typed in national form, found by its international one.
    assert_eq!(names(&replica, "+1 201 555 0199"), ["Ana Silva"]);
    assert_eq!(names(&replica, "7946 0123"), ["Bo Silva"]);
    assert_eq!(names(&replica, "silva").len(), 2);
}

/// Facet counts against a plain count of the same contacts, for many random choices of
/// filters, on an index with deletions: a contact counts toward a facet's value when it
/// passes every filter but that facet's own, and toward the total when it passes all.
#[test]
fn facet_counts_are_a_plain_count_of_what_each_other_filter_leaves() {
    use rand::{Rng, SeedableRng, seq::IndexedRandom};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let cities = ["Lisbon", "Porto", "Faro", ""];
    let countries = ["PT", "ES", ""];
    let companies = ["Acme", "Globex", "Initech", ""];
    let all_tags = ["ai", "vc", "board", "alumni"];
    let some = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    let contacts: Vec<IndexedContact> = (0..600u128)
        .map(|n| {
            let mut c = contact(n + 1, &format!("Person {n}"), None);
            c.card.tier = Tier::parse(rng.random_range(1..=4)).unwrap();
            let (city, country) = (
                *cities.choose(&mut rng).unwrap(),
                *countries.choose(&mut rng).unwrap(),
            );
            if !city.is_empty() || !country.is_empty() {
                c.card.addresses = vec![crate::domain::card::Address {
                    city: some(city),
                    country: some(country),
                    ..Default::default()
                }];
            }
            c.card.company = some(companies.choose(&mut rng).unwrap());
            c.card.tags = all_tags
                .iter()
                .filter(|_| rng.random_bool(0.3))
                .map(|tag| (*tag).to_owned())
                .collect();
            c
        })
        .collect();
    let (_dir, replica) = index_of(&contacts);
    // Every seventh contact deleted: counted through the segment's deletions.
    let mut writer: tantivy::IndexWriter = replica.index.writer(20_000_000).unwrap();
    for c in contacts.iter().step_by(7) {
        writer.delete_term(Term::from_field_text(replica.fields.id, &c.id.to_string()));
    }
    writer.commit().unwrap();
    replica.reload().unwrap();
    let alive: Vec<&IndexedContact> = contacts
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 7 != 0)
        .map(|(_, c)| c)
        .collect();

    let pick = |rng: &mut rand_chacha::ChaCha8Rng, values: &[&str]| -> Vec<String> {
        values
            .iter()
            .filter(|value| !value.is_empty() && rng.random_bool(0.25))
            .map(|value| (*value).to_owned())
            .collect()
    };
    for _ in 0..80 {
        let filters = Filters {
            tiers: (1..=4)
                .filter(|_| rng.random_bool(0.2))
                .map(|tier| Tier::parse(tier).unwrap())
                .collect(),
            locations: pick(&mut rng, &cities),
            countries: pick(&mut rng, &countries),
            companies: pick(&mut rng, &companies),
            tags: pick(&mut rng, &all_tags),
            choices: Vec::new(),
        };
        // Which filters a contact fails, as in the facets' own terms.
        let fails = |c: &IndexedContact| -> [bool; 5] {
            let card = &c.card;
            let first = card.addresses.first();
            let city = first.and_then(|a| a.city.clone()).unwrap_or_default();
            let country = first.and_then(|a| a.country.clone()).unwrap_or_default();
            let company = card.company.clone().unwrap_or_default();
            [
                !filters.tiers.is_empty() && !filters.tiers.contains(&card.tier),
                !filters.locations.is_empty() && !filters.locations.contains(&city),
                !filters.countries.is_empty() && !filters.countries.contains(&country),
                !filters.companies.is_empty() && !filters.companies.contains(&company),
                !filters.tags.iter().all(|tag| card.tags.contains(tag)),
            ]
        };
        let passes_but = |c: &IndexedContact, own: usize| {
            fails(c)
                .iter()
                .enumerate()
                .all(|(n, failed)| n == own || !failed)
        };
        let count = |own: usize, values: &dyn Fn(&IndexedContact) -> Vec<String>| {
            let mut counts = std::collections::BTreeMap::<String, u64>::new();
            for c in alive.iter().filter(|c| passes_but(c, own)) {
                for value in values(c).into_iter().filter(|value| !value.is_empty()) {
                    *counts.entry(value).or_default() += 1;
                }
            }
            counts
        };
        let first = |c: &IndexedContact| c.card.addresses.first().cloned().unwrap_or_default();
        let expected = (
            alive.iter().filter(|c| passes_but(c, usize::MAX)).count() as u64,
            count(0, &|c| vec![c.card.tier.get().to_string()]),
            count(1, &|c| vec![first(c).city.unwrap_or_default()]),
            count(2, &|c| vec![first(c).country.unwrap_or_default()]),
            count(3, &|c| vec![c.card.company.clone().unwrap_or_default()]),
            count(4, &|c| c.card.tags.clone()),
        );

        let query = SearchQuery {
            text: "person".into(),
            filters: filters.clone(),
            ..Default::default()
        };
        let page = run(&replica, query).unwrap();
        let facets = &page.facets;
        let listed = |values: &[FacetValue]| -> std::collections::BTreeMap<String, u64> {
            values
                .iter()
                .filter(|value| value.count > 0)
                .map(|value| (value.value.clone(), value.count))
                .collect()
        };
        let found = (
            page.total,
            facets
                .tiers
                .iter()
                .filter(|(_, count, _)| *count > 0)
                .map(|(tier, count, _)| (tier.get().to_string(), *count))
                .collect(),
            listed(&facets.locations),
            listed(&facets.countries),
            listed(&facets.companies),
            listed(&facets.tags),
        );
        assert_eq!(found, expected, "{filters:?}");
    }
}

#[test]
fn filters_narrow_and_facets_count() {
    let mut contacts = Vec::new();
    for n in 0..12u128 {
        let mut c = contact(n + 1, &format!("Person {n}"), None);
        c.card.tier = Tier::parse((n % 4 + 1) as i64).unwrap();
        c.card.addresses = in_city(if n % 2 == 0 { "Lisbon" } else { "Porto" });
        c.card.tags = if n % 3 == 0 {
            vec!["vc".into(), "ai".into()]
        } else {
            vec!["ai".into()]
        };
        contacts.push(c);
    }
    let (_dir, replica) = index_of(&contacts);
    let query = SearchQuery {
        text: "person".into(),
        filters: Filters {
            tiers: vec![Tier::parse(1).unwrap()],
            ..Default::default()
        },
        ..Default::default()
    };
    let page = run(&replica, query).unwrap();
    assert_eq!(page.total, 3);
    assert!(page.hits.iter().all(|hit| hit.contact.tier.get() == 1));
    // The tier facet ignores its own selection; the others count what is shown.
    let tier_counts: Vec<u64> = page
        .facets
        .tiers
        .iter()
        .map(|(_, count, _)| *count)
        .collect();
    assert_eq!(tier_counts, [3, 3, 3, 3]);
    assert_eq!(
        page.facets.locations,
        [FacetValue {
            value: "Lisbon".into(),
            count: 3,
            selected: false
        }]
    );
    let vc = page
        .facets
        .tags
        .iter()
        .find(|tag| tag.value == "vc")
        .unwrap();
    assert_eq!(
        vc.count, 1,
        "n = 0, 4, 8 are tier 1; of those only 0 is a multiple of 3"
    );
}

#[test]
fn sorting_by_name_and_newest() {
    let (_dir, replica) = index_of(&[
        contact(1, "Zoë Adams", None),
        contact(2, "Álvaro Adams", None),
        contact(3, "Maya Adams", None),
    ]);
    let by = |sort| {
        let query = SearchQuery {
            text: "adams".into(),
            sort,
            ..Default::default()
        };
        run(&replica, query)
            .unwrap()
            .hits
            .into_iter()
            .map(|hit| hit.contact.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by(SortOrder::Name),
        ["Álvaro Adams", "Maya Adams", "Zoë Adams"]
    );
    assert_eq!(
        by(SortOrder::Newest),
        ["Maya Adams", "Álvaro Adams", "Zoë Adams"]
    );
}

#[test]
fn a_misspelling_that_finds_nothing_gets_a_suggestion() {
    let (_dir, replica) = index_of(&[contact(1, "Christina Okafor", None)]);
    let page = run(
        &replica,
        SearchQuery::default().with_text("christian okafor"),
    )
    .unwrap();
    // "christian" is within two edits of "christina", so the typo search already finds her.
    assert_eq!(page.total, 1);
    let page = run(
        &replica,
        SearchQuery::default().with_text("okafro christnia"),
    )
    .unwrap();
    assert_eq!(page.total, 1, "typos in both words");
    let page = run(&replica, SearchQuery::default().with_text("okfar")).unwrap();
    assert_eq!(
        page.total, 0,
        "two edits in five letters is beyond the budget"
    );
    assert_eq!(page.suggestion.as_deref(), Some("okafor"));
}

#[test]
fn deleting_by_id_removes_a_contact() {
    let (_dir, replica) = index_of(&[
        contact(1, "Noa Cohen", None),
        contact(2, "Eitan Cohen", None),
    ]);
    let mut writer: tantivy::IndexWriter = replica.index.writer(20_000_000).unwrap();
    writer.delete_term(Term::from_field_text(
        replica.fields.id,
        &Uuid::from_u128(1).to_string(),
    ));
    writer.commit().unwrap();
    replica.reload().unwrap();
    assert_eq!(names(&replica, "cohen"), ["Eitan Cohen"]);
}

/// Counts kept for a large segment and brought up to date after deletions and
/// edits are exactly what counting every document again gives.
fn kept_person(n: u128) -> IndexedContact {
    let mut c = contact(n, &format!("Pat Person{n}"), None);
    c.card.tier = Tier::parse((n % 4 + 1) as i64).unwrap();
    c.card.addresses = in_city(&format!("City {}", n % 7));
    c.card.company = Some(format!("Company {}", n % 5));
    c.card.tags = (0..(n % 4)).map(|t| format!("tag{t}")).collect();
    c
}

/// An index of 12,000 people in one segment, large enough for its counts to be kept,
/// with its writer (one thread, no merges).
fn one_large_segment(tuning: Tuning) -> (tempfile::TempDir, Replica, tantivy::IndexWriter) {
    let dir = tempfile::tempdir().unwrap();
    let replica = Replica::create(dir.path(), tuning).unwrap();
    let mut writer: tantivy::IndexWriter = replica
        .index
        .writer_with_num_threads(1, 100_000_000)
        .unwrap();
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    for n in 0..12_000u128 {
        writer
            .add_document(schema::document(&replica.fields, &kept_person(n)))
            .unwrap();
    }
    writer.commit().unwrap();
    replica.reload().unwrap();
    (dir, replica, writer)
}

#[test]
fn kept_facet_counts_stay_within_their_memory() {
    let query = SearchQuery::default().with_text("p");
    // Room for this query's counts (a few hundred bytes here).
    let (_dir, replica, _writer) = one_large_segment(Tuning {
        kept_counts: 1_000,
        ..Tuning::default()
    });
    let first = run(&replica, query.clone()).unwrap();
    replica.columns.settle();
    assert_eq!(run(&replica, query.clone()).unwrap(), first);
    assert_eq!(replica.columns.reused(), 1, "kept within the budget");
    // No room: every search counts again, with the same answer.
    let (_dir, replica, _writer) = one_large_segment(Tuning {
        kept_counts: 10,
        ..Tuning::default()
    });
    assert_eq!(run(&replica, query.clone()).unwrap(), first);
    replica.columns.settle();
    assert_eq!(run(&replica, query).unwrap(), first);
    assert_eq!(replica.columns.reused(), 0, "nothing kept over the budget");
}

#[test]
fn kept_facet_counts_follow_deletions_and_edits() {
    let (_dir, replica, mut writer) = one_large_segment(Tuning::default());
    let person = kept_person;
    let queries = [
        SearchQuery::default().with_text("p"),
        SearchQuery {
            text: "pat".into(),
            filters: Filters {
                tiers: vec![Tier::parse(2).unwrap()],
                tags: vec!["tag1".into()],
                ..Default::default()
            },
            ..Default::default()
        },
    ];
    let counts = |page: SearchPage| (page.total, page.facets);
    for query in &queries {
        run(&replica, query.clone()).unwrap();
    }
    assert_eq!(replica.columns.reused(), 0, "nothing kept before");

    for round in 0..3u128 {
        // Some contacts deleted, some edited (the old version deleted, the new
        // one added to a new segment with other values).
        for n in (round * 500..round * 500 + 400).step_by(7) {
            writer.delete_term(Term::from_field_text(
                replica.fields.id,
                &Uuid::from_u128(n).to_string(),
            ));
        }
        for n in (round * 500 + 1..round * 500 + 400).step_by(11) {
            let mut edited = person(n);
            edited.card.tier = Tier::parse(2).unwrap();
            edited.card.tags = vec!["tag1".into(), "tag9".into()];
            edited.card.addresses = in_city("Elsewhere");
            writer.delete_term(Term::from_field_text(
                replica.fields.id,
                &edited.id.to_string(),
            ));
            writer
                .add_document(schema::document(&replica.fields, &edited))
                .unwrap();
        }
        writer.commit().unwrap();
        replica.reload().unwrap();

        let reused = replica.columns.reused();
        let kept: Vec<_> = queries
            .iter()
            .map(|query| counts(run(&replica, query.clone()).unwrap()))
            .collect();
        assert_eq!(
            replica.columns.reused(),
            reused + queries.len() as u64,
            "round {round}: the large segment's counts were brought up to date"
        );
        replica.columns.forget_tallies();
        let counted: Vec<_> = queries
            .iter()
            .map(|query| counts(run(&replica, query.clone()).unwrap()))
            .collect();
        assert_eq!(kept, counted, "round {round}");
    }
    let (total, facets) = &counts(run(&replica, queries[0].clone()).unwrap());
    assert!(*total < 12_000, "the deletions are counted: {total}");
    assert!(
        facets
            .locations
            .iter()
            .any(|value| value.value == "Elsewhere"),
        "the edits are counted"
    );
}

#[test]
fn countries_and_custom_choices_filter_and_count() {
    use crate::domain::{
        custom::{CustomField, CustomKind, CustomValue},
        search::choice_value,
    };
    let mut contacts = Vec::new();
    for n in 0..9u128 {
        let mut c = contact(n + 1, &format!("Member {n}"), None);
        c.card.addresses = vec![crate::domain::card::Address {
            city: Some("Somewhere".into()),
            country: Some(if n % 3 == 0 { "PT" } else { "NO" }.into()),
            ..Default::default()
        }];
        // Field 7, a single choice; field 9, several.
        c.card
            .custom
            .insert(7, CustomValue::Choice(if n < 3 { "S" } else { "M" }.into()));
        if n % 2 == 0 {
            c.card
                .custom
                .insert(9, CustomValue::Choices(vec!["Go".into(), "Rust".into()]));
        }
        contacts.push(c);
    }
    let (_dir, replica) = index_of(&contacts);
    let query = SearchQuery {
        text: "member".into(),
        filters: Filters {
            countries: vec!["PT".into()],
            choices: vec![choice_value(9, "Rust")],
            ..Default::default()
        },
        ..Default::default()
    };
    let page = run(&replica, query).unwrap();
    // PT: 0, 3, 6; of those with Rust (even): 0 and 6.
    assert_eq!(page.total, 2);
    let count = |values: &[FacetValue], value: &str| {
        values
            .iter()
            .find(|v| v.value == value)
            .map_or(0, |v| v.count)
    };
    // The country facet ignores its own selection: Rust-takers by country.
    assert_eq!(count(&page.facets.countries, "NO"), 3, "2, 4, 8");
    assert_eq!(count(&page.facets.countries, "PT"), 2);
    let mut facets = page.facets.clone();
    let field = |id: i32, name: &str, retired: bool| CustomField {
        id,
        name: name.into(),
        kind: CustomKind::Choices,
        options: Vec::new(),
        position: id,
        retired,
    };
    crate::server::search::name_choice_facets(
        &mut facets,
        &[field(9, "Languages", false), field(7, "Shirt size", false)],
    );
    let names: Vec<&str> = facets.choices.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Languages", "Shirt size"], "in the fields' order");
    let sizes = &facets.choices[1].values;
    assert_eq!(count(sizes, &choice_value(7, "S")), 1, "0 of 0 and 6");
    assert_eq!(count(sizes, &choice_value(7, "M")), 1, "6");
    let langs = &facets.choices[0].values;
    assert_eq!(count(langs, &choice_value(9, "Go")), 2);
    assert!(
        langs
            .iter()
            .any(|v| v.selected && v.value == choice_value(9, "Rust"))
    );
    // A retired field's facet is not offered.
    crate::server::search::name_choice_facets(
        &mut facets,
        &[field(9, "Languages", true), field(7, "Shirt size", false)],
    );
    assert_eq!(facets.choices.len(), 1);
}

/// A long word in each area: every prefix from the area's shortest searched length to
/// the whole word finds the contact (past the indexed prefixes' length too, where the
/// word dictionary is walked), and outside names one or two letters do not.
#[test]
fn each_area_is_found_by_every_prefix_long_enough() {
    let mut input = contact(1, "Bartholomew Quill", None).card.to_input();
    input.emails = vec![crate::domain::card::EntryInput::new(
        "",
        "zephyrinthemountains@vanderbiltcollections.example",
    )];
    input.company = "Xylographicworkshop".into();
    input.title = "Kaleidoscopicmanager".into();
    input.tags = "wunderkammerarchive".into();
    input.addresses = vec![crate::domain::card::AddressInput {
        city: "Jyvaskylainen".into(),
        ..Default::default()
    }];
    let mut rich = contact(1, "Bartholomew Quill", None);
    rich.card = crate::domain::Card::parse(&input).unwrap();
    let (_dir, replica) = index_of(&[rich, contact(2, "Other Person", None)]);
    let found = |text: &str| names(&replica, text) == ["Bartholomew Quill"];
    for (word, shortest) in [
        ("bartholomew", 1),
        ("zephyrinthemountains", 3),
        ("vanderbiltcollections", 3),
        ("xylographicworkshop", 3),
        ("kaleidoscopicmanager", 3),
        ("wunderkammerarchive", 3),
        ("jyvaskylainen", 3),
    ] {
        for length in 1..=word.len() {
            let prefix = &word[..length];
            assert_eq!(found(prefix), length >= shortest, "{prefix:?}");
        }
    }
}

/// A search arriving while the process opens its index waits for it (briefly) rather
/// than reading the whole table in Postgres; once the index is known to need building,
/// it waits no more.
#[tokio::test]
async fn a_search_waits_for_the_index_being_opened_but_not_for_one_being_built() {
    let (dir, replica) = index_of(&[contact(1, "Ada Lovelace", None)]);
    let index = SearchIndex::new(dir.path().to_owned());
    let opening = index.clone();
    let replica = Arc::new(replica);
    let published = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        opening.publish(replica, Uuid::nil(), 1);
    });
    let started = std::time::Instant::now();
    let found = index
        .current_or_opening(std::time::Duration::from_secs(20))
        .await;
    assert!(found.is_some(), "the opened index is served");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    published.await.unwrap();

    let building = SearchIndex::new(dir.path().to_owned());
    let told = building.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        told.set_state(IndexState::Building {
            indexed: 0,
            total: 1,
        });
    });
    let started = std::time::Instant::now();
    let found = building
        .current_or_opening(std::time::Duration::from_secs(20))
        .await;
    assert!(found.is_none(), "no index to serve while one is built");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "stopped waiting once the build began: {:?}",
        started.elapsed()
    );
    // Already building: no wait at all.
    let started = std::time::Instant::now();
    assert!(
        building
            .current_or_opening(std::time::Duration::from_secs(20))
            .await
            .is_none()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}
