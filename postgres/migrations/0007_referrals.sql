-- Proposals, consent to share, referrals, tours, move-ins and facility
-- edits (issue 5). Matching itself is computed in memory and not stored.

-- The person who would move in, as a referral names them to a facility
-- (要配慮個人情報 together with the rest of the hearing sheet).
ALTER TABLE cases
    ADD COLUMN person_name       text NOT NULL DEFAULT '',
    ADD COLUMN person_kana       text NOT NULL DEFAULT '',
    ADD COLUMN person_birth_date date;

-- A proposal: the facilities a consultant chose, shown to the family on an
-- unguessable, expiring link. The link holds a random token; only its
-- SHA-256 is stored. The page shows no personal data beyond the salutation.
CREATE TABLE proposals (
    id              bigserial PRIMARY KEY,
    case_id         bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    token_hash      bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    salutation      text NOT NULL CHECK (salutation <> ''),   -- 「山田様」
    message         text NOT NULL DEFAULT '',
    created_by      bigint NOT NULL REFERENCES staff_users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    first_opened_at timestamptz,
    -- The key of the rendered form: a double submit finds the first proposal.
    idempotency_key text NOT NULL UNIQUE CHECK (idempotency_key ~ '^[0-9a-f]{32}$'),
    CHECK (expires_at > created_at)
);
CREATE INDEX proposals_case ON proposals (case_id, created_at DESC);

CREATE TABLE proposal_items (
    proposal_id bigint NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    position    smallint NOT NULL,
    facility_id bigint NOT NULL REFERENCES facilities (id),
    comment     text NOT NULL DEFAULT '',   -- the consultant's words on this facility
    PRIMARY KEY (proposal_id, facility_id)
);

-- Consent to share the person's data with one facility (第三者提供の同意):
-- from intake (the facilities the request named) or recorded by the
-- consultant with the date and how it was given.
CREATE TABLE share_consents (
    id           bigserial PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    facility_id  bigint NOT NULL REFERENCES facilities (id),
    method       text NOT NULL CHECK (method IN ('intake', 'phone', 'email', 'paper', 'in_person')),
    consented_on date NOT NULL,
    recorded_by  bigint REFERENCES staff_users (id),   -- NULL: given in the intake form
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz,
    UNIQUE (case_id, facility_id)
);

-- A referral: the case sent to a facility. person_key identifies the
-- person across cases (a digest of the normalised name and birth date, or
-- the case when those are unknown), so a second referral of the same person
-- to the same facility within the contract's validity period points at the
-- first (first_referral_id) and is not counted again.
CREATE TABLE referrals (
    id                bigserial PRIMARY KEY,
    case_id           bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    facility_id       bigint NOT NULL REFERENCES facilities (id),
    person_key        text NOT NULL CHECK (person_key <> ''),
    status            text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'accepted', 'declined', 'withdrawn')),
    decline_reason    text NOT NULL DEFAULT '',
    first_referral_id bigint REFERENCES referrals (id),
    note              text NOT NULL DEFAULT '',   -- the consultant's words to the facility
    sent_by           bigint NOT NULL REFERENCES staff_users (id),
    sent_at           timestamptz NOT NULL DEFAULT now(),
    answered_by       bigint REFERENCES staff_users (id),
    answered_at       timestamptz,
    version           integer NOT NULL DEFAULT 1,
    idempotency_key   text NOT NULL UNIQUE CHECK (idempotency_key ~ '^[0-9a-f]{32}$'),
    CHECK (status <> 'declined' OR decline_reason <> '')
);
CREATE INDEX referrals_facility ON referrals (facility_id, sent_at DESC);
CREATE INDEX referrals_case ON referrals (case_id);
CREATE INDEX referrals_person ON referrals (person_key, facility_id, sent_at);

-- The third-party provision record (第三者提供記録): what was shared, with
-- whom, when and by whom. Kept when a case is anonymised (the law requires
-- the record), so no cascade from cases.
CREATE TABLE provision_records (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id),
    facility_id bigint NOT NULL REFERENCES facilities (id),
    referral_id bigint REFERENCES referrals (id),
    consent_id  bigint NOT NULL REFERENCES share_consents (id),
    fields      text[] NOT NULL CHECK (cardinality(fields) > 0),   -- field names, never values
    provided_at timestamptz NOT NULL DEFAULT now(),
    provided_by bigint NOT NULL REFERENCES staff_users (id)
);
CREATE INDEX provision_records_case ON provision_records (case_id, provided_at);

