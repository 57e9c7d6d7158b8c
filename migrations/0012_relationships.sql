-- Relationships between people (issue 25): a contact's spouse, partner, manager,
-- assistant, child, parent… as an ordered, labelled list on the contact, like its
-- other lists: `[{"label": "manager", "value": "Ada Lovelace", "contact": "<uuid>"}]`.
-- `value` is the person's name as written; `contact` links the entry to that person's
-- own contact when the directory has them (the form links a name that one live
-- contact has, and keeps an entry's link while its name is unchanged). A person named
-- without a contact of their own stays a name, as in a phone's address book.
--
-- Each relationship is shown on both people's pages: the other page finds it by the
-- link, through this index (`related @> '[{"contact": "…"}]'`).

ALTER TABLE contacts ADD COLUMN related jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(related) = 'array');
CREATE INDEX contacts_related_idx ON contacts USING gin (related jsonb_path_ops);
