#include "services/orchestrator/config_manager.h"

#include <algorithm>
#include <random>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "libs/base/check.h"
#include "libs/base/status_macros.h"
#include "libs/pg/migrator.h"
#include "libs/pipeline/request_view.h"
#include "libs/pipeline/snapshot.h"

namespace shieldx::orchestrator {

namespace {

using google::protobuf::Timestamp;
using pipeline::RuleSetRecord;

Timestamp ToProto(absl::Time t) {
  Timestamp ts;
  const int64_t ns = absl::ToUnixNanos(t);
  ts.set_seconds(ns / 1'000'000'000);
  ts.set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  return ts;
}

// Per-kind access used by the generic CRUD below.
template <typename T>
struct Kind;

template <>
struct Kind<v1::Site> {
  static constexpr const char* kName = "site";
  static constexpr const char* kPrefix = "site_";
  static std::vector<v1::Site>& Objects(TenantConfig& c) { return c.sites; }
  static const std::string& Id(const v1::Site& o) { return o.site_id(); }
  static void SetId(v1::Site& o, const std::string& id) { o.set_site_id(id); }
  static void Stamp(v1::Site& o, absl::Time now, bool create) {
    if (create) *o.mutable_created_at() = ToProto(now);
    *o.mutable_updated_at() = ToProto(now);
  }
  static std::vector<std::string> ServerFields() {
    return {"site_id", "etag", "created_at", "updated_at"};
  }
};

template <>
struct Kind<v1::Route> {
  static constexpr const char* kName = "route";
  static constexpr const char* kPrefix = "route_";
  static std::vector<v1::Route>& Objects(TenantConfig& c) { return c.routes; }
  static const std::string& Id(const v1::Route& o) { return o.route_id(); }
  static void SetId(v1::Route& o, const std::string& id) { o.set_route_id(id); }
  static void Stamp(v1::Route& o, absl::Time now, bool create) {
    if (create) *o.mutable_created_at() = ToProto(now);
    *o.mutable_updated_at() = ToProto(now);
  }
  static std::vector<std::string> ServerFields() {
    return {"route_id", "etag", "created_at", "updated_at"};
  }
};

template <>
struct Kind<v1::Pool> {
  static constexpr const char* kName = "pool";
  static constexpr const char* kPrefix = "pool_";
  static std::vector<v1::Pool>& Objects(TenantConfig& c) { return c.pools; }
  static const std::string& Id(const v1::Pool& o) { return o.pool_id(); }
  static void SetId(v1::Pool& o, const std::string& id) { o.set_pool_id(id); }
  static void Stamp(v1::Pool& o, absl::Time now, bool create) {
    if (create) *o.mutable_created_at() = ToProto(now);
    *o.mutable_updated_at() = ToProto(now);
  }
  static std::vector<std::string> ServerFields() {
    return {"pool_id", "etag", "created_at", "updated_at"};
  }
};

template <>
struct Kind<v1::IpList> {
  static constexpr const char* kName = "ip list";
  static constexpr const char* kPrefix = "ipl_";
  static std::vector<v1::IpList>& Objects(TenantConfig& c) { return c.ip_lists; }
  static const std::string& Id(const v1::IpList& o) { return o.ip_list_id(); }
  static void SetId(v1::IpList& o, const std::string& id) { o.set_ip_list_id(id); }
  static void Stamp(v1::IpList& o, absl::Time now, bool) { *o.mutable_updated_at() = ToProto(now); }
  static std::vector<std::string> ServerFields() { return {"ip_list_id", "etag", "updated_at"}; }
};

template <typename T>
T* FindById(std::vector<T>& objects, const std::string& id) {
  for (T& o : objects) {
    if (Kind<T>::Id(o) == id) return &o;
  }
  return nullptr;
}

uint32_t PageSize(const PageRequest& page, absl::Status* status) {
  if (page.page_size > kMaxPageSize) {
    *status = absl::InvalidArgumentError(
        absl::StrCat("page.page_size: ", page.page_size, " is above the limit of ", kMaxPageSize));
    return 0;
  }
  return page.page_size == 0 ? kDefaultPageSize : page.page_size;
}

// Keyset pagination by name: the token is the hex of the last name returned.
template <typename T, typename NameFn>
absl::StatusOr<Listing<T>> Paginate(std::vector<T> items, const PageRequest& page, NameFn name) {
  absl::Status status;
  const uint32_t size = PageSize(page, &status);
  if (!status.ok()) return status;
  std::string after;
  if (!page.page_token.empty()) {
    if (page.page_token.size() > 2 * kMaxNameBytes + 64 || page.page_token.size() % 2 != 0) {
      return absl::InvalidArgumentError("page.page_token: not a token this RPC issued");
    }
    after = absl::HexStringToBytes(page.page_token);
  }
  std::sort(items.begin(), items.end(), [&](const T& a, const T& b) { return name(a) < name(b); });
  Listing<T> out;
  for (T& item : items) {
    if (!after.empty() && name(item) <= after) continue;
    if (out.items.size() == size) {
      out.next_page_token = absl::BytesToHexString(name(out.items.back()));
      break;
    }
    out.items.push_back(std::move(item));
  }
  return out;
}

absl::Status NotFound(const std::string& kind, const std::string& id) {
  return absl::NotFoundError(absl::StrCat(kind, " ", id.substr(0, 128), ": not found"));
}

common::v1::Action ToProtoAction(policy::Action a) {
  switch (a) {
    case policy::Action::kBlock:
      return common::v1::ACTION_BLOCK;
    case policy::Action::kChallenge:
      return common::v1::ACTION_CHALLENGE;
    case policy::Action::kTarpit:
      return common::v1::ACTION_TARPIT;
    case policy::Action::kDivert:
      return common::v1::ACTION_DIVERT;
    case policy::Action::kAllow:
      break;
  }
  return common::v1::ACTION_ALLOW;
}

// "rs@v3:4:12: unknown field ..." → a diagnostic at 4:12.
common::v1::Diagnostic DiagnosticFrom(const absl::Status& status) {
  common::v1::Diagnostic d;
  d.set_severity(common::v1::DIAGNOSTIC_SEVERITY_ERROR);
  std::string message(status.message());
  std::vector<std::string> parts = absl::StrSplit(message, absl::MaxSplits(':', 3));
  uint32_t line = 0, column = 0;
  if (parts.size() == 4 && absl::SimpleAtoi(parts[1], &line) &&
      absl::SimpleAtoi(parts[2], &column)) {
    d.set_line(line);
    d.set_column(column);
    message = std::string(absl::StripLeadingAsciiWhitespace(parts[3]));
  }
  d.set_message(message.substr(0, 4096));
  return d;
}

bool HasErrors(const v1::RuleSetVersion& v) {
  for (const common::v1::Diagnostic& d : v.diagnostics()) {
    if (d.severity() == common::v1::DIAGNOSTIC_SEVERITY_ERROR) return true;
  }
  return false;
}

v1::RuleSetVersion WithoutSource(v1::RuleSetVersion v) {
  v.clear_source();
  v.clear_test_cases();
  return v;
}

}  // namespace

absl::Status ValidateTenantId(const std::string& tenant_id) {
  if (tenant_id.empty() || tenant_id.size() > 64) {
    return absl::InvalidArgumentError("tenant_id: must be 1 to 64 characters of [A-Za-z0-9_-]");
  }
  for (unsigned char c : tenant_id) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-') {
      return absl::InvalidArgumentError("tenant_id: must be 1 to 64 characters of [A-Za-z0-9_-]");
    }
  }
  return absl::OkStatus();
}

