//! Counting the matching contacts per tier, location, company and tag, and the total,
//! in one pass over the documents that match the words.
//!
//! Filters are applied here, from the same values, rather than in the query: a
//! document that passes every filter counts toward the total and every facet; one
//! that fails exactly one filter still counts toward that filter's own values, so
//! each filter shows what choosing another of its values would add (the usual
//! "disjunctive" facets), all without a second pass per filter.
//!
//! The pass reads four values for every matching document, which for a one-letter
//! query is a hundred thousand documents or more. Tantivy's columns are compressed
//! and indirect (tags especially), so each segment's facet columns are decoded once
//! into plain arrays ([`SegmentColumns`]) and kept until the segment goes away;
//! counting then costs a few array reads per document.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tantivy::{
    DocId, Score, SegmentOrdinal, SegmentReader,
    collector::{Collector, SegmentCollector},
    columnar::StrColumn,
    index::SegmentId,
};

use crate::domain::search::Filters;

/// No value (a contact without a location, say).
const NONE: u32 = u32::MAX;
/// Documents decoded per batch while building [`SegmentColumns`].
const DECODE_BATCH: usize = 4_096;

/// Matching contacts per value of each facet, and in all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FacetCounts {
    /// Contacts that match the words and pass every filter.
    pub total: u64,
    /// Index 1..=4 by tier.
    pub tiers: [u64; 5],
    pub locations: HashMap<String, u64>,
    pub companies: HashMap<String, u64>,
    pub tags: HashMap<String, u64>,
}

impl FacetCounts {
    fn add(&mut self, other: FacetCounts) {
        self.total += other.total;
        for (mine, theirs) in self.tiers.iter_mut().zip(other.tiers) {
            *mine += theirs;
        }
        for (mine, theirs) in [
            (&mut self.locations, other.locations),
            (&mut self.companies, other.companies),
            (&mut self.tags, other.tags),
        ] {
            for (value, count) in theirs {
                *mine.entry(value).or_default() += count;
            }
        }
    }
}

/// One text column of one segment, decoded: the value ordinal of every document,
/// and the dictionary to turn ordinals back into text.
struct Decoded {
    dictionary: Option<StrColumn>,
    /// Per document: its value's ordinal, or [`NONE`].
    ords: Vec<u32>,
}

/// A segment's facet columns as plain arrays, indexed by document.
pub struct SegmentColumns {
    tiers: Vec<u8>,
    location: Decoded,
    company: Decoded,
    tag_dictionary: Option<StrColumn>,
    /// Document `d`'s tags are `tag_ords[tag_offsets[d]..tag_offsets[d + 1]]`.
    tag_offsets: Vec<u32>,
    tag_ords: Vec<u32>,
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

        let single = |name: &str, buffer: &mut Vec<Option<u64>>| -> tantivy::Result<Decoded> {
            let Some(column) = fast.str(name)? else {
                return Ok(Decoded {
                    dictionary: None,
                    ords: vec![NONE; docs],
                });
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
            Ok(Decoded {
                dictionary: Some(column),
                ords,
            })
        };
        let location = single("location", &mut buffer)?;
        let company = single("company", &mut buffer)?;

        let tag_column = fast.str("tag")?;
        let mut tag_offsets = Vec::with_capacity(docs + 1);
        let mut tag_ords = Vec::new();
        tag_offsets.push(0);
        for doc in 0..reader.max_doc() {
            if let Some(column) = &tag_column {
                tag_ords.extend(column.term_ords(doc).map(|ord| ord as u32));
            }
            tag_offsets.push(tag_ords.len() as u32);
        }
        Ok(SegmentColumns {
            tiers,
            location,
            company,
            tag_dictionary: tag_column,
            tag_offsets,
            tag_ords,
        })
    }

    fn tags(&self, doc: DocId) -> &[u32] {
        let doc = doc as usize;
        match (self.tag_offsets.get(doc), self.tag_offsets.get(doc + 1)) {
            (Some(&start), Some(&end)) => &self.tag_ords[start as usize..end as usize],
            _ => &[],
        }
    }
}

/// Decoded columns of the segments searched recently, by segment.
#[derive(Default)]
pub struct ColumnCache {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentColumns>>>,
}

