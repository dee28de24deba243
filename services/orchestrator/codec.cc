#include "services/orchestrator/codec.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace shieldx::orchestrator {

namespace {

using Json = nlohmann::json;

struct CategoryMap {
  const char* name;
  common::v1::FindingCategory proto;
};
constexpr CategoryMap kCategories[] = {
    {"sqli", common::v1::FINDING_CATEGORY_SQLI},
    {"xss", common::v1::FINDING_CATEGORY_XSS},
    {"cmdi", common::v1::FINDING_CATEGORY_COMMAND_INJECTION},
    {"code-injection", common::v1::FINDING_CATEGORY_CODE_INJECTION},
    {"path-traversal", common::v1::FINDING_CATEGORY_PATH_TRAVERSAL},
    {"lfi", common::v1::FINDING_CATEGORY_LFI},
    {"rfi", common::v1::FINDING_CATEGORY_RFI},
    {"ssrf", common::v1::FINDING_CATEGORY_SSRF},
    {"xxe", common::v1::FINDING_CATEGORY_XXE},
    {"ssti", common::v1::FINDING_CATEGORY_SSTI},
    {"jndi", common::v1::FINDING_CATEGORY_JNDI},
    {"nosqli", common::v1::FINDING_CATEGORY_NOSQLI},
    {"ldapi", common::v1::FINDING_CATEGORY_LDAPI},
    {"protocol", common::v1::FINDING_CATEGORY_PROTOCOL},
    {"scanner", common::v1::FINDING_CATEGORY_SCANNER},
    {"custom", common::v1::FINDING_CATEGORY_SIGNATURE},
};

common::v1::Action ActionFromName(const std::string& name) {
  if (name == "allow") return common::v1::ACTION_ALLOW;
  if (name == "block") return common::v1::ACTION_BLOCK;
  if (name == "challenge") return common::v1::ACTION_CHALLENGE;
  if (name == "tarpit") return common::v1::ACTION_TARPIT;
  if (name == "divert") return common::v1::ACTION_DIVERT;
  if (name == "rate_limit") return common::v1::ACTION_RATE_LIMIT;
  if (name == "log") return common::v1::ACTION_LOG;
  return common::v1::ACTION_UNSPECIFIED;
}

google::protobuf::Timestamp TimestampFromMicros(int64_t us) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(us / 1'000'000);
  ts.set_nanos(static_cast<int32_t>((us % 1'000'000) * 1000));
  return ts;
}

}  // namespace

common::v1::Action ToProto(pipeline::Action action) {
  switch (action) {
    case pipeline::Action::kAllow:
      return common::v1::ACTION_ALLOW;
    case pipeline::Action::kBlock:
      return common::v1::ACTION_BLOCK;
    case pipeline::Action::kChallenge:
      return common::v1::ACTION_CHALLENGE;
    case pipeline::Action::kTarpit:
      return common::v1::ACTION_TARPIT;
    case pipeline::Action::kDivert:
      return common::v1::ACTION_DIVERT;
    case pipeline::Action::kRateLimit:
      return common::v1::ACTION_RATE_LIMIT;
  }
  return common::v1::ACTION_UNSPECIFIED;
}

common::v1::FindingCategory CategoryToProto(const std::string& name) {
  for (const CategoryMap& c : kCategories) {
    if (name == c.name) return c.proto;
  }
  return common::v1::FINDING_CATEGORY_OTHER;
}

std::string CategoryFromProto(common::v1::FindingCategory category) {
  for (const CategoryMap& c : kCategories) {
    if (c.proto == category) return c.name;
  }
  return "";
}

common::v1::LocationKind LocationToProto(detect::Source source) {
  switch (source) {
    case detect::Source::kMethod:
      return common::v1::LOCATION_KIND_METHOD;
    case detect::Source::kPath:
    case detect::Source::kPathSegment:
      return common::v1::LOCATION_KIND_PATH;
    case detect::Source::kQuery:
      return common::v1::LOCATION_KIND_QUERY_ARG;
    case detect::Source::kBodyForm:
      return common::v1::LOCATION_KIND_BODY_FORM;
    case detect::Source::kMultipart:
    case detect::Source::kFileName:
      return common::v1::LOCATION_KIND_BODY_MULTIPART;
    case detect::Source::kJson:
      return common::v1::LOCATION_KIND_BODY_JSON;
    case detect::Source::kXml:
      return common::v1::LOCATION_KIND_BODY_XML;
    case detect::Source::kBodyRaw:
      return common::v1::LOCATION_KIND_BODY_RAW;
    case detect::Source::kHeader:
      return common::v1::LOCATION_KIND_HEADER;
    case detect::Source::kCookie:
      return common::v1::LOCATION_KIND_COOKIE;
    case detect::Source::kRequest:
      return common::v1::LOCATION_KIND_PROTOCOL;
  }
  return common::v1::LOCATION_KIND_UNSPECIFIED;
}

