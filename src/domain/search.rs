//! A search of the directory as the user asked for it, and the page of results.
//!
//! A [`SearchQuery`] has one canonical text form, the query string of its URL
//! (`q=…&tier=…&location=…&company=…&tag=…&sort=…&page=…`). The same text is what
//! travels to the server function and what the cache keys on, so equal searches are
//! equal everywhere.
//!
//! Any text a user can type is a valid search: reading a query never fails. Over-long
//! input is cut (see the limits below), unknown sort orders fall back to relevance,
//! page numbers are clamped.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ContactSummary, PageRequest, Tier};

/// A query longer than this many characters is cut to it.
pub const MAX_QUERY_CHARS: usize = 200;
/// Results per page.
pub const RESULTS_PER_PAGE: usize = 50;
/// The deepest page served: 200 pages of 50 are the first 10,000 results.
pub const MAX_PAGE: u32 = 200;
/// At most this many values are kept per filter, each cut to `MAX_FILTER_CHARS`.
pub const MAX_FILTER_VALUES: usize = 20;
pub const MAX_FILTER_CHARS: usize = 200;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SortOrder {
    #[default]
    Relevance,
    Newest,
    Name,
}

impl SortOrder {
    pub const ALL: [SortOrder; 3] = [SortOrder::Relevance, SortOrder::Newest, SortOrder::Name];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "relevance" => Some(SortOrder::Relevance),
            "newest" => Some(SortOrder::Newest),
            "name" => Some(SortOrder::Name),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Relevance => "relevance",
            SortOrder::Newest => "newest",
            SortOrder::Name => "name",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortOrder::Relevance => "Best match",
            SortOrder::Newest => "Newest first",
            SortOrder::Name => "Name A–Z",
        }
    }
}

/// Filters narrowing a search. Values within one filter are alternatives (tier 1 or
/// 2); tags and custom choices must all be present; different filters must all hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filters {
    pub tiers: Vec<Tier>,
    pub locations: Vec<String>,
    /// ISO 3166 codes of the first address's country.
    pub countries: Vec<String>,
    pub companies: Vec<String>,
    pub tags: Vec<String>,
    /// Options of choice-type custom fields, each [`choice_value`] (`7:M`).
    pub choices: Vec<String>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
            && self.locations.is_empty()
            && self.countries.is_empty()
            && self.companies.is_empty()
            && self.tags.is_empty()
            && self.choices.is_empty()
    }
}

/// How the index and a filter name one option of a choice-type custom field: its
/// field's id, a colon, the option (`7:M`).
pub fn choice_value(field: i32, option: &str) -> String {
    format!("{field}:{option}")
}

/// The field and option a [`choice_value`] names.
pub fn parse_choice_value(value: &str) -> Option<(i32, &str)> {
    let (field, option) = value.split_once(':')?;
    Some((field.parse().ok()?, option))
}

/// The filters a user can toggle, by their URL parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    Tier,
    Location,
    Country,
    Company,
    Tag,
    Choice,
}

