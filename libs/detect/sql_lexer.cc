#include "libs/detect/sql_lexer.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect::sql {
namespace {

constexpr bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAlpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

// Space and word-character classes as one table (the lexer asks for every byte).
enum : uint8_t { kClassSpace = 1, kClassWord = 2 };
constexpr std::array<uint8_t, 256> kClass = [] {
  std::array<uint8_t, 256> t{};
  for (int i = 0; i < 256; ++i) {
    const auto c = static_cast<unsigned char>(i);
    // SQL Server reads every control byte from 0x01 as white space ("union%01select").
    if (c == ' ' || (c >= 0x01 && c < 0x20) || c == 0xA0) t[i] |= kClassSpace;
    if (IsAlpha(c) || IsDigit(c) || c == '_' || c == '$' || c >= 0x80) t[i] |= kClassWord;
  }
  return t;
}();
inline bool IsSpace(unsigned char c) { return kClass[c] & kClassSpace; }
inline bool IsWordChar(unsigned char c) { return kClass[c] & kClassWord; }
inline bool IsHex(unsigned char c) {
  return IsDigit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

// Lowercases into `buf` (ASCII); returns false when longer than the buffer.
bool LowerInto(std::string_view s, char* buf, std::size_t cap, std::string_view* out) {
  if (s.size() > cap) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  *out = std::string_view(buf, s.size());
  return true;
}

const absl::flat_hash_map<std::string_view, Kw>& Keywords() {
  static const auto* map = new absl::flat_hash_map<std::string_view, Kw>{
      {"and", Kw::kAnd},
      {"or", Kw::kOr},
      {"xor", Kw::kXor},
      {"not", Kw::kNot},
      {"like", Kw::kLike},
      {"rlike", Kw::kRlike},
      {"regexp", Kw::kRegexp},
      {"sounds", Kw::kSounds},
      {"is", Kw::kIs},
      {"in", Kw::kIn},
      {"between", Kw::kBetween},
      {"div", Kw::kDiv},
      {"mod", Kw::kMod},
      {"glob", Kw::kGlob},
      {"ilike", Kw::kIlike},
      {"escape", Kw::kEscape},
      {"collate", Kw::kCollate},
      {"null", Kw::kNull},
      {"true", Kw::kTrue},
      {"false", Kw::kFalse},
      {"unknown", Kw::kUnknown},
      {"default", Kw::kDefault},
      {"union", Kw::kUnion},
      {"intersect", Kw::kIntersect},
      {"except", Kw::kExcept},
      {"minus", Kw::kMinus},
      {"from", Kw::kFrom},
      {"where", Kw::kWhere},
      {"group", Kw::kGroup},
      {"order", Kw::kOrder},
      {"by", Kw::kBy},
      {"having", Kw::kHaving},
      {"limit", Kw::kLimit},
      {"offset", Kw::kOffset},
      {"into", Kw::kInto},
      {"outfile", Kw::kOutfile},
      {"dumpfile", Kw::kDumpfile},
      {"procedure", Kw::kProcedure},
      {"as", Kw::kAs},
      {"join", Kw::kJoin},
      {"inner", Kw::kInner},
      {"outer", Kw::kOuter},
      {"cross", Kw::kCross},
      {"straight_join", Kw::kStraightJoin},
      {"natural", Kw::kNatural},
      {"on", Kw::kOn},
      {"using", Kw::kUsing},
      {"all", Kw::kAll},
      {"distinct", Kw::kDistinct},
      {"distinctrow", Kw::kDistinct},
      {"top", Kw::kTop},
      {"values", Kw::kValues},
      {"with", Kw::kWith},
      {"for", Kw::kFor},
      {"asc", Kw::kAsc},
      {"desc", Kw::kDesc},
      {"case", Kw::kCase},
      {"when", Kw::kWhen},
      {"then", Kw::kThen},
      {"else", Kw::kElse},
      {"end", Kw::kEnd},
      {"exists", Kw::kExists},
      {"interval", Kw::kInterval},
      {"binary", Kw::kBinary},
      {"table", Kw::kTable},
      {"database", Kw::kDatabase},
      {"delay", Kw::kDelay},
      {"time", Kw::kTime},
      {"try", Kw::kTry},
      {"catch", Kw::kCatch},
      {"tran", Kw::kTran},
      {"transaction", Kw::kTran},
      {"lock", Kw::kLock},
      {"share", Kw::kShare},
      {"mode", Kw::kMode},
      {"nowait", Kw::kNowait},
      {"percent", Kw::kPercent},
      {"select", Kw::kSelect},
      {"insert", Kw::kInsert},
      {"update", Kw::kUpdate},
      {"delete", Kw::kDelete},
      {"drop", Kw::kDrop},
      {"create", Kw::kCreate},
      {"alter", Kw::kAlter},
      {"truncate", Kw::kTruncate},
      {"exec", Kw::kExec},
      {"execute", Kw::kExecute},
      {"declare", Kw::kDeclare},
      {"set", Kw::kSet},
      {"waitfor", Kw::kWaitfor},
      {"shutdown", Kw::kShutdown},
      {"begin", Kw::kBegin},
      {"if", Kw::kIf},
      {"call", Kw::kCall},
      {"replace", Kw::kReplace},
      {"grant", Kw::kGrant},
      {"revoke", Kw::kRevoke},
      {"load", Kw::kLoad},
      {"handler", Kw::kHandler},
      {"show", Kw::kShow},
      {"print", Kw::kPrint},
      {"return", Kw::kReturn},
      {"while", Kw::kWhile},
      {"goto", Kw::kGoto},
      {"open", Kw::kOpen},
      {"fetch", Kw::kFetch},
      {"merge", Kw::kMerge},
      {"copy", Kw::kCopy},
      {"prepare", Kw::kPrepare},
      {"do", Kw::kDo},
      {"use", Kw::kUse},
      {"rename", Kw::kRename},
      {"kill", Kw::kKill},
      {"dbcc", Kw::kDbcc},
      {"bulk", Kw::kBulk},
      {"reconfigure", Kw::kReconfigure},
      {"elseif", Kw::kElseif},
      {"commit", Kw::kCommit},
      {"rollback", Kw::kRollback},
  };
  return *map;
}

// Builtin functions across MySQL, PostgreSQL, SQL Server, Oracle, SQLite, Informix, DB2.
constexpr std::string_view kFunctions[] = {
    "abs",
    "acos",
    "aes_decrypt",
    "aes_encrypt",
    "array_agg",
    "ascii",
    "asin",
    "atan",
    "avg",
    "benchmark",
    "bin",
    "bit_and",
    "bit_length",
    "bit_or",
    "cast",
    "ceil",
    "ceiling",
    "char",
    "char_length",
    "character_length",
    "charindex",
    "chr",
    "coalesce",
    "col_name",
    "collation",
    "compress",
    "concat",
    "concat_ws",
    "connection_id",
    "conv",
    "convert",
    "cos",
    "cot",
    "count",
    "crc32",
    "crypt_key",
    "ctxsys",
    "curdate",
    "current_database",
    "current_date",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "curtime",
    "database",
    "datalength",
    "date",
    "date_format",
    "datediff",
    "db_name",
    "dbms_lock",
    "dbms_pipe",
    "dbms_utility",
    "dbms_xmlgen",
    "decode",
    "degrees",
    "des_encrypt",
    "difference",
    "elt",
    "encode",
    "encrypt",
    "exp",
    "export_set",
    "extractvalue",
    "field",
    "file_name",
    "filetoblob",
    "filetoclob",
    "find_in_set",
    "floor",
    "format",
    "found_rows",
    "from_base64",
    "generate_series",
    "geometrycollection",
    "get_host_address",
    "get_lock",
    "getdate",
    "greatest",
    "group_concat",
    "gtid_subset",
    "has_dbaccess",
    "hex",
    "host_name",
    "iif",
    "ifnull",
    "inet_aton",
    "instr",
    "is_srvrolemember",
    "isnull",
    "json_arrayagg",
    "json_extract",
    "json_keys",
    "last_insert_id",
    "lcase",
    "least",
    "left",
    "len",
    "length",
    "linestring",
    "listagg",
    "ln",
    "load_extension",
    "load_file",
    "lo_import",
    "locate",
    "log",
    "log10",
    "log2",
    "lower",
    "lpad",
    "ltrim",
    "make_set",
    "master_pos_wait",
    "max",
    "md5",
    "mid",
    "min",
    "multilinestring",
    "multipoint",
    "multipolygon",
    "name_const",
    "nchar",
    "newid",
    "now",
    "nullif",
    "nvl",
    "object_id",
    "object_name",
    "oct",
    "octet_length",
    "openquery",
    "opendatasource",
    "openrowset",
    "ord",
    "patindex",
    "pg_ls_dir",
    "pg_read_file",
    "pg_sleep",
    "pi",
    "polygon",
    "position",
    "pow",
    "power",
    "query_to_xml",
    "quote",
    "quotename",
    "radians",
    "rand",
    "randomblob",
    "receive_message",
    "regexp_like",
    "regexp_replace",
    "regexp_substr",
    "regexp_substring",
    "release_lock",
    "repeat",
    "replace",
    "replicate",
    "reverse",
    "right",
    "round",
    "row_count",
    "rownum",
    "rpad",
    "rtrim",
    "schema",
    "schema_name",
    "serverproperty",
    "session_user",
    "sha",
    "sha1",
    "sha2",
    "sign",
    "sin",
    "sleep",
    "soundex",
    "space",
    "sp_executesql",
    "sp_makewebtask",
    "sp_oacreate",
    "sp_oamethod",
    "sp_password",
    "sqlid_to_sqlhash",
    "sqlite_version",
    "sqrt",
    "st_latfromgeohash",
    "std",
    "stddev",
    "str",
    "strcmp",
    "string_agg",
    "stuff",
    "subdate",
    "substr",
    "substring",
    "substring_index",
    "sum",
    "suser_name",
    "suser_sname",
    "sys_eval",
    "sys_exec",
    "sysdate",
    "system_user",
    "table_name",
    "tan",
    "to_base64",
    "to_char",
    "to_date",
    "to_number",
    "trim",
    "typeof",
    "ucase",
    "uncompress",
    "unhex",
    "unicode",
    "updatexml",
    "upper",
    "user",
    "user_name",
    "utc_date",
    "utc_time",
    "utc_timestamp",
    "utl_http",
    "utl_inaddr",
    "uuid",
    "version",
    "waitfor",
    "weight_string",
    "xmlagg",
    "xmltype",
    "xp_cmdshell",
    "xp_dirtree",
    "xp_regread",
    "zeroblob",
    "dateadd",
    "datename",
    "datepart",
    "getutcdate",
    "sysdatetime",
    "trunc",
    "nvl2",
    "row_number",
    "rank",
    "dense_rank",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "isnumeric",
    "try_cast",
    "try_convert",
    "json_value",
    "json_query",
    "string_split",
    "translate",
    "initcap",
    "if",
    "exists",
};

// Functions a legitimate parameter value has no reason to call.
constexpr std::string_view kDangerousFunctions[] = {
    "benchmark",
    "sleep",
    "pg_sleep",
    "dbms_lock",
    "dbms_pipe",
    "receive_message",
    "extractvalue",
    "updatexml",
    "load_file",
    "xp_cmdshell",
    "xp_dirtree",
    "xp_regread",
    "sp_executesql",
    "sp_oacreate",
    "sp_oamethod",
    "sp_makewebtask",
    "openrowset",
    "opendatasource",
    "openquery",
    "utl_inaddr",
    "utl_http",
    "get_host_address",
    "pg_read_file",
    "pg_ls_dir",
    "lo_import",
    "load_extension",
    "lo_get",
    "lo_export",
    "randomblob",
    "filetoblob",
    "filetoclob",
    "sys_eval",
    "sys_exec",
    "name_const",
    "gtid_subset",
    "geometrycollection",
    "multipolygon",
    "multilinestring",
    "multipoint",
    "polygon",
    "linestring",
    "xmltype",
    "dbms_xmlgen",
    "ctxsys",
    "query_to_xml",
    "master_pos_wait",
    "get_lock",
    "json_keys",
    "st_latfromgeohash",
    "sqlid_to_sqlhash",
    "dbms_utility",
    "generate_series",
    "crypt_key",
    "is_srvrolemember",
    "has_dbaccess",
    "serverproperty",
    "sqlite_version",
    "make_set",
    "export_set",
    "elt",
};

constexpr std::string_view kCatalogs[] = {
    "information_schema",
    "sysobjects",
    "syscolumns",
    "sysdatabases",
    "sysusers",
    "sysibm",
    "systables",
    "syscat",
    "pg_catalog",
    "pg_tables",
    "pg_user",
    "pg_shadow",
    "pg_database",
    "mysql",
    "all_tables",
    "all_tab_columns",
    "all_tab_tables",
    "user_tables",
    "dba_users",
    "sys",
    "master",
    "msysobjects",
    "msysaccessobjects",
    "sqlite_master",
    "sqlite_temp_master",
    "rdb$fields",
    "rdb$types",
    "rdb$collations",
    "rdb$functions",
    "rdb$relations",
    "dual",
    "v$version",
    "sysmaster",
    "syscolumns",
    "schemata",
};

// A set of lower-case names, asked about every word of a value: the names' shapes
// (WordShapes) answer most words (column names, numbers, prose) without hashing.
class NameSet {
 public:
  template <std::size_t N>
  explicit NameSet(const std::string_view (&items)[N]) {
    for (std::string_view v : items) {
      set_.insert(v);
      shapes_.Add(v);
    }
  }
  bool Contains(std::string_view name) const {
    if (!shapes_.Possible(name)) return false;
    char buf[40];
    std::string_view lower;
    if (!LowerInto(name, buf, sizeof(buf), &lower)) return false;
    return set_.contains(lower);
  }

 private:
  absl::flat_hash_set<std::string_view> set_;
  WordShapes shapes_;
};

}  // namespace

namespace {

// Which first and last letters the keywords of each length have (text_util.h).
const WordShapes& Shapes() {
  static const auto* shapes = [] {
    auto* w = new WordShapes();
    for (const auto& [kw, unused] : Keywords()) w->Add(kw);
    return w;
  }();
  return *shapes;
}

}  // namespace

Kw KeywordOf(std::string_view word) {
  if (!Shapes().Possible(word)) return Kw::kNone;
  char buf[24];  // the longest keyword has 13 bytes
  std::string_view lower;
  if (!LowerInto(word, buf, sizeof(buf), &lower)) return Kw::kNone;
  const auto& map = Keywords();
  auto it = map.find(lower);
  return it == map.end() ? Kw::kNone : it->second;
}

bool IsSqlFunction(std::string_view name) {
  static const auto* set = new NameSet(kFunctions);
  return set->Contains(name);
}

bool IsDangerousSqlFunction(std::string_view name) {
  static const auto* set = new NameSet(kDangerousFunctions);
  return set->Contains(name);
}

bool IsSystemCatalog(std::string_view name) {
  static const auto* set = new NameSet(kCatalogs);
  return set->Contains(name);
}

namespace {

constexpr std::size_t kMaxNestedCommentBytes = 256;

// PostgreSQL nests block comments ("/* /* */ */"); MySQL ends at the first "*/". Payloads
// such as "union/*/**/*/select" are written for the nesting reading. Returns the position of
// the closing "*/" when the comment at `i` nests and closes, npos otherwise.
std::size_t NestedCommentEnd(std::string_view s, std::size_t i) {
  int depth = 1;
  bool nested = false;
  // Bounded: a comment nesting payload is short, and every "/*" starts a scan.
  const std::size_t end = std::min(s.size(), i + kMaxNestedCommentBytes);
  for (std::size_t j = i + 2; j + 1 < end; ++j) {
    if (s[j] == '/' && s[j + 1] == '*') {
      ++depth;
      nested = true;
      ++j;
    } else if (s[j] == '*' && s[j + 1] == '/') {
      if (--depth == 0) return nested ? j : std::string_view::npos;
      ++j;
    }
  }
  return std::string_view::npos;
}

}  // namespace

bool Lex(std::string_view s, char context, std::size_t max_tokens, std::vector<Token>* out) {
  out->clear();
  const std::size_t n = s.size();
  std::size_t i = 0;
  bool after_comment = false;
  bool in_exec_comment = false;  // inside MySQL /*! ... */
  // Inlined at each of its ~20 call sites: one call per token was a tenth of the lexer's cost.
  auto push = [&](Tok t, std::size_t start, std::size_t end, uint8_t op = 0, Kw kw = Kw::kNone)
                  __attribute__((always_inline))
                      ->bool {
    if (out->size() >= max_tokens) return false;
    Token tok;
    tok.type = t;
    tok.kw = kw;
    tok.op = op;
    tok.after_comment = after_comment;
    tok.exec_comment = in_exec_comment;
    tok.pos = static_cast<uint32_t>(start);
    tok.len = static_cast<uint32_t>(end - start);
    out->push_back(tok);
    after_comment = false;
    return true;
  };

  const bool backslash_escapes = context != kQuoteBackslashLiteral;
  if (!backslash_escapes) context = '\'';
  if (context == '\'' || context == '"' || context == '`') {
    // The application's literal: up to the first unescaped quote of that kind.
    std::size_t j = 0;
    while (j < n && s[j] != context) {
      if (backslash_escapes && s[j] == '\\' && j + 1 < n) ++j;
      ++j;
    }
    if (j >= n) return true;  // no break possible: nothing to analyse
    if (!push(Tok::kPrefix, 0, j)) return false;
    i = j + 1;
  }

  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    // Fast path for the common token, a word: a letter, '_' or '$' can only start a word
    // here unless it prefixes a string (N'..', X'..', B'..', E'..'), the one earlier
    // branch below that a letter can take. Same token as the general path.
    if ((IsAlpha(c) || c == '_' || c == '$') && !(i + 1 < n && s[i + 1] == '\'' &&
                                                  (c == 'N' || c == 'n' || c == 'X' || c == 'x' ||
                                                   c == 'B' || c == 'b' || c == 'E' || c == 'e'))) {
      std::size_t start = i;
      while (i < n && IsWordChar(static_cast<unsigned char>(s[i]))) ++i;
      Kw kw = KeywordOf(s.substr(start, i - start));
      if (!push(Tok::kWord, start, i, 0, kw)) return false;
      continue;
    }
    // Punctuation that is a token of its own whatever surrounds it: no branch below reads it
    // differently (JSON and query strings are full of it).
    {
      Tok single = Tok::kOther;
      bool simple = true;
      switch (c) {
        case ',':
          single = Tok::kComma;
          break;
        case ';':
          single = Tok::kSemicolon;
          break;
        case '(':
          single = Tok::kLParen;
          break;
        case ')':
          single = Tok::kRParen;
          break;
        case '{':
        case '}':
        case ']':
          break;
        case ':':  // not ":=", "::" or a ":name" bind variable
          simple = !(i + 1 < n && (s[i + 1] == '=' || s[i + 1] == ':' ||
                                   (IsWordChar(static_cast<unsigned char>(s[i + 1])) &&
                                    !IsDigit(static_cast<unsigned char>(s[i + 1])))));
          break;
        default:
          simple = false;
      }
      if (simple) {
        if (!push(single, i, i + 1)) return false;
        ++i;
        continue;
      }
    }
    // Comments.
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      if (i + 2 < n && s[i + 2] == '!') {
        // MySQL executable comment: its content is code. Skip the version number.
        // The version has five or six digits; "/*!1,2" starts with code (a number), while
        // "/*!5000select" is a mistyped version before a keyword.
        i += 3;
        std::size_t d = 0;
        while (i + d < n && d < 7 && IsDigit(static_cast<unsigned char>(s[i + d]))) ++d;
        bool letter_follows = i + d < n && IsAlpha(static_cast<unsigned char>(s[i + d]));
        if (d == 5 || d == 6 || (d > 0 && d < 7 && letter_follows)) i += d;
        in_exec_comment = true;
        after_comment = true;
        continue;
      }
      std::size_t end = NestedCommentEnd(s, i);
      if (end == std::string_view::npos) end = s.find("*/", i + 2);
      if (end == std::string_view::npos) {
        if (!push(Tok::kComment, i, n, 2)) return false;
        i = n;
        break;
      }
      if (!push(Tok::kComment, i, end + 2, 1)) return false;
      after_comment = true;
      i = end + 2;
      continue;
    }
    if (c == '*' && i + 1 < n && s[i + 1] == '/' && in_exec_comment) {
      in_exec_comment = false;
      after_comment = true;
      i += 2;
      continue;
    }
    // PostgreSQL JSON path operators #> #>> #- before a string operand are not comments.
    if (c == '#' && i + 1 < n && (s[i + 1] == '>' || s[i + 1] == '-')) {
      std::size_t len = (s[i + 1] == '>' && i + 2 < n && s[i + 2] == '>') ? 3 : 2;
      std::size_t k = i + len;
      while (k < n && s[k] == ' ') ++k;
      if (k < n && s[k] == '\'') {
        if (!push(Tok::kOperator, i, i + len, s[i + 1] == '>' ? kOpArrow : kOpArith)) return false;
        i += len;
        continue;
      }
    }
    if ((c == '-' && i + 1 < n && s[i + 1] == '-') || c == '#') {
      std::size_t end = s.find('\n', i);
      if (end == std::string_view::npos) end = n;
      if (!push(Tok::kComment, i, end, 0)) return false;
      after_comment = true;
      i = end;
      continue;
    }
    // Strings.
    bool prefixed = (c == 'N' || c == 'n' || c == 'X' || c == 'x' || c == 'B' || c == 'b' ||
                     c == 'E' || c == 'e') &&
                    i + 1 < n && s[i + 1] == '\'';
    if (c == '\'' || c == '"' || prefixed) {
      std::size_t start = i;
      if (prefixed) ++i;
      char q = s[i];
      std::size_t j = i + 1;
      bool closed = false;
      while (j < n) {
        if (s[j] == '\\' && j + 1 < n) {
          j += 2;
          continue;
        }
        if (s[j] == q) {
          if (j + 1 < n && s[j + 1] == q) {  // doubled quote
            j += 2;
            continue;
          }
          closed = true;
          break;
        }
        ++j;
      }
      if (!closed) {
        if (!push(Tok::kOpenString, start, n)) return false;
        i = n;
        break;
      }
      if (!push(Tok::kString, start, j + 1)) return false;
      i = j + 1;
      continue;
    }
    if (c == '`') {
      std::size_t end = s.find('`', i + 1);
      if (end == std::string_view::npos) end = n - 1;
      if (!push(Tok::kWord, i, end + 1)) return false;
      i = end + 1;
      continue;
    }
    if (c == '[') {
      // SQL Server bracketed identifier: [dbo], [name]
      // (Only a ']' within 130 bytes counts: searched no further, or a value of '['s is
      // quadratic.)
      std::size_t end = s.substr(0, std::min(n, i + 130)).find(']', i + 1);
      if (end != std::string_view::npos && end - i < 130 && end > i + 1) {
        bool ident = true;
        for (std::size_t k = i + 1; k < end; ++k) {
          unsigned char d = static_cast<unsigned char>(s[k]);
          if (!(IsWordChar(d) || d == ' ' || d == '.' || d == '-')) ident = false;
        }
        if (ident) {
          if (!push(Tok::kWord, i, end + 1)) return false;
          i = end + 1;
          continue;
        }
      }
      if (!push(Tok::kOther, i, i + 1)) return false;
      ++i;
      continue;
    }
    // MySQL reads "1.e" before '(', ',', ')' or '.' as a number with an empty exponent and
    // then parses on as if it were not there: "1.e(ascii 1.e(substring(..." and
    // "1.e.table_name" hide keywords and names from filters. Treated like a comment.
    if (IsDigit(c) && (i == 0 || !IsWordChar(static_cast<unsigned char>(s[i - 1])))) {
      std::size_t k = i;
      while (k < n && IsDigit(static_cast<unsigned char>(s[k]))) ++k;
      if (k + 2 < n && s[k] == '.' && (s[k + 1] == 'e' || s[k + 1] == 'E') &&
          (s[k + 2] == '(' || s[k + 2] == ',' || s[k + 2] == ')' || s[k + 2] == '.')) {
        after_comment = true;
        i = k + 2;
        continue;
      }
    }
    // Numbers: 123, 1.5, .5, 1e5, 0x1F, 0b101; "1st" is a word.
    if (IsDigit(c) || (c == '.' && i + 1 < n && IsDigit(static_cast<unsigned char>(s[i + 1])))) {
      std::size_t start = i;
      if (c == '0' && i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X') && i + 2 < n &&
          IsHex(static_cast<unsigned char>(s[i + 2]))) {
        i += 2;
        while (i < n && IsHex(static_cast<unsigned char>(s[i]))) ++i;
      } else if (c == '0' && i + 1 < n && (s[i + 1] == 'b' || s[i + 1] == 'B') && i + 2 < n &&
                 (s[i + 2] == '0' || s[i + 2] == '1')) {
        i += 2;
        while (i < n && (s[i] == '0' || s[i] == '1')) ++i;
      } else {
        while (i < n && IsDigit(static_cast<unsigned char>(s[i]))) ++i;
        if (i < n && s[i] == '.') {
          ++i;
          while (i < n && IsDigit(static_cast<unsigned char>(s[i]))) ++i;
        }
        if (i + 1 < n && (s[i] == 'e' || s[i] == 'E') &&
            (IsDigit(static_cast<unsigned char>(s[i + 1])) ||
             ((s[i + 1] == '+' || s[i + 1] == '-') && i + 2 < n &&
              IsDigit(static_cast<unsigned char>(s[i + 2]))))) {
          i += 2;
          while (i < n && IsDigit(static_cast<unsigned char>(s[i]))) ++i;
        }
      }
      // A number running into letters is a word ("1st", "3d"); after a decimal point the
      // letters start a new token ("1.union" is 1. followed by UNION).
      bool has_dot = s.substr(start, i - start).find('.') != std::string_view::npos;
      if (!has_dot && i < n && (IsAlpha(static_cast<unsigned char>(s[i])) || s[i] == '_')) {
        while (i < n && IsWordChar(static_cast<unsigned char>(s[i]))) ++i;
        if (!push(Tok::kWord, start, i)) return false;
        continue;
      }
      // "35% cotton and 65% polyester": a percentage before a word is prose, a word itself;
      // modulo takes an operand, not a glued '%' and a space.
      if (i + 2 < n && s[i] == '%' && (s[i + 1] == ' ' || s[i + 1] == '\t')) {
        std::size_t w = i + 1;
        while (w < n && (s[w] == ' ' || s[w] == '\t')) ++w;
        if (w < n && IsAlpha(static_cast<unsigned char>(s[w]))) {
          if (!push(Tok::kWord, start, i + 1)) return false;
          ++i;
          continue;
        }
      }
      if (!push(Tok::kNumber, start, i)) return false;
      continue;
    }
    // MySQL's \N is NULL.
    if (c == '\\' && i + 1 < n && s[i + 1] == 'N') {
      if (!push(Tok::kWord, i, i + 2, 0, Kw::kNull)) return false;
      i += 2;
      continue;
    }
    if (IsWordChar(c)) {
      std::size_t start = i;
      while (i < n && IsWordChar(static_cast<unsigned char>(s[i]))) ++i;
      Kw kw = KeywordOf(s.substr(start, i - start));
      if (!push(Tok::kWord, start, i, 0, kw)) return false;
      continue;
    }
    // PostgreSQL containment / JSON path operators: @> @? and @@ before a non-name.
    if (c == '@' && i + 1 < n &&
        (s[i + 1] == '>' || s[i + 1] == '?' ||
         (s[i + 1] == '@' && (i + 2 >= n || !IsWordChar(static_cast<unsigned char>(s[i + 2])))))) {
      if (!push(Tok::kOperator, i, i + 2, kOpCompare)) return false;
      i += 2;
      continue;
    }
    // A lone '@' between operands is PostgreSQL's absolute value / containment shorthand.
    // After a keyword ("or@ group") it is MySQL's empty-named user variable.
    if (c == '@' && (i + 1 >= n || IsSpace(static_cast<unsigned char>(s[i + 1]))) &&
        !out->empty() &&
        (out->back().type == Tok::kString || out->back().type == Tok::kNumber ||
         out->back().type == Tok::kRParen ||
         (out->back().type == Tok::kWord && out->back().kw == Kw::kNone))) {
      if (!push(Tok::kOperator, i, i + 1, kOpArith)) return false;
      ++i;
      continue;
    }
    if (c == '@') {
      std::size_t start = i;
      ++i;
      if (i < n && s[i] == '@') ++i;
      if (i < n && (s[i] == '\'' || s[i] == '"' || s[i] == '`')) {
        char q = s[i];
        std::size_t end = s.find(q, i + 1);
        i = end == std::string_view::npos ? n : end + 1;
      } else {
        while (i < n && (IsWordChar(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      }
      if (!push(Tok::kVariable, start, i)) return false;
      continue;
    }
    // A '+' glued to a keyword ("1'+or+'1'='1", "-1+union+select+1") is a form-encoded space
    // that reached a context which does not decode it; SQL has no unary '+' before keywords.
    if (c == '+' && i + 1 < n && IsAlpha(static_cast<unsigned char>(s[i + 1])) && i > 0 &&
        !IsSpace(static_cast<unsigned char>(s[i - 1]))) {
      std::size_t k = i + 1;
      while (k < n && IsWordChar(static_cast<unsigned char>(s[k]))) ++k;
      Kw kw = KeywordOf(s.substr(i + 1, k - i - 1));
      if (kw == Kw::kOr || kw == Kw::kAnd || kw == Kw::kUnion || kw == Kw::kSelect ||
          kw == Kw::kOrder || kw == Kw::kGroup || kw == Kw::kHaving || kw == Kw::kWhere ||
          kw == Kw::kFrom || kw == Kw::kXor || kw == Kw::kLike || kw == Kw::kLimit ||
          kw == Kw::kWaitfor || kw == Kw::kDelay || kw == Kw::kExec || kw == Kw::kExecute ||
          kw == Kw::kDeclare || kw == Kw::kDrop || kw == Kw::kShutdown) {
        ++i;
        continue;
      }
    }
    // "waitfor+delay+'0:0:5'", "exec+xp_cmdshell+'dir'": the same space before the string
    // argument of a keyword or a T-SQL system procedure (neither is an operand of a
    // concatenation).
    if (c == '+' && i + 1 < n && (s[i + 1] == '\'' || s[i + 1] == '"') && !out->empty()) {
      const Token& prev = out->back();
      const char p0 = static_cast<char>(s[prev.pos] | 0x20);
      const bool procedure = prev.type == Tok::kWord && prev.len > 3 && (p0 == 'x' || p0 == 's') &&
                             (s[prev.pos + 1] | 0x20) == 'p' && s[prev.pos + 2] == '_';
      if (prev.kw == Kw::kDelay || prev.kw == Kw::kTime || procedure) {
        ++i;
        continue;
      }
    }
    // Operators of three and two characters (longest first).
    if (i + 1 < n) {
      const char d = s[i + 1];
      std::size_t len = 0;
      uint8_t op = 0;
      if (c == '<' && d == '=' && i + 2 < n && s[i + 2] == '>') {
        len = 3, op = kOpCompare;  // <=>
      } else if (c == '-' && d == '>' && i + 2 < n && s[i + 2] == '>') {
        len = 3, op = kOpArrow;  // ->>
      } else {
        switch (c) {
          case '<':  // <> <= <@ <<
            if (d == '>' || d == '=' || d == '@') len = 2, op = kOpCompare;
            if (d == '<') len = 2, op = kOpArith;
            break;
          case '>':  // >= >>
            if (d == '=') len = 2, op = kOpCompare;
            if (d == '>') len = 2, op = kOpArith;
            break;
          case '!':  // != !< !>
            if (d == '=' || d == '<' || d == '>') len = 2, op = kOpCompare;
            break;
          case '=':  // ==
          case '^':  // ^=
            if (d == '=') len = 2, op = kOpCompare;
            break;
          case '?':  // ?| ?&
            if (d == '|' || d == '&') len = 2, op = kOpCompare;
            break;
          case '|':  // ||
          case '&':  // &&
            if (d == static_cast<char>(c)) len = 2, op = kOpLogic;
            break;
          case ':':  // := ::
            if (d == '=') len = 2, op = kOpAssign;
            if (d == ':') len = 2, op = kOpCast;
            break;
          case '-':  // ->
            if (d == '>') len = 2, op = kOpArrow;
            break;
          default:
            break;
        }
      }
      if (len > 0) {
        if (!push(Tok::kOperator, i, i + len, op)) return false;
        i += len;
        continue;
      }
    }
    if (c == ':' && i + 1 < n && IsWordChar(static_cast<unsigned char>(s[i + 1])) &&
        !IsDigit(static_cast<unsigned char>(s[i + 1]))) {
      std::size_t start = i++;
      while (i < n && IsWordChar(static_cast<unsigned char>(s[i]))) ++i;
      if (!push(Tok::kVariable, start, i)) return false;
      continue;
    }
    // PostgreSQL's JSON key-exists operator: '{"a":1}' ? 'a'.
    if (c == '?') {
      std::size_t k = i + 1;
      while (k < n && s[k] == ' ') ++k;
      if (k < n && s[k] == '\'' && !out->empty() &&
          (out->back().type == Tok::kString || out->back().type == Tok::kWord)) {
        if (!push(Tok::kOperator, i, i + 1, kOpCompare)) return false;
        ++i;
        continue;
      }
    }
    switch (c) {
      case '=':
      case '<':
      case '>':
        if (!push(Tok::kOperator, i, i + 1, kOpCompare)) return false;
        break;
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
      case '^':
      case '&':
      case '|':
      case '~':
        if (!push(Tok::kOperator, i, i + 1, kOpArith)) return false;
        break;
      case '!':
        if (!push(Tok::kOperator, i, i + 1, kOpNot)) return false;
        break;
      case '(':
        if (!push(Tok::kLParen, i, i + 1)) return false;
        break;
      case ')':
        if (!push(Tok::kRParen, i, i + 1)) return false;
        break;
      case ',':
        if (!push(Tok::kComma, i, i + 1)) return false;
        break;
      case ';':
        if (!push(Tok::kSemicolon, i, i + 1)) return false;
        break;
      case '.':
        if (!push(Tok::kDot, i, i + 1)) return false;
        break;
      default:
        if (!push(Tok::kOther, i, i + 1)) return false;
    }
    ++i;
  }
  return true;
}

}  // namespace shieldx::detect::sql
