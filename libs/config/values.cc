#include "libs/config/values.h"

#include <charconv>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace shieldx::config {
namespace {

// Quotes `text` for an error message: escaped, so the message stays one line.
std::string Quoted(std::string_view text) {
  constexpr std::size_t kMaxQuotedBytes = 64;
  std::string_view shown = text.substr(0, kMaxQuotedBytes);
  std::string out =
      absl::StrCat("\"", absl::CHexEscape(absl::string_view(shown.data(), shown.size())));
  if (shown.size() < text.size()) out += "...";
  return out + "\"";
}

absl::string_view Trimmed(std::string_view text) {
  return absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size()));
}

}  // namespace

absl::StatusOr<absl::Duration> ParseDuration(std::string_view text) {
  absl::string_view trimmed = Trimmed(text);
  absl::Duration duration;
  bool has_digit = trimmed.find_first_of("0123456789") != absl::string_view::npos;
  if (!has_digit || !absl::ParseDuration(trimmed, &duration) ||
      duration == absl::InfiniteDuration() || duration == -absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid duration ", Quoted(text),
                     ": expected a number with a unit (ns, us, ms, s, m, h), e.g. 250ms, 5s, 2m"));
  }
  return duration;
}

std::string DurationToString(absl::Duration duration) { return absl::FormatDuration(duration); }

absl::StatusOr<bool> ParseBool(std::string_view text) {
  std::string lower = absl::AsciiStrToLower(Trimmed(text));
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("invalid boolean ", Quoted(text), ": expected true or false"));
}

absl::StatusOr<std::int64_t> ParseInt64(std::string_view text) {
  absl::string_view trimmed = Trimmed(text);
  std::int64_t value = 0;
  if (trimmed.empty() || !absl::SimpleAtoi(trimmed, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid integer ", Quoted(text), ": expected a base-10 64-bit integer"));
  }
  return value;
}

absl::StatusOr<double> ParseDouble(std::string_view text) {
  absl::string_view trimmed = Trimmed(text);
  double value = 0;
  if (trimmed.empty() || !absl::SimpleAtod(trimmed, &value) || !std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid number ", Quoted(text), ": expected a finite decimal number"));
  }
  return value;
}

std::string FormatDouble(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

absl::StatusOr<std::vector<std::string>> ParseList(std::string_view text) {
  std::vector<std::string> items;
  if (Trimmed(text).empty()) return items;
  for (absl::string_view item : absl::StrSplit(absl::string_view(text.data(), text.size()), ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid list ", Quoted(text), ": empty item (items are comma-separated)"));
    }
    if (items.size() == kMaxListItems) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid list: more than ", kMaxListItems, " items (limit kMaxListItems)"));
    }
    items.emplace_back(item);
  }
  return items;
}

std::string FormatList(const std::vector<std::string>& items) { return absl::StrJoin(items, ","); }

}  // namespace shieldx::config
