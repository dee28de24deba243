#include "libs/detect/sqli.h"

#include <algorithm>
#include <array>
#include <span>

#include "libs/detect/limits.h"
#include "libs/detect/text_util.h"

namespace shieldx::detect {
namespace {

using sql::Kw;
using sql::Tok;
using sql::Token;

// ASCII case-insensitive comparison with a lowercase word.
bool EqualsLower(std::string_view w, std::string_view lower_word) {
  if (w.size() != lower_word.size()) return false;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (ToLowerAscii(w[i]) != lower_word[i]) return false;
  }
  return true;
}

// File extensions of documents and images people name in text ("exec summary.pdf").
bool IsDocumentExtension(std::string_view ext) {
  static constexpr std::string_view kExts[] = {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
                                               "txt", "csv", "odt",  "rtf", "png",  "jpg", "jpeg",
                                               "gif", "zip", "md",   "key", "pages"};
  for (std::string_view e : kExts) {
    if (EqualsLower(ext, e)) return true;
  }
  return false;
}

// SQL Server extended and system procedures that attacks call (xp_cmdshell 'dir',
// sp_executesql N'...'): T-SQL runs them with arguments and no parentheses.
bool IsTsqlProcedure(std::string_view name) {
  if (name.size() < 4 || name[2] != '_') return false;
  char a = ToLowerAscii(name[0]), b = ToLowerAscii(name[1]);
  return ((a == 'x' && b == 'p') || (a == 's' && b == 'p')) && sql::IsDangerousSqlFunction(name);
}

// T-SQL session options switched by "SET <option> ON|OFF": whole statements of a script.
bool IsTsqlSetOption(std::string_view w) {
  static constexpr std::string_view kOptions[] = {"ansi_nulls",
                                                  "ansi_padding",
                                                  "ansi_warnings",
                                                  "ansi_null_dflt_on",
                                                  "arithabort",
                                                  "concat_null_yields_null",
                                                  "quoted_identifier",
                                                  "nocount",
                                                  "xact_abort",
                                                  "numeric_roundabort",
                                                  "identity_insert",
                                                  "noexec",
                                                  "parseonly",
                                                  "showplan_all",
                                                  "showplan_text",
                                                  "showplan_xml",
                                                  "fmtonly",
                                                  "implicit_transactions",
                                                  "cursor_close_on_commit",
                                                  "statistics",
                                                  "ansi_defaults",
                                                  "forceplan",
                                                  "arithignore",
                                                  "nocount"};
  for (std::string_view o : kOptions) {
    if (EqualsLower(w, o)) return true;
  }
  return false;
}

// SQL functions called without parentheses that name the database account.
bool IsNiladicInfo(std::string_view w) {
  return EqualsLower(w, "current_user") || EqualsLower(w, "system_user") ||
         EqualsLower(w, "session_user");
}

// Where the attacker's SQL starts.
enum class Break { kQuote, kOperand, kStart, kAnchor };

struct Features {
  bool union_select = false;
  bool stacked_strong = false;
  bool bare_select_opening = false;  // see PartialScore
  bool stacked_weak = false;
  bool subquery = false;
  bool dangerous_func = false;
  int known_funcs = 0;
  bool logic = false;
  bool logic_strong = false;   // operand of a logical operator compares / calls / subqueries
  bool logic_literal = false;  // operand of a logical operator is a literal
  bool const_compare = false;  // literal <op> literal (1=1, 'a'='a', 4499=8923)
  bool const_order = false;    // ...and every such comparison orders (<, >, <=, >=): "1 < 2"
  bool const_equal = false;    // ...some such comparison is not an ordering (=, <>, LIKE)
  bool compare_after_break = false;
  bool compare_literal = false;  // the compared operand is a literal ('x' = 'x', ' - 'b')
  bool arith_after_break = false;
  bool clause_strong = false;          // WHERE/HAVING with a comparison, ORDER BY n, LIMIT n
  bool logic_string_only = false;      // logical operator whose operands are only strings
  bool logic_compare_columns = false;  // logic + comparisons that involve column references
  bool clause = false;
  bool into_file = false;
  bool sysvar = false;
  bool catalog = false;
  bool inline_comment = false;
  bool statement_strong = false;  // a whole statement (value starts with SELECT ... FROM ...)
  bool select_from = false;
  bool comma_code = false;
  bool leading_comma = false;  // the value's first token is ','
  bool column_ref = false;     // a plain column name was referenced somewhere
  int variables = 0;           // @local variables referenced
  bool info_func = false;      // version(), database(), user() ...: fingerprinting the DBMS
  bool sql_syntax = false;     // BINARY, IN/LIKE/IS operators: SQL-only syntax
  bool union_bare = false;     // "UNION [ALL] SELECT" at the end of the value
  bool union_only = false;     // ... and nothing before it
  bool operand_word = false;   // code context: the value starts with one plain word
  // "UNION [ALL] SELECT <literal | NULL | * | function>": the head of a UNION-based
  // extraction even when the rest of the select list is broken or truncated.
  bool union_head = false;
  // A conditional (CASE WHEN, IF(), IIF()) whose condition compares two constants: the
  // boolean/error-based probe shape ("iif(1=1,1,1/0)", "case when 5=5 then 1 else null end").
  bool cond_const = false;
  // PostgreSQL cast of a column or call to a SQL type (password::int): error-based
  // extraction through a failing conversion.
  bool pg_cast = false;
  // PostgreSQL JSON operators (#>> @? <@ ?| ...) on a value cast to json/jsonb: syntax that
  // exists only in SQL.
  bool json_op = false;
  bool json_cast = false;
  bool json_literal_cast = false;
  // A complete CASE ... WHEN ... THEN ... END expression.
  bool case_expr = false;
  bool literal_seen = false;  // a number or string literal somewhere in the parse
  // The value is a number (or arithmetic on numbers / @vars) and an empty trailing comment:
  // "1--", "1 * 1 /*", "@version --" cut the application's query after a numeric field.
  bool numeric_truncation = false;
  // Quote break, arithmetic on a column and the application's own closing quote:
  // "1'*id-'0", "aa' / current_date regexp '0" (MySQL implicit conversions).
  bool arith_reclose = false;
  // SQL's niladic functions written without parentheses (CURRENT_USER, SYSTEM_USER,
  // SESSION_USER) used as an operand: "1 or 1=system_user" fingerprints the account.
  bool niladic_info = false;
  // "UNION [ALL]" ending the value (possibly behind comments) after a number: the first
  // half of an extraction, cut off or split over parameters ("-1 union", "-1#\nunion").
  bool union_dangling = false;
  // A break that rewrites the application's select list: "<x> AS `alias` FROM" (the alias
  // quoted, as only SQL quotes names).
  bool alias_from = false;
  bool alias_quoted = false;
  // MySQL ODBC escape braces "{ts 1}", "{if <expr>}": evaluated as the bare expression, used
  // only to slip keywords past filters.
  bool odbc_brace = false;
  // Blind extraction one character at a time: ascii(substring(col, n, 1)), ord(mid(...)).
  bool extract_idiom = false;
  int closers = 0;
  int tail_tokens = 0;  // non-comment tokens consumed after the break
};

struct Operand {
  bool literal = true;  // no column references
  bool single = false;  // one literal token
  bool compare = false;
  bool func = false;
  bool subquery = false;
  bool prose = false;  // an open string that holds a sentence
};

constexpr int kMaxDepth = 48;

class Parser {
 public:
  // `raw` must outlive the parser. Comments are set aside; without any, the parser reads
  // the lexer's tokens in place (no copy).
  Parser(std::string_view text, const std::vector<Token>& raw) : s_(text) {
    for (const Token& t : raw) {
      if (t.type == Tok::kComment) last_comment_ = &t;
    }
    if (last_comment_ == nullptr) {
      t_ = raw;
    } else {
      owned_.reserve(raw.size());
      for (const Token& t : raw) {
        if (t.type != Tok::kComment) owned_.push_back(t);
      }
      t_ = owned_;
    }
    // A comment that truncates the application's query is short ("--", "-- x", "#");
    // a long comment is text that happens to contain "--" or "#".
    trailing_comment_ = !raw.empty() && raw.back().type == Tok::kComment && raw.back().len <= 40;
    quote_break_ = !t_.empty() && t_[0].type == Tok::kPrefix;
  }

  std::size_t size() const { return t_.size(); }
  const Token& tok(std::size_t i) const { return t_[i]; }
  // The token index the last parse stopped at.
  std::size_t stop() const { return p_; }
  bool trailing_comment() const { return trailing_comment_; }
  // Whether the last parse stopped at two plain words side by side ("sleep(8) hours a
  // night": after the alias "hours", "a night"). No SQL puts a third name after an
  // expression and its alias: the text goes on as a sentence.
  bool StoppedAtWords() const {
    auto plain = [this](std::size_t i) {
      return i < t_.size() && t_[i].type == Tok::kWord && t_[i].kw == Kw::kNone;
    };
    return p_ > 0 && plain(p_) && plain(p_ + 1);
  }

  // Parses a continuation from token index `start`; `operand_first` parses one operand
  // before it (code context). Returns true when all input was accepted.
  bool ParseFrom(std::size_t start, bool operand_first, Features* f) {
    f_ = f;
    p_ = start;
    failed_ = false;
    // The operand the continuation attaches to: the application's literal (quote break) or
    // the value's first operand (code context).
    Operand prev;
    prev.single = true;
    // Code context starting with an operator ("like 5 or more", "= 2 or so"): what precedes
    // in the application's query is a column, not a constant.
    if (operand_first) prev.literal = false;
    if (operand_first && !AtEnd() && IsOperandStart(Peek())) {
      std::size_t before = p_;
      prev = Operand();
      if (!ParseUnary(&prev, 0)) return false;
      prev.single = p_ == before + 1 && prev.literal;
      f->operand_word = p_ == before + 1 && IsIdent(t_[before]);
    }
    std::size_t tail_start = p_;
    bool ok = ParseTail(0, prev);
    f->tail_tokens = static_cast<int>(p_ - tail_start);
    return ok && AtEnd();
  }

  // What makes a parsed SELECT a query rather than a phrase that starts with the word: FROM,
  // a function call, a subquery or a variable.
  bool SelectHasSource() const {
    return f_->select_from || f_->known_funcs > 0 || f_->dangerous_func || f_->subquery ||
           f_->variables > 0;
  }

  // The whole value as one statement (SELECT ..., DROP ..., EXEC ...).
  bool ParseWholeStatement(Features* f) {
    f_ = f;
    p_ = 0;
    bool strong = false;
    if (!ParseStatement(0, &strong)) return false;
    // Statements separated by ';' or, as T-SQL batches allow, by nothing.
    while (!AtEnd()) {
      if (Peek().type == Tok::kSemicolon) {
        Next();
        if (AtEnd()) break;
      } else if (Peek().type != Tok::kWord || Peek().kw == Kw::kNone) {
        return false;
      }
      bool s2 = false;
      if (!ParseStatement(0, &s2)) return false;
      strong = strong || s2;
    }
    // "select 'and'" is a phrase: a SELECT statement needs FROM or a function call.
    if (t_[0].type == Tok::kWord && t_[0].kw == Kw::kSelect) strong = strong && SelectHasSource();
    f->statement_strong = strong;
    return AtEnd();
  }

  // A SELECT statement written bare as an operand at token `i` ("1 and select top 1 name
  // from users"): the rest of the value must be that statement (a final ';' allowed).
  bool ParseBareSelect(std::size_t i, Features* f) {
    f_ = f;
    p_ = i + 1;
    bool strong = false;
    if (!ParseSelectBody(0, &strong)) return false;
    Accept(Tok::kSemicolon);
    return AtEnd();
  }

  // A subquery "(SELECT ...)" or a call of a dangerous function at token `i`.
  bool ParseAnchorPrimary(std::size_t i, Features* f) {
    f_ = f;
    p_ = i;
    Operand o;
    return ParsePrimary(&o, 0);
  }

 private:
  bool AtEnd() const { return p_ >= t_.size(); }
  const Token& Peek() const { return t_[p_]; }
  const Token* PeekAt(std::size_t k) const { return p_ + k < t_.size() ? &t_[p_ + k] : nullptr; }
  const Token& Next() { return t_[p_++]; }
  std::string_view Text(const Token& t) const { return s_.substr(t.pos, t.len); }
  bool IsKw(Kw kw) const { return !AtEnd() && Peek().type == Tok::kWord && Peek().kw == kw; }
  bool AcceptKw(Kw kw) {
    if (!IsKw(kw)) return false;
    if (Peek().after_comment) f_->inline_comment = true;
    ++p_;
    return true;
  }
  bool Accept(Tok type) {
    if (AtEnd() || Peek().type != type) return false;
    ++p_;
    return true;
  }
  bool IsIdent(const Token& t) const { return t.type == Tok::kWord && t.kw == Kw::kNone; }
  // Accepts an identifier equal to `lower_word` (ASCII case-insensitive).
  bool AcceptWord(std::string_view lower_word) {
    if (AtEnd() || !IsIdent(Peek())) return false;
    std::string_view w = Text(Peek());
    if (w.size() != lower_word.size()) return false;
    for (std::size_t i = 0; i < w.size(); ++i) {
      char c = (w[i] >= 'A' && w[i] <= 'Z') ? static_cast<char>(w[i] + 32) : w[i];
      if (c != lower_word[i]) return false;
    }
    ++p_;
    return true;
  }

  bool IsOdbcBrace(const Token& t) const { return t.type == Tok::kOther && s_[t.pos] == '{'; }

  bool IsOperandStart(const Token& t) const {
    switch (t.type) {
      case Tok::kOther:
        return IsOdbcBrace(t);
      case Tok::kNumber:
      case Tok::kString:
      case Tok::kOpenString:
      case Tok::kVariable:
      case Tok::kLParen:
        return true;
      case Tok::kWord:
        return t.kw == Kw::kNone || t.kw == Kw::kNull || t.kw == Kw::kTrue || t.kw == Kw::kFalse ||
               t.kw == Kw::kNot || t.kw == Kw::kBinary || t.kw == Kw::kCase ||
               t.kw == Kw::kExists || t.kw == Kw::kIf || t.kw == Kw::kReplace ||
               t.kw == Kw::kDatabase || t.kw == Kw::kDefault;
      case Tok::kOperator:
        return t.op == sql::kOpNot || (t.op == sql::kOpArith && t.len == 1);
      default:
        return false;
    }
  }

  bool IsBinop(const Token& t) const {
    if (t.type == Tok::kOperator) return t.op != sql::kOpNot;
    if (t.type != Tok::kWord) return false;
    switch (t.kw) {
      case Kw::kAnd:
      case Kw::kOr:
      case Kw::kXor:
      case Kw::kLike:
      case Kw::kRlike:
      case Kw::kRegexp:
      case Kw::kDiv:
      case Kw::kMod:
      case Kw::kGlob:
      case Kw::kIlike:
      case Kw::kIs:
      case Kw::kIn:
      case Kw::kBetween:
      case Kw::kSounds:
      case Kw::kNot:
      case Kw::kEscape:
      case Kw::kCollate:
        return true;
      default:
        return false;
    }
  }

