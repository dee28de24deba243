// The seam between the config loader and the process: environment variables and files.
//
// Services use ProcessConfigEnv (the real environment and file system); tests use
// InMemoryConfigEnv so they never touch the real environment. Loading happens once at
// start-up, before threads exist: ProcessConfigEnv reads `environ`, which is not safe against a
// concurrent setenv().
#ifndef SHIELDX_LIBS_CONFIG_ENV_H_
#define SHIELDX_LIBS_CONFIG_ENV_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace shieldx::config {

class ConfigEnv {
 public:
  virtual ~ConfigEnv() = default;

  // The value of environment variable `name`, or nullopt when it is not set (set-but-empty
  // is "").
  virtual std::optional<std::string> Get(const std::string& name) const = 0;

  // Every variable name in the environment (used to reject unknown SHIELDX_<SERVICE>_* names).
  virtual std::vector<std::string> Names() const = 0;

  // The whole content of the file at `path`. Errors: NotFound / PermissionDenied / ... naming
  // the path and the OS reason; InvalidArgument "... is larger than the limit of N bytes" when
  // the file holds more than `max_bytes` (nothing past max_bytes + 1 is read).
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path,
                                               std::size_t max_bytes) const = 0;
};

// getenv / environ and POSIX reads. Stateless; cheap to construct.
class ProcessConfigEnv final : public ConfigEnv {
 public:
  std::optional<std::string> Get(const std::string& name) const override;
  std::vector<std::string> Names() const override;
  absl::StatusOr<std::string> ReadFile(const std::string& path,
                                       std::size_t max_bytes) const override;
};

// A map of variables and a map of files. Not thread-safe for concurrent Set*.
class InMemoryConfigEnv final : public ConfigEnv {
 public:
  InMemoryConfigEnv() = default;
  explicit InMemoryConfigEnv(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}

  InMemoryConfigEnv& SetVar(std::string name, std::string value);
  InMemoryConfigEnv& SetFile(std::string path, std::string content);

  std::optional<std::string> Get(const std::string& name) const override;
  std::vector<std::string> Names() const override;
  // Missing paths are NotFound, as on disk.
  absl::StatusOr<std::string> ReadFile(const std::string& path,
                                       std::size_t max_bytes) const override;

 private:
  std::map<std::string, std::string> vars_;
  std::map<std::string, std::string> files_;
};

}  // namespace shieldx::config

#endif  // SHIELDX_LIBS_CONFIG_ENV_H_
