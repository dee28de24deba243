// Internal: tokens of the policy language and source positions for diagnostics.
#ifndef SHIELDX_LIBS_POLICY_LEXER_H_
#define SHIELDX_LIBS_POLICY_LEXER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace shieldx::policy::internal {

enum class Tok : uint8_t {
  kEnd,
  kIdent,     // rule, when, http, starts_with, ...
  kString,    // "..." or r"..." (text holds the unescaped value)
  kNumber,    // 12, 0.7 (number)
  kDuration,  // 60s, 500ms, 5m, 1h, 1d (number holds milliseconds)
  kListRef,   // $name (text holds name)
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kComma,
  kDot,
  kMinus,
  kEq,  // ==
  kNe,  // !=
  kLt,
  kLe,
  kGt,
  kGe,
};
const char* TokName(Tok t);

struct Token {
  Tok kind = Tok::kEnd;
  uint32_t offset = 0;  // byte offset of the first character in the source
  uint32_t length = 0;  // bytes in the source
  std::string text;     // identifier, unescaped string, list name
  double number = 0;    // number, or duration in ms
};

// Maps byte offsets to 1-based line:column and renders "<name>:<line>:<col>: <msg>" followed
// by the source line and a caret under the column.
class SourceMap {
 public:
  SourceMap(std::string_view name, std::string_view source);
  void Position(uint32_t offset, int* line, int* column) const;
  int Line(uint32_t offset) const;
  absl::Status Error(uint32_t offset, std::string_view message) const;

 private:
  std::string name_;
  std::string_view source_;
  std::vector<uint32_t> line_starts_;
};

// Splits `source` into tokens, ending with kEnd. Comments run from '#' or "//" to the end of
// the line. String literals longer than `max_string_bytes` are rejected.
absl::Status Tokenize(std::string_view source, const SourceMap& map, std::size_t max_string_bytes,
                      std::vector<Token>* tokens);

}  // namespace shieldx::policy::internal

#endif  // SHIELDX_LIBS_POLICY_LEXER_H_
