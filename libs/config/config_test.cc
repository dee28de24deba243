#include "libs/config/config.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/base/limits.h"
#include "libs/testing/status_matchers.h"
#include "nlohmann/json.hpp"

namespace shieldx::config {
namespace {

using ::shieldx::testing::IsOk;
using ::shieldx::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

struct PoolOptions {
  int pool_size = 8;
};

struct TestConfig {
  std::string listen_host = "127.0.0.1";
  int grpc_port = 9000;
  std::int64_t max_batch = 100;
  double sample_rate = 0.5;
  bool tls_enabled = false;
  absl::Duration drain_timeout = absl::Seconds(5);
  std::string log_level = "info";
  std::vector<std::string> redis_hosts = {"127.0.0.1:6379"};
  std::string db_password;
  std::string hmac_key;
  PoolOptions pg;
};

ConfigSchema<TestConfig> MakeSchema() {
  ConfigSchema<TestConfig> s("test");
  s.Add("listen_host", &TestConfig::listen_host, "address to bind");
  s.Add("grpc_port", &TestConfig::grpc_port, "gRPC listen port").Range(1, 65535);
  s.Add("max_batch", &TestConfig::max_batch, "items per batch").Range(1, 1000);
  s.Add("sample_rate", &TestConfig::sample_rate, "fraction sampled").Range(0.0, 1.0);
  s.Add("tls_enabled", &TestConfig::tls_enabled, "serve TLS");
  s.Add("drain_timeout", &TestConfig::drain_timeout, "SIGTERM drain deadline")
      .Range(absl::ZeroDuration(), absl::Minutes(5));
  s.Add("log_level", &TestConfig::log_level, "minimum log level")
      .OneOf({"debug", "info", "warn", "error"});
  s.Add("redis_hosts", &TestConfig::redis_hosts, "Redis host:port list");
  s.Add("db_password", &TestConfig::db_password, "PostgreSQL password").Secret();
  s.Add("hmac_key", &TestConfig::hmac_key, "HMAC key")
      .Secret()
      .Validate([](const std::string& key) -> absl::Status {
        if (key.size() < 16) {
          return absl::InvalidArgumentError(
              absl::StrCat("must be at least 16 bytes, got ", key.size()));
        }
        return absl::OkStatus();
      });
  s.Add("pg_pool_size", &TestConfig::pg, &PoolOptions::pool_size, "connections").Range(1, 64);
  return s;
}

absl::StatusOr<Loaded<TestConfig>> LoadWith(std::vector<std::string> flags,
                                            const InMemoryConfigEnv& env) {
  flags.insert(flags.begin(), "shieldx-test");
  return MakeSchema().Load(flags, env);
}

// The error message of a load that must fail.
std::string ErrorOf(std::vector<std::string> flags, const InMemoryConfigEnv& env) {
  absl::StatusOr<Loaded<TestConfig>> loaded = LoadWith(std::move(flags), env);
  EXPECT_FALSE(loaded.ok());
  if (loaded.ok()) return "";
  std::string message(loaded.status().message());
  EXPECT_EQ(message.find('\n'), std::string::npos) << "multi-line error: " << message;
  return message;
}

// ---------------------------------------------------------------------------------------------
// Precedence: flag > env > file > default, for every type.

struct PrecedenceCase {
  std::string name;
  std::string default_text;  // as Effective shows it
  std::string file_json;     // the JSON value in the file
  std::string file_text;
  std::string env_value;
  std::string env_text;
  std::string flag_value;
  std::string flag_text;
};

void PrintTo(const PrecedenceCase& c, std::ostream* os) { *os << c.name; }

class Precedence : public ::testing::TestWithParam<PrecedenceCase> {
 protected:
  std::string ValueAfter(const InMemoryConfigEnv& env, std::vector<std::string> flags,
                         SourceKind expected_kind) {
    absl::StatusOr<Loaded<TestConfig>> loaded = LoadWith(std::move(flags), env);
    EXPECT_THAT(loaded, IsOk());
    if (!loaded.ok()) return "";
    const EffectiveField* field = loaded->effective.Find(GetParam().name);
    EXPECT_NE(field, nullptr);
    if (field == nullptr) return "";
    EXPECT_EQ(field->source.kind, expected_kind) << field->source.ToString();
    return field->value;
  }
};

TEST_P(Precedence, FlagBeatsEnvBeatsFileBeatsDefault) {
  const PrecedenceCase& c = GetParam();
  std::string env_var = "SHIELDX_TEST_" + absl::AsciiStrToUpper(c.name);
  InMemoryConfigEnv env;
  EXPECT_EQ(ValueAfter(env, {}, SourceKind::kDefault), c.default_text);

  env.SetFile("/etc/test.json", absl::StrCat("{\"", c.name, "\": ", c.file_json, "}"));
  env.SetVar("SHIELDX_TEST_CONFIG", "/etc/test.json");
  EXPECT_EQ(ValueAfter(env, {}, SourceKind::kFile), c.file_text);

  env.SetVar(env_var, c.env_value);
  EXPECT_EQ(ValueAfter(env, {}, SourceKind::kEnv), c.env_text);

  std::string flag = absl::StrCat("--", c.name, "=", c.flag_value);
  EXPECT_EQ(ValueAfter(env, {flag}, SourceKind::kFlag), c.flag_text);
}

INSTANTIATE_TEST_SUITE_P(
    EveryType, Precedence,
    ::testing::Values(
        PrecedenceCase{"listen_host", "127.0.0.1", "\"10.0.0.1\"", "10.0.0.1", "10.0.0.2",
                       "10.0.0.2", "0.0.0.0", "0.0.0.0"},
        PrecedenceCase{"grpc_port", "9000", "9001", "9001", "9002", "9002", "9003", "9003"},
        PrecedenceCase{"max_batch", "100", "\"200\"", "200", "300", "300", "400", "400"},
        PrecedenceCase{"sample_rate", "0.5", "0.25", "0.25", "0.125", "0.125", "1", "1"},
        PrecedenceCase{"tls_enabled", "false", "true", "true", "false", "false", "true", "true"},
        PrecedenceCase{"drain_timeout", "5s", "\"250ms\"", "250ms", "2m", "2m", "4m30s", "4m30s"},
        PrecedenceCase{"log_level", "info", "\"debug\"", "debug", "warn", "warn", "error", "error"},
        PrecedenceCase{"redis_hosts", "127.0.0.1:6379", "[\"a:1\", \"b:2\"]", "a:1,b:2", "c:3",
                       "c:3", "d:4, e:5", "d:4,e:5"},
        PrecedenceCase{"pg_pool_size", "8", "16", "16", "32", "32", "64", "64"}),
    [](const ::testing::TestParamInfo<PrecedenceCase>& info) { return info.param.name; });

TEST(Config, TypedMembersHoldTheParsedValues) {
  InMemoryConfigEnv env;
  ASSERT_OK_AND_ASSIGN(
      Loaded<TestConfig> loaded,
      LoadWith({"--grpc-port", "1234", "--sample_rate=0.75", "--tls-enabled",
                "--drain_timeout=1m30s", "--redis_hosts=x:1,y:2", "--pg-pool-size=3"},
               env));
  const TestConfig& c = loaded.config;
  EXPECT_EQ(c.grpc_port, 1234);
  EXPECT_DOUBLE_EQ(c.sample_rate, 0.75);
  EXPECT_TRUE(c.tls_enabled);
  EXPECT_EQ(c.drain_timeout, absl::Seconds(90));
  EXPECT_THAT(c.redis_hosts, ::testing::ElementsAre("x:1", "y:2"));
  EXPECT_EQ(c.pg.pool_size, 3);
  EXPECT_EQ(c.max_batch, 100);  // untouched default
  EXPECT_FALSE(loaded.help.has_value());
}

TEST(Config, ServiceEnvBeatsSharedEnv) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_GRPC_PORT", "7000");
  ASSERT_OK_AND_ASSIGN(Loaded<TestConfig> shared, LoadWith({}, env));
  EXPECT_EQ(shared.config.grpc_port, 7000);
  EXPECT_EQ(shared.effective.Find("grpc_port")->source.ToString(), "env SHIELDX_GRPC_PORT");

