#include "libs/config/loader.h"

#include <algorithm>
#include <cstddef>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "libs/base/limits.h"
#include "libs/base/status_macros.h"
#include "nlohmann/json.hpp"

namespace shieldx::config::internal {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kConfigName = "config";
// Bytes of an offending value echoed in an error message.
constexpr std::size_t kMaxQuotedBytes = 80;

std::string Upper(std::string_view text) {
  return absl::AsciiStrToUpper(absl::string_view(text.data(), text.size()));
}

// absl::StrCat and friends take absl::string_view, which is not std::string_view here.
absl::string_view Sv(std::string_view text) { return absl::string_view(text.data(), text.size()); }

// Escaped and truncated, so an error message stays one readable line.
std::string Quote(std::string_view text) {
  std::string_view shown = text.substr(0, kMaxQuotedBytes);
  std::string out =
      absl::StrCat("\"", absl::CHexEscape(absl::string_view(shown.data(), shown.size())));
  if (shown.size() < text.size()) out += "...";
  return out + "\"";
}

std::string QuoteRaw(const RawValue& raw) {
  if (!raw.items.has_value()) return Quote(raw.text);
  std::vector<std::string> quoted;
  for (const std::string& item : *raw.items) quoted.push_back(Quote(item));
  return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
}

std::string OneLine(std::string_view text) {
  return absl::StrReplaceAll(absl::string_view(text.data(), text.size()),
                             {{"\r\n", " "}, {"\n", " "}, {"\r", " "}});
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean X?)" for the closest candidate within a few edits, else "".
std::string DidYouMean(std::string_view unknown, const std::vector<std::string>& candidates,
                       std::string_view display_prefix, std::string_view display_suffix = "") {
  const std::string* best = nullptr;
  std::size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    std::size_t distance = EditDistance(unknown, candidate);
    if (best == nullptr || distance < best_distance) {
      best = &candidate;
      best_distance = distance;
    }
  }
  std::size_t threshold = std::max<std::size_t>(2, unknown.size() / 3);
  if (best == nullptr || best_distance > threshold || best_distance >= unknown.size()) return "";
  return absl::StrCat(" (did you mean ", Sv(display_prefix), *best, Sv(display_suffix), "?)");
}

class Loader {
 public:
  Loader(const SchemaView& schema, const ConfigEnv& env, void* config)
      : schema_(schema),
        fields_(*schema.fields),
        env_(env),
        config_(config),
        prefix_(EnvPrefix(schema.service)),
        sources_(fields_.size()) {}

  absl::StatusOr<CoreResult> Run(int argc, const char* const* argv);

 private:
  struct FlagSetting {
    std::size_t index;
    RawValue raw;
    std::string spelled;
  };
  struct Args {
    bool help = false;
    std::optional<std::string> config_path;
    std::string config_spelled;
    std::vector<FlagSetting> flags;
  };

  std::optional<std::size_t> Find(std::string_view canonical) const;
  std::string SecretEnvHint(const FieldBase& field) const;
  absl::Status SecretRejected(const FieldBase& field, std::string_view where,
                              std::string_view why) const;
  absl::Status ParseArgs(int argc, const char* const* argv, Args* args) const;
  absl::Status CheckUnknownEnv() const;
  absl::Status ApplyFile(const std::string& path);
  absl::Status ApplyFileValue(const std::string& path, const std::string& key, const Json& value);
  absl::Status ApplyEnv();
  absl::Status ApplySecretEnv(std::size_t index, const std::string& var);
  absl::Status Assign(std::size_t index, const RawValue& raw, Source source);
  absl::Status CheckUnsetFields() const;
  Effective BuildEffective(const std::string& config_file) const;

  const SchemaView& schema_;
  const std::vector<std::unique_ptr<FieldBase>>& fields_;
  const ConfigEnv& env_;
  void* config_;
  const std::string prefix_;
  std::vector<std::optional<Source>> sources_;  // per field: the last (winning) source
};

