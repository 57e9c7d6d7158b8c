//! The search bench's other engines, asked the same questions as Roster's index.
//!
//! Each engine gets the same contacts as the same words: every contact goes through
//! the index's own document builder and analyzers ([`doc`]), and the engines store
//! those words, so that a difference in answers is a difference in matching, never
//! in how a name was split or folded. Each query becomes one engine-neutral
//! [`Question`] with the index's rules (every word must match; the last word also
//! as a prefix, of names from one letter, of companies, titles, tags, places and
//! emails from three, of notes from four; words of five letters or more also with
//! typos, in names, companies, titles, tags and places; an email address finds that
//! address; a phone number finds the numbers holding its digits), and each engine
//! answers it the way a careful user of that engine would write it:
//!
//! - **Postgres**: a weighted `tsvector` in a stored generated column (names A;
//!   companies, titles, tags and places B; emails C; notes D) with a GIN index, a
//!   `pg_trgm` GIN index for phone digits, typos expanded in the same statement from a
//!   word list (`fuzzystrmatch`'s `levenshtein_less_equal`, then the index's edit
//!   distance, where a swap counts as one) in a statement before the search's,
//!   `ts_rank` for relevance, custom plans for each search,
//!   `deleted_at IS NULL`, the filters, and the facet counts in the same statement;
//!   `jit = off`, `ANALYZE` first.
//! - **Postgres with RUM** (the `rum` extension, Debian's `postgresql-15-rum`): a copy
//!   of the same rows with a RUM index on the same `tsvector` in place of GIN, and the
//!   first page in RUM's rank order (`tsv <=> query`, read from the index). RUM ranks
//!   with fixed area weights, so its relevance order is its own; answers are compared
//!   newest first, as for every engine. Its index disregards a prefix's weights, so
//!   each match is checked again on the row (`ts_match_vq`).
//! - **SQLite FTS5** (the bundled SQLite): one column per kind of area (so column
//!   filters give the prefix rules), prefix indexes of one to four characters, `bm25`
//!   with the same column weights, a trigram table for phone digits, typos expanded
//!   from a word list by the same edit distance (an application-defined function), the
//!   filters and the facet counts in SQL. Joins are written `CROSS JOIN`, which fixes
//!   SQLite's join order: left alone, SQLite 3.46 read the whole tag table for each
//!   search's tag counts (6 ms for one match at 100k; 0.1 ms in the order given).
//!
//! Both are built once per bench database and reused while the contacts and this
//! layout are unchanged (`STORE_VERSION`).

use std::collections::BTreeSet;

use anyhow::Context as _;
use sqlx::{Executor, PgConnection, PgPool, Row as _};
use tantivy::schema::{Field, Value as _};
use uuid::Uuid;

use crate::{
    domain::{SearchQuery, search::Filters},
    server::{
        db,
        search::{
            query::{self, Parsed},
            schema::{self, Area, Fields, IndexedContact},
            text, tokenizers,
        },
    },
};

/// Bump when what the engines store, or how, changes: their copies are rebuilt.
const STORE_VERSION: u32 = 1;

/// Column weights for relevance, as the index ranks areas: names first, then emails
/// and companies, then titles, tags and places, then notes.
const SQLITE_BM25: &str = "bm25(docs, 10.0, 5.0, 8.0, 2.0)";
const POSTGRES_RANK: &str = "ts_rank('{0.1, 0.8, 0.5, 1.0}', d.tsv, QUERY)";

/// Which Postgres copy a search reads: the same rows, their words indexed by GIN, or by
/// the RUM extension, whose index also gives matches in order of rank (`<=>`; it still
/// scores every match before giving the first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Postgres {
    Gin,
    Rum,
}

impl Postgres {
    fn table(self) -> &'static str {
        match self {
            Postgres::Gin => "bench_docs",
            Postgres::Rum => "bench_docs_rum",
        }
    }
}

/// How many values of each facet the engines count and return (the page shows a few).
const FACET_VALUES: usize = 10;

/// A contact as the engines store it: the words of each kind of area as the index's
/// analyzers make them, and the values filters and facets read.
pub(super) struct Doc {
    id: Uuid,
    created_at: i64,
    tier: i16,
    city: String,
    country: String,
    company: String,
    tags: Vec<String>,
    /// Names (all of them: the name, nickname, middle and phonetic names).
    name: Vec<String>,
    /// Companies, titles and departments, word-like custom values, tags and places:
    /// the other areas that match with typos.
    fuzzy: Vec<String>,
    email: Vec<String>,
    notes: Vec<String>,
    /// Each address whole, normalized.
    emails: Vec<String>,
    /// The digits of each number, as typed and in E.164.
    phones: Vec<String>,
}