  env.SetVar("SHIELDX_TEST_GRPC_PORT", "7001");
  ASSERT_OK_AND_ASSIGN(Loaded<TestConfig> specific, LoadWith({}, env));
  EXPECT_EQ(specific.config.grpc_port, 7001);
  EXPECT_EQ(specific.effective.Find("grpc_port")->source.ToString(), "env SHIELDX_TEST_GRPC_PORT");
}

TEST(Config, ConfigFlagBeatsConfigEnvAndBothFormsWork) {
  InMemoryConfigEnv env;
  env.SetFile("/a.json", R"({"grpc_port": 1})").SetFile("/b.json", R"({"grpc-port": 2})");
  env.SetVar("SHIELDX_TEST_CONFIG", "/a.json");
  EXPECT_EQ(LoadWith({}, env)->config.grpc_port, 1);
  EXPECT_EQ(LoadWith({"--config", "/b.json"}, env)->config.grpc_port, 2);
  ASSERT_OK_AND_ASSIGN(Loaded<TestConfig> loaded, LoadWith({"--config=/b.json"}, env));
  EXPECT_EQ(loaded.config.grpc_port, 2);
  EXPECT_EQ(loaded.effective.config_file(), "/b.json");
  EXPECT_EQ(loaded.effective.Find("grpc_port")->source.ToString(), "file /b.json");
}

TEST(Config, BoolFlagForms) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_TLS_ENABLED", "true");
  EXPECT_FALSE(LoadWith({"--no-tls-enabled"}, env)->config.tls_enabled);
  EXPECT_FALSE(LoadWith({"--no_tls_enabled"}, env)->config.tls_enabled);
  EXPECT_FALSE(LoadWith({"--tls_enabled=false"}, env)->config.tls_enabled);
  EXPECT_TRUE(LoadWith({"--tls_enabled"}, InMemoryConfigEnv())->config.tls_enabled);
  // A bare boolean flag never swallows the next argument.
  EXPECT_THAT(ErrorOf({"--tls_enabled", "false"}, env), HasSubstr("unexpected argument"));
}