  // NOT followed by LIKE / IN / BETWEEN / REGEXP ... continues a comparison.
  bool NotContinuesComparison() const {
    const Token* nx = PeekAt(1);
    return nx && nx->type == Tok::kWord && IsBinop(*nx) && nx->kw != Kw::kNot &&
           nx->kw != Kw::kAnd && nx->kw != Kw::kOr && nx->kw != Kw::kXor;
  }

  static bool IsLogic(const Token& t) {
    if (t.type == Tok::kOperator) return t.op == sql::kOpLogic;
    return t.type == Tok::kWord && (t.kw == Kw::kAnd || t.kw == Kw::kOr || t.kw == Kw::kXor);
  }
  static bool IsCompareTok(const Token& t) {
    if (t.type == Tok::kOperator) return t.op == sql::kOpCompare;
    return t.type == Tok::kWord &&
           (t.kw == Kw::kLike || t.kw == Kw::kRlike || t.kw == Kw::kRegexp || t.kw == Kw::kIn ||
            t.kw == Kw::kBetween || t.kw == Kw::kIs || t.kw == Kw::kSounds || t.kw == Kw::kGlob ||
            t.kw == Kw::kIlike);
  }

  // ---------------------------------------------------------------- expressions

  // Binary-operator continuation after an operand: `op operand`, with IN/BETWEEN/IS forms.
  bool ParseBinopRhs(Operand* lhs, Operand* out, int depth) {
    const Token& op = Next();
    if (op.type == Tok::kOperator && IsPgJsonOperator(Text(op))) f_->json_op = true;
    if (op.after_comment) f_->inline_comment = true;
    bool compare = IsCompareTok(op);
    if (op.type == Tok::kWord) f_->sql_syntax = true;
    if (op.type == Tok::kWord && op.kw == Kw::kNot) {
      // NOT IN / NOT LIKE / NOT BETWEEN / NOT REGEXP
      if (AtEnd()) return true;
      if (!IsBinop(Peek()) || Peek().type != Tok::kWord) return false;
      return ParseBinopRhs(lhs, out, depth);
    }
    if (AtEnd()) return true;
    if (op.type == Tok::kWord && op.kw == Kw::kSounds) {
      if (!AcceptKw(Kw::kLike)) return AtEnd();
    }
    Operand rhs;
    if (op.type == Tok::kWord && op.kw == Kw::kIs) {
      AcceptKw(Kw::kNot);
      if (AtEnd()) return true;
      // SQLite compares anything with IS ("' is 0 or '1", "id'is not-id"), but a bare name
      // after it, neither called nor qualified, is English ("restaurants where parking is
      // free").
      const Token* after = PeekAt(1);
      if (IsIdent(Peek()) &&
          (after == nullptr || (after->type != Tok::kLParen && after->type != Tok::kDot))) {
        return false;
      }
      if (!ParseUnary(&rhs, depth + 1)) return false;
    } else if (op.type == Tok::kWord && op.kw == Kw::kIn) {
      if (!ParseUnary(&rhs, depth + 1)) return false;
      // MySQL: IN BOOLEAN MODE / IN NATURAL LANGUAGE MODE after AGAINST: tolerate.
      if (!AtEnd() && Peek().kw == Kw::kMode) ++p_;
    } else if (op.type == Tok::kWord && op.kw == Kw::kBetween) {
      // The bounds are arithmetic ("between 2-1 and 4-1"); the AND between them is no logic.
      auto bound = [this, depth](Operand* o) {
        if (!ParseUnary(o, depth + 1)) return false;
        while (!AtEnd() && Peek().type == Tok::kOperator && Peek().op == sql::kOpArith) {
          ++p_;
          if (AtEnd()) return true;
          Operand term;
          if (!ParseUnary(&term, depth + 1)) return false;
          o->literal = o->literal && term.literal;
          o->func = o->func || term.func;
          o->single = false;
        }
        return true;
      };
      if (!bound(&rhs)) return false;
      if (AtEnd()) return true;
      if (!AcceptKw(Kw::kAnd)) return false;
      Operand hi;
      if (!bound(&hi)) return false;
    } else {
      if (!ParseUnary(&rhs, depth + 1)) return false;
    }
    if (compare) {
      out->compare = true;
      if (lhs->literal && rhs.literal && (lhs->single || rhs.single)) {
        f_->const_compare = true;
        std::string_view o = Text(op);
        bool order = op.type == Tok::kOperator &&
                     (o == "<" || o == ">" || o == "<=" || o == ">=" || o == "!<" || o == "!>");
        if (order)
          f_->const_order = true;
        else
          f_->const_equal = true;
      }
    }
    out->literal = out->literal && rhs.literal;
    out->func = out->func || rhs.func;
    out->subquery = out->subquery || rhs.subquery;
    out->compare = out->compare || rhs.compare;
    out->single = false;
    *lhs = rhs;
    return true;
  }

  bool ParseExpr(Operand* out, int depth) {
    if (depth > kMaxDepth) return false;
    Operand first;
    if (!ParseUnary(&first, depth + 1)) return false;
    *out = first;
    Operand last = first;
    while (!AtEnd() && IsBinop(Peek())) {
      // "NOT" only continues as NOT IN / NOT LIKE / NOT BETWEEN.
      if (Peek().kw == Kw::kNot) {
        const Token* nx = PeekAt(1);
        if (nx && !(nx->type == Tok::kWord && IsBinop(*nx) && nx->kw != Kw::kNot &&
                    nx->kw != Kw::kAnd && nx->kw != Kw::kOr)) {
          return true;
        }
      }
      if (!ParseBinopRhs(&last, out, depth)) return false;
    }
    return true;
  }

  bool ParseUnary(Operand* out, int depth) {
    if (depth > kMaxDepth) return false;
    bool any = false;
    while (!AtEnd()) {
      const Token& t = Peek();
      if ((t.type == Tok::kOperator &&
           (t.op == sql::kOpNot || (t.op == sql::kOpArith && t.len == 1 &&
                                    (s_[t.pos] == '-' || s_[t.pos] == '+' || s_[t.pos] == '~')))) ||
          (t.type == Tok::kWord && (t.kw == Kw::kNot || t.kw == Kw::kBinary))) {
        if (t.type == Tok::kWord && t.kw == Kw::kBinary) {
          f_->sql_syntax = true;
          // BINARY as a type name: CONVERT(x, BINARY).
          const Token* nx = PeekAt(1);
          if (!nx || nx->type == Tok::kRParen || nx->type == Tok::kComma) {
            ++p_;
            return true;
          }
        }
        ++p_;
        any = true;
        continue;
      }
      if (t.type == Tok::kWord && t.kw == Kw::kInterval) {
        ++p_;
        Operand o;
        if (!ParsePrimary(&o, depth + 1)) return false;
        if (!AtEnd() && IsIdent(Peek())) ++p_;  // unit
        return true;
      }
      break;
    }
    (void)any;
    if (!ParsePrimary(out, depth + 1)) return false;
    // Postfix: ::type, COLLATE x, PostgreSQL/SQLite ISNULL / NOTNULL
    while (!AtEnd()) {
      const Token& t = Peek();
      if (IsIdent(t) && (EqualsLower(Text(t), "notnull") || EqualsLower(Text(t), "isnull")) &&
          !(PeekAt(1) && PeekAt(1)->type == Tok::kLParen)) {
        ++p_;
        out->compare = true;
        f_->sql_syntax = true;
        continue;
      }
      if (t.type == Tok::kOperator && t.op == sql::kOpCast) {
        ++p_;
        if (AtEnd()) return true;
        if (Peek().type != Tok::kWord) return false;
        // A bare name::type is also C++/Ruby/Perl scoping (std::string, Foo::Text).
        if (out->func && IsSqlTypeName(Text(Peek()))) f_->pg_cast = true;
        if (Peek().len >= 4 &&
            (Text(Peek()).substr(0, 4) == "json" || Text(Peek()).substr(0, 4) == "JSON")) {
          f_->json_cast = true;
          // '{"a":1}'::jsonb: a quoted document cast to JSON, which only SQL writes.
          if (p_ >= 2 && t_[p_ - 2].type == Tok::kString) f_->json_literal_cast = true;
        }
        ++p_;
        // double precision, character varying
        if (!AtEnd() && IsIdent(Peek()) && IsSqlTypeName(Text(Peek()))) ++p_;
        continue;
      }
      if (t.type == Tok::kOperator && t.op == sql::kOpArrow) {
        if (IsPgJsonOperator(Text(t))) f_->json_op = true;
        ++p_;
        Operand o;
        if (!ParsePrimary(&o, depth + 1)) return false;
        continue;
      }
      break;
    }
    return true;
  }

  static bool IsPgJsonOperator(std::string_view op) {
    return op == "<@" || op == "@>" || op == "@?" || op == "@@" || op == "?|" || op == "?&" ||
           op == "?" || op == "#>" || op == "#>>" || op == "#-";
  }

  // Target types of error-based casts (PostgreSQL ::type).
  static bool IsSqlTypeName(std::string_view w) {
    static constexpr std::string_view kTypes[] = {
        "int",     "int2",    "int4", "int8",      "integer",   "bigint",   "smallint",
        "numeric", "decimal", "real", "double",    "float",     "float4",   "float8",
        "text",    "varchar", "char", "character", "json",      "jsonb",    "bool",
        "boolean", "bytea",   "date", "timestamp", "oid",       "regclass", "xml",
        "uuid",    "money",   "inet", "interval",  "precision", "varying"};
    if (w.size() > 9) return false;
    char buf[9];
    for (std::size_t i = 0; i < w.size(); ++i) {
      buf[i] = static_cast<char>((w[i] >= 'A' && w[i] <= 'Z') ? w[i] + 32 : w[i]);
    }
    std::string_view lw(buf, w.size());
    for (std::string_view t : kTypes) {
      if (t == lw) return true;
    }
    return false;
  }

  bool ParseArgs(Operand* out, int depth) {
    // After '('.
    if (AtEnd()) return true;
    if (Accept(Tok::kRParen)) return true;
    if (Peek().type == Tok::kOperator && Text(Peek()) == "*") {
      ++p_;
      if (AtEnd()) return true;
      return Accept(Tok::kRParen);
    }
    if (IsKw(Kw::kSelect) || IsKw(Kw::kWith)) {
      bool strong = false;
      ++p_;
      if (!ParseSelectBody(depth + 1, &strong)) return false;
      out->subquery = true;
      if (strong) f_->subquery = true;
      if (AtEnd()) return true;
      return Accept(Tok::kRParen);
    }
    AcceptKw(Kw::kDistinct) || AcceptKw(Kw::kAll);
    bool after_comma = false;
    while (true) {
      Operand a;
      // sqlmap's stacked conditional IF((5=6),SELECT 5,DROP FUNCTION x): whole statements
      // as the branches of a call. Only attacks put a statement after an argument's comma.
      if (after_comma && (IsKw(Kw::kSelect) || IsKw(Kw::kDrop))) {
        bool strong = false;
        if (!ParseStatement(depth + 1, &strong)) return false;
        out->subquery = true;
        if (strong) f_->subquery = true;
      } else if (!ParseExpr(&a, depth + 1)) {
        return false;
      }
      after_comma = false;
      out->compare = out->compare || a.compare;
      out->func = out->func || a.func;
      out->subquery = out->subquery || a.subquery;
      if (AtEnd()) return true;
      if (Accept(Tok::kComma)) {
        after_comma = true;
        continue;
      }
      if (Accept(Tok::kRParen)) return true;
      // substring(x FROM 1 FOR 2), cast(x AS type), convert(x USING utf8), position(a IN b),
      // group_concat(x SEPARATOR ','), trim(LEADING ...), ORDER BY inside aggregates.
      const Token& t = Peek();
      if (t.type == Tok::kWord &&
          (t.kw == Kw::kFrom || t.kw == Kw::kFor || t.kw == Kw::kAs || t.kw == Kw::kUsing ||
           t.kw == Kw::kIn || t.kw == Kw::kOrder || t.kw == Kw::kBy || t.kw == Kw::kDesc ||
           t.kw == Kw::kAsc || IsIdent(t))) {
        bool type_follows = t.kw == Kw::kAs || t.kw == Kw::kUsing;
        ++p_;
        if (AtEnd()) return true;
        if (type_follows && Peek().type == Tok::kWord) {
          // A type or charset: CAST(x AS BINARY), AS CHAR(10), USING utf8.
          ++p_;
          if (!AtEnd() && Peek().type == Tok::kLParen) {
            Operand o;
            if (!ParsePrimary(&o, depth + 1)) return false;
          }
        }
        if (AtEnd()) return true;
        if (Accept(Tok::kRParen)) return true;
        if (Accept(Tok::kComma)) continue;
        if (Peek().type == Tok::kWord && Peek().kw == Kw::kBy) ++p_;
        continue;
      }
      return false;
    }
  }

  // Two names, or a number and a name, side by side (a space between): words of a sentence.
  bool SideBySide(const Token* prev, const Token& x) const {
    return prev != nullptr && IsIdent(x) && x.pos > prev->pos + prev->len &&
           (IsIdent(*prev) || prev->type == Tok::kNumber);
  }

  // The first call in tokens [from, to) has two names (or a number and a name) side by side
  // in its arguments: the words of a parenthesised remark ("urgency=medium (closes several
  // bugs)"), not an argument list.
  bool WordsInCall(std::size_t from, std::size_t to) const {
    std::size_t k = from;
    while (k < to && t_[k].type != Tok::kLParen) ++k;
    int depth = 0;
    const Token* prev = nullptr;
    for (++k; k < to; ++k) {
      const Token& x = t_[k];
      if (x.type == Tok::kLParen) ++depth;
      if (x.type == Tok::kRParen && depth-- == 0) break;
      if (depth == 0 && SideBySide(prev, x)) return true;
      prev = &x;
    }
    return false;
  }

  // The application's closing quote ends an attacker's open string quickly ("x'-'"); an
  // open string holding a sentence is the user's own quoted text.
  bool OpenProse(const Token& t) const {
    int spaces = 0;
    for (char ch : Text(t)) spaces += ch == ' ';
    return spaces >= 2;
  }

  // The name at token `name` and its bracket (from token `k`, after the '(') stand between
  // phrase breaks: the start or end of the value, AND, OR or a comma. A builtin's name in such
  // a phrase ("Left (side) or right (side)") is a word; assigned, compared or computed with
  // ("b=char (d)", "length (name)>5") it is a call.
  bool RemarkInPhrase(std::size_t name, std::size_t k) const {
    auto joint = [](const Token& x) {
      return x.type == Tok::kComma || x.kw == Kw::kAnd || x.kw == Kw::kOr;
    };
    if (name > 0 && !joint(t_[name - 1])) return false;
    while (k < t_.size() && t_[k].type != Tok::kRParen) ++k;
    return ++k >= t_.size() || joint(t_[k]);
  }

  // From token `k` (after a '(') to the closing ')': names, numbers and commas only, at
  // least one name.
  bool WordsOnlyInParens(std::size_t k) const {
    bool word = false;
    for (; k < t_.size(); ++k) {
      const Token& x = t_[k];
      if (x.type == Tok::kRParen) return word;
      if (IsIdent(x)) {
        word = true;
      } else if (x.type != Tok::kNumber && x.type != Tok::kComma) {
        return false;
      }
    }
    return false;
  }

