-- The admin dashboard browses the whole audit log newest first, filtered by day
-- (`at`) or action; the primary key gives the order, these the filters.
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
