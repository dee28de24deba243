#!/usr/bin/env bash
# Detection / false-positive evaluation on the development data (see eval-detection.py).
# Skips cleanly (exit 0) when ../shared/datasets/requests is absent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/eval-detection.py" "$@"
