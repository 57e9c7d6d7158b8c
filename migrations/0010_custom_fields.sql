-- Custom fields (issue 25): fields an admin defines for every contact (`/admin/fields`),
-- such as "Shirt size" (single choice), "Met at" (date) or "Board member" (checkbox).
--
-- A definition is named by a number that never changes, and a contact's values are
-- kept under that number (`contacts.custom`, `{"3": {"choice": "M"}}`), so renaming a
-- field or reordering the list touches no contact, and retiring one only hides it:
-- its values stay on every contact (and in exports), and come back if it is restored.
-- A field's kind never changes once defined, so a stored value is always of its
-- field's kind; each value is stored typed, as `{kind: value}`, and was checked
-- against its field (a choice among the field's options, a number, a real date…) by
-- `Card::parse_custom` before it was written.

CREATE TABLE custom_fields (
    id          integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 60),
    kind        text        NOT NULL CHECK (kind IN
                    ('text', 'number', 'date', 'choice', 'choices', 'checkbox', 'url')),
    -- The options of a choice field, in the order offered; empty for the other kinds.
    options     jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(options) = 'array'),
    -- The order of the form and the contact page (lowest first).
    position    integer     NOT NULL,
    retired_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Two live fields cannot share a name (whatever its case), so a CSV column or a
-- bulk change names one field.
CREATE UNIQUE INDEX custom_fields_name_key ON custom_fields (lower(btrim(name)))
    WHERE retired_at IS NULL;

ALTER TABLE contacts ADD COLUMN custom jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(custom) = 'object');
