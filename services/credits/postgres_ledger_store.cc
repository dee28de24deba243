#include "services/credits/postgres_ledger_store.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/base/status_macros.h"
#include "libs/pg/pg_status.h"
#include "libs/pg/transaction.h"
#include "pqxx/pqxx"

namespace shieldx::credits {
namespace {

// SQL fragments: timestamps cross the wire as integer Unix microseconds (exact, no floats).
#define TS(p) "('epoch'::timestamptz + (" p ")::bigint * interval '1 microsecond')"
#define US(c) "(extract(epoch from " c ") * 1000000)::bigint"

constexpr char kAccountCols[] =
    "account_id, tenant_id, kind, overdraft_limit_credits, alert_threshold_credits, "
    "posted_credits, pending_credits, sequence, encode(head_hmac, 'hex'), " US("created_at");

constexpr char kTransferCols[] =
    "t.transfer_id, t.tenant_id, t.account_id, t.sequence, t.kind, t.debit_account_id, "
    "t.credit_account_id, t.amount_credits, t.usage_kind, t.quantity, t.reference, "
    "coalesce(t.hold_id, ''), coalesce(t.refunded_transfer_id, ''), t.refunded_credits, "
    "t.payment_provider, t.payment_reference, t.payment_note, t.payment_reference_unique, "
    "t.idempotency_key, t.reason, " US("t.period_start") ", " US("t.period_end") ", " US(
        "t.created_at");
constexpr int kTransferColCount = 23;

constexpr char kHoldCols[] =
    "hold_id, tenant_id, account_id, amount_credits, captured_credits, state, usage_kind, "
    "reference, " US("expires_at") ", " US("created_at") ", " US("settled_at");

struct Statement {
  const char* name;
  std::string sql;
};

const std::vector<Statement>& Statements() {
  static const auto* s = new std::vector<Statement>{
      {"credits_claim",
       absl::StrCat(
           "WITH claim AS (INSERT INTO idempotency_keys "
           "(tenant_id, idempotency_key, operation, fingerprint, created_at) "
           "VALUES ($1, $2, $3, decode($4, 'hex'), " TS(
               "$5") ") "
                     "ON CONFLICT DO NOTHING RETURNING 1) "
                     "SELECT c.claimed, a.* FROM (SELECT count(*) AS claimed FROM claim) c "
                     "LEFT JOIN LATERAL (SELECT ",
           kAccountCols,
           " FROM accounts WHERE tenant_id = $1 AND kind = 1 AND c.claimed > 0 FOR UPDATE) a "
           "ON true")},
      {"credits_stored_key",
       "SELECT operation, encode(fingerprint, 'hex'), coalesce(response, '') "
       "FROM idempotency_keys WHERE tenant_id = $1 AND idempotency_key = $2"},
      {"credits_lock_account",
       absl::StrCat("SELECT ", kAccountCols, " FROM accounts WHERE account_id = $1 FOR UPDATE")},
      {"credits_lock_account_skip",
       absl::StrCat("SELECT ", kAccountCols,
                    " FROM accounts WHERE account_id = $1 FOR UPDATE SKIP LOCKED")},
      {"credits_get_hold",
       absl::StrCat("SELECT ", kHoldCols, " FROM holds WHERE hold_id = $1 AND account_id = $2")},
      {"credits_due_holds",
       absl::StrCat("SELECT ", kHoldCols,
                    " FROM holds WHERE account_id = $1 AND state = 1 AND expires_at <= " TS(
                        "$2") " ORDER BY expires_at LIMIT $3 FOR UPDATE")},
      {"credits_get_transfer",
       absl::StrCat("SELECT ", kTransferCols,
                    " FROM transfers t WHERE t.transfer_id = $1 AND t.account_id = $2")},
      {"credits_payment_recorded",
       "SELECT 1 FROM transfers WHERE kind = 1 AND payment_reference_unique "
       "AND payment_provider = $1 AND payment_reference = $2"},
      {"credits_insert_account",
       "INSERT INTO accounts (account_id, tenant_id, kind, overdraft_limit_credits, "
       "alert_threshold_credits, created_at) VALUES ($1, $2, 1, $3, $4, " TS("$5") ")"},
      {"credits_settle_holds",
       "UPDATE holds h SET state = u.state, captured_credits = u.captured, settled_at = " TS(
           "u.at") " FROM unnest($1::text[], $2::smallint[], $3::bigint[], $4::bigint[]) "
                   "AS u(id, state, captured, at) WHERE h.hold_id = u.id"},
      {"credits_write",
       // $1..$9 holds, $10..$31 transfers, $32..$38 audit, $39..$42 head, $43..$45 key.
       "WITH nh AS (INSERT INTO holds (hold_id, tenant_id, account_id, amount_credits, state, "
       "usage_kind, reference, expires_at, created_at) "
       "SELECT id, tn, ac, am, 1, uk, rf, " TS("ex") ", " TS(
           "cr") " FROM unnest("
                 "$1::text[], $2::text[], $3::text[], $4::bigint[], $5::smallint[], $6::text[], "
                 "$7::bigint[], $8::bigint[]) AS u(id, tn, ac, am, uk, rf, ex, cr) WHERE $9::int "
                 ">= 0), "
                 "nt AS (INSERT INTO transfers (transfer_id, tenant_id, account_id, sequence, "
                 "kind, "
                 "debit_account_id, credit_account_id, amount_credits, usage_kind, quantity, "
                 "reference, "
                 "hold_id, refunded_transfer_id, payment_provider, payment_reference, "
                 "payment_note, "
                 "payment_reference_unique, idempotency_key, reason, period_start, period_end, "
                 "created_at) "
                 "SELECT id, tn, ac, sq, kd, db, cd, am, uk, qt, rf, nullif(hd, ''), nullif(rt, "
                 "''), pp, "
                 "pr, pn, pu, ik, rs, " TS("ps") ", " TS("pe") ", " TS(
                     "cr") " FROM unnest("
                           "$10::text[], $11::text[], $12::text[], $13::bigint[], $14::smallint[], "
                           "$15::text[], "
                           "$16::text[], $17::bigint[], $18::smallint[], $19::bigint[], "
                           "$20::text[], $21::text[], "
                           "$22::text[], $23::text[], $24::text[], $25::text[], $26::boolean[], "
                           "$27::text[], "
                           "$28::text[], $29::bigint[], $30::bigint[], $31::bigint[]) "
                           "AS u(id, tn, ac, sq, kd, db, cd, am, uk, qt, rf, hd, rt, pp, pr, pn, "
                           "pu, ik, rs, ps, pe, "
                           "cr)), "
                           "na AS (INSERT INTO audit_entries (account_id, sequence, entry_kind, "
                           "transfer_id, payload, "
                           "prev_hmac, hmac) SELECT ac, sq, ek, nullif(ti, ''), pl, decode(ph, "
                           "'hex'), "
                           "decode(hm, 'hex') FROM unnest($32::text[], $33::bigint[], $34::text[], "
                           "$35::text[], "
                           "$36::text[], $37::text[], $38::text[]) AS u(ac, sq, ek, ti, pl, ph, "
                           "hm)), "
                           "ik AS (UPDATE idempotency_keys SET response = $45 "
                           "WHERE tenant_id = $43 AND idempotency_key = $44 AND $44 <> '') "
                           "UPDATE accounts SET sequence = $40, head_hmac = decode($41, 'hex'), "
                           "alert_threshold_credits = CASE WHEN $42::bigint >= 0 THEN $42::bigint "
                           "ELSE alert_threshold_credits END WHERE account_id = $39"},
      // Group commit. Keys are inserted in (tenant, key) order and accounts locked in id order,
      // so concurrent groups never wait on each other in a cycle.
      {"credits_claim_many",
       "INSERT INTO idempotency_keys (tenant_id, idempotency_key, operation, fingerprint, "
       "created_at) SELECT tn, ik, op, decode(fp, 'hex'), " TS(
           "cr") " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) "
                 "AS u(tn, ik, op, fp, cr) ORDER BY tn, ik "
                 "ON CONFLICT DO NOTHING RETURNING tenant_id, idempotency_key"},
      {"credits_lock_tenants",
       absl::StrCat("SELECT ", kAccountCols,
                    " FROM accounts WHERE kind = 1 AND tenant_id = ANY($1::text[]) "
                    "ORDER BY account_id FOR UPDATE")},
      {"credits_stored_keys",
       "SELECT k.tenant_id, k.idempotency_key, k.operation, encode(k.fingerprint, 'hex'), "
       "coalesce(k.response, '') FROM idempotency_keys k JOIN unnest($1::text[], $2::text[]) "
       "AS u(tn, ik) ON k.tenant_id = u.tn AND k.idempotency_key = u.ik"},
      {"credits_write_many",
       // $1..$8 holds, $9..$30 transfers, $31..$37 audit, $38..$41 heads, $42..$44 responses,
       // $45..$46 released keys.
       "WITH nh AS (INSERT INTO holds (hold_id, tenant_id, account_id, amount_credits, state, "
       "usage_kind, reference, expires_at, created_at) SELECT id, tn, ac, am, 1, uk, rf, " TS(
           "ex") ", " TS("cr") " FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], "
                               "$5::smallint[], $6::text[], $7::bigint[], $8::bigint[]) "
                               "AS u(id, tn, ac, am, uk, rf, ex, cr)), "
                               "nt AS (INSERT INTO transfers (transfer_id, tenant_id, account_id, "
                               "sequence, kind, "
                               "debit_account_id, credit_account_id, amount_credits, usage_kind, "
                               "quantity, reference, "
                               "hold_id, refunded_transfer_id, payment_provider, "
                               "payment_reference, payment_note, "
                               "payment_reference_unique, idempotency_key, reason, period_start, "
                               "period_end, created_at) "
                               "SELECT id, tn, ac, sq, kd, db, cd, am, uk, qt, rf, nullif(hd, ''), "
                               "nullif(rt, ''), pp, "
                               "pr, pn, pu, ik, rs, " TS("ps") ", " TS("pe") ", " TS(
                                   "cr") " FROM unnest($9::text[], $10::text[], $11::text[], "
                                         "$12::bigint[], "
                                         "$13::smallint[], $14::text[], $15::text[], "
                                         "$16::bigint[], $17::smallint[], "
                                         "$18::bigint[], $19::text[], $20::text[], $21::text[], "
                                         "$22::text[], $23::text[], "
                                         "$24::text[], $25::boolean[], $26::text[], $27::text[], "
                                         "$28::bigint[], "
                                         "$29::bigint[], $30::bigint[]) AS u(id, tn, ac, sq, kd, "
                                         "db, cd, am, uk, qt, rf, "
                                         "hd, rt, pp, pr, pn, pu, ik, rs, ps, pe, cr)), "
                                         "na AS (INSERT INTO audit_entries (account_id, sequence, "
                                         "entry_kind, transfer_id, payload, "
                                         "prev_hmac, hmac) SELECT ac, sq, ek, nullif(ti, ''), pl, "
                                         "decode(ph, 'hex'), "
                                         "decode(hm, 'hex') FROM unnest($31::text[], "
                                         "$32::bigint[], $33::text[], $34::text[], "
                                         "$35::text[], $36::text[], $37::text[]) AS u(ac, sq, ek, "
                                         "ti, pl, ph, hm)), "
                                         "ik AS (UPDATE idempotency_keys k SET response = u.rs "
                                         "FROM unnest($42::text[], "
                                         "$43::text[], $44::text[]) AS u(tn, ik, rs) WHERE "
                                         "k.tenant_id = u.tn "
                                         "AND k.idempotency_key = u.ik), "
                                         "rk AS (DELETE FROM idempotency_keys k USING "
                                         "unnest($45::text[], $46::text[]) AS u(tn, ik) "
                                         "WHERE k.tenant_id = u.tn AND k.idempotency_key = u.ik "
                                         "AND k.response IS NULL) "
                                         "UPDATE accounts a SET sequence = u.sq, head_hmac = "
                                         "decode(u.hm, 'hex'), "
                                         "alert_threshold_credits = CASE WHEN u.th >= 0 THEN u.th "
                                         "ELSE a.alert_threshold_credits "
                                         "END FROM unnest($38::text[], $39::bigint[], $40::text[], "
                                         "$41::bigint[]) "
                                         "AS u(ac, sq, hm, th) WHERE a.account_id = u.ac RETURNING "
                                         "1"},
      {"credits_apply_optimistic",
       "SELECT outcome, stored_operation, stored_fingerprint, stored_response FROM "
       "credits_apply_optimistic($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
       "$15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, "
       "$32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44, $45, $46, $47, $48)"},
  };
  return *s;
}

void Prepare(pqxx::connection_base& conn) {
  for (const Statement& s : Statements()) conn.prepare(s.name, s.sql);
}

// ---- array literals -----------------------------------------------------------------------

class PgArray {
 public:
  PgArray& Text(const std::string& v) {
    Sep();
    out_.push_back('"');
    for (char c : v) {
      if (c == '"' || c == '\\') out_.push_back('\\');
      out_.push_back(c);
    }
    out_.push_back('"');
    return *this;
  }
  PgArray& Int(int64_t v) {
    Sep();
    absl::StrAppend(&out_, v);
    return *this;
  }
  PgArray& Bool(bool v) {
    Sep();
    out_ += v ? "t" : "f";
    return *this;
  }
  PgArray& Time(const std::optional<absl::Time>& t) {
    Sep();
    if (t.has_value()) {
      absl::StrAppend(&out_, absl::ToUnixMicros(*t));
    } else {
      out_ += "NULL";
    }
    return *this;
  }
  std::string Done() const { return out_ + "}"; }

