// shieldx-shadow: wiring only. `shieldx-shadow migrate` applies migrations and exits.
#include "libs/rpc/server.h"
#include "libs/service/runtime.h"
#include "services/shadow/config.h"
#include "services/shadow/shadow_service.h"

const std::vector<shieldx::EmbeddedFile>& shadow_migrations();

int main(int argc, char** argv) {
  using namespace shieldx;          // NOLINT
  using namespace shieldx::shadow;  // NOLINT
  return service::Main<Config>(
      Schema(), argc, argv, &Config::common,
      {.name = "shadow", .needs = kStoreNeeds, .migrations = &shadow_migrations()},
      [](const Config&, service::ServiceRuntime& rt) -> absl::Status {
        static ShadowServiceImpl shadow;
        rt.grpc().RegisterService(&shadow, "shieldx.shadow.v1.ShadowService");
        return absl::OkStatus();
      });
}
