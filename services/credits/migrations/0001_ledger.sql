-- The credits ledger: accounts, holds, transfers, the audit chain and idempotency records.
--
-- The database enforces the ledger's invariants itself, so a bug in the service (or a person
-- with a SQL prompt and the service's role) cannot break them:
--   * balances change only through transfers and holds: triggers derive posted and pending
--     balances; a direct UPDATE of a balance column is refused;
--   * every posted transfer credits one account and debits another by the same amount, so the
--     sum of all balances stays zero: each tenant row carries its own posted balance AND its
--     contribution to each system account's balance, and a CHECK keeps their sum at zero per
--     row (so globally too);
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
  posted_credits          bigint NOT NULL DEFAULT 0,
  -- Tenant accounts only: this tenant's share of each system account's balance. A system
  -- account's balance is the sum of its column over all tenant rows. Keeping the other side of
  -- every transfer on the tenant's own (already locked) row means tenants never queue on a
  -- shared revenue row, and double entry becomes a per-row CHECK.
  revenue_credits          bigint NOT NULL DEFAULT 0,
  promotions_credits       bigint NOT NULL DEFAULT 0,
  payment_clearing_credits bigint NOT NULL DEFAULT 0,
  pending_credits         bigint NOT NULL DEFAULT 0 CHECK (pending_credits >= 0),
  -- Head of the account's audit chain: last sequence number and its HMAC.
  sequence                bigint NOT NULL DEFAULT 0 CHECK (sequence >= 0),
  head_hmac               bytea NOT NULL DEFAULT '\x'::bytea,
  created_at              timestamptz NOT NULL,
  CONSTRAINT accounts_available_within_overdraft
    CHECK (kind <> 1 OR posted_credits - pending_credits >= -overdraft_limit_credits),
  CONSTRAINT accounts_double_entry
    CHECK (posted_credits + revenue_credits + promotions_credits + payment_clearing_credits = 0),
  CONSTRAINT accounts_system_balance_on_tenant_rows
    CHECK (kind = 1 OR (posted_credits = 0 AND pending_credits = 0 AND revenue_credits = 0
                        AND promotions_credits = 0 AND payment_clearing_credits = 0))
);
CREATE UNIQUE INDEX accounts_one_per_tenant ON accounts (tenant_id) WHERE kind = 1;
CREATE UNIQUE INDEX accounts_one_per_system_kind ON accounts (kind) WHERE kind <> 1;

INSERT INTO accounts (account_id, tenant_id, kind, created_at) VALUES
  ('system:revenue', '_platform', 2, now()),
  ('system:promotions', '_platform', 3, now()),
  ('system:payment_clearing', '_platform', 4, now());

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
  -- One side is the tenant account (account_id), the other a system account (CHECK below;
  -- no foreign key: a key-share lock on the hot system rows would serialise tenants).
  debit_account_id         text NOT NULL,
  credit_account_id        text NOT NULL,
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
  CONSTRAINT transfers_tenant_to_system CHECK (
    (account_id = debit_account_id AND credit_account_id IN
       ('system:revenue', 'system:promotions', 'system:payment_clearing'))
    OR (account_id = credit_account_id AND debit_account_id IN
       ('system:revenue', 'system:promotions', 'system:payment_clearing'))),
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
-- transfers updates each tenant row once). The tenant side moves posted_credits; the system
-- side moves the tenant row's share column of that system account.
CREATE FUNCTION credits_post_transfers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE accounts a SET
    posted_credits = a.posted_credits + m.d_posted,
    revenue_credits = a.revenue_credits + m.d_revenue,
    promotions_credits = a.promotions_credits + m.d_promotions,
    payment_clearing_credits = a.payment_clearing_credits + m.d_clearing
  FROM (SELECT account_id,
               sum(CASE WHEN credit_account_id = account_id THEN amount_credits
                        ELSE -amount_credits END)::bigint AS d_posted,
               sum(CASE WHEN credit_account_id = 'system:revenue' THEN amount_credits
                        WHEN debit_account_id = 'system:revenue' THEN -amount_credits
                        ELSE 0 END)::bigint AS d_revenue,
               sum(CASE WHEN credit_account_id = 'system:promotions' THEN amount_credits
                        WHEN debit_account_id = 'system:promotions' THEN -amount_credits
                        ELSE 0 END)::bigint AS d_promotions,
               sum(CASE WHEN credit_account_id = 'system:payment_clearing' THEN amount_credits
                        WHEN debit_account_id = 'system:payment_clearing' THEN -amount_credits
                        ELSE 0 END)::bigint AS d_clearing
        FROM new_transfers WHERE kind IN (1, 2, 4, 7, 8) GROUP BY account_id) m
  WHERE a.account_id = m.account_id AND a.kind = 1;

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
                                 OR NEW.pending_credits <> OLD.pending_credits
                                 OR NEW.revenue_credits <> OLD.revenue_credits
                                 OR NEW.promotions_credits <> OLD.promotions_credits
                                 OR NEW.payment_clearing_credits
                                    <> OLD.payment_clearing_credits) THEN
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

