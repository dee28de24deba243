#include "libs/policy/lexer.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shieldx::policy::internal {
namespace {

// Source lines longer than this are shown as a window around the error column.
constexpr std::size_t kMaxSnippetBytes = 120;

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Renders a byte for a message: printable ASCII as itself, anything else as \xNN.
std::string Printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string(1, c);
  static constexpr char kHex[] = "0123456789abcdef";
  return absl::StrCat("\\x", std::string(1, kHex[u >> 4]), std::string(1, kHex[u & 15]));
}

class Lexer {
 public:
  Lexer(std::string_view src, const SourceMap& map, std::size_t max_string_bytes)
      : src_(src), map_(map), max_string_bytes_(max_string_bytes) {}

  absl::Status Run(std::vector<Token>* out) {
    while (true) {
      SkipSpaceAndComments();
      Token t;
      t.offset = static_cast<uint32_t>(pos_);
      if (pos_ >= src_.size()) {
        t.kind = Tok::kEnd;
        out->push_back(std::move(t));
        return absl::OkStatus();
      }
      absl::Status s = Next(&t);
      if (!s.ok()) return s;
      t.length = static_cast<uint32_t>(pos_ - t.offset);
      out->push_back(std::move(t));
    }
  }

 private:
  void SkipSpaceAndComments() {
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '#' || (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '/')) {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  absl::Status Next(Token* t) {
    const char c = src_[pos_];
    if (c == 'r' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '"') return RawString(t);
    if (IsIdentStart(c)) {
      const std::size_t start = pos_;
      while (pos_ < src_.size() && IsIdentChar(src_[pos_])) ++pos_;
      t->kind = Tok::kIdent;
      t->text = std::string(src_.substr(start, pos_ - start));
      return absl::OkStatus();
    }
    if (IsDigit(c)) return Number(t);
    if (c == '"') return String(t);
    if (c == '$') {
      ++pos_;
      const std::size_t start = pos_;
      while (pos_ < src_.size() && (IsIdentChar(src_[pos_]) || src_[pos_] == '-')) ++pos_;
      if (pos_ == start) return map_.Error(t->offset, "expected a list name after '$'");
      t->kind = Tok::kListRef;
      t->text = std::string(src_.substr(start, pos_ - start));
      return absl::OkStatus();
    }
    const char n = pos_ + 1 < src_.size() ? src_[pos_ + 1] : '\0';
    auto one = [&](Tok k) {
      t->kind = k;
      pos_ += 1;
      return absl::OkStatus();
    };
    auto two = [&](Tok k) {
      t->kind = k;
      pos_ += 2;
      return absl::OkStatus();
    };
    switch (c) {
      case '(':
        return one(Tok::kLParen);
      case ')':
        return one(Tok::kRParen);
      case '{':
        return one(Tok::kLBrace);
      case '}':
        return one(Tok::kRBrace);
      case '[':
        return one(Tok::kLBracket);
      case ']':
        return one(Tok::kRBracket);
      case ',':
        return one(Tok::kComma);
      case '.':
        return one(Tok::kDot);
      case '-':
        return one(Tok::kMinus);
      case '=':
        if (n == '=') return two(Tok::kEq);
        return map_.Error(t->offset, "unexpected '=': use '==' to compare");
      case '!':
        if (n == '=') return two(Tok::kNe);
        return map_.Error(t->offset, "unexpected '!': use 'not' to negate, '!=' to compare");
      case '<':
        if (n == '=') return two(Tok::kLe);
        return one(Tok::kLt);
      case '>':
        if (n == '=') return two(Tok::kGe);
        return one(Tok::kGt);
      default:
        return map_.Error(t->offset, absl::StrCat("unexpected character '", Printable(c), "'"));
    }
  }

  absl::Status Number(Token* t) {
    const std::size_t start = pos_;
    while (pos_ < src_.size() && IsDigit(src_[pos_])) ++pos_;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && IsDigit(src_[pos_ + 1])) {
      ++pos_;
      while (pos_ < src_.size() && IsDigit(src_[pos_])) ++pos_;
    }
    const std::string digits(src_.substr(start, pos_ - start));
    if (digits.size() > 32 || !absl::SimpleAtod(digits, &t->number)) {
      return map_.Error(t->offset, absl::StrCat("invalid number \"", digits, "\""));
    }
    const std::size_t unit_start = pos_;
    while (pos_ < src_.size() && IsIdentChar(src_[pos_])) ++pos_;
    const std::string_view unit = src_.substr(unit_start, pos_ - unit_start);
    t->kind = Tok::kNumber;
    if (unit.empty()) return absl::OkStatus();
    double scale = 0;
    if (unit == "ms") scale = 1;
    if (unit == "s") scale = 1000;
    if (unit == "m") scale = 60 * 1000;
    if (unit == "h") scale = 3600 * 1000;
    if (unit == "d") scale = 24 * 3600 * 1000;
    if (scale == 0) {
      return map_.Error(
          static_cast<uint32_t>(unit_start),
          absl::StrCat("unknown duration unit \"", std::string(unit), "\" (use ms, s, m, h or d)"));
    }
    t->kind = Tok::kDuration;
    t->number *= scale;
    return absl::OkStatus();
  }

