-- The credits ledger: accounts, holds, transfers, the audit chain and idempotency records.
--
-- The database enforces the ledger's invariants itself, so a bug in the service (or a person
-- with a SQL prompt and the service's role) cannot break them:
--   * balances change only through transfers and holds: triggers derive posted and pending
--     balances; a direct UPDATE of a balance column is refused;
--   * every posted transfer credits one account and debits another by the same amount, so the
--     sum of all balances stays zero;
--   * a tenant's available balance (posted - pending) never goes below minus its overdraft
--     limit (CHECK), which also bounds holds (pending) by what is spendable;
--   * a capture never exceeds its hold (CHECK), a refund never exceeds what the refunded
--     transfer consumed minus earlier refunds (CHECK on the maintained refunded total);
--   * transfers, holds' settled state and audit entries are append-only (triggers refuse
--     UPDATE / DELETE / TRUNCATE);
--   * one idempotency record per (tenant, key) (primary key).
-- Amounts are bigint counts of credits; there is no floating point anywhere.
--
-- Enum values match shieldx.credits.v1 (AccountKind, TransferKind, HoldState, UsageKind).

CREATE TABLE accounts (
  account_id              text PRIMARY KEY,
  tenant_id               text NOT NULL,
  kind                    smallint NOT NULL CHECK (kind BETWEEN 1 AND 4),
  overdraft_limit_credits bigint NOT NULL DEFAULT 0 CHECK (overdraft_limit_credits >= 0),
  alert_threshold_credits bigint NOT NULL DEFAULT 0 CHECK (alert_threshold_credits >= 0),
  -- Tenant accounts only; system accounts keep their balance in system_balance_shards.
  posted_credits          bigint NOT NULL DEFAULT 0,
  pending_credits         bigint NOT NULL DEFAULT 0 CHECK (pending_credits >= 0),
  -- Head of the account's audit chain: last sequence number and its HMAC.
  sequence                bigint NOT NULL DEFAULT 0 CHECK (sequence >= 0),
  head_hmac               bytea NOT NULL DEFAULT '\x'::bytea,
  created_at              timestamptz NOT NULL,
  CONSTRAINT accounts_available_within_overdraft
    CHECK (kind <> 1 OR posted_credits - pending_credits >= -overdraft_limit_credits),
  CONSTRAINT accounts_system_balance_in_shards
    CHECK (kind = 1 OR (posted_credits = 0 AND pending_credits = 0))
);
CREATE UNIQUE INDEX accounts_one_per_tenant ON accounts (tenant_id) WHERE kind = 1;
CREATE UNIQUE INDEX accounts_one_per_system_kind ON accounts (kind) WHERE kind <> 1;

-- System accounts (revenue, promotions, payment clearing) take part in every transfer of every
-- tenant. One balance row would serialise all tenants' commits on its lock, so each system
-- balance is split over 64 rows; a statement adds its delta to one of them at random. The
-- balance is the sum of the shards.
CREATE TABLE system_balance_shards (
  account_id     text NOT NULL REFERENCES accounts (account_id),
  shard          smallint NOT NULL CHECK (shard >= 0 AND shard < 64),
  posted_credits bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, shard)
);

INSERT INTO accounts (account_id, tenant_id, kind, created_at) VALUES
  ('system:revenue', '_platform', 2, now()),
  ('system:promotions', '_platform', 3, now()),
  ('system:payment_clearing', '_platform', 4, now());
INSERT INTO system_balance_shards (account_id, shard)
  SELECT a.account_id, s FROM accounts a CROSS JOIN generate_series(0, 63) s WHERE a.kind <> 1;

