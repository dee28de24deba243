#include "services/contauth/postgres_contauth_store.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "libs/base/status_macros.h"
#include "libs/pg/pg_status.h"
#include "libs/pg/transaction.h"
#include "nlohmann/json.hpp"
#include "pqxx/pqxx"

namespace shieldx::contauth {
namespace {

#define TS(p) "('epoch'::timestamptz + (" p ")::bigint * interval '1 microsecond')"
#define US(c) "(extract(epoch from " c ") * 1000000)::bigint"

constexpr char kPolicyCols[] =
    "monitor_at, challenge_at, deny_at, decision_ttl_ms, decision_retention_days, "
    "min_enroll_samples, version";
constexpr char kProfileCols[] =
    "tenant_id, user_id, version, key_id, encode(sealed, 'hex'), keystroke_enrolled, " US(
        "created_at") ", " US("updated_at");
constexpr char kSessionCols[] =
    "tenant_id, session_id, user_id, version, key_id, "
    "encode(sealed, 'hex'), " US("updated_at") ", " US("expires_at");
constexpr char kDecisionCols[] =
    "decision_id, tenant_id, session_id, user_id, risk, confidence, action, enrolled, details, " US(
        "decided_at") ", " US("expires_at");
constexpr char kChallengeCols[] =
    "tenant_id, idempotency_key, decision_id, result_decision_id, session_id, user_id, kind, "
    "outcome, " US("recorded_at");

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(const pqxx::field& f) { return absl::FromUnixMicros(f.as<int64_t>()); }

std::string Hex(const std::string& bytes) { return absl::BytesToHexString(bytes); }
std::string Unhex(const pqxx::field& f) { return absl::HexStringToBytes(f.as<std::string>()); }

Policy PolicyFrom(const pqxx::row& r) {
  Policy p;
  p.monitor_at = r[0].as<double>();
  p.challenge_at = r[1].as<double>();
  p.deny_at = r[2].as<double>();
  p.decision_ttl_ms = r[3].as<int64_t>();
  p.decision_retention_days = r[4].as<uint32_t>();
  p.min_enroll_samples = r[5].as<uint32_t>();
  p.version = r[6].as<int64_t>();
  return p;
}

ProfileRow ProfileFrom(const pqxx::row& r) {
  ProfileRow p;
  p.tenant_id = r[0].as<std::string>();
  p.user_id = r[1].as<std::string>();
  p.version = r[2].as<int64_t>();
  p.key_id = r[3].as<std::string>();
  p.sealed = Unhex(r[4]);
  p.keystroke_enrolled = r[5].as<bool>();
  p.created_at = FromMicros(r[6]);
  p.updated_at = FromMicros(r[7]);
  return p;
}

SessionRow SessionFrom(const pqxx::row& r) {
  SessionRow s;
  s.tenant_id = r[0].as<std::string>();
  s.session_id = r[1].as<std::string>();
  s.user_id = r[2].as<std::string>();
  s.version = r[3].as<int64_t>();
  s.key_id = r[4].as<std::string>();
  s.sealed = Unhex(r[5]);
  s.updated_at = FromMicros(r[6]);
  s.expires_at = FromMicros(r[7]);
  return s;
}

absl::StatusOr<Decision> DecisionFrom(const pqxx::row& r) {
  Decision d;
  d.decision_id = r[0].as<std::string>();
  d.tenant_id = r[1].as<std::string>();
  d.session_id = r[2].as<std::string>();
  d.user_id = r[3].as<std::string>();
  d.risk = r[4].as<double>();
  d.confidence = r[5].as<double>();
  d.action = static_cast<Action>(r[6].as<int>());
  d.enrolled = r[7].as<bool>();
  SHIELDX_RETURN_IF_ERROR(ParseDecisionDetails(r[8].as<std::string>(), &d));
  d.decided_at = FromMicros(r[9]);
  d.expires_at = FromMicros(r[10]);
  return d;
}

ChallengeRecord ChallengeFrom(const pqxx::row& r) {
  ChallengeRecord c;
  c.tenant_id = r[0].as<std::string>();
  c.idempotency_key = r[1].as<std::string>();
  c.decision_id = r[2].as<std::string>();
  c.result_decision_id = r[3].as<std::string>();
  c.session_id = r[4].as<std::string>();
  c.user_id = r[5].as<std::string>();
  c.kind = static_cast<ChallengeKind>(r[6].as<int>());
  c.outcome = static_cast<ChallengeOutcome>(r[7].as<int>());
  c.recorded_at = FromMicros(r[8]);
  return c;
}

void InsertDecisionTx(pqxx::work& tx, const Decision& d) {
  tx.exec_params(
      "INSERT INTO decisions (decision_id, tenant_id, session_id, user_id, risk, "
      "confidence, action, enrolled, details, decided_at, expires_at) VALUES ($1, $2, "
      "$3, $4, $5, $6, $7, $8, $9, " TS("$10") ", " TS("$11") ")",
      d.decision_id, d.tenant_id, d.session_id, d.user_id, d.risk, d.confidence,
      static_cast<int>(d.action), d.enrolled, DecisionDetailsJson(d), Micros(d.decided_at),
      Micros(d.expires_at));
}

// Runs a read-only statement set outside an explicit retry loop (one attempt, converted).
template <typename Fn>
absl::Status ReadOnly(pg::PgPool& pool, const char* name, Fn&& fn) {
  return pg::RunInTransaction(pool, [&](pqxx::work& tx) -> absl::Status { return fn(tx); },
                              {.read_only = true, .name = name});
}

}  // namespace

std::string DecisionDetailsJson(const Decision& d) {
  nlohmann::json j;
  j["modality_scores"] = nlohmann::json::array();
  for (const ModalityScore& m : d.modality_scores) {
    j["modality_scores"].push_back({{"m", static_cast<int>(m.modality)},
                                    {"s", m.score},
                                    {"c", m.confidence},
                                    {"n", m.sample_count}});
  }
  j["reasons"] = nlohmann::json::array();
  for (const RiskReason& r : d.reasons) {
    j["reasons"].push_back(
        {{"code", r.code}, {"m", static_cast<int>(r.modality)}, {"d", r.description}});
  }
  return j.dump();
}

absl::Status ParseDecisionDetails(const std::string& json, Decision* d) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError(absl::StrCat("decision ", d->decision_id, ": corrupt details"));
  }
  try {
    for (const auto& m : j.value("modality_scores", nlohmann::json::array())) {
      d->modality_scores.push_back({static_cast<Modality>(m.at("m").get<int>()),
                                    m.at("s").get<double>(), m.at("c").get<double>(),
                                    m.at("n").get<uint32_t>()});
    }
    for (const auto& r : j.value("reasons", nlohmann::json::array())) {
      d->reasons.push_back({r.at("code").get<std::string>(),
                            static_cast<Modality>(r.at("m").get<int>()),
                            r.at("d").get<std::string>(), 0});
    }
  } catch (const std::exception&) {
    return absl::DataLossError(absl::StrCat("decision ", d->decision_id, ": corrupt details"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Policy>> PostgresContAuthStore::GetPolicy(const std::string& tenant) {
  std::optional<Policy> out;
  SHIELDX_RETURN_IF_ERROR(
      ReadOnly(*pool_, "contauth get policy", [&](pqxx::work& tx) -> absl::Status {
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", kPolicyCols, " FROM policies WHERE tenant_id = $1"), tenant);
        out.reset();
        if (!r.empty()) out = PolicyFrom(r[0]);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<Policy> PostgresContAuthStore::PutPolicy(const std::string& tenant, const Policy& p,
                                                        int64_t expected_version) {
  Policy stored = p;
  SHIELDX_RETURN_IF_ERROR(pg::RunInTransaction(
      *pool_,
      [&](pqxx::work& tx) -> absl::Status {
        pqxx::result cur =
            tx.exec_params("SELECT version FROM policies WHERE tenant_id = $1 FOR UPDATE", tenant);
        const int64_t current = cur.empty() ? 0 : cur[0][0].as<int64_t>();
        if (current != expected_version) {
          return absl::AbortedError(absl::StrCat("policy of tenant ", tenant, ": etag ",
                                                 expected_version, " is stale (current ", current,
                                                 ")"));
        }
        stored.version = current + 1;
        tx.exec_params(
            "INSERT INTO policies (tenant_id, monitor_at, challenge_at, deny_at, "
            "decision_ttl_ms, decision_retention_days, min_enroll_samples, version, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) "
            "ON CONFLICT (tenant_id) DO UPDATE SET monitor_at = EXCLUDED.monitor_at, "
            "challenge_at = EXCLUDED.challenge_at, deny_at = EXCLUDED.deny_at, "
            "decision_ttl_ms = EXCLUDED.decision_ttl_ms, "
            "decision_retention_days = EXCLUDED.decision_retention_days, "
            "min_enroll_samples = EXCLUDED.min_enroll_samples, version = EXCLUDED.version, "
            "updated_at = now()",
            tenant, p.monitor_at, p.challenge_at, p.deny_at, p.decision_ttl_ms,
            static_cast<int64_t>(p.decision_retention_days),
            static_cast<int64_t>(p.min_enroll_samples), stored.version);
        return absl::OkStatus();
      },
      {.max_attempts = 1, .name = "contauth put policy"}));
  return stored;
}

absl::Status PostgresContAuthStore::UpdateUser(const std::string& tenant, const std::string& user,
                                               const std::string& session, UpdateFn fn) {
  return pg::RunInTransaction(
      *pool_,
      [&](pqxx::work& tx) -> absl::Status {
        tx.exec_params(
            "SELECT pg_advisory_xact_lock(hashtextextended('contauth-user:' || $1 || '/' || $2, "
            "0))",
            tenant, user);
        std::optional<ProfileRow> profile;
        std::optional<SessionRow> sess;
        pqxx::result pr = tx.exec_params(
            absl::StrCat("SELECT ", kProfileCols,
                         " FROM profiles WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE"),
            tenant, user);
        if (!pr.empty()) profile = ProfileFrom(pr[0]);
        if (!session.empty()) {
          pqxx::result sr = tx.exec_params(
              absl::StrCat("SELECT ", kSessionCols,
                           " FROM sessions WHERE tenant_id = $1 AND session_id = $2 FOR UPDATE"),
              tenant, session);
          if (!sr.empty()) sess = SessionFrom(sr[0]);
        }
        absl::StatusOr<UserMutation> m = fn(profile, sess);
        if (!m.ok()) return m.status();
        if (m->profile.has_value()) {
          const ProfileRow& p = *m->profile;
          pqxx::result w;
          if (p.version == 0) {
            w = tx.exec_params(
                "INSERT INTO profiles (tenant_id, user_id, version, key_id, sealed, "
                "keystroke_enrolled, created_at, updated_at) VALUES ($1, $2, 1, $3, "
                "decode($4, 'hex'), $5, " TS("$6") ", " TS("$7") ") "
                "ON CONFLICT (tenant_id, user_id) DO NOTHING RETURNING 1",
                tenant, user, p.key_id, Hex(p.sealed), p.keystroke_enrolled,
                Micros(p.created_at), Micros(p.updated_at));
          } else {
            w = tx.exec_params(
                "UPDATE profiles SET version = version + 1, key_id = $3, sealed = decode($4, "
                "'hex'), keystroke_enrolled = $5, updated_at = " TS("$6") " "
                "WHERE tenant_id = $1 AND user_id = $2 AND version = $7 RETURNING 1",
                tenant, user, p.key_id, Hex(p.sealed), p.keystroke_enrolled,
                Micros(p.updated_at), p.version);
          }
          if (w.empty()) {
            return absl::AbortedError(absl::StrCat(
                "profile of user ", user, ": changed concurrently (version ", p.version, ")"));
          }
        }
        if (m->session.has_value()) {
          const SessionRow& s = *m->session;
          pqxx::result w;
          if (s.version == 0) {
            w = tx.exec_params(
                "INSERT INTO sessions (tenant_id, session_id, user_id, version, key_id, sealed, "
                "updated_at, expires_at) VALUES ($1, $2, $3, 1, $4, decode($5, 'hex'), " TS(
                    "$6") ", " TS("$7") ") ON CONFLICT (tenant_id, session_id) DO NOTHING "
                                        "RETURNING 1",
                tenant, s.session_id, s.user_id, s.key_id, Hex(s.sealed), Micros(s.updated_at),
                Micros(s.expires_at));
          } else {
            w = tx.exec_params(
                "UPDATE sessions SET version = version + 1, key_id = $3, sealed = decode($4, "
                "'hex'), updated_at = " TS("$5") ", expires_at = " TS(
                    "$6") " WHERE tenant_id = $1 AND session_id = $2 AND version = $7 "
                          "RETURNING 1",
                tenant, s.session_id, s.key_id, Hex(s.sealed), Micros(s.updated_at),
                Micros(s.expires_at), s.version);
          }
          if (w.empty()) {
            return absl::AbortedError(absl::StrCat(
                "session ", s.session_id, ": changed concurrently (version ", s.version, ")"));
          }
        }
        if (m->decision.has_value()) InsertDecisionTx(tx, *m->decision);
        if (m->challenge.has_value()) {
          const ChallengeRecord& c = *m->challenge;
          tx.exec_params(
              "INSERT INTO challenge_outcomes (tenant_id, idempotency_key, "
              "decision_id, result_decision_id, session_id, user_id, kind, outcome, "
              "recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, " TS("$9") ")",
              tenant, c.idempotency_key, c.decision_id, c.result_decision_id, c.session_id,
              c.user_id, static_cast<int>(c.kind), static_cast<int>(c.outcome),
              Micros(c.recorded_at));
        }
        return absl::OkStatus();
      },
      {.name = "contauth update user"});
}

absl::StatusOr<ProfileLookup> PostgresContAuthStore::GetProfile(const std::string& tenant,
                                                                const std::string& user,
                                                                int64_t known_version) {
  ProfileLookup out;
  SHIELDX_RETURN_IF_ERROR(
      ReadOnly(*pool_, "contauth get profile", [&](pqxx::work& tx) -> absl::Status {
        out = ProfileLookup{};
        // The sealed bytes are only transferred when the caller's copy is stale.
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT version = $3, ", kProfileCols,
                         " FROM profiles WHERE tenant_id = $1 AND user_id = $2 AND version = $3 "
                         "UNION ALL SELECT false, ",
                         kProfileCols,
                         " FROM profiles WHERE tenant_id = $1 AND user_id = $2 AND version <> $3"),
            tenant, user, known_version);
        if (r.empty()) return absl::OkStatus();
        out.exists = true;
        if (r[0][0].as<bool>()) {
          out.unchanged = true;
          return absl::OkStatus();
        }
        pqxx::row row = r[0];
        ProfileRow p;
        p.tenant_id = row[1].as<std::string>();
        p.user_id = row[2].as<std::string>();
        p.version = row[3].as<int64_t>();
        p.key_id = row[4].as<std::string>();
        p.sealed = Unhex(row[5]);
        p.keystroke_enrolled = row[6].as<bool>();
        p.created_at = FromMicros(row[7]);
        p.updated_at = FromMicros(row[8]);
        out.row = std::move(p);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<std::vector<ProfileRow>> PostgresContAuthStore::ListEnrolledProfiles(
    const std::string& tenant, std::size_t limit) {
  std::vector<ProfileRow> out;
  SHIELDX_RETURN_IF_ERROR(
      ReadOnly(*pool_, "contauth list enrolled", [&](pqxx::work& tx) -> absl::Status {
        out.clear();
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", kProfileCols,
                         " FROM profiles WHERE tenant_id = $1 AND keystroke_enrolled "
                         "ORDER BY updated_at DESC LIMIT $2"),
            tenant, static_cast<int64_t>(limit));
        for (const pqxx::row& row : r) out.push_back(ProfileFrom(row));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<std::optional<SessionRow>> PostgresContAuthStore::GetSession(
    const std::string& tenant, const std::string& session) {
  std::optional<SessionRow> out;
  SHIELDX_RETURN_IF_ERROR(
      ReadOnly(*pool_, "contauth get session", [&](pqxx::work& tx) -> absl::Status {
        out.reset();
        pqxx::result r =
            tx.exec_params(absl::StrCat("SELECT ", kSessionCols,
                                        " FROM sessions WHERE tenant_id = $1 AND session_id = $2"),
                           tenant, session);
        if (!r.empty()) out = SessionFrom(r[0]);
        return absl::OkStatus();
      }));
  return out;
}

absl::Status PostgresContAuthStore::InsertDecision(const Decision& decision) {
  return pg::RunInTransaction(*pool_,
                              [&](pqxx::work& tx) -> absl::Status {
                                InsertDecisionTx(tx, decision);
                                return absl::OkStatus();
                              },
                              {.name = "contauth insert decision"});
}

absl::StatusOr<std::optional<Decision>> PostgresContAuthStore::LatestDecision(
    const std::string& tenant, const std::string& session, absl::Time now) {
  std::optional<Decision> out;
  SHIELDX_RETURN_IF_ERROR(
      ReadOnly(*pool_, "contauth latest decision", [&](pqxx::work& tx) -> absl::Status {
        out.reset();
        pqxx::result r = tx.exec_params(
            absl::StrCat(
                "SELECT ", kDecisionCols,
                " FROM decisions WHERE tenant_id = $1 AND session_id = $2 AND expires_at > " TS(
                    "$3") " ORDER BY decided_at DESC LIMIT 1"),
            tenant, session, Micros(now));
        if (r.empty()) return absl::OkStatus();
        SHIELDX_ASSIGN_OR_RETURN(Decision d, DecisionFrom(r[0]));
        out = std::move(d);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<std::optional<Decision>> PostgresContAuthStore::GetDecision(
    const std::string& tenant, const std::string& decision_id) {
  std::optional<Decision> out;
  SHIELDX_RETURN_IF_ERROR(
      ReadOnly(*pool_, "contauth get decision", [&](pqxx::work& tx) -> absl::Status {
        out.reset();
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", kDecisionCols,
                         " FROM decisions WHERE tenant_id = $1 AND decision_id = $2"),
            tenant, decision_id);
        if (r.empty()) return absl::OkStatus();
        SHIELDX_ASSIGN_OR_RETURN(Decision d, DecisionFrom(r[0]));
        out = std::move(d);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<std::vector<Decision>> PostgresContAuthStore::ListUserDecisions(
    const std::string& tenant, const std::string& user, std::size_t limit) {
  std::vector<Decision> out;
  SHIELDX_RETURN_IF_ERROR(
      ReadOnly(*pool_, "contauth list decisions", [&](pqxx::work& tx) -> absl::Status {
        out.clear();
        pqxx::result r =
            tx.exec_params(absl::StrCat("SELECT ", kDecisionCols,
                                        " FROM decisions WHERE tenant_id = $1 AND user_id = $2 "
                                        "ORDER BY decided_at DESC LIMIT $3"),
                           tenant, user, static_cast<int64_t>(limit));
        for (const pqxx::row& row : r) {
          SHIELDX_ASSIGN_OR_RETURN(Decision d, DecisionFrom(row));
          out.push_back(std::move(d));
        }
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<std::optional<ChallengeRecord>> PostgresContAuthStore::GetChallenge(
    const std::string& tenant, const std::string& idempotency_key) {
  std::optional<ChallengeRecord> out;
  SHIELDX_RETURN_IF_ERROR(
      ReadOnly(*pool_, "contauth get challenge", [&](pqxx::work& tx) -> absl::Status {
        out.reset();
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", kChallengeCols,
                         " FROM challenge_outcomes WHERE tenant_id = $1 AND idempotency_key = $2"),
            tenant, idempotency_key);
        if (!r.empty()) out = ChallengeFrom(r[0]);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<DeletedUser> PostgresContAuthStore::DeleteUser(const std::string& tenant,
                                                              const std::string& user) {
  DeletedUser out;
  SHIELDX_RETURN_IF_ERROR(pg::RunInTransaction(
      *pool_,
      [&](pqxx::work& tx) -> absl::Status {
        out = DeletedUser{};
        tx.exec_params(
            "SELECT pg_advisory_xact_lock(hashtextextended('contauth-user:' || $1 || '/' || $2, "
            "0))",
            tenant, user);
        pqxx::result p = tx.exec_params(
            "DELETE FROM profiles WHERE tenant_id = $1 AND user_id = $2 "
            "RETURNING encode(sealed, 'hex')",
            tenant, user);
        if (!p.empty()) {
          out.profile_existed = true;
          out.profile_sealed = Unhex(p[0][0]);
        }
        pqxx::result s = tx.exec_params(
            "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 RETURNING session_id",
            tenant, user);
        for (const pqxx::row& row : s) out.session_ids.push_back(row[0].as<std::string>());
        pqxx::result d = tx.exec_params(
            "DELETE FROM decisions WHERE tenant_id = $1 AND user_id = $2", tenant, user);
        out.decisions = static_cast<uint32_t>(d.affected_rows());
        pqxx::result c = tx.exec_params(
            "DELETE FROM challenge_outcomes WHERE tenant_id = $1 AND user_id = $2", tenant, user);
        out.challenges = static_cast<uint32_t>(c.affected_rows());
        return absl::OkStatus();
      },
      {.name = "contauth delete user"}));
  return out;
}

absl::StatusOr<SweepResult> PostgresContAuthStore::Sweep(absl::Time now,
                                                         uint32_t default_retention_days,
                                                         std::size_t limit) {
  SweepResult out;
  SHIELDX_RETURN_IF_ERROR(pg::RunInTransaction(
      *pool_,
      [&](pqxx::work& tx) -> absl::Status {
        out = SweepResult{};
        const int64_t now_us = Micros(now);
        const int64_t days = default_retention_days;
        const int64_t lim = static_cast<int64_t>(limit);
        pqxx::result d = tx.exec_params(
            "DELETE FROM decisions WHERE decision_id IN (SELECT d.decision_id FROM decisions d "
            "LEFT JOIN policies p ON p.tenant_id = d.tenant_id WHERE d.decided_at < " TS(
                "$1") " - make_interval(days => coalesce(p.decision_retention_days, $2::int)) "
                      "LIMIT $3)",
            now_us, days, lim);
        out.decisions = static_cast<uint32_t>(d.affected_rows());
        pqxx::result c = tx.exec_params(
            "DELETE FROM challenge_outcomes WHERE (tenant_id, idempotency_key) IN (SELECT "
            "c.tenant_id, c.idempotency_key FROM challenge_outcomes c LEFT JOIN policies p ON "
            "p.tenant_id = c.tenant_id WHERE c.recorded_at < " TS(
                "$1") " - make_interval(days => coalesce(p.decision_retention_days, $2::int)) "
                      "LIMIT $3)",
            now_us, days, lim);
        out.challenges = static_cast<uint32_t>(c.affected_rows());
        pqxx::result s = tx.exec_params(
            "DELETE FROM sessions WHERE (tenant_id, session_id) IN (SELECT tenant_id, "
            "session_id FROM sessions WHERE expires_at <= " TS("$1") " LIMIT $2)",
            now_us, lim);
        out.sessions = static_cast<uint32_t>(s.affected_rows());
        return absl::OkStatus();
      },
      {.name = "contauth sweep"}));
  return out;
}

}  // namespace shieldx::contauth
