#include "libs/redis/connection.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"

namespace shieldx::redis::internal {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

}  // namespace

std::string ServerName(const RedisOptions& options) {
  return absl::StrCat("redis ", options.host, ":", options.port);
}

RedisReply FromHiredis(const redisReply* r) {
  if (r == nullptr) return RedisReply::Nil();
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      return RedisReply::Integer(r->integer);
    case REDIS_REPLY_STRING:
      return RedisReply::String(std::string(r->str, r->len));
    case REDIS_REPLY_STATUS:
      return RedisReply::Status(std::string(r->str, r->len));
    case REDIS_REPLY_ERROR:
      return RedisReply::Error(std::string(r->str, r->len));
    case REDIS_REPLY_ARRAY: {
      std::vector<RedisReply> elements;
      elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) elements.push_back(FromHiredis(r->element[i]));
      return RedisReply::Array(std::move(elements));
    }
    default:
      return RedisReply::Nil();
  }
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const RedisOptions& options) {
  const std::string name = ServerName(options);
  redisContext* ctx = redisConnectWithTimeout(options.host.c_str(), options.port,
                                              absl::ToTimeval(options.connect_timeout));
  if (ctx == nullptr) return absl::ResourceExhaustedError(name + ": cannot allocate a context");
  if (ctx->err != 0) {
    absl::Status s = absl::UnavailableError(
        absl::StrCat(name, ": connect failed within ",
                     absl::FormatDuration(options.connect_timeout), ": ", ctx->errstr));
    redisFree(ctx);
    return s;
  }
  std::unique_ptr<Connection> conn(new Connection(ctx, name, options.command_timeout));
  // AUTH / SELECT are bounded by the connect timeout: they are part of connecting.
  if (redisSetTimeout(ctx, absl::ToTimeval(options.connect_timeout)) != REDIS_OK ||
      redisEnableKeepAlive(ctx) != REDIS_OK) {
    return conn->Failure("setting socket options");
  }
  if (!options.password.empty()) {
    auto r = conn->Round({{"AUTH", options.password}});
    if (!r.ok()) return r.status();
    if ((*r)[0].is_error()) {
      // The reply names no secret ("WRONGPASS invalid username-password pair").
      return absl::PermissionDeniedError(absl::StrCat(name, ": AUTH refused: ", (*r)[0].str()));
    }
  }
  if (options.db != 0) {
    auto r = conn->Round({{"SELECT", absl::StrCat(options.db)}});
    if (!r.ok()) return r.status();
    if ((*r)[0].is_error()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": SELECT ", options.db, " refused: ", (*r)[0].str()));
    }
  }
  if (redisSetTimeout(ctx, absl::ToTimeval(options.command_timeout)) != REDIS_OK) {
    return conn->Failure("setting the command timeout");
  }
  return conn;
}

Connection::~Connection() { redisFree(ctx_); }

int Connection::fd() const { return ctx_->fd; }

absl::Status Connection::Failure(std::string_view what) {
  broken_ = true;
  const int saved_errno = errno;
  const bool timed_out = ctx_->err == REDIS_ERR_IO &&
                         (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
                          absl::string_view(ctx_->errstr) == "Resource temporarily unavailable");
  std::string detail = ctx_->err != 0 ? std::string(ctx_->errstr) : "unknown error";
  if (timed_out) detail = absl::StrCat("timed out after ", absl::FormatDuration(command_timeout_));
  return absl::UnavailableError(
      absl::StrCat(name_, ": ", absl::string_view(what.data(), what.size()), ": ", detail));
}

absl::Status Connection::Append(const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data()) !=
      REDIS_OK) {
    return Failure("queueing " + argv[0]);
  }
  return absl::OkStatus();
}

absl::Status Connection::Flush() {
  int done = 0;
  while (!done) {
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) return Failure("write");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RedisReply>> Connection::Round(
    const std::vector<std::vector<std::string>>& cmds) {
  if (broken_) return absl::UnavailableError(name_ + ": connection already failed");
  for (const auto& argv : cmds) {
    absl::Status s = Append(argv);
    if (!s.ok()) return s;
  }
  std::vector<RedisReply> replies;
  replies.reserve(cmds.size());
  for (size_t i = 0; i < cmds.size(); ++i) {
    void* raw = nullptr;
    // The first call writes the whole output buffer, then every call reads until a full reply.
    if (redisGetReply(ctx_, &raw) != REDIS_OK) {
      return Failure(absl::StrCat(cmds[i][0], " (reply ", i + 1, " of ", cmds.size(), ")"));
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    replies.push_back(FromHiredis(reply.get()));
  }
  return replies;
}

bool Connection::LooksClosed() const {
  pollfd p{.fd = ctx_->fd, .events = POLLIN | POLLRDHUP, .revents = 0};
  const int n = poll(&p, 1, 0);
  if (n < 0) return true;
  return n > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace shieldx::redis::internal