TEST(Config, NegativeNumbersAreValuesNotFlags) {
  ConfigSchema<TestConfig> s("test");
  s.Add("grpc_port", &TestConfig::grpc_port, "signed for this test").Range(-10, 10);
  ASSERT_OK_AND_ASSIGN(Loaded<TestConfig> loaded,
                       s.Load({"prog", "--grpc_port", "-5"}, InMemoryConfigEnv()));
  EXPECT_EQ(loaded.config.grpc_port, -5);
}

TEST(Config, EmptyListFromEnvAndFile) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_REDIS_HOSTS", "");
  EXPECT_TRUE(LoadWith({}, env)->config.redis_hosts.empty());
  InMemoryConfigEnv file_env;
  file_env.SetFile("/c.json", R"({"redis_hosts": []})");
  EXPECT_TRUE(LoadWith({"--config=/c.json"}, file_env)->config.redis_hosts.empty());
}

// ---------------------------------------------------------------------------------------------
// Rejections: each one line naming the culprit and its source.

TEST(ConfigRejects, UnknownFlagWithSuggestion) {
  EXPECT_EQ(ErrorOf({"--grpc_prot=1"}, InMemoryConfigEnv()),
            "unknown flag --grpc_prot (did you mean --grpc_port?)");
  EXPECT_EQ(ErrorOf({"--grpc-prot", "1"}, InMemoryConfigEnv()),
            "unknown flag --grpc-prot (did you mean --grpc_port?)");
}

TEST(ConfigRejects, UnknownFlagWithoutCloseMatchHasNoSuggestion) {
  EXPECT_EQ(ErrorOf({"--zzzzzzzz=1"}, InMemoryConfigEnv()), "unknown flag --zzzzzzzz");
}

TEST(ConfigRejects, SuggestionNeverNamesASecret) {
  EXPECT_THAT(ErrorOf({"--db_pasword=x"}, InMemoryConfigEnv()), Not(HasSubstr("db_password")));
}

TEST(ConfigRejects, PositionalArgumentAndSingleDash) {
  EXPECT_EQ(ErrorOf({"serve"}, InMemoryConfigEnv()),
            "unexpected argument \"serve\" (flags look like --name=value)");
  EXPECT_THAT(ErrorOf({"-grpc_port=1"}, InMemoryConfigEnv()), HasSubstr("unexpected argument"));
  EXPECT_THAT(ErrorOf({"--"}, InMemoryConfigEnv()), HasSubstr("unexpected argument \"--\""));
}

TEST(ConfigRejects, FlagGivenTwice) {
  EXPECT_EQ(ErrorOf({"--grpc_port=1", "--grpc-port=2"}, InMemoryConfigEnv()),
            "flag --grpc-port is given more than once");
  EXPECT_EQ(ErrorOf({"--config=/a", "--config=/b"}, InMemoryConfigEnv()),
            "flag --config is given more than once");
}

TEST(ConfigRejects, FlagWithoutValue) {
  EXPECT_EQ(ErrorOf({"--grpc_port"}, InMemoryConfigEnv()),
            "flag --grpc_port needs a value (--grpc_port=VALUE or --grpc_port VALUE)");
  EXPECT_THAT(ErrorOf({"--grpc_port", "--max_batch=2"}, InMemoryConfigEnv()),
              HasSubstr("flag --grpc_port needs a value"));
  EXPECT_THAT(ErrorOf({"--config"}, InMemoryConfigEnv()), HasSubstr("flag --config needs a value"));
}

TEST(ConfigRejects, OutOfRangeIntegerNamesValueFieldSourceAndRange) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_GRPC_PORT", "70000");
  EXPECT_EQ(ErrorOf({}, env),
            "invalid value \"70000\" for grpc_port (from env SHIELDX_TEST_GRPC_PORT): expected "
            "an integer in [1, 65535]");
  env.SetVar("SHIELDX_TEST_GRPC_PORT", "abc");
  EXPECT_EQ(ErrorOf({}, env),
            "invalid value \"abc\" for grpc_port (from env SHIELDX_TEST_GRPC_PORT): expected "
            "an integer in [1, 65535]");
  EXPECT_EQ(ErrorOf({"--grpc_port=0"}, InMemoryConfigEnv()),
            "invalid value \"0\" for grpc_port (from flag --grpc_port): expected an integer in "
            "[1, 65535]");
}

