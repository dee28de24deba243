#!/usr/bin/env bash
# Every ShieldX container in every rendered overlay starts with a configuration its binary
# accepts (see scripts/k8s-config-check.mjs).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${SHIELDX_BIN_DIR:-$root/build/bin}"
if ! command -v kubectl >/dev/null 2>&1; then
  echo "FAIL kubectl missing"; echo "k8s-config: 0 passed, 1 failed"; exit 1
fi
node "$root/scripts/k8s-config-check.mjs" "$root" "$bin"
