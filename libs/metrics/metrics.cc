#include "libs/metrics/metrics.h"

#include <mutex>
#include <sstream>

#include "prometheus/text_serializer.h"

namespace shieldx::metrics {
namespace {

std::string Key(std::initializer_list<std::string_view> parts) {
  std::string key;
  for (std::string_view p : parts) {
    key.append(p.data(), p.size());
    key.push_back('\x1f');
  }
  return key;
}

// Looks `key` up under a shared lock; on a miss creates the child under the exclusive lock.
template <typename Map, typename Make>
typename Map::mapped_type GetOrCreate(std::shared_mutex& mu, Map& map, const std::string& key,
                                      Make make) {
  {
    std::shared_lock<std::shared_mutex> lock(mu);
    auto it = map.find(key);
    if (it != map.end()) return it->second;
  }
  std::unique_lock<std::shared_mutex> lock(mu);
  auto it = map.find(key);
  if (it != map.end()) return it->second;
  auto value = make();
  map.emplace(key, value);
  return value;
}

}  // namespace

const std::vector<double>& MetricsRegistry::LatencyBuckets() {
  static const std::vector<double> buckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                              0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                              0.5,     1,      2.5,     5,      10};
  return buckets;
}

MetricsRegistry::MetricsRegistry(std::string service, std::string version)
    : service_(std::move(service)), registry_(std::make_shared<prometheus::Registry>()) {
  http_requests_ = &prometheus::BuildCounter()
                        .Name("http_requests_total")
                        .Help("HTTP requests served, by route pattern and status code.")
                        .Register(*registry_);
  http_duration_ = &prometheus::BuildHistogram()
                        .Name("http_request_duration_seconds")
                        .Help("HTTP request latency in seconds, by route pattern.")
                        .Register(*registry_);
  grpc_started_ = &prometheus::BuildCounter()
                       .Name("grpc_server_started_total")
                       .Help("RPCs started on the server.")
                       .Register(*registry_);
  grpc_handled_ = &prometheus::BuildCounter()
                       .Name("grpc_server_handled_total")
                       .Help("RPCs completed on the server, by status code.")
                       .Register(*registry_);
  grpc_duration_ = &prometheus::BuildHistogram()
                        .Name("grpc_server_handling_seconds")
                        .Help("RPC handling latency in seconds.")
                        .Register(*registry_);
  prometheus::BuildGauge()
      .Name("shieldx_build_info")
      .Help("Always 1; labels name the service and its version.")
      .Register(*registry_)
      .Add({{"service", service_}, {"version", version}})
      .Set(1);
}

void MetricsRegistry::ObserveHttp(std::string_view method, std::string_view route, int status,
                                  double duration_seconds) {
  const std::string base = Key({method, route});
  HttpChildren children = GetOrCreate(mu_, http_children_, base, [&] {
    return HttpChildren{nullptr, &http_duration_->Add({{"service", service_},
                                                       {"method", std::string(method)},
                                                       {"route", std::string(route)}},
                                                      LatencyBuckets())};
  });
  const std::string status_text = std::to_string(status);
  prometheus::Counter* counter =
      GetOrCreate(mu_, http_status_children_, Key({method, route, status_text}), [&] {
        return &http_requests_->Add({{"service", service_},
                                     {"method", std::string(method)},
                                     {"route", std::string(route)},
                                     {"status", status_text}});
      });
  counter->Increment();
  children.duration->Observe(duration_seconds);
}

void MetricsRegistry::ObserveGrpcStarted(std::string_view service, std::string_view method,
                                         std::string_view type) {
  GrpcChildren children = GetOrCreate(mu_, grpc_children_, Key({service, method, type}), [&] {
    std::map<std::string, std::string> labels = {{"grpc_service", std::string(service)},
                                                 {"grpc_method", std::string(method)},
                                                 {"grpc_type", std::string(type)}};
    return GrpcChildren{&grpc_started_->Add(labels),
                        &grpc_duration_->Add(labels, LatencyBuckets())};
  });
  children.started->Increment();
}

void MetricsRegistry::ObserveGrpcHandled(std::string_view service, std::string_view method,
                                         std::string_view type, std::string_view code,
                                         double duration_seconds) {
  GrpcChildren children = GetOrCreate(mu_, grpc_children_, Key({service, method, type}), [&] {
    std::map<std::string, std::string> labels = {{"grpc_service", std::string(service)},
                                                 {"grpc_method", std::string(method)},
                                                 {"grpc_type", std::string(type)}};
    return GrpcChildren{&grpc_started_->Add(labels),
                        &grpc_duration_->Add(labels, LatencyBuckets())};
  });
  prometheus::Counter* handled =
      GetOrCreate(mu_, grpc_handled_children_, Key({service, method, type, code}), [&] {
        return &grpc_handled_->Add({{"grpc_service", std::string(service)},
                                    {"grpc_method", std::string(method)},
                                    {"grpc_type", std::string(type)},
                                    {"grpc_code", std::string(code)}});
      });
  handled->Increment();
  children.duration->Observe(duration_seconds);
}

std::string MetricsRegistry::Serialize() const {
  prometheus::TextSerializer serializer;
  std::ostringstream out;
  serializer.Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace shieldx::metrics
