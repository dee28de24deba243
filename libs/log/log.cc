#include "libs/log/log.h"

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "spdlog/sinks/basic_file_sink.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace shieldx::log {
namespace {

struct State {
  std::mutex mu;  // guards replacement of logger/service
  std::shared_ptr<spdlog::logger> logger;
  std::string service = "unknown";
  std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
};

State& GetState() {
  static State* state = [] {
    auto* s = new State();
    s->logger = std::make_shared<spdlog::logger>("shieldx",
                                                 std::make_shared<spdlog::sinks::stdout_sink_mt>());
    s->logger->set_pattern("%v");
    s->logger->set_level(spdlog::level::trace);
    return s;
  }();
  return *state;
}

thread_local std::string tls_trace_id;

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "info";
}

// Length of a valid UTF-8 sequence starting at s[i], or 0 when invalid.
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  uint32_t min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0xFF >> (n + 1));
  for (std::size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

void AppendJsonEscaped(std::string* out, std::string_view text, std::size_t max_bytes) {
  const bool truncated = text.size() > max_bytes;
  if (truncated) text = text.substr(0, max_bytes);
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out->append(buf);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const std::size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      out->append("\xEF\xBF\xBD");  // U+FFFD
      ++i;
    } else {
      out->append(text.data() + i, n);
      i += n;
    }
  }
  if (truncated) out->append("...(truncated)");
}

void Init(std::string_view service, Level min_level, std::string sink_path) {
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.service = std::string(service);
  s.min_level.store(static_cast<int>(min_level));
  if (!sink_path.empty()) {
    s.logger = std::make_shared<spdlog::logger>(
        "shieldx", std::make_shared<spdlog::sinks::basic_file_sink_mt>(sink_path, true));
  } else {
    s.logger = std::make_shared<spdlog::logger>("shieldx",
                                                std::make_shared<spdlog::sinks::stdout_sink_mt>());
  }
  s.logger->set_pattern("%v");
  s.logger->set_level(spdlog::level::trace);
  s.logger->flush_on(spdlog::level::trace);
}

bool ParseLevel(std::string_view text, Level* level) {
  if (text == "debug")
    *level = Level::kDebug;
  else if (text == "info")
    *level = Level::kInfo;
  else if (text == "warn" || text == "warning")
    *level = Level::kWarn;
  else if (text == "error")
    *level = Level::kError;
  else if (text == "off")
    *level = Level::kOff;
  else
    return false;
  return true;
}

bool Enabled(Level level) {
  return static_cast<int>(level) >= GetState().min_level.load(std::memory_order_relaxed) &&
         level != Level::kOff;
}

void Write(Level level, std::string_view msg, Fields fields) {
  if (!Enabled(level)) return;
  State& s = GetState();
  std::string line;
  line.reserve(256);
  line.append("{\"ts\":\"");
  line.append(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()));
  line.append("\",\"level\":\"").append(LevelName(level)).append("\",\"msg\":\"");
  AppendJsonEscaped(&line, msg, kMaxFieldBytes);
  std::shared_ptr<spdlog::logger> logger;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    line.append("\",\"service\":\"");
    AppendJsonEscaped(&line, s.service, kMaxFieldBytes);
    logger = s.logger;
  }
  line.append("\",\"trace_id\":\"");
  AppendJsonEscaped(&line, tls_trace_id, 64);
  line.push_back('"');
  for (const Field& f : fields) {
    line.append(",\"");
    AppendJsonEscaped(&line, f.key, 64);
    line.append("\":");
    if (const auto* sv = std::get_if<std::string_view>(&f.value)) {
      line.push_back('"');
      AppendJsonEscaped(&line, *sv, kMaxFieldBytes);
      line.push_back('"');
    } else if (const auto* i = std::get_if<int64_t>(&f.value)) {
      line.append(std::to_string(*i));
    } else if (const auto* u = std::get_if<uint64_t>(&f.value)) {
      line.append(std::to_string(*u));
    } else if (const auto* d = std::get_if<double>(&f.value)) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.6g", *d);
      line.append(buf);
    } else if (const auto* b = std::get_if<bool>(&f.value)) {
      line.append(*b ? "true" : "false");
    } else if (const auto* raw = std::get_if<RawJson>(&f.value)) {
      line.append(raw->json.empty() ? std::string_view("null") : raw->json);
    }
  }
  line.push_back('}');
  logger->log(spdlog::level::info, "{}", line);
}

void Flush() {
  State& s = GetState();
  std::shared_ptr<spdlog::logger> logger;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    logger = s.logger;
  }
  logger->flush();
}

ScopedTraceId::ScopedTraceId(std::string_view trace_id) : previous_(std::move(tls_trace_id)) {
  tls_trace_id.assign(trace_id.data(), std::min<std::size_t>(trace_id.size(), 64));
}

ScopedTraceId::~ScopedTraceId() { tls_trace_id = std::move(previous_); }

std::string_view CurrentTraceId() { return tls_trace_id; }

std::string NewTraceId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, rng());
  return std::string(buf, 16);
}

}  // namespace shieldx::log