 private:
  void Sep() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  std::string out_ = "{";
  bool first_ = true;
};

std::string Hex(const std::string& raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Unhex(const std::string& hex) {
  auto v = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(v(hex[i]) * 16 + v(hex[i + 1])));
  }
  return out;
}

// ---- row parsing --------------------------------------------------------------------------

std::optional<absl::Time> OptTime(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return absl::FromUnixMicros(f.as<int64_t>());
}

AccountState ParseAccount(const pqxx::row& r, int o) {
  AccountState a;
  a.account.account_id = r[o].as<std::string>();
  a.account.tenant_id = r[o + 1].as<std::string>();
  a.account.kind = static_cast<AccountKind>(r[o + 2].as<int>());
  a.account.overdraft_limit_credits = r[o + 3].as<int64_t>();
  a.account.alert_threshold_credits = r[o + 4].as<int64_t>();
  a.posted_credits = r[o + 5].as<int64_t>();
  a.pending_credits = r[o + 6].as<int64_t>();
  a.sequence = r[o + 7].as<int64_t>();
  a.head_hmac = Unhex(r[o + 8].as<std::string>());
  a.account.created_at = absl::FromUnixMicros(r[o + 9].as<int64_t>());
  return a;
}

Transfer ParseTransfer(const pqxx::row& r, int o) {
  Transfer t;
  t.transfer_id = r[o].as<std::string>();
  t.tenant_id = r[o + 1].as<std::string>();
  t.account_id = r[o + 2].as<std::string>();
  t.sequence = r[o + 3].as<int64_t>();
  t.kind = static_cast<TransferKind>(r[o + 4].as<int>());
  t.debit_account_id = r[o + 5].as<std::string>();
  t.credit_account_id = r[o + 6].as<std::string>();
  t.amount_credits = r[o + 7].as<int64_t>();
  t.usage_kind = static_cast<UsageKind>(r[o + 8].as<int>());
  t.quantity = r[o + 9].as<int64_t>();
  t.reference = r[o + 10].as<std::string>();
  t.hold_id = r[o + 11].as<std::string>();
  t.refunded_transfer_id = r[o + 12].as<std::string>();
  t.refunded_credits = r[o + 13].as<int64_t>();
  t.payment.provider = r[o + 14].as<std::string>();
  t.payment.external_reference = r[o + 15].as<std::string>();
  t.payment.note = r[o + 16].as<std::string>();
  t.payment_reference_unique = r[o + 17].as<bool>();
  t.idempotency_key = r[o + 18].as<std::string>();
  t.reason = r[o + 19].as<std::string>();
  t.period_start = OptTime(r[o + 20]);
  t.period_end = OptTime(r[o + 21]);
  t.created_at = absl::FromUnixMicros(r[o + 22].as<int64_t>());
  return t;
}

Hold ParseHold(const pqxx::row& r) {
  Hold h;
  h.hold_id = r[0].as<std::string>();
  h.tenant_id = r[1].as<std::string>();
  h.account_id = r[2].as<std::string>();
  h.amount_credits = r[3].as<int64_t>();
  h.captured_credits = r[4].as<int64_t>();
  h.state = static_cast<HoldState>(r[5].as<int>());
  h.usage_kind = static_cast<UsageKind>(r[6].as<int>());
  h.reference = r[7].as<std::string>();
  h.expires_at = absl::FromUnixMicros(r[8].as<int64_t>());
  h.created_at = absl::FromUnixMicros(r[9].as<int64_t>());
  h.settled_at = OptTime(r[10]);
  return h;
}

std::string IntArray(const std::vector<int>& v) {
  PgArray a;
  for (int x : v) a.Int(x);
  return a.Done();
}

// The unnest() arrays of a write set: 8 for holds, 22 for transfers, 7 for audit entries.
std::vector<std::string> RowParams(const WriteSet& w) {
  PgArray h_id, h_tn, h_ac, h_am, h_uk, h_rf, h_ex, h_cr;
  for (const Hold& h : w.new_holds) {
    h_id.Text(h.hold_id);
    h_tn.Text(h.tenant_id);
    h_ac.Text(h.account_id);
    h_am.Int(h.amount_credits);
    h_uk.Int(static_cast<int>(h.usage_kind));
    h_rf.Text(h.reference);
    h_ex.Time(h.expires_at);
    h_cr.Time(h.created_at);
  }
  PgArray t_id, t_tn, t_ac, t_sq, t_kd, t_db, t_cd, t_am, t_uk, t_qt, t_rf, t_hd, t_rt, t_pp, t_pr,
      t_pn, t_pu, t_ik, t_rs, t_ps, t_pe, t_cr;
  for (const Transfer& t : w.transfers) {
    t_id.Text(t.transfer_id);
    t_tn.Text(t.tenant_id);
    t_ac.Text(t.account_id);
    t_sq.Int(t.sequence);
    t_kd.Int(static_cast<int>(t.kind));
    t_db.Text(t.debit_account_id);
    t_cd.Text(t.credit_account_id);
    t_am.Int(t.amount_credits);
    t_uk.Int(static_cast<int>(t.usage_kind));
    t_qt.Int(t.quantity);
    t_rf.Text(t.reference);
    t_hd.Text(t.hold_id);
    t_rt.Text(t.refunded_transfer_id);
    t_pp.Text(t.payment.provider);
    t_pr.Text(t.payment.external_reference);
    t_pn.Text(t.payment.note);
    t_pu.Bool(t.payment_reference_unique);
    t_ik.Text(t.idempotency_key);
    t_rs.Text(t.reason);
    t_ps.Time(t.period_start);
    t_pe.Time(t.period_end);
    t_cr.Time(t.created_at);
  }
  PgArray a_ac, a_sq, a_ek, a_ti, a_pl, a_ph, a_hm;
  for (const AuditEntry& e : w.audit) {
    a_ac.Text(e.account_id);
    a_sq.Int(e.sequence);
    a_ek.Text(e.entry_kind);
    a_ti.Text(e.transfer_id);
    a_pl.Text(e.payload);
    a_ph.Text(Hex(e.prev_hmac));
    a_hm.Text(Hex(e.hmac));
  }
  return {h_id.Done(), h_tn.Done(), h_ac.Done(), h_am.Done(), h_uk.Done(), h_rf.Done(), h_ex.Done(),
          h_cr.Done(), t_id.Done(), t_tn.Done(), t_ac.Done(), t_sq.Done(), t_kd.Done(), t_db.Done(),
          t_cd.Done(), t_am.Done(), t_uk.Done(), t_qt.Done(), t_rf.Done(), t_hd.Done(), t_rt.Done(),
          t_pp.Done(), t_pr.Done(), t_pn.Done(), t_pu.Done(), t_ik.Done(), t_rs.Done(), t_ps.Done(),
          t_pe.Done(), t_cr.Done(), a_ac.Done(), a_sq.Done(), a_ek.Done(), a_ti.Done(), a_pl.Done(),
          a_ph.Done(), a_hm.Done()};
}

// ---- the transaction ----------------------------------------------------------------------

class PgTx final : public LedgerTransaction {
 public:
  explicit PgTx(pqxx::work& tx) : tx_(tx) {}

