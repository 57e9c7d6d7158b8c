-- Editing the directory: soft deletion and the audit log.
--
-- A deleted contact keeps its row, with `deleted_at` set: it leaves the directory and
-- search at once (the update takes a new change stamp, and followers treat a deleted
-- row as a deletion) and can be restored from its history for 30 days. After that a
-- purge removes it for good, which leaves a tombstone like any hard delete.

ALTER TABLE contacts ADD COLUMN deleted_at timestamptz;

-- Every query of the live directory says `deleted_at IS NULL`; these partial indexes
-- serve exactly those queries, and the deleted rows stay out of them.
DROP INDEX contacts_created_at_idx;
CREATE INDEX contacts_created_at_idx ON contacts (created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

-- One live contact per email address, whatever its case. A deleted contact does not
-- hold on to its address; restoring it while another contact has taken the address
-- is refused with a message saying which.
DROP INDEX contacts_email_key;
CREATE UNIQUE INDEX contacts_email_key ON contacts (lower(email))
    WHERE email IS NOT NULL AND deleted_at IS NULL;

-- Possible duplicates: the same phone number (by its digits).
CREATE INDEX contacts_phone_digits_idx ON contacts (regexp_replace(phone, '\D', '', 'g'))
    WHERE phone IS NOT NULL AND deleted_at IS NULL;

-- Possible duplicates: a close name at the same company (compared in the application).
CREATE INDEX contacts_company_lower_idx ON contacts (lower(company))
    WHERE company IS NOT NULL AND deleted_at IS NULL;

-- The recently deleted, newest first, for the page that lists them.
CREATE INDEX contacts_deleted_at_idx ON contacts (deleted_at DESC)
    WHERE deleted_at IS NOT NULL;

-- Every change to a contact, written in the same transaction as the change itself, so
-- the log can never miss a change nor record one that did not happen.
CREATE TABLE audit_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    -- Who: the signed-in user's name; NULL until accounts exist (and for the command line).
    actor       text,
    -- From where: the client's address and the request's id (as in the server's log);
    -- NULL for changes made from the command line.
    ip          inet,
    request_id  text,
    action      text        NOT NULL CHECK (action IN
                    ('create', 'update', 'delete', 'restore', 'merge', 'bulk', 'import')),
    contact_id  uuid        NOT NULL,
    -- The contact's version after the change.
    version     integer,
    -- Field-level diff: {"field": {"old": …, "new": …}} (a create has only "new").
    changes     jsonb       NOT NULL DEFAULT '{}',
    -- What else the action needs to explain itself: the merged-away contact, the bulk
    -- action and how many it touched, the import job.
    details     jsonb
);

-- A contact's History tab, newest first.
CREATE INDEX audit_log_contact_idx ON audit_log (contact_id, id DESC);

-- A refused form, kept for the browser without JavaScript: the server answers a
-- refused post by redirecting back to the form with this row's id, and the form page
-- shows the input and the reasons (again on a reload). Rows older than an hour are
-- removed as new ones are written; the random id is the only way to read one.
CREATE TABLE form_drafts (
    id          uuid        PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    payload     jsonb       NOT NULL
);
CREATE INDEX form_drafts_created_at_idx ON form_drafts (created_at);
