// shieldx-contauth: wiring only. `shieldx-contauth migrate` applies migrations and exits.
#include "libs/rpc/server.h"
#include "libs/service/runtime.h"
#include "services/contauth/config.h"
#include "services/contauth/contauth_service.h"

const std::vector<shieldx::EmbeddedFile>& contauth_migrations();

int main(int argc, char** argv) {
  using namespace shieldx;            // NOLINT
  using namespace shieldx::contauth;     // NOLINT
  return service::Main<Config>(
      Schema(), argc, argv, &Config::common,
      {.name = "contauth", .needs = kStoreNeeds, .migrations = &contauth_migrations()},
      [](const Config&, service::ServiceRuntime& rt) -> absl::Status {
          static ContAuthServiceImpl contauth;
          rt.grpc().RegisterService(&contauth, "shieldx.contauth.v1.ContAuthService");
        return absl::OkStatus();
      });
}
