-- Scheduled jobs of the business (issue 6), the reporting views Metabase
-- reads, and the database roles that keep the application from rewriting
-- the audit log. Rules and definitions: docs/jobs.md.

-- Each run's counts (what it did), beside the one-line summary.
ALTER TABLE job_runs ADD COLUMN counts jsonb NOT NULL DEFAULT '{}';

-- vacancy-reminders: one row per reminder mail run for a facility, so a
-- facility gets at most one reminder per CAREMATCH_VACANCY_REMINDER_DAYS.
CREATE TABLE vacancy_reminders (
    facility_id bigint NOT NULL REFERENCES facilities (id) ON DELETE CASCADE,
    sent_on     date NOT NULL,      -- the day in Asia/Tokyo
    recipients  integer NOT NULL CHECK (recipients > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility_id, sent_on)
);

-- case-followups: tasks made by a job say which rule made them ('' = a
-- person); at most one open no-contact task per case.
ALTER TABLE case_tasks ADD COLUMN origin text NOT NULL DEFAULT '' CHECK (origin IN ('', 'no_contact'));
CREATE UNIQUE INDEX case_tasks_one_open_origin ON case_tasks (case_id, origin) WHERE origin <> '' AND done_at IS NULL;

-- case-followups: one digest of due tasks per consultant per day.
CREATE TABLE task_digests (
    user_id    bigint NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    sent_on    date NOT NULL,
    tasks      integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, sent_on)
);

-- mhlw-import: the open-data files imported, by name and content.
CREATE TABLE mhlw_import_files (
    name        text NOT NULL CHECK (name <> ''),
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    location    text NOT NULL,          -- where it was read (folder path or s3:// URL)
    size        bigint NOT NULL CHECK (size >= 0),
    imported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, sha256)
);

-- retention: a case's personal data is anonymised once it has been closed
-- for the retention period (see docs/jobs.md for "closed" and the columns).
-- The contact's name and a phone or e-mail are required only until then;
-- a proposal's salutation only while its link can still be opened.
ALTER TABLE cases
    ADD COLUMN anonymised_at timestamptz,
    ADD COLUMN care_band     text NOT NULL DEFAULT '' CHECK (care_band IN ('', '自立・要支援', '要介護1-2', '要介護3-5'));
ALTER TABLE cases DROP CONSTRAINT cases_contact_name_check;
ALTER TABLE cases ADD CONSTRAINT cases_contact_name_check CHECK (contact_name <> '' OR anonymised_at IS NOT NULL);
ALTER TABLE cases DROP CONSTRAINT cases_check;
ALTER TABLE cases ADD CONSTRAINT cases_contact_check CHECK (phone <> '' OR email <> '' OR anonymised_at IS NOT NULL);
CREATE INDEX cases_closed ON cases (status_changed_at) WHERE anonymised_at IS NULL AND status IN ('失注', '短期退去', 'フォロー');
ALTER TABLE proposals DROP CONSTRAINT proposals_salutation_check;
ALTER TABLE proposals ADD CONSTRAINT proposals_salutation_check CHECK (salutation <> '' OR revoked_at IS NOT NULL);