std::optional<std::size_t> Loader::Find(std::string_view canonical) const {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i]->name() == canonical) return i;
  }
  return std::nullopt;
}

std::string Loader::SecretEnvHint(const FieldBase& field) const {
  std::string var = prefix_ + Upper(field.name());
  return absl::StrCat("set env ", var, " or ", var, "_FILE");
}

absl::Status Loader::SecretRejected(const FieldBase& field, std::string_view where,
                                    std::string_view why) const {
  return absl::InvalidArgumentError(absl::StrCat(field.name(), " is a secret and cannot be ",
                                                 Sv(where), " (", Sv(why), "); ",
                                                 SecretEnvHint(field)));
}

absl::Status Loader::ParseArgs(int argc, const char* const* argv, Args* args) const {
  std::set<std::size_t> seen;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i] == nullptr ? "" : argv[i];
    if (arg == "--help" || arg == "-help" || arg == "-h") {
      args->help = true;
      continue;
    }
    if (!absl::StartsWith(Sv(arg), "--") || arg.size() == 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument ", Quote(arg), " (flags look like --name=value)"));
    }
    std::string_view body = arg.substr(2);
    std::size_t equals = body.find('=');
    std::optional<std::string> value;
    if (equals != std::string_view::npos) value = std::string(body.substr(equals + 1));
    std::string spelled = absl::StrCat("--", Sv(body.substr(0, equals)));
    std::string name = CanonicalName(body.substr(0, equals));
    auto take_next_value = [&]() -> bool {
      if (value.has_value()) return true;
      if (i + 1 >= argc || argv[i + 1] == nullptr || absl::StartsWith(argv[i + 1], "--")) {
        return false;
      }
      value = argv[++i];
      return true;
    };
    auto needs_value = [&]() {
      return absl::InvalidArgumentError(absl::StrCat("flag ", spelled, " needs a value (", spelled,
                                                     "=VALUE or ", spelled, " VALUE)"));
    };
    auto given_twice = [&]() {
      return absl::InvalidArgumentError(absl::StrCat("flag ", spelled, " is given more than once"));
    };

    if (name == kConfigName) {
      if (args->config_path.has_value()) return given_twice();
      if (!take_next_value()) return needs_value();
      args->config_path = *value;
      args->config_spelled = spelled;
      continue;
    }
    std::optional<std::size_t> index = Find(name);
    if (!index.has_value() && !value.has_value() && absl::StartsWith(name, "no_")) {
      std::optional<std::size_t> negated = Find(name.substr(3));
      if (negated.has_value() && fields_[*negated]->IsBool()) {
        index = negated;
        value = "false";
      }
    }
    if (!index.has_value()) {
      std::vector<std::string> candidates = {std::string(kConfigName), "help"};
      for (const auto& field : fields_) {
        if (!field->secret()) candidates.push_back(field->name());
      }
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag ", spelled, DidYouMean(name, candidates, "--")));
    }
    const FieldBase& field = *fields_[*index];
    if (field.secret()) {
      return SecretRejected(field, "given as a flag",
                            "flags are visible in shell history and the process list");
    }
    if (!value.has_value() && field.IsBool()) value = "true";
    if (!take_next_value()) return needs_value();
    if (!seen.insert(*index).second) return given_twice();
    args->flags.push_back(FlagSetting{*index, RawValue{*value, std::nullopt}, spelled});
  }
  return absl::OkStatus();
}

absl::Status Loader::CheckUnknownEnv() const {
  std::vector<std::string> known = {prefix_ + Upper(kConfigName)};
  for (const auto& field : fields_) {
    known.push_back(prefix_ + Upper(field->name()));
    if (field->secret()) known.push_back(prefix_ + Upper(field->name()) + "_FILE");
  }
  std::vector<std::string> names = env_.Names();
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (!absl::StartsWith(name, prefix_)) continue;
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    return absl::InvalidArgumentError(
        absl::StrCat("unknown environment variable ", name, DidYouMean(name, known, "")));
  }
  return absl::OkStatus();
}

