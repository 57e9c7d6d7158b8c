//! Counting the matching contacts per tier, location, country, company, tag and
//! custom choice, and the total, in one pass over the documents that match the words.
//!
//! Filters are applied here, from the same values, rather than in the query: a
//! document that passes every filter counts toward the total and every facet; one
//! that fails exactly one filter still counts toward that filter's own values, so
//! each filter shows what choosing another of its values would add (the usual
//! "disjunctive" facets), all without a second pass per filter.
//!
//! The pass reads six values for every matching document, which for a one-letter
//! query is a hundred thousand documents or more. Tantivy's columns are compressed
//! and indirect (tags especially), so each segment's facet columns are decoded once
//! into one plain row per document ([`SegmentColumns`]) and kept until the segment
//! goes away; counting then costs a row read per document (and its tags' and
//! choices' lists).
//!
//! Even so, a prefix of one or two letters matches a large part of the directory, and
//! people type those first: counting them was most of a search's time at the load
//! test's rates. A segment never changes but for documents deleted from it (an edit
//! deletes the old version and adds the new one to a fresh segment), so the counts of
//! a large segment for a query are kept ([`ColumnCache::tallies`]) and brought up to
//! date by taking off the documents deleted since, which [`ColumnCache::refresh`]
//! records per segment as each commit becomes visible. Under a steady trickle of
//! edits a one-letter search then checks a few dozen documents instead of counting a
//! hundred thousand; the new small segments are counted afresh, as they are cheap.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tantivy::{
    DocId, DocSet, Score, SegmentOrdinal, SegmentReader,
    collector::{Collector, SegmentCollector},
    columnar::StrColumn,
    fastfield::AliveBitSet,
    index::SegmentId,
    query::Weight,
};

use crate::domain::search::{Filters, parse_choice_value};

/// No value (a contact without a location, say).
const NONE: u32 = u32::MAX;
/// Documents decoded per batch while building [`SegmentColumns`].
const DECODE_BATCH: usize = 4_096;
/// Segments with fewer documents are counted afresh on every search (the new segments
/// each commit adds; cheap), larger ones kept per query and brought up to date.
const KEPT_SEGMENT_DOCS: u32 = 10_000;
/// A segment's counts are kept only when the query matched at least this many of its
/// documents: below it, counting again costs less than keeping.
const KEPT_MATCHES: u64 = 1_000;
/// The memory for kept counts unless a setting says otherwise: the default of
/// `ROSTER_FACET_COUNTS_MB`. A query's counts on one segment take four bytes a facet
/// value in that segment (about 3 KB at 1M generated contacts; far more with tens of
/// thousands of companies, hence a bound in bytes rather than in queries).
pub const DEFAULT_KEPT_COUNTS_BYTES: u64 = 32 * 1024 * 1024;

/// Matching contacts per value of each facet, and in all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FacetCounts {
    /// Contacts that match the words and pass every filter.
    pub total: u64,
    /// Index 1..=4 by tier.
    pub tiers: [u64; 5],
    pub locations: HashMap<String, u64>,
    pub countries: HashMap<String, u64>,
    pub companies: HashMap<String, u64>,
    pub tags: HashMap<String, u64>,
    /// By `choice_value` (`7:M`).
    pub choices: HashMap<String, u64>,
}

impl FacetCounts {
    fn add(&mut self, other: FacetCounts) {
        self.total += other.total;
        for (mine, theirs) in self.tiers.iter_mut().zip(other.tiers) {
            *mine += theirs;
        }
        for (mine, theirs) in [
            (&mut self.locations, other.locations),
            (&mut self.countries, other.countries),
            (&mut self.companies, other.companies),
            (&mut self.tags, other.tags),
            (&mut self.choices, other.choices),
        ] {
            for (value, count) in theirs {
                *mine.entry(value).or_default() += count;
            }
        }
    }
}

