#include "libs/config/env.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace shieldx::config {
namespace {

absl::Status TooLarge(const std::string& path, std::size_t max_bytes) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, " is larger than the limit of ", max_bytes, " bytes"));
}

absl::Status OsError(const std::string& path, int error) {
  std::string message = absl::StrCat("cannot read ", path, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::FailedPreconditionError(message);
  }
}

}  // namespace

std::optional<std::string> ProcessConfigEnv::Get(const std::string& name) const {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::vector<std::string> ProcessConfigEnv::Names() const {
  std::vector<std::string> names;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const char* equals = std::strchr(*entry, '=');
    names.emplace_back(*entry, equals == nullptr ? std::strlen(*entry) : equals - *entry);
  }
  return names;
}

absl::StatusOr<std::string> ProcessConfigEnv::ReadFile(const std::string& path,
                                                       std::size_t max_bytes) const {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OsError(path, errno);
  std::string content;
  char buffer[16 * 1024];
  absl::Status status;
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = OsError(path, errno);
      break;
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > max_bytes) {
      status = TooLarge(path, max_bytes);
      break;
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return content;
}

InMemoryConfigEnv& InMemoryConfigEnv::SetVar(std::string name, std::string value) {
  vars_[std::move(name)] = std::move(value);
  return *this;
}

InMemoryConfigEnv& InMemoryConfigEnv::SetFile(std::string path, std::string content) {
  files_[std::move(path)] = std::move(content);
  return *this;
}

std::optional<std::string> InMemoryConfigEnv::Get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> InMemoryConfigEnv::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, value] : vars_) names.push_back(name);
  return names;
}

absl::StatusOr<std::string> InMemoryConfigEnv::ReadFile(const std::string& path,
                                                        std::size_t max_bytes) const {
  auto it = files_.find(path);
  if (it == files_.end()) return OsError(path, ENOENT);
  if (it->second.size() > max_bytes) return TooLarge(path, max_bytes);
  return it->second;
}

}  // namespace shieldx::config