impl FilterKind {
    /// The URL parameter (and form field) name.
    pub fn param(self) -> &'static str {
        match self {
            FilterKind::Tier => "tier",
            FilterKind::Location => "location",
            FilterKind::Country => "country",
            FilterKind::Company => "company",
            FilterKind::Tag => "tag",
            FilterKind::Choice => "choice",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SearchQuery {
    /// The words as typed (cut to [`MAX_QUERY_CHARS`]), trimmed.
    pub text: String,
    pub filters: Filters,
    pub sort: SortOrder,
    /// 1-based, at most [`MAX_PAGE`].
    pub page: u32,
}

impl SearchQuery {
    /// Reads a search from URL parameters; `get_all` returns every value of a name.
    pub fn from_params(get_all: impl Fn(&str) -> Vec<String>) -> Self {
        let first = |name: &str| get_all(name).into_iter().next();
        let values = |name: &str| -> Vec<String> {
            let mut values: Vec<String> = get_all(name)
                .into_iter()
                .map(|value| cut(value.trim(), MAX_FILTER_CHARS).to_owned())
                .filter(|value| !value.is_empty())
                .collect();
            values.sort();
            values.dedup();
            values.truncate(MAX_FILTER_VALUES);
            values
        };
        let mut tiers: Vec<Tier> = get_all("tier")
            .iter()
            .filter_map(|value| value.trim().parse::<i64>().ok())
            .filter_map(|n| Tier::parse(n).ok())
            .collect();
        tiers.sort();
        tiers.dedup();
        SearchQuery {
            text: normalize_text(&first("q").unwrap_or_default()),
            filters: Filters {
                tiers,
                locations: values("location"),
                countries: values("country"),
                companies: values("company"),
                tags: values("tag"),
                choices: values("choice"),
            },
            sort: first("sort")
                .and_then(|value| SortOrder::parse(value.trim()))
                .unwrap_or_default(),
            page: first("page")
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map_or(1, |page| page.clamp(1, u64::from(MAX_PAGE)) as u32),
        }
    }

    /// Reads the canonical query string (with or without its leading `?`).
    pub fn from_query_string(text: &str) -> Self {
        let pairs = query_pairs(text);
        Self::from_params(|name| {
            pairs
                .iter()
                .filter(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .collect()
        })
    }

    /// The canonical query string, without a leading `?`; empty for the plain directory.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.text.is_empty() {
            pairs.push(("q", self.text.clone()));
        }
        for tier in &self.filters.tiers {
            pairs.push(("tier", tier.get().to_string()));
        }
        for location in &self.filters.locations {
            pairs.push(("location", location.clone()));
        }
        for country in &self.filters.countries {
            pairs.push(("country", country.clone()));
        }
        for company in &self.filters.companies {
            pairs.push(("company", company.clone()));
        }
        for tag in &self.filters.tags {
            pairs.push(("tag", tag.clone()));
        }
        for choice in &self.filters.choices {
            pairs.push(("choice", choice.clone()));
        }
        if self.sort != SortOrder::Relevance {
            pairs.push(("sort", self.sort.as_str().to_owned()));
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        pairs
            .iter()
            .map(|(name, value)| format!("{name}={}", encode_component(value)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The URL of this search on the directory page.
    pub fn href(&self) -> String {
        let query = self.to_query_string();
        if query.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{query}")
        }
    }

    /// No words, no filters, no order but newest first: the plain directory.
    pub fn is_browse(&self) -> bool {
        self.text.is_empty() && self.filters.is_empty() && self.sort != SortOrder::Name
    }

    pub fn with_page(&self, page: u32) -> Self {
        SearchQuery {
            page: page.clamp(1, MAX_PAGE),
            ..self.clone()
        }
    }

    pub fn without_filters(&self) -> Self {
        SearchQuery {
            filters: Filters::default(),
            page: 1,
            ..self.clone()
        }
    }

    /// This search with one filter value added if absent, removed if present.
    pub fn toggled(&self, filter: FilterKind, value: &str) -> Self {
        fn toggle(values: &mut Vec<String>, value: &str) {
            match values.iter().position(|v| v == value) {
                Some(at) => {
                    values.remove(at);
                }
                None => {
                    values.push(value.to_owned());
                    values.sort();
                }
            }
        }
        let mut next = SearchQuery {
            page: 1,
            ..self.clone()
        };
        let filters = &mut next.filters;
        match filter {
            FilterKind::Tier => {
                if let Some(tier) = value.parse::<i64>().ok().and_then(|n| Tier::parse(n).ok()) {
                    match filters.tiers.iter().position(|t| *t == tier) {
                        Some(at) => {
                            filters.tiers.remove(at);
                        }
                        None => {
                            filters.tiers.push(tier);
                            filters.tiers.sort();
                        }
                    }
                }
            }
            FilterKind::Location => toggle(&mut filters.locations, value),
            FilterKind::Country => toggle(&mut filters.countries, value),
            FilterKind::Company => toggle(&mut filters.companies, value),
            FilterKind::Tag => toggle(&mut filters.tags, value),
            FilterKind::Choice => toggle(&mut filters.choices, value),
        }
        next
    }

    pub fn with_sort(&self, sort: SortOrder) -> Self {
        SearchQuery {
            sort,
            page: 1,
            ..self.clone()
        }
    }

    pub fn with_text(&self, text: &str) -> Self {
        SearchQuery {
            text: normalize_text(text),
            page: 1,
            ..self.clone()
        }
    }
}

impl fmt::Display for SearchQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_query_string())
    }
}

impl Serialize for SearchQuery {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_query_string())
    }
}

impl<'de> Deserialize<'de> for SearchQuery {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(SearchQuery::from_query_string(&text))
    }
}

