// shieldx-twin: wiring only. `shieldx-twin migrate` applies migrations and exits.
#include "libs/rpc/server.h"
#include "libs/service/runtime.h"
#include "services/twin/config.h"
#include "services/twin/twin_service.h"

const std::vector<shieldx::EmbeddedFile>& twin_migrations();

int main(int argc, char** argv) {
  using namespace shieldx;        // NOLINT
  using namespace shieldx::twin;  // NOLINT
  return service::Main<Config>(
      Schema(), argc, argv, &Config::common,
      {.name = "twin", .needs = kStoreNeeds, .migrations = &twin_migrations()},
      [](const Config&, service::ServiceRuntime& rt) -> absl::Status {
        static TwinServiceImpl twin;
        rt.grpc().RegisterService(&twin, "shieldx.twin.v1.TwinService");
        return absl::OkStatus();
      });
}
