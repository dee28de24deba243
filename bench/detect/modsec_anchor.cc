#include "bench/detect/modsec_anchor.h"

#include <modsecurity/intervention.h>
#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>

#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"

namespace shieldx::bench {

struct ModSecAnchor::Impl {
  modsecurity::ModSecurity modsec;
  modsecurity::RulesSet rules;
};

namespace {

// Engine directives and the CRS settings under test live beside this file (shared with
// bench/proxies/run.sh).
std::string BenchFile(const char* name) {
  return absl::StrCat(SHIELDX_SOURCE_ROOT, "/bench/detect/", name);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ModSecAnchor>> ModSecAnchor::Create(
    const std::string& crs_setup_file, const std::string& crs_rules_dir) {
  std::unique_ptr<ModSecAnchor> a(new ModSecAnchor());
  a->impl_ = std::make_unique<Impl>();
  // Discard rule-match log lines: a deployment sends them to a log pipeline asynchronously;
  // printing them here would charge the anchor for terminal I/O.
  a->impl_->modsec.setServerLogCb([](void*, const void*) {}, modsecurity::RuleMessageLogProperty);
  auto load_file = [&](const std::string& path) -> absl::Status {
    if (a->impl_->rules.loadFromUri(path.c_str()) < 0) {
      return absl::InternalError(
          absl::StrCat("modsecurity: loading ", path, ": ", a->impl_->rules.getParserError()));
    }
    return absl::OkStatus();
  };
  if (auto s = load_file(BenchFile("modsec-engine.conf")); !s.ok()) return s;
  if (auto s = load_file(crs_setup_file); !s.ok()) return s;
  if (auto s = load_file(BenchFile("modsec-crs-pl1.conf")); !s.ok()) return s;
  std::set<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(crs_rules_dir, ec)) {
    const std::string p = e.path().string();
    if (p.size() > 5 && p.substr(p.size() - 5) == ".conf") files.insert(p);
  }
  if (files.empty()) return absl::NotFoundError(absl::StrCat("no CRS rules in ", crs_rules_dir));
  for (const auto& f : files) {
    if (auto s = load_file(f); !s.ok()) return s;
  }
  return a;
}

ModSecAnchor::~ModSecAnchor() = default;

bool ModSecAnchor::Inspect(const BenchRequest& r) {
  modsecurity::Transaction t(&impl_->modsec, &impl_->rules, nullptr);
  t.processConnection(r.client_ip.empty() ? "198.18.0.1" : r.client_ip.c_str(), 40000, "127.0.0.1",
                      80);
  std::string version = r.version.rfind("HTTP/", 0) == 0 ? r.version.substr(5) : r.version;
  t.processURI(r.uri.c_str(), r.method.c_str(), version.c_str());
  for (const auto& [name, value] : r.headers) {
    t.addRequestHeader(name, value);
  }
  t.processRequestHeaders();
  modsecurity::ModSecurityIntervention it;
  modsecurity::intervention::clean(&it);
  bool blocked = t.intervention(&it);
  modsecurity::intervention::free(&it);
  if (!blocked) {
    if (!r.body.empty()) {
      t.appendRequestBody(reinterpret_cast<const unsigned char*>(r.body.data()), r.body.size());
    }
    t.processRequestBody();
    modsecurity::intervention::clean(&it);
    blocked = t.intervention(&it);
    modsecurity::intervention::free(&it);
  }
  t.processLogging();
  return blocked;
}

}  // namespace shieldx::bench
