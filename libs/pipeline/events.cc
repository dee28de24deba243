#include "libs/pipeline/events.h"

#include <string_view>

namespace shieldx::pipeline {

namespace {
std::size_t RoundUpPow2(std::size_t n) {
  std::size_t p = 2;
  while (p < n) p <<= 1;
  return p;
}
bool TokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '+' || c == '/' || c == '=';
}

}  // namespace

std::string MaskSecrets(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    if (!TokenChar(in[i])) {
      out.push_back(in[i++]);
      continue;
    }
    std::size_t j = i;
    bool digits_only = true;
    while (j < in.size() && TokenChar(in[j])) {
      digits_only = digits_only && in[j] >= '0' && in[j] <= '9';
      ++j;
    }
    const std::size_t n = j - i;
    if ((digits_only && n >= 13 && n <= 19) || n >= 24) {
      out.append("***");
    } else {
      out.append(in.substr(i, n));
    }
    i = j;
  }
  return out;
}

EventQueue::EventQueue(std::size_t capacity)
    : cells_(new Cell[RoundUpPow2(capacity)]), mask_(RoundUpPow2(capacity) - 1) {
  for (std::size_t i = 0; i <= mask_; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
}

EventQueue::~EventQueue() {
  DecisionEvent* e = nullptr;
  while (TryPop(&e)) delete e;
}

void EventQueue::Publish(std::unique_ptr<DecisionEvent> event) {
  std::size_t pos = enqueue_pos_.load(std::memory_order_relaxed);
  for (;;) {
    Cell& cell = cells_[pos & mask_];
    const std::size_t seq = cell.sequence.load(std::memory_order_acquire);
    const intptr_t diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos);
    if (diff == 0) {
      if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        cell.event = event.release();
        cell.sequence.store(pos + 1, std::memory_order_release);
        return;
      }
    } else if (diff < 0) {
      dropped_.fetch_add(1, std::memory_order_relaxed);  // full
      return;
    } else {
      pos = enqueue_pos_.load(std::memory_order_relaxed);
    }
  }
}

bool EventQueue::TryPop(DecisionEvent** event) {
  std::size_t pos = dequeue_pos_.load(std::memory_order_relaxed);
  for (;;) {
    Cell& cell = cells_[pos & mask_];
    const std::size_t seq = cell.sequence.load(std::memory_order_acquire);
    const intptr_t diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos + 1);
    if (diff == 0) {
      if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        *event = cell.event;
        cell.event = nullptr;
        cell.sequence.store(pos + mask_ + 1, std::memory_order_release);
        return true;
      }
    } else if (diff < 0) {
      return false;  // empty
    } else {
      pos = dequeue_pos_.load(std::memory_order_relaxed);
    }
  }
}

std::size_t EventQueue::Drain(std::vector<std::unique_ptr<DecisionEvent>>* out, std::size_t max) {
  std::size_t n = 0;
  DecisionEvent* e = nullptr;
  while (n < max && TryPop(&e)) {
    out->emplace_back(e);
    ++n;
  }
  return n;
}

}  // namespace shieldx::pipeline