  // The arguments of a dangerous builtin as attacks write them: "sleep(5)",
  // "benchmark(5000000,md5(1))", not prose in parentheses ("sleep(8 hours)",
  // "benchmark(s) results"). Looks at the tokens from p_ (after '(') to the closing ')'.
  bool DangerousArgsPlausible(std::string_view name) const {
    int depth = 0;
    bool comma = false;
    std::size_t count = 0;
    const Token* prev = nullptr;
    for (std::size_t k = p_; k < t_.size() && k < p_ + 64; ++k) {
      const Token& x = t_[k];
      if (x.type == Tok::kLParen) ++depth;
      if (x.type == Tok::kRParen && depth-- == 0) break;
      if (depth == 0 && x.type == Tok::kComma) comma = true;
      if (depth == 0 && SideBySide(prev, x)) return false;
      prev = &x;
      ++count;
    }
    bool timing = EqualsLower(name, "sleep") || EqualsLower(name, "pg_sleep") ||
                  EqualsLower(name, "benchmark");
    if (timing && count == 1 && IsIdent(t_[p_])) return false;
    // "sleep()" without a duration delays nothing (prose about the function names it so).
    if (timing && count == 0) return false;
    return !EqualsLower(name, "benchmark") || comma || count == 0;
  }

  static bool IsCharCodeFunction(std::string_view w) {
    return EqualsLower(w, "ascii") || EqualsLower(w, "ord") || EqualsLower(w, "unicode") ||
           EqualsLower(w, "hex") || EqualsLower(w, "bin");
  }
  static bool IsSubstringFunction(std::string_view w) {
    return EqualsLower(w, "substring") || EqualsLower(w, "substr") || EqualsLower(w, "mid");
  }

  static bool AcceptableIif(std::string_view w) {
    return w.size() == 3 && (w[0] | 0x20) == 'i' && (w[1] | 0x20) == 'i' && (w[2] | 0x20) == 'f';
  }

  void NoteFunction(std::size_t first_word, std::size_t last_word) {
    for (std::size_t i = first_word; i <= last_word; ++i) {
      if (t_[i].type != Tok::kWord) continue;
      std::string_view name = Text(t_[i]);
      if (sql::IsDangerousSqlFunction(name)) {
        f_->dangerous_func = true;
      } else if (sql::IsSqlFunction(name)) {
        ++f_->known_funcs;
      }
    }
  }

  bool ParsePrimary(Operand* out, int depth) {
    if (depth > kMaxDepth) return false;
    if (AtEnd()) return true;
    const Token& t = Next();
    if (t.after_comment) f_->inline_comment = true;
    switch (t.type) {
      case Tok::kNumber:
        out->single = true;
        f_->literal_seen = true;
        return true;
      case Tok::kString:
        f_->literal_seen = true;
        // Adjacent literals concatenate ('a' 'b').
        while (!AtEnd() && Peek().type == Tok::kString) ++p_;
        out->single = true;
        return true;
      case Tok::kOpenString:
        out->single = true;
        out->prose = OpenProse(t);
        return true;
      case Tok::kVariable: {
        std::string_view v = Text(t);
        if (v.size() > 1 && v[0] == '@') ++f_->variables;
        // @@version, @@datadir: letters and '_' only (not "@@d2483..." tokens).
        if (v.size() > 2 && v[0] == '@' && v[1] == '@' && v.size() < 40) {
          bool name = true;
          for (std::size_t k = 2; k < v.size(); ++k) {
            name = name && (((v[k] | 0x20) >= 'a' && (v[k] | 0x20) <= 'z') || v[k] == '_');
          }
          if (name) f_->sysvar = true;
        }
        out->literal = false;
        return true;
      }
      case Tok::kLParen: {
        if (AtEnd()) return true;
        if (IsKw(Kw::kSelect) || IsKw(Kw::kWith)) {
          ++p_;
          bool strong = false;
          if (!ParseSelectBody(depth + 1, &strong)) return false;
          out->subquery = true;
          out->literal = false;
          if (strong) f_->subquery = true;
          if (AtEnd()) return true;
          return Accept(Tok::kRParen);
        }
        // Expression list / row constructor.
        while (true) {
          Operand e;
          if (!ParseExpr(&e, depth + 1)) return false;
          out->compare = out->compare || e.compare;
          out->func = out->func || e.func;
          out->subquery = out->subquery || e.subquery;
          out->literal = out->literal && e.literal;
          if (AtEnd()) return true;
          if (Accept(Tok::kComma)) continue;
          if (Accept(Tok::kRParen)) break;
          return false;
        }
        // (SELECT ...) UNION (SELECT ...) is handled by the clause parser.
        return true;
      }
      case Tok::kWord:
        break;
      case Tok::kOther: {
        // MySQL's ODBC escape "{<word> <expr>}" evaluates to <expr>.
        if (!IsOdbcBrace(t) || AtEnd() || Peek().type != Tok::kWord) return false;
        ++p_;
        f_->odbc_brace = true;
        f_->inline_comment = true;
        if (!ParseExpr(out, depth + 1)) return false;
        if (AtEnd()) return true;
        if (Peek().type != Tok::kOther || s_[Peek().pos] != '}') return false;
        ++p_;
        return true;
      }
      default:
        return false;
    }
    // Words.
    switch (t.kw) {
      case Kw::kNull:
      case Kw::kTrue:
      case Kw::kFalse:
      case Kw::kUnknown:
      case Kw::kDefault:
        out->single = true;
        if (!AtEnd() && Peek().type == Tok::kLParen && t.kw == Kw::kDefault) break;
        return true;
      case Kw::kCase: {
        out->literal = false;
        if (!AtEnd() && !IsKw(Kw::kWhen)) {
          Operand o;
          if (!ParseExpr(&o, depth + 1)) return false;
        }
        // "just in case", "in case (abc)": the word without a WHEN is no conditional.
        while (AcceptKw(Kw::kWhen)) {
          out->func = true;
          Operand c, v;
          bool before = f_->const_compare;
          f_->const_compare = false;
          if (!ParseExpr(&c, depth + 1)) return false;
          if (f_->const_compare) f_->cond_const = true;
          f_->const_compare = f_->const_compare || before;
          if (c.compare) out->compare = true;
          if (AtEnd()) return true;
          if (!AcceptKw(Kw::kThen)) return false;
          if (!ParseExpr(&v, depth + 1)) return false;
        }
        if (AcceptKw(Kw::kElse)) {
          Operand e;
          if (!ParseExpr(&e, depth + 1)) return false;
        }
        if (AtEnd()) return true;
        if (!AcceptKw(Kw::kEnd)) return false;
        f_->known_funcs++;
        f_->case_expr = true;
        return true;
      }
      case Kw::kExists:
        if (AtEnd()) return true;
        if (!Accept(Tok::kLParen)) return false;
        out->literal = false;
        return ParseArgs(out, depth + 1);
      case Kw::kWaitfor: {
        // sqlmap's "THEN WAITFOR DELAY '0:0:5'" inside CASE.
        if (AtEnd()) return true;
        if (!AcceptKw(Kw::kDelay) && !AcceptKw(Kw::kTime)) return false;
        f_->dangerous_func = true;
        out->func = true;
        Operand o;
        return ParsePrimary(&o, depth + 1);
      }
      default:
        break;
    }
    bool callable = t.kw == Kw::kNone || t.kw == Kw::kIf || t.kw == Kw::kReplace ||
                    t.kw == Kw::kInsert || t.kw == Kw::kDatabase || t.kw == Kw::kValues ||
                    t.kw == Kw::kMod || t.kw == Kw::kTruncate || t.kw == Kw::kTime ||
                    t.kw == Kw::kDefault;
    if (!callable) return false;
    if (t.kw == Kw::kNone) out->literal = false;  // a column reference, even "a." at the end
    // Identifier chain: a.b.c
    std::size_t first = p_ - 1;
    while (!AtEnd() && Peek().type == Tok::kDot) {
      ++p_;
      if (AtEnd()) return true;
      if (Peek().type == Tok::kDot) continue;  // master..sysdatabases (default schema)
      if (Peek().type == Tok::kWord) {
        ++p_;
      } else if (Peek().type == Tok::kOperator && Text(Peek()) == "*") {
        ++p_;
        break;
      } else {
        return false;
      }
    }
    std::size_t last = p_ - 1;
    for (std::size_t i = first; i <= last; ++i) {
      if (t_[i].type == Tok::kWord && sql::IsSystemCatalog(Text(t_[i]))) f_->catalog = true;
    }
    // xp_cmdshell 'dir', master..xp_dirtree '\\host\x': a procedure with its arguments.
    if (!AtEnd() && (Peek().type == Tok::kString || Peek().type == Tok::kOpenString) &&
        IsTsqlProcedure(Text(t_[last]))) {
      f_->dangerous_func = true;
      out->func = true;
      out->literal = false;
      Operand a;
      if (!ParsePrimary(&a, depth + 1)) return false;
      while (Accept(Tok::kComma)) {
        if (!ParseExpr(&a, depth + 1)) return false;
      }
      return true;
    }
    if (!AtEnd() && Peek().type == Tok::kLParen) {
      // "Paris (France) or Rome (Italy)": a name that is no SQL function, a space, and
      // parentheses holding only words: a remark in brackets, not a call. Not after a quote
      // break, where "' or json (id)" calls what the dialect has.
      const bool remark = !quote_break_ && first == last && t.kw == Kw::kNone &&
                          Peek().pos > t.pos + t.len && WordsOnlyInParens(p_ + 1) &&
                          !sql::IsDangerousSqlFunction(Text(t)) &&
                          (!sql::IsSqlFunction(Text(t)) || RemarkInPhrase(first, p_ + 1));
      ++p_;
      bool dangerous_before = f_->dangerous_func;
      NoteFunction(first, last);
      if (!dangerous_before && f_->dangerous_func && !DangerousArgsPlausible(Text(t_[last]))) {
        f_->dangerous_func = false;
      }
      if (first == last && IsCharCodeFunction(Text(t)) && PeekAt(1) &&
          PeekAt(1)->type == Tok::kLParen && IsSubstringFunction(Text(Peek()))) {
        f_->extract_idiom = true;
      }
      if (!AtEnd() && Peek().type == Tok::kRParen && first == last) {
        static constexpr std::string_view kInfo[] = {
            "version",     "database",       "user",          "current_user",     "schema",
            "system_user", "session_user",   "db_name",       "suser_name",       "user_name",
            "host_name",   "sqlite_version", "connection_id", "current_database", "current_schema"};
        std::string_view name = Text(t_[first]);
        for (std::string_view k : kInfo) {
          if (name.size() == k.size()) {
            bool eq = true;
            for (std::size_t c = 0; c < k.size(); ++c) eq = eq && ToLowerAscii(name[c]) == k[c];
            if (eq) f_->info_func = true;
          }
        }
      }
      out->func = true;
      out->literal = false;
      // A function of constants is still a constant for comparison purposes (char(49)).
      Operand args;
      bool conditional = first == last && (t.kw == Kw::kIf || AcceptableIif(Text(t)));
      bool before = f_->const_compare;
      f_->const_compare = false;
      if (!ParseArgs(&args, depth + 1)) return false;
      if (conditional && f_->const_compare) f_->cond_const = true;
      f_->const_compare = f_->const_compare || before;
      out->compare = out->compare || args.compare;
      out->subquery = out->subquery || args.subquery;
      out->literal = args.literal && !args.subquery;
      if (remark) {
        out->func = false;
        out->literal = false;
      }
      // Window: sum(x) OVER (PARTITION BY ... ORDER BY ...)
      if (!AtEnd() && AcceptWord("over")) {
        if (AtEnd()) return true;
        if (!Accept(Tok::kLParen)) return false;
        int depth_paren = 1;
        while (!AtEnd() && depth_paren > 0) {
          if (Peek().type == Tok::kLParen) ++depth_paren;
          if (Peek().type == Tok::kRParen) --depth_paren;
          ++p_;
        }
        f_->known_funcs++;
      }
      return true;
    }
    if (t.kw != Kw::kNone) return false;
    out->literal = false;
    f_->column_ref = true;
    if (first == last) {
      std::string_view w = Text(t);
      if (IsNiladicInfo(w)) f_->niladic_info = true;
    }
    // PostgreSQL ARRAY['a','b'].
    if (first == last && !AtEnd() && Peek().type == Tok::kOther && Text(Peek()) == "[" &&
        AcceptableArray(Text(t))) {
      ++p_;
      out->literal = true;  // an array of constants is a constant
      while (!AtEnd() && !(Peek().type == Tok::kOther && Text(Peek()) == "]")) {
        Operand e;
        if (!ParseExpr(&e, depth + 1)) return false;
        out->literal = out->literal && e.literal;
        if (!AtEnd() && !Accept(Tok::kComma) && Peek().type != Tok::kOther) return false;
      }
      if (!AtEnd()) ++p_;
    }
    return true;
  }