/// One document's facet values side by side: counting a document reads its row (and
/// the next one's list starts) rather than an entry in each of seven arrays. On a
/// large segment the matches of a broad query are spread far apart, so each array
/// read was a fetch from memory of its own: a profile at ten million contacts had a
/// third of a search's time in counting.
#[derive(Clone, Copy)]
struct Row {
    /// Value ordinals in the location, country and company dictionaries, or [`NONE`].
    location: u32,
    country: u32,
    company: u32,
    /// Where the document's tag ordinals start in [`Multi::ords`]; they end where the
    /// next row's start. The same for its custom choices.
    tags: u32,
    choices: u32,
    tier: u8,
}

/// A segment's facet columns decoded: a row per document, the dictionaries to turn
/// value ordinals back into text, and the documents' lists of tags and choices.
pub struct SegmentColumns {
    /// One per document, and one more after them where the last document's lists end.
    rows: Vec<Row>,
    location: Option<StrColumn>,
    country: Option<StrColumn>,
    company: Option<StrColumn>,
    tags: Multi,
    choices: Multi,
}

/// A column of several values per document, decoded: every document's value
/// ordinals one after another (where each document's start is in its [`Row`]).
struct Multi {
    dictionary: Option<StrColumn>,
    ords: Vec<u32>,
    /// For the choices column: the custom field of each value ordinal (`7:M` is field
    /// 7's), so each field's filter is applied on its own.
    field_of: Vec<i32>,
}

impl Multi {
    /// The column and where each document's ordinals start (one start more than
    /// documents: where the last one's end).
    fn decode(reader: &SegmentReader, name: &str) -> tantivy::Result<(Multi, Vec<u32>)> {
        let column = reader.fast_fields().str(name)?;
        let mut offsets = Vec::with_capacity(reader.max_doc() as usize + 1);
        let mut ords = Vec::new();
        offsets.push(0);
        for doc in 0..reader.max_doc() {
            if let Some(column) = &column {
                ords.extend(column.term_ords(doc).map(|ord| ord as u32));
            }
            offsets.push(ords.len() as u32);
        }
        let mut field_of = Vec::new();
        if name == "choice"
            && let Some(column) = &column
        {
            let all: Vec<u64> = (0..column.num_terms() as u64).collect();
            column.dictionary().sorted_ords_to_term_cb(&all, |bytes| {
                let value = String::from_utf8_lossy(bytes);
                field_of.push(parse_choice_value(&value).map_or(0, |(field, _)| field));
            })?;
        }
        let multi = Multi {
            dictionary: column,
            ords,
            field_of,
        };
        Ok((multi, offsets))
    }

    fn between(&self, start: u32, end: u32) -> &[u32] {
        self.ords.get(start as usize..end as usize).unwrap_or(&[])
    }
}

impl SegmentColumns {
    fn decode(reader: &SegmentReader) -> tantivy::Result<SegmentColumns> {
        let fast = reader.fast_fields();
        let docs = reader.max_doc() as usize;
        let all: Vec<DocId> = (0..reader.max_doc()).collect();
        let mut buffer: Vec<Option<u64>> = vec![None; DECODE_BATCH];

        let tier = fast.u64("tier")?;
        let mut tiers = Vec::with_capacity(docs);
        for chunk in all.chunks(DECODE_BATCH) {
            tier.first_vals(chunk, &mut buffer[..chunk.len()]);
            tiers.extend(
                buffer[..chunk.len()]
                    .iter()
                    .map(|tier| tier.unwrap_or(0).min(4) as u8),
            );
        }

        type Decoded = (Option<StrColumn>, Vec<u32>);
        let single = |name: &str, buffer: &mut Vec<Option<u64>>| -> tantivy::Result<Decoded> {
            let Some(column) = fast.str(name)? else {
                return Ok((None, vec![NONE; docs]));
            };
            let mut ords = Vec::with_capacity(docs);
            for chunk in all.chunks(DECODE_BATCH) {
                column.ords().first_vals(chunk, &mut buffer[..chunk.len()]);
                ords.extend(
                    buffer[..chunk.len()]
                        .iter()
                        .map(|ord| ord.map_or(NONE, |o| o as u32)),
                );
            }
            Ok((Some(column), ords))
        };
        let (location, locations) = single("location", &mut buffer)?;
        let (country, countries) = single("country", &mut buffer)?;
        let (company, companies) = single("company", &mut buffer)?;
        let (tags, tag_starts) = Multi::decode(reader, "tag")?;
        let (choices, choice_starts) = Multi::decode(reader, "choice")?;
        let rows = (0..=docs)
            .map(|doc| Row {
                location: locations.get(doc).copied().unwrap_or(NONE),
                country: countries.get(doc).copied().unwrap_or(NONE),
                company: companies.get(doc).copied().unwrap_or(NONE),
                tags: tag_starts[doc],
                choices: choice_starts[doc],
                tier: tiers.get(doc).copied().unwrap_or(0),
            })
            .collect();
        Ok(SegmentColumns {
            rows,
            location,
            country,
            company,
            tags,
            choices,
        })
    }

