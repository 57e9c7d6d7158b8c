//! Charts as SVG, drawn the same on the server and in the browser: readable without
//! JavaScript, and with no chart library in the bundle.

use leptos::prelude::*;

use crate::domain::{
    dashboard::{Bar, Chart},
    format::amount,
};

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const LEFT: f64 = 8.0;
const TOP: f64 = 8.0;
const PLOT_WIDTH: f64 = WIDTH - 2.0 * LEFT;
const PLOT_HEIGHT: f64 = HEIGHT - 2.0 * TOP;

/// "HH:MM" (UTC) of Unix seconds.
pub fn clock(seconds: i64) -> String {
    let minutes = seconds.div_euclid(60).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The path of one line: segments through the points that have a value.
fn path(values: &[Option<f64>], top: f64) -> String {
    let step = PLOT_WIDTH / (values.len().max(2) - 1) as f64;
    let mut path = String::new();
    let mut drawing = false;
    for (index, value) in values.iter().enumerate() {
        match value {
            Some(value) => {
                let x = LEFT + index as f64 * step;
                let y = TOP + PLOT_HEIGHT - (value / top).clamp(0.0, 1.0) * PLOT_HEIGHT;
                path.push_str(&format!(
                    "{}{x:.1},{y:.1} ",
                    if drawing { "L" } else { "M" }
                ));
                drawing = true;
            }
            None => drawing = false,
        }
    }
    path
}

/// A time chart with one line per series, its scale, its span and a legend with each
/// line's latest value.
#[component]
pub fn LineChart(chart: Chart, #[prop(into)] label: String) -> impl IntoView {
    let top = chart
        .lines
        .iter()
        .flat_map(|line| line.values.iter().flatten())
        .fold(0.0f64, |top, value| top.max(*value));
    let points = chart.lines.first().map_or(0, |line| line.values.len());
    let end = chart.start + chart.step_seconds * points as i64;
    let scale = if top > 0.0 { top * 1.1 } else { 1.0 };
    let unit = chart.unit.clone();
    let description = format!(
        "{label}, from {} to {} UTC; highest {}",
        clock(chart.start),
        clock(end),
        amount(top, &unit)
    );
    let legend = chart
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let latest = line
                .values
                .iter()
                .rev()
                .flatten()
                .next()
                .map_or_else(|| "—".to_owned(), |value| amount(*value, &unit));
            view! {
                <li class=format!("legend-{index}")>{format!("{}: {latest}", line.label)}</li>
            }
        })
        .collect_view();
    let lines = chart
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            view! { <path class=format!("line line-{index}") d=path(&line.values, scale) /> }
        })
        .collect_view();
    let aria_label = description.clone();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=aria_label preserveAspectRatio="none">
                <title>{description}</title>
                <line class="axis" x1=LEFT y1=TOP + PLOT_HEIGHT x2=LEFT + PLOT_WIDTH y2=TOP + PLOT_HEIGHT />
                <line class="grid" x1=LEFT y1=TOP + PLOT_HEIGHT / 2.0 x2=LEFT + PLOT_WIDTH y2=TOP + PLOT_HEIGHT / 2.0 />
                {lines}
            </svg>
            <figcaption>
                <span class="chart-scale">{format!("top {}", amount(scale, &unit))}</span>
                <span class="chart-span">{format!("{} – {} UTC", clock(chart.start), clock(end))}</span>
                <ul class="legend">{legend}</ul>
            </figcaption>
        </figure>
    }
}

/// A histogram: one bar per bucket, each titled with its range and count.
#[component]
pub fn BarChart(bars: Vec<Bar>, #[prop(into)] label: String) -> impl IntoView {
    let highest = bars.iter().map(|bar| bar.count).max().unwrap_or(0).max(1) as f64;
    let width = PLOT_WIDTH / bars.len().max(1) as f64;
    let total: u64 = bars.iter().map(|bar| bar.count).sum();
    let first = bars
        .first()
        .map(|bar| bar.label.clone())
        .unwrap_or_default();
    let last = bars.last().map(|bar| bar.label.clone()).unwrap_or_default();
    let description = format!("{label}: {total} samples");
    let rects = bars
        .into_iter()
        .enumerate()
        .map(|(index, bar)| {
            let height = bar.count as f64 / highest * PLOT_HEIGHT;
            view! {
                <rect
                    class="bar"
                    x=format!("{:.1}", LEFT + index as f64 * width + 1.0)
                    y=format!("{:.1}", TOP + PLOT_HEIGHT - height)
                    width=format!("{:.1}", (width - 2.0).max(1.0))
                    height=format!("{height:.1}")
                >
                    <title>{format!("{}: {}", bar.label, bar.count)}</title>
                </rect>
            }
        })
        .collect_view();
    let aria_label = description.clone();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=aria_label preserveAspectRatio="none">
                <title>{description}</title>
                <line class="axis" x1=LEFT y1=TOP + PLOT_HEIGHT x2=LEFT + PLOT_WIDTH y2=TOP + PLOT_HEIGHT />
                {rects}
            </svg>
            <figcaption>
                <span class="chart-span">{format!("{first} … {last}")}</span>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_where_nothing_was_measured() {
        let drawn = path(&[Some(1.0), Some(0.0), None, Some(0.5)], 1.0);
        assert_eq!(drawn.matches('M').count(), 2);
        assert_eq!(drawn.matches('L').count(), 1);
        assert!(drawn.starts_with(&format!("M{LEFT:.1},{TOP:.1} ")));
        assert_eq!(path(&[None, None], 1.0), "");
    }

    #[test]
    fn clock_is_hours_and_minutes() {
        assert_eq!(clock(3_600 * 25 + 5 * 60), "01:05");
    }
}
