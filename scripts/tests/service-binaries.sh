#!/usr/bin/env bash
# Every service binary: an invalid configuration stops it with exactly one line on stderr and
# exit code 2; --help exits 0; a minimal valid configuration passes check-config.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${SHIELDX_BIN_DIR:-$root/build/bin}"
pass=0
fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 48 /dev/urandom | base64 >"$tmp/key"
echo "host=127.0.0.1 dbname=x" >"$tmp/dsn"
for svc in orchestrator credits contauth shadow twin webapi; do
  b="$bin/shieldx-$svc"
  up=$(echo "$svc" | tr a-z A-Z)
  if [[ ! -x "$b" ]]; then echo "FAIL $svc: $b not built"; fail=$((fail + 1)); continue; fi
  env -i PATH="$PATH" "$b" --no-such-flag=1 >"$tmp/out" 2>"$tmp/err"; code=$?
  check "$svc: unknown flag exits 2 (got $code)" '[[ $code -eq 2 ]]'
  check "$svc: unknown flag prints one line" '[[ $(wc -l <"$tmp/err") -eq 1 && ! -s "$tmp/out" ]]'
  check "$svc: the line names the flag" 'grep -q -- "--no-such-flag" "$tmp/err"'
  env -i PATH="$PATH" "SHIELDX_${up}_GRPC_LISTEN=nonsense" "SHIELDX_${up}_PG_DSN_FILE=$tmp/dsn" \
    "SHIELDX_${up}_S3_ENDPOINT=http://127.0.0.1:1" "SHIELDX_${up}_AUDIT_HMAC_KEY_FILE=$tmp/key" \
    "SHIELDX_${up}_PROFILE_MASTER_KEY_FILE=$tmp/key" \
    "$b" check-config >"$tmp/out" 2>"$tmp/err"; code=$?
  # Variables for stores the service does not use are themselves errors; either way exit 2.
  check "$svc: bad grpc_listen exits 2 (got $code)" '[[ $code -eq 2 && $(wc -l <"$tmp/err") -eq 1 ]]'
  "$b" --help >"$tmp/out" 2>&1; code=$?
  check "$svc: --help exits 0" '[[ $code -eq 0 ]] && grep -q "SHIELDX_${up}_GRPC_LISTEN" "$tmp/out"'
done
echo "binaries: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