  static bool AcceptableArray(std::string_view w) {
    static constexpr std::string_view kArray = "array";
    if (w.size() != kArray.size()) return false;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if ((w[i] | 0x20) != kArray[i]) return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- SELECT

  bool ParseAlias() {
    if (AcceptKw(Kw::kAs)) {
      if (AtEnd()) return true;
      if (Peek().type == Tok::kWord || Peek().type == Tok::kString) {
        ++p_;
        return true;
      }
      return false;
    }
    if (!AtEnd() && IsIdent(Peek())) ++p_;
    return true;
  }

  bool ParseTableRef(int depth) {
    if (AtEnd()) return true;
    if (Peek().type == Tok::kLParen) {
      ++p_;
      if (IsKw(Kw::kSelect)) {
        ++p_;
        bool strong = false;
        if (!ParseSelectBody(depth + 1, &strong)) return false;
        f_->subquery = true;
      } else if (!ParseTableRef(depth + 1)) {
        return false;
      }
      if (AtEnd()) return true;
      if (!Accept(Tok::kRParen)) return false;
      return ParseAlias();
    }
    // A double-quoted name is an identifier in ANSI SQL and PostgreSQL: FROM "users".
    if (Peek().type == Tok::kString) {
      ++p_;
      return ParseAlias();
    }
    if (Peek().type != Tok::kWord) return false;
    if (Peek().kw != Kw::kNone) {
      // Non-reserved words used as names: FROM table, FROM null.user, FROM database.
      if (!IsNameKeyword(Peek().kw)) return false;
      if (!ParseIdentChain()) return false;
      return ParseAlias();
    }
    Operand o;
    if (!ParsePrimary(&o, depth + 1)) return false;
    return ParseAlias();
  }

  // Keywords that still name a table or schema in a FROM clause.
  static bool IsNameKeyword(Kw kw) {
    return kw == Kw::kTable || kw == Kw::kDatabase || kw == Kw::kNull || kw == Kw::kTime ||
           kw == Kw::kMode || kw == Kw::kShare || kw == Kw::kDefault || kw == Kw::kUnknown;
  }

  bool DeterminerPhrase() const {
    if (AtEnd() || !IsIdent(Peek())) return false;
    const Token* nx = PeekAt(1);
    if (!nx || !IsIdent(*nx)) return false;
    static constexpr std::string_view kDeterminers[] = {
        "the",  "a",    "an",    "your",  "my",  "our", "their", "his",  "her",   "its",
        "this", "that", "these", "those", "one", "any", "some",  "each", "every", "another"};
    std::string_view w = Text(Peek());
    for (std::string_view d : kDeterminers) {
      if (EqualsLower(w, d)) return true;
    }
    return false;
  }

  bool ParseTableRefs(int depth) {
    if (!ParseTableRef(depth)) return false;
    while (!AtEnd()) {
      if (Accept(Tok::kComma)) {
        if (!ParseTableRef(depth)) return false;
        continue;
      }
      bool join = false;
      while (AcceptKw(Kw::kNatural) || AcceptKw(Kw::kInner) || AcceptKw(Kw::kCross) ||
             AcceptKw(Kw::kOuter) || AcceptWord("left") || AcceptWord("right") ||
             AcceptWord("full")) {
      }
      if (AcceptKw(Kw::kJoin) || AcceptKw(Kw::kStraightJoin)) join = true;
      if (!join) return true;
      if (!ParseTableRef(depth)) return false;
      if (AcceptKw(Kw::kOn)) {
        Operand o;
        if (!ParseExpr(&o, depth + 1)) return false;
      } else if (AcceptKw(Kw::kUsing)) {
        Operand o;
        if (!ParsePrimary(&o, depth + 1)) return false;
      }
    }
    return true;
  }

  bool ParseExprList(int depth, bool allow_order = false) {
    while (true) {
      Operand o;
      if (!ParseExpr(&o, depth + 1)) return false;
      if (allow_order) AcceptKw(Kw::kAsc) || AcceptKw(Kw::kDesc);
      if (AtEnd()) return true;
      if (!Accept(Tok::kComma)) return true;
    }
  }

  // After SELECT. `strong`: has FROM, or an item that is not a bare identifier.
  bool ParseSelectBody(int depth, bool* strong) {
    if (depth > kMaxDepth) return false;
    if (AtEnd()) return true;
    AcceptKw(Kw::kAll) || AcceptKw(Kw::kDistinct);
    // Firebird: SELECT FIRST n [SKIP m] ...
    if (!AtEnd() && PeekAt(1) && PeekAt(1)->type == Tok::kNumber &&
        (AcceptWord("first") || AcceptWord("skip"))) {
      ++p_;
      AcceptWord("skip") && (!AtEnd() && Peek().type == Tok::kNumber ? (++p_, true) : true);
      AcceptKw(Kw::kAll) || AcceptKw(Kw::kDistinct);
      *strong = true;
    }
    if (AcceptKw(Kw::kTop)) {
      Operand o;
      if (!ParsePrimary(&o, depth + 1)) return false;
      AcceptKw(Kw::kPercent);
      *strong = true;
    }
    // "select the date from the calendar": an English determiner before another word opens
    // a noun phrase, not a select list or a table reference.
    if (DeterminerPhrase()) return false;
    // Select list.
    for (int items = 0;; ++items) {
      if (AtEnd()) return true;
      if (Peek().type == Tok::kOperator && Text(Peek()) == "*") {
        ++p_;
        *strong = true;
      } else {
        std::size_t before = p_;
        Operand o;
        if (!ParseExpr(&o, depth + 1)) return false;
        bool bare_ident = p_ == before + 1 && IsIdent(t_[before]);
        // "click 'Select' then 'Save'": after the break, SELECT of one string literal (its
        // quote closed by the application) reads back a constant; it is the quoted word
        // "select" in prose unless more follows (a list, FROM, a clause).
        bool lone_string = p_ == before + 1 && t_[before].type == Tok::kOpenString &&
                           p_ == t_.size() && items == 0;
        if (!bare_ident && !lone_string) *strong = true;
        // SELECT system_user: a niladic function, not a column.
        if (bare_ident && IsNiladicInfo(Text(t_[before]))) *strong = true;
        // SELECT pg_sleep / SELECT xp_cmdshell: a dangerous builtin named without the call
        // (names with '_' only: "select sleep mode" is English).
        if (bare_ident && Text(t_[before]).find('_') != std::string_view::npos &&
            sql::IsDangerousSqlFunction(Text(t_[before]))) {
          f_->dangerous_func = true;
          *strong = true;
        }
        if (!ParseAlias()) return false;
      }
      if (AtEnd()) return true;
      // A statement after the comma ends the list: IF((5=6),SELECT 5,DROP FUNCTION x).
      const Token* after = PeekAt(1);
      if (after && after->type == Tok::kWord &&
          (after->kw == Kw::kDrop || after->kw == Kw::kSelect)) {
        break;
      }
      if (!Accept(Tok::kComma)) break;
      // Broken payloads keep working as probes: "union select 1,,3".
      while (Accept(Tok::kComma)) {
      }
    }
    if (AcceptKw(Kw::kInto)) {
      if (AcceptKw(Kw::kOutfile) || AcceptKw(Kw::kDumpfile)) {
        f_->into_file = true;
        *strong = true;
      }
      Operand o;
      if (!ParsePrimary(&o, depth + 1)) return false;
      while (Accept(Tok::kComma)) {
        if (!ParsePrimary(&o, depth + 1)) return false;
      }
    }
    if (AcceptKw(Kw::kFrom)) {
      if (DeterminerPhrase()) return false;
      *strong = true;
      f_->select_from = true;
      if (!ParseTableRefs(depth + 1)) return false;
    }
    return ParseSelectTail(depth, strong);
  }

  // WHERE / GROUP BY / HAVING / ORDER BY / LIMIT / PROCEDURE / INTO / UNION after a SELECT.
  bool ParseSelectTail(int depth, bool* strong) {
    while (!AtEnd()) {
      if (AcceptKw(Kw::kWhere)) {
        Operand o;
        if (!ParseExpr(&o, depth + 1)) return false;
        *strong = true;
      } else if (IsKw(Kw::kGroup) || IsKw(Kw::kOrder)) {
        ++p_;
        if (AtEnd()) return true;
        if (!AcceptKw(Kw::kBy)) return false;
        if (!ParseExprList(depth, true)) return false;
        AcceptKw(Kw::kWith) && (!AtEnd() && IsIdent(Peek()) ? (++p_, true) : true);
      } else if (AcceptKw(Kw::kHaving)) {
        Operand o;
        if (!ParseExpr(&o, depth + 1)) return false;
        if (o.compare) *strong = true;
      } else if (AcceptKw(Kw::kLimit) || AcceptKw(Kw::kOffset)) {
        if (!ParseExprList(depth)) return false;
        AcceptKw(Kw::kOffset) && ParseExprList(depth);
      } else if (AcceptKw(Kw::kProcedure)) {
        Operand o;
        if (!ParsePrimary(&o, depth + 1)) return false;
        *strong = true;
      } else if (AcceptKw(Kw::kInto)) {
        if (AcceptKw(Kw::kOutfile) || AcceptKw(Kw::kDumpfile)) f_->into_file = true;
        Operand o;
        if (!ParsePrimary(&o, depth + 1)) return false;
      } else if (AcceptKw(Kw::kFor)) {
        if (!AtEnd() && (IsKw(Kw::kUpdate) || IsIdent(Peek()))) ++p_;
      } else if (AcceptKw(Kw::kLock)) {
        AcceptKw(Kw::kIn);
        AcceptKw(Kw::kShare);
        AcceptKw(Kw::kMode);
      } else if (IsKw(Kw::kUnion) || IsKw(Kw::kIntersect) || IsKw(Kw::kExcept)) {
        ++p_;
        if (!ParseUnionRhs(depth)) return false;
      } else {
        return true;
      }
    }
    return true;
  }

  // The first select item after UNION SELECT is what extraction payloads put there: a
  // number or NULL column filler, '*', a string, a system variable or a function call.
  bool IsUnionItemStart() const {
    std::size_t k = p_;
    if (k < t_.size() && t_[k].type == Tok::kWord &&
        (t_[k].kw == Kw::kAll || t_[k].kw == Kw::kDistinct)) {
      ++k;
    }
    if (k >= t_.size()) return false;
    const Token& t = t_[k];
    switch (t.type) {
      case Tok::kNumber:
      case Tok::kString:
      case Tok::kVariable:
        return true;
      case Tok::kOperator:
        return Text(t) == "*";
      case Tok::kWord:
        if (t.kw == Kw::kNull) return true;
        if (t.kw != Kw::kNone) return false;
        return (k + 1 < t_.size() && t_[k + 1].type == Tok::kLParen) ||
               sql::IsSqlFunction(Text(t)) || sql::IsDangerousSqlFunction(Text(t));
      default:
        return false;
    }
  }

  // After UNION/INTERSECT/EXCEPT: [ALL|DISTINCT] SELECT ... | ( SELECT ... )
  bool ParseUnionRhs(int depth) {
    std::size_t union_pos = p_ - 1;
    if (AtEnd()) {
      f_->union_dangling = true;
      return true;
    }
    AcceptKw(Kw::kAll) || AcceptKw(Kw::kDistinct);
    if (AtEnd()) {
      f_->union_dangling = true;
      return true;
    }
    int parens = 0;
    while (Accept(Tok::kLParen)) ++parens;
    if (AtEnd()) return true;
    if (!AcceptKw(Kw::kSelect)) return false;
    // "'union select/": a '/' ending the value right after SELECT is a comment opener cut
    // off ("/**/"), not an operand.
    if (p_ + 1 == t_.size() && Peek().type == Tok::kOperator && Text(Peek()) == "/" &&
        TrimSpaces(s_.substr(Peek().pos + 1)).empty()) {
      ++p_;
    }
    if (AtEnd()) {
      f_->union_bare = true;
      f_->union_only = union_pos == 0;
      return true;
    }
    if (IsUnionItemStart()) f_->union_head = true;
    // "-1 union(select table)", "x'-'xyz' union (select x)": UNION and a parenthesised
    // SELECT right after a literal operand are the extraction whatever the item is, in a value
    // that breaks a quote or opens with a number (prose has words before its "union (select").
    bool code_start = t_[0].type == Tok::kPrefix || t_[0].type == Tok::kNumber ||
                      (t_[0].type == Tok::kOperator && t_[0].op == sql::kOpArith);
    // So is a bare column with the rest of the application's query commented out
    // ("-1 union all select password--", "-1 union select 1blablabla#"): no sentence opens
    // with a number and closes with an SQL comment.
    if ((parens > 0 || trailing_comment_) && union_pos > 0 && code_start && !AtEnd() &&
        Peek().type == Tok::kWord) {
      Tok before = t_[union_pos - 1].type;
      if (before == Tok::kNumber || before == Tok::kString || before == Tok::kVariable) {
        f_->union_head = true;
      }
    }
    bool strong = false;
    bool had_from = f_->select_from;
    f_->select_from = false;
    bool ok = ParseSelectBody(depth + 1, &strong);
    // "UNION SELECT <items> FROM <table>" parsed that far is an extraction whatever junk
    // follows ("... where id>0//").
    if (strong && (ok || f_->select_from)) f_->union_select = true;
    f_->select_from = f_->select_from || had_from;
    if (!ok) return false;
    while (parens > 0 && Accept(Tok::kRParen)) --parens;
    return true;
  }

  // ---------------------------------------------------------------- statements

  bool ParseIdentChain() {
    if (AtEnd()) return true;
    if (Peek().type != Tok::kWord && Peek().type != Tok::kVariable) return false;
    ++p_;
    while (!AtEnd() && Peek().type == Tok::kDot) {
      ++p_;
      if (AtEnd()) return true;
      if (Peek().type == Tok::kDot) continue;
      if (Peek().type != Tok::kWord) return false;
      ++p_;
    }
    return true;
  }

  // Consumes tokens of a statement we do not model in detail, up to ';'.
  bool SkipToStatementEnd(std::size_t min_tokens) {
    std::size_t start = p_;
    int parens = 0;
    while (!AtEnd()) {
      const Token& t = Peek();
      if (t.type == Tok::kSemicolon && parens <= 0) break;
      if (t.type == Tok::kLParen) ++parens;
      if (t.type == Tok::kRParen) --parens;
      ++p_;
    }
    return p_ - start >= min_tokens;
  }

  // A '.' that ends the text or is followed by a space: a full stop, not db.table.
  bool SentenceDot(std::size_t k) const {
    const std::size_t end = t_[k].pos + t_[k].len;
    return end >= s_.size() || s_[end] == ' ';
  }

  // A '-' or '/' written between two names or numbers without spaces ("ChangeLog-2011",
  // "building-5", "2023/2024"): part of a name or a date, not arithmetic in a statement.
  bool WordJoiner(std::size_t k) const {
    const Token& x = t_[k];
    if (x.len != 1 || (s_[x.pos] != '-' && s_[x.pos] != '/')) return false;
    if (k == 0 || k + 1 >= t_.size()) return false;
    const Token& a = t_[k - 1];
    const Token& b = t_[k + 1];
    auto plain = [](const Token& y) { return y.type == Tok::kWord || y.type == Tok::kNumber; };
    return plain(a) && plain(b) && a.pos + a.len == x.pos && x.pos + 1 == b.pos;
  }

  static bool IsIndexModifier(std::string_view w) {
    return EqualsLower(w, "unique") || EqualsLower(w, "clustered") ||
           EqualsLower(w, "nonclustered") || EqualsLower(w, "columnstore") ||
           EqualsLower(w, "fulltext") || EqualsLower(w, "spatial");
  }

  // After the object word of DROP / TRUNCATE / CREATE / ALTER / GRANT / REVOKE / RENAME.
  // English shares the first two words ("create user account", "drop table reservations
  // please", "grant all access to team"): DROP must end after its names, and the other
  // statements need SQL punctuation, a quoted name or an ALTER action to count.
  bool ParseDdlRest(Kw verb, bool* strong) {
    std::size_t start = p_;
    if (verb == Kw::kDrop || verb == Kw::kTruncate) {
      ++p_;  // the object
      if (IsKw(Kw::kIf)) {
        ++p_;
        if (!AcceptKw(Kw::kExists)) return AtEnd();
      }
      *strong = true;
      if (AtEnd()) return true;
      if (!ParseIdentChain()) return false;
      while (Accept(Tok::kComma)) {
        if (!ParseIdentChain()) return false;
      }
      AcceptWord("cascade") || AcceptWord("restrict") || AcceptWord("purge");
      *strong = AtEnd() || Peek().type == Tok::kSemicolon;
      // "drop table 是什么意思" ("what does drop table mean") as the whole value: text without
      // spaces after the statement reads as one name; tables attacks drop are named in ASCII.
      for (std::size_t k = start + 1; *strong && start == 1 && k < p_; ++k) {
        for (char c : Text(t_[k])) *strong = *strong && static_cast<unsigned char>(c) < 0x80;
      }
      return *strong;
    }
    // CREATE TABLE name, then '(', AS, LIKE or SELECT: "Create table reservation for 4 (window
    // seat)" goes on in English after the name.
    if (verb == Kw::kCreate && t_[start].kw == Kw::kTable) {
      std::size_t k = start + 1;
      if (k + 2 < t_.size() && t_[k].kw == Kw::kIf && t_[k + 1].kw == Kw::kNot) k += 3;
      const std::size_t name = k;
      while (k < t_.size() && (t_[k].type == Tok::kWord || t_[k].type == Tok::kDot) &&
             (k == name || t_[k].type == Tok::kDot || t_[k - 1].type == Tok::kDot)) {
        ++k;
      }
      if (k < t_.size() && t_[k].type != Tok::kLParen && t_[k].type != Tok::kSemicolon &&
          t_[k].kw != Kw::kAs && t_[k].kw != Kw::kLike && t_[k].kw != Kw::kSelect) {
        *strong = false;
        return SkipToStatementEnd(1);
      }
    }
    bool ok = SkipToStatementEnd(1);
    bool marks = false;
    for (std::size_t k = start; k < p_ && !marks; ++k) {
      const Token& x = t_[k];
      char c0 = s_[x.pos];
      marks = x.type == Tok::kLParen || x.type == Tok::kString || x.type == Tok::kVariable ||
              x.kw == Kw::kSelect || (x.type == Tok::kWord && (c0 == '[' || c0 == '`')) ||
              (x.type == Tok::kDot && !SentenceDot(k)) ||
              (x.type == Tok::kOperator && !WordJoiner(k));
    }
    // ALTER TABLE t ADD / DROP / MODIFY / CHANGE / RENAME ...
    if (!marks && verb == Kw::kAlter && start + 2 < p_) {
      std::string_view act = Text(t_[start + 2]);
      marks = EqualsLower(act, "add") || t_[start + 2].kw == Kw::kDrop ||
              EqualsLower(act, "modify") || EqualsLower(act, "change") ||
              t_[start + 2].kw == Kw::kRename || t_[start + 2].kw == Kw::kAlter;
    }
    *strong = marks;
    return ok;
  }

  bool ParseStatement(int depth, bool* strong) {
    if (depth > kMaxDepth || AtEnd()) return false;
    const Token& t = Peek();
    if (t.type == Tok::kLParen) {
      // (SELECT ...) [UNION ...]
      const Token* nx = PeekAt(1);
      if (!nx || nx->type != Tok::kWord || nx->kw != Kw::kSelect) return false;
      Operand o;
      if (!ParsePrimary(&o, depth + 1)) return false;
      *strong = f_->subquery;
      return ParseSelectTail(depth, strong);
    }
    if (t.type != Tok::kWord) return false;
    ++p_;
    switch (t.kw) {
      case Kw::kSelect: {
        bool ok = ParseSelectBody(depth + 1, strong);
        // "select 'and'" is a phrase; a statement needs FROM, a call or several items.
        return ok;
      }
      case Kw::kWith: {
        // WITH x AS (SELECT ...) SELECT ...
        if (AtEnd() || !IsIdent(Peek())) return false;
        ++p_;
        if (!AcceptKw(Kw::kAs)) return false;
        if (AtEnd()) return true;
        if (Peek().type != Tok::kLParen) return false;
        *strong = true;
        return SkipToStatementEnd(2);
      }
      case Kw::kInsert:
      case Kw::kReplace: {
        AcceptKw(Kw::kInto);
        if (!ParseIdentChain()) return false;
        if (AtEnd()) return true;
        if (Peek().type == Tok::kLParen) {
          Operand o;
          if (!ParsePrimary(&o, depth + 1)) return false;
        }
        if (AcceptKw(Kw::kValues) || AcceptKw(Kw::kSelect)) {
          *strong = true;
          return AtEnd() || SkipToStatementEnd(1);
        }
        return AtEnd();
      }
      case Kw::kUpdate: {
        if (!ParseIdentChain()) return false;
        if (AtEnd()) return true;
        if (!AcceptKw(Kw::kSet)) return false;
        *strong = true;
        if (!ParseExprList(depth)) return false;
        if (AcceptKw(Kw::kWhere)) {
          Operand o;
          return ParseExpr(&o, depth + 1);
        }
        return true;
      }
      case Kw::kDelete:
        if (AtEnd()) return true;
        while (AcceptWord("low_priority") || AcceptWord("quick") || AcceptWord("ignore")) {
        }
        if (!AcceptKw(Kw::kFrom)) return false;
        if (!ParseIdentChain()) return false;
        if (AcceptKw(Kw::kWhere)) {
          *strong = true;
          Operand o;
          return ParseExpr(&o, depth + 1);
        }
        // Like DROP, it ends after its table: "delete from my cart the blue shoes" is a
        // request in English.
        *strong = AtEnd() || Peek().type == Tok::kSemicolon;
        return true;
      case Kw::kDrop:
      case Kw::kTruncate:
      case Kw::kAlter:
      case Kw::kCreate:
      case Kw::kGrant:
      case Kw::kRevoke:
      case Kw::kRename: {
        if (AtEnd()) return true;
        const Token& obj = Peek();
        if (obj.type != Tok::kWord) return false;
        static constexpr std::string_view kObjects[] = {
            "table",   "database",  "function", "procedure", "view",  "user",     "index",
            "schema",  "trigger",   "login",    "role",      "event", "sequence", "column",
            "proc",    "temporary", "or",       "definer",   "all",   "select",   "insert",
            "execute", "file",      "assembly", "tablespace"};
        std::string_view w = Text(obj);
        bool known = false;
        for (std::string_view o : kObjects) {
          if (w.size() == o.size()) {
            bool eq = true;
            for (std::size_t i = 0; i < o.size(); ++i) {
              eq = eq && ((w[i] | 0x20) == o[i]);
            }
            known = known || eq;
          }
        }
        // CREATE [UNIQUE] [NON]CLUSTERED [COLUMNSTORE] INDEX
        while (!known && !AtEnd() && IsIndexModifier(Text(Peek()))) {
          ++p_;
          if (!AtEnd() && EqualsLower(Text(Peek()), "index")) known = true;
        }
        if (!known) return false;
        return ParseDdlRest(t.kw, strong);
      }
      case Kw::kExec:
      case Kw::kExecute: {
        if (AtEnd()) return true;
        const Token& x = Peek();
        if (x.type == Tok::kLParen) {
          Operand o;
          if (!ParsePrimary(&o, depth + 1)) return false;
          *strong = true;
          return true;
        }
        if (x.type != Tok::kWord && x.type != Tok::kVariable) return false;
        std::size_t first = p_;
        if (!ParseIdentChain()) return false;
        NoteFunction(first, p_ - 1);
        // exec xp_cmdshell 'dir', exec master..sp_x, exec @sql, exec sp_executesql N'...'
        std::string_view name = Text(t_[first]);
        // "exec summary.pdf": a document's name ("Exec Summary.pdf"), not schema.procedure.
        const bool file_name = p_ - first == 3 && IsDocumentExtension(Text(t_[p_ - 1]));
        bool procedure = x.type == Tok::kVariable || (p_ - first > 1 && !file_name) ||
                         (name.size() > 3 && ((name[0] | 0x20) == 'x' || (name[0] | 0x20) == 's') &&
                          name[2] == '_');
        // Not a string left open to the end that holds a sentence: in a quote break that
        // is the rest of the user's text ("He wrote 'exec summary' on the cover").
        bool args = !AtEnd() && (Peek().type == Tok::kString || Peek().type == Tok::kVariable ||
                                 (Peek().type == Tok::kOpenString && !OpenProse(Peek())));
        *strong = procedure || args;
        return SkipToStatementEnd(0);
      }
      case Kw::kDeclare: {
        if (AtEnd()) return true;
        if (Peek().type != Tok::kVariable) return false;
        *strong = true;
        return SkipToStatementEnd(1);
      }
      case Kw::kSet: {
        if (AtEnd()) return true;
        if (IsIdent(Peek()) && IsTsqlSetOption(Text(Peek()))) {
          ++p_;
          bool on_off = AcceptKw(Kw::kOn) || AcceptWord("off");
          // SET IDENTITY_INSERT dbo.t ON, SET STATISTICS IO ON
          if (!on_off && !AtEnd() && IsIdent(Peek())) {
            ParseIdentChain();
            on_off = AcceptKw(Kw::kOn) || AcceptWord("off");
          }
          if (!on_off) return AtEnd();
          *strong = true;
          return true;
        }
        if (Peek().type != Tok::kVariable && !IsIdent(Peek())) return false;
        ++p_;
        if (AtEnd()) return true;
        if (Peek().type != Tok::kOperator || (Text(Peek()) != "=" && Peek().op != sql::kOpAssign)) {
          return false;
        }
        ++p_;
        Operand o;
        if (!ParseExpr(&o, depth + 1)) return false;
        *strong = true;
        return true;
      }
      case Kw::kWaitfor: {
        if (AtEnd()) return true;
        if (!AcceptKw(Kw::kDelay) && !AcceptKw(Kw::kTime)) return false;
        Operand o;
        if (!ParseExpr(&o, depth + 1)) return false;
        *strong = true;
        f_->dangerous_func = true;
        return true;
      }
      case Kw::kShutdown:
        // SHUTDOWN [WITH NOWAIT] ends the statement ("shutdown now" is English).
        if (AcceptKw(Kw::kWith)) AcceptKw(Kw::kNowait);
        *strong = AtEnd() || Peek().type == Tok::kSemicolon;
        return *strong;
      case Kw::kIf: {
        // IF(cond, a, b) as an expression, or MSSQL IF cond statement [ELSE statement].
        if (!AtEnd() && Peek().type == Tok::kLParen &&
            !(PeekAt(1) && PeekAt(1)->kw == Kw::kSelect)) {
          --p_;
          Operand o;
          if (!ParseExpr(&o, depth + 1)) return false;
          *strong = o.compare && (o.func || f_->dangerous_func);
          if (AtEnd() || Peek().type == Tok::kSemicolon) return true;
          if (Peek().type != Tok::kWord || Peek().kw == Kw::kNone) return true;
          bool s = false;
          if (!ParseStatement(depth + 1, &s)) return false;
          if (AcceptKw(Kw::kElse)) {
            bool s2 = false;
            if (!ParseStatement(depth + 1, &s2)) return false;
            s = s || s2;
          }
          *strong = *strong || (o.compare && (s || o.literal));
          return true;
        }
        Operand cond;
        if (!ParseExpr(&cond, depth + 1)) return false;
        if (!(cond.compare || cond.func || cond.subquery)) return false;
        if (AtEnd()) return true;
        bool s = false;
        if (!ParseStatement(depth + 1, &s)) return false;
        if (AcceptKw(Kw::kElse)) {
          bool s2 = false;
          if (!ParseStatement(depth + 1, &s2)) return false;
          s = s || s2;
        }
        *strong = s;
        return true;
      }
      case Kw::kBegin: {
        AcceptKw(Kw::kTry) || AcceptKw(Kw::kTran);
        while (!AtEnd() && !IsKw(Kw::kEnd)) {
          bool s = false;
          if (!ParseStatement(depth + 1, &s)) return false;
          *strong = *strong || s;
          Accept(Tok::kSemicolon);
        }
        if (AcceptKw(Kw::kEnd)) AcceptKw(Kw::kTry) || AcceptKw(Kw::kCatch);
        return true;
      }
      case Kw::kGoto:
        return ParseIdentChain();
      case Kw::kCall:
      case Kw::kDo:
      case Kw::kPrint:
      case Kw::kReturn: {
        Operand o;
        if (!ParseExpr(&o, depth + 1)) return false;
        *strong = o.func;
        return true;
      }
      case Kw::kLoad: {
        // LOAD DATA|XML [LOCAL|LOW_PRIORITY|CONCURRENT] INFILE 'file' ...: reads server files.
        std::size_t start = p_;
        bool ok = SkipToStatementEnd(2);
        for (std::size_t k = start; k < p_; ++k) {
          std::string_view w = Text(t_[k]);
          if (w.size() == 6 && (w[0] | 0x20) == 'i' && (w[1] | 0x20) == 'n' &&
              (w[2] | 0x20) == 'f') {
            *strong = true;
            f_->into_file = true;
          }
        }
        return ok;
      }
      case Kw::kHandler:
      case Kw::kShow:
      case Kw::kKill:
      case Kw::kDbcc:
      case Kw::kBulk:
      case Kw::kCopy:
      case Kw::kPrepare:
      case Kw::kMerge:
      case Kw::kReconfigure:
      case Kw::kCommit:
      case Kw::kRollback:
      case Kw::kUse:
      case Kw::kOpen:
      case Kw::kFetch:
      case Kw::kWhile:
        return SkipToStatementEnd(0);
      case Kw::kNone: {
        // label: / function call as statement (iif(...), benchmark(...)).
        if (!AtEnd() && Peek().type == Tok::kOther && Text(Peek()) == ":") {
          ++p_;
          return true;
        }
        --p_;
        const std::size_t start = p_;
        const int known_before = f_->known_funcs;
        Operand o;
        if (!ParseExpr(&o, depth + 1)) return false;
        // Only a call to a function SQL knows: "hello;f(x=1" is punctuation, not a call.
        const bool known = f_->known_funcs > known_before || f_->dangerous_func;
        *strong = known && o.func && (o.compare || f_->dangerous_func) && !WordsInCall(start, p_);
        return o.func;
      }
      default:
        return false;
    }
  }

  // ---------------------------------------------------------------- continuation

  bool ParseTail(int depth, Operand prev) {
    // Adjacent literals concatenate: "a''12' and ..." continues with the string '12'.
    while (!AtEnd() && Peek().type == Tok::kString && depth == 0 && prev.single) ++p_;
    while (!AtEnd()) {
      const Token& t = Peek();
      if (t.after_comment) f_->inline_comment = true;
      if (t.type == Tok::kRParen) {
        ++p_;
        ++f_->closers;
        continue;
      }
      if (t.type == Tok::kComma) {
        // Another value in the application's list: "1,(case when 1=1 ...)", "',iif(...)".
        ++p_;
        Operand o;
        if (!ParseExpr(&o, depth + 1)) return false;
        if ((o.func || o.subquery) && (o.compare || f_->dangerous_func)) f_->logic_strong = true;
        if (o.func || o.subquery) f_->comma_code = true;
        continue;
      }
      // MSSQL runs statements without ';': "1) waitfor delay '0:0:5'--", "' drop table x".
      if (t.type == Tok::kWord &&
          (t.kw == Kw::kWaitfor || t.kw == Kw::kDeclare || t.kw == Kw::kExec ||
           t.kw == Kw::kExecute || t.kw == Kw::kShutdown || t.kw == Kw::kDrop ||
           t.kw == Kw::kSelect || t.kw == Kw::kInsert || t.kw == Kw::kUpdate ||
           t.kw == Kw::kDelete)) {
        // At the value's start, or right after the application's quoted literal.
        const bool opening_select =
            t.kw == Kw::kSelect && (p_ == 0 || (p_ == 1 && t_[0].type == Tok::kPrefix));
        const std::size_t at = p_;
        bool strong = false;
        if (!ParseStatement(depth + 1, &strong)) return false;
        if (!strong) return false;  // without ';' only an unmistakable statement counts
        // A SELECT of constants without FROM or a call, opening the value: when the parse
        // stops after it, the value is a sentence ("select.2 mtk Added return types ...": a
        // man page and its changelog), and PartialScore gives the statement no weight.
        const bool sourceless = opening_select && !SelectHasSource();
        if (sourceless) f_->bare_select_opening = true;
        // As the whole value, a SELECT of plain names joined by arithmetic ("SELECT shop -
        // new", "SELECT ショップ - 新作コレクション") selects nothing: it is a title.
        bool names_only = sourceless && at == 0 && at + 1 < p_ && IsIdent(t_[at + 1]);
        for (std::size_t k = at + 1; names_only && k < p_; ++k) {
          names_only =
              IsIdent(t_[k]) || (t_[k].type == Tok::kOperator && t_[k].op == sql::kOpArith);
        }
        if (!names_only) f_->stacked_strong = true;
        continue;
      }
      if (t.type == Tok::kSemicolon) {
        ++p_;
        if (AtEnd()) return true;
        bool strong = false;
        if (!ParseStatement(depth + 1, &strong)) return false;
        if (strong)
          f_->stacked_strong = true;
        else
          f_->stacked_weak = true;
        continue;
      }
      if (IsBinop(t)) {
        bool logic = IsLogic(t);
        bool compare = IsCompareTok(t);
        bool arith = t.type == Tok::kOperator && t.op == sql::kOpArith;
        if (t.kw == Kw::kNot && !NotContinuesComparison()) return false;
        Operand out;
        Operand lhs = prev;
        std::size_t before = p_;
        if (!ParseBinopRhs(&lhs, &out, depth + 1)) return false;
        Operand rhs = lhs;  // ParseBinopRhs leaves the rhs operand in lhs
        // Continue the expression (e.g. "or 1=1", "and 3715 in (...)").
        Operand rest = rhs;
        Operand acc = out;
        while (!AtEnd() && IsBinop(Peek()) && !IsLogic(Peek()) &&
               (Peek().kw != Kw::kNot || NotContinuesComparison())) {
          if (!ParseBinopRhs(&rest, &acc, depth + 1)) return false;
        }
        bool code_operand = rhs.func || rhs.subquery || acc.func || acc.subquery;
        bool strong_operand = acc.compare || rhs.compare || code_operand;
        // "Use 'OR' between search terms": a logical word in quotes, then the rest of the
        // sentence up to the application's quote, a string that is false in every dialect.
        if (logic && rhs.prose && rhs.single && !strong_operand && AtEnd()) {
          prev = rest;
          continue;
        }
        if (logic) {
          f_->logic = true;
          if (code_operand || (strong_operand && acc.literal)) {
            f_->logic_strong = true;
          } else if (strong_operand) {
            f_->logic_compare_columns = true;
          } else if (rhs.literal) {
            f_->logic_literal = true;
            if (rhs.single && p_ > 0 &&
                (t_[p_ - 1].type == Tok::kString || t_[p_ - 1].type == Tok::kOpenString)) {
              f_->logic_string_only = true;
            }
          }
        } else if (compare) {
          f_->compare_after_break = true;
          if (rhs.literal && !rhs.prose) f_->compare_literal = true;
          if (code_operand) f_->logic_strong = true;
        } else if (arith) {
          f_->arith_after_break = true;
          if (rhs.literal && !rhs.prose) f_->compare_literal = true;
          if (code_operand) f_->logic_strong = true;
        } else {
          f_->compare_after_break = true;
          if (rhs.literal) f_->compare_literal = true;
        }
        (void)before;
        prev = rest;
        continue;
      }
      if (t.type == Tok::kWord) {
        switch (t.kw) {
          case Kw::kUnion:
          case Kw::kIntersect:
          case Kw::kExcept:
          case Kw::kMinus:
            ++p_;
            if (!ParseUnionRhs(depth + 1)) return false;
            continue;
          case Kw::kOrder:
          case Kw::kGroup: {
            ++p_;
            if (AtEnd()) return true;
            if (!AcceptKw(Kw::kBy)) return false;
            if (AtEnd()) return true;
            {
              // ORDER BY 3 probes the column count; ORDER BY ifnull(...) / rand() is code.
              bool numeric = Peek().type == Tok::kNumber ||
                             (Peek().type == Tok::kWord && PeekAt(1) &&
                              PeekAt(1)->type == Tok::kLParen && sql::IsSqlFunction(Text(Peek())));
              if (!ParseExprList(depth + 1, true)) return false;
              f_->clause = true;
              // After one plain word ("price order by 2") it reads as a phrase; probes order
              // after the application's number or a break.
              if (numeric && !f_->operand_word) f_->clause_strong = true;
            }
            continue;
          }
          case Kw::kHaving:
          case Kw::kWhere: {
            ++p_;
            if (AtEnd()) return true;
            Operand o;
            std::size_t cond_start = p_;
            if (!ParseExpr(&o, depth + 1)) return false;
            f_->clause = true;
            if (o.compare || o.func || o.subquery) f_->clause_strong = true;
            // HAVING (1 or 1): a condition made only of constants is a tautology probe.
            if (o.literal && !o.single && p_ - cond_start >= 3) f_->clause_strong = true;
            if ((o.compare && o.literal) || o.func || o.subquery) f_->logic_strong = true;
            continue;
          }
          case Kw::kLimit: {
            ++p_;
            if (AtEnd()) return true;
            if (Peek().type != Tok::kNumber && Peek().type != Tok::kVariable) return false;
            if (!ParseExprList(depth + 1)) return false;
            AcceptKw(Kw::kOffset) && ParseExprList(depth + 1);
            f_->clause = true;
            // "speed limit 65", "credit limit 5000": a word and a limit is English.
            if (!f_->operand_word) f_->clause_strong = true;
            continue;
          }
          case Kw::kProcedure: {
            ++p_;
            Operand o;
            if (!ParsePrimary(&o, depth + 1)) return false;
            if (!o.func) return false;
            f_->clause = true;
            f_->clause_strong = true;
            continue;
          }
          case Kw::kInto: {
            ++p_;
            if (!AcceptKw(Kw::kOutfile) && !AcceptKw(Kw::kDumpfile)) return false;
            f_->into_file = true;
            Operand o;
            if (!ParsePrimary(&o, depth + 1)) return false;
            continue;
          }
          case Kw::kAs: {
            ++p_;
            if (AtEnd()) return true;
            // A double-quoted name is an identifier in ANSI SQL: AS "alias".
            if (!IsIdent(Peek()) && Peek().type != Tok::kString) return false;
            char q = s_[Peek().pos];
            ++p_;
            if (IsKw(Kw::kFrom)) {
              f_->alias_from = true;
              f_->alias_quoted = q == '`' || q == '"';
            }
            continue;
          }
          case Kw::kFrom: {
            ++p_;
            if (!ParseTableRefs(depth + 1)) return false;
            f_->clause = true;
            continue;
          }
          default:
            return false;
        }
      }
      return false;
    }
    return true;
  }

  std::string_view s_;
  std::span<const Token> t_;
  std::vector<Token> owned_;  // the tokens without comments, when there were comments
  const Token* last_comment_ = nullptr;
  bool trailing_comment_ = false;
  bool quote_break_ = false;  // the value was lexed after the application's quote
  Features* f_ = nullptr;
  std::size_t p_ = 0;
  bool failed_ = false;
};

float Score(const Features& f, Break b, bool trailing_comment) {
  float c = 0;
  auto up = [&c](float v) { c = std::max(c, v); };
  bool quote = b == Break::kQuote;
  if (f.union_select) up(0.95f);
  if (f.stacked_strong) up(0.9f);
  if (f.into_file) up(0.9f);
  if (b == Break::kAnchor) {
    if (f.subquery) up(0.7f);
    if (f.dangerous_func) up(0.7f);
    if (f.union_head) up(0.75f);
    return std::min(c, 0.99f);
  }
  if (f.dangerous_func) up(b == Break::kStart ? 0.75f : 0.9f);
  if (f.subquery) up(b == Break::kStart ? 0.75f : 0.9f);
  if (f.statement_strong) up(0.8f);
  if (f.comma_code && f.logic_strong) up(quote ? 0.85f : 0.8f);
  // ", FIND_IN_SET('22', category)": a value that opens with a comma continues the
  // application's select or IN list with a builtin call over a column.
  if (f.comma_code && f.known_funcs > 0 && f.leading_comma && f.column_ref) up(0.55f);
  if (f.info_func) up(b == Break::kStart ? 0.65f : 0.85f);
  // "UNION SELECT" and nothing else is a probe too; with more around it, it must parse.
  // After a plain word it reads as English ("credit union select"); after a number, a quote
  // or a parenthesis it is the start of an extraction.
  if (f.union_bare) {
    if (quote || (b == Break::kOperand && (!f.operand_word || f.closers > 0)))
      up(0.8f);
    else
      up(f.union_only ? 0.55f : 0.4f);
  }
  if (f.union_head) up(quote || b == Break::kOperand ? 0.85f : 0.6f);
  if (f.cond_const) up(b == Break::kStart ? 0.7f : 0.85f);
  if (f.pg_cast) up(quote ? 0.8f : 0.55f);
  if (f.json_op && f.json_cast) up(0.6f);
  // '["a","b"]'::jsonb - 1, '{..}'::jsonb @ '{..}'::jsonb: operators on a cast document.
  if (f.json_literal_cast && (f.arith_after_break || f.compare_after_break || f.logic)) up(0.6f);
  if (f.case_expr && f.literal_seen) up(b == Break::kStart ? 0.55f : 0.8f);
  if (f.numeric_truncation && b != Break::kQuote) up(0.5f);
  if (f.extract_idiom) up(b == Break::kStart ? 0.6f : 0.8f);
  if (f.niladic_info && b != Break::kStart && (f.logic || f.compare_after_break)) {
    up(quote ? 0.85f : 0.8f);
  }
  if (f.union_dangling && b == Break::kOperand && !f.operand_word) {
    up(f.inline_comment ? 0.6f : 0.5f);
  }
  // Quoted alias, or a closing parenthesis before it: ") AS x FROM" ends a call or subquery.
  if (f.alias_from && (f.alias_quoted || f.closers > 0) && (b != Break::kStart || f.closers > 0)) {
    up(quote ? 0.6f : 0.55f);
  }
  if (f.arith_reclose && quote) up(0.6f);
  if (trailing_comment && !quote && (f.logic || f.known_funcs > 0 || f.sql_syntax)) up(0.55f);
  // A constant comparison alone after a number: "1=1" is the tautology probe; "1 < 2",
  // "3 < 5 > 2" is arithmetic people write in forms (a probe orders only with a logical
  // operator, "1 or 2>1", judged below).
  if (f.const_compare && b == Break::kOperand) up(f.const_equal || f.logic ? 0.5f : 0.3f);
  if (f.const_compare && quote) up(0.7f);
  if (f.logic) {
    if (f.logic_strong || f.const_compare) {
      up(quote ? 0.9f : 0.85f);
    } else if (f.logic_compare_columns) {
      // "a=1 and b=2" is also a search/filter syntax; after a quote it is an injection.
      up(quote ? 0.85f : 0.4f);
    } else if (f.logic_literal) {
      if (quote)
        up(f.logic_string_only ? 0.7f : 0.75f);
      else
        up(b == Break::kOperand && !f.logic_string_only ? 0.55f : 0.3f);
    } else {
      up(quote ? 0.6f : 0.15f);
    }
  }
  if (f.clause) {
    if (f.clause_strong)
      up(quote ? 0.85f : (f.closers > 0 || f.const_compare ? 0.8f : 0.6f));
    else
      up(quote ? 0.45f : 0.3f);
  }
  if (f.compare_after_break) {
    if (f.logic_strong) up(quote ? 0.85f : 0.5f);
    up(quote ? (f.compare_literal ? 0.6f : 0.4f) : 0.1f);
  }
  if (f.arith_after_break) {
    if (f.logic_strong) up(quote ? 0.8f : 0.3f);
    up(quote && f.compare_literal ? 0.55f : 0.0f);
  }
  if (trailing_comment) {
    if (quote) {
      up(f.tail_tokens == f.closers ? 0.7f : 0.75f);
    } else if (f.closers > 0) {
      up(0.6f);
    }
  }
  if (f.stacked_weak) up(quote || f.closers > 0 ? 0.6f : 0.35f);
  if (f.sysvar) up(quote || b == Break::kOperand ? 0.8f : 0.6f);
  if (c >= 0.3f) {
    if (f.catalog) c += 0.05f;
    if (f.inline_comment || f.odbc_brace) c += 0.05f;
    if (f.known_funcs > 0) c += 0.05f;
  }
  return std::min(c, 0.99f);
}

// A parse that failed after establishing unmistakable structure (payloads with trailing
// junk, dialect syntax the grammar does not model) keeps that structure, discounted.
float PartialScore(const Features& f, Break b) {
  Features g;
  g.union_select = f.union_select;
  g.subquery = f.subquery;
  g.dangerous_func = f.dangerous_func;
  g.stacked_strong = f.stacked_strong && !f.bare_select_opening;
  g.into_file = f.into_file;
  g.info_func = f.info_func && b != Break::kStart;
  g.union_head = f.union_head;
  g.sysvar = f.sysvar;  // @@version, @@datadir: no text but SQL names these
  g.extract_idiom = f.extract_idiom;
  float s = Score(g, b, false);
  return s > 0 ? std::max(0.0f, s - 0.15f) : 0.0f;
}

const char* RuleFor(const Features& f, Break b) {
  if (f.union_select || f.union_head) return "sqli.union-select";
  if (f.stacked_strong) return "sqli.stacked-query";
  if (f.into_file) return "sqli.file-write";
  if (f.dangerous_func) return "sqli.dangerous-function";
  if (f.subquery) return "sqli.subquery";
  if (f.statement_strong) return "sqli.statement";
  if (f.cond_const) return "sqli.conditional-probe";
  if (f.pg_cast) return "sqli.error-cast";
  if ((f.json_op && f.json_cast) || f.json_literal_cast) return "sqli.json-operator";
  if (f.case_expr && f.literal_seen) return "sqli.case-expression";
  if (f.numeric_truncation) return "sqli.comment-truncation";
  if (f.niladic_info) return "sqli.fingerprint";
  if (f.leading_comma && f.comma_code && f.known_funcs > 0) return "sqli.list-continuation";
  if (f.extract_idiom) return "sqli.blind-extraction";
  if (f.union_dangling) return "sqli.union-select";
  if (f.alias_from) return "sqli.select-list-break";
  if (f.logic && (f.logic_strong || f.const_compare)) return "sqli.boolean-condition";
  if (f.clause) return "sqli.clause-injection";
  if (b == Break::kQuote) return "sqli.quote-break";
  return "sqli.expression";
}

}  // namespace

namespace {

// Error-provoking probes: short values made only of quotes, parentheses and punctuation
// (plus digits), unbalanced, e.g. 1"'(.,(.  — sent to see whether the SQL parser breaks.
bool IsSyntaxProbe(std::string_view text) {
  if (text.size() < 4 || text.size() > 40) return false;
  int quotes = 0, parens = 0, open = 0;
  for (char c : text) {
    if (c == '\'' || c == '"')
      ++quotes;
    else if (c == '(' || c == ')') {
      ++parens;
      open += c == '(' ? 1 : -1;
    } else if (!(c == '.' || c == ',' || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return quotes >= 2 && parens >= 2 && open != 0;
}

// The whole value is the opening of a builtin SQL function call and nothing else
// ("concat(", "database (", "SUBSTRING(\n"): a probe for the function's presence in a
// reflected error. Text that merely mentions a function continues after the parenthesis.
bool IsFunctionProbe(std::string_view text) {
  std::size_t b = 0, e = text.size();
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (b < e && space(text[b])) ++b;
  while (e > b && space(text[e - 1])) --e;
  if (e - b < 3 || e - b > 40 || text[e - 1] != '(') return false;
  --e;
  while (e > b && space(text[e - 1])) --e;
  for (std::size_t i = b; i < e; ++i) {
    char c = text[i];
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                (i > b && c >= '0' && c <= '9');
    if (!word) return false;
  }
  std::string_view name = text.substr(b, e - b);
  sql::Kw kw = sql::KeywordOf(name);
  return !name.empty() && (sql::IsSqlFunction(name) || sql::IsDangerousSqlFunction(name) ||
                           kw == Kw::kInsert || kw == Kw::kReplace);
}

// "1--", "1 * 1 /*", "@version #": numbers, @variables and arithmetic, then an empty comment.
bool IsNumericTruncation(std::string_view text, const std::vector<Token>& raw) {
  if (raw.size() < 2 || raw.back().type != Tok::kComment) return false;
  std::string_view c = text.substr(raw.back().pos, raw.back().len);
  std::size_t skip = c[0] == '#' ? 1 : 2;
  if (c.size() >= 4 && c.substr(c.size() - 2) == "*/") c.remove_suffix(2);
  for (std::size_t i = skip; i < c.size(); ++i) {
    if (c[i] != ' ' && c[i] != '\t') return false;
  }
  // Parenthesised too ("( ( 1 ) ) --", "( 'a' * @a ) --"); string literals only inside
  // balanced parentheses, where they cannot be a quoted word in a sentence.
  bool operand = false;
  bool strings = false;
  int depth = 0, pairs = 0;
  for (std::size_t i = 0; i + 1 < raw.size(); ++i) {
    const Token& t = raw[i];
    if (t.type == Tok::kNumber || t.type == Tok::kVariable) {
      operand = true;
    } else if (t.type == Tok::kString && depth > 0) {
      operand = strings = true;
    } else if (t.type == Tok::kLParen) {
      ++depth;
    } else if (t.type == Tok::kRParen) {
      if (--depth < 0) return false;
      ++pairs;
    } else if (!(t.type == Tok::kOperator && t.op == sql::kOpArith)) {
      return false;
    }
  }
  return operand && depth == 0 && (!strings || pairs > 0);
}

// The tail after a quote break ends in a short open string that the application's closing
// quote completes ("-'0", "regexp '0") and names a column, variable or function.
bool EndsReclosed(std::string_view text, const Parser& p) {
  const Token& last = p.tok(p.size() - 1);
  if (last.type != Tok::kOpenString || last.len > 4) return false;
  std::string_view body = text.substr(last.pos, last.len);
  // A word and a space start the user's quoted phrase; a lone space is the attacker's
  // padding before the application's quote ("1'/column is not null - ' ").
  std::size_t sp = Find(body, ' ');
  if (sp != std::string_view::npos && body.find_first_not_of(" '") != std::string_view::npos) {
    return false;
  }
  for (std::size_t i = 1; i + 1 < p.size(); ++i) {
    const Token& t = p.tok(i);
    if ((t.type == Tok::kWord && t.kw == Kw::kNone) || t.type == Tok::kVariable) return true;
  }
  return false;
}

// "UNION [ALL] SELECT 1,2,3": the attacker counts the application's columns with a run of
// consecutive integers from 0 or 1, written without spaces. The run names the extraction even when
// the keywords around it are mangled for a filter or the rest is cut off ("union *elect
// 1,2,3,ver*ion()", "select union 1,2,3,4,5,6/*", "-1 union 1,2,3,4--"). Prose does not count
// "1,2,3" after a "union".
bool UnionColumnCount(std::string_view text, const Parser& p) {
  for (std::size_t i = 0; i < p.size(); ++i) {
    const Token& u = p.tok(i);
    if (u.type != Tok::kWord || u.kw != Kw::kUnion) continue;
    for (std::size_t j = i + 1; j < p.size() && j <= i + 4; ++j) {
      const Token& first = p.tok(j);
      if (first.type == Tok::kComma) break;  // "European Union, 1, 2, 3"
      if (first.type != Tok::kNumber) continue;
      int expect = -1;
      int run = 0;
      for (std::size_t k = j; k < p.size() && run < 3; k += 2) {
        const Token& t = p.tok(k);
        std::string_view w = text.substr(t.pos, t.len);
        if (t.type != Tok::kNumber || w.size() != 1 || w[0] < '0' || w[0] > '9') break;
        int v = w[0] - '0';
        if (expect < 0 ? v > 1 : v != expect) break;
        expect = v + 1;
        ++run;
        // Written tight ("1,2,3"): a list in a sentence has spaces after its commas.
        if (k + 2 >= p.size() || p.tok(k + 1).type != Tok::kComma ||
            p.tok(k + 1).pos != t.pos + 1 || p.tok(k + 2).pos != t.pos + 2) {
          break;
        }
      }
      if (run >= 3) return true;
      break;
    }
  }
  return false;
}

// Copies `raw` without the parentheses that do not pair up (openers never closed, closers
// with no opener). False when every parenthesis pairs (nothing to rebalance).
bool RebalanceParens(const std::vector<Token>& raw, std::vector<Token>* out) {
  constexpr std::size_t kMaxOpen = 64;
  std::size_t stack[kMaxOpen];
  std::size_t depth = 0;
  bool unmatched_close = false;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i].type == Tok::kLParen) {
      if (depth == kMaxOpen) return false;
      stack[depth++] = i;
    } else if (raw[i].type == Tok::kRParen) {
      if (depth == 0)
        unmatched_close = true;
      else
        --depth;
    }
  }
  if (depth == 0 && !unmatched_close) return false;
  out->clear();
  std::size_t next_drop = 0;  // index into stack[0..depth) of unclosed openers, ascending
  int open = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (next_drop < depth && stack[next_drop] == i) {
      ++next_drop;
      continue;
    }
    if (raw[i].type == Tok::kLParen) ++open;
    if (raw[i].type == Tok::kRParen && open-- == 0) {
      open = 0;
      continue;
    }
    out->push_back(raw[i]);
  }
  return true;
}

}  // namespace

