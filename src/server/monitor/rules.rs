//! The alert rules behind the dashboard's status strip: a threshold, the level it
//! raises, and the samples it needs before it may raise anything, so that a handful of
//! requests cannot sound an alarm.

use crate::domain::{
    dashboard::{Level, Tile},
    format::amount,
};

use super::rollup::{DURATION_BUCKETS, Rollup, series_label};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breach {
    Above,
    Below,
}

#[derive(Clone, Copy, Debug)]
pub enum Unit {
    Millis,
    Percent,
}

#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub name: &'static str,
    pub breach: Breach,
    /// In the value's own unit (seconds for latencies, a fraction for ratios).
    pub threshold: f64,
    pub level: Level,
    pub min_samples: u64,
    /// What a sample is ("searches", "requests").
    pub samples: &'static str,
    pub unit: Unit,
}

/// The search p95 above 500 ms: a warning.
pub const SEARCH_P95: Rule = Rule {
    name: "Search p95",
    breach: Breach::Above,
    threshold: 0.5,
    level: Level::Warn,
    min_samples: 20,
    samples: "searches",
    unit: Unit::Millis,
};

/// More than 5% of requests failing (5xx): critical.
pub const ERROR_RATIO: Rule = Rule {
    name: "Error ratio",
    breach: Breach::Above,
    threshold: 0.05,
    level: Level::Crit,
    min_samples: 50,
    samples: "requests",
    unit: Unit::Percent,
};

/// Fewer than 80% of cache lookups hitting: a warning.
pub const CACHE_HIT_RATIO: Rule = Rule {
    name: "Cache hit ratio",
    breach: Breach::Below,
    threshold: 0.8,
    level: Level::Warn,
    min_samples: 50,
    samples: "lookups",
    unit: Unit::Percent,
};

/// More than 80% of the database pool in use: a warning.
pub const POOL_IN_USE: Rule = Rule {
    name: "Database pool in use",
    breach: Breach::Above,
    threshold: 0.8,
    level: Level::Warn,
    min_samples: 3,
    samples: "readings",
    unit: Unit::Percent,
};

impl Unit {
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Millis => amount(value * 1_000.0, "ms"),
            Unit::Percent => format!("{:.1}%", value * 100.0),
        }
    }
}

/// A rule's tile for a value resting on `samples` samples. No samples (or no value):
/// NO DATA; fewer than the rule needs: NO DATA too, saying how many there are, since
/// so few cannot be judged either way.
pub fn evaluate(rule: &Rule, value: Option<f64>, samples: u64) -> Tile {
    let comparison = match rule.breach {
        Breach::Above => "above",
        Breach::Below => "below",
    };
    let threshold = format!(
        "{} {comparison} {}",
        rule.level.label(),
        rule.unit.format(rule.threshold)
    );
    let (level, value, note) = match value {
        Some(value) if samples >= rule.min_samples => {
            let breached = match rule.breach {
                Breach::Above => value > rule.threshold,
                Breach::Below => value < rule.threshold,
            };
            (
                if breached { rule.level } else { Level::Ok },
                rule.unit.format(value),
                format!("{samples} {} in the last 5 min", rule.samples),
            )
        }
        Some(value) => (
            Level::NoData,
            rule.unit.format(value),
            format!(
                "{samples} {} in the last 5 min; {} needed to judge",
                rule.samples, rule.min_samples
            ),
        ),
        None => (
            Level::NoData,
            "—".to_owned(),
            format!("no {} in the last 5 min", rule.samples),
        ),
    };
    Tile {
        name: rule.name.to_owned(),
        level,
        value,
        threshold,
        note,
    }
}

pub const REQUESTS: &str = "http_server_request_duration_seconds";
pub const SEARCHES: &str = "search_duration_seconds";

