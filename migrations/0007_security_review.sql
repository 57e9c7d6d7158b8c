-- The security review (issue 24): sessions checked against their account on every
-- request, and import jobs that belong to their uploader.
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

-- Import jobs belong to whoever uploaded them: other editors can neither read, remap
-- nor start them (admins can). Jobs from before are given to the account whose email
-- they name; a job without an owner (one made by `roster import`) is for admins only.
ALTER TABLE import_jobs
    ADD COLUMN owner_id uuid REFERENCES users (id) ON DELETE SET NULL;
UPDATE import_jobs AS job
   SET owner_id = account.id
  FROM users AS account
 WHERE lower(account.email) = lower(job.actor);
CREATE INDEX import_jobs_owner_idx ON import_jobs (owner_id, created_at);
