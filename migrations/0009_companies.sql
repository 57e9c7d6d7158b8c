-- Companies as records (issue 25): a name, a web domain, an address and notes, with
-- the people who work there.
--
-- A contact names its company by `company_id`; `contacts.company` keeps the company's
-- name beside it (written in the same transaction as the link, and as a rename), so
-- the contact's row still holds everything the search index, the change feed and an
-- export read, and a rename re-stamps its people for the followers.
--
-- One company per name, whatever its case and spacing: "ACME  inc" and "Acme Inc" are
-- the same company.

CREATE FUNCTION company_key(name text) RETURNS text LANGUAGE sql IMMUTABLE AS
    $$ SELECT lower(regexp_replace(btrim(name), '\s+', ' ', 'g')) $$;

CREATE TABLE companies (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    -- A web domain such as example.com (lowercase, no scheme).
    domain      text        CHECK (domain <> '' AND length(domain) <= 253),
    -- One postal address, as a contact's address entries are written.
    address     jsonb       CHECK (address IS NULL OR jsonb_typeof(address) = 'object'),
    notes       text        CHECK (notes <> '' AND length(notes) <= 10000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX companies_name_key ON companies (company_key(name));
-- Autocomplete: names by prefix.
CREATE INDEX companies_name_prefix_idx ON companies (company_key(name) text_pattern_ops);

ALTER TABLE contacts ADD COLUMN company_id uuid REFERENCES companies ON DELETE SET NULL;
CREATE INDEX contacts_company_id_idx ON contacts (company_id) WHERE company_id IS NOT NULL;

-- Every free-text company becomes a record, named by its most common spelling (then
-- the earliest); each contact is linked to its company and takes that spelling.
INSERT INTO companies (name)
SELECT DISTINCT ON (company_key(company)) company
  FROM (SELECT company, count(*) AS uses, min(created_at) AS first
          FROM contacts WHERE company IS NOT NULL GROUP BY company) AS spellings
 ORDER BY company_key(company), uses DESC, first, company;

ALTER TABLE contacts DISABLE TRIGGER contacts_stamp;
UPDATE contacts AS c SET company_id = k.id, company = k.name
  FROM companies AS k
 WHERE c.company IS NOT NULL AND company_key(c.company) = company_key(k.name);
ALTER TABLE contacts ENABLE TRIGGER contacts_stamp;

-- Every write naming a company links it, whichever code path writes (a form, an
-- import, a merge, a bulk change, the seed, a hand-written UPDATE): the company is
-- found by its key, or created, and the contact takes its name as the record spells it.
CREATE FUNCTION contacts_link_company() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.company IS NULL THEN
        NEW.company_id := NULL;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.company_id IS NOT NULL
       AND company_key(NEW.company) = company_key(OLD.company)
       AND NEW.company_id IS NOT DISTINCT FROM OLD.company_id THEN
        SELECT name INTO NEW.company FROM companies WHERE id = NEW.company_id;
        RETURN NEW;
    END IF;
    INSERT INTO companies (name) VALUES (btrim(NEW.company))
        ON CONFLICT (company_key(name)) DO NOTHING;
    SELECT id, name INTO NEW.company_id, NEW.company
      FROM companies WHERE company_key(name) = company_key(NEW.company);
    RETURN NEW;
END $$;
CREATE TRIGGER contacts_company BEFORE INSERT OR UPDATE OF company ON contacts
    FOR EACH ROW EXECUTE FUNCTION contacts_link_company();