impl Doc {
    pub(super) fn new(fields: &Fields, contact: &IndexedContact) -> Doc {
        let document = schema::document(fields, contact);
        let words = |fields: &[Field], analyzer: &str| -> Vec<String> {
            let mut seen = BTreeSet::new();
            let mut out = Vec::new();
            for field in fields {
                for value in document.get_all(*field).filter_map(|value| value.as_str()) {
                    for word in tokenizers::terms(analyzer, value) {
                        if seen.insert(word.clone()) {
                            out.push(word);
                        }
                    }
                }
            }
            out
        };
        let card = &contact.card;
        let phones: BTreeSet<String> = document
            .get_all(fields.phone_suffixes)
            .filter_map(|value| value.as_str())
            .map(text::digits)
            .filter(|digits| !digits.is_empty())
            .collect();
        Doc {
            id: contact.id,
            created_at: contact.created_at_micros,
            tier: i16::from(card.tier.get()),
            city: card.city().unwrap_or_default().to_owned(),
            country: card
                .addresses
                .first()
                .and_then(|address| address.country.clone())
                .unwrap_or_default(),
            company: card.company.clone().unwrap_or_default(),
            tags: card.tags.clone(),
            name: words(&[fields.name_words], tokenizers::WORDS),
            fuzzy: words(
                &[
                    fields.company_words,
                    fields.title_words,
                    fields.tag_words,
                    fields.location_words,
                ],
                tokenizers::WORDS,
            ),
            email: words(&[fields.email_words], tokenizers::EMAIL_WORDS),
            notes: words(&[fields.notes_words], tokenizers::NOTES_WORDS),
            emails: words(&[fields.email_exact], tokenizers::EMAIL),
            phones: phones.into_iter().collect(),
        }
    }
}

/// One word of a question.
#[derive(Clone, Debug)]
pub(super) struct Word {
    text: String,
    last: bool,
    typos: u8,
}

impl Word {
    fn chars(&self) -> usize {
        self.text.chars().count()
    }

    /// Where the last word matches as a prefix, by the index's own shortest prefixes.
    fn prefix_reach(&self) -> Reach {
        let chars = self.chars();
        if chars < query::min_prefix_chars(Area::Company) {
            Reach::Names
        } else if chars < query::min_prefix_chars(Area::Notes) {
            Reach::AllButNotes
        } else {
            Reach::Everywhere
        }
    }
}

/// The areas a prefix of some length is matched in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    Names,
    /// Names, companies, titles, tags, places and emails.
    AllButNotes,
    Everywhere,
}

/// What a query asks, in terms every engine can answer.
#[derive(Clone, Debug)]
pub(super) enum Question {
    Everything,
    Words(Vec<Word>),
    Email(String),
    /// Numbers holding any of these digit strings.
    Phone(Vec<String>),
}

impl Question {
    pub(super) fn of(query: &SearchQuery) -> Question {
        match query::parse(&query.text) {
            Parsed::Everything => Question::Everything,
            Parsed::Email(email) => Question::Email(email),
            Parsed::Phone { digits, e164 } => {
                Question::Phone(std::iter::once(digits).chain(e164).collect())
            }
            Parsed::Words(terms) => Question::Words(
                terms
                    .into_iter()
                    .map(|term| Word {
                        text: term.text,
                        last: term.last,
                        typos: term.typos,
                    })
                    .collect(),
            ),
        }
    }
}

/// The order results are asked in: each engine's relevance (timed), or newest first
/// (the same order for every engine: the answers are compared in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Order {
    Relevance,
    Newest,
}

/// An engine's answer: the first page's ids and how many matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Answer {
    pub(super) ids: Vec<Uuid>,
    pub(super) total: u64,
}

/// Reads every live contact as the index would, a batch at a time, newest first.
pub(super) struct DocReader {
    conn: sqlx::pool::PoolConnection<sqlx::Postgres>,
    fields: Fields,
    after: Option<(i64, Uuid)>,
}

impl DocReader {
    pub(super) async fn new(pool: &PgPool) -> anyhow::Result<DocReader> {
        Ok(DocReader {
            conn: pool.acquire().await?,
            fields: schema::schema().1,
            after: None,
        })
    }

    /// The next batch, or `None` after the last.
    pub(super) async fn next(&mut self) -> anyhow::Result<Option<Vec<Doc>>> {
        let rows = db::contacts::live_batch(&mut self.conn, self.after, 5_000).await?;
        let Some(last) = rows.last() else {
            return Ok(None);
        };
        self.after = Some((last.created_at_micros, last.id));
        let fields = self.fields;
        let docs = tokio::task::spawn_blocking(move || {
            rows.into_iter()
                .map(|contact| Doc::new(&fields, &IndexedContact::from(contact)))
                .collect::<Vec<_>>()
        })
        .await?;
        Ok(Some(docs))
    }
}

