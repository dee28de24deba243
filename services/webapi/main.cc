// shieldx-webapi: wiring only. `shieldx-webapi migrate` applies migrations and exits.
#include "libs/rpc/server.h"
#include "libs/service/runtime.h"
#include "services/webapi/config.h"
#include "services/webapi/webapi_service.h"

const std::vector<shieldx::EmbeddedFile>& webapi_migrations();

int main(int argc, char** argv) {
  using namespace shieldx;          // NOLINT
  using namespace shieldx::webapi;  // NOLINT
  return service::Main<Config>(
      Schema(), argc, argv, &Config::common,
      {.name = "webapi", .needs = kStoreNeeds, .migrations = &webapi_migrations()},
      [](const Config&, service::ServiceRuntime& rt) -> absl::Status {
        static WebApiServiceImpl webapi;
        rt.grpc().RegisterService(&webapi, "shieldx.webapi.v1.WebApiService");
        return absl::OkStatus();
      });
}
