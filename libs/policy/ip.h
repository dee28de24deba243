// IP addresses and CIDR sets for the policy language.
//
// Every address is held as 16 bytes: IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d), so
// an IPv4 CIDR such as 10.0.0.0/8 matches both "10.1.2.3" and "::ffff:10.1.2.3", and a client
// that arrives over a dual-stack socket is treated like its IPv4 self.
//
// Thread-safety: all types are values; IpRangeSet is immutable after Build() and safe to query
// from many threads. Lookups never allocate.
#ifndef SHIELDX_LIBS_POLICY_IP_H_
#define SHIELDX_LIBS_POLICY_IP_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"

namespace shieldx::policy {

struct IpAddress {
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 as ::ffff:a.b.c.d

  // Parses "1.2.3.4", "2001:db8::1" or "::ffff:1.2.3.4". No ports, brackets or zone ids.
  // Never allocates.
  static std::optional<IpAddress> Parse(std::string_view text);
  static IpAddress FromV4(uint32_t host_order);

  bool is_v4_mapped() const;
  absl::uint128 ToUint128() const;
  static IpAddress FromUint128(absl::uint128 v);
  // "1.2.3.4" for mapped IPv4, RFC 5952 text otherwise.
  std::string ToString() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) { return a.bytes == b.bytes; }
};

// An address block. For IPv4 text the prefix is stored as 96 + the IPv4 prefix.
struct Cidr {
  IpAddress base;       // host bits cleared
  int prefix_bits = 0;  // 0..128 over the 16-byte form

  // Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a /32 or /128). Host bits set
  // beyond the prefix are rejected ("10.0.0.1/8" is almost always a typo).
  static std::optional<Cidr> Parse(std::string_view text, std::string* error);
  bool Contains(const IpAddress& ip) const;
  absl::uint128 first() const;
  absl::uint128 last() const;
};

// A set of CIDRs as sorted, merged, non-overlapping [first, last] ranges over 128-bit values:
// O(log n) lookup by binary search, any mix of IPv4 and IPv6.
class IpRangeSet {
 public:
  void Add(const Cidr& cidr);
  // Sorts and merges; call once after the last Add.
  void Build();
  bool Contains(const IpAddress& ip) const;
  std::size_t range_count() const { return ranges_.size(); }

 private:
  std::vector<std::pair<absl::uint128, absl::uint128>> ranges_;
};

}  // namespace shieldx::policy

#endif  // SHIELDX_LIBS_POLICY_IP_H_
