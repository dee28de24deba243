#include "services/orchestrator/decision_log.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "libs/base/status_macros.h"
#include "libs/log/log.h"
#include "libs/objstore/s3_client.h"
#include "libs/pg/pg_status.h"
#include "libs/pg/pool.h"
#include "libs/pg/transaction.h"
#include "libs/policy/ip.h"
#include "libs/redis/redis_pool.h"
#include "nlohmann/json.hpp"
#include "pqxx/pqxx"
#include "services/orchestrator/codec.h"

namespace shieldx::orchestrator {

namespace {

using Json = nlohmann::json;
constexpr int64_t kMicrosPerDay = int64_t{86400} * 1'000'000;

std::string DayName(int64_t day) {
  const absl::CivilDay d =
      absl::ToCivilDay(absl::FromUnixSeconds(day * 86400), absl::UTCTimeZone());
  return absl::StrFormat("%04d%02d%02d", d.year(), d.month(), d.day());
}

std::string DayDate(int64_t day) {
  const absl::CivilDay d =
      absl::ToCivilDay(absl::FromUnixSeconds(day * 86400), absl::UTCTimeZone());
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

std::string ActionName(common::v1::Action a) {
  switch (a) {
    case common::v1::ACTION_ALLOW:
      return "allow";
    case common::v1::ACTION_BLOCK:
      return "block";
    case common::v1::ACTION_CHALLENGE:
      return "challenge";
    case common::v1::ACTION_TARPIT:
      return "tarpit";
    case common::v1::ACTION_DIVERT:
      return "divert";
    case common::v1::ACTION_RATE_LIMIT:
      return "rate_limit";
    case common::v1::ACTION_LOG:
      return "log";
    default:
      return "";
  }
}

int64_t Micros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1'000'000 + t.nanos() / 1000;
}

}  // namespace

bool MatchesFilter(const pipeline::DecisionEvent& e, const v1::DecisionFilter& f) {
  auto in = [](const auto& list, const std::string& v) {
    if (list.empty()) return true;
    for (const auto& x : list) {
      if (x == v) return true;
    }
    return false;
  };
  if (f.actions_size() > 0) {
    bool any = false;
    for (int a : f.actions()) {
      const std::string name = ActionName(static_cast<common::v1::Action>(a));
      any = any || name == e.action || (name == "log" && !e.monitored_action.empty());
    }
    if (!any) return false;
  }
  if (!in(f.site_ids(), e.site_id) || !in(f.route_ids(), e.route_id)) return false;
  if (f.categories_size() > 0) {
    bool any = false;
    for (int c : f.categories()) {
      const std::string name = CategoryFromProto(static_cast<common::v1::FindingCategory>(c));
      any = any || std::find(e.categories.begin(), e.categories.end(), name) != e.categories.end();
    }
    if (!any) return false;
  }
  if (!f.rule_id().empty() && f.rule_id() != e.rule_id) return false;
  if (f.min_score() > 0 && e.score < f.min_score()) return false;
  if (!f.request_id().empty() && f.request_id() != e.request_id) return false;
  for (const std::string& tag : f.tags()) {
    if (std::find(e.tags.begin(), e.tags.end(), tag) == e.tags.end()) return false;
  }
  if (!f.client_cidr().empty()) {
    std::string error;
    auto cidr = policy::Cidr::Parse(f.client_cidr(), &error);
    auto ip = policy::IpAddress::Parse(e.client_ip);
    if (!cidr || !ip || !cidr->Contains(*ip)) return false;
  }
  return true;
}

DecisionLog::DecisionLog(pipeline::EventQueue* queue, redis::RedisPool* redis, pg::PgPool* pg,
                         objstore::S3Client* s3, pipeline::PipelineMetrics* metrics,
                         DecisionLogOptions options)
    : queue_(queue),
      redis_(redis),
      pg_(pg),
      s3_(s3),
      metrics_(metrics),
      options_(std::move(options)) {}

DecisionLog::~DecisionLog() { Stop(); }

void DecisionLog::Start() {
  if (publisher_.joinable()) return;
  publisher_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(options_.publish_interval)) {
      for (;;) {
        absl::StatusOr<std::size_t> n = PublishOnce();
        if (!n.ok() || *n < options_.batch_size) break;
      }
    }
  });
  if (pg_ != nullptr) {
    writer_ = std::thread([this] {
      while (!stop_.WaitForNotificationWithTimeout(absl::Milliseconds(250))) {
        for (;;) {
          absl::StatusOr<std::size_t> n = WriteOnce();
          if (!n.ok() || *n == 0) break;
        }
      }
    });
  }
}

