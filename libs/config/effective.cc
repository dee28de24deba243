#include "libs/config/effective.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace shieldx::config {

std::string Source::ToString() const {
  switch (kind) {
    case SourceKind::kDefault:
      return "default";
    case SourceKind::kFile:
      return absl::StrCat("file ", detail);
    case SourceKind::kEnv:
    case SourceKind::kSecretFile:
      return absl::StrCat("env ", detail);
    case SourceKind::kFlag:
      return absl::StrCat("flag ", detail);
  }
  return "unknown";
}

const EffectiveField* Effective::Find(std::string_view name) const {
  for (const EffectiveField& field : fields_) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

std::string Effective::ToJson() const {
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  for (const EffectiveField& field : fields_) {
    fields[field.name] = {{"value", field.value}, {"source", field.source.ToString()}};
  }
  nlohmann::ordered_json out = {
      {"service", service_}, {"config_file", config_file_}, {"fields", std::move(fields)}};
  // Replace invalid UTF-8 instead of throwing: values come from operators, not from code.
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string Effective::ToString() const {
  std::string out;
  for (const EffectiveField& field : fields_) {
    absl::StrAppend(&out, field.name, " = ", field.value, " (", field.source.ToString(), ")\n");
  }
  return out;
}

}  // namespace shieldx::config