namespace {

// Text before a quote that is a generated token, not a value an application quotes: no
// spaces and a character no user name, e-mail, id or word carries ("fYy|^", "k3{9]q",
// password managers' symbol sets). "admin", "x@example.com" and "42" are none of these.
bool TokenPrefix(std::string_view prefix) {
  if (prefix.size() < 3 || FindFirstOf(prefix, " \t\r\n") != std::string_view::npos) return false;
  // Not a backslash: before the quote it is the escaping bypass itself ("foo\''or'1").
  return FindFirstOf(prefix, "|^~{}[]") != std::string_view::npos;
}

// The break is a double quote followed by '#' and a digit ("7\" #2 circular needle",
// "\"#2 mom\""): an inch mark or a quoted phrase, then a number sign, in a product search; not
// a MySQL comment truncating the query ("admin\"#", "x\" #"). A single quote is left alone:
// "'#" has no such reading. `raw`: the lexer's tokens (comments kept), the first one the
// text before the quote.
bool NumberSignAfterBreak(std::string_view text, const std::vector<Token>& raw) {
  if (raw.size() < 2 || raw[0].type != Tok::kPrefix || raw[1].type != Tok::kComment) return false;
  const std::size_t q = raw[0].pos + raw[0].len;
  const std::size_t p = raw[1].pos;
  return q < text.size() && text[q] == '"' && p + 1 < text.size() && text[p] == '#' &&
         IsAsciiDigit(static_cast<unsigned char>(text[p + 1]));
}

// Text before a quote that reads as a sentence: four or more words of letters that are no
// SQL keywords ("Also escape '#'", not "1 or name like '%'").
bool ProsePrefix(std::string_view prefix) {
  int words = 0;
  for (std::size_t i = 0; i < prefix.size() && words < 4;) {
    if (!IsAsciiAlpha(static_cast<unsigned char>(prefix[i]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < prefix.size() && IsAsciiAlpha(static_cast<unsigned char>(prefix[j]))) ++j;
    std::string_view w = prefix.substr(i, j - i);
    bool word_end = j == prefix.size() || !IsIdentChar(static_cast<unsigned char>(prefix[j]));
    if (w.size() >= 2 && word_end &&
        (i == 0 || !IsIdentChar(static_cast<unsigned char>(prefix[i - 1]))) &&
        sql::KeywordOf(w) == Kw::kNone) {
      ++words;
    }
    i = j;
  }
  return words >= 4;
}

// The quote at text[q] quotes in typography, not in SQL: it closes a GNU-style `name' span
// (a backtick after a space or bracket, up to 40 bytes without quotes, then the apostrophe and
// more prose: "Let `clean' and `distclean' descend"). A comment or terminator after the
// quote ("`admin'--") is a break whatever came before. (A single quoted operator, as in
// "warning: '<': signed", is not excused: "'='" is MySQL's implicit-conversion tautology.)
bool TypographicQuote(std::string_view text, std::size_t q) {
  const std::size_t n = text.size();
  if (q >= n || text[q] != '\'') return false;
  // After the closing quote at c: the end, or a space and a letter, or punctuation that
  // ends a phrase ("`A4' or", "`letter')").
  auto prose_after = [text, n](std::size_t c) {
    const std::size_t a = c + 1;
    if (a >= n) return true;
    const char x = text[a];
    if (x == ' ' || x == '\t') {
      return a + 1 < n && (IsAsciiAlpha(static_cast<unsigned char>(text[a + 1])) ||
                           text[a + 1] == '`' || text[a + 1] == '(');
    }
    return (x == ',' || x == '.' || x == ':' || x == ')') &&
           (a + 1 >= n || IsSpaceChar(static_cast<unsigned char>(text[a + 1])));
  };
  auto word_start = [text](std::size_t b) {
    return b == 0 || IsSpaceChar(static_cast<unsigned char>(text[b - 1])) || text[b - 1] == '(' ||
           text[b - 1] == ':';
  };
  const std::size_t from = q > 41 ? q - 41 : 0;
  for (std::size_t b = q; b > from;) {
    --b;
    const char c = text[b];
    if (c == '\'' || c == '"') return false;
    if (c == '`') return b + 1 < q && word_start(b) && prose_after(q);
  }
  return false;
}

// The value's first `q` delimits an HTML attribute value: it follows `<tag ... name=` with no
// '>' between, and the value closes with `q` before '>', "/>" or the next attribute. Rich text
// ("<a href=\"#top\">Top</a>") puts quotes and '#' where a quote break and a comment would
// be; the other quote character is still judged ("<a href=\"' or 1=1--\">").
bool AttributeQuote(std::string_view text, char q) {
  const std::size_t open = Find(text, q);
  if (open == std::string_view::npos || open < 4) return false;
  std::size_t k = open;
  while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t')) --k;
  if (k == 0 || text[--k] != '=') return false;
  while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t')) --k;
  const std::size_t name_end = k;
  while (k > 0 && (IsAsciiAlpha(static_cast<unsigned char>(text[k - 1])) || text[k - 1] == '-'))
    --k;
  if (k == name_end || k == 0 || (text[k - 1] != ' ' && text[k - 1] != '\t')) return false;
  const std::size_t lt = text.rfind('<', k);
  if (lt == std::string_view::npos || lt + 1 >= k ||
      !IsAsciiAlpha(static_cast<unsigned char>(text[lt + 1])) ||
      Find(text.substr(lt, k - lt), '>') != std::string_view::npos) {
    return false;
  }
  const std::size_t close = Find(text, q, open + 1);
  if (close == std::string_view::npos || close - open > 2048) return false;
  // The tag goes on as markup: '>', "/>", the end, or the next attribute's "name=".
  std::size_t a = close + 1;
  while (a < text.size() && (text[a] == ' ' || text[a] == '\t' || text[a] == '\n')) ++a;
  if (a >= text.size() || text[a] == '>' || text[a] == '/') return true;
  const std::size_t name = a;
  while (a < text.size() && (IsAsciiAlpha(static_cast<unsigned char>(text[a])) || text[a] == '-'))
    ++a;
  return a > name && a < text.size() && text[a] == '=';
}

// The value's only two double quotes quote one word, and after it comes the end or a space and
// a letter: '"like" button', 'browning "like"', '"or" operator in python' (a search for an
// exact word, which search boxes write in double quotes). In the application's literal that
// leaves `<its string> LIKE <its string>`: the text after the word stays inside its closing
// quote, and a string opening with a letter is never true. Single quotes stay judged: MySQL
// implicit-conversion probes write "A 'AND' B".
bool QuotedWordSearch(std::string_view text) {
  constexpr char q = '"';
  const std::size_t open = Find(text, q);
  if (open == std::string_view::npos) return false;
  const std::size_t close = Find(text, q, open + 1);
  if (close == std::string_view::npos || close - open < 2 || close - open > 16 ||
      Find(text, q, close + 1) != std::string_view::npos) {
    return false;
  }
  for (std::size_t i = open + 1; i < close; ++i) {
    if (!IsAsciiAlpha(static_cast<unsigned char>(text[i]))) return false;
  }
  std::size_t a = close + 1;
  if (a == text.size()) return true;
  if (text[a] != ' ' && text[a] != '\t') return false;
  while (a < text.size() && (text[a] == ' ' || text[a] == '\t')) ++a;
  return a < text.size() && IsAsciiAlpha(static_cast<unsigned char>(text[a]));
}

}  // namespace

namespace {

// Tokens a continuation window starts before the end of the previous one.
constexpr std::size_t kSqlWindowOverlapTokens = 64;
// Tokens the parses from anchors in the middle may read together, per token of the value,
// once kMaxSqlParseStarts attempts are made.
constexpr std::size_t kSqlParseTokenBudget = 4;

// AnalyzeSqli over `text`. With `window`, `text` is the rest of a value whose start has been
// read: only the unquoted reading applies and the whole-value probes do not. `*cut` is set
// to where the next window starts when the unquoted reading ran out of tokens, else 0.
SqliResult AnalyzeSqliPart(std::string_view text, std::vector<sql::Token>* tokens, bool window,
                           std::size_t* cut) {
  SqliResult best;
  *cut = 0;
  std::vector<Token> rebalanced;  // allocated only for unbalanced whole statements
  if (!window && IsSyntaxProbe(text)) {
    best.confidence = 0.6f;
    best.rule = "sqli.syntax-probe";
    best.len = text.size();
  }
  if (!window && IsFunctionProbe(text)) {
    best.confidence = 0.5f;
    best.rule = "sqli.function-probe";
    best.len = text.size();
  }
  auto consider = [&](float conf, const char* rule, std::size_t pos) {
    if (conf > best.confidence) {
      best.confidence = conf;
      best.rule = rule;
      best.pos = pos;
      best.len = text.size() - std::min(pos, text.size());
    }
  };
  for (char lex_context : {'\'', sql::kQuoteBackslashLiteral, '"', '`', '\0'}) {
    const char context = lex_context == sql::kQuoteBackslashLiteral ? '\'' : lex_context;
    if (window && context != '\0') continue;
    if (context != '\0' && Find(text, context) == std::string_view::npos) continue;
    if (lex_context == sql::kQuoteBackslashLiteral) {
      // "\'; drop table users; --" is written for the databases where a backslash escapes
      // nothing (or for an escaper that doubles it): read again only when the first quote
      // follows a backslash, the one case where the two readings differ.
      const std::size_t q = Find(text, '\'');
      if (q == 0 || text[q - 1] != '\\') continue;
    }
    if ((context == '"' || context == '\'') && AttributeQuote(text, context)) continue;
    if (context == '"' && QuotedWordSearch(text)) continue;
    const bool complete = sql::Lex(text, lex_context, limits::kMaxSqlTokens, tokens);
    if (!complete && context == '\0' && tokens->size() > kSqlWindowOverlapTokens) {
      *cut = (*tokens)[tokens->size() - kSqlWindowOverlapTokens].pos;
    }
    Parser parser(text, *tokens);
    if (parser.size() == 0 && !(context && !tokens->empty() && parser.trailing_comment())) {
      continue;
    }
    std::size_t attempts = 0;
    if (context != '\0') {
      if (parser.size() == 0 || parser.tok(0).type != Tok::kPrefix) continue;
      // "admin';" / "x'/* */;": the break ends the application's statement right there (the
      // rest of its query is cut off, as with a trailing comment).
      // Only after a single-token value (a user name, e-mail or id), not after prose.
      std::string_view prefix = text.substr(0, parser.tok(0).len);
      if (parser.size() == 2 && parser.tok(1).type == Tok::kSemicolon && !prefix.empty() &&
          FindFirstOf(prefix, " \t\r\n") == std::string_view::npos) {
        consider(0.6f, "sqli.quote-terminate", parser.tok(0).len);
      }
      Features f;
      std::size_t break_pos = parser.tok(0).len;
      if (context == '`') {
        // A `name` break. Backticks also delimit Markdown code spans ("run `select 1` to
        // see"), so only structure that rewrites the query counts, and only when no second
        // backtick closes a span, except a quoted alias before FROM (`x` AS `y` FROM).
        bool ok = parser.ParseFrom(1, false, &f);
        Features g;
        g.alias_from = ok && f.alias_from;
        g.alias_quoted = f.alias_quoted;
        if (Find(text, '`', break_pos + 1) == std::string_view::npos) {
          g.union_select = f.union_select;
          g.union_head = f.union_head;
          g.stacked_strong = f.stacked_strong;
        }
        float conf = Score(g, Break::kQuote, false);
        consider(ok ? conf : std::max(0.0f, conf - 0.15f), RuleFor(g, Break::kQuote), break_pos);
      } else {
        bool ok = parser.ParseFrom(1, false, &f);
        if (ok) f.arith_reclose = f.arith_after_break && EndsReclosed(text, parser);
        float conf = ok ? Score(f, Break::kQuote, parser.trailing_comment())
                        : PartialScore(f, Break::kQuote);
        const char* rule = RuleFor(f, Break::kQuote);
        // A quote after a sentence ("Also escape '#' and '+'", "may not be applied to the '#'
        // and '?' parameters") quotes characters in prose; nothing but the bare break (no
        // statement, function, subquery or tautology) makes it weak evidence.
        if (std::string_view(rule) == "sqli.quote-break" &&
            (ProsePrefix(prefix) || TypographicQuote(text, break_pos) || TokenPrefix(prefix) ||
             NumberSignAfterBreak(text, *tokens))) {
          conf *= 0.6f;
        }
        consider(conf, rule, break_pos);
      }

      ++attempts;
    } else {
      const Token& first = parser.tok(0);
      Features f;
      f.numeric_truncation = IsNumericTruncation(text, *tokens);
      f.leading_comma = first.type == Tok::kComma;
      if (parser.ParseFrom(0, true, &f)) {
        bool operand = f.tail_tokens < static_cast<int>(parser.size());
        Break b = operand ? Break::kOperand : Break::kStart;
        // A value that is a single expression (no tail) is a statement-like start.
        if (f.tail_tokens == 0) b = Break::kStart;
        consider(Score(f, b, parser.trailing_comment()), RuleFor(f, b), 0);
      } else {
        float partial = PartialScore(f, Break::kOperand);
        // Not after an opening statement keyword ("select user() x is what the docs show"
        // selects): there the words are an alias and a sentence glued to SQL.
        if (first.kw == Kw::kNone && parser.StoppedAtWords()) partial = std::min(partial, 0.3f);
        consider(partial, RuleFor(f, Break::kOperand), 0);
      }
      if ((first.type == Tok::kWord && first.kw != Kw::kNone) || first.type == Tok::kLParen) {
        Features g;
        if (parser.ParseWholeStatement(&g)) {
          consider(Score(g, Break::kStart, parser.trailing_comment()), RuleFor(g, Break::kStart),
                   0);
        } else if (RebalanceParens(*tokens, &rebalanced)) {
          // "select sin(((1)),2 from bar where": a parenthesis the statement never closes (or
          // closes twice) belongs to the application's query around it; the statement without
          // it is judged, slightly discounted.
          Parser p2(text, rebalanced);
          Features h;
          if (p2.size() > 0 && p2.ParseWholeStatement(&h)) {
            consider(Score(h, Break::kStart, p2.trailing_comment()) - 0.1f,
                     RuleFor(h, Break::kStart), 0);
          }
        }
      }
      ++attempts;
    }
    if (context == '`') continue;  // anchors are found by the other contexts
    if (best.confidence < 0.8f && UnionColumnCount(text, parser)) {
      for (std::size_t i = 0; i < parser.size(); ++i) {
        if (parser.tok(i).kw == Kw::kUnion) {
          consider(0.8f, "sqli.union-select", parser.tok(i).pos);
          break;
        }
      }
    }
    // Anchors in the middle: UNION, ';', '(' SELECT, dangerous function calls. Past
    // kMaxSqlParseStarts attempts, parsing goes on while the attempts have read fewer than
    // kSqlParseTokenBudget tokens per token: decoy anchors ("x;x;x;...", "union union ...")
    // each fail within a token or two and cannot use up the attempts before the payload.
    std::size_t spent = 0;
    const std::size_t budget = kSqlParseTokenBudget * parser.size();
    auto charge = [&](std::size_t i) { spent += parser.stop() > i ? parser.stop() - i : 1; };
    for (std::size_t i = 1;
         i < parser.size() && (attempts < limits::kMaxSqlParseStarts || spent < budget); ++i) {
      const Token& t = parser.tok(i);
      bool anchor = false;
      bool primary = false;
      if (t.type == Tok::kWord && (t.kw == Kw::kUnion || t.kw == Kw::kIntersect)) anchor = true;
      if (t.type == Tok::kSemicolon) anchor = true;
      if (t.type == Tok::kLParen && i + 1 < parser.size() && parser.tok(i + 1).type == Tok::kWord &&
          parser.tok(i + 1).kw == Kw::kSelect) {
        primary = true;
      }
      if (t.type == Tok::kWord && i + 1 < parser.size() && parser.tok(i + 1).type == Tok::kLParen &&
          sql::IsDangerousSqlFunction(text.substr(t.pos, t.len))) {
        primary = true;
      }
      // A call into a dangerous package with arguments: utl_http.request('http://...'),
      // dbms_pipe.receive_message(...). Named with empty parentheses it is prose; a package
      // name has an underscore ("nettle-benchmark.c (main)" is a file and a function).
      if (t.type == Tok::kWord && i + 4 < parser.size() && parser.tok(i + 1).type == Tok::kDot &&
          parser.tok(i + 2).type == Tok::kWord && parser.tok(i + 3).type == Tok::kLParen &&
          parser.tok(i + 4).type != Tok::kRParen &&
          Find(text.substr(t.pos, t.len), '_') != std::string_view::npos &&
          sql::IsDangerousSqlFunction(text.substr(t.pos, t.len))) {
        primary = true;
      }
      if (t.type == Tok::kWord && i + 1 < parser.size() &&
          (parser.tok(i + 1).type == Tok::kString || parser.tok(i + 1).type == Tok::kOpenString) &&
          IsTsqlProcedure(text.substr(t.pos, t.len))) {
        primary = true;
      }
      // "waitfor delay '0:0:5'" after any text (a URL, a user agent): a T-SQL batch
      // statement without ';' whose only use in a request is a time-based probe.
      if (t.type == Tok::kWord && t.kw == Kw::kWaitfor && i + 2 < parser.size() &&
          (parser.tok(i + 1).kw == Kw::kDelay || parser.tok(i + 1).kw == Kw::kTime) &&
          (parser.tok(i + 2).type == Tok::kString || parser.tok(i + 2).type == Tok::kOpenString)) {
        anchor = true;
      }
      // "1 AND SELECT 1 FROM t", "x' or select top 1 name from users": a whole SELECT glued
      // to the application's operand by a logical operator, as attackers write a subquery
      // without parentheses. Only after a number or a quote break, with a select list that
      // is SQL (TOP, a literal, '*', a variable or a call), not a word ("1 and select items
      // from the menu").
      if (t.type == Tok::kWord && t.kw == Kw::kSelect && i >= 2 && i + 1 < parser.size() &&
          (context != '\0' || parser.tok(0).type == Tok::kNumber)) {
        const Token& l = parser.tok(i - 1);
        const Token& h = parser.tok(i + 1);
        bool logic =
            (l.type == Tok::kOperator && l.op == sql::kOpLogic) ||
            (l.type == Tok::kWord && (l.kw == Kw::kAnd || l.kw == Kw::kOr || l.kw == Kw::kXor));
        bool head = h.kw == Kw::kTop || h.type == Tok::kNumber || h.type == Tok::kString ||
                    h.type == Tok::kVariable ||
                    (h.type == Tok::kOperator && text.substr(h.pos, h.len) == "*") ||
                    (h.type == Tok::kWord && i + 2 < parser.size() &&
                     parser.tok(i + 2).type == Tok::kLParen);
        if (logic && head) {
          ++attempts;
          Features f;
          if (parser.ParseBareSelect(i, &f) && f.select_from) {
            consider(0.8f, "sqli.subquery", l.pos);
          }
          charge(i);
          continue;
        }
      }
      if (!anchor && !primary) continue;
      ++attempts;
      Features f;
      bool ok = primary ? parser.ParseAnchorPrimary(i, &f) : parser.ParseFrom(i, false, &f);
      charge(i);
      if (ok || f.union_select || f.union_head) {
        float conf = Score(f, Break::kAnchor, false);
        if (!ok) conf -= 0.1f;
        consider(conf, RuleFor(f, Break::kAnchor), t.pos);
      }
    }
  }
  // Keywords hidden in MySQL executable comments (/*!UNION*/, /*!50000SELECT*/) are an
  // evasion no application or user writes: any SQL structure around them is an attack.
  if (best.confidence >= 0.3f && best.confidence < 0.75f &&
      Find(text, "/*!") != std::string_view::npos) {
    sql::Lex(text, 0, limits::kMaxSqlTokens, tokens);
    for (const Token& t : *tokens) {
      if (t.exec_comment && t.type == Tok::kWord && t.kw != Kw::kNone) {
        best.confidence = 0.75f;
        break;
      }
    }
  }
  return best;
}

}  // namespace

namespace {

// What a byte can do in SQL around words: nothing (0), separate words without joining them
// into more than arithmetic (kSeparator), or break out of a literal, join an expression or
// start a comment, call or statement (kStructural).
constexpr int kSeparator = 1;
constexpr int kStructural = 2;
constexpr auto kSqlByteKind = [] {
  std::array<uint8_t, 256> k{};
  for (unsigned char c : std::string_view("'\" ();=#|&<>`+*@%!")) k[c] = kStructural;
  for (int c = 1; c < 0x20; ++c) k[c] = kStructural;
  for (unsigned char c : std::string_view("-/,_")) k[c] = kSeparator;
  return k;
}();

}  // namespace

SqlShape SqlShapeOf(std::string_view text, std::string_view lower) {
  int kind = 0;
  for (char c : text) {
    kind = std::max<int>(kind, kSqlByteKind[static_cast<unsigned char>(c)]);
    if (kind == kStructural) return SqlShape::kGrammar;
  }
  if (kind == 0) return SqlShape::kNone;
  if (Find(lower, "--") != std::string_view::npos) return SqlShape::kGrammar;
  // The first word, after any separators.
  std::size_t b = 0;
  while (b < lower.size() && !IsAsciiAlnum(static_cast<unsigned char>(lower[b]))) ++b;
  std::size_t e = b;
  while (e < lower.size() &&
         (IsAsciiAlnum(static_cast<unsigned char>(lower[e])) || lower[e] == '_')) {
    ++e;
  }
  if (e > b && sql::KeywordOf(lower.substr(b, e - b)) != Kw::kNone) return SqlShape::kGrammar;
  return SqlShape::kNamesOnly;
}

namespace {

// Whole values IsSqlCatalogName recognises (a static table: a braced list in the function
// was built on the stack at every call).
constexpr std::string_view kCatalogValues[] = {"mysql.user",
                                               "mysql.db",
                                               "master..sysdatabases",
                                               "tempdb",
                                               "msdb",
                                               "sysobjects",
                                               "syscolumns",
                                               "msysobjects",
                                               "msysaccessobjects",
                                               "msysqueries",
                                               "msysrelationships",
                                               "msysaces",
                                               "msysaccessstorage",
                                               "msysaccessxml",
                                               "msysmodules",
                                               "msysmodules2",
                                               "pg_toast",
                                               "sqlite_temp_master",
                                               "sysaux"};

// Bit n set: some name above is n bytes long.
constexpr uint32_t kCatalogValueLengths = [] {
  uint32_t m = 0;
  for (std::string_view name : kCatalogValues) m |= uint32_t{1} << name.size();
  return m;
}();

}  // namespace

bool IsSqlCatalogName(std::string_view lower) {
  // Called on every value of letters and digits: the names' lengths and first letters reject
  // most before any comparison.
  if (lower.size() > 31 || !((kCatalogValueLengths >> lower.size()) & 1)) return false;
  const char c = lower[0];
  if (c != 'm' && c != 't' && c != 's' && c != 'p') return false;
  for (std::string_view name : kCatalogValues) {
    if (lower == name) return true;
  }
  return false;
}

SqliResult AnalyzeSqli(std::string_view text, std::vector<sql::Token>* tokens) {
  std::size_t cut = 0;
  SqliResult best = AnalyzeSqliPart(text, tokens, false, &cut);
  // A value of more tokens than are kept (a payload after thousands of "1,"): the rest is
  // read in windows, each from a token boundary kSqlWindowOverlapTokens before the end of
  // the one before, as a statement of its own.
  for (std::size_t base = cut; cut > 0; base += cut) {
    SqliResult r = AnalyzeSqliPart(text.substr(base), tokens, true, &cut);
    if (r.confidence > best.confidence) {
      best = r;
      best.pos += base;
    }
  }
  return best;
}

}  // namespace shieldx::detect
