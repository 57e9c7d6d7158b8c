-- The rich contact (issue 25, first part): name parts, labelled lists and dates.
--
-- The lists live on the contact's row as JSON arrays, not in tables of their own: a
-- contact is read, edited, versioned, audited and sent to the search index as one
-- thing, so its row stays the unit of change (the change feed, optimistic concurrency
-- and "nothing half-written" all hold without joins). Each list is ordered and its
-- first entry is the primary one. The application validates every entry (domain/card.rs);
-- the CHECKs here bound what any client can store.
--
-- Entries are JSON objects:
--   emails      {"label"?, "value"}                       value: the address as typed
--   phones      {"label"?, "value", "e164"?}              value as typed; e164 when the
--                                                          number reads as one
--   addresses   {"label"?, "street"?, "extended"?, "city"?, "region"?, "postal_code"?,
--                "country"?}                               country: ISO 3166-1 alpha-2
--   links, ims  {"label"?, "value"}                       ims: label is the service
--   dates       {"label"?, "value"}                       value: YYYY-MM-DD or --MM-DD
-- A missing label means none was given.
--
-- Finding a contact by any of its emails or phones (duplicates, one live contact per
-- email, imports matching rows) reads `contact_keys`, which a trigger keeps equal to
-- the live contacts' entries, so no code path can forget it.

CREATE FUNCTION contact_list_ok(list jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS
    $$ SELECT jsonb_typeof(list) = 'array' AND jsonb_array_length(list) <= 20
              AND octet_length(list::text) <= 32768 $$;

ALTER TABLE contacts
    ADD COLUMN name_prefix     text CHECK (name_prefix <> '' AND length(name_prefix) <= 100),
    ADD COLUMN given_name      text CHECK (given_name <> '' AND length(given_name) <= 100),
    ADD COLUMN middle_name     text CHECK (middle_name <> '' AND length(middle_name) <= 100),
    ADD COLUMN family_name     text CHECK (family_name <> '' AND length(family_name) <= 100),
    ADD COLUMN name_suffix     text CHECK (name_suffix <> '' AND length(name_suffix) <= 100),
    ADD COLUMN nickname        text CHECK (nickname <> '' AND length(nickname) <= 100),
    ADD COLUMN phonetic_given  text CHECK (phonetic_given <> '' AND length(phonetic_given) <= 100),
    ADD COLUMN phonetic_family text CHECK (phonetic_family <> '' AND length(phonetic_family) <= 100),
    ADD COLUMN pronouns        text CHECK (pronouns <> '' AND length(pronouns) <= 100),
    -- Sorting by "Ada Lovelace" (given) or "Lovelace Ada" (family).
    ADD COLUMN file_as         text NOT NULL DEFAULT 'given' CHECK (file_as IN ('given', 'family')),
    ADD COLUMN emails          jsonb NOT NULL DEFAULT '[]' CHECK (contact_list_ok(emails)),
    ADD COLUMN phones          jsonb NOT NULL DEFAULT '[]' CHECK (contact_list_ok(phones)),
    ADD COLUMN addresses       jsonb NOT NULL DEFAULT '[]' CHECK (contact_list_ok(addresses)),
    ADD COLUMN links           jsonb NOT NULL DEFAULT '[]' CHECK (contact_list_ok(links)),
    ADD COLUMN ims             jsonb NOT NULL DEFAULT '[]' CHECK (contact_list_ok(ims)),
    ADD COLUMN dates           jsonb NOT NULL DEFAULT '[]' CHECK (contact_list_ok(dates)),
    -- YYYY-MM-DD, or --MM-DD when the year is not known (as vCard writes it).
    ADD COLUMN birthday        text CHECK (birthday ~ '^(\d{4}|-)-\d{2}-\d{2}$'),
    ADD COLUMN department      text CHECK (department <> '' AND length(department) <= 200);

-- The old single values become the first (primary) entries, unlabelled: nothing is
-- guessed and nothing is lost. A location was free text, so it becomes the city of
-- the contact's first address, verbatim.
ALTER TABLE contacts DISABLE TRIGGER contacts_stamp;
UPDATE contacts SET
    emails    = CASE WHEN email IS NULL THEN '[]'
                     ELSE jsonb_build_array(jsonb_build_object('value', email)) END,
    phones    = CASE WHEN phone IS NULL THEN '[]'
                     ELSE jsonb_build_array(jsonb_build_object('value', phone)) END,
    addresses = CASE WHEN location IS NULL THEN '[]'
                     ELSE jsonb_build_array(jsonb_build_object('city', location)) END
WHERE email IS NOT NULL OR phone IS NOT NULL OR location IS NOT NULL;
ALTER TABLE contacts ENABLE TRIGGER contacts_stamp;

-- The indexes on the old columns go with them.
ALTER TABLE contacts DROP COLUMN email, DROP COLUMN phone, DROP COLUMN location;

-- The upcoming-birthdays panel: month and day as one number (415 for 15 April).
CREATE FUNCTION contact_month_day(birthday text) RETURNS smallint LANGUAGE sql IMMUTABLE AS
    $$ SELECT (substr(birthday, length(birthday) - 4, 2)::int * 100
               + right(birthday, 2)::int)::smallint $$;
CREATE INDEX contacts_birthday_idx ON contacts (contact_month_day(birthday))
    WHERE birthday IS NOT NULL AND deleted_at IS NULL;

-- Every email (lowercase) and phone (E.164, else its digits) of every live contact.
CREATE TABLE contact_keys (
    contact_id uuid NOT NULL REFERENCES contacts ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('email', 'phone')),
    key        text NOT NULL,
    PRIMARY KEY (kind, key, contact_id)
);
-- One live contact per email address, whatever its case and wherever in its list.
CREATE UNIQUE INDEX contact_keys_email_key ON contact_keys (key) WHERE kind = 'email';
CREATE INDEX contact_keys_contact_idx ON contact_keys (contact_id);

