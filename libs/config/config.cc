#include "libs/config/config.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace shieldx::config {

std::string ConfigErrorLine(std::string_view service, const absl::Status& status) {
  std::string message = absl::StrReplaceAll(absl::string_view(status.message()),
                                            {{"\r\n", " "}, {"\n", " "}, {"\r", " "}});
  if (message.empty()) message = absl::StatusCodeToString(status.code());
  return absl::StrCat("shieldx-", absl::string_view(service.data(), service.size()),
                      ": config: ", message, "\n");
}

namespace internal {

void PerformExit(const ExitRequest& request) {
  std::fwrite(request.out.data(), 1, request.out.size(), stdout);
  std::fwrite(request.err.data(), 1, request.err.size(), stderr);
  std::fflush(stdout);
  std::fflush(stderr);
  std::exit(request.code);
}

}  // namespace internal
}  // namespace shieldx::config
