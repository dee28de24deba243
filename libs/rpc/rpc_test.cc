#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>

#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/http/admin.h"
#include "libs/http/client.h"
#include "libs/log/log.h"
#include "libs/metrics/metrics.h"
#include "libs/rpc/client.h"
#include "libs/rpc/server.h"
#include "libs/rpc/shutdown.h"
#include "libs/rpc/status.h"
#include "libs/rpc/testdata/echo.grpc.pb.h"
#include "libs/rpc/testdata/health.grpc.pb.h"
#include "libs/testing/process.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::rpc {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::shieldx::rpctest::Echo;
using ::shieldx::rpctest::EchoRequest;
using ::shieldx::rpctest::EchoResponse;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kEchoName[] = "shieldx.rpctest.Echo";

// The RPC under test: the request chooses the outcome; the response reports what the handler
// thread saw.
class EchoService final : public Echo::Service {
 public:
  grpc::Status Echo(grpc::ServerContext*, const EchoRequest* req, EchoResponse* resp) override {
    int attempt = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      attempt = ++calls_[req->key()];
    }
    if (req->sleep_ms() > 0) absl::SleepFor(absl::Milliseconds(req->sleep_ms()));
    if (req->fail_code() != 0 && (req->fail_times() == 0 || attempt <= req->fail_times())) {
      return grpc::Status(static_cast<grpc::StatusCode>(req->fail_code()),
                          "echo failing as asked, attempt " + std::to_string(attempt));
    }
    resp->set_payload(req->payload());
    resp->set_trace_id(std::string(log::CurrentTraceId()));
    resp->set_attempt(attempt);
    return grpc::Status::OK;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> calls_;
};

class RpcTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = ServerOptions()) {
    server_ = std::make_unique<GrpcServer>(options, &metrics_);
    server_->RegisterService(&service_, kEchoName);
    ASSERT_OK_AND_ASSIGN(port_, server_->Start());
    ASSERT_GT(port_, 0);
  }

  std::shared_ptr<grpc::Channel> Channel(ClientOptions options = ClientOptions(),
                                         const std::string& host = "127.0.0.1") {
    auto ch = MakeChannel(host + ":" + std::to_string(port_), options);
    EXPECT_OK(ch.status());
    return ch.ok() ? *ch : nullptr;
  }

  grpc::Status Call(const std::shared_ptr<grpc::Channel>& ch, const EchoRequest& req,
                    EchoResponse* resp, int64_t deadline_ms = 5000) {
    grpc::ClientContext ctx;
    PrepareClientContext(&ctx, deadline_ms);
    return Echo::NewStub(ch)->Echo(&ctx, req, resp);
  }

  HealthCheckResponse::ServingStatus HealthOf(const std::string& service) {
    grpc::ClientContext ctx;
    PrepareClientContext(&ctx, 5000);
    HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    grpc::Status s = Health::NewStub(Channel())->Check(&ctx, req, &resp);
    if (!s.ok()) return HealthCheckResponse::UNKNOWN;
    return resp.status();
  }

  metrics::MetricsRegistry metrics_{"rpc_test"};
  EchoService service_;
  std::unique_ptr<GrpcServer> server_;
  int port_ = 0;
};

TEST(Status, ConversionKeepsCodeAndMessageBothWays) {
  for (int code = 0; code <= 16; ++code) {
    absl::Status a(static_cast<absl::StatusCode>(code), code == 0 ? "" : "account acme: gone");
    grpc::Status g = StatusToGrpc(a);
    EXPECT_EQ(static_cast<int>(g.error_code()), code);
    EXPECT_EQ(GrpcToStatus(g), a);
  }
  EXPECT_EQ(GrpcToStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "site x")).message(), "site x");
  EXPECT_EQ(CodeName(0), "OK");
  EXPECT_EQ(CodeName(3), "INVALID_ARGUMENT");
  EXPECT_EQ(CodeName(16), "UNAUTHENTICATED");
  EXPECT_EQ(CodeName(99), "UNKNOWN");
}

TEST(RetryConfig, IsBoundedByTheRetryLimit) {
  RetryOptions r;
  r.max_attempts = 50;
  std::string json = RetryServiceConfigJson(r);
  EXPECT_THAT(json, HasSubstr("\"maxAttempts\":5"));
  EXPECT_THAT(json, HasSubstr("\"retryableStatusCodes\":[\"UNAVAILABLE\"]"));
  r.enabled = false;
  EXPECT_EQ(RetryServiceConfigJson(r), "{}");
}

