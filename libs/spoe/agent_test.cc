#include "libs/spoe/agent.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/metrics/metrics.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::spoe {
namespace {

using ::shieldx::testing::IsOk;
using ::testing::HasSubstr;

// A blocking SPOP peer playing HAProxy's part.
class FakeHaproxy {
 public:
  explicit FakeHaproxy(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~FakeHaproxy() { close(fd_); }

  bool connected() const { return connected_; }

  void Send(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      ssize_t w = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (w <= 0) return;
      off += static_cast<std::size_t>(w);
    }
  }

  void Hello(uint32_t max_frame = 16380, bool healthcheck = false) {
    HaproxyHello h;
    h.supported_versions = {"2.0"};
    h.max_frame_size = max_frame;
    h.capabilities = {"pipelining", "async"};
    h.healthcheck = healthcheck;
    std::string wire;
    EncodeHaproxyHello(h, &wire);
    Send(wire);
  }

  // The next frame's bytes, or nullopt on EOF / timeout.
  std::optional<std::string> ReadFrame(int timeout_ms = 5000) {
    while (true) {
      std::size_t consumed = 0;
      auto next = NextFrame(buffer_, 1 << 20, &consumed);
      if (next.ok() && next->has_value()) {
        std::string frame(**next);
        buffer_.erase(0, consumed);
        return frame;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
      char buf[65536];
      ssize_t r = ::read(fd_, buf, sizeof(buf));
      if (r <= 0) return std::nullopt;
      buffer_.append(buf, static_cast<std::size_t>(r));
    }
  }

  // True when the agent closed the connection (EOF within the timeout).
  bool Closed(int timeout_ms = 3000) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char c;
    return ::read(fd_, &c, 1) == 0;
  }

  Frame Decode(const std::string& bytes) {
    auto f = DecodeFrame(bytes);
    EXPECT_THAT(f, IsOk());
    return f.ok() ? *f : Frame{};
  }

  // Expects an AGENT-DISCONNECT and returns its status code.
  uint32_t ExpectDisconnect(std::string* message = nullptr) {
    std::optional<std::string> bytes = ReadFrame();
    if (!bytes) {
      ADD_FAILURE() << "no frame";
      return 9999;
    }
    Frame f = Decode(*bytes);
    EXPECT_EQ(f.type, static_cast<uint8_t>(FrameType::kAgentDisconnect));
    auto items = DecodeKvList(f.payload, {});
    if (!items.ok() || items->size() != 2) return 9999;
    if (message != nullptr) *message = std::string(*(*items)[1].value.AsBytes());
    return static_cast<uint32_t>((*items)[0].value.uint_value);
  }

  // Completes the handshake; returns the agent's max-frame-size.
  uint32_t Handshake(uint32_t max_frame = 16380) {
    Hello(max_frame);
    std::optional<std::string> bytes = ReadFrame();
    if (!bytes) return 0;
    Frame f = Decode(*bytes);
    EXPECT_EQ(f.type, static_cast<uint8_t>(FrameType::kAgentHello));
    auto items = DecodeKvList(f.payload, {});
    uint32_t size = 0;
    for (const KvItem& item : *items) {
      if (item.name == "version") {
        EXPECT_EQ(*item.value.AsBytes(), "2.0");
      }
      if (item.name == "max-frame-size") size = static_cast<uint32_t>(item.value.uint_value);
      if (item.name == "capabilities") {
        EXPECT_EQ(*item.value.AsBytes(), "pipelining");
      }
    }
    return size;
  }

