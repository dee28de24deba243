// Geo lookup of client IPs: the country (ISO 3166-1 alpha-2) and approximate location from a
// MaxMind-format database (GeoLite2-City / GeoIP2-City / -Country), read with libmaxminddb.
// The database is the operator's (config `geoip_db_path`); without one, contauth runs with no
// geo (no country signals, no impossible-travel check) and says so in its start-up log.
//
// Thread-safety: Lookup is safe to call concurrently (libmaxminddb lookups only read the
// memory-mapped database).
#ifndef SHIELDX_SERVICES_CONTAUTH_GEOIP_H_
#define SHIELDX_SERVICES_CONTAUTH_GEOIP_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

struct MMDB_s;

namespace shieldx::contauth {

struct GeoInfo {
  std::string country;  // "DE"; empty when the record has none
  bool has_location = false;
  double latitude = 0;
  double longitude = 0;
};

class GeoLookup {
 public:
  virtual ~GeoLookup() = default;
  // nullopt when the address is not in the database or not an IP literal.
  virtual std::optional<GeoInfo> Lookup(const std::string& ip) const = 0;
};

class MaxMindGeo final : public GeoLookup {
 public:
  // Opens (memory-maps) the database. NotFound / InvalidArgument naming the path and
  // libmaxminddb's reason when it is missing or not a MaxMind DB.
  static absl::StatusOr<std::unique_ptr<MaxMindGeo>> Open(const std::string& path);
  ~MaxMindGeo() override;
  MaxMindGeo(const MaxMindGeo&) = delete;
  MaxMindGeo& operator=(const MaxMindGeo&) = delete;

  std::optional<GeoInfo> Lookup(const std::string& ip) const override;
  // The database_type from its metadata ("GeoLite2-City").
  std::string database_type() const;

 private:
  MaxMindGeo();
  std::unique_ptr<MMDB_s> db_;
};

// Great-circle distance in km (haversine, mean Earth radius).
double DistanceKm(double lat1, double lon1, double lat2, double lon2);

}  // namespace shieldx::contauth

#endif  // SHIELDX_SERVICES_CONTAUTH_GEOIP_H_
