#include "libs/objstore/s3_wire.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shieldx::objstore::internal {
namespace {

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// The text of the first <tag>...</tag> in `xml` at or after `from`; npos-safe.
// Sets *end to the position after the closing tag. S3 emits these elements without
// attributes, CDATA or nesting of the same name.
bool FindElement(std::string_view xml, std::string_view tag, size_t from, std::string_view* text,
                 size_t* end) {
  const std::string open = absl::StrCat("<", absl::string_view(tag.data(), tag.size()), ">");
  const std::string close = absl::StrCat("</", absl::string_view(tag.data(), tag.size()), ">");
  const size_t a = xml.find(open, from);
  if (a == std::string_view::npos) return false;
  const size_t b = xml.find(close, a + open.size());
  if (b == std::string_view::npos) return false;
  *text = xml.substr(a + open.size(), b - a - open.size());
  *end = b + close.size();
  return true;
}

std::string Element(std::string_view xml, std::string_view tag) {
  std::string_view text;
  size_t end = 0;
  if (!FindElement(xml, tag, 0, &text, &end)) return "";
  return XmlUnescape(text);
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp <= 0x10FFFF) {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::string UriEncode(std::string_view in, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params) {
  for (auto& [name, value] : params) {
    name = UriEncode(name, false);
    value = UriEncode(value, false);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, name, "=", value);
  }
  return out;
}

std::string XmlUnescape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    if (in[i] != '&') {
      out.push_back(in[i++]);
      continue;
    }
    const size_t semi = in.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out.push_back(in[i++]);
      continue;
    }
    const std::string_view entity = in.substr(i + 1, semi - i - 1);
    if (entity == "amp") {
      out.push_back('&');
    } else if (entity == "lt") {
      out.push_back('<');
    } else if (entity == "gt") {
      out.push_back('>');
    } else if (entity == "quot") {
      out.push_back('"');
    } else if (entity == "apos") {
      out.push_back('\'');
    } else if (entity.size() > 1 && entity[0] == '#') {
      const bool hex = entity[1] == 'x' || entity[1] == 'X';
      const std::string digits(entity.substr(hex ? 2 : 1));
      char* end = nullptr;
      const unsigned long cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      if (digits.empty() || *end != '\0') {
        out.append(in.substr(i, semi - i + 1));
      } else {
        AppendUtf8(static_cast<uint32_t>(cp), &out);
      }
    } else {
      out.append(in.substr(i, semi - i + 1));
    }
    i = semi + 1;
  }
  return out;
}

absl::StatusOr<ListResult> ParseListResult(std::string_view xml) {
  if (xml.find("<ListBucketResult") == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a ListBucketResult (", xml.size(), " bytes)"));
  }
  ListResult result;
  size_t pos = 0;
  std::string_view contents;
  size_t end = 0;
  while (FindElement(xml, "Contents", pos, &contents, &end)) {
    ObjectInfo info;
    info.key = Element(contents, "Key");
    const std::string size = Element(contents, "Size");
    if (info.key.empty() || !absl::SimpleAtoi(size, &info.size)) {
      return absl::InvalidArgumentError(
          absl::StrCat("ListBucketResult entry ", result.objects.size(), " lacks a key or size"));
    }
    info.etag = Element(contents, "ETag");
    if (info.etag.size() >= 2 && info.etag.front() == '"' && info.etag.back() == '"') {
      info.etag = info.etag.substr(1, info.etag.size() - 2);
    }
    std::string err;
    absl::Time t;
    if (absl::ParseTime(absl::RFC3339_full, Element(contents, "LastModified"), &t, &err)) {
      info.last_modified = t;
    }
    result.objects.push_back(std::move(info));
    pos = end;
  }
  // The top-level flags follow or precede the entries; search outside them is not needed
  // because entries never contain these element names.
  result.truncated = Element(xml, "IsTruncated") == "true";
  result.next_continuation_token = Element(xml, "NextContinuationToken");
  if (result.truncated && result.next_continuation_token.empty()) {
    return absl::InvalidArgumentError(
        "ListBucketResult is truncated but has no continuation token");
  }
  return result;
}

std::pair<std::string, std::string> ParseErrorBody(std::string_view xml) {
  return {Element(xml, "Code"), Element(xml, "Message")};
}

}  // namespace shieldx::objstore::internal