CREATE TABLE holds (
  hold_id          text PRIMARY KEY,
  tenant_id        text NOT NULL,
  account_id       text NOT NULL REFERENCES accounts (account_id),
  amount_credits   bigint NOT NULL CHECK (amount_credits > 0),
  captured_credits bigint NOT NULL DEFAULT 0,
  state            smallint NOT NULL CHECK (state BETWEEN 1 AND 4),
  usage_kind       smallint NOT NULL CHECK (usage_kind BETWEEN 1 AND 4),
  reference        text NOT NULL DEFAULT '',
  expires_at       timestamptz NOT NULL,
  created_at       timestamptz NOT NULL,
  settled_at       timestamptz,
  -- capture <= reserved
  CONSTRAINT holds_capture_within_hold
    CHECK (captured_credits >= 0 AND captured_credits <= amount_credits),
  CONSTRAINT holds_only_captured_has_captured_credits
    CHECK (state = 2 OR captured_credits = 0),
  CONSTRAINT holds_settled_iff_not_pending CHECK ((state = 1) = (settled_at IS NULL))
);
CREATE INDEX holds_due ON holds (expires_at) WHERE state = 1;
CREATE INDEX holds_pending_by_account ON holds (account_id) WHERE state = 1;

CREATE TABLE transfers (
  transfer_id              text PRIMARY KEY,
  tenant_id                text NOT NULL,
  -- The tenant account whose audit chain holds this transfer (its debit or credit side).
  account_id               text NOT NULL REFERENCES accounts (account_id),
  sequence                 bigint NOT NULL CHECK (sequence > 0),
  kind                     smallint NOT NULL CHECK (kind BETWEEN 1 AND 8),
  debit_account_id         text NOT NULL REFERENCES accounts (account_id),
  credit_account_id        text NOT NULL REFERENCES accounts (account_id),
  amount_credits           bigint NOT NULL,
  usage_kind               smallint NOT NULL DEFAULT 0 CHECK (usage_kind BETWEEN 0 AND 4),
  quantity                 bigint NOT NULL DEFAULT 0 CHECK (quantity >= 0),
  reference                text NOT NULL DEFAULT '',
  hold_id                  text REFERENCES holds (hold_id),
  refunded_transfer_id     text REFERENCES transfers (transfer_id),
  -- For CONSUME and CAPTURE: credits refunded so far (maintained by the refund trigger).
  refunded_credits         bigint NOT NULL DEFAULT 0,
  payment_provider         text NOT NULL DEFAULT '',
  payment_reference        text NOT NULL DEFAULT '',
  payment_note             text NOT NULL DEFAULT '',
  payment_reference_unique boolean NOT NULL DEFAULT false,
  idempotency_key          text NOT NULL DEFAULT '',
  reason                   text NOT NULL DEFAULT '',
  period_start             timestamptz,
  period_end               timestamptz,
  created_at               timestamptz NOT NULL,
  CONSTRAINT transfers_sequence_unique UNIQUE (account_id, sequence),
  CONSTRAINT transfers_two_sides CHECK (debit_account_id <> credit_account_id),
  CONSTRAINT transfers_own_account
    CHECK (account_id = debit_account_id OR account_id = credit_account_id),
  -- VOID and EXPIRE move nothing; every other transfer moves a positive amount.
  CONSTRAINT transfers_amount
    CHECK (CASE WHEN kind IN (5, 6) THEN amount_credits = 0 ELSE amount_credits > 0 END),
  -- refund <= refundable
  CONSTRAINT transfers_refund_within_amount
    CHECK (refunded_credits >= 0 AND refunded_credits <= amount_credits),
  CONSTRAINT transfers_refundable_kinds CHECK (refunded_credits = 0 OR kind IN (2, 4)),
  CONSTRAINT transfers_refund_names_original CHECK ((kind = 7) = (refunded_transfer_id IS NOT NULL)),
  CONSTRAINT transfers_hold_kinds CHECK (kind NOT IN (3, 4, 5, 6) OR hold_id IS NOT NULL)
);
CREATE INDEX transfers_by_account_time ON transfers (account_id, created_at);
CREATE UNIQUE INDEX transfers_payment_reference ON transfers (payment_provider, payment_reference)
  WHERE kind = 1 AND payment_reference_unique;