void DecisionLog::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (publisher_.joinable()) publisher_.join();
  if (writer_.joinable()) writer_.join();
  (void)PublishOnce();  // what was queued before the drain
}

absl::StatusOr<std::size_t> DecisionLog::PublishOnce() {
  std::vector<std::unique_ptr<pipeline::DecisionEvent>> batch;
  queue_->Drain(&batch, options_.batch_size);
  const int64_t queue_drops = queue_->dropped();
  static thread_local int64_t reported_queue_drops = 0;
  if (metrics_ != nullptr && queue_drops > reported_queue_drops) {
    metrics_->events_dropped().Increment(static_cast<double>(queue_drops - reported_queue_drops));
    reported_queue_drops = queue_drops;
  }
  if (batch.empty()) return 0;
  redis::RedisPipeline p;
  for (auto& e : batch) {
    if (e->evidence && s3_ != nullptr && !options_.evidence_bucket.empty()) {
      const absl::CivilDay d =
          absl::ToCivilDay(absl::FromUnixMicros(e->decided_at_us), absl::UTCTimeZone());
      const std::string key =
          absl::StrFormat("evidence/%s/%04d/%02d/%02d/%s.json", e->tenant_id, d.year(), d.month(),
                          d.day(), absl::WebSafeBase64Escape(e->request_id));
      absl::Status s = s3_->Put(options_.evidence_bucket, key, EvidenceJson(*e),
                                {.content_type = "application/json"});
      if (s.ok()) {
        e->evidence_object_key = key;
      } else {
        log::Warn("evidence not stored",
                  {{"tenant_id", e->tenant_id}, {"error", std::string(s.message())}});
      }
    }
    p.Add("XADD", options_.stream, "MAXLEN", "~", options_.stream_max_len, "*", "e",
          EventToJson(*e));
  }
  absl::StatusOr<std::vector<redis::RedisReply>> r = redis_->Exec(p);
  if (!r.ok()) {
    dropped_.fetch_add(static_cast<int64_t>(batch.size()));
    if (metrics_ != nullptr)
      metrics_->events_dropped().Increment(static_cast<double>(batch.size()));
    return r.status();
  }
  return batch.size();
}

absl::Status DecisionLog::EnsureGroup() {
  if (group_ready_) return absl::OkStatus();
  absl::StatusOr<redis::RedisReply> r =
      redis_->Command("XGROUP", "CREATE", options_.stream, options_.group, "0", "MKSTREAM");
  if (!r.ok() && r.status().message().find("BUSYGROUP") == std::string_view::npos)
    return r.status();
  group_ready_ = true;
  return absl::OkStatus();
}

absl::Status DecisionLog::EnsurePartitions(const std::set<int64_t>& days) {
  for (int64_t day : days) {
    if (partitions_.count(day)) continue;
    absl::Status s = pg::RunInTransaction(
        *pg_,
        [&](pqxx::work& tx) -> absl::Status {
          tx.exec(absl::StrCat("CREATE TABLE IF NOT EXISTS decisions_p", DayName(day),
                               " PARTITION OF decisions FOR VALUES FROM ('", DayDate(day),
                               " 00:00:00+00') TO ('", DayDate(day + 1), " 00:00:00+00')"));
          return absl::OkStatus();
        },
        {.name = "create decisions partition"});
    if (!s.ok() && s.code() != absl::StatusCode::kAlreadyExists) return s;
    partitions_.insert(day);
  }
  return absl::OkStatus();
}

