#!/usr/bin/env bash
# The detection engine's headline figures on the development data (../shared/datasets/requests,
# not part of the repository): the issue's >= 99 % detection and <= 0.1 % false-positive
# targets and the CRS paranoia-1 floor, through build/bin/shieldx-inspect with the default
# profile. Skipped (0 passed, 0 failed) when the data is absent. See scripts/eval-detection.py.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${SHIELDX_BIN_DIR:-$root/build/bin}/shieldx-inspect"
if [[ ! -x "$bin" ]]; then
  echo "FAIL $bin missing (make build)"; echo "detect-figures: 0 passed, 1 failed"; exit 1
fi
python3 "$root/scripts/eval-detection.py" --inspect "$bin" --threads "$(nproc)" --check |
  grep -E "^(check:|detect-figures:|eval-detection:)"
exit "${PIPESTATUS[0]}"
