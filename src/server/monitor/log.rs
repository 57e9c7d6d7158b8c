//! A tracing layer that turns some log events into measurements: sqlx's statement and
//! pool-acquire events into `db_client_operation_duration_seconds` and
//! `db_client_connection_wait_time_seconds`, and every error logged with an
//! `error_kind` field into an entry of the dashboard's recent errors, with its log
//! line and request id. It sees only what its own filter lets through (sqlx at trace,
//! warnings and errors), whatever the log's output filter is.

use serde_json::{Map, Value};
use tracing::{
    Event, Level, Metadata, Subscriber,
    field::{Field, Visit},
    span::{Attributes, Id},
};
use tracing_subscriber::{
    Layer,
    filter::{FilterFn, Filtered},
    layer::Context,
    registry::LookupSpan,
};

use super::window;

/// The layer's own filter: see [`wanted`].
type Wanted = FilterFn<fn(&Metadata<'_>) -> bool>;

/// The layer, with its own filter.
pub fn layer<S>() -> Filtered<MonitorLayer, Wanted, S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    MonitorLayer.with_filter(FilterFn::new(wanted as fn(&Metadata<'_>) -> bool))
}

/// Spans that carry a request id (the request's own), sqlx's timings, warnings and
/// errors: nothing else reaches the layer.
fn wanted(metadata: &Metadata<'_>) -> bool {
    if metadata.is_span() {
        return metadata.fields().field("request_id").is_some();
    }
    metadata.target() == "sqlx::query"
        || metadata.target() == "sqlx::pool::acquire"
        || *metadata.level() <= Level::WARN
}

pub struct MonitorLayer;

/// The request id of a span that has one.
struct SpanRequestId(String);

/// Reads a span's `request_id` and nothing else.
#[derive(Default)]
struct RequestIdField(Option<String>);

impl Visit for RequestIdField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "request_id" {
            self.0 = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "request_id" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

/// Collects an event's fields as JSON values.
#[derive(Default)]
struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}

/// Reads one number and the first word of one text field, nothing else (statement
/// events carry the whole statement, which is not worth copying).
#[derive(Default)]
struct Timing {
    seconds: Option<f64>,
    operation: Option<&'static str>,
}

impl Visit for Timing {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if matches!(field.name(), "elapsed_secs" | "aquired_after_secs") {
            self.seconds = Some(value);
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "summary" {
            self.operation = Some(operation(value));
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

/// A statement's kind, from its first word (a fixed set: a label must stay small).
fn operation(summary: &str) -> &'static str {
    let word = summary.split_whitespace().next().unwrap_or("");
    [
        "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK",
    ]
    .into_iter()
    .find(|known| word.eq_ignore_ascii_case(known))
    .unwrap_or("OTHER")
}

impl<S> Layer<S> for MonitorLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        let mut field = RequestIdField::default();
        attributes.record(&mut field);
        if let (Some(request_id), Some(span)) = (field.0, context.span(id)) {
            span.extensions_mut().insert(SpanRequestId(request_id));
        }
    }

    fn on_event(&self, event: &Event<'_>, context: Context<'_, S>) {
        let metadata = event.metadata();
        match metadata.target() {
            "sqlx::query" => {
                let mut timing = Timing::default();
                event.record(&mut timing);
                if let Some(seconds) = timing.seconds {
                    metrics::histogram!(
                        "db_client_operation_duration_seconds",
                        "operation" => timing.operation.unwrap_or("OTHER"),
                    )
                    .record(seconds);
                }
            }
            "sqlx::pool::acquire" => {
                let mut timing = Timing::default();
                event.record(&mut timing);
                if let Some(seconds) = timing.seconds {
                    metrics::histogram!("db_client_connection_wait_time_seconds").record(seconds);
                }
            }
            // Only errors logged with a kind, and only those are read in full.
            _ if metadata.fields().field("error_kind").is_some() => {
                let mut fields = Fields::default();
                event.record(&mut fields);
                let Some(Value::String(kind)) = fields.0.get("error_kind").cloned() else {
                    return;
                };
                let request_id = match fields.0.get("request_id") {
                    Some(Value::String(id)) => id.clone(),
                    _ => context
                        .event_scope(event)
                        .and_then(|scope| {
                            scope.from_root().find_map(|span| {
                                span.extensions()
                                    .get::<SpanRequestId>()
                                    .map(|id| id.0.clone())
                            })
                        })
                        .unwrap_or_else(|| "-".to_owned()),
                };
                fields
                    .0
                    .insert("request_id".into(), Value::from(request_id.clone()));
                let timestamp = time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                fields.0.insert("timestamp".into(), Value::from(timestamp));
                fields
                    .0
                    .insert("level".into(), Value::from(metadata.level().as_str()));
                fields
                    .0
                    .insert("target".into(), Value::from(metadata.target()));
                let line = Value::Object(fields.0).to_string();
                window::window().record_error(&kind, &request_id, line);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_labelled_by_their_first_word_only() {
        assert_eq!(operation("SELECT id, name FROM"), "SELECT");
        assert_eq!(operation("with recent AS (SELECT"), "WITH");
        assert_eq!(operation("VACUUM contacts"), "OTHER");
        assert_eq!(operation(""), "OTHER");
    }
}
