#!/usr/bin/env bash
# The local ShieldX stack: real PostgreSQL, Redis, S3 (s3rver), Prometheus, the six services,
# and HAProxy (asking the orchestrator over SPOE) in front of a demo application (nginx serving
# the pools "web" and "canary"), on loopback, all state under .run/ (ignored by git). The demo
# tenant gets credits and a site for demo.localhost:  curl http://demo.localhost:17005/
#
#   scripts/stack.sh up       start what is not running (safe to repeat), wait until ready
#   scripts/stack.sh down     stop everything this script started, and nothing else
#   scripts/stack.sh status   show what runs
#
# Ports are fixed so URLs stay stable; override with SHIELDX_PORT_BASE (default 17000).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${SHIELDX_RUN_DIR:-$ROOT/.run}"
BIN="${SHIELDX_BIN_DIR:-$ROOT/build/bin}"
BASE="${SHIELDX_PORT_BASE:-17000}"
SERVICES=(orchestrator credits contauth shadow twin webapi)

PG_PORT=$((BASE + 1)); REDIS_PORT=$((BASE + 2)); S3_PORT=$((BASE + 3)); PROM_PORT=$((BASE + 4))
HAPROXY_PORT=$((BASE + 5))                                     # clients: the protected demo site
DEMO_WEB_PORT=$((BASE + 10)); DEMO_CANARY_PORT=$((BASE + 11))  # the demo application's pools
SPOE_PORT=$((BASE + 20)); AUTHZ_PORT=$((BASE + 21))            # orchestrator: SPOE, forward-auth
DEMO_HOST=demo.localhost
grpc_port() { echo $((BASE + 100 + $1)); }   # service index -> gRPC port
admin_port() { echo $((BASE + 200 + $1)); }  # service index -> admin (metrics/health) port

PG_BIN=/usr/lib/postgresql/15/bin
S3_BUCKET=shieldx
log() { printf 'shieldx: %s\n' "$*"; }
die() { printf 'shieldx: error: %s\n' "$*" >&2; exit 1; }

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  local port=$1 what=$2 tries=${3:-150}
  for ((i = 0; i < tries; i++)); do port_busy "$port" && return 0; sleep 0.1; done
  die "$what did not open 127.0.0.1:$port (see $RUN/logs)"
}
# Refuses to start on a port that something else (not ours) holds.
claim_port() {
  local port=$1 what=$2 pidfile=$3
  if port_busy "$port" && ! pid_alive "$pidfile"; then
    die "port $port needed for $what is in use by another process; set SHIELDX_PORT_BASE"
  fi
}

