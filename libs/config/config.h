// Typed, declarative service configuration.
//
// A service declares its plain Config struct (every member defaulted), registers each member
// once with a ConfigSchema, and loads it at start-up:
//
//   struct Config {
//     int grpc_port = 9000;
//     absl::Duration drain_timeout = absl::Seconds(5);
//     std::string log_level = "info";
//     std::vector<std::string> redis_hosts = {"127.0.0.1:6379"};
//     std::string db_password;  // secret
//   };
//
//   ConfigSchema<Config> Schema() {
//     ConfigSchema<Config> s("credits");
//     s.Add("grpc_port", &Config::grpc_port, "gRPC listen port").Range(1, 65535);
//     s.Add("drain_timeout", &Config::drain_timeout, "SIGTERM drain deadline")
//         .Range(absl::ZeroDuration(), absl::Minutes(5));
//     s.Add("log_level", &Config::log_level, "minimum log level").OneOf({"debug", "info"});
//     s.Add("redis_hosts", &Config::redis_hosts, "Redis host:port list");
//     s.Add("db_password", &Config::db_password, "PostgreSQL password").Secret().Required();
//     return s;
//   }
//
//   int main(int argc, char** argv) {
//     auto [config, effective, help] = shieldx::config::LoadOrExit(Schema(), argc, argv);
//     logger.Info("config", effective.ToJson());   // once, secrets redacted
//   }
//
// Sources, highest priority first (every value given anywhere is validated, even one a
// higher source overrides):
//   1. flags: --grpc_port=9000, --grpc-port 9000, booleans also --flag / --no-flag;
//   2. env SHIELDX_<SERVICE>_<NAME> (SHIELDX_CREDITS_GRPC_PORT), then env SHIELDX_<NAME>;
//   3. the config file named by --config FILE or env SHIELDX_<SERVICE>_CONFIG: one flat JSON
//      object {"grpc_port": 9000, "redis_hosts": ["a:6379", "b:6379"]}, at most
//      limits::kMaxConfigFileBytes; keys snake or kebab case;
//   4. the Config struct's initial value.
// Secrets (Secret()) come only from env SHIELDX_[<SERVICE>_]<NAME> or from a file named by
// env SHIELDX_[<SERVICE>_]<NAME>_FILE (trailing newlines trimmed, at most
// limits::kMaxSecretFileBytes); a secret as a flag or file key is rejected. An empty secret
// variable counts as unset; an empty secret file is an error.
//
// Rejected, with one line naming the culprit and its source: unknown flags, unknown file keys
// and unknown SHIELDX_<SERVICE>_* variables (with "did you mean"), values that do not parse or
// are out of range, a flag given twice, duplicate file keys, malformed JSON (line and column),
// oversized files, missing required fields, failed Check()s.
//
// Thread-safety: a ConfigSchema is immutable after registration; Load() may be called from any
// thread but reads the environment through ConfigEnv (see env.h).
#ifndef SHIELDX_LIBS_CONFIG_CONFIG_H_
#define SHIELDX_LIBS_CONFIG_CONFIG_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/base/check.h"
#include "libs/config/effective.h"
#include "libs/config/env.h"
#include "libs/config/field.h"
#include "libs/config/loader.h"
#include "libs/config/values.h"

namespace shieldx::config {

// The exit code of a service whose configuration is invalid.
inline constexpr int kConfigErrorExitCode = 2;

template <typename Config>
struct Loaded {
  Config config;
  Effective effective;
  // Set when --help / -h was given: print it to stdout and exit 0 (config holds defaults).
  std::optional<std::string> help;
};

// What main() must do instead of starting: write `out` to stdout, `err` to stderr, exit `code`.
struct ExitRequest {
  int code = 0;
  std::string out;
  std::string err;
};

// "shieldx-<service>: config: <message>\n" — exactly one line whatever the message holds.
std::string ConfigErrorLine(std::string_view service, const absl::Status& status);

template <typename Config>
class ConfigSchema {
 public:
  // `service` is the short name: "credits", "orchestrator" ([a-z][a-z0-9-]*).
  explicit ConfigSchema(std::string service) : service_(std::move(service)) {
    SHIELDX_CHECK_MSG(internal::IsValidFieldName(internal::CanonicalName(service_)),
                      "config: service name must match [a-z][a-z0-9-]*");
  }

  // Registers member `member` as field `name` (snake or kebab case; stored as snake). The
  // default is the member's value in a default-constructed Config. Names are unique; "config"
  // and "help" are reserved. Returns the field to chain constraints (field.h).
  template <typename T>
  Field<Config, T>& Add(std::string_view name, T Config::*member, std::string_view help) {
    return AddField<T>(
        name, help, [member](const Config& c) -> const T& { return c.*member; },
        [member](Config& c, T value) { c.*member = std::move(value); }, defaults_.*member);
  }

