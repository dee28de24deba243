// A file compiled into the binary (e.g. a service's SQL migrations), produced by the CMake
// function shieldx_embed_files(). Contents live in static storage for the process lifetime.
#ifndef SHIELDX_LIBS_BASE_EMBEDDED_FILE_H_
#define SHIELDX_LIBS_BASE_EMBEDDED_FILE_H_

#include <string_view>
#include <vector>

namespace shieldx {

struct EmbeddedFile {
  std::string_view name;     // base name, e.g. "0001_accounts.sql"
  std::string_view content;  // exact bytes of the file
};

}  // namespace shieldx

#endif  // SHIELDX_LIBS_BASE_EMBEDDED_FILE_H_