-- The one-round-trip write used when the service already knows the account's state: claims
-- the key, and applies the writes only if the account's chain head is still
-- p_expected_sequence (every change to an account's balance or settings moves its sequence,
-- so an unchanged sequence means the service decided on current state). Otherwise raises
-- 40001 and nothing remains (the service then re-decides under a row lock). A key already
-- recorded returns 'replay' with the stored record. Runs as a single autocommit statement.
CREATE FUNCTION credits_apply_optimistic(
  p_tenant text, p_key text, p_operation text, p_fingerprint text, p_now_us bigint,
  p_account text, p_expected_sequence bigint, p_head_sequence bigint, p_head_hmac text,
  p_alert_threshold bigint, p_response text,
  h_id text[], h_tn text[], h_ac text[], h_am bigint[], h_uk smallint[], h_rf text[],
  h_ex bigint[], h_cr bigint[],
  t_id text[], t_tn text[], t_ac text[], t_sq bigint[], t_kd smallint[], t_db text[],
  t_cd text[], t_am bigint[], t_uk smallint[], t_qt bigint[], t_rf text[], t_hd text[],
  t_rt text[], t_pp text[], t_pr text[], t_pn text[], t_pu boolean[], t_ik text[], t_rs text[],
  t_ps bigint[], t_pe bigint[], t_cr bigint[],
  a_ac text[], a_sq bigint[], a_ek text[], a_ti text[], a_pl text[], a_ph text[], a_hm text[])
RETURNS TABLE (outcome text, stored_operation text, stored_fingerprint text,
               stored_response text)
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO idempotency_keys (tenant_id, idempotency_key, operation, fingerprint, created_at)
  VALUES (p_tenant, p_key, p_operation, decode(p_fingerprint, 'hex'),
          'epoch'::timestamptz + p_now_us * interval '1 microsecond')
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'replay'::text, k.operation, encode(k.fingerprint, 'hex'),
                        coalesce(k.response, '')
                 FROM idempotency_keys k
                 WHERE k.tenant_id = p_tenant AND k.idempotency_key = p_key;
    RETURN;
  END IF;
  UPDATE accounts a SET sequence = p_head_sequence, head_hmac = decode(p_head_hmac, 'hex'),
    alert_threshold_credits = CASE WHEN p_alert_threshold >= 0 THEN p_alert_threshold
                                   ELSE a.alert_threshold_credits END
  WHERE a.account_id = p_account AND a.sequence = p_expected_sequence;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'credits: account % changed since it was read', p_account
      USING ERRCODE = 'serialization_failure';
  END IF;
  INSERT INTO holds (hold_id, tenant_id, account_id, amount_credits, state, usage_kind,
                     reference, expires_at, created_at)
  SELECT u.id, u.tn, u.ac, u.am, 1, u.uk, u.rf,
         'epoch'::timestamptz + u.ex * interval '1 microsecond',
         'epoch'::timestamptz + u.cr * interval '1 microsecond'
  FROM unnest(h_id, h_tn, h_ac, h_am, h_uk, h_rf, h_ex, h_cr)
       AS u(id, tn, ac, am, uk, rf, ex, cr);
  INSERT INTO transfers (transfer_id, tenant_id, account_id, sequence, kind, debit_account_id,
                         credit_account_id, amount_credits, usage_kind, quantity, reference,
                         hold_id, refunded_transfer_id, payment_provider, payment_reference,
                         payment_note, payment_reference_unique, idempotency_key, reason,
                         period_start, period_end, created_at)
  SELECT u.id, u.tn, u.ac, u.sq, u.kd, u.db, u.cd, u.am, u.uk, u.qt, u.rf, nullif(u.hd, ''),
         nullif(u.rt, ''), u.pp, u.pr, u.pn, u.pu, u.ik, u.rs,
         'epoch'::timestamptz + u.ps * interval '1 microsecond',
         'epoch'::timestamptz + u.pe * interval '1 microsecond',
         'epoch'::timestamptz + u.cr * interval '1 microsecond'
  FROM unnest(t_id, t_tn, t_ac, t_sq, t_kd, t_db, t_cd, t_am, t_uk, t_qt, t_rf, t_hd, t_rt,
              t_pp, t_pr, t_pn, t_pu, t_ik, t_rs, t_ps, t_pe, t_cr)
       AS u(id, tn, ac, sq, kd, db, cd, am, uk, qt, rf, hd, rt, pp, pr, pn, pu, ik, rs, ps, pe,
            cr);
  INSERT INTO audit_entries (account_id, sequence, entry_kind, transfer_id, payload, prev_hmac,
                             hmac)
  SELECT u.ac, u.sq, u.ek, nullif(u.ti, ''), u.pl, decode(u.ph, 'hex'), decode(u.hm, 'hex')
  FROM unnest(a_ac, a_sq, a_ek, a_ti, a_pl, a_ph, a_hm) AS u(ac, sq, ek, ti, pl, ph, hm);
  UPDATE idempotency_keys k SET response = p_response
  WHERE k.tenant_id = p_tenant AND k.idempotency_key = p_key;
  RETURN QUERY SELECT 'applied'::text, ''::text, ''::text, ''::text;
END $$;
