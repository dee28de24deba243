-- contauth: tenant policies, sealed per-user profiles, sealed session state, decisions and
-- challenge outcomes. Profiles and session state are AES-256-GCM envelopes (profile_cipher.h):
-- the database never sees a feature in the clear. Raw telemetry is never stored.

-- A tenant is known to contauth once it has a policy (UpdatePolicy enables it).
CREATE TABLE policies (
  tenant_id               text PRIMARY KEY,
  monitor_at              double precision NOT NULL CHECK (monitor_at >= 0 AND monitor_at <= 1),
  challenge_at            double precision NOT NULL CHECK (challenge_at >= monitor_at AND challenge_at <= 1),
  deny_at                 double precision NOT NULL CHECK (deny_at >= challenge_at AND deny_at <= 1),
  decision_ttl_ms         bigint NOT NULL CHECK (decision_ttl_ms BETWEEN 1000 AND 86400000),
  decision_retention_days integer NOT NULL CHECK (decision_retention_days BETWEEN 1 AND 3650),
  min_enroll_samples      integer NOT NULL CHECK (min_enroll_samples BETWEEN 3 AND 256),
  version                 bigint NOT NULL CHECK (version > 0),
  updated_at              timestamptz NOT NULL
);

CREATE TABLE profiles (
  tenant_id          text NOT NULL,
  user_id            text NOT NULL,
  version            bigint NOT NULL CHECK (version > 0),
  key_id             text NOT NULL,
  sealed             bytea NOT NULL,
  keystroke_enrolled boolean NOT NULL DEFAULT false,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
);
-- The tenant background: enrolled users, most recently active first.
CREATE INDEX profiles_background ON profiles (tenant_id, updated_at DESC) WHERE keystroke_enrolled;

CREATE TABLE sessions (
  tenant_id  text NOT NULL,
  session_id text NOT NULL,
  user_id    text NOT NULL,
  version    bigint NOT NULL CHECK (version > 0),
  key_id     text NOT NULL,
  sealed     bytea NOT NULL,
  updated_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, session_id)
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Decisions hold scores and reason texts, never features. details: JSON
-- {"modality_scores": [{"m", "s", "c", "n"}], "reasons": [{"code", "m", "d"}]}.
CREATE TABLE decisions (
  decision_id text PRIMARY KEY,
  tenant_id   text NOT NULL,
  session_id  text NOT NULL,
  user_id     text NOT NULL,
  risk        double precision NOT NULL CHECK (risk >= 0 AND risk <= 1),
  confidence  double precision NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  action      smallint NOT NULL CHECK (action BETWEEN 0 AND 4),
  enrolled    boolean NOT NULL,
  details     text NOT NULL,
  decided_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX decisions_session ON decisions (tenant_id, session_id, decided_at DESC);
CREATE INDEX decisions_user ON decisions (tenant_id, user_id, decided_at DESC);
CREATE INDEX decisions_decided ON decisions (decided_at);

CREATE TABLE challenge_outcomes (
  tenant_id          text NOT NULL,
  idempotency_key    text NOT NULL,
  decision_id        text NOT NULL,
  result_decision_id text NOT NULL,
  session_id         text NOT NULL,
  user_id            text NOT NULL,
  kind               smallint NOT NULL CHECK (kind BETWEEN 0 AND 4),
  outcome            smallint NOT NULL CHECK (outcome BETWEEN 1 AND 4),
  recorded_at        timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX challenge_outcomes_user ON challenge_outcomes (tenant_id, user_id);
CREATE INDEX challenge_outcomes_recorded ON challenge_outcomes (recorded_at);
