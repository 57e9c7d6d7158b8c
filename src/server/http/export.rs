//! Downloads: the current search as CSV or vCard (every matching contact, streamed as it
//! is read, never built in memory), and one contact as a vCard.

use axum::{
    body::Body,
    extract::{Path, RawQuery, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::{
    domain::{SearchQuery, search::decode_component},
    server::{
        db::contacts,
        export,
        search::{query, schema::IndexedContact},
        startup::AppState,
    },
};

/// Contacts read from the index per chunk of the stream.
const CHUNK: usize = 500;

#[derive(Clone, Copy)]
enum Format {
    Csv,
    Vcard,
}

pub async fn csv(state: State<AppState>, query: RawQuery) -> Response {
    search_export(state, query, Format::Csv).await
}

pub async fn vcard(state: State<AppState>, query: RawQuery) -> Response {
    search_export(state, query, Format::Vcard).await
}

/// The ticked rows of the results' bulk form (`search=…&id=…&id=…`), or `None` when the
/// request is a search (or the form asked for all matches).
fn ticked(raw: &str) -> Option<(Vec<uuid::Uuid>, SearchQuery)> {
    let pairs: Vec<(String, String)> = raw
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (decode_component(name), decode_component(value)))
        .collect();
    let search = pairs.iter().find(|(name, _)| name == "search")?.1.clone();
    let all = pairs
        .iter()
        .any(|(name, value)| name == "all" && !value.is_empty());
    let search = SearchQuery::from_query_string(&search);
    if all {
        return Some((Vec::new(), search));
    }
    let ids = pairs
        .iter()
        .filter(|(name, _)| name == "id")
        .filter_map(|(_, value)| uuid::Uuid::try_parse(value).ok())
        .take(crate::domain::search::RESULTS_PER_PAGE * 4)
        .collect();
    Some((ids, search))
}

async fn search_export(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    format: Format,
) -> Response {
    let raw = raw.unwrap_or_default();
    let request = match ticked(&raw) {
        // Ticked rows: those contacts, from Postgres, in the order ticked.
        Some((ids, _)) if !ids.is_empty() => {
            let mut contacts = Vec::with_capacity(ids.len());
            for id in ids {
                match contacts::find(&state.db, id).await {
                    Ok(Some(contact)) if contact.deleted_at_micros.is_none() => {
                        contacts.push(indexed(contact));
                    }
                    Ok(_) => {}
                    Err(error) => return failure(error),
                }
            }
            let body = Bytes::from(render(format, &contacts, true));
            return download(
                format,
                futures_util::stream::iter([Ok::<_, std::io::Error>(body)]),
            );
        }
        Some((_, search)) => search,
        None => SearchQuery::from_query_string(&raw),
    };
    let Some(published) = state.search.index.current() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "The search index is still being built. Please try the export again in a minute.",
        )
            .into_response();
    };
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::task::spawn_blocking(move || {
        let parsed = query::parse(&request.text);
        if let Format::Csv = format
            && sender
                .blocking_send(Ok(Bytes::from(render(format, &[], true))))
                .is_err()
        {
            return;
        }
        let outcome = published
            .replica
            .each_match(&request, &parsed, CHUNK, |contacts| {
                let bytes = render(format, &contacts, false);
                // The client went away: stop reading.
                sender.blocking_send(Ok(Bytes::from(bytes))).is_ok()
            });
        if let Err(error) = outcome {
            tracing::error!(error = %error, "export failed mid-way");
            let _ = sender.blocking_send(Err(std::io::Error::other("export failed")));
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    download(format, stream)
}

/// Contacts as CSV records (after the header, if `header`) or vCards.
fn render(format: Format, contacts: &[IndexedContact], header: bool) -> Vec<u8> {
    match format {
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            if header {
                let _ = writer.write_record(export::CSV_HEADER);
            }
            for contact in contacts {
                let _ = writer.write_record(export::csv_record(contact));
            }
            let body = writer.into_inner().unwrap_or_default();
            if header {
                // A BOM, so spreadsheet programs read the file as UTF-8.
                let mut bytes = "\u{feff}".as_bytes().to_vec();
                bytes.extend(body);
                bytes
            } else {
                body
            }
        }
        Format::Vcard => contacts
            .iter()
            .map(export::vcard)
            .collect::<String>()
            .into_bytes(),
    }
}

/// A streamed attachment.
fn download(
    format: Format,
    stream: impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
) -> Response {
    let (kind, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Vcard => ("text/vcard; charset=utf-8", "vcf"),
    };
    // Fused: a body may be polled again after its end (the compression layer does),
    // which a plain stream need not allow (`unfold` panics).
    let mut response = Body::from_stream(futures_util::StreamExt::fuse(stream)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"roster-contacts.{extension}\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `/contacts/{id}/vcard`: one contact, from Postgres.
pub async fn contact_vcard(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = uuid::Uuid::try_parse(&id) else {
        return (StatusCode::NOT_FOUND, "No such contact.").into_response();
    };
    let contact = match contacts::find(&state.db, id).await {
        Ok(Some(contact)) if contact.deleted_at_micros.is_none() => contact,
        Ok(_) => return (StatusCode::NOT_FOUND, "No such contact.").into_response(),
        Err(error) => return failure(error),
    };
    let name = contact.name.clone();
    let card = export::vcard(&indexed(contact));
    // An ASCII name for every client, and the real one for those that read RFC 5987.
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let encoded = crate::domain::search::encode_component(&name);
    (
        [
            (header::CONTENT_TYPE, "text/vcard; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}.vcf\"; filename*=UTF-8''{encoded}.vcf"),
            ),
        ],
        card,
    )
        .into_response()
}

/// A stored contact in the shape the writers take.
fn indexed(contact: crate::domain::Contact) -> IndexedContact {
    IndexedContact {
        id: contact.id,
        name: contact.name,
        email: contact.email,
        phone: contact.phone,
        company: contact.company,
        title: contact.title,
        location: contact.location,
        tier: i16::from(contact.tier),
        tags: contact.tags,
        notes: contact.notes,
        created_at_micros: contact.created_at_micros,
        version: contact.version,
    }
}

/// An internal failure: logged, and answered without its cause.
fn failure(error: crate::server::error::Error) -> Response {
    let error = error.into_app_error("-");
    (
        StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        error.to_string(),
    )
        .into_response()
}
