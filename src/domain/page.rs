//! Keyset paging through the directory, newest first.
//!
//! A page is addressed by the row it starts after (or ends before), never by an
//! offset: the database seeks straight to the cursor through the
//! `(created_at DESC, id DESC)` index, so page 20 000 costs what page 1 costs, and
//! rows added while someone pages do not shift what they see.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ContactSummary;

/// The most rows a directory page shows.
pub const PAGE_SIZE: usize = 50;

/// A position in the directory's order: the sort key of one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cursor {
    /// `created_at` in microseconds since the Unix epoch (Postgres's own precision).
    pub created_at_micros: i64,
    pub id: Uuid,
}

impl Cursor {
    /// Reads a cursor as [`Cursor::to_string`] writes it: `<micros>.<32 hex digits>`.
    pub fn parse(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('.')?;
        if id.len() != 32 {
            return None;
        }
        Some(Cursor {
            created_at_micros: micros.parse().ok()?,
            id: Uuid::try_parse(id).ok()?,
        })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.created_at_micros, self.id.simple())
    }
}

/// Which page of the directory to show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PageRequest {
    /// The newest contacts.
    #[default]
    First,
    /// The page of rows that come right after this one (older).
    After(Cursor),
    /// The page of rows that come right before this one (newer).
    Before(Cursor),
    /// The oldest contacts.
    Last,
}

impl PageRequest {
    /// Reads the paging parameters of a directory URL (`?after=…`, `?before=…`, `?last=1`).
    ///
    /// Lenient on purpose: a link that was mangled or hand-edited shows the first
    /// page rather than an error.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        if let Some(cursor) = get("after").as_deref().and_then(Cursor::parse) {
            PageRequest::After(cursor)
        } else if let Some(cursor) = get("before").as_deref().and_then(Cursor::parse) {
            PageRequest::Before(cursor)
        } else if get("last").is_some() {
            PageRequest::Last
        } else {
            PageRequest::First
        }
    }

    /// The query string (with its `?`, or empty) that addresses this page.
    pub fn query_string(&self) -> String {
        match self {
            PageRequest::First => String::new(),
            PageRequest::After(cursor) => format!("?after={cursor}"),
            PageRequest::Before(cursor) => format!("?before={cursor}"),
            PageRequest::Last => "?last=1".to_owned(),
        }
    }

    /// A compact token for the wire (`first`, `after:<cursor>`, `before:<cursor>`, `last`).
    fn token(&self) -> String {
        match self {
            PageRequest::First => "first".to_owned(),
            PageRequest::After(cursor) => format!("after:{cursor}"),
            PageRequest::Before(cursor) => format!("before:{cursor}"),
            PageRequest::Last => "last".to_owned(),
        }
    }

    fn from_token(token: &str) -> Option<Self> {
        match token.split_once(':') {
            None if token == "first" => Some(PageRequest::First),
            None if token == "last" => Some(PageRequest::Last),
            Some(("after", cursor)) => Cursor::parse(cursor).map(PageRequest::After),
            Some(("before", cursor)) => Cursor::parse(cursor).map(PageRequest::Before),
            _ => None,
        }
    }
}

impl Serialize for PageRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.token())
    }
}

impl<'de> Deserialize<'de> for PageRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let token = String::deserialize(deserializer)?;
        PageRequest::from_token(&token)
            .ok_or_else(|| serde::de::Error::custom("not a valid page of the directory"))
    }
}

/// One page of the directory with the links around it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryPage {
    pub contacts: Vec<ContactSummary>,
    /// The page before this one (newer contacts), if there is one.
    pub previous: Option<PageRequest>,
    /// The page after this one (older contacts), if there is one.
    pub next: Option<PageRequest>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::{IntoDeserializer, value::Error as DeError};

    fn cursor() -> Cursor {
        Cursor {
            created_at_micros: 1_763_760_000_123_456,
            id: Uuid::from_u128(0x0192_f0e4_5c6b_7d3a_9e21_aa00_bb11_cc22),
        }
    }

    fn query(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    #[test]
    fn cursor_round_trips_through_text() {
        let text = cursor().to_string();
        assert_eq!(text, "1763760000123456.0192f0e45c6b7d3a9e21aa00bb11cc22");
        assert_eq!(Cursor::parse(&text), Some(cursor()));
    }

    #[test]
    fn cursor_rejects_malformed_text() {
        for bad in [
            "",
            ".",
            "123",
            "abc.0192f0e45c6b7d3a9e21aa00bb11cc22",
            "123.0192f0e4-5c6b-7d3a-9e21-aa00bb11cc22",
            "123.zz92f0e45c6b7d3a9e21aa00bb11cc22",
            "99999999999999999999999.0192f0e45c6b7d3a9e21aa00bb11cc22",
            "1.2.3",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad:?} should not parse");
        }
    }

    #[test]
    fn page_request_reads_urls_leniently() {
        let c = cursor().to_string();
        assert_eq!(PageRequest::from_query(query(&[])), PageRequest::First);
        assert_eq!(
            PageRequest::from_query(query(&[("after", &c)])),
            PageRequest::After(cursor())
        );
        assert_eq!(
            PageRequest::from_query(query(&[("before", &c)])),
            PageRequest::Before(cursor())
        );
        assert_eq!(
            PageRequest::from_query(query(&[("last", "1")])),
            PageRequest::Last
        );
        assert_eq!(
            PageRequest::from_query(query(&[("after", "garbage")])),
            PageRequest::First
        );
    }

    #[test]
    fn page_request_query_string_reads_back() {
        for request in [
            PageRequest::First,
            PageRequest::After(cursor()),
            PageRequest::Before(cursor()),
            PageRequest::Last,
        ] {
            let qs = request.query_string();
            let pairs: Vec<(String, String)> = qs
                .trim_start_matches('?')
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap();
                    (k.to_owned(), v.to_owned())
                })
                .collect();
            let back = PageRequest::from_query(|key| {
                pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
            });
            assert_eq!(back, request, "{qs}");
        }
    }

    #[test]
    fn page_request_wire_format_is_strict() {
        fn de(token: &str) -> Result<PageRequest, DeError> {
            PageRequest::deserialize(token.into_deserializer())
        }
        assert_eq!(de("first").unwrap(), PageRequest::First);
        assert_eq!(de("last").unwrap(), PageRequest::Last);
        assert_eq!(
            de(&format!("after:{}", cursor())).unwrap(),
            PageRequest::After(cursor())
        );
        assert_eq!(
            de(&format!("before:{}", cursor())).unwrap(),
            PageRequest::Before(cursor())
        );
        for bad in ["", "after:", "after:nonsense", "sideways:1.2", "First"] {
            assert!(de(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