/// The four rules over the fleet's last five minutes (`readings`: how many rollups,
/// each carrying one reading of the pool gauges).
pub fn evaluate_all(recent: &Rollup, readings: u64) -> Vec<Tile> {
    let searches = recent.histogram(SEARCHES, |_| true);
    let search_p95 = searches.quantile(DURATION_BUCKETS, 0.95);

    let requests = recent.histogram(REQUESTS, |_| true).count();
    let failed = recent
        .histogram(REQUESTS, |key| series_label(key, "status") == Some("5xx"))
        .count();
    let error_ratio = (requests > 0).then(|| failed as f64 / requests as f64);

    let hits = recent.counter_total("cache_hits_total");
    let lookups = hits + recent.counter_total("cache_misses_total");
    let hit_ratio = (lookups > 0).then(|| hits as f64 / lookups as f64);

    let in_use = recent.gauge("db_pool_connections|state=in_use");
    let max = recent
        .gauge("db_pool_connections_max")
        .filter(|max| *max > 0.0);
    let pool = in_use.zip(max).map(|(in_use, max)| in_use / max);

    vec![
        evaluate(&SEARCH_P95, search_p95, searches.count()),
        evaluate(&ERROR_RATIO, error_ratio, requests),
        evaluate(&CACHE_HIT_RATIO, hit_ratio, lookups),
        evaluate(
            &POOL_IN_USE,
            pool,
            if pool.is_some() { readings } else { 0 },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::monitor::rollup::{Hist, series_key};

    #[test]
    fn thresholds_raise_the_rules_level() {
        let slow = evaluate(&SEARCH_P95, Some(0.6), 100);
        assert_eq!(slow.level, Level::Warn);
        assert_eq!(slow.value, "600 ms");
        assert_eq!(slow.threshold, "WARN above 500 ms");
        assert_eq!(evaluate(&SEARCH_P95, Some(0.5), 100).level, Level::Ok);
        assert_eq!(evaluate(&ERROR_RATIO, Some(0.051), 50).level, Level::Crit);
        assert_eq!(evaluate(&ERROR_RATIO, Some(0.05), 50).level, Level::Ok);
        // Below-rules breach under the threshold.
        assert_eq!(
            evaluate(&CACHE_HIT_RATIO, Some(0.79), 60).level,
            Level::Warn
        );
        assert_eq!(evaluate(&CACHE_HIT_RATIO, Some(0.95), 60).level, Level::Ok);
        assert_eq!(evaluate(&POOL_IN_USE, Some(0.9), 3).level, Level::Warn);
    }

    #[test]
    fn too_few_samples_cannot_raise_an_alarm() {
        // Every one of 10 requests failed, but 50 are needed.
        let tile = evaluate(&ERROR_RATIO, Some(1.0), 10);
        assert_eq!(tile.level, Level::NoData);
        assert_eq!(tile.value, "100.0%");
        assert!(tile.note.contains("10 requests") && tile.note.contains("50 needed"));
        assert_eq!(evaluate(&ERROR_RATIO, Some(1.0), 49).level, Level::NoData);
        assert_eq!(evaluate(&ERROR_RATIO, Some(1.0), 50).level, Level::Crit);
    }

    #[test]
    fn no_samples_is_no_data() {
        let tile = evaluate(&SEARCH_P95, None, 0);
        assert_eq!((tile.level, tile.value.as_str()), (Level::NoData, "—"));
    }

    fn requests(status: &str, seconds: f64, count: u64) -> (String, Hist) {
        let mut counts = vec![0; DURATION_BUCKETS.len() + 1];
        counts[DURATION_BUCKETS.partition_point(|bound| *bound < seconds)] = count;
        (
            series_key(REQUESTS, [("status", status), ("route", "/")]),
            Hist {
                counts,
                sum: seconds * count as f64,
            },
        )
    }

    #[test]
    fn the_rules_read_a_rollup() {
        let mut recent = Rollup::default();
        let (ok_key, ok) = requests("2xx", 0.01, 90);
        let (failed_key, failed) = requests("5xx", 0.01, 10);
        recent.histograms.insert(ok_key, ok);
        recent.histograms.insert(failed_key, failed);
        recent
            .counters
            .insert("cache_hits_total|layer=memory|namespace=search".into(), 30);
        recent
            .counters
            .insert("cache_misses_total|namespace=search".into(), 70);
        recent
            .gauges
            .insert("db_pool_connections|state=in_use".into(), 2.0);
        recent.gauges.insert("db_pool_connections_max".into(), 20.0);
        let tiles = evaluate_all(&recent, 30);
        let level = |name: &str| tiles.iter().find(|tile| tile.name == name).unwrap().level;
        assert_eq!(level("Search p95"), Level::NoData);
        assert_eq!(level("Error ratio"), Level::Crit);
        assert_eq!(level("Cache hit ratio"), Level::Warn);
        assert_eq!(level("Database pool in use"), Level::Ok);
    }
}