TEST(ConfigRejects, IntegerBeyondTheMemberTypeWithoutRange) {
  struct Narrow {
    std::int16_t small = 1;
  };
  ConfigSchema<Narrow> s("test");
  s.Add("small", &Narrow::small, "int16 member");
  EXPECT_THAT(s.Load({"prog", "--small=40000"}, InMemoryConfigEnv()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected an integer in [-32768, 32767]")));
}

TEST(ConfigRejects, BadDuration) {
  EXPECT_EQ(ErrorOf({"--drain_timeout=5"}, InMemoryConfigEnv()),
            "invalid value \"5\" for drain_timeout (from flag --drain_timeout): expected a "
            "duration such as 250ms, 5s or 2m in [0, 5m]");
  EXPECT_THAT(ErrorOf({"--drain_timeout=10m"}, InMemoryConfigEnv()), HasSubstr("in [0, 5m]"));
}

TEST(ConfigRejects, NegativeDurationWithoutExplicitRange) {
  struct D {
    absl::Duration d = absl::Seconds(1);
  };
  ConfigSchema<D> s("test");
  s.Add("d", &D::d, "a duration");
  EXPECT_THAT(s.Load({"prog", "--d=-1s"}, InMemoryConfigEnv()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected a non-negative duration such as 250ms, 5s or 2m")));
}

TEST(ConfigRejects, BadEnum) {
  EXPECT_EQ(ErrorOf({"--log_level=loud"}, InMemoryConfigEnv()),
            "invalid value \"loud\" for log_level (from flag --log_level): expected one of "
            "\"debug\", \"info\", \"warn\", \"error\"");
  // Case matters: enums are exact strings.
  EXPECT_THAT(ErrorOf({"--log_level=INFO"}, InMemoryConfigEnv()), HasSubstr("expected one of"));
}

TEST(ConfigRejects, BadBool) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_TLS_ENABLED", "maybe");
  EXPECT_EQ(ErrorOf({}, env),
            "invalid value \"maybe\" for tls_enabled (from env SHIELDX_TEST_TLS_ENABLED): "
            "expected true or false");
}

TEST(ConfigRejects, BadDoubleAndOutOfRangeDouble) {
  EXPECT_THAT(ErrorOf({"--sample_rate=nan"}, InMemoryConfigEnv()),
              HasSubstr("expected a number in [0, 1]"));
  EXPECT_THAT(ErrorOf({"--sample_rate=1.5"}, InMemoryConfigEnv()),
              HasSubstr("invalid value \"1.5\" for sample_rate"));
}

TEST(ConfigRejects, BadListItems) {
  EXPECT_THAT(
      ErrorOf({"--redis_hosts=a,,b"}, InMemoryConfigEnv()),
      HasSubstr("for redis_hosts (from flag --redis_hosts): expected a comma-separated list"));
  InMemoryConfigEnv env;
  env.SetFile("/c.json", R"({"redis_hosts": ["a", ""]})");
  EXPECT_THAT(ErrorOf({"--config=/c.json"}, env),
              HasSubstr("invalid value [\"a\", \"\"] for redis_hosts (from file /c.json)"));
}

TEST(ConfigRejects, ListItemsOutsideOneOf) {
  struct L {
    std::vector<std::string> front_ends = {"grpc"};
  };
  ConfigSchema<L> s("test");
  s.Add("front_ends", &L::front_ends, "enabled front ends").OneOf({"grpc", "spoe", "ext_authz"});
  EXPECT_THAT(s.Load({"prog", "--front_ends=grpc,spoe"}, InMemoryConfigEnv()), IsOk());
  EXPECT_THAT(s.Load({"prog", "--front_ends=grpc,http"}, InMemoryConfigEnv()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected a comma-separated list of \"grpc\", \"spoe\", "
                                 "\"ext_authz\"")));
}

TEST(ConfigRejects, ListGivenForScalarInFile) {
  InMemoryConfigEnv env;
  env.SetFile("/c.json", R"({"grpc_port": [1, 2]})");
  EXPECT_THAT(ErrorOf({"--config=/c.json"}, env),
              HasSubstr("for grpc_port (from file /c.json): expected an integer in [1, 65535] "
                        "(got a list)"));
}

TEST(ConfigRejects, ValueShadowedByAHigherSourceIsStillValidated) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_GRPC_PORT", "not-a-port");
  EXPECT_THAT(ErrorOf({"--grpc_port=9000"}, env), HasSubstr("from env SHIELDX_TEST_GRPC_PORT"));
}

TEST(ConfigRejects, UnknownServiceEnvVariableButSharedOnesAreIgnored) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_OTHER_SERVICE_THING", "1");  // another service's, or a shared one
  env.SetVar("SHIELDX_LOG_FORMAT", "json");
  EXPECT_THAT(LoadWith({}, env), IsOk());
  env.SetVar("SHIELDX_TEST_GRPC_PROT", "1");
  EXPECT_EQ(ErrorOf({}, env),
            "unknown environment variable SHIELDX_TEST_GRPC_PROT (did you mean "
            "SHIELDX_TEST_GRPC_PORT?)");
}

