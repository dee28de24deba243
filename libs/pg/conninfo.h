// Helpers for libpq connection strings (key=value or postgresql:// URI).
#ifndef SHIELDX_LIBS_PG_CONNINFO_H_
#define SHIELDX_LIBS_PG_CONNINFO_H_

#include <string>

namespace shieldx::pg {

// Adds `key=value` to `conninfo` unless it already mentions `key`. `value` must be a plain
// token (letters, digits, '-', '_', '.'): it is neither quoted nor URL-encoded.
std::string WithConnInfoParam(const std::string& conninfo, const std::string& key,
                              const std::string& value);

}  // namespace shieldx::pg

#endif  // SHIELDX_LIBS_PG_CONNINFO_H_