  absl::StatusOr<ClaimResult> ClaimKeyAndLockAccount(const KeyClaim& c) override {
    return Guard([&]() -> absl::StatusOr<ClaimResult> {
      ClaimResult r;
      pqxx::row row =
          tx_.exec_prepared1("credits_claim", c.tenant_id, c.idempotency_key, c.operation,
                             Hex(c.fingerprint), absl::ToUnixMicros(c.now));
      if (row[0].as<int64_t>() > 0) {
        r.claimed = true;
        if (!row[1].is_null()) r.account = ParseAccount(row, 1);
        return r;
      }
      pqxx::result stored = tx_.exec_prepared("credits_stored_key", c.tenant_id, c.idempotency_key);
      if (stored.empty()) {
        // Claimed by a transaction that rolled back after we looked: try again.
        return absl::AbortedError("idempotency key claim raced with a rollback");
      }
      r.stored_operation = stored[0][0].as<std::string>();
      r.stored_fingerprint = Unhex(stored[0][1].as<std::string>());
      r.stored_response = stored[0][2].as<std::string>();
      return r;
    });
  }

  absl::StatusOr<std::optional<AccountState>> LockAccount(const std::string& account_id,
                                                          bool skip_locked) override {
    return Guard([&]() -> absl::StatusOr<std::optional<AccountState>> {
      pqxx::result r = tx_.exec_prepared(
          skip_locked ? "credits_lock_account_skip" : "credits_lock_account", account_id);
      if (r.empty()) return std::optional<AccountState>();
      return std::optional<AccountState>(ParseAccount(r[0], 0));
    });
  }