TEST_F(RpcTest, MetricsInterceptorCountsOkAndErrorCodes) {
  StartServer();
  auto ch = Channel();
  EchoRequest ok;
  ok.set_payload("hi");
  EchoRequest bad;
  bad.set_fail_code(grpc::StatusCode::INVALID_ARGUMENT);
  EchoResponse resp;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Call(ch, ok, &resp).ok());
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Call(ch, bad, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  std::string text = metrics_.Serialize();
  EXPECT_THAT(text, HasSubstr("grpc_server_started_total{grpc_method=\"Echo\",grpc_service=\""
                              "shieldx.rpctest.Echo\",grpc_type=\"unary\"} 5"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Echo\","
                              "grpc_service=\"shieldx.rpctest.Echo\",grpc_type=\"unary\"} 3"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"INVALID_ARGUMENT\","
                              "grpc_method=\"Echo\",grpc_service=\"shieldx.rpctest.Echo\","
                              "grpc_type=\"unary\"} 2"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handling_seconds_count{grpc_method=\"Echo\","
                              "grpc_service=\"shieldx.rpctest.Echo\",grpc_type=\"unary\"} 5"));
}

TEST_F(RpcTest, UnimplementedMethodsOfOurApiSaySoInTheMessage) {
  // The generated base class answers UNIMPLEMENTED with no message; the interceptor names the
  // method so a client knows it reached the right service at a release that lacks it.
  Echo::Service bare;
  GrpcServer server(ServerOptions(), &metrics_);
  server.RegisterService(&bare, kEchoName);
  ASSERT_OK_AND_ASSIGN(int port, server.Start());
  auto ch = MakeChannel("127.0.0.1:" + std::to_string(port), ClientOptions());
  ASSERT_OK(ch.status());
  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, 5000);
  EchoRequest req;
  EchoResponse resp;
  grpc::Status s = Echo::NewStub(*ch)->Echo(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(s.error_message(), HasSubstr("shieldx.rpctest.Echo/Echo"));
  EXPECT_THAT(s.error_message(), HasSubstr("not implemented"));
  server.Shutdown(absl::Seconds(1));
}

TEST_F(RpcTest, UnknownMethodsDoNotCreateNewLabelValues) {
  StartServer();
  grpc::GenericStub stub(Channel());
  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, 5000);
  grpc::Slice empty("");
  grpc::ByteBuffer req(&empty, 1);
  grpc::ByteBuffer resp;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/attacker.chosen.Service/Method123", grpc::StubOptions(), &req, &resp,
                 [&](grpc::Status s) { done.set_value(s); });
  EXPECT_EQ(done.get_future().get().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  std::string text = metrics_.Serialize();
  EXPECT_THAT(text, Not(HasSubstr("attacker")));
  EXPECT_THAT(text, Not(HasSubstr("Method123")));
}