TEST(ConfigRejects, FileVariantOfANonSecretIsUnknown) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_GRPC_PORT_FILE", "/x");
  EXPECT_THAT(ErrorOf({}, env),
              HasSubstr("unknown environment variable SHIELDX_TEST_GRPC_PORT_FILE"));
}

TEST(ConfigRejects, UnknownFileKeyWithSuggestion) {
  InMemoryConfigEnv env;
  env.SetFile("/c.json", R"({"grpc_port": 1, "log_levl": "info"})");
  EXPECT_EQ(ErrorOf({"--config=/c.json"}, env),
            "unknown key \"log_levl\" in config file /c.json (did you mean \"log_level\"?)");
}

TEST(ConfigRejects, FileCannotNameAnotherConfigFile) {
  InMemoryConfigEnv env;
  env.SetFile("/c.json", R"({"config": "/d.json"})");
  EXPECT_THAT(ErrorOf({"--config=/c.json"}, env),
              HasSubstr("unknown key \"config\" in config file /c.json (a config file cannot"));
}

TEST(ConfigRejects, DuplicateFileKeyIncludingSpellingVariants) {
  InMemoryConfigEnv env;
  env.SetFile("/c.json", R"({"grpc_port": 1, "grpc_port": 2})");
  EXPECT_EQ(ErrorOf({"--config=/c.json"}, env),
            "config file /c.json: key \"grpc_port\" appears more than once");
  env.SetFile("/c.json", R"({"grpc_port": 1, "grpc-port": 2})");
  EXPECT_EQ(ErrorOf({"--config=/c.json"}, env),
            "config file /c.json: key \"grpc-port\" appears more than once");
}

TEST(ConfigRejects, NestedKeysAreNotDuplicatesButNestedValuesAreRejected) {
  InMemoryConfigEnv env;
  env.SetFile("/c.json", R"({"listen_host": {"a": 1, "b": {"a": 2}}})");
  EXPECT_EQ(ErrorOf({"--config=/c.json"}, env),
            "invalid value \"{\\\"a\\\":1,\\\"b\\\":{\\\"a\\\":2}}\" for listen_host (from file "
            "/c.json): expected a string");
}

TEST(ConfigRejects, NullValueInFile) {
  InMemoryConfigEnv env;
  env.SetFile("/c.json", R"({"grpc_port": null})");
  EXPECT_THAT(ErrorOf({"--config=/c.json"}, env),
              HasSubstr("invalid value \"null\" for grpc_port (from file /c.json)"));
}

TEST(ConfigRejects, MalformedJsonWithPosition) {
  InMemoryConfigEnv env;
  env.SetFile("/c.json", "{\n  \"grpc_port\": 1,\n  }\n");
  EXPECT_THAT(ErrorOf({"--config=/c.json"}, env),
              HasSubstr("config file /c.json: malformed JSON at line 3, column 3"));
  env.SetFile("/c.json", "{\"grpc_port\": tru}");
  EXPECT_THAT(ErrorOf({"--config=/c.json"}, env), HasSubstr("at line 1, column"));
}

TEST(ConfigRejects, ConfigFileThatIsNotAnObject) {
  InMemoryConfigEnv env;
  env.SetFile("/c.json", "[1, 2]");
  EXPECT_EQ(ErrorOf({"--config=/c.json"}, env),
            "config file /c.json: expected a flat JSON object {\"name\": value, ...}, got array");
  env.SetFile("/c.json", "");
  EXPECT_THAT(ErrorOf({"--config=/c.json"}, env), HasSubstr("malformed JSON"));
}

TEST(ConfigRejects, OversizedConfigFile) {
  InMemoryConfigEnv env;
  std::string big =
      absl::StrCat("{\"listen_host\": \"", std::string(limits::kMaxConfigFileBytes, 'a'), "\"}");
  env.SetFile("/big.json", big);
  EXPECT_EQ(ErrorOf({"--config=/big.json"}, env),
            absl::StrCat("config file: /big.json is larger than the limit of ",
                         limits::kMaxConfigFileBytes, " bytes"));
}

TEST(ConfigRejects, MissingConfigFile) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_CONFIG", "/missing.json");
  absl::StatusOr<Loaded<TestConfig>> loaded = LoadWith({}, env);
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kNotFound,
                               HasSubstr("config file: cannot read /missing.json")));
}

TEST(ConfigRejects, SecretAsFlag) {
  EXPECT_EQ(ErrorOf({"--db_password=hunter2"}, InMemoryConfigEnv()),
            "db_password is a secret and cannot be given as a flag (flags are visible in shell "
            "history and the process list); set env SHIELDX_TEST_DB_PASSWORD or "
            "SHIELDX_TEST_DB_PASSWORD_FILE");
}

