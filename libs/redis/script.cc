#include "libs/redis/script.h"

#include <openssl/sha.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shieldx::redis {

RedisScript::RedisScript(std::string lua_source) : source_(std::move(lua_source)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest);
  sha1_ = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::vector<std::string> RedisScript::Argv(const char* verb, const std::string& script,
                                           const std::vector<std::string>& keys,
                                           const std::vector<std::string>& args) const {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back(verb);
  argv.push_back(script);
  argv.push_back(absl::StrCat(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

absl::StatusOr<RedisReply> RedisScript::Run(RedisPool& pool, const std::vector<std::string>& keys,
                                            const std::vector<std::string>& args) const {
  RedisPipeline evalsha;
  evalsha.AddArgv(Argv("EVALSHA", sha1_, keys, args));
  auto replies = pool.Exec(evalsha);
  if (!replies.ok()) return replies.status();
  RedisReply reply = std::move((*replies)[0]);
  if (reply.is_error() && absl::StartsWith(reply.str(), "NOSCRIPT")) {
    RedisPipeline eval;
    eval.AddArgv(Argv("EVAL", source_, keys, args));
    replies = pool.Exec(eval);
    if (!replies.ok()) return replies.status();
    reply = std::move((*replies)[0]);
  }
  if (reply.is_error()) {
    return RedisErrorToStatus(absl::StrCat("redis script ", sha1_.substr(0, 12)), reply.str());
  }
  return reply;
}

}  // namespace shieldx::redis
