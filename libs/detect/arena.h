// A bump allocator for per-request byte strings. Views handed out stay valid until Reset().
// Blocks are kept across Reset() so a reused arena stops allocating after warm-up.
// Not thread-safe: one per thread (it lives in detect::Scratch).
#ifndef SHIELDX_LIBS_DETECT_ARENA_H_
#define SHIELDX_LIBS_DETECT_ARENA_H_

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace shieldx::detect {

class Arena {
 public:
  explicit Arena(std::size_t block_bytes);
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Returns `n` writable bytes (uninitialised). Never fails: large requests get their own block.
  char* Allocate(std::size_t n);
  // Copies `s` into the arena.
  std::string_view Copy(std::string_view s);
  // Shrinks the most recent allocation `p` (of any size) to `used` bytes, returning the rest.
  // REQUIRES: `p` is the last pointer returned by Allocate and used <= its size.
  void ShrinkLast(const char* p, std::size_t used);
  // Forgets every allocation; keeps up to two blocks for reuse.
  void Reset();
  std::size_t bytes_in_use() const { return in_use_; }

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t size;
  };
  std::size_t block_bytes_;
  std::vector<Block> blocks_;
  std::size_t current_ = 0;  // index into blocks_
  std::size_t offset_ = 0;   // within blocks_[current_]
  std::size_t in_use_ = 0;
};

}  // namespace shieldx::detect

#endif  // SHIELDX_LIBS_DETECT_ARENA_H_
