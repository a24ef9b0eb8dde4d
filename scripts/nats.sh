#!/usr/bin/env bash
# The project's device broker: its own nats-server in operator/JWT mode, with JetStream and the
# MQTT listener (see libs/device-broker/README.md). Not the NATS the services talk over (4222).
#
#   scripts/nats.sh start    start it in the background if nothing listens on the port yet (idempotent)
#   scripts/nats.sh stop     stop the instance this script started (pid file)
#   scripts/nats.sh status   exit 0 when something listens on the port, 3 otherwise
#
# Client port from DEVICE_BROKER_URL (default nats://127.0.0.1:4223), MQTT port EDGE_MQTT_PORT
# (default 1884); MQTT over TLS when EDGE_MQTT_TLS_CERT and EDGE_MQTT_TLS_KEY name PEM files. State
# in .polystore/nats/: nats.conf (written by `polystore broker config` on every start, so it needs
# `npm run build`), data/ (account JWTs, JetStream), nats.pid, nats.log. Every key derives from
# DEVICE_BROKER_KEY, or outside production from the `deviceBrokerKey` field of the development
# secrets file (DEV_SECRETS_FILE, default .polystore/dev-secrets.json; added when missing), the
# same one the apps use. No key is ever printed.
set -euo pipefail
umask 077

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=$ROOT/.polystore/nats
CONF=$STATE/nats.conf
PIDFILE=$STATE/nats.pid
LOG=$STATE/nats.log
CLI=$ROOT/dist/apps/cli/src/main.js
NATS_SERVER=${NATS_SERVER_BIN:-/usr/sbin/nats-server}
DEVICE_BROKER_URL=${DEVICE_BROKER_URL:-nats://127.0.0.1:4223}
MQTT_PORT=${EDGE_MQTT_PORT:-1884}

say() { echo "nats: $*"; }
# shellcheck source=lib/nats-pidfile.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/nats-pidfile.sh"
die() {
  echo "nats: $*" >&2
  exit 1
}

# --- DEVICE_BROKER_URL -> HOST, PORT -------------------------------------------------------------
if [[ $DEVICE_BROKER_URL =~ ^nats://([^@/]*@)?(\[[^]/]*\]|[^:/]*)(:([0-9]+))?/?$ ]]; then
  HOST=${BASH_REMATCH[2]}
  PORT=${BASH_REMATCH[4]:-4222}
else
  die "DEVICE_BROKER_URL must look like nats://host:port (got '${DEVICE_BROKER_URL}')"
fi
((PORT >= 1 && PORT <= 65535)) || die "DEVICE_BROKER_URL port ${PORT} is out of range"
[[ $MQTT_PORT =~ ^[0-9]+$ ]] && ((MQTT_PORT >= 1 && MQTT_PORT <= 65535)) ||
  die "EDGE_MQTT_PORT must be a port (got '${MQTT_PORT}')"
case $HOST in
  127.0.0.1 | localhost | '') LOCAL=1 ;;
  *) LOCAL=0 ;;
esac

open_on() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
port_open() { open_on 127.0.0.1 "$PORT"; }
mqtt_open() { open_on 127.0.0.1 "$MQTT_PORT"; }


log_tail() {
  tail -n 20 "$LOG" >&2 2>/dev/null || true
}

write_config() {
  [[ -f $CLI ]] || die "$CLI not found: run npm run build first"
  local tls=()
  if [[ -n ${EDGE_MQTT_TLS_CERT:-} || -n ${EDGE_MQTT_TLS_KEY:-} ]]; then
    tls=(--mqtt-tls-cert "${EDGE_MQTT_TLS_CERT:-}" --mqtt-tls-key "${EDGE_MQTT_TLS_KEY:-}")
  fi
  # From the repository root, so a relative DEV_SECRETS_FILE means what it means for the apps.
  (cd "$ROOT" && node "$CLI" broker config --dir "$STATE" --port "$PORT" --mqtt-port "$MQTT_PORT" \
    ${tls[@]+"${tls[@]}"} >/dev/null) || die "polystore broker config failed (see above)"
}

start() {
  if [[ $LOCAL -eq 0 ]]; then
    if open_on "$HOST" "$PORT"; then
      say "DEVICE_BROKER_URL points at ${HOST}:${PORT}, which is reachable; not managed by this script"
      exit 0
    fi
    die "DEVICE_BROKER_URL points at ${HOST}:${PORT}, which is not reachable, and this script only starts a local broker"
  fi
  if port_open; then
    local pid
    if pid=$(running_pid); then
      say "already running (pid $pid) on 127.0.0.1:$PORT (MQTT :$MQTT_PORT)"
    else
      say "something already listens on 127.0.0.1:$PORT (not started by this script); leaving it"
    fi
    exit 0
  fi
  [[ -x $NATS_SERVER ]] || die "$NATS_SERVER not found (apt-get install nats-server, or set NATS_SERVER_BIN)"
  mkdir -p "$STATE"
  write_config
  rm -f "$PIDFILE"
  # Startup errors (a bad config) go to stderr before the log file is open: keep them in the log.
  setsid "$NATS_SERVER" -c "$CONF" -P "$PIDFILE" -l "$LOG" </dev/null >>"$LOG" 2>&1 &
  local child=$!
  for _ in $(seq 1 200); do
    if port_open && mqtt_open; then
      say "started (pid $child) on 127.0.0.1:$PORT, MQTT on :$MQTT_PORT; log $LOG"
      exit 0
    fi
    kill -0 "$child" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$child" 2>/dev/null; then
    echo "nats: did not accept on 127.0.0.1:$PORT and :$MQTT_PORT within 20 s; stopping it; last log lines:" >&2
    kill -TERM "$child" 2>/dev/null || true
  else
    echo "nats: nats-server exited at start; last log lines:" >&2
  fi
  log_tail
  exit 1
}


status() {
  local pid
  if [[ $LOCAL -eq 0 ]]; then
    if open_on "$HOST" "$PORT"; then
      say "remote broker ${HOST}:${PORT} reachable"
      exit 0
    fi
    say "remote broker ${HOST}:${PORT} not reachable"
    exit 3
  fi
  if pid=$(running_pid); then
    if port_open && mqtt_open; then
      say "running (pid $pid) on 127.0.0.1:$PORT, MQTT on :$MQTT_PORT"
    else
      say "running (pid $pid) but not accepting on :$PORT and :$MQTT_PORT"
    fi
    exit 0
  fi
  if port_open; then
    say "something (not started by this script) listens on 127.0.0.1:$PORT"
    exit 0
  fi
  say "not running (127.0.0.1:$PORT)"
  exit 3
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
