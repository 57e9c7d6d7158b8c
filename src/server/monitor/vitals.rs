//! `POST /api/vitals`: the web vitals a browser measured for one page view, sent with
//! `navigator.sendBeacon` (see `public/vitals.js`). Checked before anything is
//! recorded: a small JSON object of known names, each a finite number in range.
//! Rate-limited like any other request (see `http::rate_limit`).

use axum::{
    body::Bytes,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value};

use super::rollup::{LAYOUT_SHIFT, VITAL_SECONDS};

/// A page view's report is a few dozen bytes; anything much larger is not one.
pub const MAX_BODY_BYTES: usize = 1_024;

/// The timing vitals (milliseconds, at most a minute) and the layout shift score.
const TIMINGS: [&str; 4] = ["lcp", "inp", "fcp", "ttfb"];
const MAX_MILLIS: f64 = 60_000.0;
const MAX_SHIFT: f64 = 10.0;

/// What a report holds, checked.
#[derive(Debug, PartialEq)]
pub struct Report {
    /// (name, seconds)
    pub timings: Vec<(&'static str, f64)>,
    pub layout_shift: Option<f64>,
}

pub fn parse(body: &[u8]) -> Result<Report, String> {
    if body.len() > MAX_BODY_BYTES {
        return Err(format!("A report is at most {MAX_BODY_BYTES} bytes."));
    }
    let object: Map<String, Value> =
        serde_json::from_slice(body).map_err(|_| "A report is a JSON object.".to_owned())?;
    let mut report = Report {
        timings: Vec::new(),
        layout_shift: None,
    };
    for (name, value) in &object {
        let number = value
            .as_f64()
            .filter(|number| number.is_finite() && *number >= 0.0)
            .ok_or_else(|| format!("{name}: not a number of zero or more."))?;
        if name == "cls" {
            if number > MAX_SHIFT {
                return Err(format!("cls: at most {MAX_SHIFT}."));
            }
            report.layout_shift = Some(number);
        } else if let Some(known) = TIMINGS.iter().find(|known| **known == name) {
            if number > MAX_MILLIS {
                return Err(format!("{name}: at most {MAX_MILLIS} ms."));
            }
            report.timings.push((known, number / 1_000.0));
        } else {
            return Err(format!("{name:?} is not a web vital this server records."));
        }
    }
    if report.timings.is_empty() && report.layout_shift.is_none() {
        return Err("The report is empty.".to_owned());
    }
    Ok(report)
}

pub async fn receive(body: Bytes) -> Response {
    match parse(&body) {
        Ok(report) => {
            for (name, seconds) in report.timings {
                metrics::histogram!(VITAL_SECONDS, "name" => name).record(seconds);
            }
            if let Some(shift) = report.layout_shift {
                metrics::histogram!(LAYOUT_SHIFT).record(shift);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(message) => (StatusCode::BAD_REQUEST, message).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_checked() {
        let report = parse(br#"{"lcp": 812.5, "cls": 0.02, "ttfb": 40}"#).unwrap();
        assert_eq!(report.layout_shift, Some(0.02));
        assert!(report.timings.contains(&("lcp", 0.8125)));
        assert!(report.timings.contains(&("ttfb", 0.04)));
        for bad in [
            &br#"{"lcp": -1}"#[..],
            br#"{"lcp": 1e9}"#,
            br#"{"cls": 50}"#,
            br#"{"lcp": "fast"}"#,
            br#"{"userId": 4}"#,
            br#"{}"#,
            br#"[1, 2]"#,
            b"\xff\xfe",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let huge = format!(r#"{{"lcp": 1{}}}"#, " ".repeat(MAX_BODY_BYTES));
        assert!(parse(huge.as_bytes()).unwrap_err().contains("at most"));
    }
}
