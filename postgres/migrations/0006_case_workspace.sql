-- The consultant's case workspace and the audit log (issue 4).

-- Audit: every view and change of a case's personal data, written in the
-- same transaction as the change (rules in package audit). Append-only:
-- a trigger refuses UPDATE, DELETE and TRUNCATE for everyone, the table
-- owner included, and where the application role exists it has no such
-- grants either. No foreign keys: an audit row outlives what it names.
CREATE TABLE audit_events (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    user_id    bigint NOT NULL,
    role       text NOT NULL,
    case_id    bigint,                      -- NULL for events on no single case (a list, a search)
    action     text NOT NULL CHECK (action <> ''),
    fields     text[] NOT NULL DEFAULT '{}', -- field names only, never values
    ip         text NOT NULL DEFAULT '',
    request_id text NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_case ON audit_events (case_id, at DESC);
CREATE INDEX audit_events_user ON audit_events (user_id, at DESC);
CREATE INDEX audit_events_at ON audit_events (at DESC);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- The application role (created by the deploy runbook in RDS) may add
-- audit rows and read them, never change or remove them.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'carematch_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM carematch_app;
        GRANT SELECT, INSERT ON audit_events TO carematch_app;
        GRANT USAGE ON SEQUENCE audit_events_id_seq TO carematch_app;
    END IF;
END
$$;

-- The case as a consultant works it: a version for optimistic
-- concurrency, the assigned consultant, the last contact, and the rest of
-- the hearing sheet (要配慮個人情報 where it describes the person).
ALTER TABLE cases
    ADD COLUMN version          integer NOT NULL DEFAULT 1,
    ADD COLUMN assigned_to      bigint REFERENCES staff_users (id),
    ADD COLUMN assigned_at      timestamptz,
    ADD COLUMN last_contact_at  timestamptz,
    ADD COLUMN status_changed_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN lost_reason      text NOT NULL DEFAULT '',
    ADD COLUMN person_sex       text NOT NULL DEFAULT '',
    ADD COLUMN adl_notes        text NOT NULL DEFAULT '',
    ADD COLUMN residence_municipality text NOT NULL DEFAULT '', -- 住民票の市区町村
    ADD COLUMN family_contacts  text NOT NULL DEFAULT '',
    ADD COLUMN key_person       text NOT NULL DEFAULT '',
    ADD COLUMN assets_note      text NOT NULL DEFAULT '',
    ADD COLUMN preferred_areas  text NOT NULL DEFAULT '',
    ADD COLUMN guarantor        text NOT NULL DEFAULT '';     -- 身元引受人・保証人
CREATE INDEX cases_assigned ON cases (assigned_to, status);
CREATE INDEX cases_phone ON cases (phone) WHERE phone <> '';

-- The activity timeline: calls, notes, e-mails, status changes, edits and
-- assignments, each with who and when. An edit names the fields it changed
-- and the version it made, so a refused stale save can say what changed.
CREATE TABLE case_activities (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    user_id     bigint REFERENCES staff_users (id),
    kind        text NOT NULL CHECK (kind IN ('call', 'note', 'email', 'status', 'edit', 'assign')),
    body        text NOT NULL DEFAULT '',
    from_status text NOT NULL DEFAULT '',
    to_status   text NOT NULL DEFAULT '',
    fields      text[] NOT NULL DEFAULT '{}',
    version     integer NOT NULL DEFAULT 0
);
CREATE INDEX case_activities_case ON case_activities (case_id, at DESC, id DESC);

-- Tasks with a due date (callbacks, documents to send, tours to confirm).
CREATE TABLE case_tasks (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    title       text NOT NULL CHECK (title <> ''),
    due_on      date NOT NULL,
    assigned_to bigint REFERENCES staff_users (id),
    created_by  bigint REFERENCES staff_users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz
);
CREATE INDEX case_tasks_open ON case_tasks (due_on) WHERE done_at IS NULL;