CREATE FUNCTION contact_phone_key(phone jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS
    $$ SELECT coalesce(phone->>'e164', regexp_replace(split_part(lower(phone->>'value'), 'x', 1), '\D', '', 'g')) $$;

INSERT INTO contact_keys (contact_id, kind, key)
    SELECT id, 'email', lower(e->>'value')
      FROM contacts, jsonb_array_elements(emails) e WHERE deleted_at IS NULL
    ON CONFLICT DO NOTHING;
INSERT INTO contact_keys (contact_id, kind, key)
    SELECT DISTINCT id, 'phone', contact_phone_key(p)
      FROM contacts, jsonb_array_elements(phones) p
     WHERE deleted_at IS NULL AND contact_phone_key(p) <> '';

CREATE FUNCTION contacts_write_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.emails IS NOT DISTINCT FROM OLD.emails AND NEW.phones IS NOT DISTINCT FROM OLD.phones
           AND (NEW.deleted_at IS NULL) = (OLD.deleted_at IS NULL) THEN
            RETURN NULL;
        END IF;
        DELETE FROM contact_keys WHERE contact_id = NEW.id;
    END IF;
    IF NEW.deleted_at IS NULL THEN
        INSERT INTO contact_keys (contact_id, kind, key)
            SELECT DISTINCT NEW.id, 'email', lower(e->>'value') FROM jsonb_array_elements(NEW.emails) e;
        INSERT INTO contact_keys (contact_id, kind, key)
            SELECT DISTINCT NEW.id, 'phone', contact_phone_key(p) FROM jsonb_array_elements(NEW.phones) p
             WHERE contact_phone_key(p) <> '';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER contacts_keys AFTER INSERT OR UPDATE ON contacts
    FOR EACH ROW EXECUTE FUNCTION contacts_write_keys();
