-- A portal save carries the idempotency key of the form it came from: a
-- second submit of the same form (a double tap on a slow phone) finds the
-- first edit and changes nothing.
ALTER TABLE facility_edits
    ADD COLUMN idempotency_key text UNIQUE CHECK (idempotency_key ~ '^[0-9a-f]{32}$');
