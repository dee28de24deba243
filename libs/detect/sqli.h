// SQL injection detection by grammar, not keyword lists.
//
// A value is tokenised (sql_lexer.h) three times: as code, as the inside of a '...' literal
// and as the inside of a "..." literal. In each context the analyser looks for the point
// where attacker input would leave the application's literal (the first quote, or the first
// operand in code context) and parses what follows with a tolerant recursive-descent SQL
// grammar: expression continuations (`or 1=1`, `and 3715 in (...)`), clauses (UNION SELECT,
// ORDER BY n, HAVING, LIMIT, INTO OUTFILE, PROCEDURE ANALYSE), stacked statements (`; DROP`,
// `; WAITFOR DELAY`), closing parentheses and a final comment or dangling quote that the
// application's own SQL would complete. Only input that parses as such a continuation, and
// whose parse shows injection structure (tautologies and constant comparisons after a
// logical operator, subqueries, UNION SELECT, stacked statements, functions that only
// attacks call, comment truncation right after a break), produces a finding. English text
// with SQL words fails the grammar ("select the best option from the menu").
//
// Thread-safety: stateless; the token buffer comes from the caller.
#ifndef SHIELDX_LIBS_DETECT_SQLI_H_
#define SHIELDX_LIBS_DETECT_SQLI_H_

#include <string_view>
#include <vector>

#include "libs/detect/sql_lexer.h"

namespace shieldx::detect {

struct SqliResult {
  float confidence = 0;   // 0 when nothing SQL-like was found
  const char* rule = "";  // e.g. "sqli.union-select"
  std::size_t pos = 0;    // offending excerpt in the analysed text
  std::size_t len = 0;
};

// Analyses one (normalised) value. `tokens` is scratch space.
SqliResult AnalyzeSqli(std::string_view text, std::vector<sql::Token>* tokens);

// How much SQL a value can hold, by its bytes (`lower`: `text` in lower case):
//  - kNone: no byte SQL needs around words (quote, space, parenthesis, operator, comment
//    mark, '-', '/', ',', '_'): a bare word or number;
//  - kNamesOnly: of those only '-', '/', ',' and '_' (slugs, dates, UUIDs, paths, lists), no
//    "--" comment, and not a keyword first ("select-1" is a statement, "where-0" a clause):
//    words joined into names and arithmetic ("2-1"), never a keyword operator, call,
//    subquery or union;
//  - kGrammar: anything else; AnalyzeSqli decides.
enum class SqlShape { kNone, kNamesOnly, kGrammar };
SqlShape SqlShapeOf(std::string_view text, std::string_view lower);

// Whether the whole of `lower` names a DBMS system catalog or database that no application
// value is ("mysql.user", SQL Server's "msdb", Access's "msysobjects"): a probe for it.
bool IsSqlCatalogName(std::string_view lower);

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_SQLI_H_