/// What the engines' copies were made from: rebuilt when it changes.
pub(super) fn store_label(contacts: i64, position: i64) -> String {
    format!(
        "store {STORE_VERSION}, index schema {}, {contacts} contacts at {position}",
        schema::SCHEMA_VERSION
    )
}

// ---------------------------------------------------------------- Postgres

/// Whether the Postgres copy is current.
pub(super) async fn postgres_is_current(pool: &PgPool, label: &str) -> anyhow::Result<bool> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('bench_state') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(false);
    }
    let stored: Option<String> = sqlx::query_scalar("SELECT label FROM bench_state")
        .fetch_optional(pool)
        .await?;
    Ok(stored.as_deref() == Some(label))
}

/// Makes the Postgres copy's tables (empty), ready for [`postgres_insert`].
pub(super) async fn postgres_create(pool: &PgPool) -> anyhow::Result<()> {
    pool.execute(
        "DROP TABLE IF EXISTS bench_state, bench_vocab, bench_docs, bench_docs_rum;
         CREATE EXTENSION IF NOT EXISTS pg_trgm;
         CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;
         CREATE TABLE bench_docs (
             id uuid PRIMARY KEY,
             created_at bigint NOT NULL,
             deleted_at timestamptz,
             tier smallint NOT NULL,
             city text NOT NULL,
             country text NOT NULL,
             company text NOT NULL,
             tags text[] NOT NULL,
             name_words text NOT NULL,
             fuzzy_words text NOT NULL,
             email_words text NOT NULL,
             notes_words text NOT NULL,
             emails text[] NOT NULL,
             phones text NOT NULL,
             tsv tsvector GENERATED ALWAYS AS (
                 setweight(to_tsvector('simple', name_words), 'A') ||
                 setweight(to_tsvector('simple', fuzzy_words), 'B') ||
                 setweight(to_tsvector('simple', email_words), 'C') ||
                 setweight(to_tsvector('simple', notes_words), 'D')) STORED
         );
         -- Optimal string alignment (a swap of neighbours is one edit), as the index's
         -- fuzzy matching counts; only called on the few words levenshtein lets by.
         CREATE OR REPLACE FUNCTION bench_osa(a text, b text) RETURNS int
         LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
         DECLARE
             la int := length(a);
             lb int := length(b);
             w int := lb + 1;
             d int[];
             cost int;
         BEGIN
             d := array_fill(0, ARRAY[(la + 1) * w]);
             FOR i IN 0..la LOOP d[i * w + 1] := i; END LOOP;
             FOR j IN 0..lb LOOP d[j + 1] := j; END LOOP;
             FOR i IN 1..la LOOP
                 FOR j IN 1..lb LOOP
                     cost := CASE WHEN substr(a, i, 1) = substr(b, j, 1) THEN 0 ELSE 1 END;
                     d[i * w + j + 1] := least(d[(i - 1) * w + j + 1] + 1,
                                               d[i * w + j] + 1,
                                               d[(i - 1) * w + j] + cost);
                     IF i > 1 AND j > 1 AND substr(a, i, 1) = substr(b, j - 1, 1)
                        AND substr(a, i - 1, 1) = substr(b, j, 1) THEN
                         d[i * w + j + 1] := least(d[i * w + j + 1], d[(i - 2) * w + j - 1] + 1);
                     END IF;
                 END LOOP;
             END LOOP;
             RETURN d[la * w + lb + 1];
         END $$;",
    )
    .await?;
    Ok(())
}

/// Inserts a batch of documents into the Postgres copy.
pub(super) async fn postgres_insert(pool: &PgPool, docs: &[Doc]) -> anyhow::Result<()> {
    const SEPARATOR: char = '\u{1f}';
    let join = |values: &[String]| values.join(&SEPARATOR.to_string());
    let column = |f: &dyn Fn(&Doc) -> String| docs.iter().map(f).collect::<Vec<String>>();
    sqlx::query(
        "INSERT INTO bench_docs (id, created_at, tier, city, country, company, tags,
                                 name_words, fuzzy_words, email_words, notes_words, emails, phones)
         SELECT id, created_at, tier, city, country, company,
                coalesce(string_to_array(nullif(tags, ''), chr(31)), '{}'),
                name_words, fuzzy_words, email_words, notes_words,
                coalesce(string_to_array(nullif(emails, ''), chr(31)), '{}'), phones
           FROM unnest($1::uuid[], $2::int8[], $3::int2[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
                       $13::text[])
             AS t(id, created_at, tier, city, country, company, tags, name_words, fuzzy_words,
                  email_words, notes_words, emails, phones)",
    )
    .bind(docs.iter().map(|doc| doc.id).collect::<Vec<_>>())
    .bind(docs.iter().map(|doc| doc.created_at).collect::<Vec<_>>())
    .bind(docs.iter().map(|doc| doc.tier).collect::<Vec<_>>())
    .bind(column(&|doc| doc.city.clone()))
    .bind(column(&|doc| doc.country.clone()))
    .bind(column(&|doc| doc.company.clone()))
    .bind(column(&|doc| join(&doc.tags)))
    .bind(column(&|doc| doc.name.join(" ")))
    .bind(column(&|doc| doc.fuzzy.join(" ")))
    .bind(column(&|doc| doc.email.join(" ")))
    .bind(column(&|doc| doc.notes.join(" ")))
    .bind(column(&|doc| join(&doc.emails)))
    .bind(column(&|doc| doc.phones.join(" ")))
    .execute(pool)
    .await?;
    Ok(())
}