absl::Status Loader::ApplyFile(const std::string& path) {
  absl::StatusOr<std::string> content = env_.ReadFile(path, limits::kMaxConfigFileBytes);
  if (!content.ok()) return Annotate(content.status(), "config file");

  std::set<std::string> keys;
  std::string duplicate;
  Json::parser_callback_t on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1 && parsed.is_string()) {
      std::string key = parsed.get<std::string>();
      if (!keys.insert(CanonicalName(key)).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  Json document;
  try {
    document = Json::parse(*content, on_event, /*allow_exceptions=*/true);
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    std::size_t at = what.find("parse error ");
    std::string detail = at == std::string::npos ? what : what.substr(at + 12);
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, ": malformed JSON ", OneLine(detail)));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, ": malformed JSON: ", OneLine(e.what())));
  }
  if (!document.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("config file ", path,
                                                   ": expected a flat JSON object {\"name\": "
                                                   "value, ...}, got ",
                                                   document.type_name()));
  }
  if (!duplicate.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, ": key ", Quote(duplicate), " appears more than once"));
  }
  for (const auto& [key, value] : document.items()) {
    SHIELDX_RETURN_IF_ERROR(ApplyFileValue(path, key, value));
  }
  return absl::OkStatus();
}

absl::Status Loader::ApplyFileValue(const std::string& path, const std::string& key,
                                    const Json& value) {
  std::string name = CanonicalName(key);
  std::optional<std::size_t> index = Find(name);
  if (!index.has_value()) {
    std::vector<std::string> candidates;
    for (const auto& field : fields_) {
      if (!field->secret()) candidates.push_back(field->name());
    }
    std::string hint = name == kConfigName ? " (a config file cannot name another)"
                                           : DidYouMean(name, candidates, "\"", "\"");
    return absl::InvalidArgumentError(
        absl::StrCat("unknown key ", Quote(key), " in config file ", path, hint));
  }
  const FieldBase& field = *fields_[*index];
  if (field.secret()) {
    return SecretRejected(field, absl::StrCat("set in the config file ", path),
                          "config files end up in ConfigMaps and repositories");
  }
  Source source{SourceKind::kFile, path};
  auto wrong_json_type = [&](const Json& bad) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid value ", Quote(bad.dump(-1, ' ', false, Json::error_handler_t::replace)), " for ",
        field.name(), " (from ", source.ToString(), "): expected ", field.Expected()));
  };
  RawValue raw;
  if (value.is_string()) {
    raw.text = value.get<std::string>();
  } else if (value.is_boolean()) {
    raw.text = value.get<bool>() ? "true" : "false";
  } else if (value.is_number()) {
    raw.text = value.dump();
  } else if (value.is_array()) {
    raw.items.emplace();
    for (const Json& item : value) {
      if (item.is_string()) {
        raw.items->push_back(item.get<std::string>());
      } else if (item.is_number()) {
        raw.items->push_back(item.dump());
      } else {
        return wrong_json_type(value);
      }
    }
  } else {
    return wrong_json_type(value);  // null or a nested object
  }
  return Assign(*index, raw, std::move(source));
}

