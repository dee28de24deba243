#include "libs/detect/detector.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "libs/detect/sqli.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {

// Literal lists as "..."sv: a braced list of plain literals is an initializer_list of
// pointers, and every turn of the loop over it measured the string (strlen).
using std::string_view_literals::operator""sv;

void Report(FindingSink& sink, const ValueView& v, Category c, float confidence,
            std::string_view rule, std::size_t pos, std::size_t len) {
  if (v.document && confidence < 0.9f) confidence *= 0.6f;
  float conf = std::clamp(confidence * v.weight, 0.0f, 1.0f);
  sink.Add(c, conf, rule, *v.field, v.text, pos, len);
}

namespace {

// A spreadsheet formula: '=' then a function call over cell references ("=IF(A1>10,"big",
// "small")", "=SUMIFS(C:C,A:A,">5")"). Its comparisons and calls read as an SQL expression
// continuing the application's; the cell references (letters then digits, "$" anchors,
// ":" ranges) and the absence of comments and statement ends say what it is.
bool SpreadsheetFormula(std::string_view text) {
  if (text.size() < 4 || text.size() > 512 || text[0] != '=') return false;
  if (!IsAsciiAlpha(static_cast<unsigned char>(text[1]))) return false;
  if (Find(text, "--") != std::string_view::npos || Find(text, "/*") != std::string_view::npos ||
      Find(text, '#') != std::string_view::npos || Find(text, ';') != std::string_view::npos) {
    return false;
  }
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (i > 0 && (IsAsciiAlnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_')) {
      continue;
    }
    std::size_t j = i;
    if (j < text.size() && text[j] == '$') ++j;
    const std::size_t letters = j;
    while (j < text.size() && j - letters < 3 && IsAsciiAlpha(static_cast<unsigned char>(text[j])))
      ++j;
    if (j == letters) continue;
    if (j < text.size() && text[j] == '$') ++j;
    const std::size_t digits = j;
    while (j < text.size() && IsAsciiDigit(static_cast<unsigned char>(text[j]))) ++j;
    const bool cell =
        j > digits && (j == text.size() || !IsAsciiAlnum(static_cast<unsigned char>(text[j])));
    const bool column_range = j == digits && j < text.size() && text[j] == ':' &&
                              j + 1 < text.size() &&
                              IsAsciiAlpha(static_cast<unsigned char>(text[j + 1]));
    if (cell || column_range) return true;
  }
  return false;
}

// "delete from <name>" and nothing else (any case, spaces around): the label of a button
// that removes an item from a list.
bool DeleteFromLabel(std::string_view lower) {
  lower = TrimSpaces(lower);
  if (!StartsWith(lower, "delete from ")) return false;
  const std::string_view rest = TrimSpaces(lower.substr(12));
  if (rest.empty() || rest.size() > 32) return false;
  for (char c : rest) {
    if (!IsAsciiAlpha(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// MySQL's empty-exponent number glued to a call or a name ("1.e(ascii(...", "1.e.tables",
// "union select 1.e.user"): MySQL reads "1.e" as a number and parses on as if it were not
// there, so it hides the call or name from filters. Only before an identifier of three or
// more characters: outline numbers are followed by a letter or a roman numeral ("see 1.e(ii)",
// "1.e.g."). `from`: the first ".e" in `lower`. Returns the position of the number or npos.
std::size_t EmptyExponentGlue(std::string_view lower, std::size_t from) {
  for (std::size_t p = from; p != std::string_view::npos; p = Find(lower, ".e", p + 2)) {
    if (p == 0 || !IsAsciiDigit(static_cast<unsigned char>(lower[p - 1]))) continue;
    std::size_t d = p;
    while (d > 0 && IsAsciiDigit(static_cast<unsigned char>(lower[d - 1]))) --d;
    if (d > 0 && (IsAsciiAlnum(static_cast<unsigned char>(lower[d - 1])) || lower[d - 1] == '.' ||
                  lower[d - 1] == '_')) {
      continue;  // a version or an identifier ("v1.e.x", "2.1.e.tables")
    }
    if (p + 2 >= lower.size() || (lower[p + 2] != '(' && lower[p + 2] != '.')) continue;
    std::size_t e = p + 3;
    bool roman = true;
    while (e < lower.size() &&
           (IsAsciiAlnum(static_cast<unsigned char>(lower[e])) || lower[e] == '_')) {
      roman &= std::string_view("ivxlcdm").find(lower[e]) != std::string_view::npos;
      ++e;
    }
    if (e - (p + 3) >= 3 && !roman) return d;
  }
  return std::string_view::npos;
}

// What DetectSqli looks for in a value beyond its grammar, found in one pass: system catalog
// names (families by their common start: Access's "msys" tables, SQL Server's "tempdb." and
// "msdb." database prefixes; CatalogNameAt reads the rest), then the marks of MySQL's
// executable comments, comments, and "1.e" numbers.
constexpr std::string_view kSqlMarks[] = {"information_schema",
                                          "sysobjects",
                                          "syscolumns",
                                          "pg_catalog",
                                          "pg_shadow",
                                          "pg_toast",
                                          "sqlite_master",
                                          "sqlite_temp_master",
                                          "msys",
                                          "all_tab_columns",
                                          "sys.sql_logins",
                                          "mysql.user",
                                          "master..sysdatabases",
                                          "tempdb.",
                                          "msdb.",
                                          "/*!",
                                          "/*",
                                          ".e"};
constexpr std::size_t kNumCatalogMarks = std::size(kSqlMarks) - 3;
constexpr std::size_t kMarkExecutableComment = kNumCatalogMarks;
constexpr std::size_t kMarkComment = kNumCatalogMarks + 1;
constexpr std::size_t kMarkDotE = kNumCatalogMarks + 2;
const NeedleSet kSqlMarkSet(kSqlMarks);

// The length of the catalog name that catalog mark `mark` starts at `p` in `lower`, or 0.
std::size_t CatalogNameAt(std::string_view lower, std::size_t p, std::string_view mark) {
  const std::string_view rest = lower.substr(p + mark.size());
  if (mark == "msys") {  // Access's system tables
    for (std::string_view t : {"objects"sv, "accessobjects"sv, "accessstorage"sv, "accessxml"sv,
                               "queries"sv, "relationships"sv, "aces"sv, "modules"sv}) {
      if (StartsWith(rest, t)) return mark.size() + t.size();
    }
    return 0;
  }
  if (mark == "tempdb." || mark == "msdb.") {  // "msdb..sysjobs", "tempdb.dbo.x"
    if (StartsWith(rest, ".")) return mark.size() + 1;
    if (StartsWith(rest, "dbo.")) return mark.size() + 4;
    return 0;
  }
  return mark.size();
}

}  // namespace

void DetectSqli(const ValueView& v, DetectorScratch& scratch, FindingSink& sink) {
  // Values that cannot hold more than names and arithmetic (sqli.h) skip the grammar; the
  // catalog names and "1.e" marks are looked for in every value.
  const SqlShape shape = SqlShapeOf(v.text, v.lower);
  if (shape == SqlShape::kNone) {
    // A catalog named alone ("mysql.user", SQL Server's "msdb", Access's "MSysObjects") has
    // none of those characters: the whole value is compared (a few length comparisons on
    // other values); so has an object of a system database ("msdb..sysjobs").
    const std::string_view l = v.lower;
    auto database_object = [l](std::string_view db) {
      return StartsWith(l, db) && CatalogNameAt(l, 0, db) > 0;
    };
    if (IsSqlCatalogName(l) || (!l.empty() && (l[0] == 'm' || l[0] == 't') &&
                                (database_object("msdb.") || database_object("tempdb.")))) {
      Report(sink, v, Category::kSqli, 0.6f, "sqli.system-catalog", 0, v.lower.size());
    }
    if (std::size_t p = EmptyExponentGlue(v.lower, Find(v.lower, ".e"));
        p != std::string_view::npos) {
      Report(sink, v, Category::kSqli, 0.6f, "sqli.empty-exponent", p, v.lower.size() - p);
    }
    return;
  }
  SqliResult r =
      shape == SqlShape::kGrammar ? AnalyzeSqli(v.text, &scratch.sql_tokens) : SqliResult{};
  // "Delete from cart", "Delete from favorites": the whole value is a button's label. As SQL
  // it is a statement that breaks out of nothing (no quote, separator or comment) and names
  // one table with no condition; stacked after a break it is still judged in full.
  if (r.confidence > 0.45f && DeleteFromLabel(v.lower)) r.confidence = 0.45f;
  // One pass finds where each of the marks below first occurs.
  std::size_t first[std::size(kSqlMarks)];
  kSqlMarkSet.FirstAll(v.lower, first);
  // Names of DBMS system catalogs have no business in a parameter.
  for (std::size_t i = 0; i < kNumCatalogMarks && r.confidence < 0.6f; ++i) {
    const std::string_view mark = kSqlMarks[i];
    int tries = 0;
    for (std::size_t p = first[i]; p != std::string_view::npos && tries < 8;
         p = Find(v.lower, mark, p + 1), ++tries) {
      const std::size_t len = CatalogNameAt(v.lower, p, mark);
      if (len == 0) continue;
      bool left = p == 0 || !(std::isalnum(static_cast<unsigned char>(v.lower[p - 1])) ||
                              v.lower[p - 1] == '_');
      // A letter after a name makes another word ("pg_toaster"); digits, '_' and '.' go on
      // naming inside the catalog ("pg_toast_2619", "msysmodules2",
      // "information_schema.tables"). A name that ends in '.' ("msdb..") is followed by the
      // object it names.
      const std::size_t end = p + len;
      bool right = v.lower[end - 1] == '.' || end >= v.lower.size() ||
                   !IsAsciiAlpha(static_cast<unsigned char>(v.lower[end]));
      if (!left || !right) continue;
      r.confidence = 0.6f;
      r.rule = "sqli.system-catalog";
      r.pos = p;
      r.len = len;
      break;
    }
  }
  // A MySQL executable comment with a version ("/*!50000select") or a keyword right after
  // the mark ("/*!union*/") is MySQL-only syntax, an evasion even inside another comment
  // ("/* x/*!50000from*/"). Minifiers' kept comments ("/*! jQuery v3.7 */") have a space.
  if (r.confidence < 0.75f) {
    for (std::size_t p = first[kMarkExecutableComment]; p != std::string_view::npos;
         p = Find(v.lower, "/*!", p + 3)) {
      std::string_view rest = v.lower.substr(p + 3, 16);
      std::size_t d = 0;
      while (d < rest.size() && IsAsciiDigit(static_cast<unsigned char>(rest[d]))) ++d;
      std::size_t w = d;
      while (w < rest.size() && IsAsciiAlpha(static_cast<unsigned char>(rest[w]))) ++w;
      std::string_view word = rest.substr(d, w - d);
      bool version = (d == 5 || d == 6) && (w > d || d == rest.size() || rest[d] == ' ' ||
                                            rest[d] == '*' || rest[d] == '(');
      bool keyword = d == 0 &&
                     (w == rest.size() || !IsAsciiAlnum(static_cast<unsigned char>(rest[w]))) &&
                     (word == "union" || word == "select" || word == "from" || word == "where" ||
                      word == "and" || word == "or" || word == "order" || word == "having" ||
                      word == "limit" || word == "into" || word == "sleep" || word == "benchmark" ||
                      word == "concat" || word == "insert" || word == "update" ||
                      word == "delete" || word == "drop");
      if (version || keyword) {
        r.confidence = 0.75f;
        r.rule = "sqli.mysql-executable-comment";
        r.pos = p;
        r.len = 3 + w;
        break;
      }
    }
  }
  if (r.confidence < 0.6f) {
    if (std::size_t p = EmptyExponentGlue(v.lower, first[kMarkDotE]); p != std::string_view::npos) {
      r.confidence = 0.6f;
      r.rule = "sqli.empty-exponent";
      r.pos = p;
      r.len = v.lower.size() - p;
    }
  }
  // A keyword split by a comment glued to letters on both sides ("UNI/**/ON SEL/**/ECT"): the
  // comment is no whitespace there, so it only works where a filter strips comments before
  // the query is built, which is what the payload is written for. No text splits a word so.
  if (r.confidence < 0.8f) {
    const std::string_view l = v.lower;
    int seen = 0;
    for (std::size_t c = first[kMarkComment]; c != std::string_view::npos && seen < 16;
         c = Find(l, "/*", c + 2), ++seen) {
      const std::size_t close = Find(l, "*/", c + 2);
      if (close == std::string_view::npos || close - c > 64) break;
      std::size_t b = c;
      while (b > 0 && c - b < 12 && IsAsciiAlpha(static_cast<unsigned char>(l[b - 1]))) --b;
      std::size_t e = close + 2;
      while (e < l.size() && e - close < 14 && IsAsciiAlpha(static_cast<unsigned char>(l[e]))) ++e;
      if (b == c || e == close + 2) continue;
      char joined[24];
      const std::size_t left = c - b;
      const std::size_t right = e - close - 2;
      if (left + right > sizeof(joined)) continue;
      std::memcpy(joined, l.data() + b, left);
      std::memcpy(joined + left, l.data() + close + 2, right);
      const std::string_view word(joined, left + right);
      for (std::string_view k :
           {"union"sv, "select"sv, "from"sv, "where"sv, "insert"sv, "update"sv, "delete"sv,
            "drop"sv, "sleep"sv, "benchmark"sv, "concat"sv, "having"sv, "order"sv, "group"sv,
            "waitfor"sv, "exec"sv, "declare"sv}) {
        if (word == k) {
          r.confidence = 0.8f;
          r.rule = "sqli.comment-split-keyword";
          r.pos = b;
          r.len = e - b;
          break;
        }
      }
      if (r.confidence >= 0.8f) break;
    }
  }
  // A spreadsheet formula is weak evidence of an expression: only structure beyond one
  // (a statement, a union, a dangerous function, a quote break) keeps its weight.
  if (r.confidence > 0 && SpreadsheetFormula(v.text)) {
    const std::string_view rule(r.rule);
    if (rule == "sqli.expression" || rule == "sqli.conditional-probe" ||
        rule == "sqli.boolean-condition") {
      r.confidence *= 0.6f;
    }
  }
  // XPath injection: a quote closes the application's string, ']' its predicate, and the
  // value goes on with another location path ("'] | //user[name='admin",
  // "x' or '1'='1'] | //*['"). Brackets after closed literals (code, JSON arrays) and those
  // not followed by '|' or '/' and a path are not.
  if (r.confidence < 0.75f) {
    const std::string_view l = v.lower;
    int seen = 0;
    // Quotes before the bracket, counted as the scan moves on: an odd count of either kind
    // means a string was left open, so this ']' comes after a break ("a['x']/b[1]" is a
    // closed literal).
    std::size_t counted = 0;
    int singles = 0;
    int doubles = 0;
    for (std::size_t b = Find(l, ']'); b != std::string_view::npos && seen < 8;
         b = Find(l, ']', b + 1), ++seen) {
      for (; counted < b; ++counted) {
        singles += l[counted] == '\'';
        doubles += l[counted] == '"';
      }
      if (singles % 2 == 0 && doubles % 2 == 0) continue;
      std::size_t k = SkipSpaces(l, b + 1);
      if (k >= l.size() || (l[k] != '|' && l[k] != '/')) continue;
      const bool pipe = l[k] == '|';
      k = SkipSpaces(l, k + (pipe ? 1 : 0));
      if (k + 1 >= l.size() || l[k] != '/') continue;
      // "| //x", "| /a", "]//x", "]/*", "]/..", "]/@id", "]/name[", "]/parent::", "]/a/b";
      // not a regular expression's flags ("/["']/g, ...").
      const char c = l[k + 1];
      bool path = c == '/' || c == '*' || c == '.' || c == '@';
      if (!path && IsAsciiAlpha(static_cast<unsigned char>(c))) {
        std::size_t e = k + 1;
        while (e < l.size() &&
               (IsAsciiAlnum(static_cast<unsigned char>(l[e])) || l[e] == '-' || l[e] == '_')) {
          ++e;
        }
        path = pipe || (e < l.size() && (l[e] == '[' || l[e] == ':' || l[e] == '/' || l[e] == '('));
      }
      if (path) {
        r.confidence = 0.75f;
        r.rule = "sqli.xpath-break";
        r.pos = b;
        r.len = l.size() - b;
        break;
      }
    }
  }
  if (r.confidence > 0.05f) {
    Report(sink, v, Category::kSqli, r.confidence, r.rule, r.pos, std::min<std::size_t>(r.len, 64));
  }
}

}  // namespace shieldx::detect