ConfigManager::ConfigManager(ConfigStore* store, Clock* clock, ChangeAnnouncer* announcer)
    : store_(store), clock_(clock), announcer_(announcer) {
  std::random_device rd;
  rng_state_ = (uint64_t{rd()} << 32) ^ rd() ^ static_cast<uint64_t>(absl::GetCurrentTimeNanos());
  auto inspector = detect::Inspector::Create(detect::Profile::Default());
  SHIELDX_CHECK_MSG(inspector.ok(), "the default detection profile must compile");
  inspector_ = std::move(*inspector);
}

ConfigManager::~ConfigManager() = default;

std::string ConfigManager::NewId(const char* prefix) {
  absl::MutexLock lock(&rng_mu_);
  uint64_t x = rng_state_ += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return absl::StrCat(prefix, absl::Hex(x, absl::kZeroPad16));
}

std::string ConfigManager::NewEtag() { return NewId(""); }

absl::StatusOr<TenantConfig> ConfigManager::Read(const std::string& tenant) {
  SHIELDX_RETURN_IF_ERROR(ValidateTenantId(tenant));
  return store_->Load(tenant, LoadOptions{});
}

absl::StatusOr<int64_t> ConfigManager::Change(
    const std::string& tenant, const std::function<absl::Status(TenantConfig&)>& mutate,
    bool deleting) {
  SHIELDX_RETURN_IF_ERROR(ValidateTenantId(tenant));
  absl::StatusOr<int64_t> version = store_->Update(tenant, [&](TenantConfig& c) -> absl::Status {
    SHIELDX_RETURN_IF_ERROR(mutate(c));
    absl::Status s = ValidateTenant(c);
    if (s.ok()) {
      pipeline::MemberStateRegistry scratch;
      pipeline::CompileContext ctx{&scratch, nullptr, nullptr, absl::ToUnixSeconds(clock_->Now())};
      s = pipeline::CompileTenant(c, ctx).status();
    }
    if (!s.ok() && deleting && s.code() == absl::StatusCode::kInvalidArgument) {
      return absl::FailedPreconditionError(absl::StrCat(
          "still referenced: the configuration would not compile without it: ", s.message()));
    }
    return s;
  });
  if (version.ok() && announcer_ != nullptr) announcer_->Announce(tenant, *version);
  return version;
}

template <typename T>
absl::StatusOr<Versioned<T>> ConfigManager::CreateObject(const std::string& tenant, T object) {
  Kind<T>::SetId(object, NewId(Kind<T>::kPrefix));
  object.set_etag(NewEtag());
  Kind<T>::Stamp(object, clock_->Now(), true);
  SHIELDX_ASSIGN_OR_RETURN(int64_t version, Change(tenant, [&](TenantConfig& c) {
                             Kind<T>::Objects(c).push_back(object);
                             return absl::OkStatus();
                           }));
  return Versioned<T>{object, version};
}

template <typename T>
absl::StatusOr<T> ConfigManager::GetObject(const std::string& tenant, const std::string& id) {
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c, Read(tenant));
  T* o = FindById(Kind<T>::Objects(c), id);
  if (o == nullptr) return NotFound(Kind<T>::kName, id);
  return *o;
}

