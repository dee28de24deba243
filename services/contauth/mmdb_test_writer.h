// Test-only: writes a tiny MaxMind DB (format 2.0, IPv4 tree, 24-bit records) with a few /N
// networks mapped to {country: {iso_code}, location: {latitude, longitude}}, so the geo code
// is tested against libmaxminddb reading a real file instead of a mock. Follows the published
// MaxMind DB File Format Specification; only the types the writer needs (map, UTF-8 string,
// double, uint16/32/64, array).
#ifndef SHIELDX_SERVICES_CONTAUTH_MMDB_TEST_WRITER_H_
#define SHIELDX_SERVICES_CONTAUTH_MMDB_TEST_WRITER_H_

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace shieldx::contauth::testing {

struct MmdbNetwork {
  std::string ipv4;  // network address, e.g. "203.0.113.0"
  int prefix = 24;
  std::string country;
  double latitude = 0;
  double longitude = 0;
};

class MmdbEncoder {
 public:
  void Control(int type, std::size_t size) {
    const bool ext = type > 7;
    uint8_t first = static_cast<uint8_t>((ext ? 0 : type) << 5);
    if (size < 29) {
      out_.push_back(static_cast<char>(first | size));
      if (ext) out_.push_back(static_cast<char>(type - 7));
    } else {
      out_.push_back(static_cast<char>(first | 29));
      if (ext) out_.push_back(static_cast<char>(type - 7));
      out_.push_back(static_cast<char>(size - 29));  // REQUIRES: size < 285
    }
  }
  void Str(const std::string& s) {
    Control(2, s.size());
    out_ += s;
  }
  void Double(double d) {
    Control(3, 8);
    uint64_t bits;
    std::memcpy(&bits, &d, 8);
    for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  void Uint(int type, uint64_t v) {
    std::string bytes;
    while (v > 0) {
      bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
      v >>= 8;
    }
    Control(type, bytes.size());
    out_ += bytes;
  }
  void Map(std::size_t pairs) { Control(7, pairs); }
  void Array(std::size_t n) { Control(11, n); }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// Writes the database to `path`; returns false on an I/O error.
inline bool WriteTestMmdb(const std::string& path, const std::vector<MmdbNetwork>& networks) {
  // Data section: one record per network.
  MmdbEncoder data;
  std::vector<uint32_t> offsets;
  for (const MmdbNetwork& n : networks) {
    offsets.push_back(static_cast<uint32_t>(data.bytes().size()));
    data.Map(2);
    data.Str("country");
    data.Map(1);
    data.Str("iso_code");
    data.Str(n.country);
    data.Str("location");
    data.Map(2);
    data.Str("latitude");
    data.Double(n.latitude);
    data.Str("longitude");
    data.Double(n.longitude);
  }
  // Search tree: node -> {left, right}; kind 0 empty, 1 node, 2 data.
  struct Rec {
    int kind = 0;
    uint32_t value = 0;
  };
  std::vector<std::array<Rec, 2>> nodes(1);
  for (std::size_t i = 0; i < networks.size(); ++i) {
    uint8_t addr[4];
    if (inet_pton(AF_INET, networks[i].ipv4.c_str(), addr) != 1) return false;
    const uint32_t ip =
        (uint32_t{addr[0]} << 24) | (uint32_t{addr[1]} << 16) | (uint32_t{addr[2]} << 8) | addr[3];
    uint32_t node = 0;
    for (int depth = 0; depth < networks[i].prefix; ++depth) {
      const int bit = (ip >> (31 - depth)) & 1;
      if (depth == networks[i].prefix - 1) {
        nodes[node][bit] = {2, offsets[i]};
        break;
      }
      if (nodes[node][bit].kind != 1) {
        nodes.push_back({});  // invalidates references into `nodes`: index again below
        nodes[node][bit] = {1, static_cast<uint32_t>(nodes.size() - 1)};
      }
      node = nodes[node][bit].value;
    }
  }
  const uint32_t node_count = static_cast<uint32_t>(nodes.size());
  std::string file;
  auto put24 = [&file](uint32_t v) {
    file.push_back(static_cast<char>((v >> 16) & 0xff));
    file.push_back(static_cast<char>((v >> 8) & 0xff));
    file.push_back(static_cast<char>(v & 0xff));
  };
  for (const auto& n : nodes) {
    for (const Rec& r : n) {
      put24(r.kind == 0 ? node_count : r.kind == 1 ? r.value : node_count + 16 + r.value);
    }
  }
  file.append(16, '\0');
  file += data.bytes();
  file += "\xAB\xCD\xEFMaxMind.com";
  MmdbEncoder meta;
  meta.Map(9);
  meta.Str("node_count");
  meta.Uint(6, node_count);
  meta.Str("record_size");
  meta.Uint(5, 24);
  meta.Str("ip_version");
  meta.Uint(5, 4);
  meta.Str("database_type");
  meta.Str("ShieldX-Test-City");
  meta.Str("languages");
  meta.Array(1);
  meta.Str("en");
  meta.Str("binary_format_major_version");
  meta.Uint(5, 2);
  meta.Str("binary_format_minor_version");
  meta.Uint(5, 0);
  meta.Str("build_epoch");
  meta.Uint(9, 1700000000);
  meta.Str("description");
  meta.Map(1);
  meta.Str("en");
  meta.Str("ShieldX contauth test database");
  file += meta.bytes();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(file.data(), static_cast<std::streamsize>(file.size()));
  return static_cast<bool>(f);
}

}  // namespace shieldx::contauth::testing

#endif  // SHIELDX_SERVICES_CONTAUTH_MMDB_TEST_WRITER_H_
