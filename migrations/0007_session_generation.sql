-- Sessions checked against the account on every request (security review, issue 24).
--
-- A session records the account's `session_generation` at sign-in. Every change that
-- must end a user's sessions (role changed, disabled, password set, "end all
-- sessions") increments it in the same statement as the change, and the new state
-- (generation, role, disabled) is then copied to Redis, where each request reads it
-- in the same round trip as its session: a session whose generation is not the
-- account's current one is refused at its next request, on every instance, even if
-- it was being created while the change was made.

ALTER TABLE users
    ADD COLUMN session_generation bigint NOT NULL DEFAULT 0;