template <typename T>
absl::StatusOr<Versioned<T>> ConfigManager::UpdateObject(const std::string& tenant,
                                                         const std::string& id, const T& patch,
                                                         const std::vector<std::string>& mask) {
  if (mask.empty())
    return absl::InvalidArgumentError("update_mask: at least one field is required");
  const std::vector<std::string> server = Kind<T>::ServerFields();
  google::protobuf::FieldMask fm;
  for (const std::string& path : mask) {
    if (std::find(server.begin(), server.end(), path) != server.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: ", path, " is set by the server and cannot be changed"));
    }
    fm.add_paths(path);
  }
  if (!google::protobuf::util::FieldMaskUtil::IsValidFieldMask<T>(fm)) {
    return absl::InvalidArgumentError(absl::StrCat("update_mask: names a field ", Kind<T>::kName,
                                                   " does not have: ", absl::StrJoin(mask, ",")));
  }
  const std::string id_in_patch = Kind<T>::Id(patch);
  if (!id_in_patch.empty() && id_in_patch != id) {
    return absl::InvalidArgumentError(absl::StrCat(Kind<T>::kName, " id in the body (", id_in_patch,
                                                   ") differs from the one in the request"));
  }
  T updated;
  SHIELDX_ASSIGN_OR_RETURN(
      int64_t version, Change(tenant, [&](TenantConfig& c) -> absl::Status {
        T* o = FindById(Kind<T>::Objects(c), id);
        if (o == nullptr) return NotFound(Kind<T>::kName, id);
        if (!patch.etag().empty() && patch.etag() != o->etag()) {
          return absl::AbortedError(absl::StrCat(Kind<T>::kName, " ", id, ": etag ", patch.etag(),
                                                 " is stale (current ", o->etag(),
                                                 "); read it again"));
        }
        google::protobuf::util::FieldMaskUtil::MergeOptions opts;
        opts.set_replace_repeated_fields(true);
        opts.set_replace_message_fields(true);
        google::protobuf::util::FieldMaskUtil::MergeMessageTo(patch, fm, opts, o);
        o->set_etag(NewEtag());
        Kind<T>::Stamp(*o, clock_->Now(), false);
        updated = *o;
        return absl::OkStatus();
      }));
  return Versioned<T>{updated, version};
}

template <typename T>
absl::StatusOr<int64_t> ConfigManager::DeleteObject(const std::string& tenant,
                                                    const std::string& id,
                                                    const std::string& etag) {
  return Change(
      tenant,
      [&](TenantConfig& c) -> absl::Status {
        std::vector<T>& objects = Kind<T>::Objects(c);
        auto it = std::find_if(objects.begin(), objects.end(),
                               [&](const T& o) { return Kind<T>::Id(o) == id; });
        if (it == objects.end()) return NotFound(Kind<T>::kName, id);
        if (!etag.empty() && etag != it->etag()) {
          return absl::AbortedError(absl::StrCat(Kind<T>::kName, " ", id, ": etag ", etag,
                                                 " is stale (current ", it->etag(), ")"));
        }
        objects.erase(it);
        return absl::OkStatus();
      },
      /*deleting=*/true);
}

// ---- sites, routes, pools, IP lists ------------------------------------------------------

absl::StatusOr<Versioned<v1::Site>> ConfigManager::CreateSite(const std::string& t, v1::Site s) {
  for (std::string& h : *s.mutable_hostnames()) absl::AsciiStrToLower(&h);
  return CreateObject(t, std::move(s));
}
absl::StatusOr<v1::Site> ConfigManager::GetSite(const std::string& t, const std::string& id) {
  return GetObject<v1::Site>(t, id);
}
absl::StatusOr<Listing<v1::Site>> ConfigManager::ListSites(const std::string& t,
                                                           const PageRequest& page) {
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c, Read(t));
  return Paginate(std::move(c.sites), page, [](const v1::Site& s) { return s.name(); });
}
absl::StatusOr<Versioned<v1::Site>> ConfigManager::UpdateSite(const std::string& t,
                                                              const std::string& id,
                                                              const v1::Site& patch,
                                                              const std::vector<std::string>& m) {
  v1::Site p = patch;
  for (std::string& h : *p.mutable_hostnames()) absl::AsciiStrToLower(&h);
  return UpdateObject(t, id, p, m);
}
absl::StatusOr<int64_t> ConfigManager::DeleteSite(const std::string& t, const std::string& id,
                                                  const std::string& etag) {
  // Routes belong to their site: deleting a site with routes is refused explicitly.
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c, Read(t));
  for (const v1::Route& r : c.routes) {
    if (r.site_id() == id) {
      return absl::FailedPreconditionError(absl::StrCat("site ", id, ": still has route \"",
                                                        r.name(), "\"; delete its routes first"));
    }
  }
  return DeleteObject<v1::Site>(t, id, etag);
}

absl::StatusOr<Versioned<v1::Route>> ConfigManager::CreateRoute(const std::string& t, v1::Route r) {
  return CreateObject(t, std::move(r));
}
absl::StatusOr<v1::Route> ConfigManager::GetRoute(const std::string& t, const std::string& id) {
  return GetObject<v1::Route>(t, id);
}
absl::StatusOr<Listing<v1::Route>> ConfigManager::ListRoutes(const std::string& t,
                                                             const PageRequest& page,
                                                             const std::string& site_id) {
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c, Read(t));
  std::vector<v1::Route> routes;
  for (v1::Route& r : c.routes) {
    if (site_id.empty() || r.site_id() == site_id) routes.push_back(std::move(r));
  }
  return Paginate(std::move(routes), page,
                  [](const v1::Route& r) { return absl::StrCat(r.name(), "\x1f", r.route_id()); });
}
absl::StatusOr<Versioned<v1::Route>> ConfigManager::UpdateRoute(const std::string& t,
                                                                const std::string& id,
                                                                const v1::Route& patch,
                                                                const std::vector<std::string>& m) {
  return UpdateObject(t, id, patch, m);
}
absl::StatusOr<int64_t> ConfigManager::DeleteRoute(const std::string& t, const std::string& id,
                                                   const std::string& etag) {
  return DeleteObject<v1::Route>(t, id, etag);
}

