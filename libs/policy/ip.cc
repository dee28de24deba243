#include "libs/policy/ip.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shieldx::policy {
namespace {

// inet_pton needs a NUL-terminated string; addresses are short, so copy onto the stack.
constexpr std::size_t kMaxAddressTextBytes = 64;

absl::uint128 MaskFor(int prefix_bits) {
  if (prefix_bits <= 0) return 0;
  if (prefix_bits >= 128) return ~absl::uint128(0);
  return ~((absl::uint128(1) << (128 - prefix_bits)) - 1);
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() >= kMaxAddressTextBytes) return std::nullopt;
  char buf[kMaxAddressTextBytes];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (text.find(':') == std::string_view::npos) {
    in_addr v4;
    if (inet_pton(AF_INET, buf, &v4) != 1) return std::nullopt;
    ip.bytes[10] = 0xff;
    ip.bytes[11] = 0xff;
    std::memcpy(&ip.bytes[12], &v4, 4);
    return ip;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, buf, &v6) != 1) return std::nullopt;
  std::memcpy(ip.bytes.data(), &v6, 16);
  return ip;
}

IpAddress IpAddress::FromV4(uint32_t host_order) {
  IpAddress ip;
  ip.bytes[10] = 0xff;
  ip.bytes[11] = 0xff;
  ip.bytes[12] = static_cast<uint8_t>(host_order >> 24);
  ip.bytes[13] = static_cast<uint8_t>(host_order >> 16);
  ip.bytes[14] = static_cast<uint8_t>(host_order >> 8);
  ip.bytes[15] = static_cast<uint8_t>(host_order);
  return ip;
}

bool IpAddress::is_v4_mapped() const {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(bytes.data(), kPrefix, 12) == 0;
}

absl::uint128 IpAddress::ToUint128() const {
  uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 8; ++i) hi = (hi << 8) | bytes[i];
  for (int i = 8; i < 16; ++i) lo = (lo << 8) | bytes[i];
  return absl::MakeUint128(hi, lo);
}

IpAddress IpAddress::FromUint128(absl::uint128 v) {
  IpAddress ip;
  uint64_t hi = absl::Uint128High64(v), lo = absl::Uint128Low64(v);
  for (int i = 7; i >= 0; --i, hi >>= 8) ip.bytes[i] = static_cast<uint8_t>(hi);
  for (int i = 15; i >= 8; --i, lo >>= 8) ip.bytes[i] = static_cast<uint8_t>(lo);
  return ip;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4_mapped()) {
    return inet_ntop(AF_INET, &bytes[12], buf, sizeof(buf)) ? std::string(buf) : std::string();
  }
  return inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf)) ? std::string(buf) : std::string();
}

std::optional<Cidr> Cidr::Parse(std::string_view text, std::string* error) {
  std::size_t slash = text.find('/');
  std::string_view addr_text = text.substr(0, slash);
  std::optional<IpAddress> addr = IpAddress::Parse(addr_text);
  if (!addr) {
    *error = absl::StrCat("\"", std::string(addr_text), "\" is not an IPv4 or IPv6 address");
    return std::nullopt;
  }
  // IPv4 text (no ':') gets a /0..32 prefix that lands on the mapped range.
  const bool v4_text = addr_text.find(':') == std::string_view::npos;
  const int max_bits = v4_text ? 32 : 128;
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    std::string_view bits_text = text.substr(slash + 1);
    if (bits_text.empty() || bits_text.size() > 3 ||
        !absl::SimpleAtoi(absl::string_view(bits_text.data(), bits_text.size()), &bits) ||
        bits < 0 || bits > max_bits) {
      *error =
          absl::StrCat("prefix length \"", std::string(bits_text), "\" is not in 0..", max_bits);
      return std::nullopt;
    }
  }
  Cidr c;
  c.prefix_bits = v4_text ? 96 + bits : bits;
  absl::uint128 v = addr->ToUint128();
  if ((v & ~MaskFor(c.prefix_bits)) != 0) {
    *error = absl::StrCat("\"", std::string(text), "\" has host bits set beyond /", bits);
    return std::nullopt;
  }
  c.base = *addr;
  return c;
}

absl::uint128 Cidr::first() const { return base.ToUint128() & MaskFor(prefix_bits); }
absl::uint128 Cidr::last() const { return first() | ~MaskFor(prefix_bits); }

bool Cidr::Contains(const IpAddress& ip) const {
  return (ip.ToUint128() & MaskFor(prefix_bits)) == first();
}

void IpRangeSet::Add(const Cidr& cidr) { ranges_.emplace_back(cidr.first(), cidr.last()); }

void IpRangeSet::Build() {
  std::sort(ranges_.begin(), ranges_.end());
  std::vector<std::pair<absl::uint128, absl::uint128>> merged;
  merged.reserve(ranges_.size());
  for (const auto& r : ranges_) {
    // Merge overlapping and adjacent ranges (guard last+1 against wrap-around at ::ffff...).
    if (!merged.empty() &&
        (r.first <= merged.back().second ||
         (merged.back().second != ~absl::uint128(0) && r.first == merged.back().second + 1))) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  ranges_ = std::move(merged);
}

bool IpRangeSet::Contains(const IpAddress& ip) const {
  const absl::uint128 v = ip.ToUint128();
  // First range whose start is > v; the candidate is the one before it.
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), v,
                             [](absl::uint128 x, const auto& r) { return x < r.first; });
  if (it == ranges_.begin()) return false;
  --it;
  return v <= it->second;
}

}  // namespace shieldx::policy
