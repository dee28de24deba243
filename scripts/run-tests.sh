#!/usr/bin/env bash
# Runs every test suite: unit tests, integration tests against real servers, then the script
# suites in scripts/tests (manifests, binaries, local stack, fuzzing). Called by `make test`
# after the build. Every suite runs even when an earlier one failed; the last line totals them:
#   "all: N passed, M failed"
set -uo pipefail
build_dir="${1:-build}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
passed=0
failed=0
status=0

# ctest prints "100% tests passed, 0 tests failed out of 686".
count_ctest() {
  local line total bad
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$1" | tail -n 1)
  if [[ -z "$line" ]]; then failed=$((failed + 1)); return; fi
  bad=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* tests failed out of ([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + total - bad))
  failed=$((failed + bad))
}

# Unit tests in parallel, then integration tests (they start real servers) two at a time.
(cd "$build_dir" && ctest --output-on-failure --no-tests=error -j "$(nproc)" -LE integration) \
  2>&1 | tee "$log_dir/unit.log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
count_ctest "$log_dir/unit.log"
(cd "$build_dir" && ctest --output-on-failure --no-tests=error -j 2 -L integration) \
  2>&1 | tee "$log_dir/integration.log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
count_ctest "$log_dir/integration.log"

# Script suites end with "<name>: N passed, M failed".
for t in scripts/tests/*.sh; do
  [[ -e "$t" ]] || continue
  echo "== $t"
  SHIELDX_BIN_DIR="$here/$build_dir/bin" bash "$t" 2>&1 | tee "$log_dir/script.log"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  line=$(grep -E "^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed" "$log_dir/script.log" | tail -n 1)
  if [[ -n "$line" ]]; then
    passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")))
    failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
  else
    failed=$((failed + 1))
  fi
done

echo "all: $passed passed, $failed failed"
exit "$status"