absl::StatusOr<Versioned<v1::Pool>> ConfigManager::CreatePool(const std::string& t, v1::Pool p) {
  // Members without an id get one (the proxy reports outcomes by member id).
  int n = 0;
  for (v1::PoolMember& m : *p.mutable_members()) {
    ++n;
    if (m.member_id().empty()) m.set_member_id(absl::StrCat("m", n));
    if (m.weight() == 0) m.set_weight(1);
  }
  return CreateObject(t, std::move(p));
}
absl::StatusOr<v1::Pool> ConfigManager::GetPool(const std::string& t, const std::string& id) {
  return GetObject<v1::Pool>(t, id);
}
absl::StatusOr<Listing<v1::Pool>> ConfigManager::ListPools(const std::string& t,
                                                           const PageRequest& page) {
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c, Read(t));
  return Paginate(std::move(c.pools), page, [](const v1::Pool& p) { return p.name(); });
}
absl::StatusOr<Versioned<v1::Pool>> ConfigManager::UpdatePool(const std::string& t,
                                                              const std::string& id,
                                                              const v1::Pool& patch,
                                                              const std::vector<std::string>& m) {
  v1::Pool p = patch;
  int n = 0;
  for (v1::PoolMember& member : *p.mutable_members()) {
    ++n;
    if (member.member_id().empty()) member.set_member_id(absl::StrCat("m", n));
    if (member.weight() == 0) member.set_weight(1);
  }
  return UpdateObject(t, id, p, m);
}
absl::StatusOr<int64_t> ConfigManager::DeletePool(const std::string& t, const std::string& id,
                                                  const std::string& etag) {
  return DeleteObject<v1::Pool>(t, id, etag);
}

absl::StatusOr<Versioned<v1::IpList>> ConfigManager::CreateIpList(const std::string& t,
                                                                  v1::IpList l) {
  return CreateObject(t, std::move(l));
}
absl::StatusOr<v1::IpList> ConfigManager::GetIpList(const std::string& t, const std::string& id) {
  return GetObject<v1::IpList>(t, id);
}
absl::StatusOr<Listing<v1::IpList>> ConfigManager::ListIpLists(const std::string& t,
                                                               const PageRequest& page,
                                                               v1::IpListPurpose purpose) {
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c, Read(t));
  std::vector<v1::IpList> lists;
  for (v1::IpList& l : c.ip_lists) {
    if (purpose == v1::IP_LIST_PURPOSE_UNSPECIFIED || l.purpose() == purpose) {
      lists.push_back(std::move(l));
    }
  }
  return Paginate(std::move(lists), page, [](const v1::IpList& l) { return l.name(); });
}
absl::StatusOr<Versioned<v1::IpList>> ConfigManager::UpdateIpList(
    const std::string& t, const std::string& id, const v1::IpList& patch,
    const std::vector<std::string>& m) {
  return UpdateObject(t, id, patch, m);
}
absl::StatusOr<int64_t> ConfigManager::DeleteIpList(const std::string& t, const std::string& id,
                                                    const std::string& etag) {
  return DeleteObject<v1::IpList>(t, id, etag);
}

absl::StatusOr<IpListModification> ConfigManager::ModifyIpListEntries(
    const std::string& t, const std::string& id, const std::vector<v1::IpListEntry>& additions,
    const std::vector<std::string>& removals) {
  if (additions.size() > kMaxIpListModifications || removals.size() > kMaxIpListModifications) {
    return absl::InvalidArgumentError(
        absl::StrCat("additions/removals: at most ", kMaxIpListModifications, " each per call"));
  }
  IpListModification out;
  SHIELDX_ASSIGN_OR_RETURN(out.config_version, Change(t, [&](TenantConfig& c) -> absl::Status {
                             v1::IpList* l = FindById(c.ip_lists, id);
                             if (l == nullptr) return NotFound("ip list", id);
                             std::set<std::string> remove(removals.begin(), removals.end());
                             for (const v1::IpListEntry& a : additions) remove.insert(a.cidr());
                             google::protobuf::RepeatedPtrField<v1::IpListEntry> kept;
                             for (const v1::IpListEntry& e : l->entries()) {
                               if (!remove.count(e.cidr())) *kept.Add() = e;
                             }
                             for (const v1::IpListEntry& a : additions) *kept.Add() = a;
                             l->mutable_entries()->Swap(&kept);
                             l->set_etag(NewEtag());
                             Kind<v1::IpList>::Stamp(*l, clock_->Now(), false);
                             out.entry_count = static_cast<uint32_t>(l->entries_size());
                             out.etag = l->etag();
                             return absl::OkStatus();
                           }));
  return out;
}

// ---- rule sets ---------------------------------------------------------------------------

absl::StatusOr<v1::RuleSet> ConfigManager::CreateRuleSet(const std::string& t, v1::RuleSet rs) {
  RuleSetRecord record;
  record.rule_set.set_rule_set_id(NewId("rs_"));
  record.rule_set.set_name(rs.name());
  record.rule_set.set_description(rs.description());
  *record.rule_set.mutable_created_at() = ToProto(clock_->Now());
  SHIELDX_RETURN_IF_ERROR(Change(t, [&](TenantConfig& c) {
                            c.rule_sets.push_back(record);
                            return absl::OkStatus();
                          }).status());
  return record.rule_set;
}

