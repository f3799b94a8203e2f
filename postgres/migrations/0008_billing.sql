-- Referral-fee contracts, accruals and invoices (issue 6). Money is integer
-- yen, rates integer basis points. The rules live in package billing.

-- A contract with a partner: one facility, or an operator's facilities
-- billed together. The contract is the invoice recipient: one invoice per
-- contract and month.
CREATE TABLE contracts (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL CHECK (name <> ''),
    scope           text NOT NULL CHECK (scope IN ('facility', 'operator')),
    created_by      bigint REFERENCES staff_users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    idempotency_key text NOT NULL UNIQUE CHECK (idempotency_key ~ '^[0-9a-f]{32}$')
);

-- The facilities a contract covers. A facility is under one contract at
-- most; a change of terms is an amendment (a new version), not a second
-- contract.
CREATE TABLE contract_facilities (
    contract_id bigint NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    facility_id bigint NOT NULL UNIQUE REFERENCES facilities (id),
    PRIMARY KEY (contract_id, facility_id)
);

-- Versions of a contract's terms. The version in force on a day is the one
-- with the latest effective_from not after it. Accruals keep the version
-- they were computed with, so an amendment never changes them.
CREATE TABLE contract_versions (
    id                bigserial PRIMARY KEY,
    contract_id       bigint NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    version           integer NOT NULL CHECK (version >= 1),
    effective_from    date NOT NULL,
    starts_on         date NOT NULL,
    ends_on           date CHECK (ends_on IS NULL OR ends_on >= starts_on),
    fee_kind          text NOT NULL CHECK (fee_kind IN ('fixed', 'months_rent', 'percent_rent')),
    fee_yen           bigint NOT NULL DEFAULT 0 CHECK (fee_yen >= 0),
    fee_months100     bigint NOT NULL DEFAULT 0 CHECK (fee_months100 >= 0),
    fee_bp            bigint NOT NULL DEFAULT 0 CHECK (fee_bp >= 0),
    cap_yen           bigint NOT NULL DEFAULT 0 CHECK (cap_yen >= 0),   -- 0: no cap
    trigger           text NOT NULL CHECK (trigger IN ('move_in', 'tour')),
    validity_months   integer NOT NULL CHECK (validity_months BETWEEN 1 AND 36),
    refund_steps      jsonb NOT NULL,   -- [{"up_to_days":90,"percent":100}]
    tax               text NOT NULL CHECK (tax IN ('standard', 'exempt')),
    recipient_name    text NOT NULL CHECK (recipient_name <> ''),
    recipient_address text NOT NULL CHECK (recipient_address <> ''),
    recipient_email   text NOT NULL DEFAULT '',
    note              text NOT NULL DEFAULT '',
    created_by        bigint REFERENCES staff_users (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    idempotency_key   text NOT NULL UNIQUE CHECK (idempotency_key ~ '^[0-9a-f]{32}$'),
    UNIQUE (contract_id, version),
    UNIQUE (contract_id, effective_from)
);

-- Invoices (適格請求書): one per contract and month, numbered without gaps
-- per year from invoice_counters (a row updated in the invoice's own
-- transaction, never a sequence: a rolled-back run gives its numbers back).
CREATE TABLE invoice_counters (
    year integer PRIMARY KEY,
    last bigint NOT NULL CHECK (last >= 0)
);

CREATE TABLE invoices (
    id                  bigserial PRIMARY KEY,
    number              text NOT NULL UNIQUE,
    year                integer NOT NULL,
    seq                 bigint NOT NULL CHECK (seq >= 1),
    contract_id         bigint NOT NULL REFERENCES contracts (id),
    billing_month       date NOT NULL CHECK (extract(day FROM billing_month) = 1),
    issued_on           date NOT NULL,
    due_on              date NOT NULL,
    issuer_name         text NOT NULL CHECK (issuer_name <> ''),
    issuer_registration text NOT NULL CHECK (issuer_registration ~ '^T[0-9]{13}$'),
    issuer_address      text NOT NULL DEFAULT '',
    recipient_name      text NOT NULL,
    recipient_address   text NOT NULL,
    recipient_email     text NOT NULL DEFAULT '',
    net_standard        bigint NOT NULL,   -- 10%対象 (without tax)
    tax_standard        bigint NOT NULL,
    net_exempt          bigint NOT NULL,   -- 非課税
    total               bigint NOT NULL,
    paid_on             date,
    paid_by             bigint REFERENCES staff_users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (year, seq),
    UNIQUE (contract_id, billing_month),
    CHECK (total = net_standard + tax_standard + net_exempt)
);
CREATE INDEX invoices_month ON invoices (billing_month DESC, number);

-- Accruals: a fee earned by an event, or the credit for an early exit.
-- (source, source_id) is unique: each event accrues exactly once (a move-in
-- through a referral is keyed by the person's first referral, so a
-- re-referral is not counted again; an exit refund by the fee it gives
-- back).
CREATE TABLE fee_accruals (
    id                  bigserial PRIMARY KEY,
    contract_id         bigint NOT NULL REFERENCES contracts (id),
    contract_version_id bigint NOT NULL REFERENCES contract_versions (id),
    facility_id         bigint NOT NULL REFERENCES facilities (id),
    kind                text NOT NULL CHECK (kind IN ('fee', 'refund')),
    source              text NOT NULL CHECK (source IN ('referral', 'move_in', 'tour', 'exit')),
    source_id           bigint NOT NULL,
    move_in_id          bigint REFERENCES move_ins (id),
    tour_id             bigint REFERENCES tours (id),
    refunds_accrual_id  bigint REFERENCES fee_accruals (id),
    occurred_on         date NOT NULL,   -- the event's day: its invoice month
    description         text NOT NULL,
    amount              bigint NOT NULL, -- yen without tax; refunds negative
    tax_rate_bp         integer NOT NULL CHECK (tax_rate_bp IN (0, 1000)),
    invoice_id          bigint REFERENCES invoices (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id),
    CHECK ((kind = 'fee') = (amount >= 0)),
    CHECK ((kind = 'refund') = (refunds_accrual_id IS NOT NULL))
);
CREATE INDEX fee_accruals_open ON fee_accruals (contract_id, occurred_on) WHERE invoice_id IS NULL;
CREATE INDEX fee_accruals_move_in ON fee_accruals (move_in_id);

-- The lines of an invoice, as issued (a copy: an invoice never changes).
CREATE TABLE invoice_lines (
    invoice_id  bigint NOT NULL REFERENCES invoices (id),
    position    integer NOT NULL,
    accrual_id  bigint NOT NULL UNIQUE REFERENCES fee_accruals (id),
    occurred_on date NOT NULL,
    description text NOT NULL,
    amount      bigint NOT NULL,
    tax_rate_bp integer NOT NULL,
    PRIMARY KEY (invoice_id, position)
);