void DecisionLog::Maintain() {
  const absl::Time now = absl::Now();
  if (now < next_maintenance_) return;
  next_maintenance_ = now + absl::Hours(1);
  const int64_t today = absl::ToUnixMicros(now) / kMicrosPerDay;
  try {
    auto conn = pg_->Acquire();
    if (!conn.ok()) return;
    pqxx::nontransaction tx(**conn);
    // Drop partitions past the longest retention.
    for (const auto& row :
         tx.exec("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                 "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'decisions'")) {
      const std::string name = row[0].as<std::string>();
      int64_t ymd = 0;
      if (name.size() != 19 || !absl::SimpleAtoi(name.substr(11), &ymd)) continue;
      const absl::CivilDay d(ymd / 10000, (ymd / 100) % 100, ymd % 100);
      const int64_t day = absl::ToUnixSeconds(absl::FromCivil(d, absl::UTCTimeZone())) / 86400;
      if (day < today - kMaxRetentionDays) {
        tx.exec(absl::StrCat("DROP TABLE IF EXISTS ", tx.quote_name(name)));
        partitions_.erase(day);
      }
    }
    if (options_.retention) {
      for (const auto& [tenant, days] : options_.retention()) {
        if (days <= 0 || days >= kMaxRetentionDays) continue;
        tx.exec_params(
            "DELETE FROM decisions WHERE tenant_id = $1 AND decided_at < now() - "
            "make_interval(days => $2)",
            tenant, days);
      }
    }
  } catch (const std::exception& e) {
    log::Warn("decision log maintenance failed",
              {{"error", std::string(pg::StatusFromPqxx(e).message())}});
  }
}

absl::StatusOr<std::size_t> DecisionLog::WriteOnce() {
  if (pg_ == nullptr) return 0;
  SHIELDX_RETURN_IF_ERROR(EnsureGroup());
  const absl::Time now = absl::Now();
  std::vector<std::pair<std::string, std::string>> entries;  // stream id, json
  auto collect = [&](const redis::RedisReply& list) {
    if (!list.is_array()) return;
    for (const redis::RedisReply& entry : list.elements()) {
      if (!entry.is_array() || entry.elements().size() != 2 || !entry.elements()[0].is_string())
        continue;
      const redis::RedisReply& fields = entry.elements()[1];
      if (!fields.is_array() || fields.elements().size() < 2 || !fields.elements()[1].is_string()) {
        entries.emplace_back(entry.elements()[0].str(), "");  // malformed: ack and skip
        continue;
      }
      entries.emplace_back(entry.elements()[0].str(), fields.elements()[1].str());
    }
  };
  if (now >= next_claim_) {
    next_claim_ = now + options_.claim_idle / 2;
    absl::StatusOr<redis::RedisReply> claimed = redis_->Command(
        "XAUTOCLAIM", options_.stream, options_.group, options_.consumer,
        absl::ToInt64Milliseconds(options_.claim_idle), "0-0", "COUNT", options_.batch_size);
    if (claimed.ok() && claimed->is_array() && claimed->elements().size() >= 2) {
      collect(claimed->elements()[1]);
    }
  }
  if (entries.empty()) {
    SHIELDX_ASSIGN_OR_RETURN(
        redis::RedisReply r,
        redis_->Command("XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT",
                        options_.batch_size, "STREAMS", options_.stream, ">"));
    if (r.is_array()) {
      for (const redis::RedisReply& stream : r.elements()) {
        if (stream.is_array() && stream.elements().size() == 2) collect(stream.elements()[1]);
      }
    }
  }
  if (entries.empty()) {
    Maintain();
    return 0;
  }
  Json rows = Json::array();
  std::set<int64_t> days;
  for (const auto& [id, json] : entries) {
    if (json.empty()) continue;
    absl::StatusOr<pipeline::DecisionEvent> e = EventFromJson(json);
    if (!e.ok() || e->tenant_id.empty()) continue;
    days.insert(e->decided_at_us / kMicrosPerDay);
    Json findings = Json::array();
    for (const pipeline::EventFinding& f : e->findings) {
      findings.push_back({{"category", f.category},
                          {"rule", f.rule},
                          {"location", f.location},
                          {"excerpt", f.excerpt},
                          {"confidence", f.confidence}});
    }
    rows.push_back({{"t", e->decided_at_us},
                    {"event_id", id},
                    {"tenant_id", e->tenant_id},
                    {"request_id", e->request_id},
                    {"site_id", e->site_id},
                    {"route_id", e->route_id},
                    {"action", e->action},
                    {"monitored_action", e->monitored_action},
                    {"status", e->status},
                    {"score", e->score},
                    {"rule_id", e->rule_id},
                    {"rule_set_id", e->rule_set_id},
                    {"rule_set_version", e->rule_set_version},
                    {"config_version", e->config_version},
                    {"categories", e->categories},
                    {"tags", e->tags},
                    {"method", e->method},
                    {"host", e->host},
                    {"path", e->path},
                    {"client_ip", policy::IpAddress::Parse(e->client_ip) ? e->client_ip : ""},
                    {"user_agent", e->user_agent},
                    {"upstream", e->upstream},
                    {"pool_id", e->pool},
                    {"front_end", e->front_end},
                    {"latency_us", e->latency_us},
                    {"auth_risk", e->auth_risk},
                    {"explanation", e->explanation},
                    {"findings", findings},
                    {"evidence_object_key", e->evidence_object_key}});
  }
  SHIELDX_RETURN_IF_ERROR(EnsurePartitions(days));
  const std::string payload = rows.dump(-1, ' ', false, Json::error_handler_t::replace);
  SHIELDX_RETURN_IF_ERROR(pg::RunInTransaction(
      *pg_,
      [&](pqxx::work& tx) -> absl::Status {
        tx.exec_params(
            "INSERT INTO decisions (decided_at, event_id, tenant_id, request_id, site_id, "
            "route_id, action, monitored_action, status, score, rule_id, rule_set_id, "
            "rule_set_version, config_version, categories, tags, method, host, path, client_ip, "
            "user_agent, upstream, pool_id, front_end, latency_us, auth_risk, explanation, "
            "findings, evidence_object_key) "
            "SELECT 'epoch'::timestamptz + x.t * interval '1 microsecond', x.event_id, "
            "x.tenant_id, x.request_id, x.site_id, x.route_id, x.action, x.monitored_action, "
            "x.status, x.score, x.rule_id, x.rule_set_id, x.rule_set_version, x.config_version, "
            "ARRAY(SELECT jsonb_array_elements_text(x.categories)), "
            "ARRAY(SELECT jsonb_array_elements_text(x.tags)), x.method, x.host, x.path, "
            "NULLIF(x.client_ip, '')::inet, x.user_agent, x.upstream, x.pool_id, x.front_end, "
            "x.latency_us, x.auth_risk, x.explanation, x.findings, x.evidence_object_key "
            "FROM jsonb_to_recordset($1::jsonb) AS x(t bigint, event_id text, tenant_id text, "
            "request_id text, site_id text, route_id text, action text, monitored_action text, "
            "status int, score int, rule_id text, rule_set_id text, rule_set_version bigint, "
            "config_version bigint, categories jsonb, tags jsonb, method text, host text, "
            "path text, client_ip text, user_agent text, upstream text, pool_id text, "
            "front_end text, latency_us bigint, auth_risk double precision, explanation text, "
            "findings jsonb, evidence_object_key text) "
            "ON CONFLICT DO NOTHING",
            payload);
        return absl::OkStatus();
      },
      {.name = "insert decisions"}));
  redis::RedisPipeline ack;
  std::vector<std::string> argv = {"XACK", options_.stream, options_.group};
  for (const auto& [id, json] : entries) argv.push_back(id);
  ack.AddArgv(std::move(argv));
  SHIELDX_RETURN_IF_ERROR(redis_->Exec(ack).status());
  Maintain();
  return entries.size();
}

absl::StatusOr<DecisionPage> DecisionLog::Query(const std::string& tenant_id,
                                                const v1::DecisionFilter& f, uint32_t page_size,
                                                const std::string& page_token) {
  if (pg_ == nullptr) return absl::UnavailableError("decision log: no PostgreSQL configured");
  if (page_size > kMaxQueryPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page.page_size: ", page_size, " is above the limit of ", kMaxQueryPageSize));
  }
  const uint32_t size = page_size == 0 ? 50 : page_size;
  Json p = Json::object();
  if (f.has_start_time()) p["start"] = Micros(f.start_time());
  if (f.has_end_time()) p["end"] = Micros(f.end_time());
  if (f.actions_size() > 0) {
    Json a = Json::array();
    for (int x : f.actions()) a.push_back(ActionName(static_cast<common::v1::Action>(x)));
    p["actions"] = a;
  }
  if (f.site_ids_size() > 0)
    p["sites"] = std::vector<std::string>(f.site_ids().begin(), f.site_ids().end());
  if (f.route_ids_size() > 0)
    p["routes"] = std::vector<std::string>(f.route_ids().begin(), f.route_ids().end());
  if (f.categories_size() > 0) {
    Json c = Json::array();
    for (int x : f.categories())
      c.push_back(CategoryFromProto(static_cast<common::v1::FindingCategory>(x)));
    p["categories"] = c;
  }
  if (!f.rule_id().empty()) p["rule_id"] = f.rule_id();
  if (!f.client_cidr().empty()) {
    std::string error;
    if (!policy::Cidr::Parse(f.client_cidr(), &error)) {
      return absl::InvalidArgumentError(absl::StrCat("filter.client_cidr: ", error));
    }
    p["cidr"] = f.client_cidr();
  }
  if (f.min_score() > 0) p["min_score"] = f.min_score();
  if (!f.request_id().empty()) p["request_id"] = f.request_id();
  if (f.tags_size() > 0) p["tags"] = std::vector<std::string>(f.tags().begin(), f.tags().end());
  if (!page_token.empty()) {
    const std::string raw = absl::HexStringToBytes(page_token);
    std::vector<std::string> parts = absl::StrSplit(raw, absl::MaxSplits(':', 1));
    int64_t t = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &t)) {
      return absl::InvalidArgumentError("page.page_token: not a token this RPC issued");
    }
    p["cursor_t"] = t;
    p["cursor_id"] = parts[1];
  }
  const std::string params = p.dump();
  DecisionPage page;
  absl::Status s = pg::RunInTransaction(
      *pg_,
      [&](pqxx::work& tx) -> absl::Status {
        page.records.clear();
        pqxx::result r = tx.exec_params(
            "WITH p AS (SELECT $2::jsonb AS j) "
            "SELECT event_id, (extract(epoch FROM decided_at) * 1000000)::bigint, tenant_id, "
            "request_id, site_id, route_id, action, monitored_action, status, score, rule_id, "
            "rule_set_id, rule_set_version, config_version, array_to_json(categories)::text, "
            "array_to_json(tags)::text, method, host, path, coalesce(host(client_ip), ''), "
            "user_agent, upstream, pool_id, front_end, latency_us, auth_risk, explanation, "
            "findings::text, evidence_object_key "
            "FROM decisions, p WHERE tenant_id = $1 "
            "AND (p.j->'start' IS NULL OR decided_at >= 'epoch'::timestamptz + "
            "(p.j->>'start')::bigint * interval '1 microsecond') "
            "AND (p.j->'end' IS NULL OR decided_at < 'epoch'::timestamptz + (p.j->>'end')::bigint "
            "* interval '1 microsecond') "
            "AND (p.j->'actions' IS NULL OR action = ANY(ARRAY(SELECT "
            "jsonb_array_elements_text(p.j->'actions'))) "
            "     OR ('log' = ANY(ARRAY(SELECT jsonb_array_elements_text(p.j->'actions'))) AND "
            "monitored_action <> '')) "
            "AND (p.j->'sites' IS NULL OR site_id = ANY(ARRAY(SELECT "
            "jsonb_array_elements_text(p.j->'sites')))) "
            "AND (p.j->'routes' IS NULL OR route_id = ANY(ARRAY(SELECT "
            "jsonb_array_elements_text(p.j->'routes')))) "
            "AND (p.j->'categories' IS NULL OR categories && ARRAY(SELECT "
            "jsonb_array_elements_text(p.j->'categories'))) "
            "AND (p.j->'rule_id' IS NULL OR rule_id = p.j->>'rule_id') "
            "AND (p.j->'cidr' IS NULL OR client_ip <<= (p.j->>'cidr')::inet) "
            "AND (p.j->'min_score' IS NULL OR score >= (p.j->>'min_score')::int) "
            "AND (p.j->'request_id' IS NULL OR request_id = p.j->>'request_id') "
            "AND (p.j->'tags' IS NULL OR tags @> ARRAY(SELECT "
            "jsonb_array_elements_text(p.j->'tags'))) "
            "AND (p.j->'cursor_t' IS NULL OR (decided_at, event_id) < ('epoch'::timestamptz + "
            "(p.j->>'cursor_t')::bigint * interval '1 microsecond', p.j->>'cursor_id')) "
            "ORDER BY decided_at DESC, event_id DESC LIMIT $3",
            tenant_id, params, static_cast<int>(size) + 1);
        for (const auto& row : r) {
          if (page.records.size() == size) break;  // the extra row: there is a next page
          pipeline::DecisionEvent e;
          e.decided_at_us = row[1].as<int64_t>();
          e.tenant_id = row[2].as<std::string>();
          e.request_id = row[3].as<std::string>();
          e.site_id = row[4].as<std::string>();
          e.route_id = row[5].as<std::string>();
          e.action = row[6].as<std::string>();
          e.monitored_action = row[7].as<std::string>();
          e.status = row[8].as<int>();
          e.score = row[9].as<int>();
          e.rule_id = row[10].as<std::string>();
          e.rule_set_id = row[11].as<std::string>();
          e.rule_set_version = row[12].as<int64_t>();
          e.config_version = row[13].as<int64_t>();
          Json cats = Json::parse(row[14].as<std::string>(), nullptr, false);
          if (cats.is_array())
            for (const Json& c : cats)
              if (c.is_string()) e.categories.push_back(c.get<std::string>());
          Json tags = Json::parse(row[15].as<std::string>(), nullptr, false);
          if (tags.is_array())
            for (const Json& t : tags)
              if (t.is_string()) e.tags.push_back(t.get<std::string>());
          e.method = row[16].as<std::string>();
          e.host = row[17].as<std::string>();
          e.path = row[18].as<std::string>();
          e.client_ip = row[19].as<std::string>();
          e.user_agent = row[20].as<std::string>();
          e.upstream = row[21].as<std::string>();
          e.pool = row[22].as<std::string>();
          e.front_end = row[23].as<std::string>();
          e.latency_us = row[24].as<int64_t>();
          e.auth_risk = row[25].as<double>();
          e.explanation = row[26].as<std::string>();
          Json findings = Json::parse(row[27].as<std::string>(), nullptr, false);
          if (findings.is_array()) {
            for (const Json& x : findings) {
              if (!x.is_object()) continue;
              e.findings.push_back({x.value("category", ""), x.value("rule", ""),
                                    x.value("location", ""), x.value("excerpt", ""),
                                    x.value("confidence", 0.0)});
            }
          }
          e.evidence_object_key = row[28].as<std::string>();
          page.records.push_back(EventToRecord(e));
          page.next_page_token =
              absl::BytesToHexString(absl::StrCat(e.decided_at_us, ":", row[0].as<std::string>()));
        }
        if (r.size() <= size) page.next_page_token.clear();
        return absl::OkStatus();
      },
      {.isolation = pg::IsolationLevel::kReadCommitted,
       .read_only = true,
       .name = "query decisions"});
  if (!s.ok()) return s;
  return page;
}

