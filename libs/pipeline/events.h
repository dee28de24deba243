// Decision events: what the pipeline records about each decision (step 10), and the bounded,
// lock-free hand-off from the hot path to the writer thread that ships them (the orchestrator
// sends them to a Redis stream, then PostgreSQL; evidence goes to S3).
//
// Redaction: an event never carries the body, query values, header values or cookies. It
// carries the method, the host, the path cut to kMaxEventPathBytes, the User-Agent cut to
// kMaxEventUserAgentBytes, the client address and the findings' excerpts (at most 64 bytes each,
// produced by the detection engine with non-printable bytes escaped). Evidence (blocked
// requests, sampled) adds the names (never values) of query arguments, headers and cookies.
//
// Thread-safety: EventQueue::Publish and Drain are thread-safe; Publish never blocks (a full
// queue drops the event and counts it).
#ifndef SHIELDX_LIBS_PIPELINE_EVENTS_H_
#define SHIELDX_LIBS_PIPELINE_EVENTS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libs/pipeline/decision.h"

namespace shieldx::pipeline {

inline constexpr std::size_t kMaxEventPathBytes = 512;
inline constexpr std::size_t kMaxEventUserAgentBytes = 256;
inline constexpr std::size_t kMaxEvidenceNames = 64;

struct EventFinding {
  std::string category;
  std::string rule;
  std::string location;  // "query:id", "header:user-agent"
  std::string excerpt;
  double confidence = 0;
};

struct DecisionEvent {
  int64_t decided_at_us = 0;  // unix time
  std::string tenant_id, site_id, route_id, request_id;
  std::string action;            // ActionName
  std::string monitored_action;  // on monitor routes: what enforcement would have done
  int status = 0;
  int score = 0;
  std::string rule_id, rule_set_id;
  int64_t rule_set_version = 0;
  int64_t config_version = 0;
  std::vector<std::string> categories, tags;
  std::vector<EventFinding> findings;
  std::string method, host, path, client_ip, user_agent;
  std::string front_end, upstream, pool;
  int64_t latency_us = 0;
  double auth_risk = -1;
  std::string explanation;
  // Set when the event carries an evidence sample to store (see file comment).
  bool evidence = false;
  std::vector<std::string> arg_names, header_names, cookie_names;
  std::string evidence_object_key;  // set by the writer once stored
};

// Masks what looks like a credential in an excerpt: runs of 13-19 digits (card numbers) and
// runs of 24+ token characters ([A-Za-z0-9_+/=-], API keys, JWT parts) become "***".
std::string MaskSecrets(std::string_view excerpt);

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Takes the event; never blocks.
  virtual void Publish(std::unique_ptr<DecisionEvent> event) = 0;
};

// Bounded multi-producer / multi-consumer queue (Vyukov's array queue).
class EventQueue : public EventSink {
 public:
  // `capacity` is rounded up to a power of two.
  explicit EventQueue(std::size_t capacity);
  ~EventQueue() override;
  void Publish(std::unique_ptr<DecisionEvent> event) override;
  // Moves up to `max` events into `out`; returns how many.
  std::size_t Drain(std::vector<std::unique_ptr<DecisionEvent>>* out, std::size_t max);
  int64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Cell {
    std::atomic<std::size_t> sequence;
    DecisionEvent* event = nullptr;
  };
  bool TryPop(DecisionEvent** event);
  std::unique_ptr<Cell[]> cells_;
  const std::size_t mask_;
  alignas(64) std::atomic<std::size_t> enqueue_pos_{0};
  alignas(64) std::atomic<std::size_t> dequeue_pos_{0};
  std::atomic<int64_t> dropped_{0};
};

}  // namespace shieldx::pipeline

#endif  // SHIELDX_LIBS_PIPELINE_EVENTS_H_
