// shieldx-orchestrator: wiring only. `shieldx-orchestrator migrate` applies migrations and exits.
#include "libs/rpc/server.h"
#include "libs/service/runtime.h"
#include "services/orchestrator/config.h"
#include "services/orchestrator/orchestrator_service.h"

const std::vector<shieldx::EmbeddedFile>& orchestrator_migrations();

int main(int argc, char** argv) {
  using namespace shieldx;            // NOLINT
  using namespace shieldx::orchestrator;     // NOLINT
  return service::Main<Config>(
      Schema(), argc, argv, &Config::common,
      {.name = "orchestrator", .needs = kStoreNeeds, .migrations = &orchestrator_migrations()},
      [](const Config&, service::ServiceRuntime& rt) -> absl::Status {
          static DecisionServiceImpl decision;
          rt.grpc().RegisterService(&decision, "shieldx.orchestrator.v1.DecisionService");
          static ConfigServiceImpl config;
          rt.grpc().RegisterService(&config, "shieldx.orchestrator.v1.ConfigService");
        return absl::OkStatus();
      });
}
