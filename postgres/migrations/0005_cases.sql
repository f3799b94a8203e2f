-- Cases: one row per public request (相談申込 / 資料請求 / 見学希望), the
-- start of a consultant's case (issue 4). Columns are grouped by what they
-- are, so the audit and retention rules of a later issue can name them:
-- the consent record, the contact (個人情報) and the person's health and
-- care (要配慮個人情報, collected only with the consent recorded here).
CREATE TABLE cases (
    id              bigserial PRIMARY KEY,
    ref             text NOT NULL UNIQUE CHECK (ref ~ '^[2-9A-Z]{5}-[2-9A-Z]{5}$'), -- shown to the family
    kind            text NOT NULL CHECK (kind IN ('consultation', 'brochure', 'tour')),
    status          text NOT NULL DEFAULT '受付',
    -- The key of the rendered form: a double submit finds the first case.
    idempotency_key text NOT NULL UNIQUE CHECK (idempotency_key ~ '^[0-9a-f]{32}$'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),

    -- Consent: which privacy text (version and SHA-256 of its wording) was agreed to, and when.
    privacy_version text NOT NULL CHECK (privacy_version <> ''),
    privacy_hash    text NOT NULL CHECK (privacy_hash ~ '^[0-9a-f]{64}$'),
    consented_at    timestamptz NOT NULL,

    -- Personal data: the contact who asked (個人情報).
    relationship    text NOT NULL,
    contact_name    text NOT NULL CHECK (contact_name <> ''),
    phone           text NOT NULL DEFAULT '' CHECK (phone ~ '^(0[0-9]{9,10})?$'), -- digits only
    email           text NOT NULL DEFAULT '',
    postal_code     text NOT NULL DEFAULT '' CHECK (postal_code ~ '^([0-9]{3}-[0-9]{4})?$'),
    address         text NOT NULL DEFAULT '',
    CHECK (phone <> '' OR email <> ''),

    -- Personal data: the person who would move in, health and care (要配慮個人情報).
    age_band        text NOT NULL DEFAULT '',
    care_level      text NOT NULL DEFAULT '',
    dementia        text NOT NULL DEFAULT '',
    medical_needs   text[] NOT NULL DEFAULT '{}', -- facility.MedicalItems keys
    note            text NOT NULL DEFAULT '',     -- free text, may hold health details

    -- Wishes (not personal on their own).
    budget_monthly  text NOT NULL DEFAULT '',
    budget_initial  text NOT NULL DEFAULT '',
    pref_code       smallint CHECK (pref_code BETWEEN 1 AND 47),
    municipality    text NOT NULL DEFAULT '',
    timing          text NOT NULL DEFAULT '',
    tour_dates      date[] NOT NULL DEFAULT '{}',
    tour_time       text NOT NULL DEFAULT ''
);
CREATE INDEX cases_status_created ON cases (status, created_at DESC);

-- The facilities a request names; the consent to share covers exactly these.
-- The name is kept as the family saw it; no foreign key, so a facility
-- leaving the catalog does not rewrite what was asked for.
CREATE TABLE case_facilities (
    case_id       bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    position      smallint NOT NULL,
    facility_id   bigint NOT NULL,
    facility_name text NOT NULL,
    PRIMARY KEY (case_id, facility_id)
);
CREATE INDEX case_facilities_facility ON case_facilities (facility_id);

-- Transactional outbox: mail is written in the same transaction as what
-- caused it, and a sender delivers it with retries. A row is claimed by
-- moving next_attempt_at forward (a lease), so several senders never send
-- one message twice at the same time; next_attempt_at NULL with sent_at
-- NULL means the sender gave up (see last_error).
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    case_id         bigint REFERENCES cases (id) ON DELETE CASCADE,
    purpose         text NOT NULL,
    recipient       text NOT NULL CHECK (recipient LIKE '%_@_%'),
    subject         text NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz DEFAULT now(),
    sent_at         timestamptz,
    last_error      text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND next_attempt_at IS NOT NULL;