    /// A document's row with its tags and choices (no values for one out of range).
    #[inline(always)]
    fn of(&self, doc: DocId) -> (Row, &[u32], &[u32]) {
        let at = doc as usize;
        match self.rows.get(at..at + 2) {
            Some(&[row, next]) => (
                row,
                self.tags.between(row.tags, next.tags),
                self.choices.between(row.choices, next.choices),
            ),
            _ => (Row::EMPTY, &[], &[]),
        }
    }
}

impl Row {
    const EMPTY: Row = Row {
        location: NONE,
        country: NONE,
        company: NONE,
        tags: 0,
        choices: 0,
        tier: 0,
    };
}

/// Decoded columns of the segments searched recently, by segment; the documents
/// deleted from each since it was first seen; and kept counts.
pub struct ColumnCache {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentColumns>>>,
    deletions: Mutex<HashMap<SegmentId, DeletionLog>>,
    /// A large segment's counts for one query (see the module's documentation), by
    /// segment and query.
    tallies: moka::sync::Cache<(SegmentId, Arc<str>), Arc<KeptTally>>,
    /// Segments counted from kept counts rather than document by document.
    reused: std::sync::atomic::AtomicU64,
}

impl Default for ColumnCache {
    fn default() -> Self {
        Self::new(DEFAULT_KEPT_COUNTS_BYTES)
    }
}

impl ColumnCache {
    /// A cache keeping at most `kept_bytes` of counts per query.
    pub fn new(kept_bytes: u64) -> Self {
        ColumnCache {
            segments: Mutex::default(),
            deletions: Mutex::default(),
            tallies: moka::sync::Cache::builder()
                .weigher(|key: &(SegmentId, Arc<str>), kept: &Arc<KeptTally>| {
                    u32::try_from(key.1.len() + kept.bytes()).unwrap_or(u32::MAX)
                })
                .max_capacity(kept_bytes)
                .time_to_idle(std::time::Duration::from_secs(600))
                .build(),
            reused: Default::default(),
        }
    }
}

/// The documents deleted from one segment, in the order its commits deleted them,
/// counted from the deletions it already had when first seen.
struct DeletionLog {
    /// Deleted documents when the log began.
    baseline: u32,
    /// Documents deleted since: the segment had `baseline + k` deleted documents
    /// once the first `k` of these were.
    docs: Vec<DocId>,
    /// The segment's alive documents as last seen, to find the next deletions.
    alive: Option<AliveBitSet>,
}

impl DeletionLog {
    fn new(reader: &SegmentReader) -> Self {
        DeletionLog {
            baseline: reader.num_deleted_docs(),
            docs: Vec::new(),
            alive: reader.alive_bitset().cloned(),
        }
    }

    fn deleted(&self) -> u32 {
        self.baseline + self.docs.len() as u32
    }