  absl::StatusOr<std::optional<Hold>> GetHold(const std::string& account_id,
                                              const std::string& hold_id) override {
    return Guard([&]() -> absl::StatusOr<std::optional<Hold>> {
      pqxx::result r = tx_.exec_prepared("credits_get_hold", hold_id, account_id);
      if (r.empty()) return std::optional<Hold>();
      return std::optional<Hold>(ParseHold(r[0]));
    });
  }

  absl::StatusOr<std::vector<Hold>> DueHolds(const std::string& account_id, absl::Time now,
                                             int limit) override {
    return Guard([&]() -> absl::StatusOr<std::vector<Hold>> {
      pqxx::result r =
          tx_.exec_prepared("credits_due_holds", account_id, absl::ToUnixMicros(now), limit);
      std::vector<Hold> out;
      for (const auto& row : r) out.push_back(ParseHold(row));
      return out;
    });
  }

  absl::StatusOr<std::optional<Transfer>> GetTransfer(const std::string& account_id,
                                                      const std::string& transfer_id) override {
    return Guard([&]() -> absl::StatusOr<std::optional<Transfer>> {
      pqxx::result r = tx_.exec_prepared("credits_get_transfer", transfer_id, account_id);
      if (r.empty()) return std::optional<Transfer>();
      return std::optional<Transfer>(ParseTransfer(r[0], 0));
    });
  }

  absl::StatusOr<bool> PaymentRecorded(const std::string& provider,
                                       const std::string& reference) override {
    return Guard([&]() -> absl::StatusOr<bool> {
      return !tx_.exec_prepared("credits_payment_recorded", provider, reference).empty();
    });
  }

  absl::Status Apply(const WriteSet& w) override {
    return Guard([&]() -> absl::StatusOr<bool> {
             ApplyOrThrow(w);
             return true;
           })
        .status();
  }

  absl::StatusOr<std::vector<ClaimResult>> ClaimKeysAndLockAccounts(
      const std::vector<KeyClaim>& claims) override {
    return Guard([&]() { return ClaimManyOrThrow(claims); });
  }

