#include "libs/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/http/client.h"
#include "libs/log/log.h"
#include "libs/metrics/metrics.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A raw TCP client, to send exactly the bytes a test needs.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }

  bool Send(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Reads until `pred(buffer)` or EOF or timeout; returns false on timeout.
  template <typename Pred>
  bool ReadUntil(Pred pred, absl::Duration timeout = absl::Seconds(5)) {
    absl::Time end = absl::Now() + timeout;
    while (!pred(buf_)) {
      int ms = static_cast<int>(absl::ToInt64Milliseconds(end - absl::Now()));
      if (ms <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, ms) <= 0) return false;
      char tmp[8192];
      ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) {
        eof_ = true;
        return pred(buf_);
      }
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response (Content-Length framed); empty string on failure.
  std::string ReadResponse(absl::Duration timeout = absl::Seconds(5)) {
    auto complete = [](const std::string& b) { return FrameLength(b) > 0; };
    if (!ReadUntil(complete, timeout)) return "";
    std::size_t len = FrameLength(buf_);
    std::string r = buf_.substr(0, len);
    buf_.erase(0, len);
    return r;
  }

  // True when the server closed the connection within `timeout`.
  bool WaitForClose(absl::Duration timeout) {
    ReadUntil([this](const std::string&) { return eof_; }, timeout);
    return eof_;
  }

 private:
  static std::size_t FrameLength(const std::string& b) {
    std::size_t head_end = b.find("\r\n\r\n");
    if (head_end == std::string::npos) return 0;
    std::size_t cl = 0;
    std::size_t pos = b.find("content-length: ");
    if (pos != std::string::npos && pos < head_end) {
      std::size_t eol = b.find("\r\n", pos);
      if (!absl::SimpleAtoi(b.substr(pos + 16, eol - pos - 16), &cl)) return 0;
    }
    std::size_t total = head_end + 4 + cl;
    return b.size() >= total ? total : 0;
  }

  int fd_;
  bool connected_ = false;
  bool eof_ = false;
  std::string buf_;
};

int StatusOf(const std::string& response) {
  int status = 0;
  if (response.size() >= 12) absl::SimpleAtoi(response.substr(9, 3), &status);
  return status;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = HttpServerOptions()) {
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options, &metrics_);
    ASSERT_OK(
        server_->Handle("GET", "/v1/items/{id}", [](const HttpRequest& req, HttpResponse& resp) {
          resp.Text(200, "item " + std::string(req.PathParam("id")) +
                             " q=" + req.QueryParam("q").value_or("-") + " route=" + req.route);
        }));
    ASSERT_OK(server_->Handle("POST", "/echo", [](const HttpRequest& req, HttpResponse& resp) {
      resp.Text(200, req.body);
    }));
    ASSERT_OK(server_->Handle("GET", "/trace", [](const HttpRequest& req, HttpResponse& resp) {
      resp.Text(200, std::string(log::CurrentTraceId()) + "|" + req.trace_id);
    }));
    ASSERT_OK(server_->Handle("GET", "/slow", [](const HttpRequest&, HttpResponse& resp) {
      absl::SleepFor(absl::Milliseconds(600));
      resp.Text(200, "slow done");
    }));
    ASSERT_OK(server_->Handle("GET", "/throw", [](const HttpRequest&, HttpResponse&) {
      throw std::runtime_error("boom");
    }));
    ASSERT_OK(server_->Handle("GET", "/remote", [](const HttpRequest& req, HttpResponse& resp) {
      resp.Text(200, req.remote_address);
    }));
    ASSERT_OK(server_->Start());
    ASSERT_GT(server_->port(), 0);
  }

  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  metrics::MetricsRegistry metrics_{"http_test"};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, RoutesByPatternWithParamsAndQuery) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(ClientResponse r, HttpGet(Url("/v1/items/a%20b?q=x%2By")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "item a b q=x+y route=/v1/items/{id}");
  EXPECT_EQ(r.headers.Get("content-type"), "text/plain; charset=utf-8");
  ASSERT_OK_AND_ASSIGN(r, HttpGet(Url("/remote")));
  EXPECT_THAT(r.body, StartsWith("127.0.0.1:"));
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(ClientResponse r, HttpGet(Url("/nope")));
  EXPECT_EQ(r.status, 404);
  ASSERT_OK_AND_ASSIGN(r, Fetch({.method = "DELETE", .url = Url("/echo")}));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.Get("allow"), "POST");
}

