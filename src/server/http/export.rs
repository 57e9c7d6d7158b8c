//! Downloads: the current search as CSV or vCard (every matching contact, streamed as it
//! is read, never built in memory), and one contact as a vCard.

use axum::{
    body::Body,
    extract::{Path, RawQuery, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use std::{collections::HashMap, sync::Arc};

use bytes::Bytes;

use crate::{
    domain::{CurrentUser, SearchQuery, custom::CustomField, search::decode_component},
    server::{
        db::{contacts, custom_fields},
        export, photos,
        search::{query, schema::IndexedContact},
        state::AppState,
    },
};

/// Contacts read from the index per chunk of the stream.
const CHUNK: usize = 500;

#[derive(Clone, Copy)]
enum Format {
    Csv,
    Vcard,
    /// vCard 3.0, for programs that read nothing newer.
    Vcard3,
    /// Google Contacts' CSV layout, with as many groups of columns as the contacts need.
    Google(export::google::Groups),
    /// Outlook's CSV layout.
    Outlook,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Vcard => "vcard",
            Format::Vcard3 => "vcard-3.0",
            Format::Google(_) => "google-csv",
            Format::Outlook => "outlook-csv",
        }
    }

    /// The vCard version the format writes; `None` for CSV.
    fn vcard_version(self) -> Option<export::VcardVersion> {
        match self {
            Format::Csv | Format::Google(_) | Format::Outlook => None,
            Format::Vcard => Some(export::VcardVersion::V4),
            Format::Vcard3 => Some(export::VcardVersion::V3),
        }
    }
}

/// The photos (largest size, by hash) that `contacts` show, for a format that carries
/// them (vCards); none for CSV. One query.
async fn photos_of(
    db: &sqlx::PgPool,
    format: Format,
    contacts: &[IndexedContact],
) -> crate::server::error::Result<HashMap<String, Vec<u8>>> {
    if format.vcard_version().is_none() {
        return Ok(HashMap::new());
    }
    let hashes: Vec<String> = contacts
        .iter()
        .filter_map(|c| c.card.photo.clone())
        .collect();
    photos::largest(db, &hashes).await
}

pub async fn csv(state: State<AppState>, asker: Asker, query: RawQuery) -> Response {
    search_export(state, asker, query, Format::Csv).await
}

pub async fn vcard(state: State<AppState>, asker: Asker, query: RawQuery) -> Response {
    search_export(state, asker, query, Format::Vcard).await
}

/// `/export-3.0.vcf`: the same cards in vCard 3.0.
pub async fn vcard3(state: State<AppState>, asker: Asker, query: RawQuery) -> Response {
    search_export(state, asker, query, Format::Vcard3).await
}

/// `/export-google.csv`: Google Contacts' CSV layout.
pub async fn google(state: State<AppState>, asker: Asker, query: RawQuery) -> Response {
    search_export(state, asker, query, Format::Google(Default::default())).await
}

/// `/export-outlook.csv`: Outlook's CSV layout.
pub async fn outlook(state: State<AppState>, asker: Asker, query: RawQuery) -> Response {
    search_export(state, asker, query, Format::Outlook).await
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

/// Exports being downloaded, per user (on this instance): one more than
/// `ROSTER_EXPORTS_PER_USER` is refused with 429 until one ends.
#[derive(Default)]
pub struct ExportSlots {
    open: std::sync::Mutex<std::collections::HashMap<uuid::Uuid, u32>>,
}

/// One export being downloaded, until its body is dropped.
pub struct ExportSlot {
    slots: std::sync::Arc<ExportSlots>,
    user: uuid::Uuid,
}

impl ExportSlots {
    pub fn try_begin(
        self: &std::sync::Arc<Self>,
        user: uuid::Uuid,
        most: u32,
    ) -> Option<ExportSlot> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(user).or_default();
        if *count >= most.max(1) {
            return None;
        }
        *count += 1;
        Some(ExportSlot {
            slots: self.clone(),
            user,
        })
    }
}

