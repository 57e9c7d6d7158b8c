-- How the columns of a CSV file were read, remembered by its header: the next file
-- with the same header (the same program's next export) is read the same way.
CREATE TABLE import_mappings (
    -- md5 of the headers, each followed by a unit separator: a key of fixed width for
    -- a header line of up to 64 KB.
    headers_md5 text PRIMARY KEY,
    mapping jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