CREATE TABLE audit_entries (
  account_id  text NOT NULL REFERENCES accounts (account_id),
  sequence    bigint NOT NULL CHECK (sequence > 0),
  entry_kind  text NOT NULL,
  transfer_id text,
  -- Canonical text of what happened; the HMAC covers account, sequence, prev_hmac, payload.
  payload     text NOT NULL,
  prev_hmac   bytea NOT NULL,
  hmac        bytea NOT NULL,
  PRIMARY KEY (account_id, sequence)
);

CREATE TABLE idempotency_keys (
  tenant_id       text NOT NULL,
  idempotency_key text NOT NULL,
  operation       text NOT NULL,
  fingerprint     bytea NOT NULL,
  -- The original response; written in the same transaction as the effect.
  response        text,
  created_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- A claimed key is never committed without its response.
CREATE FUNCTION credits_idempotency_complete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM idempotency_keys
             WHERE tenant_id = NEW.tenant_id AND idempotency_key = NEW.idempotency_key
               AND response IS NULL) THEN
    RAISE EXCEPTION 'credits: idempotency key committed without its response'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER idempotency_keys_complete AFTER INSERT ON idempotency_keys
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION credits_idempotency_complete();

-- Posting: derive balances from inserted transfers (statement level: a batch of 10000
-- transfers updates each balance row once).
CREATE FUNCTION credits_post_transfers() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_shard smallint := floor(random() * 64)::smallint;
BEGIN
  UPDATE accounts a SET posted_credits = a.posted_credits + m.delta
  FROM (SELECT account_id, sum(delta)::bigint AS delta FROM (
          SELECT credit_account_id AS account_id, amount_credits AS delta FROM new_transfers
            WHERE kind IN (1, 2, 4, 7, 8)
          UNION ALL
          SELECT debit_account_id, -amount_credits FROM new_transfers
            WHERE kind IN (1, 2, 4, 7, 8)) x GROUP BY account_id) m
  WHERE a.account_id = m.account_id AND a.kind = 1 AND m.delta <> 0;

  UPDATE system_balance_shards s SET posted_credits = s.posted_credits + m.delta
  FROM (SELECT account_id, sum(delta)::bigint AS delta FROM (
          SELECT credit_account_id AS account_id, amount_credits AS delta FROM new_transfers
            WHERE kind IN (1, 2, 4, 7, 8)
          UNION ALL
          SELECT debit_account_id, -amount_credits FROM new_transfers
            WHERE kind IN (1, 2, 4, 7, 8)) x GROUP BY account_id) m
  WHERE s.account_id = m.account_id AND s.shard = v_shard AND m.delta <> 0;

  UPDATE transfers t SET refunded_credits = t.refunded_credits + r.amount
  FROM (SELECT refunded_transfer_id, sum(amount_credits)::bigint AS amount FROM new_transfers
        WHERE kind = 7 GROUP BY refunded_transfer_id) r
  WHERE t.transfer_id = r.refunded_transfer_id;
  RETURN NULL;
END $$;
CREATE TRIGGER transfers_post AFTER INSERT ON transfers REFERENCING NEW TABLE AS new_transfers
  FOR EACH STATEMENT EXECUTE FUNCTION credits_post_transfers();

-- Pending: a new hold adds to the account's pending balance; settling it releases it.
CREATE FUNCTION credits_hold_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.state <> 1 THEN
      RAISE EXCEPTION 'credits: hold % must be created pending', NEW.hold_id
        USING ERRCODE = 'check_violation';
    END IF;
    UPDATE accounts SET pending_credits = pending_credits + NEW.amount_credits
      WHERE account_id = NEW.account_id;
  ELSE
    UPDATE accounts SET pending_credits = pending_credits - OLD.amount_credits
      WHERE account_id = OLD.account_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER holds_pending_insert AFTER INSERT ON holds
  FOR EACH ROW EXECUTE FUNCTION credits_hold_pending();
