// One config field: its name, help, type, constraints and how it reads and writes a member of
// the service's Config struct. Created by ConfigSchema::Add (config.h); the returned Field& is
// a builder for constraints:
//
//   schema.Add("grpc_port", &Config::grpc_port, "gRPC listen port").Range(1, 65535);
//   schema.Add("log_level", &Config::log_level, "minimum level").OneOf({"debug", "info"});
//   schema.Add("db_password", &Config::db_password, "PostgreSQL password").Secret().Required();
//
// Supported member types: std::string, bool, signed integers (and unsigned narrower than 64
// bits), double, absl::Duration, std::vector<std::string>.
// Constraint misuse (Secret() on a non-string, a secret with a non-empty default, lo > hi) is
// a programmer error and crashes via SHIELDX_CHECK.
#ifndef SHIELDX_LIBS_CONFIG_FIELD_H_
#define SHIELDX_LIBS_CONFIG_FIELD_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "libs/base/check.h"
#include "libs/config/values.h"

namespace shieldx::config {

template <typename T>
inline constexpr bool kIsConfigInt =
    std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char> &&
    (std::is_signed_v<T> || sizeof(T) < sizeof(std::int64_t));

template <typename T>
inline constexpr bool kIsConfigValue =
    kIsConfigInt<T> || std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
    std::is_same_v<T, double> || std::is_same_v<T, absl::Duration> ||
    std::is_same_v<T, std::vector<std::string>>;

template <typename T>
inline constexpr bool kIsConfigOrdered =
    kIsConfigInt<T> || std::is_same_v<T, double> || std::is_same_v<T, absl::Duration>;

namespace internal {

// A value as a source provides it: text (flags, env, JSON scalars) or, for JSON arrays, items.
struct RawValue {
  std::string text;
  std::optional<std::vector<std::string>> items;
};

// The type-erased part the loader works with. `config` is the service's Config object.
class FieldBase {
 public:
  FieldBase(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}
  virtual ~FieldBase() = default;
  FieldBase(const FieldBase&) = delete;
  FieldBase& operator=(const FieldBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  bool secret() const { return secret_; }
  bool required() const { return required_; }

  // Placeholder for help: INT, NUMBER, BOOL, DURATION, STRING, LIST.
  virtual std::string TypeName() const = 0;
  virtual bool IsBool() const = 0;
  // What a valid value looks like: "an integer in [1, 65535]", "one of \"a\", \"b\"".
  virtual std::string Expected() const = 0;
  // Parses and validates `raw`, then stores it in *config. On failure *config is unchanged and
  // the message completes "invalid value ... for NAME (from SOURCE): " (e.g. "expected ...").
  virtual absl::Status Assign(const RawValue& raw, void* config) const = 0;
  // Checks the value *config holds now against the type constraints (range, OneOf) but not
  // the custom validators: used for defaults, which may legitimately mean "off" ("").
  virtual absl::Status CheckCurrent(const void* config) const = 0;
  virtual std::string Format(const void* config) const = 0;

 protected:
  std::string name_;
  std::string help_;
  bool secret_ = false;
  bool required_ = false;
};

template <typename T>
std::string FormatValue(const T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    return value;
  } else if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if constexpr (kIsConfigInt<T>) {
    return absl::StrCat(static_cast<std::int64_t>(value));
  } else if constexpr (std::is_same_v<T, double>) {
    return FormatDouble(value);
  } else if constexpr (std::is_same_v<T, absl::Duration>) {
    return DurationToString(value);
  } else {
    return FormatList(value);
  }
}

}  // namespace internal

template <typename Config, typename T>
class Field final : public internal::FieldBase {
  static_assert(kIsConfigValue<T>,
                "config fields are std::string, bool, integers, double, absl::Duration or "
                "std::vector<std::string>");

 public:
  using Getter = std::function<const T&(const Config&)>;
  using Setter = std::function<void(Config&, T)>;
  using Validator = std::function<absl::Status(const T&)>;