absl::Status DecisionLog::Tail(const std::string& tenant_id, const v1::DecisionFilter& filter,
                               const std::function<bool(const v1::TailDecisionsResponse&)>& emit,
                               const std::function<bool()>& cancelled) {
  std::string last = "0-0";
  SHIELDX_ASSIGN_OR_RETURN(redis::RedisReply head,
                           redis_->Command("XREVRANGE", options_.stream, "+", "-", "COUNT", 1));
  if (head.is_array() && !head.elements().empty() && head.elements()[0].is_array() &&
      !head.elements()[0].elements().empty() && head.elements()[0].elements()[0].is_string()) {
    last = head.elements()[0].elements()[0].str();
  }
  uint64_t dropped = 0;
  while (!cancelled()) {
    absl::StatusOr<redis::RedisReply> r = redis_->Command(
        "XRANGE", options_.stream, absl::StrCat("(", last), "+", "COUNT", kMaxTailRecordsPerEvent);
    v1::TailDecisionsResponse out;
    if (r.ok() && r->is_array()) {
      for (const redis::RedisReply& entry : r->elements()) {
        if (!entry.is_array() || entry.elements().size() != 2 || !entry.elements()[0].is_string())
          continue;
        last = entry.elements()[0].str();
        const redis::RedisReply& fields = entry.elements()[1];
        if (!fields.is_array() || fields.elements().size() < 2 || !fields.elements()[1].is_string())
          continue;
        absl::StatusOr<pipeline::DecisionEvent> e = EventFromJson(fields.elements()[1].str());
        if (!e.ok() || e->tenant_id != tenant_id || !MatchesFilter(*e, filter)) continue;
        if (static_cast<std::size_t>(out.records_size()) >= kMaxTailRecordsPerEvent) {
          ++dropped;
          continue;
        }
        *out.add_records() = EventToRecord(*e);
      }
    }
    if (out.records_size() > 0 || dropped > 0) {
      out.set_dropped_events(dropped);
      dropped = 0;
      if (!emit(out)) return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(250));
  }
  return absl::OkStatus();
}

}  // namespace shieldx::orchestrator