  absl::Status ApplyMany(
      const std::vector<WriteSet>& writes,
      const std::vector<std::pair<std::string, std::string>>& released) override {
    return Guard([&]() -> absl::StatusOr<bool> {
             ApplyManyOrThrow(writes, released);
             return true;
           })
        .status();
  }

 private:
  template <typename F>
  auto Guard(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const std::exception& e) {
      return pg::StatusFromPqxx(e);
    }
  }

  void ApplyOrThrow(const WriteSet& w);
  absl::StatusOr<std::vector<ClaimResult>> ClaimManyOrThrow(const std::vector<KeyClaim>& claims);
  void SettleOrThrow(const std::vector<HoldSettlement>& settled);
  void ApplyManyOrThrow(const std::vector<WriteSet>& writes,
                        const std::vector<std::pair<std::string, std::string>>& released);

  pqxx::work& tx_;
};

absl::StatusOr<std::vector<ClaimResult>> PgTx::ClaimManyOrThrow(
    const std::vector<KeyClaim>& claims) {
  using Key = std::pair<std::string, std::string>;
  PgArray tn, ik, op, fp, cr;
  for (const KeyClaim& c : claims) {
    tn.Text(c.tenant_id);
    ik.Text(c.idempotency_key);
    op.Text(c.operation);
    fp.Text(Hex(c.fingerprint));
    cr.Int(absl::ToUnixMicros(c.now));
  }
  std::set<Key> claimed;
  for (const auto& row : tx_.exec_prepared("credits_claim_many", tn.Done(), ik.Done(), op.Done(),
                                           fp.Done(), cr.Done())) {
    claimed.emplace(row[0].as<std::string>(), row[1].as<std::string>());
  }
  std::map<std::string, AccountState> accounts;  // by tenant
  std::set<std::string> tenants;
  PgArray lock_tn, st_tn, st_ik;
  bool any_stored = false;
  for (const KeyClaim& c : claims) {
    if (claimed.count({c.tenant_id, c.idempotency_key}) > 0) {
      if (tenants.insert(c.tenant_id).second) lock_tn.Text(c.tenant_id);
    } else {
      st_tn.Text(c.tenant_id);
      st_ik.Text(c.idempotency_key);
      any_stored = true;
    }
  }
  if (!tenants.empty()) {
    for (const auto& row : tx_.exec_prepared("credits_lock_tenants", lock_tn.Done())) {
      AccountState a = ParseAccount(row, 0);
      accounts.emplace(a.account.tenant_id, std::move(a));
    }
  }
  std::map<Key, ClaimResult> stored;
  if (any_stored) {
    // A new statement: its snapshot sees the keys whose claimers we waited for.
    for (const auto& row : tx_.exec_prepared("credits_stored_keys", st_tn.Done(), st_ik.Done())) {
      ClaimResult r;
      r.stored_operation = row[2].as<std::string>();
      r.stored_fingerprint = Unhex(row[3].as<std::string>());
      r.stored_response = row[4].as<std::string>();
      stored.emplace(Key(row[0].as<std::string>(), row[1].as<std::string>()), std::move(r));
    }
  }
  std::vector<ClaimResult> out;
  out.reserve(claims.size());
  for (const KeyClaim& c : claims) {
    const Key key(c.tenant_id, c.idempotency_key);
    if (claimed.count(key) > 0) {
      ClaimResult r;
      r.claimed = true;
      auto it = accounts.find(c.tenant_id);
      if (it != accounts.end()) r.account = it->second;
      out.push_back(std::move(r));
      continue;
    }
    auto it = stored.find(key);
    if (it == stored.end()) {
      // Claimed by a transaction that rolled back after we looked: try again.
      return absl::AbortedError("idempotency key claim raced with a rollback");
    }
    out.push_back(it->second);
  }
  return out;
}

void PgTx::SettleOrThrow(const std::vector<HoldSettlement>& settled) {
  if (settled.empty()) return;
  PgArray id, st, cap, at;
  for (const HoldSettlement& h : settled) {
    id.Text(h.hold_id);
    st.Int(static_cast<int>(h.state));
    cap.Int(h.captured_credits);
    at.Time(h.settled_at);
  }
  pqxx::result r =
      tx_.exec_prepared("credits_settle_holds", id.Done(), st.Done(), cap.Done(), at.Done());
  if (r.affected_rows() != settled.size()) {
    throw pqxx::unexpected_rows("credits: a settled hold does not exist");
  }
}

void PgTx::ApplyManyOrThrow(const std::vector<WriteSet>& writes,
                            const std::vector<std::pair<std::string, std::string>>& released) {
  // All rows of all calls in one write set; chain heads merged per account (the last call's
  // head wins, and the last threshold set).
  WriteSet all;
  std::vector<HoldSettlement> settled;
  struct Head {
    int64_t sequence;
    std::string hmac;
    int64_t threshold;
  };
  std::map<std::string, Head> heads;
  PgArray k_tn, k_ik, k_rs;
  for (const WriteSet& w : writes) {
    if (w.new_account.has_value()) {
      throw pqxx::usage_error("credits: a group write set cannot open an account");
    }
    settled.insert(settled.end(), w.settled_holds.begin(), w.settled_holds.end());
    all.new_holds.insert(all.new_holds.end(), w.new_holds.begin(), w.new_holds.end());
    all.transfers.insert(all.transfers.end(), w.transfers.begin(), w.transfers.end());
    all.audit.insert(all.audit.end(), w.audit.begin(), w.audit.end());
    if (!w.account_id.empty()) {
      Head& h = heads.try_emplace(w.account_id, Head{0, "", -1}).first->second;
      h.sequence = w.head_sequence;
      h.hmac = w.head_hmac;
      if (w.new_alert_threshold_credits.has_value()) h.threshold = *w.new_alert_threshold_credits;
    }
    if (!w.idempotency_key.empty()) {
      k_tn.Text(w.tenant_id);
      k_ik.Text(w.idempotency_key);
      k_rs.Text(w.response);
    }
  }
  SettleOrThrow(settled);
  PgArray h_ac, h_sq, h_hm, h_th, r_tn, r_ik;
  for (const auto& [account_id, h] : heads) {
    h_ac.Text(account_id);
    h_sq.Int(h.sequence);
    h_hm.Text(Hex(h.hmac));
    h_th.Int(h.threshold);
  }
  for (const auto& [tenant_id, key] : released) {
    r_tn.Text(tenant_id);
    r_ik.Text(key);
  }
  std::vector<std::string> p = RowParams(all);
  for (std::string v : {h_ac.Done(), h_sq.Done(), h_hm.Done(), h_th.Done(), k_tn.Done(),
                        k_ik.Done(), k_rs.Done(), r_tn.Done(), r_ik.Done()}) {
    p.push_back(std::move(v));
  }
  pqxx::result r = tx_.exec_prepared("credits_write_many", pqxx::prepare::make_dynamic_params(p));
  if (r.size() != heads.size()) {
    throw pqxx::unexpected_rows(
        absl::StrCat("credits: moved ", r.size(), " chain heads of ", heads.size(), " accounts"));
  }
}