impl Drop for ExportSlot {
    fn drop(&mut self) {
        let mut open = self
            .slots
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// What an export reads from its request besides the query: who asks, and when their
/// last change was committed (for the read replica, `db::replica`).
pub struct Asker {
    user: Option<CurrentUser>,
    written_ms: i64,
}

impl axum::extract::FromRequestParts<AppState> for Asker {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = parts.extensions.get::<tower_sessions::Session>();
        let written_ms = crate::server::context::written_at_for(state, session).await;
        Ok(Asker {
            user: parts.extensions.get::<CurrentUser>().cloned(),
            written_ms,
        })
    }
}

async fn search_export(
    State(state): State<AppState>,
    Asker { user, written_ms }: Asker,
    RawQuery(raw): RawQuery,
    format: Format,
) -> Response {
    let Some(user) = user else {
        return (StatusCode::UNAUTHORIZED, "Sign in to export.").into_response();
    };
    let Some(slot) = state
        .exports
        .try_begin(user.id, state.config.exports_per_user)
    else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "10")],
            format!(
                "You already have {} exports downloading. Wait for one to finish, then try again.",
                state.config.exports_per_user
            ),
        )
            .into_response();
    };
    // Every custom field, retired ones too: an export carries every value. From the
    // primary: a field added a moment ago must not drop the values the index holds.
    let fields: Arc<[CustomField]> = match custom_fields::all(&state.db).await {
        Ok(fields) => fields.into(),
        Err(error) => return failure(error),
    };
    // Contacts and photos: the read replica's when it is in step (`db::replica`).
    let reads = match state.reads.pool(written_ms).await {
        Ok(pool) => pool,
        Err(error) => return failure(error.into()),
    };
    let raw = raw.unwrap_or_default();
    let request = match ticked(&raw) {
        // Ticked rows: those contacts, from Postgres, in the order ticked.
        Some((ids, _)) if !ids.is_empty() => {
            let mut contacts = Vec::with_capacity(ids.len());
            for id in ids {
                match contacts::find(&reads, id).await {
                    Ok(Some(contact)) if contact.deleted_at_micros.is_none() => {
                        contacts.push(IndexedContact::from(contact));
                    }
                    Ok(_) => {}
                    Err(error) => return failure(error),
                }
            }
            let photos = match photos_of(&reads, format, &contacts).await {
                Ok(photos) => photos,
                Err(error) => return failure(error),
            };
            let format = match format {
                Format::Google(mut groups) => {
                    for contact in &contacts {
                        groups.fit(contact, &fields);
                    }
                    Format::Google(groups)
                }
                format => format,
            };
            let body = Bytes::from(render(format, &contacts, &fields, &photos, true));
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
    // The matches are found on a blocking thread at once; then each chunk is read and
    // written on one only when the client has taken the one before (the body is
    // pulled), so a client that stops reading holds no thread. One that stops for
    // longer than the send timeout loses its connection (`http::serve`).
    let replica = published.replica.clone();
    let found = tokio::task::spawn_blocking(move || {
        let parsed = query::parse(&request.text);
        replica.matches(&request, &parsed)
    })
    .await;
    let (searcher, addresses) = match found {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => {
            tracing::error!(%error, "export: the search failed");
            return failure(anyhow::anyhow!("export search: {error}").into());
        }
        Err(error) => return failure(anyhow::anyhow!("export search: {error}").into()),
    };
    tracing::info!(
        user = %user.id,
        contacts = addresses.len(),
        format = format.name(),
        security_event = "export",
        "export started"
    );
    let chunks: Vec<Vec<tantivy::DocAddress>> =
        addresses.chunks(CHUNK).map(<[_]>::to_vec).collect();
    // Google's header has as many groups as the contacts need: they are read once to
    // count them (from the same snapshot the rows are read from).
    let format = match format {
        Format::Google(groups) => {
            let replica = published.replica.clone();
            let searcher = searcher.clone();
            let chunks = chunks.clone();
            let fields = fields.clone();
            let counted = tokio::task::spawn_blocking(move || {
                let mut groups = groups;
                for chunk in &chunks {
                    for contact in replica.stored_contacts(&searcher, chunk)? {
                        groups.fit(&contact, &fields);
                    }
                }
                Ok::<_, tantivy::TantivyError>(groups)
            })
            .await;
            match counted {
                Ok(Ok(groups)) => Format::Google(groups),
                Ok(Err(error)) => return failure(anyhow::anyhow!("export count: {error}").into()),
                Err(error) => return failure(anyhow::anyhow!("export count: {error}").into()),
            }
        }
        format => format,
    };
    let header = match format {
        Format::Csv | Format::Google(_) | Format::Outlook => Some(Ok(Bytes::from(render(
            format,
            &[],
            &fields,
            &HashMap::new(),
            true,
        )))),
        Format::Vcard | Format::Vcard3 => None,
    };
    let replica = published.replica.clone();
    let db = reads;
    let body = futures_util::StreamExt::then(futures_util::stream::iter(chunks), move |chunk| {
        let replica = replica.clone();
        let searcher = searcher.clone();
        let fields = fields.clone();
        let _downloading = &slot;
        let db = db.clone();
        async move {
            let failed = |error: &dyn std::fmt::Display| {
                tracing::error!(%error, "export failed mid-way");
                std::io::Error::other("export failed")
            };
            let contacts =
                tokio::task::spawn_blocking(move || replica.stored_contacts(&searcher, &chunk))
                    .await
                    .map_err(|e| failed(&e))?
                    .map_err(|e| failed(&e))?;
            let photos = photos_of(&db, format, &contacts)
                .await
                .map_err(|e| failed(&e))?;
            let rendered = tokio::task::spawn_blocking(move || {
                render(format, &contacts, &fields, &photos, false)
            })
            .await
            .map_err(|e| failed(&e))?;
            Ok(Bytes::from(rendered))
        }
    });
    download(
        format,
        futures_util::StreamExt::chain(futures_util::stream::iter(header), body),
    )
}

/// Contacts as CSV records (after the header, if `header`) or vCards.
fn render(
    format: Format,
    contacts: &[IndexedContact],
    fields: &[CustomField],
    photos: &HashMap<String, Vec<u8>>,
    header: bool,
) -> Vec<u8> {
    match format.vcard_version() {
        None => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            if header {
                let _ = match format {
                    Format::Google(groups) => writer.write_record(groups.header()),
                    Format::Outlook => writer.write_record(export::outlook::HEADER),
                    _ => writer.write_record(export::csv_header(fields)),
                };
            }
            for contact in contacts {
                let _ = match format {
                    Format::Google(groups) => writer.write_record(groups.record(contact, fields)),
                    Format::Outlook => {
                        writer.write_record(export::outlook::record(contact, fields))
                    }
                    _ => writer.write_record(export::csv_record(contact, fields)),
                };
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
        Some(version) => contacts
            .iter()
            .map(|contact| {
                let photo = contact
                    .card
                    .photo
                    .as_ref()
                    .and_then(|hash| photos.get(hash))
                    .map(Vec::as_slice);
                export::vcard_with_photo(contact, fields, photo, version)
            })
            .collect::<String>()
            .into_bytes(),
    }
}

/// A streamed attachment.
fn download(
    format: Format,
    stream: impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
) -> Response {
    let (kind, name) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "roster-contacts.csv"),
        Format::Google(_) => ("text/csv; charset=utf-8", "roster-contacts-google.csv"),
        Format::Outlook => ("text/csv; charset=utf-8", "roster-contacts-outlook.csv"),
        Format::Vcard | Format::Vcard3 => ("text/vcard; charset=utf-8", "roster-contacts.vcf"),
    };
    // Fused: a body may be polled again after its end (the compression layer does),
    // which a plain stream need not allow (`unfold` panics).
    let mut response = Body::from_stream(futures_util::StreamExt::fuse(stream)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // The directory's contents: never kept by a browser or a proxy.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
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
    let fields = match custom_fields::all(&state.db).await {
        Ok(fields) => fields,
        Err(error) => return failure(error),
    };
    let name = contact.card.name.clone();
    let contact = [IndexedContact::from(contact)];
    let photos = match photos_of(&state.db, Format::Vcard, &contact).await {
        Ok(photos) => photos,
        Err(error) => return failure(error),
    };
    let card = render(Format::Vcard, &contact, &fields, &photos, true);
    // An ASCII name for every client, and the real one for those that read RFC 5987.
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let encoded = crate::domain::search::encode_component(&name);
    (
        [
            (header::CONTENT_TYPE, "text/vcard; charset=utf-8".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}.vcf\"; filename*=UTF-8''{encoded}.vcf"),
            ),
        ],
        card,
    )
        .into_response()
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
