//! The monitoring dashboard's snapshot: what `/admin` shows, computed on the server
//! from the fleet's rollups and sent whole to the page (which only draws it).

use serde::{Deserialize, Serialize};

use super::AuditAction;

/// The time span the dashboard's charts and tables cover.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    #[default]
    Minutes15,
    Hour1,
    Hours6,
    Hours24,
}

impl Period {
    pub const ALL: [Period; 4] = [
        Period::Minutes15,
        Period::Hour1,
        Period::Hours6,
        Period::Hours24,
    ];

    /// The form used in URLs (`?period=1h`).
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Minutes15 => "15m",
            Period::Hour1 => "1h",
            Period::Hours6 => "6h",
            Period::Hours24 => "24h",
        }
    }

    /// Unknown or missing values fall back to the default.
    pub fn parse(text: &str) -> Period {
        Period::ALL
            .into_iter()
            .find(|period| period.as_str() == text.trim())
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            Period::Minutes15 => "15 min",
            Period::Hour1 => "1 h",
            Period::Hours6 => "6 h",
            Period::Hours24 => "24 h",
        }
    }

    pub fn seconds(self) -> i64 {
        match self {
            Period::Minutes15 => 15 * 60,
            Period::Hour1 => 3_600,
            Period::Hours6 => 6 * 3_600,
            Period::Hours24 => 24 * 3_600,
        }
    }

    /// The width of one point on the charts.
    pub fn step_seconds(self) -> i64 {
        match self {
            Period::Minutes15 => 10,
            Period::Hour1 => 60,
            Period::Hours6 => 300,
            Period::Hours24 => 1_200,
        }
    }
}

/// A rule's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    Ok,
    Warn,
    Crit,
    NoData,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warn => "WARN",
            Level::Crit => "CRIT",
            Level::NoData => "NO DATA",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Crit => "crit",
            Level::NoData => "nodata",
        }
    }
}

/// One tile of the status strip: a rule or a dependency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tile {
    pub name: String,
    pub level: Level,
    /// The current value, formatted ("412 ms", "97.5%"), or "—".
    pub value: String,
    /// The rule ("warn above 500 ms"), or the dependency's detail.
    pub threshold: String,
    /// Why the verdict: the samples it rests on, or the dependency's message.
    pub note: String,
}

/// A line of a chart: one value per point, `None` where there was nothing to measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub label: String,
    pub values: Vec<Option<f64>>,
}

/// A time chart: points at `start + i * step_seconds`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub start: i64,
    pub step_seconds: i64,
    pub unit: String,
    pub lines: Vec<Line>,
}

/// A histogram bar: the count of samples at most `upper` (and above the previous bar).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    pub label: String,
    pub count: u64,
}

/// Latency figures for one kind of request, in milliseconds: the percentiles
/// `roster bench` reports. p99.9 only from a thousand samples on (below that it is
/// the single slowest one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencyRow {
    pub name: String,
    pub count: u64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CacheRow {
    pub namespace: String,
    pub hits: u64,
    pub misses: u64,
}

impl CacheRow {
    pub fn ratio(&self) -> Option<f64> {
        let total = self.hits + self.misses;
        (total > 0).then(|| self.hits as f64 / total as f64)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolPanel {
    pub in_use: Option<f64>,
    pub idle: Option<f64>,
    pub max: Option<f64>,
    /// Time to get a connection from the pool.
    pub acquire: Option<LatencyRow>,
    /// Statement durations by kind (SELECT, INSERT, …).
    pub queries: Vec<LatencyRow>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RedisPanel {
    /// Command latency by operation.
    pub commands: Vec<LatencyRow>,
    pub errors: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatePanel {
    pub sessions_active: Option<f64>,
    pub index_documents: Option<f64>,
    pub index_lag: Option<f64>,
    pub imports_running: Option<f64>,
    pub imports_waiting: Option<f64>,
    pub import_rows: u64,
}

/// A request slower than the threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlowRow {
    pub at_ms: i64,
    pub route: String,
    pub status: u16,
    pub millis: f64,
    pub request_id: String,
    pub instance: String,
}

/// Errors of one kind in the period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorRow {
    pub kind: String,
    pub count: u64,
    pub last_at_ms: i64,
    pub request_id: String,
    /// The log line written for the last one (the same text as in the server's log).
    pub log_line: String,
    pub instance: String,
}

/// A client that was refused for going over a rate limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LimitedRow {
    /// The user's email, or the address of someone not signed in.
    pub client: String,
    pub policy: String,
    pub count: u64,
}

/// A web vital's 75th percentile, as browsers reported it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VitalRow {
    pub name: String,
    pub p75: Option<f64>,
    /// "ms", or "" for the layout shift score.
    pub unit: String,
    pub samples: u64,
    /// "good", "needs improvement" or "poor" (web.dev's thresholds).
    pub rating: String,
}