common::v1::Decision DecisionToProto(const pipeline::Decision& d, absl::Time decided_at) {
  common::v1::Decision out;
  out.set_request_id(d.request_id);
  const common::v1::Action action = ToProto(d.action);
  if (d.monitor_only) {
    out.set_action(d.action == pipeline::Action::kAllow ? common::v1::ACTION_ALLOW
                                                        : common::v1::ACTION_LOG);
    out.set_monitored_action(action);
  } else {
    out.set_action(action);
    if (action == common::v1::ACTION_BLOCK || action == common::v1::ACTION_CHALLENGE ||
        action == common::v1::ACTION_RATE_LIMIT) {
      out.set_status_code(static_cast<uint32_t>(d.status));
    }
  }
  if (!d.upstream.empty()) {
    out.mutable_upstream()->set_pool_id(d.pool);
    out.mutable_upstream()->set_member_id(d.member_id);
    out.mutable_upstream()->set_address(d.upstream);
  }
  out.set_score(d.score);
  for (const detect::Finding& f : d.findings) {
    common::v1::Finding* pf = out.add_findings();
    pf->set_category(CategoryToProto(detect::CategoryName(f.category)));
    pf->mutable_location()->set_kind(LocationToProto(f.source));
    pf->mutable_location()->set_name(f.field.substr(0, 256));
    pf->set_matched_excerpt(pipeline::MaskSecrets(f.excerpt).substr(0, 64));
    pf->set_confidence(f.confidence);
    pf->set_rule_id(f.rule);
    pf->set_score(static_cast<int32_t>(f.confidence * 10));
    pf->set_message(absl::StrCat(detect::CategoryName(f.category), " (", f.rule, ") in ",
                                 detect::SourceName(f.source),
                                 f.field.empty() ? "" : absl::StrCat(" ", f.field.substr(0, 64))));
  }
  for (const std::string& t : d.tags) out.add_tags(t);
  out.set_rule_id(d.rule_id);
  out.set_explanation(d.explanation);
  out.set_tarpit_ms(d.tarpit_ms);
  out.set_retry_after_ms(int64_t{d.retry_after_s} * 1000);
  out.set_auth_risk(d.auth_risk);
  out.set_tenant_id(d.tenant_id);
  out.set_site_id(d.site_id);
  out.set_route_id(d.route_id);
  out.set_rule_set_id(d.rule_set_id);
  out.set_rule_set_version(d.rule_set_version);
  out.set_config_version(static_cast<int64_t>(d.config_version));
  common::v1::Header* h = out.add_upstream_headers();
  h->set_name("x-shieldx-request-id");
  h->set_value(d.request_id);
  if (d.score > 0) {
    common::v1::Header* s = out.add_upstream_headers();
    s->set_name("x-shieldx-score");
    s->set_value(absl::StrCat(d.score));
  }
  const int64_t ns = absl::ToUnixNanos(decided_at);
  out.mutable_decided_at()->set_seconds(ns / 1'000'000'000);
  out.mutable_decided_at()->set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  out.set_latency_us(d.latency_ns / 1000);
  return out;
}

absl::Status RequestFromProto(const common::v1::HttpRequest& in, detect::OwnedHttpRequest* out) {
  if (in.headers_size() > static_cast<int>(kMaxRequestHeaders)) {
    return absl::InvalidArgumentError(absl::StrCat("request.headers: ", in.headers_size(),
                                                   " (at most ", kMaxRequestHeaders, ")"));
  }
  if (in.path().size() + in.query().size() > kMaxRequestTargetBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("request.path + request.query: more than ", kMaxRequestTargetBytes, " bytes"));
  }
  if (in.body().size() > kMaxRequestBodyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("request.body: ", in.body().size(),
                                                   " bytes (at most ", kMaxRequestBodyBytes,
                                                   "; send the first bytes with body_truncated)"));
  }
  out->method = in.method().empty() ? "GET" : in.method();
  out->uri = in.path().empty() ? "/" : in.path();
  if (!in.query().empty()) absl::StrAppend(&out->uri, "?", in.query());
  out->version = in.protocol_version().empty() ? "HTTP/1.1" : in.protocol_version();
  out->client_ip = in.client_ip();
  out->headers.clear();
  bool has_host = false;
  for (const common::v1::Header& h : in.headers()) {
    has_host = has_host || absl::EqualsIgnoreCase(h.name(), "host");
    out->headers.emplace_back(h.name(), h.value());
  }
  if (!has_host && !in.host().empty()) out->headers.emplace_back("Host", in.host());
  if (in.cookies_size() > 0) {
    std::string cookie;
    for (const common::v1::Cookie& c : in.cookies()) {
      if (!cookie.empty()) cookie += "; ";
      absl::StrAppend(&cookie, c.name(), "=", c.value());
    }
    out->headers.emplace_back("Cookie", std::move(cookie));
  }
  out->body = in.body();
  return absl::OkStatus();
}

