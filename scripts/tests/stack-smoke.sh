#!/usr/bin/env bash
# Brings the whole local stack up in a scratch run directory on its own ports, checks what
# the Foundation issue requires of `make up`, and tears it down:
#   - every service ready; .run/endpoints.json written;
#   - Prometheus: up{job=~"shieldx-.*"} has six targets at 1, and
#     http_request_duration_seconds_bucket and http_requests_total{status} are scraped from
#     every service;
#   - the demo site through HAProxy + the orchestrator's SPOE agent: benign -> the "web" pool,
#     /beta diverted to "canary", SQL injection 403, /slow tarpitted, /login rate limited
#     (429 after 5), and shieldx_attacks_detected{tenant_id="demo"} counts the attack;
#   - the orchestrator's metered usage reaches the real credits service (balance goes down);
#   - a second `up` is a no-op (same pids);
#   - `down` stops everything it started and leaves an unrelated process alone.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export SHIELDX_RUN_DIR
SHIELDX_RUN_DIR="$(mktemp -d /tmp/shieldx-stack-XXXXXX)"
chmod 755 "$SHIELDX_RUN_DIR"
export SHIELDX_PORT_BASE="${SHIELDX_TEST_PORT_BASE:-27000}"
PROM="http://127.0.0.1:$((SHIELDX_PORT_BASE + 4))"
pass=0
fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

sleep 300 & bystander=$!   # an unrelated process `down` must not touch
cleanup() {
  bash "$ROOT/scripts/stack.sh" down >/dev/null 2>&1
  kill "$bystander" 2>/dev/null
  rm -rf "$SHIELDX_RUN_DIR"
}
trap cleanup EXIT

if bash "$ROOT/scripts/stack.sh" up >"$SHIELDX_RUN_DIR.up.log" 2>&1; then
  ok "stack up"
