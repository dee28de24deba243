// Text <-> value conversions used by libs/config, exposed because services need the same
// spellings elsewhere (e.g. a duration in an API request or a CLI tool).
//
// Every parser accepts surrounding ASCII whitespace and rejects anything else that is not the
// exact format; each returns InvalidArgument with a message that names the text and the format.
#ifndef SHIELDX_LIBS_CONFIG_VALUES_H_
#define SHIELDX_LIBS_CONFIG_VALUES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shieldx::config {

// Items in one list value: a config list is a handful of hosts or names, never data.
inline constexpr std::size_t kMaxListItems = 1024;

// A finite duration: a decimal number with a unit, concatenated, e.g. "250ms", "5s", "2m",
// "1h30m", "1.5s", "-5s"; units ns, us, ms, s, m, h. "0" alone is also accepted.
// "inf" and numbers without a unit are rejected.
absl::StatusOr<absl::Duration> ParseDuration(std::string_view text);
// The shortest spelling ParseDuration reads back: "250ms", "2m", "1h30m", "0".
std::string DurationToString(absl::Duration duration);

// true/false, 1/0, yes/no, on/off (case-insensitive).
absl::StatusOr<bool> ParseBool(std::string_view text);

// A base-10 integer, optional sign, no separators, within int64.
absl::StatusOr<std::int64_t> ParseInt64(std::string_view text);

// A finite decimal number ("0.5", "1e-3"); nan and inf are rejected.
absl::StatusOr<double> ParseDouble(std::string_view text);
// The shortest spelling that reads back to the same double ("0.1", "1e-05").
std::string FormatDouble(double value);

// A comma-separated list: items trimmed of whitespace; "" and all-blank text are the empty
// list; an empty item ("a,,b", "a,") and more than kMaxListItems items are rejected.
absl::StatusOr<std::vector<std::string>> ParseList(std::string_view text);
// Items joined by "," (the inverse of ParseList for items without commas or edge blanks).
std::string FormatList(const std::vector<std::string>& items);

}  // namespace shieldx::config

#endif  // SHIELDX_LIBS_CONFIG_VALUES_H_
