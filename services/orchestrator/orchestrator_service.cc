#include "services/orchestrator/orchestrator_service.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/rpc/actor.h"
#include "libs/rpc/status.h"
#include "services/orchestrator/codec.h"
#include "shieldx/common/v1/tenant.pb.h"

namespace shieldx::orchestrator {

namespace {

// The principal for `created_by`: "<kind>:<actor_id>".
std::string Principal(const grpc::ServerContext* context) {
  const auto& md = context->client_metadata();
  auto it = md.find(rpc::kActorMetadataKey);
  common::v1::Actor actor;
  if (it == md.end() || it->second.size() > rpc::kMaxActorBytes ||
      !actor.ParseFromArray(it->second.data(), static_cast<int>(it->second.size()))) {
    return "";
  }
  return absl::StrCat(common::v1::ActorKind_Name(actor.kind()), ":",
                      actor.actor_id().substr(0, 128));
}

PageRequest Page(const common::v1::PageRequest& p) { return {p.page_size(), p.page_token()}; }

std::vector<std::string> Mask(const google::protobuf::FieldMask& m) {
  return {m.paths().begin(), m.paths().end()};
}

template <typename T, typename Fill>
grpc::Status Reply(absl::StatusOr<T> r, Fill fill) {
  if (!r.ok()) return rpc::StatusToGrpc(r.status());
  fill(*r);
  return grpc::Status::OK;
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t ns = absl::ToUnixNanos(t);
  ts.set_seconds(ns / 1'000'000'000);
  ts.set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  return ts;
}

#define SHIELDX_AUTHORIZE(context, tenant, permission)                                        \
  if (absl::Status auth_status = Authorize(context, tenant, permission); !auth_status.ok()) { \
    return rpc::StatusToGrpc(auth_status);                                                    \
  }

}  // namespace

absl::Status Authorize(const grpc::ServerContextBase* context, const std::string& tenant_id,
                       const std::string& permission) {
  if (absl::Status s = ValidateTenantId(tenant_id); !s.ok()) return s;
  return rpc::Authorize(context, tenant_id, permission);
}

// ---- DecisionService -----------------------------------------------------------------------

DecisionServiceImpl::DecisionServiceImpl(pipeline::Pipeline* pipeline, DecisionLog* log)
    : pipeline_(pipeline), log_(log) {}

absl::StatusOr<common::v1::Decision> DecisionServiceImpl::DecideOne(
    const std::string& tenant_id, const std::string& site_id,
    const common::v1::HttpRequest& request, const v1::EvaluateOptions& options) {
  if (options.has_rule_set_override()) {
    if (!options.dry_run()) {
      return absl::InvalidArgumentError("options.rule_set_override requires options.dry_run");
    }
    return absl::UnimplementedError(
        "options.rule_set_override: deciding with a non-active version is not supported by this "
        "orchestrator yet; use ConfigService.TestRuleSet");
  }
  if (pipeline_->snapshot() == nullptr) {
    return absl::UnavailableError("no configuration loaded yet; retry shortly");
  }
  detect::OwnedHttpRequest owned;
  if (absl::Status s = RequestFromProto(request, &owned); !s.ok()) return s;
  const detect::HttpRequest view = owned.view();
  pipeline::RequestContext ctx;
  ctx.front_end = pipeline::FrontEnd::kGrpc;
  ctx.tenant_id = tenant_id;
  ctx.site_id = site_id;
  ctx.request_id = request.request_id();
  ctx.tls = request.has_tls();
  ctx.host = request.host();
  ctx.dry_run = options.dry_run();
  pipeline::Decision d = pipeline_->Decide(view, ctx);
  if (d.tenant_id.empty()) {
    return absl::NotFoundError(
        site_id.empty() ? absl::StrCat("no site of tenant ", tenant_id, " serves host \"",
                                       request.host().substr(0, 253), "\"")
                        : absl::StrCat("site ", site_id, " of tenant ", tenant_id, ": not found"));
  }
  common::v1::Decision out = DecisionToProto(d, absl::Now());
  if (!options.explain() && out.findings_size() > 32) {
    out.mutable_findings()->DeleteSubrange(32, out.findings_size() - 32);
  }
  return out;
}

grpc::ServerUnaryReactor* DecisionServiceImpl::Evaluate(grpc::CallbackServerContext* context,
                                                        const v1::EvaluateRequest* request,
                                                        v1::EvaluateResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status auth = Authorize(context, request->tenant_id(), "decisions.evaluate");
      !auth.ok()) {
    reactor->Finish(rpc::StatusToGrpc(auth));
    return reactor;
  }
  reactor->Finish(Reply(
      DecideOne(request->tenant_id(), request->site_id(), request->request(), request->options()),
      [&](common::v1::Decision& d) { *response->mutable_decision() = std::move(d); }));
  return reactor;
}

grpc::Status DecisionServiceImpl::EvaluateBatch(grpc::ServerContext* context,
                                                const v1::EvaluateBatchRequest* request,
                                                v1::EvaluateBatchResponse* response) {
  SHIELDX_AUTHORIZE(context, request->tenant_id(), "decisions.evaluate");
  if (request->requests_size() > kMaxBatchRequests) {
    return rpc::StatusToGrpc(absl::InvalidArgumentError(absl::StrCat(
        "requests: ", request->requests_size(), " (at most ", kMaxBatchRequests, ")")));
  }
  if (request->ByteSizeLong() > kMaxBatchBytes) {
    return rpc::StatusToGrpc(absl::InvalidArgumentError(
        absl::StrCat("requests: more than ", kMaxBatchBytes, " bytes in total")));
  }
  for (int i = 0; i < request->requests_size(); ++i) {
    absl::StatusOr<common::v1::Decision> d = DecideOne(request->tenant_id(), request->site_id(),
                                                       request->requests(i), request->options());
    if (!d.ok()) {
      return rpc::StatusToGrpc(absl::Status(
          d.status().code(), absl::StrCat("requests[", i, "]: ", d.status().message())));
    }
    *response->add_decisions() = std::move(*d);
  }
  return grpc::Status::OK;
}

grpc::Status DecisionServiceImpl::QueryDecisions(grpc::ServerContext* context,
                                                 const v1::QueryDecisionsRequest* request,
                                                 v1::QueryDecisionsResponse* response) {
  SHIELDX_AUTHORIZE(context, request->tenant_id(), "decisions.read");
  if (log_ == nullptr) return rpc::StatusToGrpc(absl::UnavailableError("decision log disabled"));
  return Reply(log_->Query(request->tenant_id(), request->filter(), request->page().page_size(),
                           request->page().page_token()),
               [&](DecisionPage& p) {
                 for (auto& r : p.records) *response->add_records() = std::move(r);
                 response->mutable_page()->set_next_page_token(p.next_page_token);
               });
}

grpc::Status DecisionServiceImpl::TailDecisions(
    grpc::ServerContext* context, const v1::TailDecisionsRequest* request,
    grpc::ServerWriter<v1::TailDecisionsResponse>* writer) {
  SHIELDX_AUTHORIZE(context, request->tenant_id(), "decisions.read");
  if (log_ == nullptr) return rpc::StatusToGrpc(absl::UnavailableError("decision log disabled"));
  absl::Status s = log_->Tail(
      request->tenant_id(), request->filter(),
      [&](const v1::TailDecisionsResponse& r) { return writer->Write(r); },
      [&] { return context->IsCancelled() || draining_.load(); });
  return rpc::StatusToGrpc(s);
}

// ---- ConfigService -------------------------------------------------------------------------

ConfigServiceImpl::ConfigServiceImpl(ConfigManager* manager, pipeline::Pipeline* pipeline,
                                     SnapshotLoader* loader, std::string replica_id)
    : m_(manager), pipeline_(pipeline), loader_(loader), replica_id_(std::move(replica_id)) {}

grpc::Status ConfigServiceImpl::CreateSite(grpc::ServerContext* c, const v1::CreateSiteRequest* r,
                                           v1::CreateSiteResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(m_->CreateSite(r->tenant_id(), r->site()), [&](Versioned<v1::Site>& v) {
    *out->mutable_site() = v.value;
    out->set_config_version(v.config_version);
  });
}
grpc::Status ConfigServiceImpl::GetSite(grpc::ServerContext* c, const v1::GetSiteRequest* r,
                                        v1::GetSiteResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.read");
  return Reply(m_->GetSite(r->tenant_id(), r->site_id()),
               [&](v1::Site& s) { *out->mutable_site() = s; });
}
grpc::Status ConfigServiceImpl::ListSites(grpc::ServerContext* c, const v1::ListSitesRequest* r,
                                          v1::ListSitesResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.read");
  return Reply(m_->ListSites(r->tenant_id(), Page(r->page())), [&](Listing<v1::Site>& l) {
    for (auto& s : l.items) *out->add_sites() = std::move(s);
    out->mutable_page()->set_next_page_token(l.next_page_token);
  });
}
grpc::Status ConfigServiceImpl::UpdateSite(grpc::ServerContext* c, const v1::UpdateSiteRequest* r,
                                           v1::UpdateSiteResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(m_->UpdateSite(r->tenant_id(), r->site_id(), r->site(), Mask(r->update_mask())),
               [&](Versioned<v1::Site>& v) {
                 *out->mutable_site() = v.value;
                 out->set_config_version(v.config_version);
               });
}
grpc::Status ConfigServiceImpl::DeleteSite(grpc::ServerContext* c, const v1::DeleteSiteRequest* r,
                                           v1::DeleteSiteResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(m_->DeleteSite(r->tenant_id(), r->site_id(), r->etag()),
               [&](int64_t v) { out->set_config_version(v); });
}

grpc::Status ConfigServiceImpl::CreateRoute(grpc::ServerContext* c, const v1::CreateRouteRequest* r,
                                            v1::CreateRouteResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(m_->CreateRoute(r->tenant_id(), r->route()), [&](Versioned<v1::Route>& v) {
    *out->mutable_route() = v.value;
    out->set_config_version(v.config_version);
  });
}
grpc::Status ConfigServiceImpl::GetRoute(grpc::ServerContext* c, const v1::GetRouteRequest* r,
                                         v1::GetRouteResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.read");
  return Reply(m_->GetRoute(r->tenant_id(), r->route_id()),
               [&](v1::Route& x) { *out->mutable_route() = x; });
}
grpc::Status ConfigServiceImpl::ListRoutes(grpc::ServerContext* c, const v1::ListRoutesRequest* r,
                                           v1::ListRoutesResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.read");
  return Reply(m_->ListRoutes(r->tenant_id(), Page(r->page()), r->site_id()),
               [&](Listing<v1::Route>& l) {
                 for (auto& x : l.items) *out->add_routes() = std::move(x);
                 out->mutable_page()->set_next_page_token(l.next_page_token);
               });
}
grpc::Status ConfigServiceImpl::UpdateRoute(grpc::ServerContext* c, const v1::UpdateRouteRequest* r,
                                            v1::UpdateRouteResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(m_->UpdateRoute(r->tenant_id(), r->route_id(), r->route(), Mask(r->update_mask())),
               [&](Versioned<v1::Route>& v) {
                 *out->mutable_route() = v.value;
                 out->set_config_version(v.config_version);
               });
}
grpc::Status ConfigServiceImpl::DeleteRoute(grpc::ServerContext* c, const v1::DeleteRouteRequest* r,
                                            v1::DeleteRouteResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(m_->DeleteRoute(r->tenant_id(), r->route_id(), r->etag()),
               [&](int64_t v) { out->set_config_version(v); });
}

grpc::Status ConfigServiceImpl::CreatePool(grpc::ServerContext* c, const v1::CreatePoolRequest* r,
                                           v1::CreatePoolResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(m_->CreatePool(r->tenant_id(), r->pool()), [&](Versioned<v1::Pool>& v) {
    *out->mutable_pool() = v.value;
    out->set_config_version(v.config_version);
  });
}
grpc::Status ConfigServiceImpl::GetPool(grpc::ServerContext* c, const v1::GetPoolRequest* r,
                                        v1::GetPoolResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.read");
  return Reply(m_->GetPool(r->tenant_id(), r->pool_id()), [&](v1::Pool& p) {
    *out->mutable_pool() = p;
    // Live member state on this replica.
    std::shared_ptr<const pipeline::Snapshot> snap = pipeline_->snapshot();
    const pipeline::CompiledTenant* t = snap ? snap->FindTenant(r->tenant_id()) : nullptr;
    const pipeline::CompiledPool* cp = t ? t->FindPool(r->pool_id()) : nullptr;
    if (cp == nullptr) return;
    const int64_t now = Clock::Real()->MonotonicNanos();
    for (std::size_t i = 0; i < cp->members().size(); ++i) {
      const pipeline::CompiledMember& m = cp->members()[i];
      v1::PoolMemberStatus* s = out->add_member_statuses();
      s->set_member_id(m.member_id);
      s->set_health(cp->HealthOf(static_cast<int>(i), now));
      s->set_outstanding_requests(static_cast<uint32_t>(std::max(0, m.state->outstanding.load())));
      s->set_latency_ewma_us(m.state->latency_ewma_us.load());
      absl::MutexLock lock(&m.state->mu);
      s->set_last_check_result(m.state->last_check_result);
    }
  });
}
grpc::Status ConfigServiceImpl::ListPools(grpc::ServerContext* c, const v1::ListPoolsRequest* r,
                                          v1::ListPoolsResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.read");
  return Reply(m_->ListPools(r->tenant_id(), Page(r->page())), [&](Listing<v1::Pool>& l) {
    for (auto& x : l.items) *out->add_pools() = std::move(x);
    out->mutable_page()->set_next_page_token(l.next_page_token);
  });
}
grpc::Status ConfigServiceImpl::UpdatePool(grpc::ServerContext* c, const v1::UpdatePoolRequest* r,
                                           v1::UpdatePoolResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(m_->UpdatePool(r->tenant_id(), r->pool_id(), r->pool(), Mask(r->update_mask())),
               [&](Versioned<v1::Pool>& v) {
                 *out->mutable_pool() = v.value;
                 out->set_config_version(v.config_version);
               });
}
grpc::Status ConfigServiceImpl::DeletePool(grpc::ServerContext* c, const v1::DeletePoolRequest* r,
                                           v1::DeletePoolResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(m_->DeletePool(r->tenant_id(), r->pool_id(), r->etag()),
               [&](int64_t v) { out->set_config_version(v); });
}

grpc::Status ConfigServiceImpl::CreateIpList(grpc::ServerContext* c,
                                             const v1::CreateIpListRequest* r,
                                             v1::CreateIpListResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(m_->CreateIpList(r->tenant_id(), r->ip_list()), [&](Versioned<v1::IpList>& v) {
    *out->mutable_ip_list() = v.value;
    out->set_config_version(v.config_version);
  });
}
grpc::Status ConfigServiceImpl::GetIpList(grpc::ServerContext* c, const v1::GetIpListRequest* r,
                                          v1::GetIpListResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.read");
  return Reply(m_->GetIpList(r->tenant_id(), r->ip_list_id()),
               [&](v1::IpList& l) { *out->mutable_ip_list() = l; });
}
grpc::Status ConfigServiceImpl::ListIpLists(grpc::ServerContext* c, const v1::ListIpListsRequest* r,
                                            v1::ListIpListsResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.read");
  return Reply(m_->ListIpLists(r->tenant_id(), Page(r->page()), r->purpose()),
               [&](Listing<v1::IpList>& l) {
                 for (auto& x : l.items) *out->add_ip_lists() = std::move(x);
                 out->mutable_page()->set_next_page_token(l.next_page_token);
               });
}
grpc::Status ConfigServiceImpl::UpdateIpList(grpc::ServerContext* c,
                                             const v1::UpdateIpListRequest* r,
                                             v1::UpdateIpListResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(
      m_->UpdateIpList(r->tenant_id(), r->ip_list_id(), r->ip_list(), Mask(r->update_mask())),
      [&](Versioned<v1::IpList>& v) {
        *out->mutable_ip_list() = v.value;
        out->set_config_version(v.config_version);
      });
}
grpc::Status ConfigServiceImpl::DeleteIpList(grpc::ServerContext* c,
                                             const v1::DeleteIpListRequest* r,
                                             v1::DeleteIpListResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(m_->DeleteIpList(r->tenant_id(), r->ip_list_id(), r->etag()),
               [&](int64_t v) { out->set_config_version(v); });
}
grpc::Status ConfigServiceImpl::ModifyIpListEntries(grpc::ServerContext* c,
                                                    const v1::ModifyIpListEntriesRequest* r,
                                                    v1::ModifyIpListEntriesResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  std::vector<v1::IpListEntry> additions(r->additions().begin(), r->additions().end());
  std::vector<std::string> removals(r->removals().begin(), r->removals().end());
  return Reply(m_->ModifyIpListEntries(r->tenant_id(), r->ip_list_id(), additions, removals),
               [&](IpListModification& mod) {
                 out->set_entry_count(mod.entry_count);
                 out->set_etag(mod.etag);
                 out->set_config_version(mod.config_version);
               });
}

grpc::Status ConfigServiceImpl::CreateRuleSet(grpc::ServerContext* c,
                                              const v1::CreateRuleSetRequest* r,
                                              v1::CreateRuleSetResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "rulesets.write");
  return Reply(m_->CreateRuleSet(r->tenant_id(), r->rule_set()),
               [&](v1::RuleSet& rs) { *out->mutable_rule_set() = rs; });
}
grpc::Status ConfigServiceImpl::GetRuleSet(grpc::ServerContext* c, const v1::GetRuleSetRequest* r,
                                           v1::GetRuleSetResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "rulesets.read");
  return Reply(m_->GetRuleSet(r->tenant_id(), r->rule_set_id()),
               [&](v1::RuleSet& rs) { *out->mutable_rule_set() = rs; });
}
grpc::Status ConfigServiceImpl::ListRuleSets(grpc::ServerContext* c,
                                             const v1::ListRuleSetsRequest* r,
                                             v1::ListRuleSetsResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "rulesets.read");
  return Reply(m_->ListRuleSets(r->tenant_id(), Page(r->page())), [&](Listing<v1::RuleSet>& l) {
    for (auto& x : l.items) *out->add_rule_sets() = std::move(x);
    out->mutable_page()->set_next_page_token(l.next_page_token);
  });
}
grpc::Status ConfigServiceImpl::CreateRuleSetVersion(grpc::ServerContext* c,
                                                     const v1::CreateRuleSetVersionRequest* r,
                                                     v1::CreateRuleSetVersionResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "rulesets.write");
  std::vector<common::v1::RuleTestCase> cases(r->test_cases().begin(), r->test_cases().end());
  return Reply(m_->CreateRuleSetVersion(r->tenant_id(), r->rule_set_id(), r->source(), cases,
                                        r->change_note(), Principal(c)),
               [&](v1::RuleSetVersion& v) { *out->mutable_version() = v; });
}
grpc::Status ConfigServiceImpl::GetRuleSetVersion(grpc::ServerContext* c,
                                                  const v1::GetRuleSetVersionRequest* r,
                                                  v1::GetRuleSetVersionResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "rulesets.read");
  return Reply(m_->GetRuleSetVersion(r->tenant_id(), r->rule_set_id(), r->version()),
               [&](v1::RuleSetVersion& v) { *out->mutable_version() = v; });
}
grpc::Status ConfigServiceImpl::ListRuleSetVersions(grpc::ServerContext* c,
                                                    const v1::ListRuleSetVersionsRequest* r,
                                                    v1::ListRuleSetVersionsResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "rulesets.read");
  std::vector<v1::RuleSetVersionState> states;
  for (int s : r->states()) states.push_back(static_cast<v1::RuleSetVersionState>(s));
  return Reply(m_->ListRuleSetVersions(r->tenant_id(), r->rule_set_id(), states, Page(r->page())),
               [&](Listing<v1::RuleSetVersion>& l) {
                 for (auto& x : l.items) *out->add_versions() = std::move(x);
                 out->mutable_page()->set_next_page_token(l.next_page_token);
               });
}
grpc::Status ConfigServiceImpl::ShadowRuleSetVersion(grpc::ServerContext* c,
                                                     const v1::ShadowRuleSetVersionRequest* r,
                                                     v1::ShadowRuleSetVersionResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "rulesets.write");
  return Reply(
      m_->ShadowRuleSetVersion(r->tenant_id(), r->rule_set_id(), r->version(), r->sample_rate()),
      [&](Versioned<v1::RuleSet>& v) {
        *out->mutable_rule_set() = v.value;
        out->set_config_version(v.config_version);
      });
}
grpc::Status ConfigServiceImpl::ActivateRuleSet(grpc::ServerContext* c,
                                                const v1::ActivateRuleSetRequest* r,
                                                v1::ActivateRuleSetResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "rulesets.activate");
  return Reply(m_->ActivateRuleSet(r->tenant_id(), r->rule_set_id(), r->version(),
                                   r->expected_active_version()),
               [&](Activation& a) {
                 *out->mutable_rule_set() = a.rule_set;
                 for (auto& t : a.results) *out->add_test_results() = std::move(t);
                 out->set_config_version(a.config_version);
               });
}
grpc::Status ConfigServiceImpl::RollbackRuleSet(grpc::ServerContext* c,
                                                const v1::RollbackRuleSetRequest* r,
                                                v1::RollbackRuleSetResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "rulesets.activate");
  return Reply(m_->RollbackRuleSet(r->tenant_id(), r->rule_set_id(), r->to_version(),
                                   r->expected_active_version()),
               [&](Versioned<v1::RuleSet>& v) {
                 *out->mutable_rule_set() = v.value;
                 out->set_config_version(v.config_version);
               });
}
grpc::Status ConfigServiceImpl::ArchiveRuleSetVersion(grpc::ServerContext* c,
                                                      const v1::ArchiveRuleSetVersionRequest* r,
                                                      v1::ArchiveRuleSetVersionResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "rulesets.write");
  return Reply(m_->ArchiveRuleSetVersion(r->tenant_id(), r->rule_set_id(), r->version()),
               [&](v1::RuleSetVersion& v) { *out->mutable_version() = v; });
}
grpc::Status ConfigServiceImpl::TestRuleSet(grpc::ServerContext* c, const v1::TestRuleSetRequest* r,
                                            v1::TestRuleSetResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "rulesets.read");
  std::vector<common::v1::RuleTestCase> extra(r->extra_test_cases().begin(),
                                              r->extra_test_cases().end());
  return Reply(m_->TestRuleSet(r->tenant_id(), r->rule_set_id(), r->version(), extra),
               [&](RuleTestReport& rep) {
                 out->set_passed(rep.passed);
                 for (auto& x : rep.results) *out->add_results() = std::move(x);
               });
}
grpc::Status ConfigServiceImpl::GetTenantSettings(grpc::ServerContext* c,
                                                  const v1::GetTenantSettingsRequest* r,
                                                  v1::GetTenantSettingsResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.read");
  return Reply(m_->GetTenantSettings(r->tenant_id()),
               [&](v1::TenantSettings& s) { *out->mutable_settings() = s; });
}
grpc::Status ConfigServiceImpl::UpdateTenantSettings(grpc::ServerContext* c,
                                                     const v1::UpdateTenantSettingsRequest* r,
                                                     v1::UpdateTenantSettingsResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.write");
  return Reply(m_->UpdateTenantSettings(r->tenant_id(), r->settings(), Mask(r->update_mask())),
               [&](Versioned<v1::TenantSettings>& v) {
                 *out->mutable_settings() = v.value;
                 out->set_config_version(v.config_version);
               });
}
grpc::Status ConfigServiceImpl::GetConfigVersion(grpc::ServerContext* c,
                                                 const v1::GetConfigVersionRequest* r,
                                                 v1::GetConfigVersionResponse* out) {
  SHIELDX_AUTHORIZE(c, r->tenant_id(), "config.read");
  absl::StatusOr<int64_t> stored = m_->StoredVersion(r->tenant_id());
  out->set_applied_version(loader_->AppliedTenantVersion(r->tenant_id()));
  const LoaderState st = loader_->state();
  if (st.applied_at != absl::InfinitePast()) *out->mutable_applied_at() = ToProto(st.applied_at);
  out->set_replica_id(replica_id_);
  std::string lag = loader_->TenantLagReason(r->tenant_id());
  if (stored.ok()) {
    out->set_stored_version(*stored);
    if (lag.empty() && *stored > out->applied_version()) lag = "the newest version is being loaded";
  } else {
    // PostgreSQL down: answer with what this replica serves.
    lag = absl::StrCat("stored version unknown: ", stored.status().message());
  }
  out->set_lag_reason(lag);
  return grpc::Status::OK;
}

}  // namespace shieldx::orchestrator