TEST(ConfigRejects, SecretInConfigFile) {
  InMemoryConfigEnv env;
  env.SetFile("/c.json", R"({"db-password": "hunter2"})");
  std::string error = ErrorOf({"--config=/c.json"}, env);
  EXPECT_EQ(error,
            "db_password is a secret and cannot be set in the config file /c.json (config files "
            "end up in ConfigMaps and repositories); set env SHIELDX_TEST_DB_PASSWORD or "
            "SHIELDX_TEST_DB_PASSWORD_FILE");
  EXPECT_THAT(error, Not(HasSubstr("hunter2")));
}

TEST(ConfigRejects, SecretInBothEnvAndFileVariable) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_DB_PASSWORD", "a").SetVar("SHIELDX_TEST_DB_PASSWORD_FILE", "/s");
  EXPECT_EQ(ErrorOf({}, env),
            "both SHIELDX_TEST_DB_PASSWORD and SHIELDX_TEST_DB_PASSWORD_FILE are set for secret "
            "db_password; set only one");
}

TEST(ConfigRejects, InvalidSecretIsNeverEchoed) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_HMAC_KEY", "short-secret");
  std::string error = ErrorOf({}, env);
  EXPECT_EQ(error,
            "invalid value for hmac_key (from env SHIELDX_TEST_HMAC_KEY): must be at least 16 "
            "bytes, got 12");
  EXPECT_THAT(error, Not(HasSubstr("short-secret")));
}

TEST(ConfigRejects, SecretFileProblems) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_DB_PASSWORD_FILE", "/run/secrets/db");
  EXPECT_THAT(LoadWith({}, env),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("secret db_password (env SHIELDX_TEST_DB_PASSWORD_FILE): cannot "
                                 "read /run/secrets/db")));
  env.SetFile("/run/secrets/db", "\n\n");
  EXPECT_EQ(ErrorOf({}, env),
            "secret db_password (env SHIELDX_TEST_DB_PASSWORD_FILE): file /run/secrets/db is "
            "empty");
  env.SetFile("/run/secrets/db", std::string(limits::kMaxSecretFileBytes + 1, 'p'));
  EXPECT_THAT(ErrorOf({}, env), HasSubstr("is larger than the limit of 65536 bytes"));
}

TEST(ConfigRejects, MissingRequiredFields) {
  struct R {
    std::string region;
    std::string api_token;
  };
  ConfigSchema<R> s("test");
  s.Add("region", &R::region, "deployment region").Required();
  s.Add("api_token", &R::api_token, "token").Secret().Required();
  InMemoryConfigEnv env;
  EXPECT_THAT(s.Load({"prog"}, env),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "missing required value for region: set --region, env "
                       "SHIELDX_TEST_REGION or key \"region\" in the config file"));
  env.SetVar("SHIELDX_TEST_REGION", "eu-1");
  EXPECT_THAT(s.Load({"prog"}, env),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "missing required value for api_token: set env SHIELDX_TEST_API_TOKEN or "
                       "SHIELDX_TEST_API_TOKEN_FILE"));
  env.SetVar("SHIELDX_TEST_API_TOKEN", "");  // empty counts as unset
  EXPECT_THAT(s.Load({"prog"}, env), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("missing required value for api_token")));
  env.SetVar("SHIELDX_TEST_API_TOKEN", "t0k3n");
  EXPECT_THAT(s.Load({"prog"}, env), IsOk());
}

TEST(ConfigRejects, CustomValidatorOnNonSecretEchoesTheValue) {
  struct V {
    std::string listen_host = "127.0.0.1";
  };
  ConfigSchema<V> s("test");
  s.Add("listen_host", &V::listen_host, "host").Validate([](const std::string& host) {
    return host.find(' ') == std::string::npos
               ? absl::OkStatus()
               : absl::InvalidArgumentError("must not contain spaces");
  });
  EXPECT_THAT(s.Load({"prog", "--listen_host=a b"}, InMemoryConfigEnv()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "invalid value \"a b\" for listen_host (from flag --listen_host): must "
                       "not contain spaces"));
}

TEST(ConfigRejects, CrossFieldCheck) {
  ConfigSchema<TestConfig> s = MakeSchema();
  s.Check([](const TestConfig& c) {
    return c.tls_enabled && c.grpc_port == 80
               ? absl::InvalidArgumentError("tls_enabled with grpc_port 80 is not allowed")
               : absl::OkStatus();
  });
  EXPECT_THAT(s.Load({"prog", "--grpc_port=80"}, InMemoryConfigEnv()), IsOk());
  EXPECT_THAT(
      s.Load({"prog", "--grpc_port=80", "--tls_enabled"}, InMemoryConfigEnv()),
      StatusIs(absl::StatusCode::kInvalidArgument, "tls_enabled with grpc_port 80 is not allowed"));
}

