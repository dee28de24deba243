#include "libs/detect/ndjson.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace shieldx::detect {

bool DecodeBase64(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (char ch : in) {
    unsigned char c = static_cast<unsigned char>(ch);
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else if (c == '=') {
      ++pad;
      continue;
    } else if (c == '\n' || c == '\r') {
      continue;
    } else {
      return false;
    }
    if (pad > 0) return false;  // data after padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return pad <= 2;
}

absl::Status ParseRequestLine(std::string_view line, OwnedHttpRequest* out, std::string* id) {
  id->clear();
  if (line.size() > kMaxRequestLineBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("request line of ", line.size(), " bytes exceeds ", kMaxRequestLineBytes));
  }
  nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("not a JSON object");
  auto str = [&j](const char* key, std::string* dst, bool required) -> absl::Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) return absl::InvalidArgumentError(absl::StrCat("missing field \"", key, "\""));
      dst->clear();
      return absl::OkStatus();
    }
    if (!it->is_string())
      return absl::InvalidArgumentError(absl::StrCat("field \"", key, "\" is not a string"));
    *dst = it->get<std::string>();
    return absl::OkStatus();
  };
  absl::Status st = str("id", id, false);
  if (!st.ok()) return st;
  if (!(st = str("method", &out->method, true)).ok()) return st;
  if (!(st = str("uri", &out->uri, true)).ok()) return st;
  // Absent: HTTP/1.1. Present but empty: a request line without a version (HTTP/0.9
  // style), which is what was sent and what the protocol checks must see.
  if (!(st = str("version", &out->version, false)).ok()) return st;
  if (auto v = j.find("version"); v == j.end() || v->is_null()) out->version = "HTTP/1.1";
  if (!(st = str("client_ip", &out->client_ip, false)).ok()) return st;
  out->headers.clear();
  auto hs = j.find("headers");
  if (hs != j.end()) {
    if (!hs->is_array()) return absl::InvalidArgumentError("field \"headers\" is not an array");
    for (const auto& h : *hs) {
      if (!h.is_array() || h.size() != 2 || !h[0].is_string() || !h[1].is_string()) {
        return absl::InvalidArgumentError("a header is not a [name, value] pair of strings");
      }
      out->headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
    }
  }
  auto b = j.find("body");
  auto b64 = j.find("body_b64");
  if (b != j.end() && b->is_string()) {
    out->body = b->get<std::string>();
  } else if (b64 != j.end() && b64->is_string()) {
    if (!DecodeBase64(b64->get<std::string>(), &out->body)) {
      return absl::InvalidArgumentError("field \"body_b64\" is not valid base64");
    }
  } else {
    out->body.clear();
  }
  return absl::OkStatus();
}

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

std::string VerdictJson(std::string_view id, const Verdict& v, int64_t latency_us,
                        bool with_explanation) {
  std::string out;
  out.reserve(256);
  out += "{\"id\":";
  AppendJsonString(id, &out);
  out += ",\"action\":\"";
  out += ActionName(v.action);
  out += "\",\"score\":";
  out += std::to_string(v.score);
  out += ",\"categories\":[";
  bool first = true;
  for (int c = 0; c < kCategoryCount; ++c) {
    if (!((v.categories >> c) & 1u)) continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += CategoryName(static_cast<Category>(c));
    out += '"';
  }
  out += "],\"findings\":[";
  first = true;
  for (const Finding& f : v.findings) {
    if (!first) out += ',';
    first = false;
    char conf[16];
    std::snprintf(conf, sizeof(conf), "%.2f", static_cast<double>(f.confidence));
    out += "{\"category\":\"";
    out += CategoryName(f.category);
    out += "\",\"rule\":";
    AppendJsonString(f.rule, &out);
    out += ",\"confidence\":";
    out += conf;
    out += ",\"location\":\"";
    out += SourceName(f.source);
    if (f.part == Part::kName) out += "-name";
    out += "\",\"field\":";
    AppendJsonString(f.field, &out);
    out += ",\"excerpt\":";
    AppendJsonString(f.excerpt, &out);
    out += '}';
  }
  out += ']';
  if (v.excluded_findings > 0) {  // only when an exclusion fired: the default output is unchanged
    out += ",\"excluded\":{\"findings\":";
    out += std::to_string(v.excluded_findings);
    out += ",\"by\":[";
    for (std::size_t i = 0; i < v.excluded_by.size(); ++i) {
      if (i > 0) out += ',';
      AppendJsonString(v.excluded_by[i], &out);
    }
    out += "]}";
  }
  if (with_explanation) {
    out += ",\"explanation\":";
    AppendJsonString(v.explanation, &out);
  }
  out += ",\"latency_us\":";
  out += std::to_string(latency_us);
  out += '}';
  return out;
}

std::string ErrorJson(std::string_view id, std::string_view error) {
  std::string out = "{\"id\":";
  AppendJsonString(id, &out);
  out += ",\"action\":\"error\",\"error\":";
  AppendJsonString(error, &out);
  out += '}';
  return out;
}

}  // namespace shieldx::detect