std::string EventToJson(const pipeline::DecisionEvent& e) {
  Json j;
  j["t"] = e.decided_at_us;
  j["tenant_id"] = e.tenant_id;
  j["site_id"] = e.site_id;
  j["route_id"] = e.route_id;
  j["request_id"] = e.request_id;
  j["action"] = e.action;
  j["monitored_action"] = e.monitored_action;
  j["status"] = e.status;
  j["score"] = e.score;
  j["rule_id"] = e.rule_id;
  j["rule_set_id"] = e.rule_set_id;
  j["rule_set_version"] = e.rule_set_version;
  j["config_version"] = e.config_version;
  j["categories"] = e.categories;
  j["tags"] = e.tags;
  Json findings = Json::array();
  for (const pipeline::EventFinding& f : e.findings) {
    findings.push_back({{"category", f.category},
                        {"rule", f.rule},
                        {"location", f.location},
                        {"excerpt", f.excerpt},
                        {"confidence", f.confidence}});
  }
  j["findings"] = std::move(findings);
  j["method"] = e.method;
  j["host"] = e.host;
  j["path"] = e.path;
  j["client_ip"] = e.client_ip;
  j["user_agent"] = e.user_agent;
  j["front_end"] = e.front_end;
  j["upstream"] = e.upstream;
  j["pool_id"] = e.pool;
  j["latency_us"] = e.latency_us;
  j["auth_risk"] = e.auth_risk;
  j["explanation"] = e.explanation;
  j["evidence_object_key"] = e.evidence_object_key;
  // Invalid UTF-8 (request bytes) is replaced, never an exception.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

absl::StatusOr<pipeline::DecisionEvent> EventFromJson(const std::string& json) {
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return absl::DataLossError("decision event: not JSON");
  pipeline::DecisionEvent e;
  auto str = [&](const char* k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  auto num = [&](const char* k) -> int64_t {
    return j.contains(k) && j[k].is_number() ? j[k].get<int64_t>() : 0;
  };
  auto strs = [&](const char* k) {
    std::vector<std::string> v;
    if (j.contains(k) && j[k].is_array()) {
      for (const Json& x : j[k]) {
        if (x.is_string()) v.push_back(x.get<std::string>());
      }
    }
    return v;
  };
  e.decided_at_us = num("t");
  e.tenant_id = str("tenant_id");
  e.site_id = str("site_id");
  e.route_id = str("route_id");
  e.request_id = str("request_id");
  e.action = str("action");
  e.monitored_action = str("monitored_action");
  e.status = static_cast<int>(num("status"));
  e.score = static_cast<int>(num("score"));
  e.rule_id = str("rule_id");
  e.rule_set_id = str("rule_set_id");
  e.rule_set_version = num("rule_set_version");
  e.config_version = num("config_version");
  e.categories = strs("categories");
  e.tags = strs("tags");
  if (j.contains("findings") && j["findings"].is_array()) {
    for (const Json& f : j["findings"]) {
      if (!f.is_object()) continue;
      pipeline::EventFinding ef;
      ef.category = f.value("category", "");
      ef.rule = f.value("rule", "");
      ef.location = f.value("location", "");
      ef.excerpt = f.value("excerpt", "");
      ef.confidence = f.value("confidence", 0.0);
      e.findings.push_back(std::move(ef));
    }
  }
  e.method = str("method");
  e.host = str("host");
  e.path = str("path");
  e.client_ip = str("client_ip");
  e.user_agent = str("user_agent");
  e.front_end = str("front_end");
  e.upstream = str("upstream");
  e.pool = str("pool_id");
  e.latency_us = num("latency_us");
  e.auth_risk =
      j.contains("auth_risk") && j["auth_risk"].is_number() ? j["auth_risk"].get<double>() : -1;
  e.explanation = str("explanation");
  e.evidence_object_key = str("evidence_object_key");
  return e;
}

v1::DecisionRecord EventToRecord(const pipeline::DecisionEvent& e) {
  v1::DecisionRecord r;
  common::v1::Decision* d = r.mutable_decision();
  d->set_request_id(e.request_id);
  d->set_action(ActionFromName(e.action));
  if (!e.monitored_action.empty()) d->set_monitored_action(ActionFromName(e.monitored_action));
  d->set_status_code(static_cast<uint32_t>(e.status));
  if (!e.upstream.empty()) {
    d->mutable_upstream()->set_pool_id(e.pool);
    d->mutable_upstream()->set_address(e.upstream);
  }
  d->set_score(e.score);
  for (const pipeline::EventFinding& f : e.findings) {
    common::v1::Finding* pf = d->add_findings();
    pf->set_category(CategoryToProto(f.category));
    pf->set_rule_id(f.rule);
    pf->mutable_location()->set_name(f.location);
    pf->set_matched_excerpt(f.excerpt);
    pf->set_confidence(f.confidence);
  }
  for (const std::string& t : e.tags) d->add_tags(t);
  d->set_rule_id(e.rule_id);
  d->set_explanation(e.explanation);
  d->set_auth_risk(e.auth_risk);
  d->set_tenant_id(e.tenant_id);
  d->set_site_id(e.site_id);
  d->set_route_id(e.route_id);
  d->set_rule_set_id(e.rule_set_id);
  d->set_rule_set_version(e.rule_set_version);
  d->set_config_version(e.config_version);
  *d->mutable_decided_at() = TimestampFromMicros(e.decided_at_us);
  d->set_latency_us(e.latency_us);
  r.set_method(e.method);
  r.set_host(e.host);
  r.set_path(e.path.substr(0, 512));
  r.set_client_ip(e.client_ip);
  r.set_user_agent(e.user_agent.substr(0, 256));
  r.set_evidence_object_key(e.evidence_object_key);
  return r;
}

std::string EvidenceJson(const pipeline::DecisionEvent& e) {
  Json j;
  j["schema"] = "shieldx.evidence.v1";
  j["redaction"] =
      "no body, no query or header or cookie values; path without query (512 bytes); findings "
      "carry at most 64 escaped bytes of the normalised offending excerpt";
  j["decided_at_us"] = e.decided_at_us;
  j["tenant_id"] = e.tenant_id;
  j["request_id"] = e.request_id;
  j["site_id"] = e.site_id;
  j["route_id"] = e.route_id;
  j["action"] = e.action;
  j["status"] = e.status;
  j["score"] = e.score;
  j["rule_id"] = e.rule_id;
  j["method"] = e.method;
  j["host"] = e.host;
  j["path"] = e.path;
  j["client_ip"] = e.client_ip;
  j["user_agent"] = e.user_agent;
  j["arg_names"] = e.arg_names;
  j["header_names"] = e.header_names;
  j["cookie_names"] = e.cookie_names;
  Json findings = Json::array();
  for (const pipeline::EventFinding& f : e.findings) {
    findings.push_back({{"category", f.category},
                        {"rule", f.rule},
                        {"location", f.location},
                        {"excerpt", f.excerpt},
                        {"confidence", f.confidence}});
  }
  j["findings"] = std::move(findings);
  return j.dump(2, ' ', false, Json::error_handler_t::replace);
}

}  // namespace shieldx::orchestrator