void PgTx::ApplyOrThrow(const WriteSet& w) {
  if (w.new_account.has_value()) {
    const Account& a = *w.new_account;
    tx_.exec_prepared0("credits_insert_account", a.account_id, a.tenant_id,
                       a.overdraft_limit_credits, a.alert_threshold_credits,
                       absl::ToUnixMicros(a.created_at));
  }
  if (!w.settled_holds.empty()) {
    PgArray id, st, cap, at;
    for (const HoldSettlement& h : w.settled_holds) {
      id.Text(h.hold_id);
      st.Int(static_cast<int>(h.state));
      cap.Int(h.captured_credits);
      at.Time(h.settled_at);
    }
    pqxx::result r =
        tx_.exec_prepared("credits_settle_holds", id.Done(), st.Done(), cap.Done(), at.Done());
    if (r.affected_rows() != w.settled_holds.size()) {
      throw pqxx::unexpected_rows("credits: a settled hold does not exist");
    }
  }
  if (w.account_id.empty()) {
    // Nothing chained (an idempotent no-op such as OpenAccount of an open account):
    // only the response is recorded.
  }
  std::vector<std::string> rows = RowParams(w);
  std::vector<std::string> p(rows.begin(), rows.begin() + 8);
  p.push_back("0");
  p.insert(p.end(), rows.begin() + 8, rows.end());
  for (std::string v : {w.account_id, absl::StrCat(w.head_sequence), Hex(w.head_hmac),
                        absl::StrCat(w.new_alert_threshold_credits.value_or(-1)), w.tenant_id,
                        w.idempotency_key, w.response}) {
    p.push_back(std::move(v));
  }
  tx_.exec_prepared("credits_write", pqxx::prepare::make_dynamic_params(p));
}

template <typename F>
auto Guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return pg::StatusFromPqxx(e);
  }
}

}  // namespace

absl::Status PostgresLedgerStore::Transact(const std::string& name, const TransactionFn& fn) {
  pg::TransactionOptions o;
  o.name = absl::StrCat("credits ", name);
  return pg::RunInTransaction(
      *pool_,
      [&](pqxx::work& tx) -> absl::Status {
        Prepare(tx.conn());
        PgTx ledger_tx(tx);
        return fn(ledger_tx);
      },
      o);
}

absl::StatusOr<OptimisticResult> PostgresLedgerStore::ApplyOptimistic(const KeyClaim& c,
                                                                      int64_t expected_sequence,
                                                                      const WriteSet& w) {
  SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
  absl::StatusOr<OptimisticResult> result = Guarded([&]() -> absl::StatusOr<OptimisticResult> {
    Prepare(*conn);
    std::vector<std::string> p = {c.tenant_id,
                                  c.idempotency_key,
                                  c.operation,
                                  Hex(c.fingerprint),
                                  absl::StrCat(absl::ToUnixMicros(c.now)),
                                  w.account_id,
                                  absl::StrCat(expected_sequence),
                                  absl::StrCat(w.head_sequence),
                                  Hex(w.head_hmac),
                                  absl::StrCat(w.new_alert_threshold_credits.value_or(-1)),
                                  w.response};
    std::vector<std::string> rows = RowParams(w);
    p.insert(p.end(), rows.begin(), rows.end());
    // One statement in autocommit: its own transaction, committed when it returns.
    pqxx::nontransaction tx(*conn);
    pqxx::row r =
        tx.exec_prepared1("credits_apply_optimistic", pqxx::prepare::make_dynamic_params(p));
    OptimisticResult out;
    out.applied = r[0].as<std::string>() == "applied";
    if (!out.applied) {
      out.stored_operation = r[1].as<std::string>();
      out.stored_fingerprint = Unhex(r[2].as<std::string>());
      out.stored_response = r[3].as<std::string>();
    }
    return out;
  });
  if (!result.ok() && result.status().code() != absl::StatusCode::kAborted) conn.MarkBroken();
  return result;
}

absl::StatusOr<std::optional<AccountState>> PostgresLedgerStore::GetTenantAccount(
    const std::string& tenant_id) {
  SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
  return Guarded([&]() -> absl::StatusOr<std::optional<AccountState>> {
    pqxx::nontransaction tx(*conn);
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", kAccountCols, " FROM accounts WHERE tenant_id = $1 AND kind = 1"),
        tenant_id);
    if (r.empty()) return std::optional<AccountState>();
    return std::optional<AccountState>(ParseAccount(r[0], 0));
  });
}