absl::StatusOr<v1::RuleSet> ConfigManager::GetRuleSet(const std::string& t, const std::string& id) {
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c, Read(t));
  const RuleSetRecord* rs = c.FindRuleSet(id);
  if (rs == nullptr) return NotFound("rule set", id);
  return rs->rule_set;
}

absl::StatusOr<Listing<v1::RuleSet>> ConfigManager::ListRuleSets(const std::string& t,
                                                                 const PageRequest& page) {
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c, Read(t));
  std::vector<v1::RuleSet> sets;
  for (RuleSetRecord& r : c.rule_sets) sets.push_back(std::move(r.rule_set));
  return Paginate(std::move(sets), page, [](const v1::RuleSet& r) { return r.name(); });
}

absl::StatusOr<v1::RuleSetVersion> ConfigManager::CreateRuleSetVersion(
    const std::string& t, const std::string& rule_set_id, const std::string& source,
    const std::vector<common::v1::RuleTestCase>& test_cases, const std::string& change_note,
    const std::string& created_by) {
  if (source.size() > kMaxRuleSourceBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("source: ", source.size(), " bytes (at most ", kMaxRuleSourceBytes, ")"));
  }
  if (test_cases.size() > kMaxRuleTestCases) {
    return absl::InvalidArgumentError(
        absl::StrCat("test_cases: ", test_cases.size(), " (at most ", kMaxRuleTestCases, ")"));
  }
  if (change_note.size() > kMaxDescriptionBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("change_note: at most ", kMaxDescriptionBytes, " bytes"));
  }
  v1::RuleSetVersion out;
  SHIELDX_RETURN_IF_ERROR(Change(t, [&](TenantConfig& c) -> absl::Status {
                            RuleSetRecord* rs = c.FindRuleSet(rule_set_id);
                            if (rs == nullptr) return NotFound("rule set", rule_set_id);
                            if (rs->versions.size() >= pipeline::kMaxVersionsPerRuleSet) {
                              return absl::ResourceExhaustedError(
                                  absl::StrCat("rule set ", rule_set_id, ": ", rs->versions.size(),
                                               " versions (the limit); create a new rule set"));
                            }
                            v1::RuleSetVersion v;
                            v.set_rule_set_id(rule_set_id);
                            v.set_version(rs->rule_set.latest_version() + 1);
                            v.set_state(v1::RULE_SET_VERSION_STATE_DRAFT);
                            v.set_source(source);
                            for (const common::v1::RuleTestCase& tc : test_cases)
                              *v.add_test_cases() = tc;
                            std::string digest_input = source;
                            for (const common::v1::RuleTestCase& tc : test_cases) {
                              absl::StrAppend(&digest_input, "\n", tc.SerializeAsString());
                            }
                            v.set_checksum(pg::Sha256Hex(digest_input));
                            v.set_change_note(change_note);
                            v.set_created_by(created_by.substr(0, 256));
                            *v.mutable_created_at() = ToProto(clock_->Now());
                            auto policy = pipeline::CompileRuleSetVersion(
                                c, v, absl::ToUnixSeconds(clock_->Now()));
                            if (policy.ok()) {
                              v.set_rule_count(static_cast<uint32_t>((*policy)->rules().size()));
                            } else {
                              *v.add_diagnostics() = DiagnosticFrom(policy.status());
                            }
                            rs->rule_set.set_latest_version(v.version());
                            rs->versions.push_back(v);
                            out = v;
                            return absl::OkStatus();
                          }).status());
  return out;
}

absl::StatusOr<v1::RuleSetVersion> ConfigManager::GetRuleSetVersion(const std::string& t,
                                                                    const std::string& rule_set_id,
                                                                    int64_t version) {
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c, Read(t));
  const RuleSetRecord* rs = c.FindRuleSet(rule_set_id);
  if (rs == nullptr) return NotFound("rule set", rule_set_id);
  const v1::RuleSetVersion* v = rs->FindVersion(version);
  if (v == nullptr)
    return NotFound(absl::StrCat("rule set ", rule_set_id, " version"), absl::StrCat(version));
  return *v;
}

absl::StatusOr<Listing<v1::RuleSetVersion>> ConfigManager::ListRuleSetVersions(
    const std::string& t, const std::string& rule_set_id,
    const std::vector<v1::RuleSetVersionState>& states, const PageRequest& page) {
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c, Read(t));
  const RuleSetRecord* rs = c.FindRuleSet(rule_set_id);
  if (rs == nullptr) return NotFound("rule set", rule_set_id);
  absl::Status status;
  const uint32_t size = PageSize(page, &status);
  if (!status.ok()) return status;
  int64_t before = INT64_MAX;
  if (!page.page_token.empty() && !absl::SimpleAtoi(page.page_token, &before)) {
    return absl::InvalidArgumentError("page.page_token: not a token this RPC issued");
  }
  std::vector<v1::RuleSetVersion> versions = rs->versions;
  std::sort(versions.begin(), versions.end(),
            [](const auto& a, const auto& b) { return a.version() > b.version(); });
  Listing<v1::RuleSetVersion> out;
  for (const v1::RuleSetVersion& v : versions) {
    if (v.version() >= before) continue;
    if (!states.empty() && std::find(states.begin(), states.end(), v.state()) == states.end()) {
      continue;
    }
    if (out.items.size() == size) {
      out.next_page_token = absl::StrCat(out.items.back().version());
      break;
    }
    out.items.push_back(WithoutSource(v));
  }
  return out;
}

