#include "libs/testing/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "libs/testing/status_matchers.h"

namespace shieldx::testing {
namespace {

// Sends an inline command and returns the first reply line ("" when nothing came back).
std::string Inline(int port, const std::string& command) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{.tv_sec = 1, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string line = command + "\r\n";
    if (write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
      char buf[256] = {};
      ssize_t n = read(fd, buf, sizeof(buf) - 1);
      if (n > 0) reply.assign(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return reply;
}

TEST(RedisServer, StartsOnLoopbackAndAnswersCommands) {
  ASSERT_OK_AND_ASSIGN(auto redis, RedisServer::Start());
  EXPECT_GT(redis->port(), 0);
  EXPECT_EQ(redis->address(), "127.0.0.1:" + std::to_string(redis->port()));
  EXPECT_EQ(Inline(redis->port(), "SET k v"), "+OK\r\n");
  EXPECT_EQ(Inline(redis->port(), "GET k"), "$1\r\nv\r\n");
  EXPECT_EQ(Inline(redis->port(), "CONFIG GET appendonly"),
            "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
}

TEST(RedisServer, StopRefusesConnectionsAndStartAgainKeepsThePortWithEmptyData) {
  ASSERT_OK_AND_ASSIGN(auto redis, RedisServer::Start());
  const int port = redis->port();
  ASSERT_EQ(Inline(port, "SET k v"), "+OK\r\n");
  redis->Stop();
  EXPECT_FALSE(redis->running());
  EXPECT_EQ(Inline(port, "PING"), "");
  EXPECT_THAT(WaitForTcpPort(port, absl::Milliseconds(100)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_OK(redis->StartAgain());
  EXPECT_EQ(redis->port(), port);
  EXPECT_EQ(Inline(port, "GET k"), "$-1\r\n");  // no persistence: the restart lost the key
  EXPECT_THAT(redis->StartAgain(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(redis->Restart());
  EXPECT_EQ(Inline(port, "PING"), "+PONG\r\n");
}

TEST(RedisServer, FrozenServerAcceptsButDoesNotAnswerUntilThawed) {
  ASSERT_OK_AND_ASSIGN(auto redis, RedisServer::Start());
  redis->Freeze();
  EXPECT_EQ(Inline(redis->port(), "PING"), "");
  redis->Thaw();
  EXPECT_EQ(Inline(redis->port(), "PING"), "+PONG\r\n");
}

}  // namespace
}  // namespace shieldx::testing
