-- Accounts: who may read and change the directory.
--
-- Sessions are not here: they live in Redis (shared by every server instance) and
-- name the user they belong to. Disabling a user or changing their role ends their
-- sessions at once, so a session's role is always the user's current one.

CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    -- As typed at creation; unique whatever its case.
    email         text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    -- Argon2id, in the PHC string format (algorithm, parameters and salt included).
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- The audit log's `actor` holds the signed-in user's email as it was at the change.
