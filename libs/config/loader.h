// The non-template core of ConfigSchema<Config>::Load (config.h). Not for direct use.
#ifndef SHIELDX_LIBS_CONFIG_LOADER_H_
#define SHIELDX_LIBS_CONFIG_LOADER_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/config/effective.h"
#include "libs/config/env.h"
#include "libs/config/field.h"

namespace shieldx::config::internal {

struct SchemaView {
  std::string_view service;  // "credits"
  const std::vector<std::unique_ptr<FieldBase>>* fields;
  const void* defaults;  // a Config holding the defaults
};

struct CoreResult {
  std::optional<std::string> help;  // set when --help / -h was given (nothing else is loaded)
  Effective effective;
};

// "SHIELDX_CREDITS_" for "credits" ("-" becomes "_").
std::string EnvPrefix(std::string_view service);
// "grpc-port" -> "grpc_port".
std::string CanonicalName(std::string_view name);
// True for [a-z][a-z0-9_]* without "__" or a trailing "_" (after CanonicalName).
bool IsValidFieldName(std::string_view canonical);

std::string HelpText(const SchemaView& schema);

// Fills *config (which holds the defaults) from argv, env and the config file; validates every
// value given and every default. Errors are InvalidArgument (NotFound etc. for unreadable
// files) with a one-line message.
absl::StatusOr<CoreResult> LoadCore(const SchemaView& schema, int argc, const char* const* argv,
                                    const ConfigEnv& env, void* config);

}  // namespace shieldx::config::internal

#endif  // SHIELDX_LIBS_CONFIG_LOADER_H_
