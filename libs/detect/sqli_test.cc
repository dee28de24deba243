#include "libs/detect/sqli.h"

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "libs/detect/limits.h"
#include "libs/detect/normalize.h"
#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

float Conf(const std::string& s) {
  std::vector<sql::Token> toks;
  Arena arena(4096);
  return AnalyzeSqli(Normalize(s, arena).text, &toks).confidence;
}

// Each value, sent as a query argument, is blocked; with `at_least`, the analyser also gives
// it that confidence or more.
void ExpectBlocked(std::initializer_list<const char*> values, float at_least = 0) {
  for (const char* v : values) {
    if (at_least > 0) {
      EXPECT_GE(Conf(v), at_least) << v;
    }
    EXPECT_TRUE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

// Each value, sent as a query argument, is allowed; with `below`, the analyser also gives it
// less than that confidence.
void ExpectAllowed(std::initializer_list<const char*> values, float below = 0) {
  for (const char* v : values) {
    if (below > 0) {
      EXPECT_LT(Conf(v), below) << v;
    }
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

class SqliAttack : public ::testing::TestWithParam<const char*> {};
TEST_P(SqliAttack, IsBlocked) {
  EXPECT_GE(Conf(GetParam()), 0.5f) << GetParam();
  EXPECT_TRUE(testing::Flagged(testing::InspectQueryValue(GetParam()))) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, SqliAttack,
    ::testing::Values(
        // context breaks and tautologies
        "1' or '1'='1", "admin'--", "x\" or \"a\"=\"a", "1 or 1=1", "1) or (1=1", "') or ('a'='a",
        "1' and 1=0 union all select 1,2,3#",
        // UNION SELECT with comments, case and whitespace evasions
        "-1/**/UnIoN/**/SeLeCt/**/1,2,version()--", "1 union%0aselect 1,2",
        "1 /*!50000union*/ /*!50000select*/ 1,2", "1 union distinct select null,null--",
        // stacked queries and T-SQL
        "1; drop table users--", "'; exec xp_cmdshell 'dir'--", "1) waitfor delay '0:0:5'--",
        "1;if(1=1) select 1 else drop function x--",
        // time / error based functions
        "1 and sleep(5)", "1' and extractvalue(1,concat(0x7e,version()))--",
        "(select 1 from pg_sleep(10))", "1 and 3715 in ((char(113)+char(113)))",
        // clauses
        "1' order by 3 --", "1 having 1=1", "1 limit 1,1 procedure analyse(1,1)",
        // concatenation and string tricks
        "x' || (select password from users limit 1) || '", "' or 'x' like 'x",
        // DBMS fingerprinting
        "LENGTH(version())", "@@version and 1=1",
        // broken or truncated UNION payloads still probe: empty items, keyword and quoted
        // table names, trailing junk
        "-12 union select 1,,3,4", "-1 union select 1,2,3 from table/*",
        "-1436 union select 1,2 from \"table\"", "2020-03-01 UNION ALL SELECT CONCAT",
        "-1 union select 1,2,convert(concat_ws(0x3a,user,pass),binary),4 from users/*",
        // MySQL executable comments: bare keywords, and code right after "/*!"
        "/*!UNiOn*/ /*!SeLEct*/ ", "-41 /*!and*/1=2 /*!union*/select/*!1,2,version()*/ --",
        // conditional probes on constants (sqlmap boolean / error based)
        "iif(2976=2976,1,1/0)", "(case when 6398=6398 then 1 else null end)",
        // NOT LIKE / NOT BETWEEN continuing a comparison
        "1 AND 1 NOT LIKE 0", "1 and 1 not between 0 and 1",
        // PostgreSQL error-based casts, stacked INSERT, statement cut after the quote
        "starts_with(password,'a')::int", "function(foo)::double precision",
        ";INSERT INTO table (col) VALUES", "admin@example.com';", "root@example.com'/* c */;",
        // probes: a builtin call opened and nothing else, UNION SELECT alone, a dangerous
        // builtin named after SELECT
        "concat(", "insert(", "database (\n", "SUBSTRING(", "UnIon seleCt\n", "x) union all select",
        "select pg_sleep",
        // PostgreSQL JSON operators
        "OR '{\"b\":2}'::jsonb <@ '{\"a\":1, \"b\":2}'::jsonb", "OR '{\"a\":\"b\"}' ? 'a'",
        "OR '{\"name\":\"asd\"}' ?| array['a','name']",
        "'{\"a\": {\"b\": [\"foo\",\"bar\"]}}'::json #>> '{a,b,1}'",
        // numeric field cut by an empty comment; CASE expressions; Firebird FIRST
        "1--", "1 * 1 /*", "@version --", "case 1 when 2 then 2 end",
        "5 and 1=(select first 1 rdb$relation_name from rdb$relations)--",
        "1; delete low_priority from foo",
        // MySQL implicit conversions re-closed by the application's quote
        "A' NOT LIKE 'B", "1'*column-0-'0", "aa' / current_date regexp '0",
        "a''12' and (pi()=pi())--",
        // niladic account functions compared after a break; info functions with '_'
        "1 or 1=system_user", "1\nand current_user=1", "CHARSET(CURRENT_USER())",
        // UNION left dangling after a number (cut off, or split by comment/newline evasion)
        "-1 union", "-234  union all", "-1#\r\n\r\nunion",
        // T-SQL procedures with arguments and no parentheses, after UNION or a batch
        "10 UNION exec master..xp_cmdshell 'dir'", "1; GO xp_cmdshell 'whoami.exe';",
        // ORDER BY a builtin call; SET session options of a T-SQL script
        "1 order by ifnull(null,userid)", "set ansi_nulls on", "SET QUOTED_IDENTIFIER OFF",
        "set identity_insert dbo.users on",
        // MySQL ODBC braces and "1.e" scientific-notation padding hiding keywords
        "9999 or {if length((select username from user where id=1))>0}",
        "1.e(ascii 1.e(substring(1.e(select password from users limit 1 1.e,1 1.e) 1.e,1 1.e,1 "
        "1.e)1.e)1.e) = 70 or'1'='2",
        // a break out of a `name` or a value that rewrites the select list
        "` AS `edit_user_id` from", "1234 AS \"foobar\" FROM tablevar2=whatever",
        "x` union select 1,2,3--", "admin@example.com`;",
        // @@system variables survive trailing junk
        "1 and substring(@@version,1,1)=5//true",
        // blind extraction one character at a time, in arithmetic
        "234 + (1 / ASCII(substring(passwd,1,1))-4)", "456 + ORD(MID(passwd,1,1))-10",
        // constants in parentheses cut by an empty comment; HAVING on constants only
        " ( ( 1 ) )  --", " ( 'a' * @a )  --", "id having (1 or 1)",
        // UNION SELECT ... FROM with trailing junk; SELECT of a niladic account function
        "-5000224' UNION select user_id from users where user_id>0//",
        "-1 or 1=(select system_user)kdoru",
        // PostgreSQL NOTNULL postfix; ") AS x FROM" closing a call to rewrite the select list
        "z'or email notnull--", ") AS orders FROM", ") as User from users",
        // nested block comments (PostgreSQL reading) hiding the gap between keywords
        "1/* /*/ */ */ or 1=1-", "1001 union/*/**/*/select userid, ccnumber from credit_cards",
        // operators on a quoted document cast to JSON (PostgreSQL only)
        "'{\"b\":2}'::jsonb @ '{\"a\":1, \"b\":2}'::jsonb", "'[\"a\", \"b\"]'::jsonb - 1",
        // MySQL's empty-named user variable '@' after a keyword stays a variable
        "(@:=1)or@ group by concat(@@version,@:=!@)having@||min(0)-- ",
        // DDL: DROP ending after its names, others with SQL punctuation or an ALTER action
        "x'; drop table users cascade--", "'; DROP TABLE IF EXISTS a, b;",
        "create table users (id int)", "GRANT ALL ON db.* TO 'u'@'%'",
        "alter table users add column x int",
        "create clustered columnstore index [x] on [dbo].[y] with (maxdop = 1)",
        // time-based calls with SQL-shaped arguments, including Ruby-style 10.to_i
        "2010-01-01'+sleep(20.to_i)+'", "1 and sleep(@a)", "1;shutdown--", "= 1 or 1=1",
        // a value opening with a comma continues the application's list with a builtin call
        ", FIND_IN_SET('22', Category )", ",concat(user,0x3a,password)",
        // form-encoded spaces that reached a context which does not decode '+'
        "1'+or+'1'='1", "-1+union+select+1,2"));

class SqliBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(SqliBenign, IsAllowed) {
  EXPECT_LT(Conf(GetParam()), 0.5f) << GetParam();
  EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(GetParam()))) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(
    Text, SqliBenign,
    ::testing::Values(
        "select the best option from the menu", "union was a great select", "O'Reilly and sons",
        "it's a nice day, isn't it?", "D'or 1st parfume", "I'd like 2 or 3 items", "john or mary",
        "rock 'n' roll -- live", "Tom & Jerry; the best", "calle neptuno 162, 3-B",
        "1-2 business days", "drop me a line; update: shipped",
        "\"SWEATER DRESS\" AND \"CHRISTMAS\"", "exec noun", "100% cotton (washable)",
        "price >= 10 and <= 20", "email me at john.doe@example.com", "a=1 and b=2",
        "order by price please",
        // SQL-ish words, code and casts that are not injections
        "H HAT 18';", "std::string", "Foo::Text", "a::int", "x::text", "the credit union",
        "credit union select", "Credit Union Select ", "select sleep mode",
        "case study when done then ship end", "2--3 days", "call 555-1234--", "1-- foo bar",
        "it's 5' x 3' - 'ok", "concat(a, b) joins strings", "see count( in the docs",
        "union select committee", "\"dbeaver:\" is output.",
        "deleting /dev/sda7 (which is labeled as \"/\") will cause complications",
        "case when it rains, stay in", "convert(value, binary) explained",
        "select all; delete none", "{\"query\": \"union of sets\", \"select\": [1, 2]}",
        "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 (\xd1\x82\xd0\xb5\xd1\x81\xd1\x82) "
        "'\xd0\xbc\xd0\xb8\xd1\x80' -- \xd0\xba\xd0\xbe\xd0\xbd\xd0\xb5\xd1\x86",
        "\xe9\x80\x89\xe6\x8b\xa9 union; \xe8\xa1\xa8 (1, 2)",
        // words next to the new rules: prose with "union", "current_user", "set ... on",
        // a number before AS ... FROM, section numbers like 1.e(ii), Markdown code spans
        "I am 1 union member", "the 2 union reps", "current_user", "set the mood on", "set nocount",
        "1 as usual from home", "see section 1.e(ii) of the contract",
        "run `select * from users` to list them", "use `a=1 and b=2` as the filter",
        "the `users` table has 3 rows", "{\"if\": \"x\", \"order\": 1}",
        "xp_cmdshell is disabled by default", "how to enable xp_cmdshell in SQL Server 2019?",
        "tea having (1 or 2) sugars", "'a' --", "use ascii codes for substring matching",
        "(see note) -- thanks", "(note) as usual from home", "the isnull check is slow",
        "a /* b /* c */ d", "nlohmann::json - x", "email me @ home or @ work",
        // DDL verbs in English
        "create table for the party", "drop table reservations please", "create view of the sea",
        "create user account", "grant all access to team", "alter table layout for mobile",
        // dangerous names and statements in prose; a value starting with a comparison
        "benchmark(s) results", "shutdown now", "like 5 or more", ">= 10 or so", ", max(3)",
        ", and (see above)", ", count(items) per page", "C++ or Java", "Tom+and+Jerry",
        "price+from+store"));

TEST(Sqli, ReportsTheBreakAsExcerptStart) {
  std::vector<sql::Token> toks;
  SqliResult r = AnalyzeSqli("john' or 1=1--", &toks);
  EXPECT_STREQ(r.rule, "sqli.boolean-condition");
  EXPECT_EQ(r.pos, 4u);
}

TEST(Sqli, DangerousNamesWithProseArgumentsAreNotCalls) {
  // (End to end, "sleep(8 hours)" is the code-injection detector's call.)
  EXPECT_LT(Conf("sleep(8 hours)"), 0.5f);
  EXPECT_LT(Conf("pg_sleep(tonight)"), 0.5f);
  EXPECT_GE(Conf("1 and sleep(8)"), 0.5f);
}

TEST(Sqli, TokenLimitBoundsWork) {
  std::string big;
  for (int i = 0; i < 5000; ++i) big += "1+";
  big += "1";
  std::vector<sql::Token> toks;
  AnalyzeSqli(big, &toks);
  EXPECT_LE(toks.size(), 2048u);
}

// Past the token limit the rest of a value is read in windows: a payload after thousands of
// tokens is found in a later window; a long list or long text is still nothing.
TEST(Sqli, APayloadPastTheTokenLimitIsFound) {
  std::vector<sql::Token> toks;
  for (std::size_t pad : {std::size_t{1100}, std::size_t{3000}, std::size_t{9000}}) {
    std::string padding;
    for (std::size_t i = 0; i < pad; ++i) padding += "1,";
    for (const std::string& payload :
         {std::string("1 union select password from users--"), std::string("1; drop table users--"),
          std::string("1 and sleep(5)-- ")}) {
      const std::string value = padding + payload + (pad == 9000 ? padding : std::string());
      SqliResult r = AnalyzeSqli(value, &toks);
      EXPECT_GE(r.confidence, 0.8f) << pad << " " << payload;
      EXPECT_GT(r.pos, 0u) << pad << " " << payload;  // reported from a later window
      EXPECT_LE(toks.size(), limits::kMaxSqlTokens);
    }
  }
  std::string list;
  std::string prose;
  for (int i = 0; i < 6000; ++i) {
    list += std::to_string(i) + ",";
    prose += i % 11 == 0 ? "select the items from the list, and union them. " : "word ";
  }
  EXPECT_LT(Conf(list), 0.5f);
  EXPECT_LT(Conf(prose), 0.5f);
}

// SQL Server reads every control byte as white space, MySQL a Latin-1 no-break space.
TEST(Sqli, ControlBytesAndNoBreakSpacesSeparateKeywords) {
  for (char sep : {'\x01', '\x08', '\x0e', '\x1f', '\t'}) {
    std::string v = "1 union select password from users--";
    for (char& c : v) c = c == ' ' ? sep : c;
    EXPECT_GE(Conf(v), 0.8f) << static_cast<int>(sep);
  }
  EXPECT_GE(Conf("1'\xa0or\xa0"
                 "1=1--"),
            0.8f);  // Normalize folds the lone 0xA0 first
}

// Decoy anchors that each fail at once ("x;" or "union " forty times) do not use up the
// parse attempts before the payload.
TEST(Sqli, DecoyAnchorsDoNotHideAPayload) {
  for (const char* decoy : {"x;", "union ", "sleep() ", "a; "}) {
    std::string padding;
    for (int i = 0; i < 60; ++i) padding += decoy;
    for (const char* payload :
         {"1 union select password from users--", "1 and benchmark(10000000,md5(1))--"}) {
      EXPECT_GE(Conf(padding + payload), 0.6f) << decoy << " " << payload;
    }
  }
}

TEST(Sqli, UnionColumnCountingSurvivesMangledKeywords) {
  // The run 1,2,3 after UNION counts the application's columns.
  for (const char* v : {"-6374 union 1,2,3,4,5-- ", "-747 select union 1,2,3,4,5,6/*",
                        "1' select union 1,2,3,4,5,6/*", "-427 UNION *ELECT 1,2,3,4,ver*ion()",
                        "0 union distinctrow 0,1,2--"}) {
    EXPECT_GE(Conf(v), 0.8f) << v;
    EXPECT_TRUE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
  for (const char* v : {"our credit union 1, 2 or 3 branches", "union 2,3,4 members",
                        "European Union, 1, 2, 3 (see annex)", "teachers union: 1,5,9",
                        "union 1, 2, 3 and 4", "Union,1,2,3"}) {
    EXPECT_LT(Conf(v), 0.5f) << v;
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

TEST(Sqli, BareSelectAfterALogicalOperatorIsASubquery) {
  for (const char* v :
       {"1 AND SELECT TOP 10 USERNAME FROM USERS -- 1", "1 AND SELECT 1 FROM T.TRANS_DATE -- 1",
        "x' or select count(*) from users--", "5 || select 'a' from dual;"}) {
    EXPECT_GE(Conf(v), 0.8f) << v;
    EXPECT_TRUE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
  for (const char* v : {"1 and select items from the menu", "Pick 1 and select 2 from the list",
                        "2 or select your size from the chart", "O'Brien and select from menu"}) {
    EXPECT_LT(Conf(v), 0.5f) << v;
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

TEST(Sqli, UnpairedParenthesisDoesNotHideAWholeStatement) {
  for (const char* v : {"select sin(((1)),2 from bar where", "select (((((1,2,3,4)))) from bar",
                        "select -'1',sin(((@version)),2 from bar where", "select 1) from users"}) {
    EXPECT_GE(Conf(v), 0.6f) << v;
    EXPECT_TRUE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
  for (const char* v :
       {"Select (the best option from the list", "select the best option) from the list",
        "Select (or deselect) the items from your cart (max 5",
        "Update (please) your address from the profile page"}) {
    EXPECT_LT(Conf(v), 0.5f) << v;
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

TEST(Sqli, StatementsAsBranchesOfAConditionalAreStacked) {
  // sqlmap's stacked IF((a=b),SELECT a,DROP FUNCTION x) after the application's parentheses.
  for (const char* v : {"FOO); IF((6681=9099),SELECT 6681,DROP FUNCTION CGIQ);# AND (4596=4596",
                        "FOO))); IF((9256=5702),SELECT 9256,DROP FUNCTION IRII);#",
                        "1; IF((1=2),SELECT 1,DROP TABLE t)"}) {
    EXPECT_GE(Conf(v), 0.7f) << v;
    EXPECT_TRUE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
  for (const char* v :
       {"max(a, select b)", "call me (ok, drop it)", "options (a, select all, drop none)",
        "if (yes, select one), drop us a line"}) {
    EXPECT_LT(Conf(v), 0.5f) << v;
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

TEST(Sqli, ArithmeticOnAColumnReclosedByAPaddedQuote) {
  for (const char* v :
       {"1'/column is not null - ' ", "1'*column is not \\N - ' ", "1'^column is not null - ' "}) {
    EXPECT_GE(Conf(v), 0.5f) << v;
  }
  for (const char* v :
       {"it's a - ' ", "Rock'n roll - ' ", "O'Brien / smith - ' ", "the 5's / 2 - ' "}) {
    EXPECT_LT(Conf(v), 0.5f) << v;
  }
}

TEST(Sqli, UnionOfAParenthesisedSelectAfterALiteral) {
  for (const char* v : {"test'-1/1/**/union(select table)", "test'-@version union (select table)",
                        "test'-'xyz' union (select table)", "-1 union(select table)"}) {
    EXPECT_GE(Conf(v), 0.6f) << v;
    EXPECT_TRUE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
  for (const char* v : {"our credit union (select branches only)", "member of union 5 (select one)",
                        "Local 12 union (select members)"}) {
    EXPECT_LT(Conf(v), 0.5f) << v;
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

// A bare column (or MySQL's digit-led name) after "<number> UNION SELECT" with the rest of
// the query commented out; without the comment, or after words, it stays English.
TEST(Sqli, UnionOfABareColumnAfterANumberWithTheRestCommentedOut) {
  ExpectBlocked({"-1 union select password--", "-1 union all select 1blablabla--",
                 "1 union select name#", "-1 union select 1x,2x-- -"},
                /*at_least=*/0.6f);
  ExpectAllowed({"2 union select members", "news union select items--", "-1 union select password",
                 "our union select committee -- see list"},
                /*below=*/0.5f);
}

// BETWEEN's bounds are arithmetic expressions; the AND between them is no logical operator.
TEST(Sqli, ArithmeticBetweenBoundsAfterABreakParse) {
  ExpectBlocked(
      {"0' between 2-1 and 4-1 or '1", "0' between 2-1 and 4-1 or 1 sounds like binary '1",
       "x' and id between 1*2 and 3-1 -- "},
      /*at_least=*/0.6f);
  ExpectAllowed({"price between 10-5 and 20", "ages between 18-25 and 30-40"});
}

// Outside MySQL a backslash escapes nothing: "\\'" ends the literal. Escaped apostrophes in
// text and code stay text.
TEST(Sqli, ABackslashBeforeTheBreakIsReadTheStandardWayToo) {
  ExpectBlocked({"\\'; DROP TABLE users; --", "\\' or 1=1--", "admin@x.example\\' or 1=1 -- ",
                 "a\\' union select password from users--"},
                /*at_least=*/0.6f);
  ExpectAllowed({"It\\'s a test", "O\\'Neil and O\\'Brien",
                 "can\\'t login, user or password invalid", "var s = \\'hello\\'; var t = 1;",
                 "\\'quoted\\' or not"});
}

TEST(Sqli, SelectOfANounPhraseIsEnglish) {
  for (const char* v :
       {"Select the date from the calendar", "Select one from the list below",
        "Select your size from the chart", "Please select your size, colour from the list",
        "Select size and colour from the options above"}) {
    EXPECT_LT(Conf(v), 0.5f) << v;
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
  for (const char* v : {"select name from users", "-1fUNION SELECT column_name FROM table_name",
                        "1 union select the_date from calendar", "select a.b from t a"}) {
    EXPECT_GE(Conf(v), 0.5f) << v;
  }
}

// A bare quote break after a generated token (a password manager's symbol set) is weak
// evidence; after a user name, an address or a backslash escape it is the classic probe.
TEST(Sqli, AQuoteBreakAfterAGeneratedTokenIsWeak) {
  ExpectAllowed({"fYy|^\">#IR}8", "k3{9]q'--x"}, /*below=*/0.5f);
  ExpectBlocked({"admin'--", "admin'#", "x@example.com'--", "foo\\''or'oof", "k3{9]q' or 1=1--"});
}

// A double quote then '#' and a digit is an inch mark or a quoted phrase and a number sign in
// a product search; a bare '#' after a quote, or '#<digit>' after a single quote, truncates.
TEST(Sqli, ANumberSignAfterADoubleQuoteIsWeak) {
  ExpectAllowed({"7\" #2 circular needle", "\"#2 mom\"", "1/4\" #8 screws", "\"#2"},
                /*below=*/0.5f);
  ExpectBlocked(
      {"admin\"#", "admin\" #", "admin'#2", "admin' #1", "x\" or 1=1 #2", "x\" union select 1 #2"});
}

// A '+' glued to a T-SQL batch keyword, or before the string argument of WAITFOR DELAY or a
// system procedure, is a form-encoded space as it is before OR and UNION; string
// concatenation keeps its operator.
TEST(Sqli, PlusSpacesAroundBatchStatements) {
  ExpectBlocked(
      {"\"+WAITFOR+DELAY+'", "1'+waitfor+delay+'0:0:5'--", "x';+exec+master..xp_cmdshell+'dir'--"});
  ExpectAllowed({"'a'+'b'", "price+'5'", "delay+'x'", "sp_x+'y'"});
}

// A whole value that is SELECT of plain names joined by arithmetic is a title ("SELECT shop -
// new", a Japanese "select shop" in full-width letters); literals, a star, a call or a source
// make it a statement.
TEST(Sqli, ASelectOfPlainNamesAloneIsATitle) {
  ExpectAllowed({"SELECT shop - new", "ＳＥＬＥＣＴ　ショップ　－　新作コレクション２０２３",
                 "select x - y"});
  ExpectBlocked({"select 1-1", "select *", "select a - b from t", "SeLect*/ 1,2,3,user(",
                 "select 0x616263", "x' select a - b --"});
}

// A man page name and its changelog ("select.2 mtk Added ...") opens with a SELECT of a
// number under an alias and then reads as a sentence; a SELECT with FROM or a call before the
// sentence, or the bare statement alone, is still SQL.
TEST(Sqli, AnOpeningSelectOfConstantsFollowedByProseIsASentence) {
  for (const char* v : {"select.2 mtk Added return types to prototypes for FD_SET(), FD_CLR().",
                        "select.2 Karel Kulhavy Note more clearly that fd_set arguments can be",
                        "select 1 x is what the docs show"}) {
    EXPECT_LT(Conf(v), 0.5f) << v;
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
  for (const char* v : {"select.2 mtk", "1 select 1 from users", "1) select @@version",
                        "select user() x is what the docs show"}) {
    EXPECT_GE(Conf(v), 0.5f) << v;
  }
}

// A call whose expression stops at two plain words side by side ("sleep(8) hours a night":
// an alias, then a third name) goes on as a sentence; a value opening with a statement
// keyword, or a call with an operator or comment after it, is still SQL.
TEST(Sqli, ACallFollowedByASentenceIsProse) {
  ExpectAllowed({"sleep(8) hours a night", "version() returns the server version",
                 "user() and database() are MySQL functions"});
  ExpectBlocked(
      {"sleep(5)", "1 and sleep(5)", "version()--", "select user() x is what the docs show"});
}

// "Delete from cart" as the whole value is a button's label: a statement that breaks out of
// nothing and names one table without a condition. After a quote or a separator, or with a
// condition, it is judged in full.
TEST(Sqli, ADeleteFromLabelIsNoStatement) {
  ExpectAllowed({"Delete from cart", "delete from favorites", " Delete from Cart "});
  ExpectBlocked({"delete from users where 1=1", "';delete from users--", "1;delete from users",
                 "delete from my_table"});
}

// Requests in English that open like DELETE, RENAME, GRANT or ALTER: a DELETE that goes on
// after its table without WHERE, a hyphen, slash or full stop of a name or a sentence, CJK
// text after DROP TABLE opening the value, and CREATE TABLE going on in words after the name
// are no statement; the same verbs with a condition, SQL punctuation or a ';' are.
TEST(Sqli, SentencesOpeningWithAStatementVerb) {
  ExpectAllowed({"Delete from my cart the blue shoes", "delete from favourites please",
                 "Delete from my account all saved cards",
                 "Rename all ChangeLog files to ChangeLog-2011.", "Rename all files to backup-2020",
                 "Grant all employees access to building-5.", "Create all invoices for 2023-2024.",
                 "Alter all dresses to size-8.", "Revoke all permissions from user-12.",
                 "drop table 是什么意思", "Create table reservation for 4 (window seat)"});
  ExpectBlocked({"delete from users where id=1", "1;delete from users", "';delete from users--",
                 "rename table `users` to `u2`", "grant all on db.* to 'x'@'%'",
                 "create table t(a int)", "alter table users add admin int", "drop table users",
                 "1;drop table 用户", "create table if not exists t (a int)",
                 "create table t (a int)"});
}

// "Paris (France) or Rome (Italy)": a name, a space and a bracket of words is a remark, not a
// call; so is a builtin's name between AND, OR, commas and the ends of the value. Assigned or
// compared builtins, calls after a quote break and calls written against their parenthesis
// stay calls.
TEST(Sqli, WordsInBracketsAreARemark) {
  ExpectAllowed({"Apples (red) and pears (green)", "Paris (France) or Rome (Italy)",
                 "Email (preferred) or phone (mornings only)",
                 "John (manager) and Mary (assistant)",
                 "Coffee (black), tea (green) and juice (orange)", "Left (side) or right (side)",
                 "User (admin) or user (guest)"});
  ExpectBlocked({"1 and ascii (substring(user(),1,1))>64", "' or json (id);",
                 "admin'and unlikely (id)--", "1 and foo(bar) and baz(qux)",
                 "1 and length (name)>5", "a; b=char (d)"});
}

// SQLite compares anything with IS, but "<words> where <name> is <name>" is a sentence; a
// number, an operator or NULL after IS is SQL.
TEST(Sqli, IsBeforeABareNameIsEnglish) {
  ExpectAllowed({"restaurants where parking is free", "items where size is large"});
  ExpectBlocked({"' or userid is not 2", "id'is not-id--", "aa' is 0 or '1", "1 or 1 is not null"});
}

// A quoted logical word and the rest of the sentence up to the application's quote: the
// string it is compared with is false in every dialect.
TEST(Sqli, AQuotedLogicalWordInASentence) {
  ExpectAllowed({"Use 'OR' between search terms", "Type 'and' to combine words"});
  ExpectBlocked({"admin' or '1", "' or 'x'='x", "x' or 'a"});
}

// In a quote break, EXEC with a string left open to the application's quote is a procedure
// call when the string is an argument ("EXECUTE IMMEDIATE \""), not when it is the rest of
// the user's sentence.
TEST(Sqli, ExecBeforeTheRestOfASentence) {
  ExpectAllowed({"He wrote 'exec summary' on the cover"});
  ExpectBlocked({"EXECUTE IMMEDIATE \"", "'; exec xp_cmdshell 'dir'--"});
}

// A '/' ending the value right after UNION SELECT is a comment opener cut off; after a
// plain word the phrase stays English.
TEST(Sqli, UnionSelectBeforeACutOffCommentIsTheProbe) {
  ExpectBlocked({"'union select/", "'union select/\n", "1 union select/"});
  ExpectAllowed({"credit union select/", "a/b union select/"});
}

// A percentage before a word is prose ("35% cotton and 65% polyester", a product's
// material); modulo and a logical operator with operands around them still are SQL.
TEST(Sqli, PercentagesBeforeWordsAreProse) {
  ExpectAllowed(
      {"35% cotton and 65% polyester.", "80% ACRYLIC AND 20% WOOL", "50%  off or 2 for 1 deals"});
  ExpectBlocked({"1 and 5% 2=1", "1 or 50% and 1=1", "1 and 7%2=1", "1 or 1=1 -- 35% off"});
}

// A plain word before LIMIT or ORDER BY is a phrase ("speed limit 65"); after a number, a
// parenthesis or a quote break the clause is still a probe.
TEST(Sqli, AWordBeforeALimitIsAPhrase) {
  ExpectAllowed({"speed limit 65", "credit limit 5000", "word limit 500", "price order by 2"});
  ExpectBlocked(
      {"1 limit 0,1", "1 order by 5", "char(10) limit 1", "1' order by 3--", "x' limit 1--"});
}

// A dangerous package's call after a logical operator (Oracle out-of-band requests), found
// as an anchor inside a value the grammar cannot read whole; named in prose with empty
// parentheses it is not a call.
TEST(Sqli, DangerousPackageCallIsAnAnchor) {
  ExpectBlocked({"1 and select utl_http.request('http://x.example/')",
                 "1 and select (utl_http.request('http://x.example/') || select x from with"});
  ExpectAllowed({"the utl_http.request() function", "see utl_http.request docs",
                 "* examples/nettle-benchmark.c (main): Benchmark sha512_224."});
}

// "just in case": CASE without a WHEN is the English word, no conditional.
TEST(Sqli, CaseWithoutWhenIsAWord) {
  ExpectAllowed({"just in case", "Just in case (abc)", "bring one in case"});
  ExpectBlocked({"1 and case when 1=1 then sleep(5) end", "1 in (case when 1=1 then 1 end)",
                 "case when 5=5 then 1 else null end"});
}

// An exact-word search in double quotes leaves "<string> LIKE <string>" in the application's
// literal; a further quote, a digit after it or single quotes keep it judged.
TEST(Sqli, AnExactWordSearchInDoubleQuotesIsText) {
  ExpectAllowed({"\"like\" button", "browning \"LIKE\"", "\"or\" operator in python",
                 "\"between\" two ferns", "\"IS\" STAMP"});
  ExpectBlocked({"\"or\" x\" or 1=1 --", "\"or\" 1=1", "\"or\"=\"or\"", "\"or\"sleep(5)#",
                 "A 'AND' B", "'or' 1=1"});
}

// XPath injection closes the string and the predicate and appends a location path; brackets
// after quoted words in prose, Markdown links and JSON arrays do not continue with a path.
TEST(Sqli, AnXPathPredicateBreakIsInjection) {
  for (const char* v : {"'] | //user[name='admin", "admin' or '1'='1'] | //*['", "x']/parent::*",
                        "\"] | /accounts/account[1"}) {
    Verdict verdict = testing::InspectQueryValue(v);
    EXPECT_TRUE(testing::HasCategory(verdict, Category::kSqli) && testing::Flagged(verdict))
        << v << " -> " << verdict.explanation;
  }
  for (const char* v :
       {"[\"a\"]/2", "see ['docs'](/x)", "['a'] / b", "[\"x\", \"y\"] / total", "the ['a'] list",
        "a['x']/b[1]", "row['total']/row['count']", "s.replace(/[\"']/g, \"\")"}) {
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

// Spreadsheet formulas over cell references (a sheet editor's JSON) are no SQL expression;
// the same shapes over constants, with a tautology, a quote break or a dangerous function
// still are.
TEST(Sqli, SpreadsheetFormulasOverCellsAreNotExpressions) {
  for (const char* v : {"=IF(A1>10,\"big\",\"small\")", "=SUMIFS(C:C,A:A,\">5\")",
                        "=VLOOKUP($C1,Sheet2!A:B,2,FALSE)", "=A1+B1"}) {
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
  for (const char* v : {"=IF(1=1,1,0)", "=1 or 1=1", "=1' or '1'='1", "=if(A1=1,sleep(5),0)"}) {
    EXPECT_TRUE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

// A sentence that quotes SQL words ("select all", "delete") breaks the quote into a SELECT of
// a string and then prose: no stacked statement.
TEST(Sqli, QuotedSqlWordsInASentenceAreNoStatement) {
  for (const char* v :
       {"I think \"select all\" then \"delete\" is the fastest way to clear the list, right?",
        "\"select all\" then \"delete\""}) {
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
  for (const char* v : {"x' select 1 from users--", "x'; select 'a' and more"}) {
    EXPECT_TRUE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

// A keyword split by a comment glued to its letters ("UNI/**/ON") is written for filters that
// strip comments; comments between words, in paths and in code are not.
TEST(Sqli, AKeywordSplitByACommentIsAnEvasion) {
  for (const char* v :
       {"' UNI/**/ON SEL/**/ECT 1,2--", "1 un/*x*/ion all sel/**/ect 1", "sl/**/eep(5)"}) {
    Verdict verdict = testing::InspectQueryValue(v);
    EXPECT_TRUE(testing::HasCategory(verdict, Category::kSqli) && testing::Flagged(verdict))
        << v << " -> " << verdict.explanation;
  }
  for (const char* v : {"/* comment */ select", "a/**/b", "foo/*bar*/baz", "see /* note */ there",
                        "int x = 1; /* select */ y"}) {
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

TEST(Sqli, OrderingOfConstantsIsArithmetic) {
  // Math in a form: no logical operator, only <, >, <=, >= between numbers.
  for (const char* v : {"1 < 2", "3 < 5 > 2", "1<2>3", "5 >= 3", "-1<0", "2 > 1"}) {
    EXPECT_LT(Conf(v), 0.5f) << v;
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
  // Equality of constants is the tautology probe; with a logical operator ordering is too.
  for (const char* v : {"1=1", "1 or 2>1", "1 and 2>1", "1 <> 2", "1)or(2>1"}) {
    EXPECT_GE(Conf(v), 0.5f) << v;
    EXPECT_TRUE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

TEST(Sqli, QuotedWordSelectInProseIsNotAStatement) {
  // After the break, SELECT of one string the application's quote closes reads a constant.
  for (const char* v : {"the word 'select' in SQL", "where can i find 'select' brand shoes",
                        "press 'Select' to continue"}) {
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
  // A list, a variable, FROM or a terminated statement after it is an injected statement.
  for (const char* v : {"x' select 'a','b", "x' select @@version--", "1' select 'abc' from dual--",
                        "x'; select 'a"}) {
    EXPECT_TRUE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

TEST(Sqli, AQuoteAfterASentenceQuotesCharactersInProse) {
  // Release notes and manuals quote characters and names after a sentence: a bare break.
  for (const char* prose :
       {"dirmngr: Escape more characters in WKD requests. Also escape '#' and '+'",
        "While variable indirection is available, it may not be applied to the '#' and '?' "
        "special parameters.",
        "Fixed a bug that caused `readonly' and `export' to create local array variables"}) {
    Verdict v = testing::InspectQueryValue(prose);
    EXPECT_FALSE(testing::Flagged(v)) << prose << " -> " << v.explanation;
  }
  // The same breaks after a short value or SQL, and real structure after a sentence, block.
  for (const char* attack : {"admin'#", "1 or name like '%'", "Nice post from you today' or '1'='1",
                             "this is a nice post'; drop table users--", "x' and '#' and '+"}) {
    Verdict v = testing::InspectQueryValue(attack);
    EXPECT_TRUE(testing::Flagged(v)) << attack << " -> " << v.explanation;
  }
}

// GNU-style quotes (`name') in changelogs and manuals close a backtick span and go on with
// prose; the same apostrophe followed by a comment, a terminator or real structure breaks.
TEST(Sqli, AGnuStyleQuoteInProseIsTypography) {
  for (const char* prose :
       {"* Makefile.in: Let `clean' and `distclean' descend into gnulib.",
        ". a predefined paper format (e.g. `A4' or `letter')",
        "* Programs `strip' and `objcopy' will not attempt to write dynamically linked files",
        "d. Fixed a problem with using `*' and `@' as subscripts when assigning values"}) {
    Verdict v = testing::InspectQueryValue(prose);
    EXPECT_FALSE(testing::Flagged(v)) << prose << " -> " << v.explanation;
  }
  for (const char* attack : {"`admin'--", "`a'#", "`admin' --", "`admin';", "`x' or 1=1--",
                             "a `b' union select 1--", "'='", "A '=' B"}) {
    Verdict v = testing::InspectQueryValue(attack);
    EXPECT_TRUE(testing::Flagged(v)) << attack << " -> " << v.explanation;
  }
}

TEST(Sqli, AParenthesisedRemarkAfterASemicolonIsNoCall) {
  // A Debian changelog header: "; urgency=medium (closes ... bugs)" reads as a statement
  // "urgency = medium(...)" only if the remark were an argument list.
  for (const char* text :
       {"libgc (1:6.0-1) unstable; urgency=medium (closes several serious and important bugs)",
        "done; status=fixed (see the release notes for details)"}) {
    Verdict v = testing::InspectQueryValue(text);
    EXPECT_FALSE(testing::Flagged(v)) << text << " -> " << v.explanation;
  }
  for (const char* attack : {"1; x=sleep(5)", "1; x=benchmark(100000,md5(1))", "a; b=char (d)"}) {
    Verdict v = testing::InspectQueryValue(attack);
    EXPECT_TRUE(testing::Flagged(v)) << attack << " -> " << v.explanation;
  }
}

// After ';', a call runs as a statement only when SQL knows the function: random tokens
// (generated passwords, API keys) hold ";o(U=l" by chance.
TEST(Sqli, ACallAsAStatementNamesAnSqlFunction) {
  for (const char* text : {"P+%Ujb(8me;o(U=l", "hello;f(x=1", "x;a(b=c"}) {
    Verdict v = testing::InspectAsForm(text);
    EXPECT_FALSE(testing::Flagged(v)) << text << " -> " << v.explanation;
  }
  for (const char* attack : {"1;iif(1=1,1,0)", "1;benchmark(1000000,md5(1))",
                             "1';elt(1=1,sleep(5))--", "x;sleep(5)=0", "a; b=char (100)"}) {
    Verdict v = testing::InspectQueryValue(attack);
    EXPECT_TRUE(testing::Flagged(v)) << attack << " -> " << v.explanation;
  }
}

// EXEC with a two-part name ends a T-SQL statement only when the name can be a procedure's:
// "exec summary.pdf" names a document. Procedures with a schema or server still count.
TEST(Sqli, ExecOfADocumentNameIsNoProcedure) {
  ExpectAllowed({"exec summary.pdf", "Exec Summary.docx", "exec board.pptx"});
  ExpectBlocked({"exec master.xp_cmdshell 'dir'", "exec dbo.sp_x", "1;exec dbo.proc1"});
}

// A quote that delimits an HTML attribute value in rich text ("<a href=\"#top\">") is no
// quote break, and the '#' in it no comment; the other quote character and a tag that does
// not go on as markup after the value are still judged.
TEST(Sqli, AnAttributeValueInRichTextIsNoQuoteBreak) {
  for (const char* text :
       {"<a href=\"#\">link</a>", "<a href=\"#top\" class=\"toc\">Back to top</a>",
        "<a href='#'>x</a>", "<p>See <a href=\"#notes\"/> below</p>"}) {
    Verdict v = testing::InspectAsJson(text);
    EXPECT_FALSE(testing::Flagged(v)) << text << " -> " << v.explanation;
  }
  for (const char* attack : {"<a href=\"' or 1=1--\">", "<a href=\"\" or 1=1-- \">",
                             "<x a=\"\" union select 1,2-- \">", "admin\"#"}) {
    Verdict v = testing::InspectQueryValue(attack);
    EXPECT_TRUE(testing::HasCategory(v, Category::kSqli) && testing::Flagged(v))
        << attack << " -> " << v.explanation;
  }
}

TEST(Sqli, AVersionedOrKeywordExecutableCommentIsMySqlOnlySyntax) {
  // Alone, after junk, or inside an ordinary comment that hides it from the lexer.
  for (const char* attack :
       {"/*!50000select*/", "/*!12345", "x/*!50000from*/",
        "9999 or {if length((/* !5000select username/*!50000from*/user where id=1))>0}",
        "/*!union*/", "/*!UNION*/", "a/*!or*/b"}) {
    Verdict v = testing::InspectQueryValue(attack);
    EXPECT_TRUE(testing::Flagged(v)) << attack << " -> " << v.explanation;
    EXPECT_TRUE(testing::HasCategory(v, Category::kSqli)) << attack;
  }
  // Minifiers' kept licence comments, other version shapes, words that start with a keyword.
  for (const char* benign :
       {"/*! jQuery v3.7.1 | (c) OpenJS Foundation */", "/*!1.2.3*/", "/*!1234 */", "/*!1234567*/",
        "/*!orange*/", "/*!selection*/", "/*!\n * Bootstrap v5.3.2\n */"}) {
    Verdict v = testing::InspectQueryValue(benign);
    EXPECT_FALSE(testing::Flagged(v)) << benign << " -> " << v.explanation;
  }
}

TEST(SqlLexer, ExecutableCommentsAreCode) {
  std::vector<sql::Token> toks;
  ASSERT_TRUE(sql::Lex("/*!50000UNION*/ SELECT", 0, 100, &toks));
  ASSERT_EQ(toks.size(), 2u);
  EXPECT_EQ(toks[0].kw, sql::Kw::kUnion);
  EXPECT_EQ(toks[1].kw, sql::Kw::kSelect);
}

TEST(SqlLexer, NestedCommentsCloseThePostgreSqlWay) {
  std::vector<sql::Token> toks;
  ASSERT_TRUE(sql::Lex("union/*/**/*/select", 0, 100, &toks));
  ASSERT_EQ(toks.size(), 3u);
  EXPECT_EQ(toks[1].type, sql::Tok::kComment);
  EXPECT_EQ(toks[2].kw, sql::Kw::kSelect);
  // Not nested: the first "*/" ends it (MySQL), leaving the rest as code.
  ASSERT_TRUE(sql::Lex("a /* b */ c */", 0, 100, &toks));
  EXPECT_EQ(toks[1].type, sql::Tok::kComment);
  EXPECT_EQ(toks[2].type, sql::Tok::kWord);
}

TEST(SqlLexer, UnclosedNestingFallsBackToTheFirstClose) {
  // Every "/*" looks ahead for a nested close only within a bounded window, then takes the
  // first "*/": one comment per "/* /* */" group, not one comment swallowing the rest.
  std::string s;
  for (int i = 0; i < 20000; ++i) s += "/* /* */ ";
  std::vector<sql::Token> toks;
  EXPECT_FALSE(sql::Lex(s, 0, 2048, &toks));
  ASSERT_EQ(toks.size(), 2048u);
  EXPECT_EQ(toks[0].type, sql::Tok::kComment);
  EXPECT_EQ(toks[0].len, 8u);
}

TEST(SqlLexer, ScientificNotationPaddingIsSkipped) {
  std::vector<sql::Token> toks;
  ASSERT_TRUE(sql::Lex("1.e(ascii", 0, 100, &toks));
  ASSERT_EQ(toks.size(), 2u);
  EXPECT_EQ(toks[0].type, sql::Tok::kLParen);
  EXPECT_TRUE(toks[0].after_comment);
  ASSERT_TRUE(sql::Lex("1.5e3", 0, 100, &toks));
  ASSERT_EQ(toks.size(), 1u);
  EXPECT_EQ(toks[0].type, sql::Tok::kNumber);
}

TEST(SqlLexer, QuoteContextStartsWithThePrefix) {
  std::vector<sql::Token> toks;
  ASSERT_TRUE(sql::Lex("ab\\'c' or 1", '\'', 100, &toks));
  ASSERT_GE(toks.size(), 3u);
  EXPECT_EQ(toks[0].type, sql::Tok::kPrefix);
  EXPECT_EQ(toks[0].len, 5u);  // escaped quote stays in the literal
  EXPECT_EQ(toks[1].kw, sql::Kw::kOr);
  ASSERT_TRUE(sql::Lex("ab\\'c' or 1", sql::kQuoteBackslashLiteral, 100, &toks));
  ASSERT_GE(toks.size(), 2u);
  EXPECT_EQ(toks[0].type, sql::Tok::kPrefix);
  EXPECT_EQ(toks[0].len, 3u);  // the backslash is a character of the literal
  EXPECT_EQ(toks[1].type, sql::Tok::kWord);
}

// A system catalog's name as the whole value is a schema probe, with an underscore
// (information_schema) or a dot (mysql.user) as its only punctuation. Other dotted names
// are not catalogs.
TEST(SqliCatalog, ACatalogNameAloneIsAProbe) {
  for (const char* v :
       {"information_schema", "pg_catalog", "mysql.user", "MySQL.db", " master..sysdatabases",
        "union select 1 from mysql.user",
        // letters only: SQL Server's system databases, Access's system tables
        "tempdb", "MSDB", "sysobjects", "MSysAccessObjects", "msysqueries",
        "x=1 from msdb..sysjobs", "select 1 from tempdb.dbo.t",
        // Access, PostgreSQL, SQLite and Oracle names added later
        "MSysAccessStorage", "msysmodules2", "pg_toast", "sqlite_temp_master", "sysaux",
        "x from pg_toast.pg_toast_2619", "msdb..sysjobs", "tempdb.dbo.t"}) {
    const Verdict r = testing::InspectQueryValue(v);
    EXPECT_TRUE(testing::Flagged(r)) << v;
    EXPECT_TRUE(testing::HasCategory(r, Category::kSqli)) << v;
  }
  for (const char* v :
       {"mysql.users", "my.db", "mysql.dbx", "shop.example", "v1.2.3", "msys2", "msys", "tempdbx",
        "msdb.example.org", "tempdb2", "sort_in_tempdb", "msysgit", "pg_toaster",
        "x from pg_toaster", "sysauxiliary", "my_pg_toast", "tempdb.example", "msdb.x", ""}) {
    EXPECT_FALSE(testing::Flagged(testing::InspectQueryValue(v))) << v;
  }
}

// MySQL's "1.e" glued to a call or a name hides it from filters; the marker is the evasion.
// Outline numbers and versions look alike.
TEST(SqliEmptyExponent, GluedToACallOrANameIsBlocked) {
  for (const char* v : {"1.e(ascii)", "1.e.tables", "0.e(user())", "x 1.E.user_name"}) {
    const Verdict r = testing::InspectQueryValue(v);
    EXPECT_TRUE(testing::Flagged(r)) << v << " -> " << r.explanation;
    EXPECT_TRUE(testing::HasCategory(r, Category::kSqli)) << v;
  }
  for (const char* v :
       {"see 1.e(ii)", "1.e.g. this", "v1.e.tables", "2.1.e.tables", "1.e)", "items 1.e, 2.a",
        "1.e(a)", "step 1.e.", "1.ex(ascii)", "a1.e.tables", "1.e(iii) and 1.e.iv"}) {
    const Verdict r = testing::InspectQueryValue(v);
    EXPECT_FALSE(testing::Flagged(r)) << v << " -> " << r.explanation;
  }
}

// DetectSqli does not run the grammar on values of SqlShape::kNamesOnly: their only
// SQL-relevant bytes are '-', '/', ',' and '_', with no "--" and no keyword first. The
// premise, checked here: however SQL words, numbers and names are joined so, the grammar
// finds no more than weak arithmetic.
TEST(SqliSeparatorsOnly, WordsJoinedBySeparatorsAreNeverInjection) {
  // SQL words, names and numbers, space-separated.
  const std::vector<std::string> words = absl::StrSplit(
      "union select or and 1 0 9 sleep benchmark information_schema x 0x41 char user version "
      "waitfor delay exec xp_cmdshell null from where order by having limit drop table users "
      "true false not like is in case when then else end if xor div mod rlike regexp pg_sleep "
      "concat extractvalue updatexml load_file outfile into declare set shutdown 1e1 e values "
      "with call handler do grant alter create rename replace merge backup kill load lock show "
      "describe desc explain use begin commit rollback execute sp_executesql openrowset "
      "dbms_pipe insert update delete truncate all distinct top offset procedure analyse 0b1 "
      "pg_catalog mysql.user",
      ' ');
  const std::string seps = "-/,_";
  std::vector<sql::Token> toks;
  uint64_t state = 20261130;
  auto next = [&state](uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  };
  float worst = 0;
  std::string worst_value;
  int names_only = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string v;
    const int parts = 1 + static_cast<int>(next(7));
    if (next(4) == 0) v += seps[next(seps.size())];
    for (int k = 0; k < parts; ++k) {
      if (k > 0) {
        v += seps[next(seps.size())];
        if (next(5) == 0) v += seps[next(seps.size())];
      }
      v += words[next(words.size())];
    }
    if (SqlShapeOf(v, v) != SqlShape::kNamesOnly) continue;  // the grammar runs on it
    ++names_only;
    const float c = AnalyzeSqli(v, &toks).confidence;
    if (c > worst) {
      worst = c;
      worst_value = v;
    }
  }
  EXPECT_LT(worst, 0.45f) << worst_value;
  EXPECT_GT(names_only, 50000);  // the generator reaches the shape
  // And the shapes themselves.
  for (const char* v : {"abc", "12345", "mysql.user", "x.y:z"}) {
    EXPECT_EQ(SqlShapeOf(v, v), SqlShape::kNone) << v;
  }
  for (const char* v : {"2024-01-02", "a/b/c", "1,2,3", "is_pizza", "x-select-1", "-1"}) {
    EXPECT_EQ(SqlShapeOf(v, v), SqlShape::kNamesOnly) << v;
  }
  for (const char* v : {"select-1", "-select-1", "where-0/0x41", "1--", "a b", "x'", "a=b", "f(1)",
                        "a;b", "1+1", "a\tb", "@@version", "a|b"}) {
    EXPECT_EQ(SqlShapeOf(v, v), SqlShape::kGrammar) << v;
  }
}

}  // namespace
}  // namespace shieldx::detect