TEST_F(RpcTest, TraceIdReachesTheHandlerThreadAndIsEchoed) {
  StartServer();
  auto stub = Echo::NewStub(Channel());
  EchoRequest req;
  EchoResponse resp;
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-trace-id", "trace-abc.123");
    ASSERT_TRUE(stub->Echo(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.trace_id(), "trace-abc.123");
    auto md = ctx.GetServerInitialMetadata();
    auto it = md.find("x-trace-id");
    ASSERT_NE(it, md.end());
    EXPECT_EQ(std::string(it->second.data(), it->second.size()), "trace-abc.123");
  }
  {
    // PrepareClientContext propagates the caller's trace id.
    log::ScopedTraceId scope("caller-trace-7");
    grpc::ClientContext ctx;
    PrepareClientContext(&ctx, 5000);
    ASSERT_TRUE(stub->Echo(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.trace_id(), "caller-trace-7");
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    ASSERT_TRUE(stub->Echo(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-trace-id", "has spaces; and junk");
    ASSERT_TRUE(stub->Echo(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.trace_id().size(), 16u);  // generated
    auto md = ctx.GetServerInitialMetadata();
    auto it = md.find("x-trace-id");
    ASSERT_NE(it, md.end());
    EXPECT_EQ(std::string(it->second.data(), it->second.size()), resp.trace_id());
  }
  {
    // A failed call carries the id in the trailers.
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-trace-id", "failed-call-1");
    EchoRequest bad;
    bad.set_fail_code(grpc::StatusCode::NOT_FOUND);
    ASSERT_EQ(stub->Echo(&ctx, bad, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
    auto md = ctx.GetServerTrailingMetadata();
    auto it = md.find("x-trace-id");
    ASSERT_NE(it, md.end());
    EXPECT_EQ(std::string(it->second.data(), it->second.size()), "failed-call-1");
  }
  // The handler thread does not keep the id after the call.
  EXPECT_EQ(log::CurrentTraceId(), "");
}

TEST_F(RpcTest, FailedRpcsAreLoggedOnceAtWarnWithTheTraceId) {
  ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create("rpc-log"));
  std::string path = dir.path() + "/log.jsonl";
  log::Init("rpc_test", log::Level::kInfo, path);
  StartServer();
  auto stub = Echo::NewStub(Channel());
  EchoRequest req;
  req.set_fail_code(grpc::StatusCode::FAILED_PRECONDITION);
  req.set_payload("secret-payload-value");
  EchoResponse resp;
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-trace-id", "log-trace-1");
  EXPECT_FALSE(stub->Echo(&ctx, req, &resp).ok());
  EchoRequest ok;
  grpc::ClientContext ctx2;
  EXPECT_TRUE(stub->Echo(&ctx2, ok, &resp).ok());
  server_->Shutdown(absl::Seconds(1));
  log::Flush();
  log::Init("rpc_test");
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  EXPECT_THAT(text, HasSubstr("\"msg\":\"rpc failed\""));
  EXPECT_THAT(text, HasSubstr("\"trace_id\":\"log-trace-1\""));
  EXPECT_THAT(text, HasSubstr("\"grpc_code\":\"FAILED_PRECONDITION\""));
  EXPECT_THAT(text, Not(HasSubstr("secret-payload-value")));
  EXPECT_THAT(text, Not(HasSubstr("rpc ok")));  // successes only at debug
}

TEST_F(RpcTest, HealthReportsPerServiceStatusAndNotServingOnceDrainBegins) {
  StartServer();
  EXPECT_EQ(HealthOf(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(HealthOf(kEchoName), HealthCheckResponse::SERVING);
  server_->SetServing(kEchoName, false);
  EXPECT_EQ(HealthOf(kEchoName), HealthCheckResponse::NOT_SERVING);
  server_->SetServing(kEchoName, true);
  EXPECT_EQ(HealthOf(kEchoName), HealthCheckResponse::SERVING);
  server_->BeginDrain();
  EXPECT_EQ(HealthOf(""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(HealthOf(kEchoName), HealthCheckResponse::NOT_SERVING);
  server_->SetServing(kEchoName, true);  // ignored while draining
  EXPECT_EQ(HealthOf(kEchoName), HealthCheckResponse::NOT_SERVING);
  EchoResponse resp;
  EXPECT_TRUE(Call(Channel(), EchoRequest(), &resp).ok());  // still serving RPCs until Shutdown
}

TEST_F(RpcTest, MessagesOverTheLimitAreResourceExhausted) {
  ServerOptions o;
  o.max_message_bytes = 1024;
  StartServer(o);
  EchoRequest req;
  req.set_payload(std::string(4096, 'x'));
  EchoResponse resp;
  grpc::Status s = Call(Channel(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  req.set_payload(std::string(100, 'x'));
  EXPECT_TRUE(Call(Channel(), req, &resp).ok());
}

TEST_F(RpcTest, ClientDeadlineProducesDeadlineExceeded) {
  StartServer();
  EchoRequest req;
  req.set_sleep_ms(1000);
  EchoResponse resp;
  absl::Time start = absl::Now();
  grpc::Status s = Call(Channel(), req, &resp, /*deadline_ms=*/100);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(900));
}

TEST_F(RpcTest, RetryPolicyRetriesUnavailableOnly) {
  StartServer();
  EchoRequest req;
  req.set_key("flaky");
  req.set_fail_code(grpc::StatusCode::UNAVAILABLE);
  req.set_fail_times(2);
  EchoResponse resp;
  ASSERT_TRUE(Call(Channel(), req, &resp).ok());
  EXPECT_EQ(resp.attempt(), 3);  // two UNAVAILABLE answers were retried

  req.set_key("invalid");
  req.set_fail_code(grpc::StatusCode::INVALID_ARGUMENT);
  req.set_fail_times(1);
  EXPECT_EQ(Call(Channel(), req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Call(Channel(), req, &resp).ok());
  EXPECT_EQ(resp.attempt(), 2);  // the first failure was not retried

  ClientOptions no_retry;
  no_retry.retry.enabled = false;
  req.set_key("no-retry");
  req.set_fail_code(grpc::StatusCode::UNAVAILABLE);
  req.set_fail_times(1);
  EXPECT_EQ(Call(Channel(no_retry), req, &resp).error_code(), grpc::StatusCode::UNAVAILABLE);

  req.set_key("always");
  req.set_fail_times(0);  // fails forever: attempts are bounded
  EXPECT_EQ(Call(Channel(), req, &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
  req.set_fail_code(0);
  ASSERT_TRUE(Call(Channel(no_retry), req, &resp).ok());
  EXPECT_EQ(resp.attempt(), limits::kMaxRetryAttempts + 1);
}

// Reflection's bidi stream answers one response per request; called as a generic unary RPC
// with a list_services request ("*"), it returns the service list.
grpc::Status ListServicesViaReflection(const std::shared_ptr<grpc::Channel>& ch, std::string* out) {
  grpc::GenericStub stub(ch);
  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, 5000);
  std::string request_bytes = std::string("\x3a\x01*", 3);  // field 7 list_services = "*"
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer req(&slice, 1);
  grpc::ByteBuffer resp;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                 grpc::StubOptions(), &req, &resp, [&](grpc::Status s) { done.set_value(s); });
  grpc::Status s = done.get_future().get();
  std::vector<grpc::Slice> slices;
  if (s.ok() && resp.Dump(&slices).ok()) {
    for (const auto& sl : slices) out->append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  }
  return s;
}

TEST_F(RpcTest, ReflectionIsServedOnlyWhenEnabled) {
  StartServer();
  std::string listed;
  EXPECT_EQ(ListServicesViaReflection(Channel(), &listed).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  server_->Shutdown(absl::ZeroDuration());
  ServerOptions o;
  o.reflection = true;
  StartServer(o);
  ASSERT_TRUE(ListServicesViaReflection(Channel(), &listed).ok());
  EXPECT_THAT(listed, HasSubstr(kEchoName));
}

class TlsTest : public RpcTest {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("rpc-tls");
    ASSERT_OK(dir.status());
    dir_.emplace(std::move(*dir));
    std::ofstream(dir_->path() + "/server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    Run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=test-ca"});
    for (const char* who : {"server", "client"}) {
      std::string w = who;
      Run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", w + ".key", "-out", w + ".csr", "-subj", "/CN=" + w});
      std::vector<std::string> sign = {"openssl",
                                       "x509",
                                       "-req",
                                       "-in",
                                       w + ".csr",
                                       "-CA",
                                       "ca.pem",
                                       "-CAkey",
                                       "ca.key",
                                       "-set_serial",
                                       w == "server" ? "2" : "3",
                                       "-out",
                                       w + ".pem",
                                       "-days",
                                       "1"};
      if (w == "server") {
        sign.push_back("-extfile");
        sign.push_back("server.ext");
      }
      Run(sign);
    }
  }
  void Run(std::vector<std::string> argv) {
    auto out = testing::RunCommand({.argv = std::move(argv), .working_dir = dir_->path()});
    ASSERT_OK(out.status());
  }
  std::string F(const std::string& name) { return dir_->path() + "/" + name; }

  // optional<>: TempDir's move assignment is unsafe (reported), so construct in place.
  std::optional<testing::TempDir> dir_;
};

TEST_F(TlsTest, TlsServerAcceptsVerifyingClientsAndRefusesPlaintext) {
  ServerOptions o;
  o.tls = {.cert_file = F("server.pem"), .key_file = F("server.key")};
  StartServer(o);
  ClientOptions c;
  c.tls.ca_file = F("ca.pem");
  EchoRequest req;
  req.set_payload("over tls");
  EchoResponse resp;
  grpc::Status s = Call(Channel(c), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.payload(), "over tls");
  c.tls_server_name = "localhost";
  EXPECT_TRUE(Call(Channel(c, "localhost"), req, &resp).ok());
  EXPECT_EQ(Call(Channel(ClientOptions()), req, &resp, 2000).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificateSignedByTheCa) {
  ServerOptions o;
  o.tls = {.cert_file = F("server.pem"), .key_file = F("server.key"), .ca_file = F("ca.pem")};
  StartServer(o);
  EchoRequest req;
  EchoResponse resp;
  ClientOptions anonymous;
  anonymous.tls.ca_file = F("ca.pem");
  EXPECT_EQ(Call(Channel(anonymous), req, &resp, 2000).error_code(), grpc::StatusCode::UNAVAILABLE);
  ClientOptions with_cert = anonymous;
  with_cert.tls.cert_file = F("client.pem");
  with_cert.tls.key_file = F("client.key");
  grpc::Status s = Call(Channel(with_cert), req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(TlsTest, MissingOrInvalidTlsFilesFailStart) {
  ServerOptions o;
  o.tls = {.cert_file = F("nope.pem"), .key_file = F("server.key")};
  GrpcServer s1(o, nullptr);
  EXPECT_THAT(s1.Start(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nope.pem")));
  o.tls = {.cert_file = F("server.ext"), .key_file = F("server.key")};
  GrpcServer s2(o, nullptr);
  EXPECT_THAT(s2.Start(),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no PEM block")));
  o.tls = {.cert_file = F("server.pem")};
  GrpcServer s3(o, nullptr);
  EXPECT_THAT(s3.Start(), testing::StatusIs(absl::StatusCode::kInvalidArgument));
  ClientOptions c;
  c.tls.cert_file = F("client.pem");  // without key
  EXPECT_THAT(MakeChannel("127.0.0.1:1", c), testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RpcTest, BindingAPortInUseIsUnavailable) {
  StartServer();
  ServerOptions o;
  o.listen_address = "127.0.0.1:" + std::to_string(port_);
  GrpcServer second(o, nullptr);
  EXPECT_THAT(second.Start(), testing::StatusIs(absl::StatusCode::kUnavailable));
}

TEST(Shutdown, SignalsWakeTheWaiter) {
  ASSERT_OK(InstallShutdownSignalHandlers());
  std::thread t([] {
    absl::SleepFor(absl::Milliseconds(50));
    kill(getpid(), SIGTERM);
  });
  EXPECT_EQ(WaitForShutdownSignal(), SIGTERM);
  t.join();
  RequestShutdown();
  EXPECT_EQ(WaitForShutdownSignal(), 0);
}

TEST_F(RpcTest, DrainTurnsReadinessOffThenFinishesInFlightWorkAndStops) {
  StartServer();
  http::AdminServerOptions ao;
  ao.probe_cache_ttl = absl::ZeroDuration();
  http::AdminServer admin(ao, &metrics_, {{"always", [] { return absl::OkStatus(); }}});
  ASSERT_OK(admin.Start());
  std::string readyz = "127.0.0.1:" + std::to_string(admin.port()) + "/readyz";
  ASSERT_EQ(http::HttpGet(readyz)->status, 200);

  // An RPC in flight when the drain starts.
  auto ch = Channel();
  std::future<grpc::Status> in_flight = std::async(std::launch::async, [&] {
    EchoRequest req;
    req.set_sleep_ms(800);
    EchoResponse resp;
    return Call(ch, req, &resp);
  });
  absl::SleepFor(absl::Milliseconds(100));

  std::atomic<bool> before_stop_ran{false};
  std::thread drainer([&] {
    Drain({.grpc_servers = {server_.get()},
           .admin = &admin,
           .unready_delay = absl::Milliseconds(300),
           .drain_deadline = absl::Seconds(10),
           .before_stop = [&] { before_stop_ran = true; }});
  });
  absl::SleepFor(absl::Milliseconds(100));  // inside unready_delay
  EXPECT_EQ(HealthOf(kEchoName), HealthCheckResponse::NOT_SERVING);
  auto r = http::HttpGet(readyz);
  ASSERT_OK(r.status());
  EXPECT_EQ(r->status, 503);
  drainer.join();
  EXPECT_TRUE(before_stop_ran.load());
  grpc::Status s = in_flight.get();
  EXPECT_TRUE(s.ok()) << s.error_message();
  EchoResponse resp;
  EXPECT_EQ(Call(Channel(), EchoRequest(), &resp, 1000).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(RpcTest, ShutdownDeadlineCancelsRpcsThatRunTooLong) {
  StartServer();
  auto ch = Channel();
  std::future<grpc::Status> slow = std::async(std::launch::async, [&] {
    EchoRequest req;
    req.set_sleep_ms(1500);
    EchoResponse resp;
    return Call(ch, req, &resp, 10000);
  });
  absl::SleepFor(absl::Milliseconds(200));
  absl::Time start = absl::Now();
  server_->Shutdown(absl::Milliseconds(200));
  EXPECT_NE(slow.get().error_code(), grpc::StatusCode::OK);
  // The sync handler itself cannot be interrupted; Shutdown returns once it finishes.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace shieldx::rpc