as_pg() {  # PostgreSQL refuses to run as root: drop to the postgres user when we are root.
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

secret() {  # A random secret generated once per local stack, mode 0600 under .run/secrets.
  local f="$RUN/secrets/$1"
  if [[ ! -s "$f" ]]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f"
    chmod 600 "$f"
  fi
  echo "$f"
}

start_postgres() {
  local data="$RUN/pg/data"
  mkdir -p "$RUN/pg"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$RUN/pg"; chmod 755 "$RUN"; fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    as_pg "$PG_BIN/initdb" -D "$data" -A trust -U shieldx -E UTF8 --no-sync >"$RUN/logs/initdb.log" 2>&1 \
      || die "initdb failed (see $RUN/logs/initdb.log)"
  fi
  if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then return; fi
  claim_port "$PG_PORT" postgresql /nonexistent
  touch "$RUN/logs/postgres.log"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$RUN/logs/postgres.log"
  as_pg "$PG_BIN/pg_ctl" -D "$data" -w -l "$RUN/logs/postgres.log" \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $RUN/pg -c max_connections=200" start >/dev/null \
    || die "postgresql did not start (see $RUN/logs/postgres.log)"
}

ensure_databases() {
  local svc db
  for svc in "${SERVICES[@]}"; do
    db="shieldx_$svc"
    if ! psql -h 127.0.0.1 -p "$PG_PORT" -U shieldx -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
      psql -h 127.0.0.1 -p "$PG_PORT" -U shieldx -d postgres -qc "CREATE DATABASE $db" >/dev/null
    fi
  done
}

start_redis() {
  local pidfile="$RUN/pids/redis.pid"
  pid_alive "$pidfile" && return
  claim_port "$REDIS_PORT" redis "$pidfile"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --daemonize yes --pidfile "$pidfile" --logfile "$RUN/logs/redis.log" --dir "$RUN/redis"
  wait_port "$REDIS_PORT" redis
}

start_s3() {
  local pidfile="$RUN/pids/s3.pid"
  pid_alive "$pidfile" && return
  claim_port "$S3_PORT" s3rver "$pidfile"
  local s3rver="$ROOT/tools/node_modules/.bin/s3rver"
  [[ -x "$s3rver" ]] || die "s3rver missing: run scripts/install-deps.sh"
  # s3rver encrypts list continuation tokens with DES, which Node 20 only allows with the
  # legacy OpenSSL provider (shipped with libssl3).
  NODE_OPTIONS=--openssl-legacy-provider nohup "$s3rver" -a 127.0.0.1 -p "$S3_PORT" -d "$RUN/s3" --configure-bucket "$S3_BUCKET" \
    >"$RUN/logs/s3.log" 2>&1 &
  echo $! >"$pidfile"
  wait_port "$S3_PORT" s3rver
}

start_prometheus() {
  local pidfile="$RUN/pids/prometheus.pid"
  pid_alive "$pidfile" && return
  claim_port "$PROM_PORT" prometheus "$pidfile"
  {
    echo "global: {scrape_interval: 5s, evaluation_interval: 5s}"
    echo "rule_files: ['$ROOT/deploy/prometheus/*.rules.yml']"
    echo "scrape_configs:"
    for i in "${!SERVICES[@]}"; do
      echo "  - job_name: shieldx-${SERVICES[$i]}"
      echo "    static_configs: [{targets: ['127.0.0.1:$(admin_port "$i")']}]"
    done
  } >"$RUN/prometheus/prometheus.yml"
  nohup prometheus --config.file "$RUN/prometheus/prometheus.yml" \
    --storage.tsdb.path "$RUN/prometheus/data" --web.listen-address "127.0.0.1:$PROM_PORT" \
    >"$RUN/logs/prometheus.log" 2>&1 &
  echo $! >"$pidfile"
  wait_port "$PROM_PORT" prometheus
}

# What each service owns and calls; must match services/<svc>/config.h (an unknown
# SHIELDX_<SVC>_* variable is a start-up error).
declare -A NEEDS=(
  [orchestrator]="pg redis s3" [credits]="pg redis" [contauth]="pg redis"
  [shadow]="pg s3" [twin]="pg s3" [webapi]="pg redis")
declare -A PEERS=(
  [orchestrator]="credits contauth shadow" [credits]="" [contauth]=""
  [shadow]="credits" [twin]="credits shadow" [webapi]="orchestrator credits contauth shadow twin")

service_index() { local i; for i in "${!SERVICES[@]}"; do [[ ${SERVICES[$i]} == "$1" ]] && echo "$i"; done; }

service_env() {  # The environment a service runs with (config layer: env > defaults).
  local svc=$1 i=$2 up peer
  up=$(echo "$svc" | tr a-z A-Z)
  echo "SHIELDX_${up}_GRPC_LISTEN=127.0.0.1:$(grpc_port "$i")"
  echo "SHIELDX_${up}_ADMIN_LISTEN=127.0.0.1:$(admin_port "$i")"
  echo "SHIELDX_${up}_ENVIRONMENT=development"
  echo "SHIELDX_${up}_DRAIN_DEADLINE=5s"
  if [[ " ${NEEDS[$svc]} " == *" pg "* ]]; then
    echo "SHIELDX_${up}_PG_DSN_FILE=$RUN/secrets/pg_dsn_$svc"
  fi
  if [[ " ${NEEDS[$svc]} " == *" redis "* ]]; then
    echo "SHIELDX_${up}_REDIS_ADDR=127.0.0.1:$REDIS_PORT"
  fi
  if [[ " ${NEEDS[$svc]} " == *" s3 "* ]]; then
    echo "SHIELDX_${up}_S3_ENDPOINT=http://127.0.0.1:$S3_PORT"
    echo "SHIELDX_${up}_S3_BUCKET=$S3_BUCKET"
    echo "SHIELDX_${up}_S3_ACCESS_KEY=S3RVER"
    echo "SHIELDX_${up}_S3_SECRET_KEY_FILE=$RUN/secrets/s3_secret_key"
  fi
  for peer in ${PEERS[$svc]}; do
    echo "SHIELDX_${up}_$(echo "$peer" | tr a-z A-Z)_TARGET=127.0.0.1:$(grpc_port "$(service_index "$peer")")"
  done
  for extra in "${EXTRA_ENV[@]}"; do
    [[ $extra == "SHIELDX_${up}_"* ]] && echo "$extra"
  done
  return 0
}

start_service() {
  local svc=$1 i=$2
  local pidfile="$RUN/pids/$svc.pid"
  pid_alive "$pidfile" && return
  local bin="$BIN/shieldx-$svc"
  [[ -x "$bin" ]] || die "$bin not built: run make build"
  claim_port "$(grpc_port "$i")" "$svc gRPC" "$pidfile"
  claim_port "$(admin_port "$i")" "$svc admin" "$pidfile"
  printf 'host=127.0.0.1 port=%s user=shieldx dbname=shieldx_%s' "$PG_PORT" "$svc" \
    >"$RUN/secrets/pg_dsn_$svc"
  chmod 600 "$RUN/secrets/pg_dsn_$svc"
  local -a envs
  mapfile -t envs < <(service_env "$svc" "$i")
  env "${envs[@]}" nohup "$bin" >>"$RUN/logs/$svc.log" 2>&1 &
  echo $! >"$pidfile"
}

wait_ready() {
  local svc=$1 i=$2 url
  url="http://127.0.0.1:$(admin_port "$i")/readyz"
  for ((t = 0; t < 300; t++)); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    pid_alive "$RUN/pids/$svc.pid" || die "$svc exited during start-up: $(tail -n 3 "$RUN/logs/$svc.log")"
    sleep 0.1
  done
  die "$svc not ready after 30 s: $(curl -s "$url" 2>&1 | head -c 400)"
}

seed_demo() {  # The demo tenant: credit account, site/pools/rules (idempotent: reruns are no-ops).
  "$BIN/shieldx-credits-cli" --target "127.0.0.1:$(grpc_port "$(service_index credits)")" \
    seed-demo --tenant demo --credits 100000 >>"$RUN/logs/seed.log" 2>&1 \
    || die "seeding the demo tenant's credits failed (see $RUN/logs/seed.log)"
  "$BIN/shieldx-orchestrator-cli" --target "127.0.0.1:$(grpc_port "$(service_index orchestrator)")" \
    seed-demo --tenant demo --host "$DEMO_HOST" --upstream "127.0.0.1:$DEMO_WEB_PORT" \
    --canary "127.0.0.1:$DEMO_CANARY_PORT" >>"$RUN/logs/seed.log" 2>&1 \
    || die "seeding the demo tenant's site failed (see $RUN/logs/seed.log)"
}

start_demo_upstream() {  # nginx serving the demo pools (deploy/demo/upstream-nginx.conf).
  local pidfile="$RUN/pids/demo-upstream.pid" prefix="$RUN/demo-upstream" sub
  pid_alive "$pidfile" && return
  claim_port "$DEMO_WEB_PORT" "demo upstream (web)" "$pidfile"
  claim_port "$DEMO_CANARY_PORT" "demo upstream (canary)" "$pidfile"
  mkdir -p "$prefix"
  for sub in client_body proxy fastcgi uwsgi scgi; do mkdir -p "$prefix/$sub"; done
  if [[ $(id -u) -eq 0 ]]; then chmod 777 "$prefix"/{client_body,proxy,fastcgi,uwsgi,scgi}; fi
  sed -e "s|\${SHIELDX_DEMO_PREFIX}|$prefix|g" \
      -e "s|\${SHIELDX_DEMO_WEB_LISTEN}|127.0.0.1:$DEMO_WEB_PORT|g" \
      -e "s|\${SHIELDX_DEMO_CANARY_LISTEN}|127.0.0.1:$DEMO_CANARY_PORT|g" \
      "$ROOT/deploy/demo/upstream-nginx.conf" >"$prefix/nginx.conf"
  nohup /usr/sbin/nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" \
    -g 'daemon off;' >"$RUN/logs/demo-upstream.log" 2>&1 &
  echo $! >"$pidfile"
  wait_port "$DEMO_WEB_PORT" "demo upstream"
}

start_haproxy() {  # deploy/haproxy/haproxy.cfg, asking the orchestrator's SPOE agent.
  local pidfile="$RUN/pids/haproxy.pid"
  pid_alive "$pidfile" && return
  claim_port "$HAPROXY_PORT" haproxy "$pidfile"
  SHIELDX_HAPROXY_BIND="127.0.0.1:$HAPROXY_PORT" SHIELDX_HAPROXY_DIR="$ROOT/deploy/haproxy" \
    SHIELDX_SPOE_ADDR="127.0.0.1:$SPOE_PORT" SHIELDX_DEFAULT_UPSTREAM="127.0.0.1:$DEMO_WEB_PORT" \
    nohup /usr/sbin/haproxy -db -f "$ROOT/deploy/haproxy/haproxy.cfg" \
    >>"$RUN/logs/haproxy.log" 2>&1 &
  echo $! >"$pidfile"
  wait_port "$HAPROXY_PORT" haproxy
}

write_endpoints() {
  {
    echo "{"
    echo "  \"postgres\": \"postgresql://shieldx@127.0.0.1:$PG_PORT/\","
    echo "  \"redis\": \"redis://127.0.0.1:$REDIS_PORT\","
    echo "  \"s3\": \"http://127.0.0.1:$S3_PORT\","
    echo "  \"prometheus\": \"http://127.0.0.1:$PROM_PORT\","
    echo "  \"haproxy\": \"http://$DEMO_HOST:$HAPROXY_PORT\","
    echo "  \"haproxy_address\": \"127.0.0.1:$HAPROXY_PORT\","
    echo "  \"forward_auth\": \"http://127.0.0.1:$AUTHZ_PORT\","
    echo "  \"demo_upstreams\": {\"web\": \"http://127.0.0.1:$DEMO_WEB_PORT\", \"canary\": \"http://127.0.0.1:$DEMO_CANARY_PORT\"},"
    echo "  \"services\": {"
    for i in "${!SERVICES[@]}"; do
      local sep=","; [[ $i -eq $((${#SERVICES[@]} - 1)) ]] && sep=""
      echo "    \"${SERVICES[$i]}\": {\"grpc\": \"127.0.0.1:$(grpc_port "$i")\", \"metrics\": \"http://127.0.0.1:$(admin_port "$i")/metrics\", \"ready\": \"http://127.0.0.1:$(admin_port "$i")/readyz\"}$sep"
    done
    echo "  }"
    echo "}"
  } >"$RUN/endpoints.json.tmp"
  mv "$RUN/endpoints.json.tmp" "$RUN/endpoints.json"
}

# Service-specific settings of the local stack (secrets as files under .run/secrets).
EXTRA_ENV=()

cmd_up() {
  mkdir -p "$RUN"/{logs,pids,redis,s3,prometheus,secrets}
  chmod 700 "$RUN/secrets"
  printf 'S3RVER' >"$RUN/secrets/s3_secret_key"  # s3rver's fixed local credentials
  chmod 600 "$RUN/secrets/s3_secret_key"
  EXTRA_ENV+=("SHIELDX_CREDITS_AUDIT_HMAC_KEY_FILE=$(secret credits_audit_hmac_key)")
  EXTRA_ENV+=("SHIELDX_CONTAUTH_PROFILE_MASTER_KEY_FILE=$(secret contauth_profile_master_key)")
  EXTRA_ENV+=("SHIELDX_ORCHESTRATOR_SPOE_LISTEN=127.0.0.1:$SPOE_PORT")
  EXTRA_ENV+=("SHIELDX_ORCHESTRATOR_AUTHZ_HTTP_LISTEN=127.0.0.1:$AUTHZ_PORT")
  claim_port "$SPOE_PORT" "orchestrator SPOE" "$RUN/pids/orchestrator.pid"
  claim_port "$AUTHZ_PORT" "orchestrator forward-auth" "$RUN/pids/orchestrator.pid"
  start_postgres
  ensure_databases
  start_redis
  start_s3
  start_prometheus
  for i in "${!SERVICES[@]}"; do start_service "${SERVICES[$i]}" "$i"; done
  for i in "${!SERVICES[@]}"; do wait_ready "${SERVICES[$i]}" "$i"; done
  start_demo_upstream
  seed_demo
  start_haproxy
  write_endpoints
  log "up. endpoints in $RUN/endpoints.json"
  log "prometheus  http://127.0.0.1:$PROM_PORT"
  log "demo site   http://$DEMO_HOST:$HAPROXY_PORT/  (HAProxy + ShieldX; try /beta, /slow, /login)"
  for i in "${!SERVICES[@]}"; do
    printf '  %-13s grpc 127.0.0.1:%s  metrics http://127.0.0.1:%s/metrics\n' \
      "${SERVICES[$i]}" "$(grpc_port "$i")" "$(admin_port "$i")"
  done
}

stop_pidfile() {
  local pidfile=$1 name=$2
  if pid_alive "$pidfile"; then
    local pid; pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    for ((t = 0; t < 100; t++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    log "stopped $name"
  fi
  rm -f "$pidfile"
}

cmd_down() {
  [[ -d "$RUN" ]] || { log "nothing to stop"; return; }
  local svc
  stop_pidfile "$RUN/pids/haproxy.pid" haproxy
  stop_pidfile "$RUN/pids/demo-upstream.pid" "demo upstream"
  for svc in "${SERVICES[@]}"; do stop_pidfile "$RUN/pids/$svc.pid" "$svc"; done
  stop_pidfile "$RUN/pids/prometheus.pid" prometheus
  stop_pidfile "$RUN/pids/s3.pid" s3rver
  stop_pidfile "$RUN/pids/redis.pid" redis
  if [[ -f "$RUN/pg/data/PG_VERSION" ]] && as_pg "$PG_BIN/pg_ctl" -D "$RUN/pg/data" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$RUN/pg/data" -m fast -w stop >/dev/null && log "stopped postgresql"
  fi
}

cmd_status() {
  for f in "$RUN"/pids/*.pid; do
    [[ -e "$f" ]] || continue
    local n; n=$(basename "$f" .pid)
    if pid_alive "$f"; then echo "$n: running (pid $(cat "$f"))"; else echo "$n: stopped"; fi
  done
  if [[ -f "$RUN/pg/data/PG_VERSION" ]] && as_pg "$PG_BIN/pg_ctl" -D "$RUN/pg/data" status >/dev/null 2>&1; then
    echo "postgresql: running"
  else
    echo "postgresql: stopped"
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
