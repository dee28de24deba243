#include "services/orchestrator/postgres_config_store.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "libs/base/status_macros.h"
#include "libs/pg/pg_status.h"
#include "libs/pg/transaction.h"
#include "pqxx/pqxx"

namespace shieldx::orchestrator {

namespace {

namespace v1 = ::shieldx::orchestrator::v1;
using pipeline::RuleSetRecord;

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

template <typename T>
absl::StatusOr<T> FromJson(const std::string& json, const char* what) {
  T m;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  auto s = google::protobuf::util::JsonStringToMessage(json, &m, o);
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat("stored ", what, " is not valid: ", s.ToString()));
  }
  return m;
}

std::string Bytes(const google::protobuf::Message& m) { return m.SerializeAsString(); }

// Loads the tenant's configuration inside `tx`.
absl::StatusOr<TenantConfig> LoadIn(pqxx::transaction_base& tx, const std::string& tenant,
                                    bool live_only) {
  TenantConfig c;
  c.tenant_id = tenant;
  pqxx::result r =
      tx.exec_params("SELECT version FROM config_versions WHERE tenant_id = $1", tenant);
  if (!r.empty()) c.version = r[0][0].as<int64_t>();
  for (const auto& row :
       tx.exec_params("SELECT spec::text FROM pools WHERE tenant_id = $1", tenant)) {
    SHIELDX_ASSIGN_OR_RETURN(v1::Pool p, FromJson<v1::Pool>(row[0].as<std::string>(), "pool"));
    c.pools.push_back(std::move(p));
  }
  for (const auto& row :
       tx.exec_params("SELECT spec::text FROM sites WHERE tenant_id = $1", tenant)) {
    SHIELDX_ASSIGN_OR_RETURN(v1::Site s, FromJson<v1::Site>(row[0].as<std::string>(), "site"));
    c.sites.push_back(std::move(s));
  }
  for (const auto& row :
       tx.exec_params("SELECT spec::text FROM routes WHERE tenant_id = $1", tenant)) {
    SHIELDX_ASSIGN_OR_RETURN(v1::Route x, FromJson<v1::Route>(row[0].as<std::string>(), "route"));
    c.routes.push_back(std::move(x));
  }
  for (const auto& row :
       tx.exec_params("SELECT spec::text FROM ip_lists WHERE tenant_id = $1", tenant)) {
    SHIELDX_ASSIGN_OR_RETURN(v1::IpList l,
                             FromJson<v1::IpList>(row[0].as<std::string>(), "ip list"));
    c.ip_lists.push_back(std::move(l));
  }
  for (const auto& row : tx.exec_params(
           "SELECT spec::text, shadow_sample_rate FROM rule_sets WHERE tenant_id = $1", tenant)) {
    RuleSetRecord rs;
    SHIELDX_ASSIGN_OR_RETURN(rs.rule_set,
                             FromJson<v1::RuleSet>(row[0].as<std::string>(), "rule set"));
    rs.shadow_sample_rate = row[1].as<double>();
    c.rule_sets.push_back(std::move(rs));
  }
  const char* versions_sql =
      live_only ? "SELECT rule_set_id, spec::text FROM rule_set_versions WHERE tenant_id = $1 AND "
                  "state IN ('RULE_SET_VERSION_STATE_ACTIVE', 'RULE_SET_VERSION_STATE_SHADOW') "
                  "ORDER BY rule_set_id, version"
                : "SELECT rule_set_id, spec::text FROM rule_set_versions WHERE tenant_id = $1 "
                  "ORDER BY rule_set_id, version";
  for (const auto& row : tx.exec_params(versions_sql, tenant)) {
    RuleSetRecord* rs = c.FindRuleSet(row[0].as<std::string>());
    if (rs == nullptr) continue;
    SHIELDX_ASSIGN_OR_RETURN(
        v1::RuleSetVersion v,
        FromJson<v1::RuleSetVersion>(row[1].as<std::string>(), "rule set version"));
    rs->versions.push_back(std::move(v));
  }
  r = tx.exec_params("SELECT spec::text FROM tenant_settings WHERE tenant_id = $1", tenant);
  if (!r.empty()) {
    SHIELDX_ASSIGN_OR_RETURN(c.settings,
                             FromJson<v1::TenantSettings>(r[0][0].as<std::string>(), "settings"));
  }
  return c;
}

