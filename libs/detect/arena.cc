#include "libs/detect/arena.h"

#include <cstring>

#include "libs/base/check.h"

namespace shieldx::detect {

Arena::Arena(std::size_t block_bytes) : block_bytes_(block_bytes) {
  SHIELDX_CHECK(block_bytes_ > 0);
}

char* Arena::Allocate(std::size_t n) {
  if (n == 0) n = 1;
  while (current_ < blocks_.size()) {
    Block& b = blocks_[current_];
    if (b.size - offset_ >= n) {
      char* p = b.data.get() + offset_;
      offset_ += n;
      in_use_ += n;
      return p;
    }
    ++current_;
    offset_ = 0;
  }
  std::size_t size = n > block_bytes_ ? n : block_bytes_;
  // Uninitialised (Allocate promises no more): zero-filling a 256 KiB block cost more than
  // most requests spend in the detectors.
  blocks_.push_back(Block{std::make_unique_for_overwrite<char[]>(size), size});
  current_ = blocks_.size() - 1;
  offset_ = n;
  in_use_ += n;
  return blocks_[current_].data.get();
}

std::string_view Arena::Copy(std::string_view s) {
  if (s.empty()) return {};
  char* p = Allocate(s.size());
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

void Arena::ShrinkLast(const char* p, std::size_t used) {
  SHIELDX_CHECK(current_ < blocks_.size());
  Block& b = blocks_[current_];
  std::size_t start = static_cast<std::size_t>(p - b.data.get());
  SHIELDX_CHECK(start <= offset_ && start + used <= offset_);
  in_use_ -= offset_ - (start + used);
  offset_ = start + used;
}

void Arena::Reset() {
  // Oversized one-off blocks are released; the first two regular blocks stay.
  std::size_t keep = 0;
  for (std::size_t i = 0; i < blocks_.size() && keep < 2; ++i) {
    if (blocks_[i].size == block_bytes_) {
      if (i != keep) blocks_[keep] = std::move(blocks_[i]);
      ++keep;
    }
  }
  blocks_.resize(keep);
  current_ = 0;
  offset_ = 0;
  in_use_ = 0;
}

}  // namespace shieldx::detect
