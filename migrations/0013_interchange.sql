-- What a contact's vCard carried that Roster has no field of its own for (issue 26):
-- a gender, a time zone, a key, a program's own `X-` properties, a second birthday…
-- Each is one unfolded vCard 4.0 content line as the import read it
-- (`X-MS-OL-DESIGN;CHARSET=utf-8:<card …>`, `GENDER:F`), kept in the file's order
-- and written back as it is by every vCard export, so a contact imported from another
-- program and exported again loses nothing. The form does not edit them; an edit keeps
-- them, a merge unites them, the contact page lists them.

ALTER TABLE contacts ADD COLUMN extras text[] NOT NULL DEFAULT '{}';

-- The character set an import file was read in (detected from its byte-order mark or
-- its bytes, or chosen at upload: `UTF-8`, `UTF-16LE`, `windows-1252`…, as the
-- WHATWG Encoding Standard names them). The stored file is its UTF-8 text; this says
-- what it was converted from. Jobs made before this column were UTF-8 or Latin-1 read
-- row by row, as then.
ALTER TABLE import_jobs ADD COLUMN charset text
    CHECK (charset IS NULL OR length(charset) <= 40);
