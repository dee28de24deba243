// RedisScript: a Lua script run with EVALSHA, loaded transparently when Redis lacks it.
//
//   static const RedisScript kTake(R"lua(
//     local n = redis.call('DECRBY', KEYS[1], ARGV[1]) ... return n)lua");
//   ASSERT_OK_AND_ASSIGN(RedisReply r, kTake.Run(*pool, {"bucket:acme"}, {"1"}));
//
// Run sends EVALSHA <sha1>; on NOSCRIPT (first use, SCRIPT FLUSH, a restarted or failed-over
// Redis) it sends EVAL with the source, which also caches the script for the next EVALSHA.
// The two steps are not atomic together, but each script run is: a NOSCRIPT reply means the
// script did not run, so the EVAL fallback never runs it twice.
//
// Thread-safety: immutable after construction; Run is thread-safe.
#ifndef SHIELDX_LIBS_REDIS_SCRIPT_H_
#define SHIELDX_LIBS_REDIS_SCRIPT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/redis/redis_pool.h"
#include "libs/redis/reply.h"

namespace shieldx::redis {

class RedisScript {
 public:
  explicit RedisScript(std::string lua_source);

  const std::string& source() const { return source_; }
  // Lowercase hex SHA1 of the source, as Redis computes it.
  const std::string& sha1() const { return sha1_; }

  // Runs the script with KEYS = keys and ARGV = args. Error replies (a Lua error, a
  // redis.error_reply) become a status via RedisErrorToStatus; transport failures are
  // Unavailable as for RedisPool::Command.
  absl::StatusOr<RedisReply> Run(RedisPool& pool, const std::vector<std::string>& keys,
                                 const std::vector<std::string>& args) const;

 private:
  std::vector<std::string> Argv(const char* verb, const std::string& script,
                                const std::vector<std::string>& keys,
                                const std::vector<std::string>& args) const;
  std::string source_;
  std::string sha1_;
};

}  // namespace shieldx::redis

#endif  // SHIELDX_LIBS_REDIS_SCRIPT_H_
