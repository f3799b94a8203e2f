-- A calendar invitation (.ics, RFC 5545) sent with a mail, e.g. a
-- confirmed tour: the sender attaches it as a text/calendar part. Empty:
-- a plain text mail.
ALTER TABLE outbox ADD COLUMN calendar text NOT NULL DEFAULT '';
