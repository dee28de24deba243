#include "libs/pipeline/tenant_config.h"

namespace shieldx::pipeline {

const v1::Site* TenantConfig::FindSite(const std::string& id) const {
  for (const v1::Site& s : sites) {
    if (s.site_id() == id) return &s;
  }
  return nullptr;
}

const v1::Pool* TenantConfig::FindPool(const std::string& id) const {
  for (const v1::Pool& p : pools) {
    if (p.pool_id() == id) return &p;
  }
  return nullptr;
}

const v1::Pool* TenantConfig::FindPoolByName(const std::string& name) const {
  for (const v1::Pool& p : pools) {
    if (p.name() == name) return &p;
  }
  return nullptr;
}

const RuleSetRecord* TenantConfig::FindRuleSet(const std::string& id) const {
  for (const RuleSetRecord& r : rule_sets) {
    if (r.rule_set.rule_set_id() == id) return &r;
  }
  return nullptr;
}

RuleSetRecord* TenantConfig::FindRuleSet(const std::string& id) {
  for (RuleSetRecord& r : rule_sets) {
    if (r.rule_set.rule_set_id() == id) return &r;
  }
  return nullptr;
}

}  // namespace shieldx::pipeline