TEST(ConfigRejects, InvalidDefaultIsReportedAsABug) {
  struct B {
    int port = 0;  // outside its own range
  };
  ConfigSchema<B> s("test");
  s.Add("port", &B::port, "port").Range(1, 65535);
  EXPECT_THAT(s.Load({"prog"}, InMemoryConfigEnv()),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("default \"0\" of port is invalid")));
  EXPECT_THAT(s.Load({"prog", "--port=1"}, InMemoryConfigEnv()), IsOk());
}

TEST(ConfigRejects, ControlCharactersInValuesStayOnOneLine) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_GRPC_PORT", "1\n2");
  EXPECT_EQ(ErrorOf({}, env),
            "invalid value \"1\\n2\" for grpc_port (from env SHIELDX_TEST_GRPC_PORT): expected "
            "an integer in [1, 65535]");
}

// ---------------------------------------------------------------------------------------------
// Secrets.

TEST(ConfigSecrets, FromMountedFileWithTrailingNewlineTrimmed) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_DB_PASSWORD_FILE", "/run/secrets/db");
  env.SetFile("/run/secrets/db", "s3cr3t pass\r\n");
  ASSERT_OK_AND_ASSIGN(Loaded<TestConfig> loaded, LoadWith({}, env));
  EXPECT_EQ(loaded.config.db_password, "s3cr3t pass");
  const EffectiveField* field = loaded.effective.Find("db_password");
  EXPECT_EQ(field->value, kRedacted);
  EXPECT_EQ(field->source.kind, SourceKind::kSecretFile);
  EXPECT_EQ(field->source.ToString(), "env SHIELDX_TEST_DB_PASSWORD_FILE=/run/secrets/db");
}

TEST(ConfigSecrets, FromEnvAndServiceSpecificBeatsShared) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_DB_PASSWORD_FILE", "/run/secrets/shared");
  env.SetFile("/run/secrets/shared", "shared");
  ASSERT_OK_AND_ASSIGN(Loaded<TestConfig> shared, LoadWith({}, env));
  EXPECT_EQ(shared.config.db_password, "shared");
  env.SetVar("SHIELDX_TEST_DB_PASSWORD", "specific");
  ASSERT_OK_AND_ASSIGN(Loaded<TestConfig> specific, LoadWith({}, env));
  EXPECT_EQ(specific.config.db_password, "specific");
  EXPECT_EQ(specific.effective.Find("db_password")->source.ToString(),
            "env SHIELDX_TEST_DB_PASSWORD");
}

TEST(ConfigSecrets, ValidSecretPassesItsValidator) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_HMAC_KEY", "0123456789abcdef");
  ASSERT_OK_AND_ASSIGN(Loaded<TestConfig> loaded, LoadWith({}, env));
  EXPECT_EQ(loaded.config.hmac_key, "0123456789abcdef");
}

// ---------------------------------------------------------------------------------------------
// Effective config.

TEST(ConfigEffective, RedactsSecretsAndListsEveryFieldInOrder) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_DB_PASSWORD", "hunter2");
  env.SetFile("/c.json", R"({"log_level": "debug"})");
  ASSERT_OK_AND_ASSIGN(Loaded<TestConfig> loaded,
                       LoadWith({"--config", "/c.json", "--grpc-port=9100"}, env));
  const Effective& effective = loaded.effective;
  std::vector<std::string> names;
  for (const EffectiveField& field : effective.fields()) names.push_back(field.name);
  EXPECT_THAT(names,
              ::testing::ElementsAre("listen_host", "grpc_port", "max_batch", "sample_rate",
                                     "tls_enabled", "drain_timeout", "log_level", "redis_hosts",
                                     "db_password", "hmac_key", "pg_pool_size"));
  EXPECT_EQ(effective.Find("db_password")->value, "<redacted>");
  EXPECT_EQ(effective.Find("hmac_key")->value, "<unset>");
  EXPECT_EQ(effective.Find("grpc_port")->source.ToString(), "flag --grpc-port");

  std::string json = effective.ToJson();
  EXPECT_THAT(json, Not(HasSubstr("hunter2")));
  EXPECT_EQ(json.find('\n'), std::string::npos);
  nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(json);
  EXPECT_EQ(parsed["service"], "test");
  EXPECT_EQ(parsed["config_file"], "/c.json");
  EXPECT_EQ(parsed["fields"].begin().key(), "listen_host");
  EXPECT_EQ(parsed["fields"]["grpc_port"]["value"], "9100");
  EXPECT_EQ(parsed["fields"]["grpc_port"]["source"], "flag --grpc-port");
  EXPECT_EQ(parsed["fields"]["log_level"]["source"], "file /c.json");
  EXPECT_EQ(parsed["fields"]["db_password"]["value"], "<redacted>");
  EXPECT_EQ(parsed["fields"]["db_password"]["source"], "env SHIELDX_TEST_DB_PASSWORD");
  EXPECT_EQ(parsed["fields"]["drain_timeout"]["value"], "5s");

  std::string text = effective.ToString();
  EXPECT_THAT(text, HasSubstr("grpc_port = 9100 (flag --grpc-port)\n"));
  EXPECT_THAT(text, HasSubstr("db_password = <redacted> (env SHIELDX_TEST_DB_PASSWORD)\n"));
  EXPECT_THAT(text, Not(HasSubstr("hunter2")));
}