absl::StatusOr<Versioned<v1::RuleSet>> ConfigManager::ShadowRuleSetVersion(
    const std::string& t, const std::string& rule_set_id, int64_t version, double sample_rate) {
  if (!(sample_rate > 0 && sample_rate <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sample_rate: ", sample_rate, " is not in (0, 1]"));
  }
  v1::RuleSet out;
  SHIELDX_ASSIGN_OR_RETURN(
      int64_t cv, Change(t, [&](TenantConfig& c) -> absl::Status {
        RuleSetRecord* rs = c.FindRuleSet(rule_set_id);
        if (rs == nullptr) return NotFound("rule set", rule_set_id);
        v1::RuleSetVersion* v = rs->FindVersion(version);
        if (v == nullptr)
          return NotFound(absl::StrCat("rule set ", rule_set_id, " version"),
                          absl::StrCat(version));
        if (v->state() != v1::RULE_SET_VERSION_STATE_DRAFT) {
          return absl::FailedPreconditionError(
              absl::StrCat("rule set ", rule_set_id, " version ", version,
                           ": only a DRAFT can go to shadow (it is ",
                           v1::RuleSetVersionState_Name(v->state()), ")"));
        }
        if (HasErrors(*v)) {
          return absl::FailedPreconditionError(
              absl::StrCat("rule set ", rule_set_id, " version ", version,
                           ": does not compile: ", v->diagnostics(0).message()));
        }
        if (v1::RuleSetVersion* old = rs->FindVersion(rs->rule_set.shadow_version())) {
          old->set_state(v1::RULE_SET_VERSION_STATE_DRAFT);
        }
        v->set_state(v1::RULE_SET_VERSION_STATE_SHADOW);
        rs->rule_set.set_shadow_version(version);
        rs->shadow_sample_rate = sample_rate;
        out = rs->rule_set;
        return absl::OkStatus();
      }));
  return Versioned<v1::RuleSet>{out, cv};
}

absl::StatusOr<RuleTestReport> ConfigManager::RunTests(
    const TenantConfig& config, const v1::RuleSetVersion& version,
    const std::vector<common::v1::RuleTestCase>& extra) {
  auto policy =
      pipeline::CompileRuleSetVersion(config, version, absl::ToUnixSeconds(clock_->Now()));
  if (!policy.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("rule set ", version.rule_set_id(), " version ", version.version(),
                     ": does not compile: ", policy.status().message()));
  }
  RuleTestReport report;
  report.passed = true;
  for (const policy::TestResult& r : (*policy)->RunTests()) {
    common::v1::RuleTestResult out;
    out.set_name(r.name);
    out.set_passed(r.passed);
    out.set_failure(r.diff);
    report.passed = report.passed && r.passed;
    report.results.push_back(std::move(out));
  }
  std::vector<common::v1::RuleTestCase> cases(version.test_cases().begin(),
                                              version.test_cases().end());
  cases.insert(cases.end(), extra.begin(), extra.end());
  auto scratch = inspector_->NewScratch();
  pipeline::RequestView view;
  for (const common::v1::RuleTestCase& tc : cases) {
    // The request through detection (medium) and the policy, as the pipeline would see it.
    const common::v1::HttpRequest& hr = tc.request();
    detect::OwnedHttpRequest req;
    req.method = hr.method().empty() ? "GET" : hr.method();
    req.uri = hr.path().empty() ? "/" : hr.path();
    if (!hr.query().empty()) absl::StrAppend(&req.uri, "?", hr.query());
    req.client_ip = hr.client_ip().empty() ? "192.0.2.1" : hr.client_ip();
    // A test request without a host gets one: HTTP/1.1 requires it and detection flags its
    // absence as a protocol anomaly, which is not what a rule test is about.
    bool has_host = false;
    for (const common::v1::Header& h : hr.headers()) {
      has_host = has_host || absl::EqualsIgnoreCase(h.name(), "host");
      req.headers.emplace_back(h.name(), h.value());
    }
    if (!has_host) req.headers.emplace_back("Host", hr.host().empty() ? "test.invalid" : hr.host());
    for (const common::v1::Cookie& ck : hr.cookies()) {
      req.headers.emplace_back("Cookie", absl::StrCat(ck.name(), "=", ck.value()));
    }
    req.body = hr.body();
    const detect::HttpRequest rv = req.view();
    const detect::Verdict verdict = inspector_->Inspect(rv, *scratch);
    view.Build(rv, "", pipeline::kMaxViewArgs * 1024);
    policy::PolicyInput in;
    in.method = view.method();
    in.host = view.host();
    in.path = view.path();
    in.query = view.query();
    in.args = view.args();
    in.headers = view.headers();
    in.cookies = view.cookies();
    if (auto ip = policy::IpAddress::Parse(req.client_ip)) in.ip_src = *ip;
    in.waf_score = verdict.score;
    in.waf_categories = verdict.categories;
    in.tenant_id = config.tenant_id;
    in.unix_time_s = absl::ToUnixSeconds(clock_->Now());
    const policy::PolicyResult r = (*policy)->Evaluate(in);
    common::v1::Action actual = ToProtoAction(r.action);
    if (r.matched_rule < 0 && verdict.action != detect::Action::kAllow) {
      actual = verdict.action == detect::Action::kBlock ? common::v1::ACTION_BLOCK
                                                        : common::v1::ACTION_CHALLENGE;
    }
    common::v1::RuleTestResult out;
    out.set_name(tc.name());
    out.set_actual_action(actual);
    out.set_actual_rule_id(std::string(r.matched_rule_name));
    std::vector<std::string> problems;
    if (tc.expected_action() != common::v1::ACTION_UNSPECIFIED && tc.expected_action() != actual) {
      problems.push_back(absl::StrCat("action: expected ",
                                      common::v1::Action_Name(tc.expected_action()), ", got ",
                                      common::v1::Action_Name(actual)));
    }
    for (const std::string& tag : tc.expected_tags()) {
      bool found = false;
      for (std::size_t i = 0; i < (*policy)->tag_names().size(); ++i) {
        if ((*policy)->tag_names()[i] == tag && ((r.tags >> i) & 1u)) found = true;
      }
      if (!found) problems.push_back(absl::StrCat("tag \"", tag, "\": expected, missing"));
    }
    out.set_passed(problems.empty());
    out.set_failure(absl::StrJoin(problems, "\n"));
    report.passed = report.passed && problems.empty();
    report.results.push_back(std::move(out));
  }
  return report;
}

