// The effective configuration of a service after loading: every field's final value and the
// source it came from, in registration order, with secrets redacted. Log it once at start-up.
#ifndef SHIELDX_LIBS_CONFIG_EFFECTIVE_H_
#define SHIELDX_LIBS_CONFIG_EFFECTIVE_H_

#include <string>
#include <string_view>
#include <vector>

namespace shieldx::config {

// Where a field's value came from, lowest priority first.
enum class SourceKind { kDefault, kFile, kEnv, kSecretFile, kFlag };

struct Source {
  SourceKind kind = SourceKind::kDefault;
  // kFile: the file path; kEnv: the variable name; kSecretFile: "VAR_FILE=/path";
  // kFlag: the flag as spelled ("--grpc-port"); kDefault: empty.
  std::string detail;

  // "default", "file /etc/shieldx/credits.json", "env SHIELDX_CREDITS_GRPC_PORT",
  // "env SHIELDX_CREDITS_DB_PASSWORD_FILE=/run/secrets/db", "flag --grpc_port".
  std::string ToString() const;
};

// What Effective shows for secrets instead of the value.
inline constexpr std::string_view kRedacted = "<redacted>";
inline constexpr std::string_view kUnset = "<unset>";

struct EffectiveField {
  std::string name;   // snake_case field name
  std::string value;  // formatted value; kRedacted / kUnset for secrets
  Source source;
  bool secret = false;
};

class Effective {
 public:
  Effective() = default;
  Effective(std::string service, std::string config_file, std::vector<EffectiveField> fields)
      : service_(std::move(service)),
        config_file_(std::move(config_file)),
        fields_(std::move(fields)) {}

  const std::string& service() const { return service_; }
  // The config file that was read, or "" when none.
  const std::string& config_file() const { return config_file_; }
  const std::vector<EffectiveField>& fields() const { return fields_; }
  // The field called `name` (snake_case), or nullptr.
  const EffectiveField* Find(std::string_view name) const;

  // One line of JSON, keys in registration order:
  // {"service":"credits","config_file":"","fields":{"grpc_port":{"value":"9000",
  //  "source":"flag --grpc_port"},"db_password":{"value":"<redacted>","source":"env ..."}}}
  std::string ToJson() const;
  // One "name = value (source)" line per field.
  std::string ToString() const;

 private:
  std::string service_;
  std::string config_file_;
  std::vector<EffectiveField> fields_;
};

}  // namespace shieldx::config

#endif  // SHIELDX_LIBS_CONFIG_EFFECTIVE_H_