// Ids of `objects` whose serialized form differs from (or is absent in) `old`.
template <typename T, typename IdFn>
void Diff(const std::vector<T>& old, const std::vector<T>& now, IdFn id,
          std::vector<const T*>* upserts, std::vector<std::string>* deletes) {
  std::map<std::string, std::string> before;
  for (const T& o : old) before[id(o)] = Bytes(o);
  std::set<std::string> present;
  for (const T& o : now) {
    present.insert(id(o));
    auto it = before.find(id(o));
    if (it == before.end() || it->second != Bytes(o)) upserts->push_back(&o);
  }
  for (const auto& [k, v] : before) {
    if (!present.count(k)) deletes->push_back(k);
  }
}

absl::Status WriteDiff(pqxx::work& tx, const TenantConfig& old, const TenantConfig& now) {
  const std::string& t = now.tenant_id;
  std::vector<const v1::Site*> sites;
  std::vector<const v1::Route*> routes;
  std::vector<const v1::Pool*> pools;
  std::vector<const v1::IpList*> lists;
  std::vector<std::string> del_sites, del_routes, del_pools, del_lists;
  Diff(
      old.sites, now.sites, [](const v1::Site& s) { return s.site_id(); }, &sites, &del_sites);
  Diff(
      old.routes, now.routes, [](const v1::Route& r) { return r.route_id(); }, &routes,
      &del_routes);
  Diff(
      old.pools, now.pools, [](const v1::Pool& p) { return p.pool_id(); }, &pools, &del_pools);
  Diff(
      old.ip_lists, now.ip_lists, [](const v1::IpList& l) { return l.ip_list_id(); }, &lists,
      &del_lists);
  std::vector<const RuleSetRecord*> rule_sets;
  std::vector<std::string> del_rule_sets;
  {
    std::map<std::string, std::pair<std::string, double>> before;
    for (const RuleSetRecord& r : old.rule_sets) {
      before[r.rule_set.rule_set_id()] = {Bytes(r.rule_set), r.shadow_sample_rate};
    }
    std::set<std::string> present;
    for (const RuleSetRecord& r : now.rule_sets) {
      present.insert(r.rule_set.rule_set_id());
      auto it = before.find(r.rule_set.rule_set_id());
      if (it == before.end() || it->second.first != Bytes(r.rule_set) ||
          it->second.second != r.shadow_sample_rate) {
        rule_sets.push_back(&r);
      }
    }
    for (const auto& [k, v] : before) {
      if (!present.count(k)) del_rule_sets.push_back(k);
    }
  }

  // Deletes, children first.
  for (const std::string& id : del_routes) {
    tx.exec_params("DELETE FROM routes WHERE tenant_id = $1 AND route_id = $2", t, id);
  }
  for (const std::string& id : del_sites) {
    tx.exec_params("DELETE FROM sites WHERE tenant_id = $1 AND site_id = $2", t, id);
  }
  for (const std::string& id : del_pools) {
    tx.exec_params("DELETE FROM pools WHERE tenant_id = $1 AND pool_id = $2", t, id);
  }
  for (const std::string& id : del_lists) {
    tx.exec_params("DELETE FROM ip_lists WHERE tenant_id = $1 AND ip_list_id = $2", t, id);
  }
  for (const std::string& id : del_rule_sets) {
    tx.exec_params("DELETE FROM rule_sets WHERE tenant_id = $1 AND rule_set_id = $2", t, id);
  }

  // Upserts, parents first.
  for (const v1::Pool* p : pools) {
    tx.exec_params(
        "INSERT INTO pools (tenant_id, pool_id, name, spec) VALUES ($1, $2, $3, $4::jsonb) "
        "ON CONFLICT (tenant_id, pool_id) DO UPDATE SET name = EXCLUDED.name, "
        "spec = EXCLUDED.spec, updated_at = now()",
        t, p->pool_id(), p->name(), ToJson(*p));
  }
  for (const v1::Site* s : sites) {
    for (const std::string& h : s->hostnames()) {
      pqxx::result r =
          tx.exec_params("SELECT 1 FROM site_hostnames WHERE hostname = $1 AND tenant_id <> $2",
                         absl::AsciiStrToLower(h), t);
      if (!r.empty()) {
        return absl::AlreadyExistsError(absl::StrCat("site \"", s->name(), "\": hostnames: \"", h,
                                                     "\" is already used by another tenant"));
      }
    }
    tx.exec_params(
        "INSERT INTO sites (tenant_id, site_id, name, spec) VALUES ($1, $2, $3, $4::jsonb) "
        "ON CONFLICT (tenant_id, site_id) DO UPDATE SET name = EXCLUDED.name, "
        "spec = EXCLUDED.spec, updated_at = now()",
        t, s->site_id(), s->name(), ToJson(*s));
    tx.exec_params("DELETE FROM site_hostnames WHERE tenant_id = $1 AND site_id = $2", t,
                   s->site_id());
    for (const std::string& h : s->hostnames()) {
      tx.exec_params(
          "INSERT INTO site_hostnames (hostname, tenant_id, site_id) VALUES ($1, $2, $3)",
          absl::AsciiStrToLower(h), t, s->site_id());
    }
  }
  for (const RuleSetRecord* r : rule_sets) {
    tx.exec_params(
        "INSERT INTO rule_sets (tenant_id, rule_set_id, name, shadow_sample_rate, spec) "
        "VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (tenant_id, rule_set_id) DO UPDATE SET "
        "name = EXCLUDED.name, shadow_sample_rate = EXCLUDED.shadow_sample_rate, "
        "spec = EXCLUDED.spec, updated_at = now()",
        t, r->rule_set.rule_set_id(), r->rule_set.name(), r->shadow_sample_rate,
        ToJson(r->rule_set));
  }
  // Versions: insert new ones, update changed ones (state, activation time).
  for (const RuleSetRecord& r : now.rule_sets) {
    const RuleSetRecord* before = old.FindRuleSet(r.rule_set.rule_set_id());
    for (const v1::RuleSetVersion& v : r.versions) {
      const v1::RuleSetVersion* ov = before != nullptr ? before->FindVersion(v.version()) : nullptr;
      if (ov != nullptr && Bytes(*ov) == Bytes(v)) continue;
      tx.exec_params(
          "INSERT INTO rule_set_versions (tenant_id, rule_set_id, version, state, spec) "
          "VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (tenant_id, rule_set_id, version) "
          "DO UPDATE SET state = EXCLUDED.state, spec = EXCLUDED.spec",
          t, v.rule_set_id(), v.version(), v1::RuleSetVersionState_Name(v.state()), ToJson(v));
    }
  }
  for (const v1::IpList* l : lists) {
    tx.exec_params(
        "INSERT INTO ip_lists (tenant_id, ip_list_id, name, purpose, spec) "
        "VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (tenant_id, ip_list_id) DO UPDATE SET "
        "name = EXCLUDED.name, purpose = EXCLUDED.purpose, spec = EXCLUDED.spec, "
        "updated_at = now()",
        t, l->ip_list_id(), l->name(), v1::IpListPurpose_Name(l->purpose()), ToJson(*l));
  }
  for (const v1::Route* r : routes) {
    tx.exec_params(
        "INSERT INTO routes (tenant_id, route_id, site_id, name, spec) "
        "VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (tenant_id, route_id) DO UPDATE SET "
        "site_id = EXCLUDED.site_id, name = EXCLUDED.name, spec = EXCLUDED.spec, "
        "updated_at = now()",
        t, r->route_id(), r->site_id(), r->name(), ToJson(*r));
  }
  if (Bytes(old.settings) != Bytes(now.settings)) {
    tx.exec_params(
        "INSERT INTO tenant_settings (tenant_id, spec) VALUES ($1, $2::jsonb) "
        "ON CONFLICT (tenant_id) DO UPDATE SET spec = EXCLUDED.spec, updated_at = now()",
        t, ToJson(now.settings));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TenantConfig> PostgresConfigStore::Load(const std::string& tenant_id,
                                                       const LoadOptions& options) {
  absl::StatusOr<TenantConfig> out;
  absl::Status s = pg::RunInTransaction(
      *pool_,
      [&](pqxx::work& tx) -> absl::Status {
        out = LoadIn(tx, tenant_id, options.live_versions_only);
        return out.status();
      },
      {.isolation = pg::IsolationLevel::kRepeatableRead, .read_only = true, .name = "load config"});
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<int64_t> PostgresConfigStore::Update(
    const std::string& tenant_id, const std::function<absl::Status(TenantConfig& config)>& mutate) {
  int64_t version = 0;
  absl::Status refused;  // the mutation's own answer: never retried
  absl::Status s = pg::RunInTransaction(
      *pool_,
      [&](pqxx::work& tx) -> absl::Status {
        refused = absl::OkStatus();
        tx.exec_params(
            "INSERT INTO config_versions (tenant_id, version) VALUES ($1, 0) "
            "ON CONFLICT (tenant_id) DO NOTHING",
            tenant_id);
        tx.exec_params("SELECT version FROM config_versions WHERE tenant_id = $1 FOR UPDATE",
                       tenant_id);
        SHIELDX_ASSIGN_OR_RETURN(TenantConfig old, LoadIn(tx, tenant_id, false));
        TenantConfig now = old;
        refused = mutate(now);
        if (!refused.ok()) return absl::CancelledError("mutation refused");
        absl::Status w = WriteDiff(tx, old, now);
        if (!w.ok()) {
          refused = w;
          return absl::CancelledError("mutation refused");
        }
        pqxx::row r = tx.exec_params1(
            "UPDATE config_versions SET version = nextval('config_version_seq'), "
            "updated_at = now() WHERE tenant_id = $1 RETURNING version",
            tenant_id);
        version = r[0].as<int64_t>();
        return absl::OkStatus();
      },
      {.name = "update config"});
  if (!refused.ok()) return refused;
  if (!s.ok()) return s;
  return version;
}

absl::StatusOr<int64_t> PostgresConfigStore::LatestVersion() {
  try {
    SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
    pqxx::nontransaction tx(*conn);
    pqxx::row r = tx.exec1("SELECT coalesce(max(version), 0) FROM config_versions");
    return r[0].as<int64_t>();
  } catch (const std::exception& e) {
    return pg::StatusFromPqxx(e);
  }
}

absl::StatusOr<std::map<std::string, int64_t>> PostgresConfigStore::ChangedSince(int64_t after) {
  try {
    SHIELDX_ASSIGN_OR_RETURN(pg::PooledConnection conn, pool_->Acquire());
    pqxx::nontransaction tx(*conn);
    std::map<std::string, int64_t> out;
    for (const auto& row : tx.exec_params(
             "SELECT tenant_id, version FROM config_versions WHERE version > $1", after)) {
      out[row[0].as<std::string>()] = row[1].as<int64_t>();
    }
    return out;
  } catch (const std::exception& e) {
    return pg::StatusFromPqxx(e);
  }
}

}  // namespace shieldx::orchestrator