  Field(std::string name, std::string help, Getter get, Setter set, const T& default_value)
      : FieldBase(std::move(name), std::move(help)),
        get_(std::move(get)),
        set_(std::move(set)),
        default_(default_value) {
    if constexpr (kIsConfigInt<T>) {
      lo_ = std::numeric_limits<T>::min();
      hi_ = std::numeric_limits<T>::max();
    } else if constexpr (std::is_same_v<T, double>) {
      lo_ = std::numeric_limits<double>::lowest();
      hi_ = std::numeric_limits<double>::max();
    } else if constexpr (std::is_same_v<T, absl::Duration>) {
      lo_ = absl::ZeroDuration();
      hi_ = absl::InfiniteDuration();
    }
  }

  // Inclusive bounds. Integers default to the member type's range, durations to [0, inf).
  Field& Range(T lo, T hi) requires kIsConfigOrdered<T> {
    SHIELDX_CHECK_MSG(lo <= hi, absl::StrCat("config field ", name_, ": Range lo > hi"));
    lo_ = lo;
    hi_ = hi;
    range_set_ = true;
    return *this;
  }

  // The value (or each list item) must be one of `allowed` (an enum of fixed strings).
  Field& OneOf(std::vector<std::string> allowed) requires(
      std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<std::string>>) {
    SHIELDX_CHECK_MSG(!allowed.empty(), absl::StrCat("config field ", name_, ": empty OneOf"));
    one_of_ = std::move(allowed);
    return *this;
  }

  // Only from env SHIELDX_[<SERVICE>_]<NAME> or a file named by ..._<NAME>_FILE; rejected as a
  // flag or config-file key; shown redacted. A secret has no default (hard-coded secrets leak).
  Field& Secret() requires std::is_same_v<T, std::string> {
    SHIELDX_CHECK_MSG(default_.empty(),
                      absl::StrCat("config field ", name_, ": a secret must not have a default"));
    secret_ = true;
    return *this;
  }

  // Must be set by a flag, env or file (the default does not count).
  Field& Required() {
    required_ = true;
    return *this;
  }

  // Runs after type, range and OneOf checks; its message is shown to the operator.
  Field& Validate(Validator validator) {
    validators_.push_back(std::move(validator));
    return *this;
  }

  std::string TypeName() const override {
    if constexpr (std::is_same_v<T, std::string>) return one_of_.empty() ? "STRING" : "ENUM";
    if constexpr (std::is_same_v<T, bool>) return "BOOL";
    if constexpr (kIsConfigInt<T>) return "INT";
    if constexpr (std::is_same_v<T, double>) return "NUMBER";
    if constexpr (std::is_same_v<T, absl::Duration>) return "DURATION";
    if constexpr (std::is_same_v<T, std::vector<std::string>>) return "LIST";
    return "VALUE";
  }

  bool IsBool() const override { return std::is_same_v<T, bool>; }

  std::string Expected() const override {
    if constexpr (std::is_same_v<T, std::string>) {
      return one_of_.empty() ? "a string" : absl::StrCat("one of ", QuotedAllowed());
    } else if constexpr (std::is_same_v<T, bool>) {
      return "true or false";
    } else if constexpr (kIsConfigInt<T>) {
      return absl::StrCat("an integer in [", internal::FormatValue(lo_), ", ",
                          internal::FormatValue(hi_), "]");
    } else if constexpr (std::is_same_v<T, double>) {
      if (!range_set_) return "a finite number";
      return absl::StrCat("a number in [", internal::FormatValue(lo_), ", ",
                          internal::FormatValue(hi_), "]");
    } else if constexpr (std::is_same_v<T, absl::Duration>) {
      if (!range_set_) return "a non-negative duration such as 250ms, 5s or 2m";
      return absl::StrCat("a duration such as 250ms, 5s or 2m in [", internal::FormatValue(lo_),
                          ", ", internal::FormatValue(hi_), "]");
    } else {
      std::string out = "a comma-separated list";
      if (!one_of_.empty()) absl::StrAppend(&out, " of ", QuotedAllowed());
      return out;
    }
  }