absl::StatusOr<std::vector<Transfer>> PostgresLedgerStore::ListTransfers(const TransferFilter& f) {
  std::vector<int> kinds, usage;
  for (TransferKind k : f.kinds) kinds.push_back(static_cast<int>(k));
  for (UsageKind k : f.usage_kinds) usage.push_back(static_cast<int>(k));
  SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
  return Guarded([&]() -> absl::StatusOr<std::vector<Transfer>> {
    pqxx::nontransaction tx(*conn);
    pqxx::result r = tx.exec_params(
        absl::StrCat(
            "SELECT ", kTransferCols,
            " FROM transfers t WHERE t.account_id = $1 AND ($2 = 0 OR t.sequence < $2) "
            "AND (cardinality($3::smallint[]) = 0 OR t.kind = ANY($3::smallint[])) "
            "AND (cardinality($4::smallint[]) = 0 OR t.usage_kind = ANY($4::smallint[])) "
            "AND ($5::bigint < 0 OR t.created_at >= " TS(
                "$5") ") "
                      "AND ($6::bigint < 0 OR t.created_at < " TS(
                          "$6") ") "
                                "AND ($7 = '' OR t.reference = $7) AND ($8 = '' OR t.hold_id = $8) "
                                "ORDER BY t.sequence DESC LIMIT $9"),
        f.account_id, f.before_sequence, IntArray(kinds), IntArray(usage),
        f.created_after ? absl::ToUnixMicros(*f.created_after) : int64_t{-1},
        f.created_before ? absl::ToUnixMicros(*f.created_before) : int64_t{-1}, f.reference,
        f.hold_id, f.limit);
    std::vector<Transfer> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(ParseTransfer(row, 0));
    return out;
  });
}

absl::StatusOr<std::vector<UsageBucket>> PostgresLedgerStore::Usage(const UsageQuery& q) {
  std::vector<int> usage;
  for (UsageKind k : q.usage_kinds) usage.push_back(static_cast<int>(k));
  SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
  return Guarded([&]() -> absl::StatusOr<std::vector<UsageBucket>> {
    pqxx::nontransaction tx(*conn);
    pqxx::result r = tx.exec_params(
        "SELECT " US("b") ", usage_kind, sum(q)::bigint, sum(a)::bigint FROM ("
        "SELECT CASE $4::int WHEN 1 THEN date_trunc('hour', created_at, 'UTC') "
        "WHEN 2 THEN date_trunc('day', created_at, 'UTC') "
        "WHEN 3 THEN date_trunc('month', created_at, 'UTC') ELSE " TS("$2") " END AS b, "
        "usage_kind, CASE WHEN kind = 7 THEN 0 ELSE quantity END AS q, "
        "CASE WHEN kind = 7 THEN -amount_credits ELSE amount_credits END AS a "
        "FROM transfers WHERE account_id = $1 AND kind IN (2, 4, 7) "
        "AND created_at >= " TS("$2") " AND created_at < " TS("$3")
        " AND (cardinality($5::smallint[]) = 0 OR usage_kind = ANY($5::smallint[]))) x "
        "GROUP BY b, usage_kind ORDER BY b, usage_kind",
        q.account_id, absl::ToUnixMicros(q.period_start), absl::ToUnixMicros(q.period_end),
        static_cast<int>(q.granularity), IntArray(usage));
    std::vector<UsageBucket> out;
    for (const auto& row : r) {
      UsageBucket b;
      b.bucket_start = absl::FromUnixMicros(row[0].as<int64_t>());
      b.bucket_end = UsageBucketEnd(b.bucket_start, q.granularity, q.period_end);
      b.usage_kind = static_cast<UsageKind>(row[1].as<int>());
      b.quantity = row[2].as<int64_t>();
      b.amount_credits = row[3].as<int64_t>();
      out.push_back(b);
    }
    return out;
  });
}

absl::StatusOr<std::vector<AuditRow>> PostgresLedgerStore::ReadAudit(const std::string& account_id,
                                                                     int64_t from_sequence,
                                                                     int64_t to_sequence,
                                                                     int limit) {
  SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
  return Guarded([&]() -> absl::StatusOr<std::vector<AuditRow>> {
    pqxx::nontransaction tx(*conn);
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT a.sequence, a.entry_kind, coalesce(a.transfer_id, ''), a.payload, "
                     "encode(a.prev_hmac, 'hex'), encode(a.hmac, 'hex'), t.transfer_id IS NULL, ",
                     kTransferCols,
                     " FROM audit_entries a LEFT JOIN transfers t ON t.transfer_id = "
                     "a.transfer_id WHERE a.account_id = $1 AND a.sequence >= $2 "
                     "AND ($3 = 0 OR a.sequence <= $3) ORDER BY a.sequence LIMIT $4"),
        account_id, from_sequence, to_sequence, limit);
    std::vector<AuditRow> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      AuditRow a;
      a.entry.account_id = account_id;
      a.entry.sequence = row[0].as<int64_t>();
      a.entry.entry_kind = row[1].as<std::string>();
      a.entry.transfer_id = row[2].as<std::string>();
      a.entry.payload = row[3].as<std::string>();
      a.entry.prev_hmac = Unhex(row[4].as<std::string>());
      a.entry.hmac = Unhex(row[5].as<std::string>());
      if (!row[6].as<bool>()) a.transfer = ParseTransfer(row, 7);
      out.push_back(std::move(a));
    }
    return out;
  });
}

absl::StatusOr<std::string> PostgresLedgerStore::AuditHmac(const std::string& account_id,
                                                           int64_t sequence) {
  SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
  return Guarded([&]() -> absl::StatusOr<std::string> {
    pqxx::nontransaction tx(*conn);
    pqxx::result r = tx.exec_params(
        "SELECT encode(hmac, 'hex') FROM audit_entries WHERE account_id = $1 AND sequence = $2",
        account_id, sequence);
    if (r.empty()) {
      return absl::NotFoundError(absl::StrCat("audit entry ", sequence, " of ", account_id));
    }
    return Unhex(r[0][0].as<std::string>());
  });
}

absl::StatusOr<int64_t> PostgresLedgerStore::CountTransfers(const std::string& account_id,
                                                            int64_t from_sequence,
                                                            int64_t to_sequence) {
  SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
  return Guarded([&]() -> absl::StatusOr<int64_t> {
    pqxx::nontransaction tx(*conn);
    pqxx::result r = tx.exec_params(
        "SELECT count(*) FROM transfers WHERE account_id = $1 AND sequence >= $2 "
        "AND ($3 = 0 OR sequence <= $3)",
        account_id, from_sequence, to_sequence);
    return r[0][0].as<int64_t>();
  });
}

