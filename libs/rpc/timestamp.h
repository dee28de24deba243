// absl::Time <-> google.protobuf.Timestamp, the one conversion every service's API adapter
// uses. Microsecond precision (what PostgreSQL stores); instants before 1970 are floored so
// `nanos` stays in [0, 1e9) as the Timestamp contract requires.
#ifndef SHIELDX_LIBS_RPC_TIMESTAMP_H_
#define SHIELDX_LIBS_RPC_TIMESTAMP_H_

#include <google/protobuf/timestamp.pb.h>

#include "absl/time/time.h"

namespace shieldx::rpc {

void ToProto(absl::Time t, google::protobuf::Timestamp* out);
absl::Time FromProto(const google::protobuf::Timestamp& t);

}  // namespace shieldx::rpc

#endif  // SHIELDX_LIBS_RPC_TIMESTAMP_H_
