// shieldx-credits-cli: operator commands against a running shieldx-credits over gRPC.
//
//   shieldx-credits-cli --target HOST:PORT seed-demo [--tenant demo] [--credits 100000]
//       Opens the tenant's account and grants it credits (promotion "demo-seed"). Safe to run
//       again: fixed idempotency keys make every rerun a replay (exit 0, same balance).
//   shieldx-credits-cli --target HOST:PORT balance --tenant T
//   shieldx-credits-cli --target HOST:PORT top-up --tenant T --credits N --reference REF
//       [--provider manual|promotion] [--note TEXT]   (key: "top-up:<provider>:<REF>")
//   shieldx-credits-cli --target HOST:PORT verify-audit --tenant T
// TLS: --tls-ca FILE [--tls-cert FILE --tls-key FILE] (mTLS). The caller identity sent is
// the operator service actor "shieldx-credits-cli" (platform.billing and credits.*).
// Exit codes: 0 success, 1 RPC failure (one line on stderr), 2 usage error.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/rpc/client.h"
#include "libs/rpc/status.h"
#include "services/credits/credits_service.h"

namespace {

namespace pb = shieldx::credits::v1;

constexpr int64_t kDeadlineMs = 10'000;

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "shieldx-credits-cli: %s\nusage: shieldx-credits-cli --target HOST:PORT "
               "(seed-demo [--tenant T] [--credits N] | balance --tenant T | top-up --tenant T "
               "--credits N --reference REF [--provider P] [--note TEXT] | verify-audit "
               "--tenant T) [--tls-ca F [--tls-cert F --tls-key F]]\n",
               why.c_str());
  return 2;
}

int Fail(const std::string& what, const grpc::Status& s) {
  std::fprintf(stderr, "shieldx-credits-cli: %s: %s\n", what.c_str(),
               shieldx::rpc::GrpcToStatus(s).ToString().c_str());
  return 1;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = shieldx::rpc::MakeClientContext(kDeadlineMs);
  shieldx::common::v1::Actor actor;
  actor.set_kind(shieldx::common::v1::ACTOR_KIND_SERVICE);
  actor.set_actor_id("shieldx-credits-cli");
  actor.set_tenant_id(shieldx::credits::kPlatformTenantId);
  for (const char* p :
       {"platform.billing", "credits.read", "credits.write", "credits.admin", "credits.audit"}) {
    actor.add_permissions(p);
  }
  shieldx::credits::AttachActor(ctx.get(), actor);
  return ctx;
}

void PrintBalance(const pb::Balance& b) {
  std::printf("account %s: available %lld (posted %lld, pending %lld), sequence %lld\n",
              b.account_id().c_str(), static_cast<long long>(b.available_credits()),
              static_cast<long long>(b.posted_credits()),
              static_cast<long long>(b.pending_credits()), static_cast<long long>(b.sequence()));
}

int TopUp(pb::CreditsService::Stub& stub, const std::string& tenant, int64_t credits,
          const std::string& provider, const std::string& reference, const std::string& note) {
  pb::TopUpRequest req;
  req.set_tenant_id(tenant);
  req.set_idempotency_key(absl::StrCat("top-up:", provider, ":", reference));
  req.set_amount_credits(credits);
  req.mutable_payment()->set_provider(provider);
  req.mutable_payment()->set_external_reference(reference);
  req.mutable_payment()->set_note(note);
  pb::TopUpResponse resp;
  grpc::Status s = stub.TopUp(Context().get(), req, &resp);
  if (!s.ok()) return Fail("TopUp", s);
  std::printf("top-up %s: %lld credits\n", resp.transfer().transfer_id().c_str(),
              static_cast<long long>(resp.transfer().amount_credits()));
  PrintBalance(resp.balance());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  std::string command;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      std::string value;
      const auto eq = a.find('=');
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return Usage("flag " + a + " needs a value");
      }
      flags[a.substr(2)] = value;
    } else if (command.empty()) {
      command = a;
    } else {
      return Usage("unexpected argument " + a);
    }
  }
  for (const auto& [k, v] : flags) {
    if (k != "target" && k != "tenant" && k != "credits" && k != "reference" && k != "provider" &&
        k != "note" && k != "tls-ca" && k != "tls-cert" && k != "tls-key") {
      return Usage("unknown flag --" + k);
    }
  }
  if (flags["target"].empty()) return Usage("--target is required");
  shieldx::rpc::ClientOptions options;
  options.tls.ca_file = flags["tls-ca"];
  options.tls.cert_file = flags["tls-cert"];
  options.tls.key_file = flags["tls-key"];
  auto channel = shieldx::rpc::MakeChannel(flags["target"], options);
  if (!channel.ok()) {
    std::fprintf(stderr, "shieldx-credits-cli: %s\n", channel.status().ToString().c_str());
    return 2;
  }
  auto stub = pb::CreditsService::NewStub(*channel);
  const std::string tenant = flags.count("tenant") ? flags["tenant"] : "";
  int64_t credits = 0;
  if (flags.count("credits") && !absl::SimpleAtoi(flags["credits"], &credits)) {
    return Usage("--credits must be an integer");
  }

  if (command == "seed-demo") {
    const std::string t = tenant.empty() ? "demo" : tenant;
    if (credits == 0) credits = 100'000;
    pb::OpenAccountRequest open;
    open.set_tenant_id(t);
    open.set_idempotency_key("seed-demo:open");
    open.set_alert_threshold_credits(1000);
    pb::OpenAccountResponse opened;
    grpc::Status s = stub->OpenAccount(Context().get(), open, &opened);
    if (!s.ok()) return Fail("OpenAccount", s);
    std::printf("account %s open for tenant %s\n", opened.account().account_id().c_str(),
                t.c_str());
    return TopUp(*stub, t, credits, "promotion", absl::StrCat("demo-seed-", credits),
                 "credits for the local demo tenant");
  }
  if (tenant.empty()) return Usage("--tenant is required");
  if (command == "balance") {
    pb::GetBalanceRequest req;
    req.set_tenant_id(tenant);
    pb::GetBalanceResponse resp;
    grpc::Status s = stub->GetBalance(Context().get(), req, &resp);
    if (!s.ok()) return Fail("GetBalance", s);
    PrintBalance(resp.balance());
    return 0;
  }
  if (command == "top-up") {
    if (credits <= 0 || flags["reference"].empty()) {
      return Usage("top-up needs --credits > 0 and --reference");
    }
    const std::string provider = flags.count("provider") ? flags["provider"] : "manual";
    return TopUp(*stub, tenant, credits, provider, flags["reference"], flags["note"]);
  }
  if (command == "verify-audit") {
    pb::VerifyAuditRequest req;
    req.set_tenant_id(tenant);
    pb::VerifyAuditResponse resp;
    grpc::Status s = stub->VerifyAudit(Context().get(), req, &resp);
    if (!s.ok()) return Fail("VerifyAudit", s);
    std::printf("%s: %lld entries verified, %d problems\n", resp.ok() ? "ok" : "BROKEN",
                static_cast<long long>(resp.verified_entries()), resp.problems_size());
    for (const auto& p : resp.problems()) {
      std::printf("  sequence %lld: %s\n", static_cast<long long>(p.sequence()),
                  p.description().c_str());
    }
    return resp.ok() ? 0 : 1;
  }
  return Usage(command.empty() ? "no command" : "unknown command " + command);
}
