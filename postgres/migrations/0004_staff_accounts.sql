-- Staff accounts and access control (issue 4). Rules live in package auth.
-- No plain secret is stored: passwords as argon2id PHC strings, session and
-- reset tokens as SHA-256 of the random token the browser or mail holds.
CREATE TABLE staff_users (
    id                  bigserial PRIMARY KEY,
    email               text NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    name                text NOT NULL DEFAULT '',
    role                text NOT NULL CHECK (role IN ('consultant', 'manager', 'admin', 'facility_staff')),
    password_hash       text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    totp_secret         text NOT NULL DEFAULT '',  -- base32; '' = no second factor enrolled
    totp_last_step      bigint NOT NULL DEFAULT 0, -- last accepted TOTP time step: a code is good once
    disabled_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_users_email ON staff_users (email);

-- Facility staff act for one or more facilities.
CREATE TABLE staff_facilities (
    user_id     bigint NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    facility_id bigint NOT NULL REFERENCES facilities (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, facility_id)
);
CREATE INDEX staff_facilities_facility ON staff_facilities (facility_id);

-- Server-side sessions; the cookie holds the token, this table its hash.
CREATE TABLE staff_sessions (
    token_hash     bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id        bigint NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    stage          text NOT NULL CHECK (stage IN ('totp', 'enrol', 'full')),
    created_at     timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    totp_candidate text NOT NULL DEFAULT ''   -- secret being enrolled, until confirmed
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);

-- Failed sign-in attempts (wrong password or TOTP code), for throttling and
-- lock-out. account_key is a hash of the address typed, so unknown
-- addresses are throttled like known ones and no address is stored.
CREATE TABLE staff_login_failures (
    id          bigserial PRIMARY KEY,
    account_key bytea NOT NULL,
    ip          text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX staff_login_failures_account ON staff_login_failures (account_key, at);
CREATE INDEX staff_login_failures_ip ON staff_login_failures (ip, at);
CREATE INDEX staff_login_failures_at ON staff_login_failures (at);

-- Password reset tokens: single use, expiring.
CREATE TABLE staff_password_resets (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    bigint NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX staff_password_resets_user ON staff_password_resets (user_id, created_at);