/// One server process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceRow {
    pub instance: String,
    pub last_seen_ms: i64,
    pub requests: u64,
    pub errors: u64,
    pub p99_ms: Option<f64>,
    pub pool_in_use: Option<f64>,
    pub pool_max: Option<f64>,
    pub index_documents: Option<f64>,
    pub index_lag: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub period: Period,
    /// When the snapshot was taken (Unix milliseconds, the server's clock).
    pub generated_at_ms: i64,
    /// The instance that answered.
    pub served_by: String,
    pub tiles: Vec<Tile>,
    pub instances: Vec<InstanceRow>,
    /// Requests and errors per second.
    pub traffic: Chart,
    /// Request latency p50/p95/p99 (ms).
    pub latency: Chart,
    /// Searches by kind (cached, uncached, fallback).
    pub searches: Vec<LatencyRow>,
    pub search_histogram: Vec<Bar>,
    pub cache: Vec<CacheRow>,
    pub pool: PoolPanel,
    pub redis: RedisPanel,
    /// Redis command p95 (ms) over time.
    pub redis_chart: Chart,
    pub state: StatePanel,
    pub routes: Vec<LatencyRow>,
    pub slow: Vec<SlowRow>,
    pub errors: Vec<ErrorRow>,
    pub limited: Vec<LimitedRow>,
    /// Admin accounts whose sign-ins failed often in the last 15 minutes.
    #[serde(default)]
    pub attacked_admins: Vec<AttackedAdmin>,
    pub vitals: Vec<VitalRow>,
}

/// An admin account whose sign-ins keep failing: attempts from the failing clients
/// are being slowed down (the owner, elsewhere, is not).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackedAdmin {
    pub email: String,
    /// When the last failure was counted, in milliseconds since the epoch.
    pub last_at_ms: i64,
}

impl Dashboard {
    /// How many searches the period holds, all kinds together.
    pub fn search_count(&self) -> u64 {
        self.searches.iter().map(|row| row.count).sum()
    }
}

/// The audit log's filters, as the page's query string carries them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Who (part of the user's email, any case).
    pub who: String,
    pub action: Option<AuditAction>,
    /// The day (YYYY-MM-DD, UTC).
    pub date: Option<String>,
    /// Entries older than this id (the next page).
    pub before: Option<i64>,
}

impl AuditFilter {
    /// From the query string's text fields; what is not understood is reported.
    pub fn parse(who: &str, action: &str, date: &str, before: &str) -> Result<AuditFilter, String> {
        let who = who.trim();
        if who.chars().count() > 200 {
            return Err("Who: at most 200 characters.".to_owned());
        }
        let action = match action.trim() {
            "" => None,
            text => Some(
                AuditAction::parse(text)
                    .ok_or_else(|| format!("{text:?} is not an action in the audit log."))?,
            ),
        };
        let date = match date.trim() {
            "" => None,
            text if is_date(text) => Some(text.to_owned()),
            text => return Err(format!("{text:?} is not a date like 2026-11-22.")),
        };
        let before = match before.trim() {
            "" => None,
            text => Some(
                text.parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| "That is not a page of the audit log.".to_owned())?,
            ),
        };
        Ok(AuditFilter {
            who: who.to_owned(),
            action,
            date,
            before,
        })
    }
}

/// A real day written `YYYY-MM-DD` (between 1970 and 9999).
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |part: &str, len: usize| {
        (part.len() == len && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    let [year, month, day] = parts[..] else {
        return false;
    };
    let (Some(year), Some(month), Some(day)) = (number(year, 4), number(month, 2), number(day, 2))
    else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    (1970..=9999).contains(&year) && (1..=days).contains(&day)
}

/// One entry of the audit log, as the dashboard lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at_micros: i64,
    pub actor: Option<String>,
    pub action: AuditAction,
    pub contact_id: uuid::Uuid,
    pub contact_name: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// The changed fields' names, or what the action did.
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditRow>,
    /// The `before` of the next (older) page, if there is one.
    pub next_before: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_round_trip_and_default() {
        for period in Period::ALL {
            assert_eq!(Period::parse(period.as_str()), period);
            assert_eq!(period.seconds() % period.step_seconds(), 0);
        }
        assert_eq!(Period::parse("7d"), Period::Minutes15);
    }

    #[test]
    fn audit_filters_are_checked() {
        let filter = AuditFilter::parse(" ann@", "update", "2026-11-22", "").unwrap();
        assert_eq!(filter.who, "ann@");
        assert_eq!(filter.action, Some(AuditAction::Update));
        assert_eq!(filter.date.as_deref(), Some("2026-11-22"));
        assert!(AuditFilter::parse("", "drop", "", "").is_err());
        assert!(AuditFilter::parse("", "", "22/11/2026", "").is_err());
        assert!(AuditFilter::parse("", "", "2026-13-01", "").is_err());
        assert!(AuditFilter::parse("", "", "2026-02-29", "").is_err());
        assert!(AuditFilter::parse("", "", "2028-02-29", "").is_ok());
        assert!(AuditFilter::parse("", "", "2026-04-31", "").is_err());
        assert!(AuditFilter::parse("", "", "", "-4").is_err());
        assert_eq!(
            AuditFilter::parse("", "", "", "").unwrap(),
            AuditFilter::default()
        );
    }
}
