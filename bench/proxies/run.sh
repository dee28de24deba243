#!/usr/bin/env bash
# bench/proxies: what a proxy in front of an application costs, end to end, in one run on the
# same machine and the same upstream (the demo application of `make up`, nginx answering a
# fixed text):
#   bare        HAProxy 2.6 forwarding, no inspection (the floor)
#   shieldx     HAProxy 2.6 + ShieldX over SPOE: the real orchestrator binary with the demo
#               tenant's configuration (detection, rules, routing, rate-limit checks,
#               metering, decision log to Redis -> PostgreSQL), as `make up` runs it
#   nginx-authz nginx 1.22 + auth_request to ShieldX's forward-auth endpoint
#   modsec      nginx 1.22 + ModSecurity 3 (libnginx-mod-http-modsecurity) + OWASP CRS 3.3,
#               paranoia level 1, inbound anomaly threshold 5 (the anchor)
# Load: wrk, one thread, CONNS connections, DURATION seconds per proxy, a typical browser GET
# (query arguments, 7 headers, a cookie). Everything shares the machine's cores: wrk, the
# proxy, the upstream and (for ShieldX) the orchestrator and its stores.
#
#   bench/proxies/run.sh                       # needs build/bin (make build), wrk, the module
#   DURATION=20 CONNS=64 bench/proxies/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-32}"
BASE="${SHIELDX_BENCH_PORT_BASE:-28000}"
MODSEC_MODULE=/usr/lib/nginx/modules/ngx_http_modsecurity_module.so
CRS_SETUP=/etc/modsecurity/crs/crs-setup.conf
CRS_RULES=/usr/share/modsecurity-crs/rules

command -v wrk >/dev/null || { echo "bench/proxies: wrk is missing (scripts/install-deps.sh)" >&2; exit 2; }
[[ -f $MODSEC_MODULE ]] || { echo "bench/proxies: $MODSEC_MODULE missing (libnginx-mod-http-modsecurity)" >&2; exit 2; }
[[ -x $ROOT/build/bin/shieldx-orchestrator ]] || { echo "bench/proxies: run make build first" >&2; exit 2; }

RUN="$(mktemp -d /tmp/shieldx-bench-proxies-XXXXXX)"
chmod 755 "$RUN"
export SHIELDX_RUN_DIR="$RUN/stack" SHIELDX_PORT_BASE="$BASE"
UPSTREAM="127.0.0.1:$((BASE + 10))"      # the stack's demo application ("web" pool)
SHIELDX_HAPROXY="127.0.0.1:$((BASE + 5))" # the stack's HAProxy + SPOE
AUTHZ="127.0.0.1:$((BASE + 21))"          # the orchestrator's forward-auth endpoint
BARE="127.0.0.1:$((BASE + 30))"
MODSEC="127.0.0.1:$((BASE + 31))"
NGINX_AUTHZ="127.0.0.1:$((BASE + 32))"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bash "$ROOT/scripts/stack.sh" down >/dev/null 2>&1 || true
  rm -rf "$RUN"
}
trap cleanup EXIT

echo "bench/proxies: starting the ShieldX stack (ports $BASE+)" >&2
bash "$ROOT/scripts/stack.sh" up >"$RUN/stack-up.log" 2>&1 || { tail -n 20 "$RUN/stack-up.log" >&2; exit 1; }

wait_port() {
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null && return 0; sleep 0.1; done
  echo "bench/proxies: nothing listens on $1" >&2; exit 1
}

# bare HAProxy: the same global/default settings as deploy/haproxy/haproxy.cfg, no filter.
cat >"$RUN/bare.cfg" <<CFG
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 10s
frontend bare_in
    bind $BARE
    default_backend app
backend app
    http-reuse always
    server app $UPSTREAM
CFG
haproxy -db -f "$RUN/bare.cfg" >"$RUN/bare.log" 2>&1 &
pids+=($!)

nginx_prefix() {
  mkdir -p "$1"
  for sub in client_body proxy fastcgi uwsgi scgi; do mkdir -p "$1/$sub"; chmod 777 "$1/$sub"; done
}