-- Tours (見学): asked for by the family (from a proposal) or the
-- consultant; slots proposed by the consultant, confirmed or countered by
-- the facility; the outcome recorded afterwards.
CREATE TABLE tours (
    id                bigserial PRIMARY KEY,
    case_id           bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    facility_id       bigint NOT NULL REFERENCES facilities (id),
    referral_id       bigint REFERENCES referrals (id),
    proposal_id       bigint REFERENCES proposals (id),
    status            text NOT NULL DEFAULT 'requested'
                      CHECK (status IN ('requested', 'proposed', 'countered', 'confirmed', 'done', 'cancelled')),
    confirmed_at      timestamptz,      -- the agreed start
    duration_minutes  integer NOT NULL DEFAULT 60 CHECK (duration_minutes BETWEEN 15 AND 480),
    family_note       text NOT NULL DEFAULT '',   -- what the family wrote when asking
    outcome           text NOT NULL DEFAULT '' CHECK (outcome IN ('', 'interested', 'undecided', 'declined', 'no_show')),
    outcome_note      text NOT NULL DEFAULT '',
    reminder_sent_on  date,             -- the reminder job sends one a day before, once
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    idempotency_key   text NOT NULL UNIQUE CHECK (idempotency_key ~ '^[0-9a-f]{32}$'),
    CHECK (status <> 'confirmed' OR confirmed_at IS NOT NULL)
);
CREATE INDEX tours_facility ON tours (facility_id, status);
CREATE INDEX tours_case ON tours (case_id);
CREATE INDEX tours_confirmed ON tours (confirmed_at) WHERE status = 'confirmed';

CREATE TABLE tour_slots (
    id          bigserial PRIMARY KEY,
    tour_id     bigint NOT NULL REFERENCES tours (id) ON DELETE CASCADE,
    starts_at   timestamptz NOT NULL,
    proposed_by text NOT NULL CHECK (proposed_by IN ('family', 'consultant', 'facility')),
    created_by  bigint REFERENCES staff_users (id),   -- NULL: the family
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tour_id, starts_at)
);

-- Move-ins (入居) and early exits (短期退去): they drive billing. Money is
-- integer yen.
CREATE TABLE move_ins (
    id               bigserial PRIMARY KEY,
    case_id          bigint NOT NULL REFERENCES cases (id),
    facility_id      bigint NOT NULL REFERENCES facilities (id),
    referral_id      bigint REFERENCES referrals (id),
    moved_in_on      date NOT NULL,
    room_type        text NOT NULL CHECK (room_type <> ''),
    monthly_fee      bigint NOT NULL CHECK (monthly_fee >= 0),   -- 月額費用の合計
    monthly_rent     bigint NOT NULL CHECK (monthly_rent >= 0),  -- うち家賃 (fee rules may use it)
    recorded_by      bigint NOT NULL REFERENCES staff_users (id),
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    exited_on        date,
    exit_reason      text NOT NULL DEFAULT '',
    exit_recorded_by bigint REFERENCES staff_users (id),
    exit_recorded_at timestamptz,
    UNIQUE (case_id, facility_id),
    CHECK (exited_on IS NULL OR exited_on >= moved_in_on)
);
CREATE INDEX move_ins_facility ON move_ins (facility_id, moved_in_on);
CREATE INDEX move_ins_moved_in_on ON move_ins (moved_in_on);

-- Who changed what in the catalog (facility staff in the portal, managers):
-- field names and when, so a vacancy or a cost is never edited anonymously.
CREATE TABLE facility_edits (
    id          bigserial PRIMARY KEY,
    facility_id bigint NOT NULL REFERENCES facilities (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES staff_users (id),
    at          timestamptz NOT NULL DEFAULT now(),
    fields      text[] NOT NULL CHECK (cardinality(fields) > 0),
    note        text NOT NULL DEFAULT ''   -- e.g. 「空室状況を確認（変更なし）」
);
CREATE INDEX facility_edits_facility ON facility_edits (facility_id, at DESC);