-- The care level as a coarse band (自立・要支援 / 要介護1-2 / 要介護3-5): what
-- statistics keep after anonymisation.
CREATE FUNCTION care_band(level text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN level IN ('自立', '要支援1', '要支援2') THEN '自立・要支援'
        WHEN level IN ('要介護1', '要介護2') THEN '要介護1-2'
        WHEN level IN ('要介護3', '要介護4', '要介護5') THEN '要介護3-5'
        ELSE '' END
$$;

-- Referral fees as KPI events: one row per fee accrued (positive) or
-- refunded (negative), in integer yen, on the day it counts. The billing
-- tables feed it (a later migration replaces this view's body); until they
-- exist it is empty, so kpi-snapshot reports fees of 0 by construction.
CREATE VIEW fee_events AS
    SELECT NULL::date AS day, NULL::bigint AS case_id, NULL::bigint AS facility_id, NULL::bigint AS amount
    WHERE false;

-- kpi-snapshot: counts per day (Asia/Tokyo) by consultant and prefecture
-- (the case's wished area); consultant_id 0 / pref_code 0 = all. Rates are
-- computed in the reporting views from these additive counts.
CREATE TABLE kpi_daily (
    day           date NOT NULL,
    consultant_id bigint NOT NULL,       -- cases.assigned_to at snapshot time; 0: all, -1: unassigned
    pref_code     smallint NOT NULL,     -- 0: all, -1: unknown
    inquiries     integer NOT NULL,      -- cases received that day
    proposals     integer NOT NULL,      -- proposals made that day
    tours         integer NOT NULL,      -- tours held that day (confirmed or done)
    move_ins      integer NOT NULL,      -- move-ins on that day
    early_exits   integer NOT NULL,      -- exits on that day
    fees          bigint NOT NULL,       -- referral fees, yen (fee_events)
    computed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, consultant_id, pref_code)
);

-- Reporting: stable views for Metabase, without direct identifiers (no
-- names, phone numbers, e-mail or postal addresses, notes, birth dates; age
-- as the band the family chose). Their columns only ever grow.
CREATE SCHEMA reporting;

CREATE VIEW reporting.cases AS
    SELECT c.id AS case_id, c.kind, c.status, c.created_at,
           (c.created_at AT TIME ZONE 'Asia/Tokyo')::date AS created_on,
           c.status_changed_at, c.assigned_to AS consultant_id, c.pref_code,
           c.age_band,
           CASE WHEN c.anonymised_at IS NULL THEN care_band(c.care_level) ELSE c.care_band END AS care_band,
           c.relationship,
           c.status IN ('失注', '短期退去', 'フォロー') AS closed,
           c.anonymised_at IS NOT NULL AS anonymised
    FROM cases c;

CREATE VIEW reporting.proposals AS
    SELECT p.id AS proposal_id, p.case_id, p.created_by, p.created_at, p.expires_at, p.first_opened_at,
           p.revoked_at, (SELECT count(*) FROM proposal_items i WHERE i.proposal_id = p.id) AS facilities
    FROM proposals p;

CREATE VIEW reporting.referrals AS
    SELECT r.id AS referral_id, r.case_id, r.facility_id, r.status, r.first_referral_id,
           r.sent_by, r.sent_at, r.answered_at
    FROM referrals r;

CREATE VIEW reporting.tours AS
    SELECT t.id AS tour_id, t.case_id, t.facility_id, t.referral_id, t.status, t.confirmed_at,
           (t.confirmed_at AT TIME ZONE 'Asia/Tokyo')::date AS tour_on, t.outcome, t.created_at
    FROM tours t;

CREATE VIEW reporting.move_ins AS
    SELECT m.id AS move_in_id, m.case_id, m.facility_id, m.referral_id, m.moved_in_on, m.room_type,
           m.monthly_fee, m.monthly_rent, m.exited_on,
           m.exited_on IS NOT NULL AND m.exited_on < m.moved_in_on + 90 AS early_exit
    FROM move_ins m;

CREATE VIEW reporting.facilities AS
    SELECT f.id AS facility_id, f.type, f.name, f.operator, f.pref_code, f.muni_code, f.capacity,
           f.partner, f.demo,
           (SELECT max(v.confirmed_at) FROM facility_vacancies v WHERE v.facility_id = f.id) AS vacancies_confirmed_at
    FROM facilities f;

CREATE VIEW reporting.fees AS
    SELECT day, case_id, facility_id, amount FROM fee_events;

CREATE VIEW reporting.kpi_daily AS
    SELECT day, consultant_id, pref_code, inquiries, proposals, tours, move_ins, early_exits, fees,
           round(tours::numeric / NULLIF(inquiries, 0), 4) AS tour_rate,
           round(move_ins::numeric / NULLIF(inquiries, 0), 4) AS move_in_rate,
           round(move_ins::numeric / NULLIF(tours, 0), 4) AS tour_to_move_in_rate,
           computed_at
    FROM kpi_daily;

CREATE VIEW reporting.kpi_monthly AS
    SELECT date_trunc('month', day)::date AS month, consultant_id, pref_code,
           sum(inquiries) AS inquiries, sum(proposals) AS proposals, sum(tours) AS tours,
           sum(move_ins) AS move_ins, sum(early_exits) AS early_exits, sum(fees) AS fees,
           round(sum(tours)::numeric / NULLIF(sum(inquiries), 0), 4) AS tour_rate,
           round(sum(move_ins)::numeric / NULLIF(sum(inquiries), 0), 4) AS move_in_rate,
           round(sum(move_ins)::numeric / NULLIF(sum(tours), 0), 4) AS tour_to_move_in_rate
    FROM kpi_daily
    GROUP BY 1, 2, 3;

CREATE VIEW reporting.job_runs AS
    SELECT id AS run_id, job, started_at, finished_at, status, counts FROM job_runs;

-- Roles. The migrations run as the schema owner (the RDS master user or a
-- dedicated owner, see docs/runbook.md); the application and Metabase log
-- in as these roles, which own nothing. Created here (without a password,
-- NOLOGIN) when the runbook has not created them yet.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'carematch_app') THEN
        CREATE ROLE carematch_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'carematch_readonly') THEN
        CREATE ROLE carematch_readonly NOLOGIN;
    END IF;
    IF current_user IN ('carematch_app', 'carematch_readonly') THEN
        RAISE WARNING 'migrations run as %: that role owns the tables and can lift any restriction below; run migrations as the schema owner (docs/runbook.md)', current_user;
    END IF;
END
$$;

-- The application: read and write every table, except that the audit log
-- is append-only (the owner's trigger refuses changes too), and
-- schema_migrations is read-only. Tables of later migrations get the same.
GRANT USAGE ON SCHEMA public TO carematch_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO carematch_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO carematch_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO carematch_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM carematch_app;
DO $$
BEGIN
    IF to_regclass('schema_migrations') IS NOT NULL THEN
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM carematch_app;
    END IF;
END
$$;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO carematch_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO carematch_app;
GRANT USAGE ON SCHEMA reporting TO carematch_app;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO carematch_app;

-- Metabase: the reporting views and nothing else (PUBLIC's default USAGE
-- on schema public names tables but reads none of them).
GRANT USAGE ON SCHEMA reporting TO carematch_readonly;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO carematch_readonly;
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO carematch_readonly;
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO carematch_app;
