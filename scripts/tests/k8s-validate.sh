#!/usr/bin/env bash
# Offline validation of the Kubernetes manifests and Prometheus rules (run by `make test`
# through scripts/run-tests.sh):
#   - scripts/k8s-validate.mjs renders deploy/k8s/base, every overlay and every component with
#     `kubectl kustomize`, validates each object against the Kubernetes schemas
#     (npm kubernetes-models), rejects unknown fields, checks ShieldX policy (hardened pods,
#     probes, limits, ports, PDBs, NetworkPolicies, prod replicas = runbook, pinned images,
#     mTLS, documented secrets) and pilot/hardening/*.yml, and runs a self-test on broken
#     manifests;
#   - promtool check rules / promtool test rules on deploy/prometheus.
# Last line: "k8s: N passed, M failed". Exit status non-zero when anything failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

passed=0
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

missing=()
for tool in kubectl node promtool; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
for mod in kubernetes-models yaml; do [[ -d tools/node_modules/$mod ]] || missing+=("tools/node_modules/$mod"); done
if ((${#missing[@]})); then
  fail "missing ${missing[*]} (kubectl ships with the machine; the rest: bash scripts/install-deps.sh)"
  echo "k8s: $passed passed, $failed failed"
  exit 1
fi

# 1. Manifests.
out="$(node scripts/k8s-validate.mjs "$root" 2>&1)"
status=$?
echo "$out" | sed '$d'
last="$(echo "$out" | tail -n 1)"
if [[ "$last" =~ ^k8s:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  passed=$((passed + BASH_REMATCH[1]))
  failed=$((failed + BASH_REMATCH[2]))
  ((status == 0 || BASH_REMATCH[2] > 0)) || fail "k8s-validate.mjs exited $status"
else
  fail "k8s-validate.mjs did not report its counts (exit $status): $last"
fi

# 2. Prometheus rules: syntax, then unit tests (LowCreditBalance fires below 1000, not above).
shopt -s nullglob
rules=(deploy/prometheus/*.rules.yml)
tests=(deploy/prometheus/tests/*.test.yml)
((${#rules[@]})) || fail "no deploy/prometheus/*.rules.yml"
((${#tests[@]})) || fail "no deploy/prometheus/tests/*.test.yml"
for f in "${rules[@]}"; do
  if msg="$(promtool check rules "$f" 2>&1)"; then passed=$((passed + 1)); else fail "promtool check rules $f"; echo "$msg"; fi
done
for f in "${tests[@]}"; do
  if msg="$(promtool test rules "$f" 2>&1)"; then passed=$((passed + 1)); else fail "promtool test rules $f"; echo "$msg"; fi
done
echo "prometheus: ${#rules[@]} rule files checked, ${#tests[@]} rule test files run"

echo "k8s: $passed passed, $failed failed"
((failed == 0))