  // Registers a member of a nested struct: Add("pg_pool_size", &Config::pg, &PgOptions::pool,
  // ...). Lets a shared library register its own options into any service's schema.
  template <typename Sub, typename T>
  Field<Config, T>& Add(std::string_view name, Sub Config::*outer, T Sub::*inner,
                        std::string_view help) {
    return AddField<T>(
        name, help, [outer, inner](const Config& c) -> const T& { return (c.*outer).*inner; },
        [outer, inner](Config& c, T value) { (c.*outer).*inner = std::move(value); },
        (defaults_.*outer).*inner);
  }

  // A whole-config check run after every field is loaded (e.g. "tls_cert_file and
  // tls_key_file are set together"). Its message is the error line.
  ConfigSchema& Check(std::function<absl::Status(const Config&)> check) {
    checks_.push_back(std::move(check));
    return *this;
  }

  // Loads from argv (argv[0] is the program and is skipped), env and the config file.
  absl::StatusOr<Loaded<Config>> Load(int argc, const char* const* argv,
                                      const ConfigEnv& env) const {
    Loaded<Config> loaded{defaults_, Effective(), std::nullopt};
    absl::StatusOr<internal::CoreResult> core =
        internal::LoadCore(View(), argc, argv, env, &loaded.config);
    if (!core.ok()) return core.status();
    loaded.help = std::move(core->help);
    if (loaded.help.has_value()) return loaded;
    for (const auto& check : checks_) {
      if (absl::Status status = check(loaded.config); !status.ok()) return status;
    }
    loaded.effective = std::move(core->effective);
    return loaded;
  }

  absl::StatusOr<Loaded<Config>> Load(const std::vector<std::string>& argv,
                                      const ConfigEnv& env) const {
    std::vector<const char*> pointers;
    for (const std::string& arg : argv) pointers.push_back(arg.c_str());
    return Load(static_cast<int>(pointers.size()), pointers.data(), env);
  }

  // Load, then decide: the loaded config, or the exit main() must perform (help: code 0 and
  // the help on stdout; error: kConfigErrorExitCode and ConfigErrorLine on stderr).
  std::variant<Loaded<Config>, ExitRequest> LoadForMain(int argc, const char* const* argv,
                                                        const ConfigEnv& env) const {
    absl::StatusOr<Loaded<Config>> loaded = Load(argc, argv, env);
    if (!loaded.ok()) {
      return ExitRequest{kConfigErrorExitCode, "", ConfigErrorLine(service_, loaded.status())};
    }
    if (loaded->help.has_value()) return ExitRequest{0, *loaded->help, ""};
    return *std::move(loaded);
  }

  // Every field with its type, default, env name and help.
  std::string Help() const { return internal::HelpText(View()); }

  const std::string& service() const { return service_; }
  const Config& defaults() const { return defaults_; }

 private:
  template <typename T>
  Field<Config, T>& AddField(std::string_view name, std::string_view help,
                             typename Field<Config, T>::Getter get,
                             typename Field<Config, T>::Setter set, const T& default_value) {
    std::string canonical = internal::CanonicalName(name);
    SHIELDX_CHECK_MSG(internal::IsValidFieldName(canonical),
                      "config: field name must match [a-z][a-z0-9_]* (kebab case allowed)");
    SHIELDX_CHECK_MSG(canonical != "config" && canonical != "help",
                      "config: field names \"config\" and \"help\" are reserved");
    for (const auto& field : fields_) {
      SHIELDX_CHECK_MSG(field->name() != canonical, "config: field registered twice");
    }
    auto field = std::make_unique<Field<Config, T>>(canonical, std::string(help), std::move(get),
                                                    std::move(set), default_value);
    Field<Config, T>& ref = *field;
    fields_.push_back(std::move(field));
    return ref;
  }

  internal::SchemaView View() const { return internal::SchemaView{service_, &fields_, &defaults_}; }

  std::string service_;
  Config defaults_{};
  std::vector<std::unique_ptr<internal::FieldBase>> fields_;
  std::vector<std::function<absl::Status(const Config&)>> checks_;
};

namespace internal {
// Writes request.out to stdout and request.err to stderr, flushes, and exits with request.code.
[[noreturn]] void PerformExit(const ExitRequest& request);
}  // namespace internal

// For main(): the loaded config, or (on --help or an invalid config) print and exit. An
// invalid config prints exactly one line "shieldx-<svc>: config: <message>" to stderr and
// exits kConfigErrorExitCode.
template <typename Config>
Loaded<Config> LoadOrExit(const ConfigSchema<Config>& schema, int argc, const char* const* argv,
                          const ConfigEnv& env = ProcessConfigEnv()) {
  std::variant<Loaded<Config>, ExitRequest> decision = schema.LoadForMain(argc, argv, env);
  if (const ExitRequest* request = std::get_if<ExitRequest>(&decision)) {
    internal::PerformExit(*request);
  }
  return std::get<Loaded<Config>>(std::move(decision));
}

}  // namespace shieldx::config

#endif  // SHIELDX_LIBS_CONFIG_CONFIG_H_
