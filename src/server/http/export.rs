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
    domain::SearchQuery,
    server::{db::contacts, export, search::query, startup::AppState},
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

async fn search_export(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    format: Format,
) -> Response {
    let request = SearchQuery::from_query_string(raw.as_deref().unwrap_or_default());
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
        if let Format::Csv = format {
            let mut header = csv::Writer::from_writer(Vec::new());
            let _ = header.write_record(export::CSV_HEADER);
            if let Ok(bytes) = header.into_inner() {
                // A BOM, so spreadsheet programs read the file as UTF-8.
                let mut first = "\u{feff}".as_bytes().to_vec();
                first.extend(bytes);
                if sender.blocking_send(Ok(Bytes::from(first))).is_err() {
                    return;
                }
            }
        }
        let outcome = published
            .replica
            .each_match(&request, &parsed, CHUNK, |contacts| {
                let bytes = match format {
                    Format::Csv => {
                        let mut writer = csv::Writer::from_writer(Vec::new());
                        for contact in &contacts {
                            let _ = writer.write_record(export::csv_record(contact));
                        }
                        writer.into_inner().unwrap_or_default()
                    }
                    Format::Vcard => contacts
                        .iter()
                        .map(export::vcard)
                        .collect::<String>()
                        .into_bytes(),
                };
                // The client went away: stop reading.
                sender.blocking_send(Ok(Bytes::from(bytes))).is_ok()
            });
        if let Err(error) = outcome {
            tracing::error!(error = %error, "export failed mid-way");
            let _ = sender.blocking_send(Err(std::io::Error::other("export failed")));
        }
    });
    let (kind, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Vcard => ("text/vcard; charset=utf-8", "vcf"),
    };
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    let mut response = Body::from_stream(stream).into_response();
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
        Err(error) => {
            let error = error.into_app_error("-");
            return (
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                error.to_string(),
            )
                .into_response();
        }
    };
    let card = export::vcard(&crate::server::search::schema::IndexedContact {
        id: contact.id,
        name: contact.name.clone(),
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
    });
    // An ASCII name for every client, and the real one for those that read RFC 5987.
    let ascii: String = contact
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let encoded = crate::domain::search::encode_component(&contact.name);
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
