#!/usr/bin/env bash
# The project's authenticated bus: its own nats-server with an NKey user per service and subject
# permissions per service (libs/messaging/src/bus-auth.ts), JetStream on. Not the machine's open
# NATS on 4222 (which tests use for speed); `npm run stack` runs on this one.
#
#   scripts/bus.sh start            write the config (seeds created once) and start it if nothing listens;
#                                   if this script's instance runs, reload it with the config written again
#   scripts/bus.sh stop             stop the instance this script started (pid file)
#   scripts/bus.sh status           exit 0 when something listens on the port, 3 otherwise
#   scripts/bus.sh revoke <service> give <service> a new seed and reload: its old credentials are refused
#
# Port BUS_PORT (4225). State in .polystore/bus/: nats.conf, creds/<service>.nk (each service's
# seed, mode 0600: give a service only its own, as NATS_NKEY_SEED_FILE), data/, nats.pid, nats.log.
# The config is written by `polystore bus config`, so it needs `npm run build`. No seed is printed.
# BUS_TLS_CERT/BUS_TLS_KEY (PEM files) turn on TLS for the client port.
set -euo pipefail
umask 077

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=$ROOT/.polystore/bus
PIDFILE=$STATE/nats.pid
LOG=$STATE/nats.log
CLI=$ROOT/dist/apps/cli/src/main.js
NATS_SERVER=${NATS_SERVER_BIN:-/usr/sbin/nats-server}
PORT=${BUS_PORT:-4225}

say() { echo "bus: $*"; }
# shellcheck source=lib/nats-pidfile.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/nats-pidfile.sh"
die() {
  echo "bus: $*" >&2
  exit 1
}
[[ $PORT =~ ^[0-9]+$ ]] && ((PORT >= 1 && PORT <= 65535)) || die "BUS_PORT must be a port (got '${PORT}')"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }


cli() {
  [[ -f $CLI ]] || die "$CLI not found: run npm run build first"
  local tls=()
  # BUS_TLS_CERT and BUS_TLS_KEY (PEM files): TLS on the client port; clients need tls:// and NATS_TLS_CA_FILE.
  if [[ -n ${BUS_TLS_CERT:-} || -n ${BUS_TLS_KEY:-} ]]; then tls=(--tls-cert "${BUS_TLS_CERT:-}" --tls-key "${BUS_TLS_KEY:-}"); fi
  (cd "$ROOT" && node "$CLI" bus "$@" --dir "$STATE" --port "$PORT" "${tls[@]}" >/dev/null) || die "polystore bus $1 failed (see above)"
}

start() {
  if port_open; then
    local pid
    if pid=$(running_pid); then
      # Written again and reloaded: permissions a newer version needs (a store's replay memory) apply at once.
      cli config
      "$NATS_SERVER" --signal "reload=$pid" >/dev/null
      say "already running (pid $pid) on 127.0.0.1:$PORT; its config written again and reloaded"
    else
      say "something already listens on 127.0.0.1:$PORT (not started by this script); leaving it"
    fi
    exit 0
  fi
  [[ -x $NATS_SERVER ]] || die "$NATS_SERVER not found (apt-get install nats-server, or set NATS_SERVER_BIN)"
  cli config
  rm -f "$PIDFILE"
  setsid "$NATS_SERVER" -c "$STATE/nats.conf" -P "$PIDFILE" -l "$LOG" </dev/null >>"$LOG" 2>&1 &
  local child=$!
  for _ in $(seq 1 200); do
    if port_open; then
      say "started (pid $child) on 127.0.0.1:$PORT; credentials in $STATE/creds; log $LOG"
      exit 0
    fi
    kill -0 "$child" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$child" 2>/dev/null || true
  echo "bus: nats-server did not accept on 127.0.0.1:$PORT; last log lines:" >&2
  tail -n 20 "$LOG" >&2 2>/dev/null || true
  exit 1
}


status() {
  local pid
  if pid=$(running_pid); then say "running (pid $pid) on 127.0.0.1:$PORT"; exit 0; fi
  if port_open; then say "something (not started by this script) listens on 127.0.0.1:$PORT"; exit 0; fi
  say "not running (127.0.0.1:$PORT)"
  exit 3
}

revoke() {
  [[ -n ${1:-} ]] || die "usage: $0 revoke <service>"
  cli revoke "$1"
  local pid
  if pid=$(running_pid); then
    "$NATS_SERVER" --signal "reload=$pid" >/dev/null
    say "$1 has a new seed ($STATE/creds/$1.nk); the server reloaded: its old credentials are refused"
  else
    say "$1 has a new seed ($STATE/creds/$1.nk); the server is not running"
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  revoke) revoke "${2:-}" ;;
  *)
    echo "usage: $0 start|stop|status|revoke <service>" >&2
    exit 2
    ;;
esac