impl ColumnCache {
    fn get(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentColumns>> {
        let id = reader.segment_id();
        if let Some(columns) = self.lock().get(&id) {
            return Ok(columns.clone());
        }
        // Decoded outside the lock; two searches may both decode a new segment once.
        let columns = Arc::new(SegmentColumns::decode(reader)?);
        self.lock().insert(id, columns.clone());
        Ok(columns)
    }

    /// Decodes the segments not seen yet and forgets those no longer searched
    /// (merged away or deleted), so searches never pay for decoding. Blocking.
    pub fn refresh(&self, segments: &[SegmentReader]) -> tantivy::Result<()> {
        let live: Vec<SegmentId> = segments.iter().map(SegmentReader::segment_id).collect();
        self.lock().retain(|id, _| live.contains(id));
        for segment in segments {
            self.get(segment)?;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Arc<SegmentColumns>>> {
        self.segments
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Counts facets for the documents a query matches, applying `filters` as it goes.
pub struct FacetCollector<'a> {
    pub filters: &'a Filters,
    pub columns: &'a ColumnCache,
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
        let location = Facet::new(columns.location.dictionary.as_ref(), &filters.locations)?;
        let company = Facet::new(columns.company.dictionary.as_ref(), &filters.companies)?;
        let tag = Facet::new(columns.tag_dictionary.as_ref(), &filters.tags)?;
        Ok(SegmentFacets {
            filtering: !filters.is_empty(),
            selected_tiers,
            tier_counts: [0; 5],
            location,
            company,
            tag,
            total: 0,
            columns,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<FacetCounts>) -> tantivy::Result<FacetCounts> {
        let mut total = FacetCounts::default();
        for segment in segments {
            total.add(segment);
        }
        Ok(total)
    }
}

/// One text facet in one segment: counts per ordinal, and the selected ordinals.
struct Facet {
    dictionary: Option<StrColumn>,
    counts: Vec<u64>,
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
            counts: vec![0; dictionary.map_or(0, |column| column.num_terms())],
            dictionary: dictionary.cloned(),
            selected: ords,
            filtering: !selected.is_empty(),
            requested: selected.len(),
        })
    }

    /// Whether a single value passes this facet's filter (any selected value).
    fn passes(&self, ord: u32) -> bool {
        !self.filtering || (ord != NONE && self.selected.contains(&ord))
    }

    fn count(&mut self, ord: u32) {
        if let Some(count) = self.counts.get_mut(ord as usize) {
            *count += 1;
        }
    }

    /// The counts by value, the empty value left out. The ordinals seen are resolved
    /// to text in one sequential walk of the dictionary.
    fn harvest(self) -> HashMap<String, u64> {
        let Some(column) = self.dictionary else {
            return HashMap::new();
        };
        let (ords, counts): (Vec<u64>, Vec<u64>) = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(ord, count)| (ord as u64, *count))
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

pub struct SegmentFacets {
    filtering: bool,
    /// Bit `n` set: tier `n` is selected.
    selected_tiers: u8,
    tier_counts: [u64; 5],
    location: Facet,
    company: Facet,
    tag: Facet,
    total: u64,
    columns: Arc<SegmentColumns>,
}

/// Which filter a document fails.
const TIER: u8 = 1;
const LOCATION: u8 = 2;
const COMPANY: u8 = 4;
const TAG: u8 = 8;

impl SegmentFacets {
    fn count_doc(&mut self, doc: DocId) {
        // Borrowed, not an `Arc` clone: that cost two atomic operations per document,
        // on a cache line every search thread shares. (The borrow is of one field;
        // the counts below are others.)
        let columns = &self.columns;
        let at = doc as usize;
        let tier = columns.tiers.get(at).copied().unwrap_or(0);
        let location = columns.location.ords.get(at).copied().unwrap_or(NONE);
        let company = columns.company.ords.get(at).copied().unwrap_or(NONE);
        let tags = columns.tags(doc);

        if !self.filtering {
            self.total += 1;
            self.tier_counts[usize::from(tier)] += 1;
            self.location.count(location);
            self.company.count(company);
            for ord in tags {
                self.tag.count(*ord);
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
        if !self.company.passes(company) {
            failed |= COMPANY;
        }
        // Every selected tag must be present (one missing from this segment's
        // dictionary means no contact here has it).
        if self.tag.filtering
            && (self.tag.selected.len() < self.tag.requested
                || !self.tag.selected.iter().all(|ord| tags.contains(ord)))
        {
            failed |= TAG;
        }

        // A document counts toward a facet if every *other* filter passes.
        let counts_for = |group: u8| failed & !group == 0;
        if failed == 0 {
            self.total += 1;
        }
        if counts_for(TIER) {
            self.tier_counts[usize::from(tier)] += 1;
        }
        if counts_for(LOCATION) {
            self.location.count(location);
        }
        if counts_for(COMPANY) {
            self.company.count(company);
        }
        if counts_for(TAG) {
            for ord in tags {
                self.tag.count(*ord);
            }
        }
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = FacetCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.count_doc(doc);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        for doc in docs {
            self.count_doc(*doc);
        }
    }

    fn harvest(self) -> FacetCounts {
        let mut tiers = self.tier_counts;
        // Tier 0 holds documents without one (none in practice).
        tiers[0] = 0;
        FacetCounts {
            total: self.total,
            tiers,
            locations: self.location.harvest(),
            companies: self.company.harvest(),
            tags: self.tag.harvest(),
        }
    }
}