CREATE TRIGGER holds_pending_settle AFTER UPDATE ON holds
  FOR EACH ROW WHEN (OLD.state = 1 AND NEW.state <> 1) EXECUTE FUNCTION credits_hold_pending();

-- Guards.
CREATE FUNCTION credits_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'credits: % on % is not allowed (append-only ledger)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION credits_guard_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.account_id <> OLD.account_id OR NEW.tenant_id <> OLD.tenant_id OR NEW.kind <> OLD.kind
     OR NEW.created_at <> OLD.created_at OR NEW.overdraft_limit_credits <> OLD.overdraft_limit_credits THEN
    RAISE EXCEPTION 'credits: account % identity and overdraft are immutable', OLD.account_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF pg_trigger_depth() = 1 AND (NEW.posted_credits <> OLD.posted_credits
                                 OR NEW.pending_credits <> OLD.pending_credits) THEN
    RAISE EXCEPTION 'credits: balance of account % changes only through transfers and holds',
      OLD.account_id USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.sequence < OLD.sequence THEN
    RAISE EXCEPTION 'credits: audit sequence of account % cannot go back (% -> %)',
      OLD.account_id, OLD.sequence, NEW.sequence USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_guard BEFORE UPDATE ON accounts
  FOR EACH ROW EXECUTE FUNCTION credits_guard_accounts();

CREATE FUNCTION credits_guard_shards() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() = 1 OR NEW.account_id <> OLD.account_id OR NEW.shard <> OLD.shard THEN
    RAISE EXCEPTION 'credits: system balances change only through transfers'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER system_balance_shards_guard BEFORE UPDATE ON system_balance_shards
  FOR EACH ROW EXECUTE FUNCTION credits_guard_shards();

CREATE FUNCTION credits_guard_transfers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() = 1 OR NEW.refunded_credits < OLD.refunded_credits
     OR (to_jsonb(NEW) - 'refunded_credits') <> (to_jsonb(OLD) - 'refunded_credits') THEN
    RAISE EXCEPTION 'credits: transfer % is immutable', OLD.transfer_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER transfers_guard BEFORE UPDATE ON transfers
  FOR EACH ROW EXECUTE FUNCTION credits_guard_transfers();

CREATE FUNCTION credits_guard_holds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.state <> 1 OR NEW.state = 1
     OR (to_jsonb(NEW) - 'state' - 'captured_credits' - 'settled_at')
        <> (to_jsonb(OLD) - 'state' - 'captured_credits' - 'settled_at') THEN
    RAISE EXCEPTION 'credits: hold % can only be settled once, from pending', OLD.hold_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER holds_guard BEFORE UPDATE ON holds
  FOR EACH ROW EXECUTE FUNCTION credits_guard_holds();

CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION credits_refuse();
CREATE TRIGGER system_balance_shards_no_delete BEFORE DELETE ON system_balance_shards
  FOR EACH ROW EXECUTE FUNCTION credits_refuse();
CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
  FOR EACH ROW EXECUTE FUNCTION credits_refuse();
CREATE TRIGGER holds_no_delete BEFORE DELETE ON holds
  FOR EACH ROW EXECUTE FUNCTION credits_refuse();
CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION credits_refuse();
CREATE TRIGGER idempotency_keys_immutable_response BEFORE UPDATE ON idempotency_keys
  FOR EACH ROW WHEN (OLD.response IS NOT NULL) EXECUTE FUNCTION credits_refuse();
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION credits_refuse();
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
  FOR EACH STATEMENT EXECUTE FUNCTION credits_refuse();
CREATE TRIGGER holds_no_truncate BEFORE TRUNCATE ON holds
  FOR EACH STATEMENT EXECUTE FUNCTION credits_refuse();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION credits_refuse();