// ---------------------------------------------------------------------------------------------
// Help.

TEST(ConfigHelp, ListsEveryFieldWithTypeDefaultEnvAndHelp) {
  ASSERT_OK_AND_ASSIGN(Loaded<TestConfig> loaded, LoadWith({"--help"}, InMemoryConfigEnv()));
  ASSERT_TRUE(loaded.help.has_value());
  const std::string& help = *loaded.help;
  EXPECT_THAT(help, HasSubstr("Usage: shieldx-test"));
  EXPECT_THAT(
      help,
      HasSubstr("--grpc_port=INT\n      gRPC listen port\n      Expected: an "
                "integer in [1, 65535]. Default: 9000.\n      Env: SHIELDX_TEST_GRPC_PORT.\n"));
  EXPECT_THAT(help, HasSubstr("--drain_timeout=DURATION"));
  EXPECT_THAT(help, HasSubstr("--tls_enabled[=BOOL]"));
  EXPECT_THAT(help, HasSubstr("Default: 5s"));
  EXPECT_THAT(help, HasSubstr("--log_level=ENUM"));
  EXPECT_THAT(help, HasSubstr("Default: \"127.0.0.1:6379\""));
  EXPECT_THAT(help, HasSubstr("--pg_pool_size=INT"));
  EXPECT_THAT(help, HasSubstr("db_password (secret)\n      PostgreSQL password\n      Env: "
                              "SHIELDX_TEST_DB_PASSWORD or SHIELDX_TEST_DB_PASSWORD_FILE."));
  EXPECT_THAT(help, Not(HasSubstr("--db_password")));
  ASSERT_OK_AND_ASSIGN(Loaded<TestConfig> defaults, LoadWith({}, InMemoryConfigEnv()));
  for (const EffectiveField& field : defaults.effective.fields()) {
    EXPECT_THAT(help, HasSubstr(field.name)) << field.name;
  }
  EXPECT_EQ(help, MakeSchema().Help());
}

TEST(ConfigHelp, HelpWinsOverOtherErrors) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_GRPC_PORT", "bad");
  for (const char* flag : {"--help", "-h", "-help"}) {
    absl::StatusOr<Loaded<TestConfig>> loaded = LoadWith({"--bogus", flag}, env);
    ASSERT_THAT(loaded, IsOk()) << flag;
    EXPECT_TRUE(loaded->help.has_value());
  }
}

// ---------------------------------------------------------------------------------------------
// LoadForMain: what main() does.

TEST(ConfigMain, InvalidConfigIsOneStderrLineAndExitCode2) {
  InMemoryConfigEnv env;
  env.SetVar("SHIELDX_TEST_GRPC_PORT", "abc");
  const char* argv[] = {"shieldx-test"};
  auto decision = MakeSchema().LoadForMain(1, argv, env);
  ASSERT_TRUE(std::holds_alternative<ExitRequest>(decision));
  const ExitRequest& exit = std::get<ExitRequest>(decision);
  EXPECT_EQ(exit.code, 2);
  EXPECT_EQ(exit.out, "");
  EXPECT_EQ(exit.err,
            "shieldx-test: config: invalid value \"abc\" for grpc_port (from env "
            "SHIELDX_TEST_GRPC_PORT): expected an integer in [1, 65535]\n");
}

TEST(ConfigMain, HelpGoesToStdoutWithExitCode0) {
  const char* argv[] = {"shieldx-test", "--help"};
  auto decision = MakeSchema().LoadForMain(2, argv, InMemoryConfigEnv());
  ASSERT_TRUE(std::holds_alternative<ExitRequest>(decision));
  const ExitRequest& exit = std::get<ExitRequest>(decision);
  EXPECT_EQ(exit.code, 0);
  EXPECT_EQ(exit.err, "");
  EXPECT_THAT(exit.out, HasSubstr("--grpc_port=INT"));
}

TEST(ConfigMain, ValidConfigContinues) {
  const char* argv[] = {"shieldx-test", "--grpc_port=9001"};
  auto decision = MakeSchema().LoadForMain(2, argv, InMemoryConfigEnv());
  ASSERT_TRUE(std::holds_alternative<Loaded<TestConfig>>(decision));
  EXPECT_EQ(std::get<Loaded<TestConfig>>(decision).config.grpc_port, 9001);
}

TEST(ConfigErrorLine, FlattensNewlinesAndNamesTheService) {
  EXPECT_EQ(ConfigErrorLine("credits", absl::InvalidArgumentError("a\nb\r\nc")),
            "shieldx-credits: config: a b c\n");
}

}  // namespace
}  // namespace shieldx::config
