//! Counting the matching contacts per tier, location, company and tag.
//!
//! One pass over the matching documents, reading the columnar (fast) fields: per
//! segment, counts go into a dense array indexed by the value's ordinal in that
//! segment's dictionary, and only values that were seen are turned back into text.

use std::collections::HashMap;

use tantivy::{
    DocId, Score, SegmentOrdinal, SegmentReader,
    collector::{Collector, SegmentCollector},
    columnar::{Column, StrColumn},
};

/// Matching contacts per value of each facet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FacetCounts {
    /// Index 1..=4 by tier.
    pub tiers: [u64; 5],
    pub locations: HashMap<String, u64>,
    pub companies: HashMap<String, u64>,
    pub tags: HashMap<String, u64>,
}

impl FacetCounts {
    fn add(&mut self, other: FacetCounts) {
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

pub struct FacetCollector;

impl Collector for FacetCollector {
    type Fruit = FacetCounts;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let fast = reader.fast_fields();
        let text = |name: &str| -> tantivy::Result<Option<OrdinalCounts>> {
            Ok(fast.str(name)?.map(OrdinalCounts::new))
        };
        Ok(SegmentFacets {
            tier: fast.u64("tier")?,
            tiers: [0; 5],
            location: text("location")?,
            company: text("company")?,
            tag: text("tag")?,
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

/// Counts per dictionary ordinal of one text column in one segment.
pub struct OrdinalCounts {
    column: StrColumn,
    counts: Vec<u64>,
}

impl OrdinalCounts {
    fn new(column: StrColumn) -> Self {
        let terms = column.num_terms();
        OrdinalCounts {
            column,
            counts: vec![0; terms],
        }
    }

    fn collect(&mut self, doc: DocId) {
        for ord in self.column.term_ords(doc) {
            if let Some(count) = self.counts.get_mut(ord as usize) {
                *count += 1;
            }
        }
    }

    fn harvest(self) -> HashMap<String, u64> {
        let mut out = HashMap::new();
        let mut text = String::new();
        for (ord, count) in self.counts.into_iter().enumerate() {
            if count > 0
                && self
                    .column
                    .ord_to_str(ord as u64, &mut text)
                    .unwrap_or(false)
            {
                out.insert(std::mem::take(&mut text), count);
            }
        }
        out
    }
}

pub struct SegmentFacets {
    tier: Column<u64>,
    tiers: [u64; 5],
    location: Option<OrdinalCounts>,
    company: Option<OrdinalCounts>,
    tag: Option<OrdinalCounts>,
}

impl SegmentCollector for SegmentFacets {
    type Fruit = FacetCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(tier) = self.tier.first(doc)
            && let Some(count) = self.tiers.get_mut(tier as usize)
        {
            *count += 1;
        }
        for column in [&mut self.location, &mut self.company, &mut self.tag]
            .into_iter()
            .flatten()
        {
            column.collect(doc);
        }
    }

    fn harvest(self) -> FacetCounts {
        FacetCounts {
            tiers: self.tiers,
            locations: self
                .location
                .map(OrdinalCounts::harvest)
                .unwrap_or_default(),
            companies: self.company.map(OrdinalCounts::harvest).unwrap_or_default(),
            tags: self.tag.map(OrdinalCounts::harvest).unwrap_or_default(),
        }
    }
}