/// Trims, collapses runs of whitespace and control characters to one space, and cuts
/// to [`MAX_QUERY_CHARS`].
fn normalize_text(text: &str) -> String {
    let mut out = String::new();
    for word in text.split(|ch: char| ch.is_whitespace() || ch.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() >= MAX_QUERY_CHARS {
            break;
        }
    }
    cut(&out, MAX_QUERY_CHARS).trim_end().to_owned()
}

/// The first `max` characters of `text`.
fn cut(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// A query string's pairs (with or without its leading `?`), decoded, in order.
pub fn query_pairs(text: &str) -> Vec<(String, String)> {
    text.trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(name), decode_component(value))
        })
        .collect()
}

/// What an address of the directory page asks for (its query string): a search, and
/// when browsing, which page of the directory.
pub fn directory_address(text: &str) -> (SearchQuery, PageRequest) {
    let pairs = query_pairs(text);
    let first = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    (
        SearchQuery::from_query_string(text),
        PageRequest::from_query(first),
    )
}

/// The address of the directory page showing `query` (and `paging`, when browsing).
pub fn directory_href(query: &SearchQuery, paging: PageRequest) -> String {
    if query.is_browse() {
        format!("/{}", paging.query_string())
    } else {
        query.href()
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` (a space in form encoding); invalid escapes and
/// invalid UTF-8 are kept or replaced rather than refused.
pub fn decode_component(text: &str) -> String {
    decode(text, true)
}

/// Decodes `%XX` escapes only, as in a URL's user name or password (where `+` is
/// itself); otherwise as [`decode_component`].
pub fn decode_percent(text: &str) -> String {
    decode(text, false)
}

fn decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A stretch of text to highlight: byte offsets into the string it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Highlight {
    pub start: u32,
    pub end: u32,
}

/// A short excerpt of a longer text, with the matched words marked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<Highlight>,
    /// Whether text was cut before or after the excerpt.
    pub cut_before: bool,
    pub cut_after: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub contact: ContactSummary,
    pub name_highlights: Vec<Highlight>,
    pub notes_snippet: Option<Snippet>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
    pub selected: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    /// Every tier, with the number of matching contacts in it.
    pub tiers: Vec<(Tier, u64, bool)>,
    pub locations: Vec<FacetValue>,
    /// By ISO code (the sidebar shows the country's name).
    pub countries: Vec<FacetValue>,
    pub companies: Vec<FacetValue>,
    pub tags: Vec<FacetValue>,
    /// Per choice-type custom field that matching contacts hold, its options; each
    /// value a [`choice_value`].
    pub choices: Vec<ChoiceFacet>,
}

/// One choice-type custom field's options among the matches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceFacet {
    pub field: i32,
    pub name: String,
    pub values: Vec<FacetValue>,
}

/// One page of results with what the page shows around them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    pub query: SearchQuery,
    pub hits: Vec<SearchHit>,
    /// How many contacts match in all.
    pub total: u64,
    pub facets: Facets,
    /// Time the server spent, in microseconds.
    pub took_micros: u64,
    /// Served from a cache.
    pub cached: bool,
    /// A respelling of the words that finds contacts, offered when nothing matched.
    pub suggestion: Option<String>,
    /// Set while the search index is being built: results come from a slower path
    /// and may lack typo tolerance and filter counts.
    pub degraded: bool,
}

impl SearchPage {
    pub fn page_count(&self) -> u32 {
        let pages = self.total.div_ceil(RESULTS_PER_PAGE as u64);
        pages.clamp(1, u64::from(MAX_PAGE)) as u32
    }
}

/// The parts of the directory page that follow its search, rendered by the server:
/// what the search box swaps in as one types (see `api::directory::directory_view`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryParts {
    /// The document's title for this search.
    pub title: String,
    /// The filter sidebar's contents.
    pub filters_html: String,
    /// The summary, sort and export controls, and the results with their pager.
    pub results_html: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> SearchQuery {
        SearchQuery::from_query_string(query)
    }

    #[test]
    fn reads_every_part_of_a_search_url() {
        let query = parse(
            "q=anthony+may&tier=2&tier=1&location=S%C3%A3o%20Paulo&tag=vc&tag=ai&sort=name&page=3",
        );
        assert_eq!(query.text, "anthony may");
        assert_eq!(
            query.filters.tiers,
            vec![Tier::parse(1).unwrap(), Tier::parse(2).unwrap()]
        );
        assert_eq!(query.filters.locations, vec!["São Paulo".to_owned()]);
        assert_eq!(query.filters.tags, vec!["ai".to_owned(), "vc".to_owned()]);
        assert_eq!(query.sort, SortOrder::Name);
        assert_eq!(query.page, 3);
    }

    #[test]
    fn canonical_form_round_trips() {
        let query = parse(
            "tag=b&tag=a&q=%20Jos%C3%A9%20%20Pe%C3%B1a%20&tier=4&company=A%26B%3DC&sort=newest&page=2",
        );
        let text = query.to_query_string();
        assert_eq!(
            text,
            "q=Jos%C3%A9%20Pe%C3%B1a&tier=4&company=A%26B%3DC&tag=a&tag=b&sort=newest&page=2"
        );
        assert_eq!(parse(&text), query);
        assert_eq!(SearchQuery::default().to_query_string(), "");
        assert_eq!(SearchQuery::default().href(), "/");
    }

    #[test]
    fn nonsense_is_read_leniently() {
        let query = parse("tier=0&tier=9&tier=x&sort=sideways&page=-4&page=2");
        assert!(query.filters.tiers.is_empty());
        assert_eq!(query.sort, SortOrder::Relevance);
        assert_eq!(query.page, 1);
        assert_eq!(parse("page=99999999999999999999").page, 1);
        assert_eq!(parse("page=100000").page, MAX_PAGE);
        assert_eq!(parse("%ZZ=%&q=%E2%82").text, "\u{FFFD}");
        assert!(parse("&&&=&q").is_browse());
    }

    #[test]
    fn long_text_is_cut_at_the_documented_length() {
        let long = "é".repeat(10_000);
        let query = parse(&format!("q={}", encode_component(&long)));
        assert_eq!(query.text.chars().count(), MAX_QUERY_CHARS);

        let words = "word ".repeat(3_000);
        let query = SearchQuery::default().with_text(&words);
        assert!(query.text.chars().count() <= MAX_QUERY_CHARS);
        assert!(!query.text.ends_with(' '));
    }

    #[test]
    fn whitespace_and_control_characters_collapse() {
        let query = SearchQuery::default().with_text("  anthony \t\n\u{0}  may  ");
        assert_eq!(query.text, "anthony may");
    }

    #[test]
    fn filter_values_are_bounded() {
        let many: String = (0..100).map(|i| format!("tag=t{i}&")).collect();
        assert_eq!(parse(&many).filters.tags.len(), MAX_FILTER_VALUES);
        let long = format!("location={}", "x".repeat(5_000));
        assert_eq!(parse(&long).filters.locations[0].len(), MAX_FILTER_CHARS);
    }

    #[test]
    fn toggling_adds_then_removes_and_resets_the_page() {
        let start = parse("q=x&page=4&tag=b");
        let added = start.toggled(FilterKind::Tag, "a");
        assert_eq!(added.filters.tags, ["a", "b"]);
        assert_eq!(added.page, 1);
        assert_eq!(added.toggled(FilterKind::Tag, "a").filters.tags, ["b"]);
        let tiered = start
            .toggled(FilterKind::Tier, "3")
            .toggled(FilterKind::Tier, "1");
        assert_eq!(tiered.to_query_string(), "q=x&tier=1&tier=3&tag=b");
        assert_eq!(
            start.toggled(FilterKind::Tier, "9"),
            start.with_page(1),
            "no such tier"
        );
    }

    #[test]
    fn browse_means_no_words_and_no_filters() {
        assert!(parse("").is_browse());
        assert!(parse("sort=newest").is_browse());
        assert!(
            !parse("sort=name").is_browse(),
            "the plain directory is newest first only"
        );
        assert!(!parse("q=a").is_browse());
        assert!(!parse("tier=1").is_browse());
    }

    #[test]
    fn page_count_is_bounded() {
        let page = |total| SearchPage {
            total,
            ..Default::default()
        };
        assert_eq!(page(0).page_count(), 1);
        assert_eq!(page(50).page_count(), 1);
        assert_eq!(page(51).page_count(), 2);
        assert_eq!(page(10_000_000).page_count(), MAX_PAGE);
    }

    #[test]
    fn decoding_survives_truncated_escapes() {
        assert_eq!(decode_component("%"), "%");
        assert_eq!(decode_component("%4"), "%4");
        assert_eq!(decode_component("a%41"), "aA");
        assert_eq!(decode_component("%41%"), "A%");
    }
}