  absl::Status Assign(const internal::RawValue& raw, void* config) const override {
    std::optional<T> value = Parse(raw);
    if (!value.has_value()) {
      std::string got = raw.items.has_value() && !std::is_same_v<T, std::vector<std::string>>
                            ? " (got a list)"
                            : "";
      return absl::InvalidArgumentError(absl::StrCat("expected ", Expected(), got));
    }
    if (absl::Status status = Check(*value, /*run_validators=*/true); !status.ok()) return status;
    set_(*static_cast<Config*>(config), *std::move(value));
    return absl::OkStatus();
  }

  absl::Status CheckCurrent(const void* config) const override {
    return Check(get_(*static_cast<const Config*>(config)), /*run_validators=*/false);
  }

  std::string Format(const void* config) const override {
    return internal::FormatValue(get_(*static_cast<const Config*>(config)));
  }

 private:
  std::string QuotedAllowed() const {
    return absl::StrCat("\"", absl::StrJoin(one_of_, "\", \""), "\"");
  }

  std::optional<T> Parse(const internal::RawValue& raw) const {
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (raw.items.has_value()) {
        if (raw.items->size() > kMaxListItems) return std::nullopt;
        return *raw.items;
      }
      auto list = ParseList(raw.text);
      if (!list.ok()) return std::nullopt;
      return *std::move(list);
    } else {
      if (raw.items.has_value()) return std::nullopt;
      if constexpr (std::is_same_v<T, std::string>) {
        return raw.text;
      } else if constexpr (std::is_same_v<T, bool>) {
        auto value = ParseBool(raw.text);
        return value.ok() ? std::optional<T>(*value) : std::nullopt;
      } else if constexpr (kIsConfigInt<T>) {
        // Range-check in 64 bits before narrowing to T.
        auto value = ParseInt64(raw.text);
        if (!value.ok() || *value < static_cast<std::int64_t>(lo_) ||
            *value > static_cast<std::int64_t>(hi_)) {
          return std::nullopt;
        }
        return static_cast<T>(*value);
      } else if constexpr (std::is_same_v<T, double>) {
        auto value = ParseDouble(raw.text);
        return value.ok() ? std::optional<T>(*value) : std::nullopt;
      } else {
        auto value = ParseDuration(raw.text);
        return value.ok() ? std::optional<T>(*value) : std::nullopt;
      }
    }
  }

  absl::Status Check(const T& value, bool run_validators) const {
    absl::Status expected = absl::InvalidArgumentError(absl::StrCat("expected ", Expected()));
    if constexpr (kIsConfigOrdered<T>) {
      if (value < lo_ || value > hi_) return expected;
    }
    if constexpr (std::is_same_v<T, std::string>) {
      if (!one_of_.empty() && !Allowed(value)) return expected;
    }
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (value.size() > kMaxListItems) {
        return absl::InvalidArgumentError(
            absl::StrCat("a list holds at most ", kMaxListItems, " items, got ", value.size()));
      }
      for (const std::string& item : value) {
        if (item.empty() || (!one_of_.empty() && !Allowed(item))) return expected;
      }
    }
    if (!run_validators) return absl::OkStatus();
    for (const Validator& validator : validators_) {
      if (absl::Status status = validator(value); !status.ok()) return status;
    }
    return absl::OkStatus();
  }

  bool Allowed(const std::string& value) const {
    return std::find(one_of_.begin(), one_of_.end(), value) != one_of_.end();
  }

  Getter get_;
  Setter set_;
  T default_;
  T lo_{};
  T hi_{};
  bool range_set_ = false;
  std::vector<std::string> one_of_;
  std::vector<Validator> validators_;
};

}  // namespace shieldx::config

#endif  // SHIELDX_LIBS_CONFIG_FIELD_H_
