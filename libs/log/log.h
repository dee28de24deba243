// The JSON-lines logging facade over spdlog. One object per line on stdout:
//   {"ts":"2026-11-29T06:02:11.123Z","level":"info","msg":"listening","service":"credits",
//    "trace_id":"4bf92f3577b34da6","port":9090}
//
// Rules (STYLE.md): never log request payloads, secrets or raw biometrics; log an error once,
// where it is handled. Field values are escaped; strings longer than kMaxFieldBytes are cut.
//
// Thread-safety: every function may be called from any thread. Init() once at start-up
// (before other threads log); without Init() lines still go to stdout with service "unknown".
#ifndef SHIELDX_LIBS_LOG_LOG_H_
#define SHIELDX_LIBS_LOG_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace shieldx::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// Longest string field value written; longer values end in "...(truncated)".
inline constexpr std::size_t kMaxFieldBytes = 1024;

// Already-serialised JSON written verbatim (e.g. the effective config). The caller guarantees
// it is valid JSON produced by our code, never text from a request.
struct RawJson {
  std::string_view json;
};

// A typed field. Keys are string literals (bounded by the code, not by input).
struct Field {
  using Value = std::variant<std::string_view, int64_t, uint64_t, double, bool, RawJson>;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, long v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, long long v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(static_cast<uint64_t>(v)) {}
  Field(std::string_view k, unsigned long v) : key(k), value(static_cast<uint64_t>(v)) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(static_cast<uint64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, RawJson v) : key(k), value(v) {}
  std::string_view key;
  Value value;
};

using Fields = std::initializer_list<Field>;

// Sets the service name and minimum level. Output goes to stdout unless `sink_path` names a
// file (tests). Safe to call again (later calls replace the settings).
void Init(std::string_view service, Level min_level = Level::kInfo, std::string sink_path = "");

// Parses "debug" / "info" / "warn" / "error" / "off"; false on anything else.
bool ParseLevel(std::string_view text, Level* level);

bool Enabled(Level level);
void Write(Level level, std::string_view msg, Fields fields);

inline void Debug(std::string_view msg, Fields fields = {}) { Write(Level::kDebug, msg, fields); }
inline void Info(std::string_view msg, Fields fields = {}) { Write(Level::kInfo, msg, fields); }
inline void Warn(std::string_view msg, Fields fields = {}) { Write(Level::kWarn, msg, fields); }
inline void Error(std::string_view msg, Fields fields = {}) { Write(Level::kError, msg, fields); }

// Flushes buffered output (call before exit).
void Flush();

// The trace id attached to log lines written by this thread while the scope is alive
// (set by the RPC / HTTP interceptors). Nested scopes restore the outer id.
class ScopedTraceId {
 public:
  explicit ScopedTraceId(std::string_view trace_id);
  ~ScopedTraceId();
  ScopedTraceId(const ScopedTraceId&) = delete;
  ScopedTraceId& operator=(const ScopedTraceId&) = delete;

 private:
  std::string previous_;
};

// The current thread's trace id ("" when none).
std::string_view CurrentTraceId();

// A new random 16-hex-digit trace id.
std::string NewTraceId();

// Appends `text` to `out` as a JSON string body (no quotes), escaping control characters,
// quotes and backslashes, replacing invalid UTF-8 with U+FFFD, cut at `max_bytes`.
void AppendJsonEscaped(std::string* out, std::string_view text, std::size_t max_bytes);

}  // namespace shieldx::log

#endif  // SHIELDX_LIBS_LOG_LOG_H_
