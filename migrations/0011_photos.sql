-- Contact photos (issue 25). An uploaded photo is decoded and re-encoded by the server
-- (so nothing of the file as received is kept: no EXIF, no GPS position, no trailing
-- data) as square JPEGs of fixed sizes, and named by the hash of the large one: the
-- name of a photo's content, served under `/photos/{hash}-{size}.jpg` with a cache
-- lifetime of a year, as it can never change.
--
-- A photo is stored when its form is posted, before the contact is saved (a refused
-- form keeps it for the next try), so `contacts.photo` is not a foreign key: a photo
-- no contact names is swept after a day, and a purged contact's photo goes with it
-- unless another contact shows the same picture.

CREATE TABLE photos (
    hash        text        NOT NULL CHECK (hash ~ '^[0-9a-f]{32}$'),
    size        smallint    NOT NULL CHECK (size IN (96, 384)),
    bytes       bytea       NOT NULL CHECK (length(bytes) <= 1048576),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hash, size)
);

ALTER TABLE contacts ADD COLUMN photo text CHECK (photo ~ '^[0-9a-f]{32}$');
CREATE INDEX contacts_photo_idx ON contacts (photo) WHERE photo IS NOT NULL;