TEST_F(HttpServerTest, PostBodyIsDelivered) {
  StartServer();
  std::string body(5000, 'b');  // large enough that curl sends Expect: 100-continue
  ASSERT_OK_AND_ASSIGN(ClientResponse r,
                       Fetch({.method = "POST", .url = Url("/echo"), .body = body}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body);
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  StartServer();
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"));
  ASSERT_TRUE(c.ReadUntil(
      [](const std::string& b) { return b.find("HTTP/1.1 100 Continue\r\n\r\n") == 0; }));
  // Drop the interim response from the buffer by reading it as a zero-body frame.
  EXPECT_EQ(StatusOf(c.ReadResponse()), 100);
  ASSERT_TRUE(c.Send("abc"));
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_THAT(r, ::testing::EndsWith("\r\n\r\nabc"));
}

TEST_F(HttpServerTest, OversizedHeadersAre431AndCloseTheConnection) {
  HttpServerOptions o;
  o.limits.max_header_bytes = 1024;
  StartServer(o);
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send("GET /v1/items/1 HTTP/1.1\r\nX-Big: " + std::string(4096, 'x') + "\r\n\r\n"));
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 431) << r;
  EXPECT_THAT(r, HasSubstr("connection: close"));
  EXPECT_TRUE(c.WaitForClose(absl::Seconds(5)));
}

TEST_F(HttpServerTest, OversizedBodyIs413BeforeTheBodyIsRead) {
  HttpServerOptions o;
  o.limits.max_body_bytes = 100;
  StartServer(o);
  RawClient c(server_->port());
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n" + std::string(50'000, 'x')));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 413);
  ASSERT_OK_AND_ASSIGN(ClientResponse ok,
                       Fetch({.method = "POST", .url = Url("/echo"), .body = "small"}));
  EXPECT_EQ(ok.status, 200);
}

TEST_F(HttpServerTest, MalformedRequestLineIs400) {
  StartServer();
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send("GARBAGE\r\n\r\n"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 400);
  RawClient chunked(server_->port());
  ASSERT_TRUE(chunked.Send(
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
  EXPECT_EQ(StatusOf(chunked.ReadResponse()), 411);
}

TEST_F(HttpServerTest, KeepAliveServesSequentialAndPipelinedRequestsInOrder) {
  StartServer();
  RawClient c(server_->port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send("GET /v1/items/" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n"));
    std::string r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 200);
    EXPECT_THAT(r, HasSubstr("item " + std::to_string(i)));
  }
  std::string pipelined;
  for (int i = 10; i < 20; ++i) {
    pipelined += "GET /v1/items/" + std::to_string(i) + " HTTP/1.1\r\n\r\n";
  }
  pipelined += "POST /echo HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody";
  ASSERT_TRUE(c.Send(pipelined));
  for (int i = 10; i < 20; ++i) {
    std::string r = c.ReadResponse();
    ASSERT_EQ(StatusOf(r), 200) << i;
    EXPECT_THAT(r, HasSubstr("item " + std::to_string(i) + " "));
  }
  EXPECT_THAT(c.ReadResponse(), ::testing::EndsWith("body"));
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(HttpServerTest, ConcurrentClientsAreAllServedAndCounted) {
  HttpServerOptions o;
  o.worker_threads = 3;
  StartServer(o);
  constexpr int kThreads = 8;
  constexpr int kRequests = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      RawClient c(server_->port());
      for (int i = 0; i < kRequests; ++i) {
        c.Send("GET /v1/items/" + std::to_string(t) + " HTTP/1.1\r\n\r\n");
        if (StatusOf(c.ReadResponse()) == 200) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
  EXPECT_THAT(metrics_.Serialize(),
              HasSubstr("http_requests_total{method=\"GET\",route=\"/v1/items/{id}\","
                        "service=\"http_test\",status=\"200\"} " +
                        std::to_string(kThreads * kRequests)));
}

TEST_F(HttpServerTest, MetricsRecordTheRoutePatternAndUnmatched) {
  StartServer();
  ASSERT_OK(HttpGet(Url("/v1/items/12345")).status());
  ASSERT_OK(HttpGet(Url("/no/such/path/999")).status());
  std::string text = metrics_.Serialize();
  EXPECT_THAT(text, HasSubstr("route=\"/v1/items/{id}\",service=\"http_test\",status=\"200\"} 1"));
  EXPECT_THAT(text, HasSubstr("route=\"unmatched\",service=\"http_test\",status=\"404\"} 1"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("12345")));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("/no/such")));
  EXPECT_THAT(text, HasSubstr("http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/"
                              "items/{id}\""));
}

TEST_F(HttpServerTest, TraceIdComesFromHeadersOrIsGeneratedAndIsEchoed) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(ClientResponse r,
                       Fetch({.url = Url("/trace"), .headers = {{"X-Request-Id", "req-42.a_b"}}}));
  EXPECT_EQ(r.body, "req-42.a_b|req-42.a_b");
  EXPECT_EQ(r.headers.Get("x-request-id"), "req-42.a_b");
  std::string tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  ASSERT_OK_AND_ASSIGN(r, Fetch({.url = Url("/trace"), .headers = {{"traceparent", tp}}}));
  EXPECT_EQ(r.body, "4bf92f3577b34da6a3ce929d0e0e4736|4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_OK_AND_ASSIGN(
      r, Fetch({.url = Url("/trace"), .headers = {{"X-Request-Id", "bad id with spaces"}}}));
  std::string generated(r.headers.Get("x-request-id"));
  EXPECT_EQ(generated.size(), 16u);
  EXPECT_EQ(r.body, generated + "|" + generated);
}

TEST_F(HttpServerTest, HandlerExceptionBecomes500) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(ClientResponse r, HttpGet(Url("/throw")));
  EXPECT_EQ(r.status, 500);
}

