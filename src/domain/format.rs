//! Formatting numbers and dates for people, identically on server and browser (so
//! hydration matches), without a date library in the browser bundle.

/// `1234567` → `"1,234,567"`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A measured value with three significant-ish digits and its unit: "1234 ms",
/// "12.3 ms", "0.42 per second", "0.12" (no unit).
pub fn amount(value: f64, unit: &str) -> String {
    let number = if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    };
    if unit.is_empty() {
        number
    } else {
        format!("{number} {unit}")
    }
}

/// A duration in microseconds as "0.4 ms", "12 ms" or "1.2 s".
pub fn duration_micros(micros: u64) -> String {
    if micros < 10_000 {
        format!("{:.1} ms", micros as f64 / 1_000.0)
    } else if micros < 1_000_000 {
        format!("{} ms", micros / 1_000)
    } else {
        format!("{:.1} s", micros as f64 / 1_000_000.0)
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The UTC calendar date of a timestamp in microseconds: "21 Nov 2026".
pub fn date(micros: i64) -> String {
    let days = micros.div_euclid(86_400_000_000);
    let (year, month, day) = civil_from_days(days);
    format!("{day} {} {year}", MONTHS[(month - 1) as usize])
}

/// The UTC calendar date of a timestamp in microseconds, as ISO 8601: "2026-11-21".
pub fn iso_date(micros: i64) -> String {
    let (year, month, day) = civil_from_days(micros.div_euclid(86_400_000_000));
    format!("{year:04}-{month:02}-{day:02}")
}

/// A UTC date and minute: "21 Nov 2026, 14:05 UTC".
pub fn date_time(micros: i64) -> String {
    let minutes = micros.div_euclid(60_000_000).rem_euclid(24 * 60);
    format!(
        "{}, {:02}:{:02} UTC",
        date(micros),
        minutes / 60,
        minutes % 60
    )
}

/// Days since 1970-01-01 to (year, month 1–12, day 1–31), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_about_three_digits() {
        assert_eq!(amount(1234.4, "ms"), "1234 ms");
        assert_eq!(amount(12.34, "ms"), "12.3 ms");
        assert_eq!(amount(0.123, ""), "0.12");
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(duration_micros(420), "0.4 ms");
        assert_eq!(duration_micros(12_345), "12 ms");
        assert_eq!(duration_micros(1_250_000), "1.2 s");
    }

    #[test]
    fn date_times_show_the_minute() {
        // 2026-11-21 14:05:59 UTC
        assert_eq!(date_time(1_795_269_959_000_000), "21 Nov 2026, 14:05 UTC");
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(date(0), "1 Jan 1970");
        assert_eq!(date(1_763_683_200_000_000), "21 Nov 2025");
        assert_eq!(date(951_782_400_000_000), "29 Feb 2000");
        assert_eq!(date(-86_400_000_000), "31 Dec 1969");
        assert_eq!(iso_date(1_763_683_200_000_000), "2025-11-21");
    }
}
