// A SQL tokenizer tolerant enough for fragments: it understands the lexical syntax shared by
// MySQL, PostgreSQL, SQL Server, Oracle and SQLite (strings with doubled and backslash
// escapes, N'..'/X'..'/B'..' literals, 0x/0b numbers, @vars and @@system vars, `quoted`
// and [bracketed] identifiers, --, # and /* */ comments, MySQL /*! executable comments whose
// content is code) and reports comments as tokens so the analyser can see truncation and
// comment-as-whitespace evasion.
//
// Lexing starts either in code (context 0) or inside a string literal or `quoted` name opened
// by the application (context '\'', '"' or '`'): then everything up to the first unescaped
// quote is the application's literal (token kPrefix) and the attacker's code starts after it.
#ifndef SHIELDX_LIBS_DETECT_SQL_LEXER_H_
#define SHIELDX_LIBS_DETECT_SQL_LEXER_H_

#include <cstdint>
#include <string_view>
#include <vector>

namespace shieldx::detect::sql {

enum class Tok : uint8_t {
  kPrefix,  // application literal before the break (quote contexts only)
  kNumber,
  kString,      // closed string literal
  kOpenString,  // string literal running to the end of input
  kWord,        // identifier or keyword (see Kw)
  kVariable,    // @x, @@x, :x, $1
  kOperator,    // see Op
  kLParen,
  kRParen,
  kComma,
  kSemicolon,
  kDot,
  kComment,  // --, #, /* */ (subtype in `op`: 0 line, 1 block, 2 unterminated block)
  kOther,    // anything else ({, }, ?, \ ...)
};

// Keywords the analyser reasons about. Everything else is a plain identifier (kNone).
enum class Kw : uint8_t {
  kNone,
  // logic and word operators
  kAnd,
  kOr,
  kXor,
  kNot,
  kLike,
  kRlike,
  kRegexp,
  kSounds,
  kIs,
  kIn,
  kBetween,
  kDiv,
  kMod,
  kGlob,
  kIlike,
  kEscape,
  kCollate,
  // literals
  kNull,
  kTrue,
  kFalse,
  kUnknown,
  kDefault,
  // clauses
  kUnion,
  kIntersect,
  kExcept,
  kMinus,
  kFrom,
  kWhere,
  kGroup,
  kOrder,
  kBy,
  kHaving,
  kLimit,
  kOffset,
  kInto,
  kOutfile,
  kDumpfile,
  kProcedure,
  kAs,
  kJoin,
  kInner,
  kOuter,
  kCross,
  kStraightJoin,
  kNatural,
  kOn,
  kUsing,
  kAll,
  kDistinct,
  kTop,
  kValues,
  kWith,
  kFor,
  kAsc,
  kDesc,
  kCase,
  kWhen,
  kThen,
  kElse,
  kEnd,
  kExists,
  kInterval,
  kBinary,
  kTable,
  kDatabase,
  kDelay,
  kTime,
  kTry,
  kCatch,
  kTran,
  kLock,
  kShare,
  kMode,
  kNowait,
  kPercent,
  // statements
  kSelect,
  kInsert,
  kUpdate,
  kDelete,
  kDrop,
  kCreate,
  kAlter,
  kTruncate,
  kExec,
  kExecute,
  kDeclare,
  kSet,
  kWaitfor,
  kShutdown,
  kBegin,
  kIf,
  kCall,
  kReplace,
  kGrant,
  kRevoke,
  kLoad,
  kHandler,
  kShow,
  kPrint,
  kReturn,
  kWhile,
  kGoto,
  kOpen,
  kFetch,
  kMerge,
  kCopy,
  kPrepare,
  kDo,
  kUse,
  kRename,
  kKill,
  kDbcc,
  kBulk,
  kReconfigure,
  kElseif,
  kCommit,
  kRollback,
};

// Operator kinds (Tok::kOperator).
enum Op : uint8_t {
  kOpCompare = 1,  // = == <> != < > <= >= <=> !< !>
  kOpArith = 2,    // + - * / % ^ & | << >> ~ (binary)
  kOpLogic = 3,    // && || (|| is OR in MySQL, concatenation elsewhere: both are binary)
  kOpAssign = 4,   // :=
  kOpNot = 5,      // ! (unary)
  kOpCast = 6,     // ::
  kOpArrow = 7,    // -> ->>
};

struct Token {
  Tok type;
  Kw kw = Kw::kNone;
  uint8_t op = 0;
  bool after_comment = false;  // a comment separated this token from the previous one
  bool exec_comment = false;   // inside a MySQL /*! ... */ executable comment
  uint32_t pos = 0;
  uint32_t len = 0;
};

// The single-quote context of standard SQL (PostgreSQL, SQL Server, Oracle, SQLite), where a
// backslash is an ordinary character: "\'" ends the literal. '\'' is MySQL's, where it escapes.
inline constexpr char kQuoteBackslashLiteral = '\x01';

// Tokenises `text` (ASCII-case-insensitive keywords). `context` is 0, '\'', '"', '`' or
// kQuoteBackslashLiteral. At most
// `max_tokens` tokens; returns false when the input had more (the rest is not tokenised).
bool Lex(std::string_view text, char context, std::size_t max_tokens, std::vector<Token>* out);

// Keyword of a word (case-insensitive), Kw::kNone for identifiers.
Kw KeywordOf(std::string_view word);

// Function-name knowledge: builtin SQL functions of the common dialects, and the subset that
// only attacks use in a request parameter (delays, file access, error-based extraction,
// command execution).
bool IsSqlFunction(std::string_view name);
bool IsDangerousSqlFunction(std::string_view name);
// System catalogs / schemas (information_schema, sysobjects, pg_catalog ...).
bool IsSystemCatalog(std::string_view name);

}  // namespace shieldx::detect::sql

#endif  // SHIELDX_LIBS_DETECT_SQL_LEXER_H_
