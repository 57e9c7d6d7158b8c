-- Imports: a file of contacts checked (a dry run), then committed in the background.
--
-- The file itself is kept here, in chunks, not on one server's disk: whichever
-- instance runs the job (or resumes it after a crash) can read it. A job is run by the
-- process holding a session advisory lock on it, so two instances never run the same
-- job, and a crashed runner's lock goes with its connection: the job is picked up
-- again at once by the next process that looks.
--
-- Progress is written in the transaction that applies each batch of rows, so after a
-- crash `done->>'rows'` says exactly how far the file has been applied, and the job
-- resumes from the next row: no row is applied twice or half-applied.

CREATE TABLE import_jobs (
    id              uuid        PRIMARY KEY,
    created_at      timestamptz NOT NULL DEFAULT now(),
    file_name       text        NOT NULL CHECK (length(file_name) <= 255),
    format          text        NOT NULL CHECK (format IN ('csv', 'vcard')),
    size_bytes      bigint      NOT NULL CHECK (size_bytes >= 0),
    status          text        NOT NULL CHECK (status IN ('ready', 'running', 'done', 'failed')),
    -- The file's headers and the field each fills (editable before commit).
    mapping         jsonb       NOT NULL,
    -- Counts from the dry run, and from the commit so far (rows, create, update,
    -- unchanged, duplicate, invalid).
    planned         jsonb       NOT NULL DEFAULT '{}',
    done            jsonb       NOT NULL DEFAULT '{}',
    -- The rows skipped, with line numbers and reasons (the first thousand of each kind).
    invalid_rows    jsonb       NOT NULL DEFAULT '[]',
    duplicate_rows  jsonb       NOT NULL DEFAULT '[]',
    -- Rows to create that may be contacts already there (same phone, or same name at
    -- the same company), with the contact each may be.
    possible_duplicates jsonb   NOT NULL DEFAULT '[]',
    started_at      timestamptz,
    finished_at     timestamptz,
    error           text,
    -- Who asked for it, for the audit entries it writes.
    actor           text,
    ip              inet,
    request_id      text
);

CREATE INDEX import_jobs_running_idx ON import_jobs (created_at) WHERE status = 'running';

CREATE TABLE import_chunks (
    job_id  uuid    NOT NULL REFERENCES import_jobs ON DELETE CASCADE,
    seq     integer NOT NULL,
    data    bytea   NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- Imported rows without an email address are matched by name and company, so that
-- importing the same file again updates them instead of adding them twice.
CREATE INDEX contacts_name_lower_idx ON contacts (lower(name)) WHERE deleted_at IS NULL;