absl::StatusOr<std::vector<std::string>> PostgresLedgerStore::AccountsWithDueHolds(absl::Time now,
                                                                                   int limit) {
  SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
  return Guarded([&]() -> absl::StatusOr<std::vector<std::string>> {
    pqxx::nontransaction tx(*conn);
    pqxx::result r = tx.exec_params(
        "SELECT DISTINCT account_id FROM (SELECT account_id FROM holds WHERE state = 1 "
        "AND expires_at <= " TS("$1") " ORDER BY expires_at LIMIT $2 * 16) h LIMIT $2",
        absl::ToUnixMicros(now), limit);
    std::vector<std::string> out;
    for (const auto& row : r) out.push_back(row[0].as<std::string>());
    return out;
  });
}

absl::StatusOr<std::vector<AccountState>> PostgresLedgerStore::ListTenantAccounts(int limit) {
  SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
  return Guarded([&]() -> absl::StatusOr<std::vector<AccountState>> {
    pqxx::nontransaction tx(*conn);
    pqxx::result r =
        tx.exec_params(absl::StrCat("SELECT ", kAccountCols,
                                    " FROM accounts WHERE kind = 1 ORDER BY tenant_id LIMIT $1"),
                       limit);
    std::vector<AccountState> out;
    for (const auto& row : r) out.push_back(ParseAccount(row, 0));
    return out;
  });
}

absl::StatusOr<int64_t> PostgresLedgerStore::DeleteIdempotencyKeysBefore(absl::Time cutoff,
                                                                         int limit) {
  SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
  return Guarded([&]() -> absl::StatusOr<int64_t> {
    pqxx::nontransaction tx(*conn);
    pqxx::result r = tx.exec_params(
        "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys "
        "WHERE created_at < " TS("$1") " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        absl::ToUnixMicros(cutoff), limit);
    return static_cast<int64_t>(r.affected_rows());
  });
}

absl::StatusOr<std::vector<std::string>> PostgresLedgerStore::CheckInvariants() {
  SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
  return Guarded([&]() -> absl::StatusOr<std::vector<std::string>> {
    // One snapshot for every check.
    pqxx::work tx(*conn);
    tx.exec0("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
    std::vector<std::string> v;
    pqxx::row sum = tx.exec1(
        "SELECT coalesce(sum(posted_credits + revenue_credits + promotions_credits + "
        "payment_clearing_credits), 0) FROM accounts");
    if (sum[0].as<std::string>() != "0") {
      v.push_back(absl::StrCat("balances sum to ", sum[0].as<std::string>(), ", not 0"));
    }
    for (const auto& row : tx.exec(
             "WITH moves AS (SELECT credit_account_id AS a, amount_credits AS d FROM transfers "
             "WHERE kind IN (1, 2, 4, 7, 8) UNION ALL SELECT debit_account_id, -amount_credits "
             "FROM transfers WHERE kind IN (1, 2, 4, 7, 8)), "
             "sums AS (SELECT a, sum(d) AS s FROM moves GROUP BY a), "
             "bal AS (SELECT account_id, posted_credits::numeric AS b FROM accounts WHERE kind = 1 "
             "UNION ALL SELECT 'system:revenue', coalesce(sum(revenue_credits), 0) FROM accounts "
             "UNION ALL SELECT 'system:promotions', coalesce(sum(promotions_credits), 0) "
             "FROM accounts UNION ALL SELECT 'system:payment_clearing', "
             "coalesce(sum(payment_clearing_credits), 0) FROM accounts) "
             "SELECT account_id, b, coalesce(s, 0) FROM bal LEFT JOIN sums ON sums.a = "
             "bal.account_id WHERE b <> coalesce(s, 0)")) {
      v.push_back(absl::StrCat("account ", row[0].as<std::string>(), ": balance ",
                               row[1].as<std::string>(), " != sum of its transfers ",
                               row[2].as<std::string>()));
    }
    for (const auto& row : tx.exec(
             "SELECT a.account_id, a.pending_credits, coalesce(h.p, 0) FROM accounts a LEFT JOIN "
             "(SELECT account_id, sum(amount_credits) AS p FROM holds WHERE state = 1 "
             "GROUP BY account_id) h USING (account_id) WHERE a.pending_credits <> "
             "coalesce(h.p, 0)")) {
      v.push_back(absl::StrCat("account ", row[0].as<std::string>(), ": pending ",
                               row[1].as<std::string>(), " != open holds ",
                               row[2].as<std::string>()));
    }
    for (const auto& row : tx.exec("SELECT account_id FROM accounts WHERE kind = 1 AND "
                                   "posted_credits - pending_credits < -overdraft_limit_credits")) {
      v.push_back(absl::StrCat("account ", row[0].as<std::string>(), ": below overdraft"));
    }
    for (const auto& row : tx.exec(
             "SELECT t.transfer_id FROM transfers t LEFT JOIN (SELECT refunded_transfer_id AS id, "
             "sum(amount_credits) AS r FROM transfers WHERE kind = 7 GROUP BY 1) x "
             "ON x.id = t.transfer_id WHERE t.refunded_credits <> coalesce(x.r, 0)")) {
      v.push_back(absl::StrCat("transfer ", row[0].as<std::string>(), ": refunded total mismatch"));
    }
    for (const auto& row : tx.exec(
             "SELECT a.account_id, a.sequence, coalesce(max(e.sequence), 0), count(e.sequence) "
             "FROM accounts a LEFT JOIN audit_entries e USING (account_id) WHERE a.kind = 1 "
             "GROUP BY a.account_id, a.sequence HAVING a.sequence <> coalesce(max(e.sequence), 0) "
             "OR a.sequence <> count(e.sequence)")) {
      v.push_back(absl::StrCat("account ", row[0].as<std::string>(), ": chain head ",
                               row[1].as<std::string>(), " but ", row[3].as<std::string>(),
                               " audit entries up to ", row[2].as<std::string>()));
    }
    pqxx::row open_keys = tx.exec1("SELECT count(*) FROM idempotency_keys WHERE response IS NULL");
    if (open_keys[0].as<int64_t>() != 0) {
      v.push_back(absl::StrCat(open_keys[0].as<int64_t>(), " idempotency keys without response"));
    }
    tx.commit();
    return v;
  });
}

}  // namespace shieldx::credits
