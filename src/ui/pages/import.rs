//! `/import`: choose a file; `/import/{id}`: check what it will do (and change how its
//! columns map), commit it, and watch it run. Every step is a plain form post; while
//! the job runs, its progress is an island that follows it (without JavaScript the page
//! reloads itself).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::{
        custom_fields::custom_fields,
        import::{RemapImport, StartImport, get_import_job, recent_imports},
    },
    domain::{
        Field,
        columns::{self, Guess, Layout, Slot},
        custom::CustomField,
        format,
        import::{
            ImportCounts, ImportJob, ImportStatus, MAX_IMPORT_MB, PossibleDuplicate, SkippedRow,
        },
    },
    error::AppError,
    ui::{
        action_url,
        components::ErrorNotice,
        islands::{ImportProgress, import_progress::ProgressDetail},
    },
};

const TOO_LARGE: &str =
    "The file is larger than 200 MB. Split it into smaller files and import each.";
const _: () = assert!(MAX_IMPORT_MB == 200, "TOO_LARGE names the cap");

#[component]
pub fn ImportPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        query.with(|query| {
            query.get("error").map(|code| match code.as_str() {
                "too-large" => TOO_LARGE,
                "empty" => "The file is empty.",
                "too-wide" => "The file's first line names more than 500 columns or is longer than 64 KB: this does not look like a contacts file.",
                "too-slow" => "Checking the file took too long. Split it into smaller files and import each.",
                "too-many-rows" => "The file has more rows than Roster imports at once. Split it into smaller files and import each.",
                "no-file" => "Choose a file to import.",
                "charset" => "Roster does not know that character set. Choose one from the list, or let Roster detect it.",
                "unreadable" => "The file could not be read as CSV or vCard. Check that its first line names the columns.",
                "interrupted" => "The upload was interrupted. Please try again.",
                "unavailable" => "Roster is temporarily unavailable. Please try again in a moment.",
                _ => "The import could not be prepared. Please try again.",
            })
        })
    };
    view! {
        <Title text="Import contacts" />
        <p class="back"><a href="/">"← Directory"</a></p>
        <h1>"Import contacts"</h1>
        <section class="import-intro">
            <p>
                {format!("Upload a CSV file (up to {MAX_IMPORT_MB} MB) whose first line names the columns — Name, Email, Phone, Company, Title, Location, Tier, Tags, Notes, or the names other apps use, as Google Contacts, Outlook and LinkedIn export them — or a vCard (.vcf) file.")}
            </p>
            <p class="muted">
                "Nothing changes yet: you will see what the import would do, and can fix how columns are read, before committing. Rows with an email address you already have update that contact instead of adding a second one."
            </p>
            {move || error().map(|message| view! { <div class="notice notice-error" role="alert">{message}</div> })}
            <form class="upload-form" method="post" action="/import/upload" enctype="multipart/form-data">
                <label for="import-charset">"Character set"</label>
                <select id="import-charset" name="charset">
                    <option value="auto" selected>"Detect (UTF-8, UTF-16 or Windows-1252)"</option>
                    <option value="utf-8">"UTF-8"</option>
                    <option value="utf-16le">"UTF-16 (Windows “Unicode”)"</option>
                    <option value="utf-16be">"UTF-16 big-endian"</option>
                    <option value="windows-1252">"Windows-1252 / ISO-8859-1 (Western)"</option>
                    <option value="iso-8859-15">"ISO-8859-15 (Western, with €)"</option>
                    <option value="windows-1250">"Windows-1250 (Central European)"</option>
                    <option value="windows-1251">"Windows-1251 (Cyrillic)"</option>
                    <option value="macintosh">"Mac OS Roman"</option>
                    <option value="shift_jis">"Shift_JIS (Japanese)"</option>
                    <option value="gb18030">"GB18030 (Chinese)"</option>
                    <option value="big5">"Big5 (Traditional Chinese)"</option>
                    <option value="euc-kr">"EUC-KR (Korean)"</option>
                </select>
                <label for="import-file">"File"</label>
                <input id="import-file" type="file" name="file" accept=".csv,.tsv,.txt,.vcf,text/csv,text/vcard" required />
                <button type="submit" class="primary">"Check file"</button>
            </form>
        </section>
        <RecentImports />
    }
}