  std::string NotifyWire(uint64_t stream, uint64_t frame, std::string_view path) {
    std::string wire;
    EncodeNotify(stream, frame, {{"req", {{"path", TypedData::String(path)}}}}, &wire);
    return wire;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// Echoes the path argument back as txn.echo; "/slow" is held for 300 ms.
void EchoHandler(const NotifyRequest& request, NotifyReply* reply) {
  for (const Message& m : request.messages) {
    if (const TypedData* path = m.Arg("path"); path != nullptr && path->AsBytes()) {
      reply->actions.push_back(
          Action::SetString(VarScope::kTransaction, "echo", std::string(*path->AsBytes())));
      if (*path->AsBytes() == "/slow") reply->delay = absl::Milliseconds(300);
    }
  }
  reply->actions.push_back(
      Action::SetInt64(VarScope::kTransaction, "frame", static_cast<int64_t>(request.frame_id)));
}

class AgentTest : public ::testing::Test {
 protected:
  void StartAgent(AgentOptions options = {}) {
    agent_ = std::make_unique<Agent>(std::move(options), EchoHandler, &metrics_);
    ASSERT_THAT(agent_->Start(), IsOk());
  }

  std::vector<Action> ExpectAck(FakeHaproxy& h, uint64_t* frame_id = nullptr) {
    std::optional<std::string> bytes = h.ReadFrame();
    if (!bytes) {
      ADD_FAILURE() << "no ACK";
      return {};
    }
    Frame f = h.Decode(*bytes);
    EXPECT_EQ(f.type, static_cast<uint8_t>(FrameType::kAck));
    if (frame_id != nullptr) *frame_id = f.frame_id;
    auto actions = DecodeActions(f.payload, {});
    EXPECT_THAT(actions, IsOk());
    return actions.ok() ? *actions : std::vector<Action>{};
  }

  metrics::MetricsRegistry metrics_{"spoe_test"};
  std::unique_ptr<Agent> agent_;
};

TEST_F(AgentTest, HandshakesAndAnswersNotifyWithTheHandlersActions) {
  StartAgent();
  FakeHaproxy h(agent_->port());
  ASSERT_TRUE(h.connected());
  EXPECT_EQ(h.Handshake(16380), 16380u);
  h.Send(h.NotifyWire(3, 4, "/hello"));
  uint64_t frame_id = 0;
  std::vector<Action> actions = ExpectAck(h, &frame_id);
  EXPECT_EQ(frame_id, 4u);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].name, "echo");
  EXPECT_EQ(actions[0].bytes, "/hello");
  EXPECT_THAT(metrics_.Serialize(),
              HasSubstr("shieldx_spoe_frames_total{agent=\"spoe\",type=\"notify\"} 1"));
}

TEST_F(AgentTest, NegotiatesTheSmallerFrameSize) {
  AgentOptions options;
  options.max_frame_size = 4096;
  StartAgent(options);
  FakeHaproxy h(agent_->port());
  EXPECT_EQ(h.Handshake(16380), 4096u);
}

TEST_F(AgentTest, AnswersPipelinedFramesInOneWrite) {
  StartAgent();
  FakeHaproxy h(agent_->port());
  h.Handshake();
  std::string burst;
  constexpr int kFrames = 200;
  for (int i = 1; i <= kFrames; ++i) burst += h.NotifyWire(i, i, absl::StrCat("/p", i));
  h.Send(burst);
  for (int i = 1; i <= kFrames; ++i) {
    uint64_t frame_id = 0;
    std::vector<Action> actions = ExpectAck(h, &frame_id);
    ASSERT_EQ(frame_id, static_cast<uint64_t>(i));
    ASSERT_EQ(actions[0].bytes, absl::StrCat("/p", i));
  }
}

TEST_F(AgentTest, HeldAckLetsLaterFramesOvertakeIt) {
  StartAgent();
  FakeHaproxy h(agent_->port());
  h.Handshake();
  const auto start = std::chrono::steady_clock::now();
  h.Send(h.NotifyWire(1, 1, "/slow") + h.NotifyWire(2, 2, "/fast"));
  uint64_t first = 0, second = 0;
  ExpectAck(h, &first);
  const auto first_at = std::chrono::steady_clock::now() - start;
  ExpectAck(h, &second);
  const auto second_at = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(first, 2u);
  EXPECT_EQ(second, 1u);
  EXPECT_LT(first_at, std::chrono::milliseconds(200));
  EXPECT_GE(second_at, std::chrono::milliseconds(290));
}

TEST_F(AgentTest, HealthCheckHelloIsAnsweredThenClosed) {
  StartAgent();
  FakeHaproxy h(agent_->port());
  h.Hello(16380, /*healthcheck=*/true);
  std::optional<std::string> bytes = h.ReadFrame();
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(h.Decode(*bytes).type, static_cast<uint8_t>(FrameType::kAgentHello));
  EXPECT_TRUE(h.Closed());
}

TEST_F(AgentTest, NotifyBeforeHelloIsAnInvalidFrame) {
  StartAgent();
  FakeHaproxy h(agent_->port());
  h.Send(h.NotifyWire(1, 1, "/x"));
  std::string message;
  EXPECT_EQ(h.ExpectDisconnect(&message), 4u);
  EXPECT_THAT(message, HasSubstr("expected HAPROXY-HELLO"));
  EXPECT_TRUE(h.Closed());
  EXPECT_THAT(metrics_.Serialize(),
              HasSubstr("shieldx_spoe_disconnects_total{agent=\"spoe\",status=\"4\"} 1"));
}

TEST_F(AgentTest, UnsupportedVersionIsRejectedWithStatus8) {
  StartAgent();
  FakeHaproxy h(agent_->port());
  HaproxyHello hello;
  hello.supported_versions = {"1.0"};
  hello.max_frame_size = 16380;
  std::string wire;
  EncodeHaproxyHello(hello, &wire);
  h.Send(wire);
  EXPECT_EQ(h.ExpectDisconnect(), 8u);
}

TEST_F(AgentTest, FragmentedNotifyIsRejectedWithStatus10) {
  StartAgent();
  FakeHaproxy h(agent_->port());
  h.Handshake();
  std::string wire;
  EncodeNotify(1, 1, {{"req", {}}}, &wire, /*flags=*/0);
  h.Send(wire);
  EXPECT_EQ(h.ExpectDisconnect(), 10u);
  EXPECT_TRUE(h.Closed());
}

TEST_F(AgentTest, FrameAboveTheNegotiatedSizeIsRejectedWithStatus3) {
  StartAgent();
  FakeHaproxy h(agent_->port());
  h.Handshake(1024);
  h.Send(h.NotifyWire(1, 1, std::string(2000, 'a')));
  std::string message;
  EXPECT_EQ(h.ExpectDisconnect(&message), 3u);
  EXPECT_THAT(message, HasSubstr("max-frame-size 1024"));
}

TEST_F(AgentTest, MalformedNotifyPayloadIsRejectedWithStatus4) {
  StartAgent();
  FakeHaproxy h(agent_->port());
  h.Handshake();
  std::string wire;
  // A message whose name claims 50 bytes but the frame holds 3.
  EncodeFrame(static_cast<uint8_t>(FrameType::kNotify), kFlagFin, 1, 1,
              "\x32"
              "abc",
              &wire);
  h.Send(wire);
  EXPECT_EQ(h.ExpectDisconnect(), 4u);
}

TEST_F(AgentTest, HaproxyDisconnectIsAnsweredWithNormalStatusAndClosed) {
  StartAgent();
  FakeHaproxy h(agent_->port());
  h.Handshake();
  std::string wire;
  EncodeHaproxyDisconnect(SpopStatus::kNormal, "stopping", &wire);
  h.Send(wire);
  EXPECT_EQ(h.ExpectDisconnect(), 0u);
  EXPECT_TRUE(h.Closed());
}

TEST_F(AgentTest, UnknownFrameTypesAreSkipped) {
  StartAgent();
  FakeHaproxy h(agent_->port());
  h.Handshake();
  std::string wire;
  EncodeFrame(42, kFlagFin, 0, 0, "whatever", &wire);
  h.Send(wire + h.NotifyWire(1, 7, "/after"));
  uint64_t frame_id = 0;
  ExpectAck(h, &frame_id);
  EXPECT_EQ(frame_id, 7u);
}

TEST_F(AgentTest, SilentConnectionIsDroppedAfterTheHelloTimeout) {
  AgentOptions options;
  options.hello_timeout = absl::Milliseconds(300);
  StartAgent(options);
  FakeHaproxy h(agent_->port());
  EXPECT_EQ(h.ExpectDisconnect(), 2u);
  EXPECT_TRUE(h.Closed());
}

TEST_F(AgentTest, ServesManyConnectionsConcurrently) {
  AgentOptions options;
  options.worker_threads = 3;
  StartAgent(options);
  constexpr int kClients = 16;
  constexpr int kFramesEach = 100;
  std::atomic<int> acked{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      FakeHaproxy h(agent_->port());
      if (h.Handshake() == 0) return;
      for (int i = 1; i <= kFramesEach; ++i) {
        h.Send(h.NotifyWire(c, i, absl::StrCat("/c", c, "/", i)));
        std::optional<std::string> bytes = h.ReadFrame();
        if (!bytes) return;
        auto f = DecodeFrame(*bytes);
        auto actions = DecodeActions(f->payload, {});
        if (actions.ok() && (*actions)[0].bytes == absl::StrCat("/c", c, "/", i)) ++acked;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(acked.load(), kClients * kFramesEach);
  // The agent sees each client's close on its own worker; on a loaded machine the last one
  // may still be in flight when the clients' threads have joined.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (agent_->open_connections() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(agent_->open_connections(), 0u);
}

TEST_F(AgentTest, ShutdownSendsHeldAcksThenDisconnects) {
  StartAgent();
  FakeHaproxy h(agent_->port());
  h.Handshake();
  h.Send(h.NotifyWire(1, 1, "/slow"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::thread stopper([&] { agent_->Shutdown(absl::Seconds(2)); });
  uint64_t frame_id = 0;
  ExpectAck(h, &frame_id);
  EXPECT_EQ(frame_id, 1u);
  std::string message;
  EXPECT_EQ(h.ExpectDisconnect(&message), 0u);
  EXPECT_EQ(message, "agent shutting down");
  stopper.join();
  FakeHaproxy late(agent_->port());
  EXPECT_FALSE(late.connected());
}

TEST(Agent, RefusesBadOptionsAndABusyPort) {
  AgentOptions bad;
  bad.max_frame_size = 100;
  Agent a(bad, EchoHandler);
  EXPECT_THAT(a.Start(), shieldx::testing::StatusIs(absl::StatusCode::kInvalidArgument));

  Agent first(AgentOptions{}, EchoHandler);
  ASSERT_THAT(first.Start(), IsOk());
  AgentOptions same;
  same.port = first.port();
  Agent second(same, EchoHandler);
  EXPECT_THAT(second.Start(), shieldx::testing::StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(first.Start(), shieldx::testing::StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace shieldx::spoe