TEST_F(HttpServerTest, HeadRequestGetsHeadersWithoutBody) {
  StartServer();
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send("HEAD /v1/items/7 HTTP/1.1\r\n\r\nGET /v1/items/8 HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(
      c.ReadUntil([](const std::string& b) { return b.find("item 8") != std::string::npos; }));
}

TEST_F(HttpServerTest, GracefulShutdownFinishesAnInFlightSlowRequest) {
  StartServer();
  RawClient idle(server_->port());
  ASSERT_TRUE(idle.Send("GET /v1/items/1 HTTP/1.1\r\n\r\n"));
  ASSERT_EQ(StatusOf(idle.ReadResponse()), 200);
  std::string slow_response;
  std::thread t([&] {
    RawClient c(server_->port());
    c.Send("GET /slow HTTP/1.1\r\n\r\n");
    slow_response = c.ReadResponse(absl::Seconds(10));
  });
  absl::SleepFor(absl::Milliseconds(200));  // the slow handler is running
  absl::Time start = absl::Now();
  server_->Shutdown(absl::Seconds(10));
  t.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(StatusOf(slow_response), 200);
  EXPECT_THAT(slow_response, HasSubstr("connection: close"));
  EXPECT_THAT(slow_response, HasSubstr("slow done"));
  EXPECT_TRUE(idle.WaitForClose(absl::Seconds(1)));  // idle keep-alive connection closed
  RawClient after(server_->port());
  EXPECT_FALSE(after.connected());
}

TEST_F(HttpServerTest, ShutdownDeadlineClosesConnectionsStuckMidRequest) {
  StartServer();
  RawClient stuck(server_->port());
  ASSERT_TRUE(stuck.Send("GET /v1/items/1 HTTP/1.1\r\nHost: partial"));
  absl::SleepFor(absl::Milliseconds(100));
  absl::Time start = absl::Now();
  server_->Shutdown(absl::Milliseconds(300));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_TRUE(stuck.WaitForClose(absl::Seconds(1)));
}

TEST_F(HttpServerTest, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  HttpServerOptions o;
  o.idle_timeout = absl::Milliseconds(300);
  StartServer(o);
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send("GET /v1/items/1 HTTP/1.1\r\n\r\n"));
  ASSERT_EQ(StatusOf(c.ReadResponse()), 200);
  EXPECT_TRUE(c.WaitForClose(absl::Seconds(3)));
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(HttpServerTest, SlowRequestGets408) {
  HttpServerOptions o;
  o.request_timeout = absl::Milliseconds(300);
  StartServer(o);
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send("GET /v1/items/1 HTTP/1.1\r\nX-A: 1\r\n"));
  EXPECT_EQ(StatusOf(c.ReadResponse(absl::Seconds(3))), 408);
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitGet503) {
  HttpServerOptions o;
  o.max_connections = 2;
  o.worker_threads = 1;
  StartServer(o);
  RawClient a(server_->port());
  RawClient b(server_->port());
  ASSERT_TRUE(a.Send("GET /v1/items/1 HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(b.Send("GET /v1/items/1 HTTP/1.1\r\n\r\n"));
  ASSERT_EQ(StatusOf(a.ReadResponse()), 200);
  ASSERT_EQ(StatusOf(b.ReadResponse()), 200);
  RawClient c(server_->port());
  EXPECT_EQ(StatusOf(c.ReadResponse()), 503);
}

TEST(HttpServer, BindingAPortInUseIsUnavailable) {
  HttpServer first(HttpServerOptions{});
  ASSERT_OK(first.Start());
  HttpServerOptions o;
  o.port = first.port();
  HttpServer second(o);
  EXPECT_THAT(second.Start(), testing::StatusIs(absl::StatusCode::kUnavailable));
  HttpServerOptions bad;
  bad.worker_threads = 0;
  EXPECT_THAT(HttpServer(bad).Start(), testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace shieldx::http