absl::Status Loader::ApplyEnv() {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const FieldBase& field = *fields_[i];
    // Shared fallback first, so the service-specific variable wins.
    for (const std::string& var :
         {absl::StrCat("SHIELDX_", Upper(field.name())), prefix_ + Upper(field.name())}) {
      if (field.secret()) {
        SHIELDX_RETURN_IF_ERROR(ApplySecretEnv(i, var));
        continue;
      }
      std::optional<std::string> value = env_.Get(var);
      if (value.has_value()) {
        SHIELDX_RETURN_IF_ERROR(Assign(i, RawValue{*value, std::nullopt}, {SourceKind::kEnv, var}));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Loader::ApplySecretEnv(std::size_t index, const std::string& var) {
  const FieldBase& field = *fields_[index];
  std::string file_var = var + "_FILE";
  std::optional<std::string> value = env_.Get(var);
  std::optional<std::string> path = env_.Get(file_var);
  if (value.has_value() && path.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "both ", var, " and ", file_var, " are set for secret ", field.name(), "; set only one"));
  }
  if (value.has_value() && !value->empty()) {
    return Assign(index, RawValue{*value, std::nullopt}, {SourceKind::kEnv, var});
  }
  if (!path.has_value()) return absl::OkStatus();
  absl::StatusOr<std::string> content = env_.ReadFile(*path, limits::kMaxSecretFileBytes);
  if (!content.ok()) {
    return Annotate(content.status(),
                    absl::StrCat("secret ", field.name(), " (env ", file_var, ")"));
  }
  while (!content->empty() && (content->back() == '\n' || content->back() == '\r')) {
    content->pop_back();
  }
  if (content->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("secret ", field.name(), " (env ", file_var, "): file ", *path, " is empty"));
  }
  return Assign(index, RawValue{*std::move(content), std::nullopt},
                {SourceKind::kSecretFile, absl::StrCat(file_var, "=", *path)});
}

absl::Status Loader::Assign(std::size_t index, const RawValue& raw, Source source) {
  const FieldBase& field = *fields_[index];
  absl::Status status = field.Assign(raw, config_);
  if (!status.ok()) {
    // Never echo a secret, not even a malformed one.
    std::string shown = field.secret() ? "" : QuoteRaw(raw) + " ";
    return absl::Status(status.code(), absl::StrCat("invalid value ", shown, "for ", field.name(),
                                                    " (from ", source.ToString(),
                                                    "): ", OneLine(std::string(status.message()))));
  }
  sources_[index] = std::move(source);
  return absl::OkStatus();
}

absl::Status Loader::CheckUnsetFields() const {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (sources_[i].has_value()) continue;
    const FieldBase& field = *fields_[i];
    if (field.required()) {
      std::string how = field.secret() ? SecretEnvHint(field)
                                       : absl::StrCat("set --", field.name(), ", env ", prefix_,
                                                      Upper(field.name()), " or key \"",
                                                      field.name(), "\" in the config file");
      return absl::InvalidArgumentError(
          absl::StrCat("missing required value for ", field.name(), ": ", how));
    }
    if (field.secret()) continue;  // an unset secret is empty, never checked
    absl::Status status = field.CheckCurrent(config_);
    if (!status.ok()) {
      return absl::InternalError(absl::StrCat(
          "default ", Quote(field.Format(config_)), " of ", field.name(), " is invalid (",
          OneLine(std::string(status.message())), "): a bug in the service"));
    }
  }
  return absl::OkStatus();
}

Effective Loader::BuildEffective(const std::string& config_file) const {
  std::vector<EffectiveField> out;
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const FieldBase& field = *fields_[i];
    EffectiveField entry;
    entry.name = field.name();
    entry.secret = field.secret();
    entry.source = sources_[i].value_or(Source{});
    if (field.secret()) {
      entry.value = std::string(sources_[i].has_value() ? kRedacted : kUnset);
    } else {
      entry.value = field.Format(config_);
    }
    out.push_back(std::move(entry));
  }
  return Effective(std::string(schema_.service), config_file, std::move(out));
}