absl::StatusOr<Activation> ConfigManager::ActivateRuleSet(const std::string& t,
                                                          const std::string& rule_set_id,
                                                          int64_t version,
                                                          int64_t expected_active_version) {
  Activation out;
  SHIELDX_ASSIGN_OR_RETURN(
      out.config_version, Change(t, [&](TenantConfig& c) -> absl::Status {
        RuleSetRecord* rs = c.FindRuleSet(rule_set_id);
        if (rs == nullptr) return NotFound("rule set", rule_set_id);
        if (rs->rule_set.active_version() != expected_active_version) {
          return absl::AbortedError(absl::StrCat(
              "rule set ", rule_set_id, ": active version is ", rs->rule_set.active_version(),
              ", not the expected ", expected_active_version, "; someone else changed it"));
        }
        v1::RuleSetVersion* v = rs->FindVersion(version);
        if (v == nullptr)
          return NotFound(absl::StrCat("rule set ", rule_set_id, " version"),
                          absl::StrCat(version));
        if (v->state() != v1::RULE_SET_VERSION_STATE_DRAFT &&
            v->state() != v1::RULE_SET_VERSION_STATE_SHADOW) {
          return absl::FailedPreconditionError(
              absl::StrCat("rule set ", rule_set_id, " version ", version,
                           ": only a DRAFT or SHADOW version can "
                           "be activated (it is ",
                           v1::RuleSetVersionState_Name(v->state()), ")"));
        }
        if (HasErrors(*v)) {
          return absl::FailedPreconditionError(
              absl::StrCat("rule set ", rule_set_id, " version ", version,
                           ": does not compile: ", v->diagnostics(0).message()));
        }
        SHIELDX_ASSIGN_OR_RETURN(RuleTestReport report, RunTests(c, *v, {}));
        out.results = report.results;
        if (!report.passed) {
          std::vector<std::string> failed;
          for (const auto& r : report.results) {
            if (!r.passed()) failed.push_back(absl::StrCat("\"", r.name(), "\": ", r.failure()));
          }
          return absl::FailedPreconditionError(absl::StrCat(
              "RULE_SET_TESTS_FAILED: rule set ", rule_set_id, " version ", version, ": ",
              failed.size(), " test case(s) failed: ", absl::StrJoin(failed, "; ")));
        }
        if (v1::RuleSetVersion* old = rs->FindVersion(rs->rule_set.active_version())) {
          old->set_state(v1::RULE_SET_VERSION_STATE_ARCHIVED);
        }
        if (rs->rule_set.shadow_version() == version) rs->rule_set.set_shadow_version(0);
        v->set_state(v1::RULE_SET_VERSION_STATE_ACTIVE);
        *v->mutable_activated_at() = ToProto(clock_->Now());
        rs->rule_set.set_active_version(version);
        out.rule_set = rs->rule_set;
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<Versioned<v1::RuleSet>> ConfigManager::RollbackRuleSet(
    const std::string& t, const std::string& rule_set_id, int64_t to_version,
    int64_t expected_active_version) {
  v1::RuleSet out;
  SHIELDX_ASSIGN_OR_RETURN(
      int64_t cv, Change(t, [&](TenantConfig& c) -> absl::Status {
        RuleSetRecord* rs = c.FindRuleSet(rule_set_id);
        if (rs == nullptr) return NotFound("rule set", rule_set_id);
        const int64_t active = rs->rule_set.active_version();
        if (active != expected_active_version) {
          return absl::AbortedError(absl::StrCat("rule set ", rule_set_id, ": active version is ",
                                                 active, ", not the expected ",
                                                 expected_active_version));
        }
        v1::RuleSetVersion* target = nullptr;
        if (to_version == 0) {
          // The version active before the current one: the most recently activated archive.
          for (v1::RuleSetVersion& v : rs->versions) {
            if (v.state() != v1::RULE_SET_VERSION_STATE_ARCHIVED || !v.has_activated_at()) continue;
            if (target == nullptr ||
                v.activated_at().seconds() > target->activated_at().seconds() ||
                (v.activated_at().seconds() == target->activated_at().seconds() &&
                 v.activated_at().nanos() > target->activated_at().nanos())) {
              target = &v;
            }
          }
          if (target == nullptr) {
            return absl::FailedPreconditionError(absl::StrCat(
                "rule set ", rule_set_id, ": no previously active version to roll back to"));
          }
        } else {
          target = rs->FindVersion(to_version);
          if (target == nullptr)
            return NotFound(absl::StrCat("rule set ", rule_set_id, " version"),
                            absl::StrCat(to_version));
          if (target->state() != v1::RULE_SET_VERSION_STATE_ARCHIVED) {
            return absl::FailedPreconditionError(
                absl::StrCat("rule set ", rule_set_id, " version ", to_version,
                             ": only an ARCHIVED version can be rolled back to"));
          }
        }
        if (v1::RuleSetVersion* cur = rs->FindVersion(active)) {
          cur->set_state(v1::RULE_SET_VERSION_STATE_ARCHIVED);
        }
        target->set_state(v1::RULE_SET_VERSION_STATE_ACTIVE);
        *target->mutable_activated_at() = ToProto(clock_->Now());
        rs->rule_set.set_active_version(target->version());
        out = rs->rule_set;
        return absl::OkStatus();
      }));
  return Versioned<v1::RuleSet>{out, cv};
}

absl::StatusOr<v1::RuleSetVersion> ConfigManager::ArchiveRuleSetVersion(
    const std::string& t, const std::string& rule_set_id, int64_t version) {
  v1::RuleSetVersion out;
  SHIELDX_RETURN_IF_ERROR(
      Change(t, [&](TenantConfig& c) -> absl::Status {
        RuleSetRecord* rs = c.FindRuleSet(rule_set_id);
        if (rs == nullptr) return NotFound("rule set", rule_set_id);
        v1::RuleSetVersion* v = rs->FindVersion(version);
        if (v == nullptr)
          return NotFound(absl::StrCat("rule set ", rule_set_id, " version"),
                          absl::StrCat(version));
        if (v->state() == v1::RULE_SET_VERSION_STATE_ACTIVE) {
          return absl::FailedPreconditionError(absl::StrCat(
              "rule set ", rule_set_id, " version ", version,
              ": the ACTIVE version cannot be archived; activate or roll back to another one"));
        }
        if (v->state() == v1::RULE_SET_VERSION_STATE_SHADOW) rs->rule_set.set_shadow_version(0);
        v->set_state(v1::RULE_SET_VERSION_STATE_ARCHIVED);
        out = *v;
        return absl::OkStatus();
      }).status());
  return out;
}

absl::StatusOr<RuleTestReport> ConfigManager::TestRuleSet(
    const std::string& t, const std::string& rule_set_id, int64_t version,
    const std::vector<common::v1::RuleTestCase>& extra) {
  if (extra.size() > kMaxRuleTestCases) {
    return absl::InvalidArgumentError(
        absl::StrCat("extra_test_cases: at most ", kMaxRuleTestCases));
  }
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c, Read(t));
  const RuleSetRecord* rs = c.FindRuleSet(rule_set_id);
  if (rs == nullptr) return NotFound("rule set", rule_set_id);
  const v1::RuleSetVersion* v = rs->FindVersion(version);
  if (v == nullptr)
    return NotFound(absl::StrCat("rule set ", rule_set_id, " version"), absl::StrCat(version));
  return RunTests(c, *v, extra);
}

// ---- settings ----------------------------------------------------------------------------

absl::StatusOr<v1::TenantSettings> ConfigManager::GetTenantSettings(const std::string& t) {
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c, Read(t));
  v1::TenantSettings s = c.settings;
  if (s.out_of_credits() == v1::OUT_OF_CREDITS_BEHAVIOUR_UNSPECIFIED) {
    s.set_out_of_credits(v1::OUT_OF_CREDITS_BEHAVIOUR_ALLOW_AND_FLAG);
  }
  if (s.rate_limit_failure_mode() == v1::FAILURE_MODE_UNSPECIFIED) {
    s.set_rate_limit_failure_mode(v1::FAILURE_MODE_FAIL_OPEN);
  }
  if (s.decision_retention_days() == 0) s.set_decision_retention_days(kDefaultRetentionDays);
  return s;
}

absl::StatusOr<Versioned<v1::TenantSettings>> ConfigManager::UpdateTenantSettings(
    const std::string& t, const v1::TenantSettings& patch, const std::vector<std::string>& mask) {
  if (mask.empty())
    return absl::InvalidArgumentError("update_mask: at least one field is required");
  google::protobuf::FieldMask fm;
  for (const std::string& p : mask) {
    if (p == "etag") return absl::InvalidArgumentError("update_mask: etag is set by the server");
    fm.add_paths(p);
  }
  if (!google::protobuf::util::FieldMaskUtil::IsValidFieldMask<v1::TenantSettings>(fm)) {
    return absl::InvalidArgumentError(
        absl::StrCat("update_mask: names an unknown settings field: ", absl::StrJoin(mask, ",")));
  }
  v1::TenantSettings out;
  SHIELDX_ASSIGN_OR_RETURN(
      int64_t cv, Change(t, [&](TenantConfig& c) -> absl::Status {
        if (!patch.etag().empty() && !c.settings.etag().empty() &&
            patch.etag() != c.settings.etag()) {
          return absl::AbortedError(absl::StrCat("settings: etag ", patch.etag(),
                                                 " is stale (current ", c.settings.etag(), ")"));
        }
        google::protobuf::util::FieldMaskUtil::MergeMessageTo(
            patch, fm, google::protobuf::util::FieldMaskUtil::MergeOptions(), &c.settings);
        c.settings.set_etag(NewEtag());
        out = c.settings;
        return absl::OkStatus();
      }));
  return Versioned<v1::TenantSettings>{out, cv};
}

absl::StatusOr<int64_t> ConfigManager::StoredVersion(const std::string& t) {
  SHIELDX_RETURN_IF_ERROR(ValidateTenantId(t));
  SHIELDX_ASSIGN_OR_RETURN(TenantConfig c,
                           store_->Load(t, LoadOptions{.live_versions_only = true}));
  return c.version;
}

}  // namespace shieldx::orchestrator
