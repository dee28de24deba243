#!/usr/bin/env bash
# Installs every Debian package and pinned npm package ShieldX needs. Idempotent: a
# second run with everything present does nothing but check (no network).
#
# Root: installs with apt-get directly. Non-root: prints one line to run as root, exits 1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

APT_PACKAGES=(
  # toolchain
  g++ clang libclang-rt-14-dev cmake ninja-build pkg-config ccache make git curl ca-certificates python3
  # libraries
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev libabsl-dev
  libpqxx-dev libhiredis-dev prometheus-cpp-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libcurl4-openssl-dev zlib1g-dev
  libbrotli-dev
  libvectorscan-dev libre2-dev libmaxminddb-dev
  # benchmark anchors and load generator only (never linked into the product)
  libmodsecurity-dev modsecurity-crs libnginx-mod-http-modsecurity wrk
  # real servers the local stack and the tests start
  postgresql-15 postgresql-client-15 redis-server redis-tools prometheus haproxy nginx
  # node for the console, the local S3 server and manifest validation
  nodejs npm
  # tools
  procps psmisc iproute2 util-linux
  # kubectl is not a Debian package; the machines this project runs on ship it (see
  # scripts/tests/k8s-validate.sh, which says so when it is missing).
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    # nodejs/npm may come from outside Debian's packages on some machines; accept a working binary.
    case "$p" in
      nodejs) command -v node >/dev/null 2>&1 && continue ;;
      npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "shieldx: missing Debian packages; run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "shieldx: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Pinned npm tools (lockfile committed at tools/package-lock.json).
if [[ -f "$here/tools/package.json" ]]; then
  if [[ ! -d "$here/tools/node_modules" ]] || \
     ! cmp -s "$here/tools/package-lock.json" "$here/tools/node_modules/.package-lock.json" 2>/dev/null; then
    (cd "$here/tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi
