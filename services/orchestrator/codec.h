// Conversions between the pipeline's types and the wire: proto messages for the gRPC adapter
// and JSON for decision events on the Redis stream. The one place these mappings live.
#ifndef SHIELDX_SERVICES_ORCHESTRATOR_CODEC_H_
#define SHIELDX_SERVICES_ORCHESTRATOR_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "libs/detect/request.h"
#include "libs/pipeline/decision.h"
#include "libs/pipeline/events.h"
#include "shieldx/common/v1/decision.pb.h"
#include "shieldx/common/v1/http.pb.h"
#include "shieldx/orchestrator/v1/orchestrator.pb.h"

namespace shieldx::orchestrator {

// Limits a request decoded from the gRPC model (libs/base/limits.h spirit).
inline constexpr std::size_t kMaxRequestHeaders = 256;
inline constexpr std::size_t kMaxRequestTargetBytes = 16 * 1024;
inline constexpr std::size_t kMaxRequestBodyBytes = 1024 * 1024;

common::v1::Action ToProto(pipeline::Action action);
common::v1::FindingCategory CategoryToProto(const std::string& detect_category);
std::string CategoryFromProto(common::v1::FindingCategory category);  // "" when unknown
common::v1::LocationKind LocationToProto(detect::Source source);

// The pipeline's decision as the API describes it. `explain`: every finding kept.
common::v1::Decision DecisionToProto(const pipeline::Decision& d, absl::Time decided_at);

// Decodes the API's request into an owned request the detection engine can view. Cookies
// delivered separately become a Cookie header. InvalidArgument beyond the limits above.
absl::Status RequestFromProto(const common::v1::HttpRequest& in, detect::OwnedHttpRequest* out);

// Decision events on the stream (JSON, fields named as in the decisions table).
std::string EventToJson(const pipeline::DecisionEvent& e);
absl::StatusOr<pipeline::DecisionEvent> EventFromJson(const std::string& json);
// A decision-log record from an event.
v1::DecisionRecord EventToRecord(const pipeline::DecisionEvent& e);
// The evidence document stored in S3 for a blocked request (see events.h for what it holds).
std::string EvidenceJson(const pipeline::DecisionEvent& e);

}  // namespace shieldx::orchestrator

#endif  // SHIELDX_SERVICES_ORCHESTRATOR_CODEC_H_
