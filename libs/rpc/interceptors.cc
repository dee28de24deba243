#include "libs/rpc/interceptors.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/status.h>
#include <time.h>

#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "libs/http/trace_id.h"
#include "libs/log/log.h"
#include "libs/metrics/metrics.h"
#include "libs/rpc/status.h"

namespace shieldx::rpc {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::Interceptor;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

// Distinct method names remembered as known (bounded by the compiled-in protos anyway).
constexpr std::size_t kMaxKnownMethods = 4096;

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string_view TypeName(ServerRpcInfo::Type t) {
  switch (t) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unary";
}

// Decides whether "/pkg.Service/Method" is a real method (bounded label) or attacker input.
class MethodRegistry {
 public:
  bool Known(std::string_view full) {
    {
      std::shared_lock<std::shared_mutex> lock(mu_);
      if (known_.count(full) > 0) return true;
    }
    if (!Lookup(full)) return false;
    std::unique_lock<std::shared_mutex> lock(mu_);
    if (known_.size() < kMaxKnownMethods) known_.emplace(full);
    return true;
  }

 private:
  static bool Lookup(std::string_view full) {
    if (full.size() < 4 || full[0] != '/') return false;
    std::size_t slash = full.find('/', 1);
    if (slash == std::string_view::npos) return false;
    std::string_view service = full.substr(1, slash - 1);
    std::string_view method = full.substr(slash + 1);
    if (service == "grpc.health.v1.Health") return method == "Check" || method == "Watch";
    std::string dotted = std::string(service) + "." + std::string(method);
    return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(dotted) != nullptr;
  }

  std::shared_mutex mu_;
  std::set<std::string, std::less<>> known_;
};

class ObservabilityInterceptor final : public Interceptor {
 public:
  ObservabilityInterceptor(ServerRpcInfo* info, metrics::MetricsRegistry* metrics,
                           MethodRegistry* methods)
      : metrics_(metrics), type_(TypeName(info->type())), start_ns_(NowNs()) {
    std::string_view full = info->method() == nullptr ? "" : info->method();
    if (methods->Known(full)) {
      std::size_t slash = full.find('/', 1);
      service_ = full.substr(1, slash - 1);
      method_ = full.substr(slash + 1);
    } else {
      service_ = "unknown";
      method_ = "unknown";
    }
    if (metrics_ != nullptr) metrics_->ObserveGrpcStarted(service_, method_, type_);
  }

  ~ObservabilityInterceptor() override {
    if (!finished_) Finish(grpc::StatusCode::CANCELLED, "call ended without a status");
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      ReadTraceId(methods->GetRecvInitialMetadata());
      // Synchronous handlers run inside this Proceed(): scope the trace id around it.
      log::ScopedTraceId scope(trace_id_);
      methods->Proceed();
      return;
    }
    const bool sending_status =
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS);
    grpc::Status status = sending_status ? methods->GetSendStatus() : grpc::Status::OK;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      EnsureTraceId();
      // A failure sent together with the headers goes out as a Trailers-Only response, which
      // clients may retry; any initial metadata would commit the call (gRFC A6). So on that
      // path the id travels in the trailers instead.
      if (!sending_status || status.ok()) {
        methods->GetSendInitialMetadata()->emplace(kTraceIdMetadataKey, trace_id_);
        echoed_ = true;
      }
    }
    if (sending_status && status.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
        status.error_message().empty() && service_ != "unknown") {
      // A method of our API whose implementation has not landed yet: say so instead of the
      // bare code gRPC's generated base class answers with.
      status = grpc::Status(
          grpc::StatusCode::UNIMPLEMENTED,
          service_ + "/" + method_ + " is part of the API but not implemented in this release");
      methods->ModifySendStatus(status);
    }
    if (sending_status) {
      if (!echoed_) {
        EnsureTraceId();
        methods->GetSendTrailingMetadata()->emplace(kTraceIdMetadataKey, trace_id_);
      }
      Finish(status.error_code(), status.error_message());
    }
    methods->Proceed();
  }

 private:
  void ReadTraceId(std::multimap<grpc::string_ref, grpc::string_ref>* md) {
    std::string_view request_id;
    std::string_view traceparent;
    if (md != nullptr) {
      for (const auto& [k, v] : *md) {
        std::string_view key(k.data(), k.size());
        if (key == kTraceIdMetadataKey) request_id = std::string_view(v.data(), v.size());
        if (key == "traceparent") traceparent = std::string_view(v.data(), v.size());
      }
    }
    trace_id_ = http::ChooseTraceId(request_id, traceparent);
  }

  void EnsureTraceId() {
    if (trace_id_.empty()) trace_id_ = log::NewTraceId();
  }

  void Finish(grpc::StatusCode code, const std::string& message) {
    finished_ = true;
    double secs = static_cast<double>(NowNs() - start_ns_) / 1e9;
    std::string_view code_name = CodeName(code);
    if (metrics_ != nullptr) {
      metrics_->ObserveGrpcHandled(service_, method_, type_, code_name, secs);
    }
    EnsureTraceId();
    log::ScopedTraceId scope(trace_id_);
    log::Fields fields = {{"grpc_service", service_},
                          {"grpc_method", method_},
                          {"grpc_code", code_name},
                          {"duration_ms", secs * 1e3}};
    if (code == grpc::StatusCode::OK) {
      if (log::Enabled(log::Level::kDebug)) log::Debug("rpc ok", fields);
    } else {
      log::Warn("rpc failed", {{"grpc_service", service_},
                               {"grpc_method", method_},
                               {"grpc_code", code_name},
                               {"duration_ms", secs * 1e3},
                               {"error", message}});
    }
  }

  metrics::MetricsRegistry* metrics_;
  std::string_view type_;
  std::string service_;
  std::string method_;
  int64_t start_ns_;
  std::string trace_id_;
  bool finished_ = false;
  bool echoed_ = false;  // trace id sent in the initial metadata
};

class ObservabilityFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ObservabilityFactory(metrics::MetricsRegistry* metrics) : metrics_(metrics) {}
  Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    return new ObservabilityInterceptor(info, metrics_, &methods_);
  }

 private:
  metrics::MetricsRegistry* metrics_;
  MethodRegistry methods_;
};

}  // namespace

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MakeServerInterceptors(metrics::MetricsRegistry* metrics) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<ObservabilityFactory>(metrics));
  return out;
}

}  // namespace shieldx::rpc