# nginx + ModSecurity + CRS (PL1, threshold 5), proxying to the same upstream.
nginx_prefix "$RUN/modsec"
cat >"$RUN/modsec/modsec.conf" <<CFG
Include $ROOT/bench/detect/modsec-engine.conf
Include $CRS_SETUP
Include $ROOT/bench/detect/modsec-crs-pl1.conf
Include $CRS_RULES/*.conf
CFG
cat >"$RUN/modsec/nginx.conf" <<CFG
load_module $MODSEC_MODULE;
worker_processes auto;
pid $RUN/modsec/nginx.pid;
error_log $RUN/modsec/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $RUN/modsec/client_body;
    proxy_temp_path $RUN/modsec/proxy;
    fastcgi_temp_path $RUN/modsec/fastcgi;
    uwsgi_temp_path $RUN/modsec/uwsgi;
    scgi_temp_path $RUN/modsec/scgi;
    upstream app { server $UPSTREAM; keepalive 64; }
    server {
        listen $MODSEC;
        modsecurity on;
        modsecurity_rules_file $RUN/modsec/modsec.conf;
        location / {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }
    }
}
CFG
nginx -p "$RUN/modsec" -e "$RUN/modsec/error.log" -c "$RUN/modsec/nginx.conf" -g 'daemon off;' \
  >"$RUN/modsec.out" 2>&1 &
pids+=($!)

# nginx + auth_request to ShieldX: deploy/nginx/nginx.conf rendered like the tests do.
nginx_prefix "$RUN/authz"
sed -e "s|\${SHIELDX_NGINX_PREFIX}|$RUN/authz|g" -e "s|\${SHIELDX_NGINX_LISTEN}|$NGINX_AUTHZ|g" \
    -e "s|\${SHIELDX_AUTHZ_ADDR}|$AUTHZ|g" -e "s|\${SHIELDX_DEFAULT_UPSTREAM}|$UPSTREAM|g" \
    "$ROOT/deploy/nginx/nginx.conf" >"$RUN/authz/nginx.conf"
nginx -p "$RUN/authz" -e "$RUN/authz/error.log" -c "$RUN/authz/nginx.conf" -g 'daemon off;' \
  >"$RUN/authz.out" 2>&1 &
pids+=($!)

for a in "$BARE" "$MODSEC" "$NGINX_AUTHZ" "$SHIELDX_HAPROXY"; do wait_port "$a"; done
# Every inspected request costs the demo tenant a credit: enough for any run.
"$ROOT/build/bin/shieldx-credits-cli" --target "127.0.0.1:$((BASE + 101))" top-up --tenant demo \
  --credits 100000000 --reference "bench-proxies-$(date +%s)" --provider promotion \
  --note "bench/proxies load" >/dev/null

cat >"$RUN/request.lua" <<'LUA'
wrk.method = "GET"
wrk.path = "/products?category=garden&page=2&sort=price_asc"
wrk.headers["Host"] = "demo.localhost"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
wrk.headers["Accept-Language"] = "en-GB,en;q=0.7"
wrk.headers["Accept-Encoding"] = "gzip, deflate"
wrk.headers["Referer"] = "http://demo.localhost/products?category=garden"
wrk.headers["Cookie"] = "session=4f1c2a9e8b7d6c5a; theme=dark"
LUA

# Sanity: every proxy forwards the request (and ModSecurity blocks an attack).
for a in "$BARE" "$MODSEC" "$NGINX_AUTHZ" "$SHIELDX_HAPROXY"; do
  body=$(curl -sS -H 'Host: demo.localhost' "http://$a/products?page=2")
  [[ $body == "demo upstream: web" ]] || { echo "bench/proxies: $a answered: $body" >&2; exit 1; }
done
for a in "$MODSEC" "$SHIELDX_HAPROXY"; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Host: demo.localhost' "http://$a/?id=1%27%20OR%20%271%27=%271")
  [[ $code == 403 ]] || { echo "bench/proxies: $a did not block SQL injection ($code)" >&2; exit 1; }
done

run() {  # name address
  wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$RUN/request.lua" "http://$2" >"$RUN/$1.wrk" 2>&1 || true
  python3 - "$1" "$RUN/$1.wrk" <<'PY'
import re, sys
name, text = sys.argv[1], open(sys.argv[2]).read()
def lat(p):
    m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)\s*$" % p, text, re.M)
    if not m: return "?"
    v, u = float(m.group(1)), m.group(2)
    return "%.2f ms" % (v / 1000 if u == "us" else v * 1000 if u == "s" else v)
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = re.search(r"Socket errors:(.*)", text)
print("| %-11s | %9s | %9s | %9s | %9s | %s |" % (name, rps.group(1) if rps else "?", lat("50"), lat("90"), lat("99"),
      "non-2xx %s%s" % (non2xx.group(1) if non2xx else "0", ("; socket errors:" + errors.group(1)) if errors else "")))
PY
}

echo "bench/proxies: $DURATION s per proxy, wrk -t1 -c$CONNS, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| proxy       |   req/s   |    p50    |    p90    |    p99    | notes |"
echo "|---|---|---|---|---|---|"
for target in "bare $BARE" "shieldx $SHIELDX_HAPROXY" "nginx-authz $NGINX_AUTHZ" "modsec $MODSEC"; do
  # shellcheck disable=SC2086
  run $target
  sleep 1
done
