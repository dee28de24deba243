#!/usr/bin/env bash
# Runs every test suite. Called by `make test` after the build.
set -euo pipefail
build_dir="${1:-build}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

# Unit tests in parallel, then integration tests (they start real servers) with less
# parallelism so two cores are not oversubscribed.
(cd "$build_dir" && ctest --output-on-failure --no-tests=error -j "$(nproc)" -LE integration)
(cd "$build_dir" && ctest --output-on-failure -j 2 -L integration --no-tests=ignore)

for t in scripts/tests/*.sh; do
  [[ -e "$t" ]] || continue
  echo "== $t"
  bash "$t"
done