/// Indexes the Postgres copy, makes its word list and records what it was made from.
pub(super) async fn postgres_finish(pool: &PgPool, label: &str) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    conn.execute("SET maintenance_work_mem = '512MB'").await?;
    conn.execute(
        "CREATE INDEX bench_docs_tsv ON bench_docs USING gin (tsv) WHERE deleted_at IS NULL;
         CREATE INDEX bench_docs_phones ON bench_docs USING gin (phones gin_trgm_ops)
             WHERE deleted_at IS NULL;
         CREATE INDEX bench_docs_emails ON bench_docs USING gin (emails) WHERE deleted_at IS NULL;
         CREATE INDEX bench_docs_created ON bench_docs (created_at DESC) WHERE deleted_at IS NULL;
         CREATE TABLE bench_vocab AS
             SELECT DISTINCT word, length(word) AS len
               FROM bench_docs, regexp_split_to_table(name_words || ' ' || fuzzy_words, ' ') AS word
              WHERE word <> '';
         CREATE INDEX bench_vocab_len ON bench_vocab (len, word);
         ANALYZE bench_docs;
         ANALYZE bench_vocab;
         CREATE TABLE bench_state (label text NOT NULL);",
    )
    .await?;
    sqlx::query("INSERT INTO bench_state (label) VALUES ($1)")
        .bind(label)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether this Postgres server has the RUM extension to install.
pub(super) async fn rum_available(pool: &PgPool) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'rum')",
    )
    .fetch_one(pool)
    .await?)
}

/// Whether the RUM copy exists. It is made whole in one transaction from the current
/// Postgres copy, and dropped whenever that copy is made anew, so existing is current.
pub(super) async fn rum_is_current(pool: &PgPool) -> anyhow::Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT to_regclass('bench_docs_rum') IS NOT NULL")
            .fetch_one(pool)
            .await?,
    )
}

/// Makes the RUM copy from the Postgres copy: the same rows and words, the words
/// indexed by RUM instead of GIN, the other indexes alike.
pub(super) async fn rum_create(pool: &PgPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    conn.execute("SET maintenance_work_mem = '512MB'").await?;
    // One simple-protocol batch: one transaction, so a copy that exists is whole.
    conn.execute(
        "CREATE EXTENSION IF NOT EXISTS rum;
         CREATE TABLE bench_docs_rum AS SELECT * FROM bench_docs;
         CREATE INDEX bench_docs_rum_tsv ON bench_docs_rum USING rum (tsv rum_tsvector_ops)
             WHERE deleted_at IS NULL;
         CREATE INDEX bench_docs_rum_phones ON bench_docs_rum USING gin (phones gin_trgm_ops)
             WHERE deleted_at IS NULL;
         CREATE INDEX bench_docs_rum_emails ON bench_docs_rum USING gin (emails)
             WHERE deleted_at IS NULL;
         CREATE INDEX bench_docs_rum_created ON bench_docs_rum (created_at DESC)
             WHERE deleted_at IS NULL;
         ANALYZE bench_docs_rum;",
    )
    .await?;
    Ok(())
}

/// The RUM copy's size (table, toast and indexes; it shares the word list).
pub(super) async fn rum_bytes(pool: &PgPool) -> anyhow::Result<u64> {
    let bytes: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('bench_docs_rum')")
        .fetch_one(pool)
        .await?;
    Ok(bytes as u64)
}

/// A connection set up as a careful user would for these queries.
pub(super) async fn postgres_session(conn: &mut PgConnection) -> anyhow::Result<()> {
    // Each search planned for its own words (a generic plan cannot see what a tsquery
    // asks, and scans the table).
    conn.execute(
        "SET jit = off; SET work_mem = '64MB'; SET plan_cache_mode = force_custom_plan;
         SET statement_timeout = '120s'",
    )
    .await?;
    Ok(())
}

