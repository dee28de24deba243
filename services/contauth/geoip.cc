#include "services/contauth/geoip.h"

#include <maxminddb.h>

#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace shieldx::contauth {

MaxMindGeo::MaxMindGeo() : db_(std::make_unique<MMDB_s>()) {}

MaxMindGeo::~MaxMindGeo() { MMDB_close(db_.get()); }

absl::StatusOr<std::unique_ptr<MaxMindGeo>> MaxMindGeo::Open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat("geoip database ", path, ": no such file"));
  }
  std::unique_ptr<MaxMindGeo> geo(new MaxMindGeo());
  const int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, geo->db_.get());
  if (rc != MMDB_SUCCESS) {
    // MMDB_open leaves nothing to close on failure.
    geo->db_ = std::make_unique<MMDB_s>();
    return absl::InvalidArgumentError(
        absl::StrCat("geoip database ", path, ": ", MMDB_strerror(rc)));
  }
  return geo;
}

std::string MaxMindGeo::database_type() const {
  return db_->metadata.database_type == nullptr ? "" : db_->metadata.database_type;
}

std::optional<GeoInfo> MaxMindGeo::Lookup(const std::string& ip) const {
  int gai_error = 0, mmdb_error = 0;
  MMDB_lookup_result_s r = MMDB_lookup_string(db_.get(), ip.c_str(), &gai_error, &mmdb_error);
  if (gai_error != 0 || mmdb_error != MMDB_SUCCESS || !r.found_entry) return std::nullopt;
  GeoInfo info;
  MMDB_entry_data_s data;
  if (MMDB_get_value(&r.entry, &data, "country", "iso_code", nullptr) == MMDB_SUCCESS &&
      data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size <= 3) {
    info.country.assign(data.utf8_string, data.data_size);
  }
  MMDB_entry_data_s lat, lon;
  if (MMDB_get_value(&r.entry, &lat, "location", "latitude", nullptr) == MMDB_SUCCESS &&
      MMDB_get_value(&r.entry, &lon, "location", "longitude", nullptr) == MMDB_SUCCESS &&
      lat.has_data && lon.has_data && lat.type == MMDB_DATA_TYPE_DOUBLE &&
      lon.type == MMDB_DATA_TYPE_DOUBLE && std::isfinite(lat.double_value) &&
      std::isfinite(lon.double_value) && std::fabs(lat.double_value) <= 90 &&
      std::fabs(lon.double_value) <= 180) {
    info.has_location = true;
    info.latitude = lat.double_value;
    info.longitude = lon.double_value;
  }
  if (info.country.empty() && !info.has_location) return std::nullopt;
  return info;
}

double DistanceKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kEarthKm = 6371.0088;
  constexpr double kRad = M_PI / 180.0;
  const double dlat = (lat2 - lat1) * kRad, dlon = (lon2 - lon1) * kRad;
  const double a =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthKm * std::asin(std::min(1.0, std::sqrt(a)));
}

}  // namespace shieldx::contauth