  absl::Status String(Token* t) {
    ++pos_;  // opening quote
    std::string value;
    while (true) {
      if (pos_ >= src_.size() || src_[pos_] == '\n') {
        return map_.Error(t->offset, "unterminated string literal");
      }
      const char c = src_[pos_];
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c != '\\') {
        value.push_back(c);
        ++pos_;
      } else {
        absl::Status s = Escape(&value);
        if (!s.ok()) return s;
      }
      if (value.size() > max_string_bytes_) {
        return map_.Error(t->offset, absl::StrCat("string literal longer than the limit of ",
                                                  max_string_bytes_, " bytes"));
      }
    }
    t->kind = Tok::kString;
    t->text = std::move(value);
    return absl::OkStatus();
  }

  absl::Status Escape(std::string* value) {
    const uint32_t at = static_cast<uint32_t>(pos_);
    if (pos_ + 1 >= src_.size()) return map_.Error(at, "unterminated escape sequence");
    const char e = src_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case '"':
      case '\\':
        value->push_back(e);
        return absl::OkStatus();
      case 'n':
        value->push_back('\n');
        return absl::OkStatus();
      case 't':
        value->push_back('\t');
        return absl::OkStatus();
      case 'r':
        value->push_back('\r');
        return absl::OkStatus();
      case 'x': {
        const int hi = pos_ < src_.size() ? HexValue(src_[pos_]) : -1;
        const int lo = pos_ + 1 < src_.size() ? HexValue(src_[pos_ + 1]) : -1;
        if (hi < 0 || lo < 0) return map_.Error(at, "\\x needs two hex digits");
        value->push_back(static_cast<char>(hi * 16 + lo));
        pos_ += 2;
        return absl::OkStatus();
      }
      default:
        return map_.Error(at, absl::StrCat("unknown escape '\\", Printable(e),
                                           "' (use \\\" \\\\ \\n \\t \\r \\xNN, or a raw "
                                           "string r\"...\" for regexes)"));
    }
  }

  absl::Status RawString(Token* t) {
    pos_ += 2;  // r"
    const std::size_t start = pos_;
    while (pos_ < src_.size() && src_[pos_] != '"' && src_[pos_] != '\n') ++pos_;
    if (pos_ >= src_.size() || src_[pos_] != '"') {
      return map_.Error(t->offset, "unterminated raw string literal");
    }
    t->kind = Tok::kString;
    t->text = std::string(src_.substr(start, pos_ - start));
    ++pos_;
    if (t->text.size() > max_string_bytes_) {
      return map_.Error(t->offset, absl::StrCat("string literal longer than the limit of ",
                                                max_string_bytes_, " bytes"));
    }
    return absl::OkStatus();
  }

  std::string_view src_;
  const SourceMap& map_;
  std::size_t max_string_bytes_;
  std::size_t pos_ = 0;
};

}  // namespace

const char* TokName(Tok t) {
  switch (t) {
    case Tok::kEnd:
      return "end of input";
    case Tok::kIdent:
      return "identifier";
    case Tok::kString:
      return "string";
    case Tok::kNumber:
      return "number";
    case Tok::kDuration:
      return "duration";
    case Tok::kListRef:
      return "list reference";
    case Tok::kLParen:
      return "'('";
    case Tok::kRParen:
      return "')'";
    case Tok::kLBrace:
      return "'{'";
    case Tok::kRBrace:
      return "'}'";
    case Tok::kLBracket:
      return "'['";
    case Tok::kRBracket:
      return "']'";
    case Tok::kComma:
      return "','";
    case Tok::kDot:
      return "'.'";
    case Tok::kMinus:
      return "'-'";
    case Tok::kEq:
      return "'=='";
    case Tok::kNe:
      return "'!='";
    case Tok::kLt:
      return "'<'";
    case Tok::kLe:
      return "'<='";
    case Tok::kGt:
      return "'>'";
    case Tok::kGe:
      return "'>='";
  }
  return "token";
}

SourceMap::SourceMap(std::string_view name, std::string_view source)
    : name_(name), source_(source) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\n') line_starts_.push_back(static_cast<uint32_t>(i + 1));
  }
}

void SourceMap::Position(uint32_t offset, int* line, int* column) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const std::size_t index = static_cast<std::size_t>(it - line_starts_.begin()) - 1;
  *line = static_cast<int>(index + 1);
  *column = static_cast<int>(offset - line_starts_[index] + 1);
}

int SourceMap::Line(uint32_t offset) const {
  int line = 0, column = 0;
  Position(offset, &line, &column);
  return line;
}

absl::Status SourceMap::Error(uint32_t offset, std::string_view message) const {
  int line = 0, column = 0;
  Position(offset, &line, &column);
  const uint32_t start = line_starts_[line - 1];
  std::size_t end = source_.find('\n', start);
  if (end == std::string_view::npos) end = source_.size();
  std::string_view text = source_.substr(start, end - start);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  std::size_t caret = static_cast<std::size_t>(column - 1);
  // Long lines: show a window that keeps the caret in view.
  std::size_t window_start = 0;
  if (text.size() > kMaxSnippetBytes) {
    window_start = caret > kMaxSnippetBytes / 2 ? caret - kMaxSnippetBytes / 2 : 0;
    text = text.substr(window_start, kMaxSnippetBytes);
  }
  std::string snippet;
  std::string marker;
  for (std::size_t i = 0; i < text.size(); ++i) {
    snippet += (text[i] == '\t') ? std::string("\t") : Printable(text[i]);
    if (i + window_start < caret) {
      marker.append(text[i] == '\t' ? std::string("\t")
                                    : std::string(Printable(text[i]).size(), ' '));
    }
  }
  marker += '^';
  return absl::InvalidArgumentError(absl::StrCat(name_, ":", line, ":", column, ": ",
                                                 absl::string_view(message.data(), message.size()),
                                                 "\n  ", snippet, "\n  ", marker));
}

absl::Status Tokenize(std::string_view source, const SourceMap& map, std::size_t max_string_bytes,
                      std::vector<Token>* tokens) {
  return Lexer(source, map, max_string_bytes).Run(tokens);
}

}  // namespace shieldx::policy::internal