else
  bad "stack up: $(tail -n 5 "$SHIELDX_RUN_DIR.up.log")"
  for f in "$SHIELDX_RUN_DIR"/logs/*.log; do echo "== $f"; tail -n 5 "$f"; done
  echo "stack: $pass passed, $fail failed"
  exit 1
fi
rm -f "$SHIELDX_RUN_DIR.up.log"

python3 - "$SHIELDX_RUN_DIR/endpoints.json" <<'PY' && ok "endpoints.json lists six services and prometheus" || bad "endpoints.json"
import json, sys
e = json.load(open(sys.argv[1]))
assert set(e["services"]) == {"orchestrator", "credits", "contauth", "shadow", "twin", "webapi"}
assert e["prometheus"].startswith("http://127.0.0.1:")
assert e["haproxy"].startswith("http://demo.localhost:")
for s in e["services"].values():
    assert s["grpc"] and s["metrics"].endswith("/metrics")
PY

query() { curl -fsS --get "$PROM/api/v1/query" --data-urlencode "query=$1"; }
# Prometheus scrapes every 5 s: wait until all six targets report.
for _ in $(seq 1 60); do
  n=$(query 'count(up{job=~"shieldx-.*"} == 1)' | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
  [[ "$n" == "6" ]] && break
  sleep 1
done
[[ "$n" == "6" ]] && ok "up{job=~\"shieldx-.*\"}: 6 targets at 1" || bad "up targets at 1: $n"

# Readiness polls by the stack make the admin endpoints record HTTP metrics; wait one scrape.
for metric in 'http_request_duration_seconds_bucket' 'http_requests_total{status=~".+"}'; do
  for _ in $(seq 1 30); do
    jobs=$(query "count by (job) ($metric)" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))')
    [[ "$jobs" == "6" ]] && break
    sleep 1
  done
  [[ "$jobs" == "6" ]] && ok "$metric scraped from 6 services" || bad "$metric scraped from $jobs services"
done

# make up seeds the demo tenant's credits; the balance gauge the LowCreditBalance alert uses
# must report it.
for _ in $(seq 1 30); do
  bal=$(query 'shieldx_credits_balance{tenant_id="demo"}' | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")')
  [[ "$bal" == "100000" ]] && break
  sleep 1
done
[[ "$bal" == "100000" ]] && ok "shieldx_credits_balance{tenant_id=\"demo\"} = 100000" || bad "demo balance gauge: $bal"

# The demo site: HAProxy asks the orchestrator (SPOE) and enforces its decision.
HAPROXY="http://127.0.0.1:$((SHIELDX_PORT_BASE + 5))"
site() { curl -sS -H 'Host: demo.localhost' "$@"; }
body=$(site "$HAPROXY/products?page=2")
[[ "$body" == "demo upstream: web" ]] && ok "demo site: benign request reaches the web pool" || bad "demo site /: $body"
body=$(site "$HAPROXY/beta/new")
[[ "$body" == "demo upstream: canary" ]] && ok "demo site: /beta diverted to the canary pool" || bad "demo site /beta: $body"
code=$(site -o /dev/null -w '%{http_code}' "$HAPROXY/search?q=1%27%20OR%20%271%27=%271")
[[ "$code" == "403" ]] && ok "demo site: SQL injection answered 403" || bad "demo site SQLi: $code"
t=$(site -o /dev/null -w '%{http_code} %{time_total}' "$HAPROXY/slow")
if [[ ${t%% *} == 200 ]] && python3 -c "import sys; sys.exit(0 if float('${t#* }') >= 0.9 else 1)"; then
  ok "demo site: /slow tarpitted ($t)"
else
  bad "demo site /slow: $t"
fi
codes=""
for _ in 1 2 3 4 5 6; do codes+="$(site -o /dev/null -w '%{http_code}' "$HAPROXY/login") "; done
[[ "$codes" == "200 200 200 200 200 429 " ]] && ok "demo site: /login 429 after 5" || bad "demo site /login: $codes"
for _ in $(seq 1 30); do
  n=$(query 'sum(shieldx_attacks_detected{tenant_id="demo"})' | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
  [[ "$n" != "0" ]] && break
  sleep 1
done
[[ "$n" != "0" ]] && ok "shieldx_attacks_detected{tenant_id=\"demo\"} = $n" || bad "attack not counted"

# The orchestrator meters the demo tenant's requests and flushes the usage to the real credits
# service (ConsumeBatch, every 5 s): the balance goes down.
for _ in $(seq 1 40); do
  avail=$("$ROOT/build/bin/shieldx-credits-cli" --target "127.0.0.1:$((SHIELDX_PORT_BASE + 101))" \
    balance --tenant demo 2>/dev/null | sed -n 's/.*available \([0-9-]*\).*/\1/p')
  [[ -n $avail && $avail -lt 100000 ]] && break
  sleep 0.5
done
[[ -n $avail && $avail -lt 100000 ]] && ok "demo requests charged to the tenant's credits (available $avail)" \
  || bad "demo tenant's credits not charged: available ${avail:-?}"

before=$(cat "$SHIELDX_RUN_DIR"/pids/*.pid | sort | tr '\n' ' ')
bash "$ROOT/scripts/stack.sh" up >/dev/null 2>&1 && ok "second up succeeds" || bad "second up failed"
after=$(cat "$SHIELDX_RUN_DIR"/pids/*.pid | sort | tr '\n' ' ')
[[ "$before" == "$after" ]] && ok "second up started nothing new" || bad "second up changed pids"

pids=$(cat "$SHIELDX_RUN_DIR"/pids/*.pid)
bash "$ROOT/scripts/stack.sh" down >/dev/null 2>&1
alive=0
for p in $pids; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
[[ $alive -eq 0 ]] && ok "down stopped every process it started" || bad "$alive processes survived down"
kill -0 "$bystander" 2>/dev/null && ok "down left an unrelated process alone" || bad "down killed a bystander"
if (exec 3<>"/dev/tcp/127.0.0.1/$((SHIELDX_PORT_BASE + 1))") 2>/dev/null; then
  bad "postgresql still running after down"
else
  ok "postgresql stopped"
fi

echo "stack: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