/// The base alternatives of a word for `to_tsquery`: the word anywhere, and, for the
/// last word, as a prefix in the areas where the index matches prefixes this short.
fn tsquery_alternatives(word: &Word) -> String {
    let quoted = format!("'{}'", word.text.replace('\'', "''"));
    let mut alternatives = vec![quoted.clone()];
    if word.last {
        alternatives.push(match word.prefix_reach() {
            Reach::Names => format!("{quoted}:*A"),
            Reach::AllButNotes => format!("{quoted}:*ABC"),
            Reach::Everywhere => format!("{quoted}:*"),
        });
    }
    alternatives.join(" | ")
}

/// Answers `question` under `filters` on a Postgres copy, with the page, the count
/// and the facet counts in one statement.
pub(super) async fn postgres(
    conn: &mut PgConnection,
    copy: Postgres,
    question: &Question,
    filters: &Filters,
    order: Order,
) -> anyhow::Result<Answer> {
    let mut binds: Vec<String> = Vec::new();
    let mut bind = |value: String| {
        binds.push(value);
        format!("${}", binds.len())
    };
    // The condition, the score, and the words' query for RUM's rank order.
    let (condition, score, ranked_by) = match question {
        Question::Everything => ("true".to_owned(), "0".to_owned(), None),
        Question::Email(email) => (
            format!("d.emails @> ARRAY[{}]", bind(email.clone())),
            "0".to_owned(),
            None,
        ),
        Question::Phone(digits) => {
            let alternatives: Vec<String> = digits
                .iter()
                .map(|digits| format!("d.phones LIKE {}", bind(format!("%{digits}%"))))
                .collect();
            (
                format!("({})", alternatives.join(" OR ")),
                "0".to_owned(),
                None,
            )
        }
        Question::Words(words) => {
            // Typos first, from the word list (a round trip of its own, as an
            // application does it), so the search itself has its whole query in hand:
            // the planner then sees what it looks up, and uses the GIN index.
            let mut parts: Vec<String> = Vec::with_capacity(words.len());
            for word in words {
                let mut alternatives = tsquery_alternatives(word);
                if word.typos > 0 {
                    let k = i32::from(word.typos);
                    let n = word.chars() as i32;
                    let candidates: Vec<String> = sqlx::query_scalar(
                        "SELECT word FROM bench_vocab
                          WHERE len BETWEEN $1 AND $2 AND word <> $3
                            AND levenshtein_less_equal(word, $3, $4) <= $4
                            AND bench_osa(word, $3) <= $5",
                    )
                    .bind(n - k)
                    .bind(n + k)
                    .bind(&word.text)
                    .bind(2 * k)
                    .bind(k)
                    .fetch_all(&mut *conn)
                    .await?;
                    for candidate in candidates {
                        alternatives
                            .push_str(&format!(" | '{}':AB", candidate.replace('\'', "''")));
                    }
                }
                parts.push(format!("({alternatives})"));
            }
            let query = format!("to_tsquery('simple', {})", bind(parts.join(" & ")));
            let condition = match copy {
                Postgres::Gin => format!("d.tsv @@ {query}"),
                // RUM's index ignores a prefix's weights (`'han':*ABC` finds "han…" in
                // notes too: 1,298 matches at 100k where a scan finds 723) and does not
                // recheck; a careful user checks the match again on the row.
                Postgres::Rum => format!("d.tsv @@ {query} AND ts_match_vq(d.tsv, {query})"),
            };
            // Scored only where the page reads the score: GIN's relevance order.
            // RUM's page takes its own rank order from the index, and newest-first
            // reads no score, so ranking every match there would be work for nothing.
            let score = match (copy, order) {
                (Postgres::Gin, Order::Relevance) => POSTGRES_RANK.replace("QUERY", &query),
                _ => "0".to_owned(),
            };
            (condition, score, Some(query))
        }
    };
    let mut filter = String::new();
    if !filters.tiers.is_empty() {
        let tiers: Vec<String> = filters.tiers.iter().map(|t| t.get().to_string()).collect();
        filter.push_str(&format!(" AND d.tier IN ({})", tiers.join(", ")));
    }
    if !filters.locations.is_empty() {
        let places: Vec<String> = filters
            .locations
            .iter()
            .map(|place| bind(place.clone()))
            .collect();
        filter.push_str(&format!(" AND d.city IN ({})", places.join(", ")));
    }
    let table = copy.table();
    let matches = format!(
        "m AS MATERIALIZED (SELECT d.id, d.created_at, d.tier, d.city, d.country, d.company, d.tags,
                                   {score} AS score
                              FROM {table} AS d
                             WHERE d.deleted_at IS NULL AND {condition}{filter})"
    );
    let limit = crate::domain::search::RESULTS_PER_PAGE;
    let page = match (order, copy, ranked_by) {
        // RUM gives the matches in rank order from its index (an ordered index scan;
        // measured, it still scores every match before giving the first).
        (Order::Relevance, Postgres::Rum, Some(query)) => format!(
            "SELECT d.id FROM {table} AS d WHERE d.deleted_at IS NULL AND {condition}{filter}
              ORDER BY d.tsv <=> {query} LIMIT {limit}"
        ),
        (Order::Relevance, ..) => {
            format!("SELECT id FROM m ORDER BY score DESC, created_at DESC LIMIT {limit}")
        }
        (Order::Newest, ..) => {
            format!("SELECT id FROM m ORDER BY created_at DESC, id DESC LIMIT {limit}")
        }
    };
    let facet = |column: &str| {
        format!(
            "(SELECT json_agg(t)::text FROM (SELECT {column} AS value, count(*) AS n FROM m
                 WHERE {column} <> '' GROUP BY {column} ORDER BY n DESC, {column} LIMIT {FACET_VALUES}) t)"
        )
    };
    let sql = format!(
        "WITH {}
         SELECT (SELECT coalesce(array_agg(id), '{{}}') FROM ({page}) t) AS ids,
                (SELECT count(*) FROM m) AS total,
                (SELECT json_agg(t)::text FROM (SELECT tier, count(*) FROM m GROUP BY tier) t) AS tiers,
                {} AS cities, {} AS companies, {} AS countries,
                (SELECT json_agg(t)::text FROM (SELECT tag, count(*) AS n FROM m, unnest(m.tags) AS tag
                   GROUP BY tag ORDER BY n DESC, tag LIMIT {FACET_VALUES}) t) AS tags",
        matches,
        facet("city"),
        facet("company"),
        facet("country"),
    );
    let mut statement = sqlx::query(&sql);
    for value in &binds {
        statement = statement.bind(value);
    }
    let row = statement.fetch_one(&mut *conn).await?;
    let ids: Vec<Uuid> = row.try_get("ids")?;
    let total: i64 = row.try_get("total")?;
    for facet in ["tiers", "cities", "companies", "countries", "tags"] {
        std::hint::black_box(row.try_get::<Option<String>, _>(facet)?);
    }
    Ok(Answer {
        ids,
        total: total as u64,
    })
}