    /// Records what `reader` (a later view of the same segment) deleted since the
    /// last view; starts over if the two do not add up.
    fn follow(&mut self, reader: &SegmentReader) {
        let deleted = reader.num_deleted_docs();
        if deleted == self.deleted() {
            return;
        }
        if let (true, Some(now)) = (deleted > self.deleted(), reader.alive_bitset()) {
            let before = self.alive.as_ref();
            let newly = (0..reader.max_doc())
                .filter(|&doc| now.is_deleted(doc) && before.is_none_or(|b| b.is_alive(doc)));
            self.docs.extend(newly);
            self.alive = Some(now.clone());
            if self.deleted() == deleted {
                return;
            }
        }
        *self = DeletionLog::new(reader);
    }

    /// The documents deleted after the segment had `from` deleted and up to when it
    /// had `to`, if this log covers that stretch.
    fn between(&self, from: u32, to: u32) -> Option<&[DocId]> {
        let start = from.checked_sub(self.baseline)? as usize;
        let end = to.checked_sub(self.baseline)? as usize;
        self.docs.get(start..end)
    }
}

/// A segment's counts for one query, as of when it had `deleted` documents deleted.
struct KeptTally {
    deleted: u32,
    tally: Tally,
}

impl KeptTally {
    /// The memory it holds, about.
    fn bytes(&self) -> usize {
        let tally = &self.tally;
        let values = tally.locations.capacity()
            + tally.countries.capacity()
            + tally.companies.capacity()
            + tally.tags.capacity()
            + tally.choices.capacity();
        std::mem::size_of::<KeptTally>() + values * std::mem::size_of::<u32>()
    }
}

