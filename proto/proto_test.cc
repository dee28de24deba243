// Lint of the ShieldX public API: walks the generated descriptor pool for every service in a
// `shieldx.<svc>.v1` package and checks the conventions of proto/README.md. A violation names
// the RPC, message or field, so the fix is obvious.

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "shieldx/common/v1/action.pb.h"
#include "shieldx/common/v1/annotations.pb.h"
#include "shieldx/common/v1/decision.pb.h"
#include "shieldx/common/v1/error.pb.h"
#include "shieldx/common/v1/http.pb.h"
#include "shieldx/common/v1/page.pb.h"
#include "shieldx/common/v1/rules.pb.h"
#include "shieldx/common/v1/tenant.pb.h"
#include "shieldx/contauth/v1/contauth.pb.h"
#include "shieldx/credits/v1/credits.pb.h"
#include "shieldx/orchestrator/v1/config.pb.h"
#include "shieldx/orchestrator/v1/orchestrator.pb.h"
#include "shieldx/shadow/v1/shadow.pb.h"
#include "shieldx/twin/v1/twin.pb.h"
#include "shieldx/webapi/v1/webapi.pb.h"

namespace shieldx {
namespace {

namespace pb = google::protobuf;
namespace common = shieldx::common::v1;

// One descriptor of every proto file, referenced so the static libraries' objects (and with
// them the files' registration in the generated pool) are linked in. A new .proto file must be
// added here: AllProtoFilesAreLinkedIntoTheGeneratedPool says so.
std::vector<const pb::FileDescriptor*> AnchoredFiles() {
  return {
      common::Action_descriptor()->file(),
      common::HttpRule::descriptor()->file(),
      common::Decision::descriptor()->file(),
      common::BadRequest::descriptor()->file(),
      common::HttpRequest::descriptor()->file(),
      common::PageRequest::descriptor()->file(),
      common::RuleSetRef::descriptor()->file(),
      common::Actor::descriptor()->file(),
      contauth::v1::ScoreRequest::descriptor()->file(),
      credits::v1::ConsumeRequest::descriptor()->file(),
      orchestrator::v1::Route::descriptor()->file(),
      orchestrator::v1::EvaluateRequest::descriptor()->file(),
      shadow::v1::CreateEvaluationRequest::descriptor()->file(),
      twin::v1::CreateSimulationRequest::descriptor()->file(),
      webapi::v1::LoginRequest::descriptor()->file(),
  };
}

std::string ProtoRoot() { return std::string(SHIELDX_SOURCE_ROOT) + "/proto"; }

// Every .proto under proto/shieldx, as import paths ("shieldx/credits/v1/credits.proto").
std::vector<std::string> ProtoFilesOnDisk() {
  std::vector<std::string> out;
  const std::filesystem::path root = ProtoRoot();
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root / "shieldx")) {
    if (entry.is_regular_file() && entry.path().extension() == ".proto") {
      out.push_back(std::filesystem::relative(entry.path(), root).generic_string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool IsShieldxPackage(const std::string& package) {
  static const std::regex kPackage(R"(shieldx\.[a-z]+\.v1)");
  return std::regex_match(package, kPackage);
}

std::vector<const pb::FileDescriptor*> ShieldxFiles() {
  AnchoredFiles();  // Forces linking.
  std::vector<const pb::FileDescriptor*> out;
  for (const std::string& name : ProtoFilesOnDisk()) {
    const pb::FileDescriptor* file = pb::DescriptorPool::generated_pool()->FindFileByName(name);
    if (file != nullptr) out.push_back(file);
  }
  return out;
}

std::vector<const pb::ServiceDescriptor*> ShieldxServices() {
  std::vector<const pb::ServiceDescriptor*> out;
  for (const pb::FileDescriptor* file : ShieldxFiles()) {
    if (!IsShieldxPackage(file->package())) continue;
    for (int i = 0; i < file->service_count(); ++i) out.push_back(file->service(i));
  }
  return out;
}

std::vector<const pb::MethodDescriptor*> ShieldxMethods() {
  std::vector<const pb::MethodDescriptor*> out;
  for (const pb::ServiceDescriptor* service : ShieldxServices()) {
    for (int i = 0; i < service->method_count(); ++i) out.push_back(service->method(i));
  }
  return out;
}

void CollectMessages(const pb::Descriptor* message, std::vector<const pb::Descriptor*>* out) {
  if (message->options().map_entry()) return;
  out->push_back(message);
  for (int i = 0; i < message->nested_type_count(); ++i) {
    CollectMessages(message->nested_type(i), out);
  }
}

std::vector<const pb::Descriptor*> ShieldxMessages() {
  std::vector<const pb::Descriptor*> out;
  for (const pb::FileDescriptor* file : ShieldxFiles()) {
    for (int i = 0; i < file->message_type_count(); ++i)
      CollectMessages(file->message_type(i), &out);
  }
  return out;
}

std::vector<const pb::EnumDescriptor*> ShieldxEnums() {
  std::vector<const pb::EnumDescriptor*> out;
  for (const pb::FileDescriptor* file : ShieldxFiles()) {
    for (int i = 0; i < file->enum_type_count(); ++i) out.push_back(file->enum_type(i));
  }
  for (const pb::Descriptor* message : ShieldxMessages()) {
    for (int i = 0; i < message->enum_type_count(); ++i) out.push_back(message->enum_type(i));
  }
  return out;
}

std::vector<const pb::FieldDescriptor*> ShieldxFields() {
  std::vector<const pb::FieldDescriptor*> out;
  for (const pb::Descriptor* message : ShieldxMessages()) {
    for (int i = 0; i < message->field_count(); ++i) out.push_back(message->field(i));
  }
  return out;
}

// A parsed REST path template: "/v1/tenants/{tenant_id}/rule-sets/{rule_set_id}:activate".
struct PathTemplate {
  std::vector<std::string> segments;  // "{x}" kept with braces for placeholders.
  std::string verb;                   // After the last ':' outside braces; may be empty.
  std::vector<std::string> placeholders;
};

// Parses a template; nullopt with *error set when it is malformed.
std::optional<PathTemplate> ParsePath(const std::string& path, std::string* error) {
  static const std::regex kLiteral(R"([a-z0-9]+(-[a-z0-9]+)*)");
  static const std::regex kPlaceholder(R"(\{([a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*)\})");
  static const std::regex kVerb(R"([a-z]+(-[a-z]+)*)");
  if (path.rfind("/v1/", 0) != 0) {
    *error = "does not start with /v1/";
    return std::nullopt;
  }
  PathTemplate out;
  std::string rest = path.substr(1);
  const size_t last_slash = rest.rfind('/');
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos && (last_slash == std::string::npos || colon > last_slash) &&
      rest.find('}', colon) == std::string::npos) {
    out.verb = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!std::regex_match(out.verb, kVerb)) {
      *error = "custom verb '" + out.verb + "' is not lower-case kebab";
      return std::nullopt;
    }
  }
  size_t start = 0;
  while (start <= rest.size()) {
    const size_t end = std::min(rest.find('/', start), rest.size());
    const std::string segment = rest.substr(start, end - start);
    std::smatch match;
    if (std::regex_match(segment, match, kPlaceholder)) {
      out.placeholders.push_back(match[1]);
    } else if (!std::regex_match(segment, kLiteral)) {
      *error = "segment '" + segment + "' is neither kebab-case literal nor {field}";
      return std::nullopt;
    }
    out.segments.push_back(segment);
    start = end + 1;
  }
  return out;
}

// Resolves a dotted field path in `message`, or nullptr.
const pb::FieldDescriptor* FindFieldPath(const pb::Descriptor* message, const std::string& path) {
  const pb::FieldDescriptor* field = nullptr;
  size_t start = 0;
  while (message != nullptr && start <= path.size()) {
    const size_t end = std::min(path.find('.', start), path.size());
    field = message->FindFieldByName(path.substr(start, end - start));
    if (field == nullptr) return nullptr;
    message = field->message_type();
    start = end + 1;
  }
  return start > path.size() ? field : nullptr;
}

std::string Rpc(const pb::MethodDescriptor* method) { return method->full_name(); }

TEST(ProtoApi, AllProtoFilesAreLinkedIntoTheGeneratedPool) {
  AnchoredFiles();
  const std::vector<std::string> files = ProtoFilesOnDisk();
  ASSERT_GE(files.size(), 14u) << "expected common + six services under " << ProtoRoot();
  for (const std::string& name : files) {
    EXPECT_NE(pb::DescriptorPool::generated_pool()->FindFileByName(name), nullptr)
        << name << " is not in the generated pool: add one of its types to AnchoredFiles()";
  }
}

TEST(ProtoApi, EveryServiceOfTheSixIsDefinedWithRpcs) {
  const std::set<std::string> expected = {
      "shieldx.orchestrator.v1.DecisionService", "shieldx.orchestrator.v1.ConfigService",
      "shieldx.credits.v1.CreditsService",       "shieldx.contauth.v1.ContAuthService",
      "shieldx.shadow.v1.ShadowService",         "shieldx.twin.v1.TwinService",
      "shieldx.webapi.v1.WebApiService",
  };
  std::set<std::string> found;
  for (const pb::ServiceDescriptor* service : ShieldxServices()) {
    found.insert(service->full_name());
    EXPECT_GT(service->method_count(), 0) << service->full_name() << " has no RPCs";
  }
  for (const std::string& name : expected) EXPECT_TRUE(found.count(name)) << name << " missing";
}

TEST(ProtoApi, EveryRpcHasAnHttpRuleWithAV1PathAndAMethod) {
  const std::vector<const pb::MethodDescriptor*> methods = ShieldxMethods();
  ASSERT_GE(methods.size(), 90u);
  for (const pb::MethodDescriptor* method : methods) {
    ASSERT_TRUE(method->options().HasExtension(common::http)) << Rpc(method) << ": no http rule";
    const common::HttpRule& rule = method->options().GetExtension(common::http);
    EXPECT_NE(rule.method(), common::HTTP_METHOD_UNSPECIFIED) << Rpc(method) << ": no method";
    std::string error;
    EXPECT_TRUE(ParsePath(rule.path(), &error).has_value())
        << Rpc(method) << ": path '" << rule.path() << "' " << error;
  }
}

TEST(ProtoApi, EveryRpcRequiresAWellFormedPermission) {
  static const std::regex kPermission(R"([a-z]+\.[a-z]+(_[a-z]+)*)");
  for (const pb::MethodDescriptor* method : ShieldxMethods()) {
    const std::string& permission = method->options().GetExtension(common::permission);
    EXPECT_TRUE(std::regex_match(permission, kPermission))
        << Rpc(method) << ": permission '" << permission << "' is not <area>.<verb>";
  }
}

TEST(ProtoApi, PathPlaceholdersNameSingularScalarFieldsOfTheRequest) {
  for (const pb::MethodDescriptor* method : ShieldxMethods()) {
    const common::HttpRule& rule = method->options().GetExtension(common::http);
    std::string error;
    const std::optional<PathTemplate> path = ParsePath(rule.path(), &error);
    if (!path) continue;  // Reported by EveryRpcHasAnHttpRuleWithAV1PathAndAMethod.
    std::set<std::string> seen;
    for (const std::string& name : path->placeholders) {
      EXPECT_TRUE(seen.insert(name).second) << Rpc(method) << ": {" << name << "} twice";
      const pb::FieldDescriptor* field = FindFieldPath(method->input_type(), name);
      ASSERT_NE(field, nullptr) << Rpc(method) << ": {" << name << "} is not a field of "
                                << method->input_type()->full_name();
      EXPECT_FALSE(field->is_repeated()) << Rpc(method) << ": {" << name << "} is repeated";
      EXPECT_TRUE(field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE &&
                  field->type() != pb::FieldDescriptor::TYPE_BYTES)
          << Rpc(method) << ": {" << name << "} must be a string or integer field";
    }
  }
}

TEST(ProtoApi, BodyIsAbsentForGetAndDeleteAndNamesTheRequestOtherwise) {
  for (const pb::MethodDescriptor* method : ShieldxMethods()) {
    const common::HttpRule& rule = method->options().GetExtension(common::http);
    const bool bodiless =
        rule.method() == common::HTTP_METHOD_GET || rule.method() == common::HTTP_METHOD_DELETE;
    if (bodiless) {
      EXPECT_EQ(rule.body(), "") << Rpc(method) << ": GET and DELETE take no body";
      continue;
    }
    if (rule.body() == "*") continue;
    const pb::FieldDescriptor* field = method->input_type()->FindFieldByName(rule.body());
    ASSERT_NE(field, nullptr) << Rpc(method) << ": body '" << rule.body()
                              << "' is neither \"*\" nor a field of the request";
    EXPECT_EQ(rule.path().find("{" + rule.body() + "}"), std::string::npos)
        << Rpc(method) << ": body field is also bound by the path";
  }
}

TEST(ProtoApi, NoTwoRpcsShareAnHttpRoute) {
  // Two templates clash when a request could match both: same method, verb and segment count,
  // and at every position equal literals or a placeholder on either side.
  struct Route {
    const pb::MethodDescriptor* method;
    common::HttpMethod verb_method;
    PathTemplate path;
  };
  std::vector<Route> routes;
  for (const pb::MethodDescriptor* method : ShieldxMethods()) {
    const common::HttpRule& rule = method->options().GetExtension(common::http);
    std::string error;
    std::optional<PathTemplate> path = ParsePath(rule.path(), &error);
    if (path) routes.push_back({method, rule.method(), *path});
  }
  auto is_placeholder = [](const std::string& s) { return !s.empty() && s[0] == '{'; };
  for (size_t i = 0; i < routes.size(); ++i) {
    for (size_t j = i + 1; j < routes.size(); ++j) {
      const Route& a = routes[i];
      const Route& b = routes[j];
      if (a.verb_method != b.verb_method || a.path.verb != b.path.verb ||
          a.path.segments.size() != b.path.segments.size()) {
        continue;
      }
      bool clash = true;
      for (size_t k = 0; k < a.path.segments.size() && clash; ++k) {
        const std::string& x = a.path.segments[k];
        const std::string& y = b.path.segments[k];
        clash = x == y || is_placeholder(x) || is_placeholder(y);
      }
      EXPECT_FALSE(clash) << Rpc(a.method) << " and " << Rpc(b.method) << " share the route "
                          << common::HttpMethod_Name(a.verb_method) << " "
                          << a.method->options().GetExtension(common::http).path();
    }
  }
}

TEST(ProtoApi, EveryEnumZeroValueEndsInUnspecified) {
  const std::vector<const pb::EnumDescriptor*> enums = ShieldxEnums();
  ASSERT_GE(enums.size(), 30u);
  for (const pb::EnumDescriptor* e : enums) {
    const pb::EnumValueDescriptor* zero = e->FindValueByNumber(0);
    ASSERT_NE(zero, nullptr) << e->full_name() << " has no zero value";
    const std::string& name = zero->name();
    const std::string suffix = "_UNSPECIFIED";
    EXPECT_TRUE(name.size() > suffix.size() &&
                name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        << e->full_name() << ": zero value " << name << " does not end in _UNSPECIFIED";
  }
}

// "ContAuthMode" -> "CONT_AUTH_MODE".
std::string UpperSnake(const std::string& camel) {
  std::string out;
  for (size_t i = 0; i < camel.size(); ++i) {
    const char c = camel[i];
    if (i > 0 && std::isupper(static_cast<unsigned char>(c))) out += '_';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

TEST(ProtoApi, EveryEnumValueIsPrefixedWithItsEnumName) {
  for (const pb::EnumDescriptor* e : ShieldxEnums()) {
    const std::string prefix = UpperSnake(e->name()) + "_";
    for (int i = 0; i < e->value_count(); ++i) {
      EXPECT_EQ(e->value(i)->name().rfind(prefix, 0), 0u)
          << e->full_name() << "." << e->value(i)->name() << " lacks the prefix " << prefix;
    }
  }
}

TEST(ProtoApi, EveryRequestCarriesTenantIdAsFieldOne) {
  for (const pb::MethodDescriptor* method : ShieldxMethods()) {
    const pb::FieldDescriptor* field = method->input_type()->FindFieldByNumber(1);
    ASSERT_NE(field, nullptr) << Rpc(method) << ": request has no field 1";
    EXPECT_EQ(field->name(), "tenant_id") << Rpc(method);
    EXPECT_EQ(field->type(), pb::FieldDescriptor::TYPE_STRING) << Rpc(method);
  }
}

TEST(ProtoApi, EveryRpcHasItsOwnRequestAndResponseMessage) {
  std::map<std::string, std::string> used_by;
  for (const pb::MethodDescriptor* method : ShieldxMethods()) {
    EXPECT_EQ(method->input_type()->name(), method->name() + "Request") << Rpc(method);
    EXPECT_EQ(method->output_type()->name(), method->name() + "Response") << Rpc(method);
    for (const pb::Descriptor* m : {method->input_type(), method->output_type()}) {
      const auto [it, inserted] = used_by.emplace(m->full_name(), Rpc(method));
      EXPECT_TRUE(inserted) << m->full_name() << " is used by " << it->second << " and "
                            << Rpc(method);
    }
  }
}

TEST(ProtoApi, MutatingCreditsRpcsRequireAnIdempotencyKey) {
  const pb::ServiceDescriptor* credits =
      pb::DescriptorPool::generated_pool()->FindServiceByName("shieldx.credits.v1.CreditsService");
  ASSERT_NE(credits, nullptr);
  const std::set<std::string> mutating = {"OpenAccount",  "TopUp",   "Consume",
                                          "ConsumeBatch", "Reserve", "Capture",
                                          "Void",         "Refund",  "SetAlertThreshold"};
  for (const std::string& name : mutating) {
    const pb::MethodDescriptor* method = credits->FindMethodByName(name);
    ASSERT_NE(method, nullptr) << "CreditsService." << name << " missing";
    EXPECT_NE(method->options().GetExtension(common::http).method(), common::HTTP_METHOD_GET)
        << Rpc(method) << " mutates and must not be mapped to GET";
  }
  for (int i = 0; i < credits->method_count(); ++i) {
    const pb::MethodDescriptor* method = credits->method(i);
    const bool is_get =
        method->options().GetExtension(common::http).method() == common::HTTP_METHOD_GET;
    if (is_get && !mutating.count(method->name())) continue;
    const pb::FieldDescriptor* key = method->input_type()->FindFieldByName("idempotency_key");
    ASSERT_NE(key, nullptr) << Rpc(method) << ": mutating request without idempotency_key";
    EXPECT_EQ(key->type(), pb::FieldDescriptor::TYPE_STRING) << Rpc(method);
  }
}

TEST(ProtoApi, CredentialFieldsAreMarkedSecret) {
  static const std::regex kCredential(R"(.*(password|secret|_token)$|^(access|refresh)_token$)");
  int checked = 0;
  for (const pb::FieldDescriptor* field : ShieldxFields()) {
    const std::string& name = field->name();
    if (name == "page_token" || name == "next_page_token") continue;
    if (!std::regex_match(name, kCredential)) continue;
    ++checked;
    EXPECT_EQ(field->options().GetExtension(common::redact), common::REDACTION_SECRET)
        << field->full_name() << " holds a credential but is not marked REDACTION_SECRET";
  }
  EXPECT_GE(checked, 5) << "the API has passwords, tokens and key secrets";
}

TEST(ProtoApi, RepeatedFieldNamesArePlural) {
  for (const pb::FieldDescriptor* field : ShieldxFields()) {
    if (!field->is_repeated() || field->is_map()) continue;
    EXPECT_EQ(field->name().back(), 's') << field->full_name() << " is repeated but singular";
  }
}

// Splits "decision_ttl_ms" into {"decision", "ttl", "ms"}.
std::vector<std::string> Words(const std::string& name) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t end = std::min(name.find('_', start), name.size());
    out.push_back(name.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

TEST(ProtoApi, TimeAndCreditQuantitiesCarryTheirUnitInTheName) {
  const std::set<std::string> time_words = {"ttl",      "deadline", "timeout", "interval",
                                            "duration", "latency",  "tarpit",  "after",
                                            "window",   "time"};
  const std::set<std::string> time_units = {"ms", "us", "ns", "days"};
  const std::set<std::string> credit_words = {"amount",    "overdraft",  "threshold", "balance",
                                              "shortfall", "refundable", "consumed",  "captured"};
  for (const pb::FieldDescriptor* field : ShieldxFields()) {
    const pb::FieldDescriptor::CppType t = field->cpp_type();
    if (field->message_type() != nullptr) {
      EXPECT_NE(field->message_type()->full_name(), "google.protobuf.Duration")
          << field->full_name() << ": use an integer field with the unit in its name";
      continue;
    }
    const bool integer =
        t == pb::FieldDescriptor::CPPTYPE_INT32 || t == pb::FieldDescriptor::CPPTYPE_INT64 ||
        t == pb::FieldDescriptor::CPPTYPE_UINT32 || t == pb::FieldDescriptor::CPPTYPE_UINT64;
    if (!integer) continue;
    const std::vector<std::string> words = Words(field->name());
    bool time_quantity = false;
    bool credit_quantity = false;
    for (size_t i = 0; i < words.size(); ++i) {
      const bool counted_per = i > 0 && words[i - 1] == "per";  // requests_per_window
      time_quantity |= time_words.count(words[i]) > 0 && !counted_per;
      credit_quantity |= credit_words.count(words[i]) > 0;
    }
    if (time_quantity) {
      EXPECT_TRUE(time_units.count(words.back()))
          << field->full_name() << " is a time quantity without a unit suffix (_ms, _us, ...)";
    }
    if (credit_quantity && t == pb::FieldDescriptor::CPPTYPE_INT64) {
      EXPECT_EQ(words.back(), "credits")
          << field->full_name() << " is a credit amount without the _credits unit";
    }
  }
}

// The descriptor set built by protoc with source info: what the generated pool lacks (comments).
class ProtoSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(SHIELDX_DESCRIPTOR_SET_PATH, std::ios::binary);
    ASSERT_TRUE(in.good()) << "cannot read " << SHIELDX_DESCRIPTOR_SET_PATH;
    ASSERT_TRUE(set_.ParseFromIstream(&in)) << "cannot parse " << SHIELDX_DESCRIPTOR_SET_PATH;
    for (const pb::FileDescriptorProto& file : set_.file()) {
      ASSERT_NE(pool_.BuildFile(file), nullptr) << "cannot build " << file.name();
    }
  }

  pb::FileDescriptorSet set_;
  pb::DescriptorPool pool_;
};

// The descriptor set and the source tree hold the same files (the CMake glob is current).
TEST_F(ProtoSourceTest, DescriptorSetHoldsEveryProtoFile) {
  for (const std::string& name : ProtoFilesOnDisk()) {
    EXPECT_NE(pool_.FindFileByName(name), nullptr) << name << " missing from the descriptor set";
  }
}

template <typename D>
void ExpectComment(const D* d, const std::string& what, int* checked) {
  pb::SourceLocation location;
  ++*checked;
  const bool has_location = d->GetSourceLocation(&location);
  EXPECT_TRUE(has_location &&
              (!location.leading_comments.empty() || !location.trailing_comments.empty()))
      << what << " " << d->full_name() << " has no comment";
}

TEST_F(ProtoSourceTest, EveryServiceRpcMessageFieldAndEnumValueIsCommented) {
  int checked = 0;
  std::vector<const pb::Descriptor*> messages;
  for (const std::string& name : ProtoFilesOnDisk()) {
    const pb::FileDescriptor* file = pool_.FindFileByName(name);
    ASSERT_NE(file, nullptr) << name;
    for (int i = 0; i < file->service_count(); ++i) {
      ExpectComment(file->service(i), "service", &checked);
      for (int j = 0; j < file->service(i)->method_count(); ++j) {
        ExpectComment(file->service(i)->method(j), "rpc", &checked);
      }
    }
    for (int i = 0; i < file->message_type_count(); ++i) {
      CollectMessages(file->message_type(i), &messages);
    }
    for (int i = 0; i < file->enum_type_count(); ++i) {
      const pb::EnumDescriptor* e = file->enum_type(i);
      ExpectComment(e, "enum", &checked);
      for (int j = 0; j < e->value_count(); ++j) ExpectComment(e->value(j), "value", &checked);
    }
    for (int i = 0; i < file->extension_count(); ++i) {
      ExpectComment(file->extension(i), "extension", &checked);
    }
  }
  for (const pb::Descriptor* message : messages) {
    ExpectComment(message, "message", &checked);
    for (int i = 0; i < message->field_count(); ++i) {
      ExpectComment(message->field(i), "field", &checked);
    }
    for (int i = 0; i < message->enum_type_count(); ++i) {
      const pb::EnumDescriptor* e = message->enum_type(i);
      ExpectComment(e, "enum", &checked);
      for (int j = 0; j < e->value_count(); ++j) ExpectComment(e->value(j), "value", &checked);
    }
  }
  EXPECT_GT(checked, 1000);
}

}  // namespace
}  // namespace shieldx