// ---------------------------------------------------------------- SQLite FTS5

/// The SQLite FTS5 copy, in a file of its own.
pub(super) struct Sqlite {
    conn: rusqlite::Connection,
}

impl Sqlite {
    /// Opens the copy at `path` if it was made from `label`, else `None`.
    pub(super) fn open_current(
        path: &std::path::Path,
        label: &str,
    ) -> anyhow::Result<Option<Sqlite>> {
        if !path.exists() {
            return Ok(None);
        }
        let sqlite = Sqlite::open(path)?;
        let stored: Option<String> = sqlite
            .conn
            .query_row("SELECT label FROM state", [], |row| row.get(0))
            .ok();
        Ok((stored.as_deref() == Some(label)).then_some(sqlite))
    }

    fn open(path: &std::path::Path) -> anyhow::Result<Sqlite> {
        let conn = rusqlite::Connection::open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        // A careful reader's settings: the file mapped, a page cache of 256 MiB.
        conn.execute_batch(
            "PRAGMA mmap_size = 4294967296; PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;",
        )?;
        conn.create_scalar_function(
            "osa",
            3,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8
                | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                let a: String = ctx.get(0)?;
                let b: String = ctx.get(1)?;
                let limit: i64 = ctx.get(2)?;
                Ok(text::edit_distance(&a, &b, limit.max(0) as usize) as i64)
            },
        )?;
        Ok(Sqlite { conn })
    }

    /// A new, empty copy at `path` (any earlier one removed).
    pub(super) fn create(path: &std::path::Path) -> anyhow::Result<Sqlite> {
        let _ = std::fs::remove_file(path);
        let sqlite = Sqlite::open(path)?;
        sqlite.conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE meta (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL,
                                created_at INTEGER NOT NULL, tier INTEGER NOT NULL,
                                city TEXT NOT NULL, country TEXT NOT NULL, company TEXT NOT NULL);
             CREATE TABLE tags (doc INTEGER NOT NULL, tag TEXT NOT NULL);
             CREATE TABLE emails (email TEXT NOT NULL, doc INTEGER NOT NULL);
             CREATE VIRTUAL TABLE docs USING fts5(name, fuzzy, email, notes, prefix = '1 2 3 4');
             CREATE VIRTUAL TABLE phones USING fts5(digits, tokenize = 'trigram');",
        )?;
        Ok(sqlite)
    }

    /// Adds a batch of documents.
    pub(super) fn insert(&mut self, docs: &[Doc], first_rowid: i64) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut meta = tx.prepare_cached(
                "INSERT INTO meta (rowid, id, created_at, tier, city, country, company)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut docs_insert = tx.prepare_cached(
                "INSERT INTO docs (rowid, name, fuzzy, email, notes) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut tags = tx.prepare_cached("INSERT INTO tags (doc, tag) VALUES (?1, ?2)")?;
            let mut emails =
                tx.prepare_cached("INSERT INTO emails (email, doc) VALUES (?1, ?2)")?;
            let mut phones =
                tx.prepare_cached("INSERT INTO phones (rowid, digits) VALUES (?1, ?2)")?;
            for (n, doc) in docs.iter().enumerate() {
                let rowid = first_rowid + n as i64;
                meta.execute(rusqlite::params![
                    rowid,
                    doc.id.to_string(),
                    doc.created_at,
                    doc.tier,
                    doc.city,
                    doc.country,
                    doc.company
                ])?;
                docs_insert.execute(rusqlite::params![
                    rowid,
                    doc.name.join(" "),
                    doc.fuzzy.join(" "),
                    doc.email.join(" "),
                    doc.notes.join(" ")
                ])?;
                for tag in &doc.tags {
                    tags.execute(rusqlite::params![rowid, tag])?;
                }
                for email in &doc.emails {
                    emails.execute(rusqlite::params![email, rowid])?;
                }
                if !doc.phones.is_empty() {
                    phones.execute(rusqlite::params![rowid, doc.phones.join(" ")])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Indexes the copy, makes its word list and records what it was made from.
    pub(super) fn finish(&mut self, label: &str) -> anyhow::Result<()> {
        self.conn.execute_batch(
            "CREATE INDEX meta_created ON meta (created_at);
             CREATE INDEX tags_doc ON tags (doc);
             CREATE INDEX emails_email ON emails (email);
             CREATE TABLE vocab (word TEXT PRIMARY KEY, len INTEGER NOT NULL) WITHOUT ROWID;
             INSERT INTO docs (docs) VALUES ('optimize');
             INSERT INTO phones (phones) VALUES ('optimize');
             CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, docs, 'col');
             INSERT OR IGNORE INTO vocab (word, len)
                 SELECT term, length(term) FROM temp.words WHERE col IN ('name', 'fuzzy');
             CREATE INDEX vocab_len ON vocab (len);
             ANALYZE;
             CREATE TABLE state (label TEXT NOT NULL);",
        )?;
        self.conn
            .execute("INSERT INTO state (label) VALUES (?1)", [label])?;
        Ok(())
    }

    /// The FTS5 query for `words`, with typos expanded from the word list.
    fn match_expression(&self, words: &[Word]) -> anyhow::Result<String> {
        let mut candidates = self.conn.prepare_cached(
            "SELECT word FROM vocab WHERE len BETWEEN ?1 AND ?2 AND word <> ?3 AND osa(word, ?3, ?4) <= ?4",
        )?;
        let mut parts = Vec::with_capacity(words.len());
        for word in words {
            let quoted = format!("\"{}\"", word.text.replace('"', "\"\""));
            let mut alternatives = vec![quoted.clone()];
            if word.last {
                alternatives.push(match word.prefix_reach() {
                    Reach::Names => format!("{{name}} : {quoted}*"),
                    Reach::AllButNotes => format!("{{name fuzzy email}} : {quoted}*"),
                    Reach::Everywhere => format!("{quoted}*"),
                });
            }
            if word.typos > 0 {
                let n = word.chars() as i64;
                let k = i64::from(word.typos);
                let found = candidates
                    .query_map(rusqlite::params![n - k, n + k, word.text, k], |row| {
                        row.get::<_, String>(0)
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                for candidate in found {
                    alternatives.push(format!(
                        "{{name fuzzy}} : \"{}\"",
                        candidate.replace('"', "\"\"")
                    ));
                }
            }
            parts.push(format!("({})", alternatives.join(" OR ")));
        }
        Ok(parts.join(" AND "))
    }

    /// Answers `question` under `filters`: the page, the count and the facet counts.
    pub(super) fn search(
        &self,
        question: &Question,
        filters: &Filters,
        order: Order,
    ) -> anyhow::Result<Answer> {
        let mut binds: Vec<String> = Vec::new();
        let (source, score) = match question {
            Question::Everything => ("meta".to_owned(), "0".to_owned()),
            Question::Email(email) => {
                binds.push(email.clone());
                (
                    "emails CROSS JOIN meta ON meta.rowid = emails.doc WHERE emails.email = ?1"
                        .to_owned(),
                    "0".to_owned(),
                )
            }
            Question::Phone(digits) => {
                let alternatives: Vec<String> = digits
                    .iter()
                    .map(|digits| format!("\"{digits}\""))
                    .collect();
                binds.push(alternatives.join(" OR "));
                (
                    "phones CROSS JOIN meta ON meta.rowid = phones.rowid WHERE phones MATCH ?1"
                        .to_owned(),
                    "0".to_owned(),
                )
            }
            Question::Words(words) => {
                binds.push(self.match_expression(words)?);
                (
                    "docs CROSS JOIN meta ON meta.rowid = docs.rowid WHERE docs MATCH ?1"
                        .to_owned(),
                    SQLITE_BM25.to_owned(),
                )
            }
        };
        let mut condition = String::new();
        let mut add = |clause: String| {
            condition.push_str(if source.contains(" WHERE ") || !condition.is_empty() {
                " AND "
            } else {
                " WHERE "
            });
            condition.push_str(&clause);
        };
        if !filters.tiers.is_empty() {
            let tiers: Vec<String> = filters.tiers.iter().map(|t| t.get().to_string()).collect();
            add(format!("meta.tier IN ({})", tiers.join(", ")));
        }
        if !filters.locations.is_empty() {
            let mut places = Vec::new();
            for place in &filters.locations {
                binds.push(place.clone());
                places.push(format!("?{}", binds.len()));
            }
            add(format!("meta.city IN ({})", places.join(", ")));
        }
        let order_by = match order {
            // bm25 is lower for better matches.
            Order::Relevance => "score, created_at DESC",
            Order::Newest => "created_at DESC, id DESC",
        };
        let facet = |column: &str| {
            format!(
                "SELECT * FROM (SELECT '{column}', {column}, count(*) AS n FROM m WHERE {column} <> ''
                   GROUP BY {column} ORDER BY n DESC, {column} LIMIT {FACET_VALUES})"
            )
        };
        let sql = format!(
            "WITH m AS MATERIALIZED (
                 SELECT meta.rowid AS doc, meta.id, meta.created_at, meta.tier, meta.city,
                        meta.country, meta.company, {score} AS score
                   FROM {source}{condition})
             SELECT * FROM (SELECT 'hit', id, 0 FROM m ORDER BY {order_by} LIMIT {})
             UNION ALL SELECT 'total', NULL, count(*) FROM m
             UNION ALL SELECT * FROM (SELECT 'tier', tier, count(*) FROM m GROUP BY tier)
             UNION ALL {}
             UNION ALL {}
             UNION ALL {}
             UNION ALL SELECT * FROM (SELECT 'tag', tags.tag, count(*) AS n FROM m
                 CROSS JOIN tags ON tags.doc = m.doc GROUP BY tags.tag ORDER BY n DESC, tags.tag
                 LIMIT {FACET_VALUES})",
            crate::domain::search::RESULTS_PER_PAGE,
            facet("city"),
            facet("company"),
            facet("country"),
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(binds.iter()))?;
        let mut answer = Answer {
            ids: Vec::new(),
            total: 0,
        };
        while let Some(row) = rows.next()? {
            let kind: String = row.get(0)?;
            match kind.as_str() {
                "hit" => answer.ids.push(row.get::<_, String>(1)?.parse()?),
                "total" => answer.total = row.get::<_, i64>(2)? as u64,
                _ => {
                    std::hint::black_box(row.get::<_, i64>(2)?);
                }
            }
        }
        Ok(answer)
    }

    /// The copy's size on disk.
    pub(super) fn bytes(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }
}

/// The Postgres copy's size (table, its toast and indexes, and the word list).
pub(super) async fn postgres_bytes(pool: &PgPool) -> anyhow::Result<u64> {
    let bytes: i64 = sqlx::query_scalar(
        "SELECT pg_total_relation_size('bench_docs') + pg_total_relation_size('bench_vocab')",
    )
    .fetch_one(pool)
    .await?;
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsquery_prefixes_follow_the_index_rules() {
        let word = |text: &str, last| Word {
            text: text.to_owned(),
            last,
            typos: 0,
        };
        assert_eq!(tsquery_alternatives(&word("ad", true)), "'ad' | 'ad':*A");
        assert_eq!(
            tsquery_alternatives(&word("ada", true)),
            "'ada' | 'ada':*ABC"
        );
        assert_eq!(
            tsquery_alternatives(&word("adam", true)),
            "'adam' | 'adam':*"
        );
        assert_eq!(tsquery_alternatives(&word("adam", false)), "'adam'");
    }
}