absl::StatusOr<CoreResult> Loader::Run(int argc, const char* const* argv) {
  // --help wins over everything else on the command line, even a bad flag before it.
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i] == nullptr ? "" : argv[i];
    if (arg == "--help" || arg == "-help" || arg == "-h") {
      return CoreResult{HelpText(schema_), Effective()};
    }
  }
  Args args;
  SHIELDX_RETURN_IF_ERROR(ParseArgs(argc, argv, &args));
  if (args.help) return CoreResult{HelpText(schema_), Effective()};
  SHIELDX_RETURN_IF_ERROR(CheckUnknownEnv());

  std::string config_file = args.config_path.value_or("");
  if (!args.config_path.has_value()) {
    config_file = env_.Get(prefix_ + Upper(kConfigName)).value_or("");
  }
  if (!config_file.empty()) SHIELDX_RETURN_IF_ERROR(ApplyFile(config_file));
  SHIELDX_RETURN_IF_ERROR(ApplyEnv());
  for (const FlagSetting& flag : args.flags) {
    SHIELDX_RETURN_IF_ERROR(Assign(flag.index, flag.raw, {SourceKind::kFlag, flag.spelled}));
  }
  SHIELDX_RETURN_IF_ERROR(CheckUnsetFields());
  return CoreResult{std::nullopt, BuildEffective(config_file)};
}

std::string DefaultForHelp(const FieldBase& field, const void* defaults) {
  std::string value = field.Format(defaults);
  if (field.TypeName() == "STRING" || field.TypeName() == "ENUM" || field.TypeName() == "LIST") {
    return Quote(value);
  }
  return value;
}

}  // namespace

std::string EnvPrefix(std::string_view service) {
  return absl::StrCat("SHIELDX_", Upper(CanonicalName(service)), "_");
}

std::string CanonicalName(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

bool IsValidFieldName(std::string_view canonical) {
  if (canonical.empty() || !absl::ascii_islower(canonical.front())) return false;
  if (canonical.back() == '_' || absl::StrContains(Sv(canonical), "__")) return false;
  return std::all_of(canonical.begin(), canonical.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
  });
}

std::string HelpText(const SchemaView& schema) {
  std::string prefix = EnvPrefix(schema.service);
  std::string out = absl::StrCat(
      "Usage: shieldx-", Sv(schema.service), " [--name=VALUE ...] [--config FILE]\n\n",
      "Each setting comes from the first of:\n",
      "  1. a flag: --name=VALUE or --name VALUE (booleans also --name, --no-name; '-' and '_'\n",
      "     are alike)\n", "  2. env ", prefix, "<NAME>, then env SHIELDX_<NAME>\n",
      "  3. the config file (--config FILE or env ", prefix, "CONFIG): a flat JSON object\n",
      "     {\"name\": value, ...} of at most ", limits::kMaxConfigFileBytes, " bytes\n",
      "  4. the default.\n", "Secrets come only from env ", prefix,
      "<NAME> (or SHIELDX_<NAME>) or from a file named\n", "by env ", prefix,
      "<NAME>_FILE (or SHIELDX_<NAME>_FILE).\n\n");
  for (const auto& field : *schema.fields) {
    std::string env = prefix + Upper(field->name());
    if (field->secret()) {
      absl::StrAppend(&out, "  ", field->name(), " (secret", field->required() ? ", required" : "",
                      ")\n      ", field->help(), "\n      Env: ", env, " or ", env,
                      "_FILE. Expected: ", field->Expected(), ".\n");
      continue;
    }
    absl::StrAppend(&out, "  --", field->name(), field->IsBool() ? "[=" : "=", field->TypeName(),
                    field->IsBool() ? "]" : "", field->required() ? " (required)" : "", "\n      ",
                    field->help(), "\n      Expected: ", field->Expected(),
                    ". Default: ", DefaultForHelp(*field, schema.defaults), ".\n      Env: ", env,
                    ".\n");
  }
  return out;
}

absl::StatusOr<CoreResult> LoadCore(const SchemaView& schema, int argc, const char* const* argv,
                                    const ConfigEnv& env, void* config) {
  Loader loader(schema, env, config);
  return loader.Run(argc, argv);
}

}  // namespace shieldx::config::internal
