-- The change feed: how every server process keeps its local search index in step with
-- Postgres.
--
-- Each write to `contacts` stamps the rows it touches with the next value of
-- `contact_change_seq`, in the same transaction; a deleted row leaves a tombstone
-- stamped the same way. A follower remembers the highest stamp it has applied and
-- asks for everything above it.
--
-- A sequence alone is not enough: two transactions can take 100 and 101 and commit in
-- the opposite order, so a follower that read 101 would never see 100. Writers to
-- `contacts` therefore take one transaction-scoped advisory lock (in a statement
-- trigger, so no code path can forget it) before taking stamps, and hold it until
-- they commit: stamps become visible in stamp order, and "everything above N" never
-- skips a row. Contact edits are short transactions, so serializing them costs little;
-- imports write in batches to keep their hold short.
--
-- The sequence (unlike a transaction id) survives pg_dump and pg_restore, so a
-- restored database continues its feed where the backup left it.

CREATE SEQUENCE contact_change_seq AS bigint;

-- Existing rows get stamps in the order they were created.
ALTER TABLE contacts ADD COLUMN change_seq bigint;
UPDATE contacts SET change_seq = nextval('contact_change_seq')
    FROM (SELECT id FROM contacts ORDER BY created_at, id) AS ordered
    WHERE contacts.id = ordered.id;
ALTER TABLE contacts ALTER COLUMN change_seq SET DEFAULT nextval('contact_change_seq'),
                     ALTER COLUMN change_seq SET NOT NULL;
CREATE INDEX contacts_change_seq_idx ON contacts (change_seq);

-- Rows removed with DELETE. Soft deletion (a later migration) is an update and needs
-- none; this catches hard deletes, including ones made by hand.
CREATE TABLE contact_tombstones (
    id          uuid        NOT NULL,
    change_seq  bigint      NOT NULL DEFAULT nextval('contact_change_seq') PRIMARY KEY,
    deleted_at  timestamptz NOT NULL DEFAULT now()
);

-- The number of the lock that orders contact writes (any constant; named here once).
CREATE FUNCTION contact_write_lock() RETURNS void LANGUAGE sql AS
    $$ SELECT pg_advisory_xact_lock(7626101) $$;

CREATE FUNCTION contacts_before_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM contact_write_lock();
    RETURN NULL;
END $$;

-- Updates take a new stamp (inserts get theirs from the column default, taken after
-- the statement trigger has the lock).
CREATE FUNCTION contacts_stamp_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := nextval('contact_change_seq');
    RETURN NEW;
END $$;

CREATE FUNCTION contacts_record_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contact_tombstones (id) VALUES (OLD.id);
    RETURN OLD;
END $$;

-- Wakes followers; Postgres delivers it at commit, once per transaction.
CREATE FUNCTION contacts_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('contacts_changed', '');
    RETURN NULL;
END $$;

CREATE TRIGGER contacts_lock BEFORE INSERT OR UPDATE OR DELETE ON contacts
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_before_write();
CREATE TRIGGER contacts_stamp BEFORE UPDATE ON contacts
    FOR EACH ROW EXECUTE FUNCTION contacts_stamp_update();
CREATE TRIGGER contacts_tombstone AFTER DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION contacts_record_delete();
CREATE TRIGGER contacts_notify AFTER INSERT OR UPDATE OR DELETE ON contacts
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_notify();

-- TRUNCATE bypasses row triggers; forbid it rather than let indexes silently diverge.
CREATE FUNCTION contacts_forbid_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'TRUNCATE on contacts would bypass the change feed; DELETE instead';
END $$;
CREATE TRIGGER contacts_no_truncate BEFORE TRUNCATE ON contacts
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_forbid_truncate();

-- Identifies this directory's data, so an index built from one database is never
-- taken for another's (a test database, a different server). Copied by pg_dump, which
-- is right: a restored database holds the same contacts and the same feed.
CREATE TABLE directory (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    id          uuid    NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO directory DEFAULT VALUES;