/// The latest imports, to go back to one.
#[component]
fn RecentImports() -> impl IntoView {
    let jobs = Resource::new(|| (), |_| recent_imports());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match jobs.await {
                    Ok(jobs) if !jobs.is_empty() => view! {
                        <section class="recent-imports">
                            <h2>"Recent imports"</h2>
                            <table class="changes">
                                <thead><tr>
                                    <th scope="col">"File"</th>
                                    <th scope="col">"Started"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Rows"</th>
                                </tr></thead>
                                <tbody>
                                    {jobs.into_iter().map(|job| {
                                        let status = match job.status {
                                            ImportStatus::Ready => "Checked, not committed".to_owned(),
                                            ImportStatus::Running => format!("Running · {}%", job.percent()),
                                            ImportStatus::Done => "Done".to_owned(),
                                            ImportStatus::Failed => "Failed".to_owned(),
                                        };
                                        view! {
                                            <tr>
                                                <td><a href=format!("/import/{}", job.id)>{job.file_name}</a></td>
                                                <td>{format::date(job.created_at_micros)}</td>
                                                <td>{status}</td>
                                                <td>{format::count(job.planned.rows)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }
                    .into_any(),
                    Ok(_) => ().into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn ImportJobPage() -> impl IntoView {
    let id = use_params_map().with_untracked(|params| params.get("id").unwrap_or_default());
    let job = Resource::new(move || id.clone(), get_import_job);
    view! {
        <Title text="Import" />
        <p class="back"><a href="/import">"← Import another file"</a></p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match job.await {
                    Ok(job) => view! { <JobView job /> }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <section class="message-page">
                            <h1>"Import not found"</h1>
                            <p>"There is no import at this address."</p>
                        </section>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn JobView(job: ImportJob) -> impl IntoView {
    let id = job.id.to_string();
    let heading = format!("Import of {}", job.file_name);
    let body = match job.status {
        ImportStatus::Ready => view! {
            <p class="lead">"Checked — nothing has changed yet. This is what the import will do:"</p>
            {job.charset.clone().map(|charset| {
                // "CSV", or whose export it is: "Google Contacts CSV".
                let kind = match (job.format, Layout::of(&job.mapping.headers).name()) {
                    (crate::domain::import::ImportFormat::Csv, Some(program)) => format!("{program} CSV"),
                    (format, _) => format.label().to_owned(),
                };
                view! { <p class="muted import-charset">{format!("Read as {charset} ({kind}).")}</p> }
            })}
            <Counts counts=job.planned.clone() final_report=false />
            <Mapping job=job.clone() />
            <SkippedRows title="Invalid rows (skipped)" rows=job.invalid_rows.clone() total=job.planned.invalid />
            <SkippedRows title="Repeated rows (skipped)" rows=job.duplicate_rows.clone() total=job.planned.duplicate />
            <PossibleDuplicates rows=job.possible_duplicates.clone() total=job.planned.possible_duplicate />
            <form method="post" action={action_url::<StartImport>()} class="start-form">
                <input type="hidden" name="id" value=id.clone() />
                <button type="submit" class="primary">
                    {format!(
                        "Import: create {}, update {}",
                        format::count(job.planned.create),
                        format::count(job.planned.update)
                    )}
                </button>
            </form>
        }
        .into_any(),
        ImportStatus::Running => view! {
            // Without JavaScript the page reloads itself while the job runs.
            <noscript><meta http-equiv="refresh" content="2" /></noscript>
            <ImportProgress job=job.clone() />
        }
        .into_any(),
        ImportStatus::Done => view! {
            <div class="import-progress" role="status">
                <ProgressDetail job=job.clone() />
            </div>
            <p class="lead">"Done. The directory and search include every imported contact."</p>
            <Counts counts=job.done.clone() final_report=true />
            <SkippedRows title="Invalid rows (skipped)" rows=job.invalid_rows.clone() total=job.done.invalid />
            <SkippedRows title="Repeated rows (skipped)" rows=job.duplicate_rows.clone() total=job.done.duplicate />
            <p><a class="button primary" href="/">"Open the directory"</a></p>
        }
        .into_any(),
        ImportStatus::Failed => view! {
            <div class="notice notice-error" role="alert">
                {job.error.clone().unwrap_or_else(|| "The import failed.".to_owned())}
            </div>
            <Counts counts=job.done.clone() final_report=true />
        }
        .into_any(),
    };
    view! {
        <h1>{heading}</h1>
        {body}
    }
}

#[component]
fn Counts(counts: ImportCounts, final_report: bool) -> impl IntoView {
    let (create, update) = if final_report {
        ("Created", "Updated")
    } else {
        ("To create", "To update")
    };
    let rows = [
        ("Rows", counts.rows),
        (create, counts.create),
        (update, counts.update),
        ("Unchanged", counts.unchanged),
        ("Repeated (skipped)", counts.duplicate),
        ("Invalid (skipped)", counts.invalid),
    ];
    view! {
        <dl class="import-counts">
            {rows
                .into_iter()
                .map(|(label, n)| view! {
                    <div><dt>{label}</dt><dd>{format::count(n)}</dd></div>
                })
                .collect_view()}
        </dl>
    }
}

/// Each column of the file and the field it fills (a custom field too), editable
/// before commit.
#[component]
fn Mapping(job: ImportJob) -> impl IntoView {
    let custom = Resource::new(|| (), |_| custom_fields());
    let editable = job.format == crate::domain::import::ImportFormat::Csv;
    let mapping = StoredValue::new(job.mapping.clone());
    let layout = Layout::of(&job.mapping.headers);
    let rows = move |mapping: &crate::domain::import::ColumnMapping, live: Vec<CustomField>| {
        mapping
            .headers
            .iter()
            .enumerate()
            .map(|(i, header)| {
                let select_id = format!("column-{i}");
                let target = mapping.target_name(i);
                // Parts of entries offered for this column: what its header means, the
                // column kept as other data, and the part chosen before, each once.
                let mut parts: Vec<(String, String)> = Vec::new();
                let guessed = match columns::guess(header, layout) {
                    Guess::Slot(field, slot) => Some((field, slot)),
                    _ => None,
                };
                let chosen = Slot::from_target(&target);
                for (field, slot) in guessed
                    .into_iter()
                    .chain((editable && !header.trim().is_empty()).then(|| (Field::Extras, Slot::kept(header))))
                    .chain(chosen)
                {
                    let value = slot.target(field);
                    if !parts.iter().any(|(v, _)| *v == value) {
                        parts.push((value, slot.describe(field)));
                    }
                }
                let header = if header.is_empty() { format!("Column {}", i + 1) } else { header.clone() };
                view! {
                    <tr>
                        <th scope="row"><label for=select_id.clone()>{header}</label></th>
                        <td>
                            <select id=select_id name=format!("fields[{i}]") disabled=!editable>
                                <option value="" selected=target.is_empty()>"— ignore —"</option>
                                {parts.into_iter().map(|(value, label)| {
                                    let selected = target == value;
                                    view! { <option value=value selected=selected>{label}</option> }
                                }).collect_view()}
                                {Field::ALL
                                    .into_iter()
                                    .chain([Field::Extras])
                                    .map(|f| view! {
                                        <option value=f.as_str() selected=target == f.as_str()>{f.label()}</option>
                                    })
                                    .collect_view()}
                                {live.iter().filter(|f| !f.retired).map(|f| {
                                    let value = format!("custom.{}", f.id);
                                    let selected = target == value;
                                    view! { <option value=value selected=selected>{f.name.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    let rows = move || {
        Suspend::new(async move {
            let live = custom.await.unwrap_or_default();
            mapping.with_value(|mapping| rows(mapping, live))
        })
    };
    view! {
        <section class="mapping">
            <h2>"Columns"</h2>
            {job.mapping.remembered.then(|| view! {
                <p class="muted">"Read as you set the columns for an earlier file with the same header."</p>
            })}
            <form method="post" action={action_url::<RemapImport>()}>
                <input type="hidden" name="id" value=job.id.to_string() />
                <table class="mapping-table">
                    <thead><tr><th scope="col">"Column in the file"</th><th scope="col">"Roster field"</th></tr></thead>
                    <tbody><Suspense fallback=|| ()>{rows}</Suspense></tbody>
                </table>
                {editable.then(|| view! {
                    <button type="submit" class="secondary">"Check again with these columns"</button>
                })}
            </form>
        </section>
    }
}

#[component]
fn SkippedRows(title: &'static str, rows: Vec<SkippedRow>, total: u64) -> impl IntoView {
    if rows.is_empty() {
        return ().into_any();
    }
    let more = total.saturating_sub(rows.len() as u64);
    view! {
        <section class="skipped">
            <h2>{format!("{title}: {}", format::count(total))}</h2>
            <table class="changes">
                <thead><tr><th scope="col">"Line"</th><th scope="col">"Reason"</th></tr></thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| view! { <tr><td>{row.line}</td><td>{row.reason}</td></tr> })
                        .collect_view()}
                </tbody>
            </table>
            {(more > 0).then(|| view! { <p class="muted">{format!("… and {} more.", format::count(more))}</p> })}
        </section>
    }
    .into_any()
}

/// Rows that will be created although they may be contacts already there.
#[component]
fn PossibleDuplicates(rows: Vec<PossibleDuplicate>, total: u64) -> impl IntoView {
    if rows.is_empty() {
        return ().into_any();
    }
    let more = total.saturating_sub(rows.len() as u64);
    view! {
        <section class="skipped possible-duplicates">
            <h2>{format!("Possible duplicates (will be created): {}", format::count(total))}</h2>
            <p class="muted">"Check these before importing: each has the same phone number, or the same name at the same company, as a contact you have. Remove the rows from the file if they are the same person."</p>
            <table class="changes">
                <thead><tr><th scope="col">"Line"</th><th scope="col">"Row"</th><th scope="col">"May be"</th></tr></thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| view! {
                            <tr>
                                <td>{row.line}</td>
                                <td>{row.name}</td>
                                <td>
                                    <a href=format!("/contacts/{}", row.existing)>{row.existing_name}</a>
                                    <span class="muted">{format!(" ({})", row.reason)}</span>
                                </td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
            {(more > 0).then(|| view! { <p class="muted">{format!("… and {} more.", format::count(more))}</p> })}
        </section>
    }
    .into_any()
}