impl ColumnCache {
    fn get(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentColumns>> {
        let id = reader.segment_id();
        if let Some(columns) = lock(&self.segments).get(&id) {
            return Ok(columns.clone());
        }
        // Decoded outside the lock; two searches may both decode a new segment once.
        let columns = Arc::new(SegmentColumns::decode(reader)?);
        lock(&self.segments).insert(id, columns.clone());
        Ok(columns)
    }

    /// Decodes the segments not seen yet, notes what was deleted from the others, and
    /// forgets those no longer searched (merged away or deleted), so searches never
    /// pay for decoding. Called with each new view of the index. Blocking.
    pub fn refresh(&self, segments: &[SegmentReader]) -> tantivy::Result<()> {
        let live: Vec<SegmentId> = segments.iter().map(SegmentReader::segment_id).collect();
        lock(&self.segments).retain(|id, _| live.contains(id));
        {
            let mut deletions = lock(&self.deletions);
            deletions.retain(|id, _| live.contains(id));
            for segment in segments {
                deletions
                    .entry(segment.segment_id())
                    .and_modify(|log| log.follow(segment))
                    .or_insert_with(|| DeletionLog::new(segment));
            }
        }
        for segment in segments {
            self.get(segment)?;
        }
        Ok(())
    }

    /// The documents `reader` has deleted beyond the first `from`, sorted, if known.
    fn deleted_since(&self, reader: &SegmentReader, from: u32) -> Option<Vec<DocId>> {
        let deletions = lock(&self.deletions);
        let log = deletions.get(&reader.segment_id())?;
        let mut docs = log.between(from, reader.num_deleted_docs())?.to_vec();
        docs.sort_unstable();
        Some(docs)
    }

    /// How many segments searches counted from kept counts.
    #[cfg(test)]
    pub fn reused(&self) -> u64 {
        self.reused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Applies the kept counts' pending evictions (the cache bounds itself lazily).
    #[cfg(test)]
    pub fn settle(&self) {
        self.tallies.run_pending_tasks();
    }

    /// Forgets every kept count: the next searches count every document.
    pub fn forget_tallies(&self) {
        self.tallies.invalidate_all();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counts facets for the documents a query matches, applying `filters` as it goes.
pub struct FacetCollector<'a> {
    pub filters: &'a Filters,
    pub columns: &'a ColumnCache,
    /// What is counted, as text: the query as built and the filters (two searches with
    /// the same key count the same documents of a segment).
    pub key: Arc<str>,
}

impl Collector for FacetCollector<'_> {
    type Fruit = FacetCounts;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let columns = self.columns.get(reader)?;
        let filters = self.filters;
        let mut selected_tiers = 0u8;
        for tier in &filters.tiers {
            selected_tiers |= 1 << tier.get();
        }
        let location = Facet::new(columns.location.as_ref(), &filters.locations)?;
        let country = Facet::new(columns.country.as_ref(), &filters.countries)?;
        let company = Facet::new(columns.company.as_ref(), &filters.companies)?;
        let tag = Facet::new(columns.tags.dictionary.as_ref(), &filters.tags)?;
        let choice = Facet::new(columns.choices.dictionary.as_ref(), &filters.choices)?;
        // Each field with selected options: those options' ordinals here (`NONE` for
        // one no document of this segment has).
        let mut choice_fields: Vec<(i32, Vec<u32>)> = Vec::new();
        for value in &filters.choices {
            let Some((field, _)) = parse_choice_value(value) else {
                continue;
            };
            let ord = match &columns.choices.dictionary {
                Some(column) => column
                    .dictionary()
                    .term_ord(value.as_bytes())?
                    .map_or(NONE, |ord| ord as u32),
                None => NONE,
            };
            match choice_fields.iter_mut().find(|(f, _)| *f == field) {
                Some((_, ords)) => ords.push(ord),
                None => choice_fields.push((field, vec![ord])),
            }
        }
        let tally = Tally {
            total: 0,
            tiers: [0; 5],
            locations: vec![0; location.values()],
            countries: vec![0; country.values()],
            companies: vec![0; company.values()],
            tags: vec![0; tag.values()],
            choices: vec![0; choice.values()],
        };
        Ok(SegmentFacets {
            filtering: !filters.is_empty(),
            selected_tiers,
            location,
            country,
            company,
            tag,
            choice,
            choice_fields,
            tally,
            columns,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    /// Counts one segment: from its kept counts when it has them (less what was
    /// deleted from it since), else document by document (keeping the counts of a
    /// large segment when the query matched many of its documents).
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetCounts> {
        let mut facets = self.for_segment(segment, reader)?;
        let key = (reader.max_doc() >= KEPT_SEGMENT_DOCS)
            .then(|| (reader.segment_id(), self.key.clone()));
        if let Some(key) = &key
            && let Some(kept) = self.columns.tallies.get(key)
            && let Some(gone) = self.columns.deleted_since(reader, kept.deleted)
        {
            facets.tally = kept.tally.clone();
            self.columns
                .reused
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if gone.is_empty() {
                metrics::counter!("search_facet_segments_total", "kind" => "kept").increment(1);
            } else {
                // The deleted documents this query matches leave the counts.
                let mut scorer = weight.scorer(reader, 1.0)?;
                for doc in gone {
                    let at = if scorer.doc() < doc {
                        scorer.seek(doc)
                    } else {
                        scorer.doc()
                    };
                    if at == doc {
                        facets.tally_doc::<false>(doc);
                    }
                }
                self.columns.tallies.insert(
                    key.clone(),
                    Arc::new(KeptTally {
                        deleted: reader.num_deleted_docs(),
                        tally: facets.tally.clone(),
                    }),
                );
                metrics::counter!("search_facet_segments_total", "kind" => "updated").increment(1);
            }
            return Ok(facets.harvest());
        }

        let mut matched = 0u64;
        match reader.alive_bitset() {
            Some(alive) => weight.for_each_no_score(reader, &mut |docs| {
                matched += docs.len() as u64;
                for &doc in docs {
                    if alive.is_alive(doc) {
                        facets.tally_doc::<true>(doc);
                    }
                }
            })?,
            None => weight.for_each_no_score(reader, &mut |docs| {
                matched += docs.len() as u64;
                facets.collect_block(docs);
            })?,
        }
        if let Some(key) = key
            && matched >= KEPT_MATCHES
        {
            self.columns.tallies.insert(
                key,
                Arc::new(KeptTally {
                    deleted: reader.num_deleted_docs(),
                    tally: facets.tally.clone(),
                }),
            );
        }
        metrics::counter!("search_facet_segments_total", "kind" => "counted").increment(1);
        Ok(facets.harvest())
    }

    fn merge_fruits(&self, segments: Vec<FacetCounts>) -> tantivy::Result<FacetCounts> {
        let mut total = FacetCounts::default();
        for segment in segments {
            total.add(segment);
        }
        Ok(total)
    }
}

/// One text facet in one segment: its dictionary and the selected ordinals.
struct Facet {
    dictionary: Option<StrColumn>,
    /// Ordinals of the selected values present in this segment.
    selected: Vec<u32>,
    /// Whether any value is selected.
    filtering: bool,
    /// How many values are selected (some may be absent from this segment).
    requested: usize,
}

impl Facet {
    fn new(dictionary: Option<&StrColumn>, selected: &[String]) -> tantivy::Result<Facet> {
        let mut ords = Vec::with_capacity(selected.len());
        if let Some(column) = dictionary {
            for value in selected {
                if let Some(ord) = column.dictionary().term_ord(value.as_bytes())? {
                    ords.push(ord as u32);
                }
            }
        }
        Ok(Facet {
            dictionary: dictionary.cloned(),
            selected: ords,
            filtering: !selected.is_empty(),
            requested: selected.len(),
        })
    }

    /// How many distinct values the segment has.
    fn values(&self) -> usize {
        self.dictionary
            .as_ref()
            .map_or(0, |column| column.num_terms())
    }

    /// Whether a single value passes this facet's filter (any selected value).
    fn passes(&self, ord: u32) -> bool {
        !self.filtering || (ord != NONE && self.selected.contains(&ord))
    }

    /// Whether several values pass: every selected one is among them (one missing
    /// from this segment's dictionary means no document here has it).
    fn passes_all(&self, ords: &[u32]) -> bool {
        !self.filtering
            || (self.selected.len() == self.requested
                && self.selected.iter().all(|ord| ords.contains(ord)))
    }

    /// The counts by value, the empty value left out. The ordinals seen are resolved
    /// to text in one sequential walk of the dictionary.
    fn harvest(&self, counts: &[u32]) -> HashMap<String, u64> {
        let Some(column) = &self.dictionary else {
            return HashMap::new();
        };
        let (ords, counts): (Vec<u64>, Vec<u64>) = counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(ord, count)| (ord as u64, u64::from(*count)))
            .unzip();
        let mut out = HashMap::with_capacity(ords.len());
        let mut counts = counts.into_iter();
        let resolved = column.dictionary().sorted_ords_to_term_cb(&ords, |bytes| {
            if let Some(count) = counts.next()
                && !bytes.is_empty()
            {
                out.insert(String::from_utf8_lossy(bytes).into_owned(), count);
            }
        });
        if let Err(error) = resolved {
            tracing::warn!(%error, "could not read facet values");
        }
        out
    }
}

/// One segment's counts by value ordinal, before they are turned into text.
#[derive(Clone)]
struct Tally {
    /// Documents that pass every filter.
    total: u64,
    tiers: [u64; 5],
    locations: Vec<u32>,
    countries: Vec<u32>,
    companies: Vec<u32>,
    tags: Vec<u32>,
    choices: Vec<u32>,
}

/// One count up (`ADD`) or down.
#[inline(always)]
fn bump<const ADD: bool>(count: &mut u64) {
    if ADD {
        *count += 1;
    } else {
        *count = count.saturating_sub(1);
    }
}

/// Counts by value are `u32` (a segment holds fewer than 2³² documents): half the
/// memory to zero for every search and keep for every kept count.
#[inline(always)]
fn bump_value<const ADD: bool>(counts: &mut [u32], ord: u32) {
    if let Some(count) = counts.get_mut(ord as usize) {
        if ADD {
            *count += 1;
        } else {
            *count = count.saturating_sub(1);
        }
    }
}

pub struct SegmentFacets {
    filtering: bool,
    /// Bit `n` set: tier `n` is selected.
    selected_tiers: u8,
    location: Facet,
    country: Facet,
    company: Facet,
    tag: Facet,
    choice: Facet,
    /// The selected options by custom field: each field is a filter of its own.
    choice_fields: Vec<(i32, Vec<u32>)>,
    tally: Tally,
    columns: Arc<SegmentColumns>,
}

/// Which filter a document fails.
const TIER: u8 = 1;
const LOCATION: u8 = 2;
const COMPANY: u8 = 4;
const TAG: u8 = 8;
const COUNTRY: u8 = 16;
const CHOICE: u8 = 32;

impl SegmentFacets {
    /// Counts a matching document in (`ADD`), or takes it out of the counts.
    #[inline]
    fn tally_doc<const ADD: bool>(&mut self, doc: DocId) {
        // Borrowed, not an `Arc` clone: that cost two atomic operations per document,
        // on a cache line every search thread shares. (The borrow is of one field;
        // the counts below are another.)
        let columns = &self.columns;
        let tally = &mut self.tally;
        let (row, tags, choices) = columns.of(doc);
        let Row {
            location,
            country,
            company,
            tier,
            ..
        } = row;

        if !self.filtering {
            bump::<ADD>(&mut tally.total);
            bump::<ADD>(&mut tally.tiers[usize::from(tier)]);
            bump_value::<ADD>(&mut tally.locations, location);
            bump_value::<ADD>(&mut tally.countries, country);
            bump_value::<ADD>(&mut tally.companies, company);
            for &ord in tags {
                bump_value::<ADD>(&mut tally.tags, ord);
            }
            for &ord in choices {
                bump_value::<ADD>(&mut tally.choices, ord);
            }
            return;
        }

        let mut failed = 0u8;
        if self.selected_tiers != 0 && self.selected_tiers & (1 << tier) == 0 {
            failed |= TIER;
        }
        if !self.location.passes(location) {
            failed |= LOCATION;
        }
        if !self.country.passes(country) {
            failed |= COUNTRY;
        }
        if !self.company.passes(company) {
            failed |= COMPANY;
        }
        if !self.tag.passes_all(tags) {
            failed |= TAG;
        }
        // The one custom field whose selection the document fails (if only one
        // does): its options still count, as choosing another of them would add it.
        let mut failed_field = None;
        for (field, selected) in &self.choice_fields {
            if !selected.iter().all(|ord| choices.contains(ord)) {
                failed |= CHOICE;
                failed_field = match failed_field {
                    None => Some(*field),
                    Some(_) => Some(i32::MIN),
                };
            }
        }

        // A document counts toward a facet if every *other* filter passes.
        let counts_for = |group: u8| failed & !group == 0;
        if failed == 0 {
            bump::<ADD>(&mut tally.total);
        }
        if counts_for(TIER) {
            bump::<ADD>(&mut tally.tiers[usize::from(tier)]);
        }
        if counts_for(LOCATION) {
            bump_value::<ADD>(&mut tally.locations, location);
        }
        if counts_for(COUNTRY) {
            bump_value::<ADD>(&mut tally.countries, country);
        }
        if counts_for(COMPANY) {
            bump_value::<ADD>(&mut tally.companies, company);
        }
        if counts_for(TAG) {
            for &ord in tags {
                bump_value::<ADD>(&mut tally.tags, ord);
            }
        }
        if counts_for(CHOICE) {
            let field_of = &columns.choices.field_of;
            for &ord in choices {
                let field = field_of.get(ord as usize).copied();
                if failed_field.is_none() || failed_field == field {
                    bump_value::<ADD>(&mut tally.choices, ord);
                }
            }
        }
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = FacetCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.tally_doc::<true>(doc);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        for &doc in docs {
            self.tally_doc::<true>(doc);
        }
    }

    fn harvest(self) -> FacetCounts {
        let mut tiers = self.tally.tiers;
        // Tier 0 holds documents without one (none in practice).
        tiers[0] = 0;
        FacetCounts {
            total: self.tally.total,
            tiers,
            locations: self.location.harvest(&self.tally.locations),
            countries: self.country.harvest(&self.tally.countries),
            companies: self.company.harvest(&self.tally.companies),
            tags: self.tag.harvest(&self.tally.tags),
            choices: self.choice.harvest(&self.tally.choices),
        }
    }
}
