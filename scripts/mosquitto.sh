#!/usr/bin/env bash
# The project's own Mosquitto: device authentication and per-device ACLs through the dynamic
# security plugin (see apps/edge-store/src/broker/README.md). Not the machine's default broker.
#
#   scripts/mosquitto.sh start    start it daemonized if nothing listens on the port yet (idempotent)
#   scripts/mosquitto.sh stop     stop the instance this script started (pid file)
#   scripts/mosquitto.sh status   exit 0 when something listens on the port, 3 otherwise
#
# Port from MQTT_URL (default mqtt://127.0.0.1:1884). State in .polystore/mosquitto/: generated
# mosquitto.conf, dynamic-security.json (clients, roles, ACLs), data/ (persistence), mosquitto.pid,
# mosquitto.log. Admin account `polystore-admin`, password MQTT_ADMIN_PASSWORD, the password in
# MQTT_URL, or the `mqttAdminPassword` field of the development secrets file (DEV_SECRETS_FILE, default
# .polystore/dev-secrets.json, mode 0600; added when missing). The password is never printed.
set -euo pipefail
umask 077

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=$ROOT/.polystore/mosquitto
CONF=$STATE/mosquitto.conf
DYNSEC=$STATE/dynamic-security.json
PIDFILE=$STATE/mosquitto.pid
LOG=$STATE/mosquitto.log
DATA=$STATE/data
SECRETS=${DEV_SECRETS_FILE:-.polystore/dev-secrets.json}
[[ $SECRETS == /* ]] || SECRETS=$ROOT/$SECRETS
MOSQUITTO=${MOSQUITTO_BIN:-/usr/sbin/mosquitto}
PLUGIN=${MOSQUITTO_DYNSEC_PLUGIN:-/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so}
ADMIN_USER=polystore-admin
MQTT_URL=${MQTT_URL:-mqtt://127.0.0.1:1884}

say() { echo "mosquitto: $*"; }
die() {
  echo "mosquitto: $*" >&2
  exit 1
}

# --- MQTT_URL -> HOST, PORT ----------------------------------------------------------------------
if [[ $MQTT_URL =~ ^(mqtt|tcp)://([^@/]*@)?(\[[^]/]*\]|[^:/]*)(:([0-9]+))?/?$ ]]; then
  USERINFO=${BASH_REMATCH[2]%@}
  HOST=${BASH_REMATCH[3]}
  PORT=${BASH_REMATCH[5]:-1883}
else
  die "MQTT_URL must look like mqtt://host:port (got '${MQTT_URL}'); TLS (mqtts://) is not managed by this script"
fi
((PORT >= 1 && PORT <= 65535)) || die "MQTT_URL port ${PORT} is out of range"
case $HOST in
  127.0.0.1 | localhost | '') LOCAL=1 ;;
  *) LOCAL=0 ;;
esac

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
remote_open() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

# The pid from the pid file, when that process is still a mosquitto (a recycled pid is not ours).
running_pid() {
  [[ -f $PIDFILE ]] || return 1
  local pid
  pid=$(tr -dc '0-9' <"$PIDFILE")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q mosquitto || return 1
  echo "$pid"
}

# Prints the admin password (for capture only), in the order the apps resolve it
# (libs/runtime resolveMqttAdminPassword): MQTT_ADMIN_PASSWORD, the password in MQTT_URL, else the
# secrets file's mqttAdminPassword, generated and added when missing. A secrets file created here also gets the
# masterKey/adminToken the apps expect (libs/runtime developmentSecrets), so they can share it.
admin_password() {
  if [[ -n ${MQTT_ADMIN_PASSWORD:-} ]]; then
    printf '%s' "$MQTT_ADMIN_PASSWORD"
    return
  fi
  command -v node >/dev/null || die "node is needed to read the admin password"
  if [[ $USERINFO == *:* && -n ${USERINFO#*:} ]]; then
    ENCODED=${USERINFO#*:} node -e 'process.stdout.write(decodeURIComponent(process.env.ENCODED))'
    return
  fi
  command -v node >/dev/null || die "node is needed to read ${SECRETS}"
  SECRETS_FILE=$SECRETS node --input-type=module -e '
    import { randomBytes } from "node:crypto";
    import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
    import { dirname } from "node:path";
    const file = process.env.SECRETS_FILE;
    const fresh = () => randomBytes(24).toString("base64url");
    let secrets;
    try {
      secrets = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      if (error.code !== "ENOENT") {
        process.stderr.write(`mosquitto: cannot read ${file}: ${error.message}\n`);
        process.exit(1);
      }
      mkdirSync(dirname(file), { recursive: true });
      const created = { masterKey: randomBytes(32).toString("base64"), adminToken: fresh(), mqttAdminPassword: fresh() };
      try {
        writeFileSync(file, JSON.stringify(created, null, 2), { flag: "wx", mode: 0o600 });
        process.stderr.write(`\n*** WARNING: generated development secrets in ${file} (mode 0600).\n\n`);
        secrets = created;
      } catch {
        secrets = JSON.parse(readFileSync(file, "utf8")); // created meanwhile by an app of the stack
      }
    }
    if (typeof secrets.mqttAdminPassword !== "string" || secrets.mqttAdminPassword.length === 0) {
      secrets.mqttAdminPassword = fresh();
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(secrets, null, 2), { mode: 0o600 });
      renameSync(temporary, file);
    }
    chmodSync(file, 0o600);
    process.stdout.write(secrets.mqttAdminPassword);
  '
}

# Whether the broker on the port accepts the admin credentials: an MQTT 3.1.1 CONNECT written with
# node's core modules (node_modules may not be installed yet), password passed by environment.
admin_login_ok() {
  ADMIN_PASSWORD=$1 ADMIN_USER=$ADMIN_USER PORT=$PORT node --input-type=module -e '
    import { connect } from "node:net";
    const str = (s) => { const b = Buffer.from(s, "utf8"); const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]); };
    const body = Buffer.concat([str("MQTT"), Buffer.from([4, 0xc2, 0, 10]), str(`polystore-script-${process.pid}`),
      str(process.env.ADMIN_USER), str(process.env.ADMIN_PASSWORD)]);
    const length = []; let n = body.length;
    do { let byte = n % 128; n = Math.floor(n / 128); if (n > 0) byte |= 0x80; length.push(byte); } while (n > 0);
    const socket = connect({ host: "127.0.0.1", port: Number(process.env.PORT) });
    const timer = setTimeout(() => process.exit(2), 3000);
    socket.on("connect", () => socket.write(Buffer.concat([Buffer.from([0x10, ...length]), body])));
    socket.on("data", (data) => {
      clearTimeout(timer);
      const ok = data[0] === 0x20 && data[3] === 0;
      socket.end(Buffer.from([0xe0, 0]));
      process.exit(ok ? 0 : 1);
    });
    socket.on("error", () => process.exit(2));
  '
}

write_config() {
  {
    echo "# Generated by scripts/mosquitto.sh on every start: edit the script, not this file."
    echo "per_listener_settings false"
    echo "# Without it replies wait for Nagle: about 40 ms per dynamic-security command and PUBACK."
    echo "set_tcp_nodelay true"
    echo "listener $PORT 127.0.0.1"
    echo "allow_anonymous false"
    echo "plugin $PLUGIN"
    echo "plugin_opt_config_file $DYNSEC"
    echo "# One consumer must not be capped at 20 in-flight QoS 1 messages; queue, do not drop."
    echo "max_inflight_messages 0"
    echo "max_queued_messages 1000000"
    echo "max_queued_bytes 0"
    echo "persistence true"
    echo "persistence_location $DATA/"
    echo "pid_file $PIDFILE"
    echo "log_dest file $LOG"
    echo "log_timestamp_format %Y-%m-%dT%H:%M:%S"
    # As root, Mosquitto drops to user `mosquitto`, which cannot use these 0600/0700 files.
    if [[ $(id -u) -eq 0 ]]; then echo "user root"; fi
  } >"$CONF"
}

start() {
  if [[ $LOCAL -eq 0 ]]; then
    if remote_open; then
      say "MQTT_URL points at ${HOST}:${PORT}, which is reachable; not managed by this script"
      exit 0
    fi
    die "MQTT_URL points at ${HOST}:${PORT}, which is not reachable, and this script only starts a local broker"
  fi
  if port_open; then
    local pid
    if pid=$(running_pid); then
      say "already running (pid $pid) on 127.0.0.1:$PORT"
    else
      say "something already listens on 127.0.0.1:$PORT (not started by this script); leaving it"
    fi
    exit 0
  fi
  [[ -x $MOSQUITTO ]] || die "$MOSQUITTO not found (apt-get install mosquitto)"
  [[ -f $PLUGIN ]] || die "dynamic security plugin $PLUGIN not found"
  command -v mosquitto_ctrl >/dev/null || die "mosquitto_ctrl not found (apt-get install mosquitto-clients)"
  mkdir -p "$STATE" "$DATA"
  local password
  password=$(admin_password) || die "cannot get the admin password"
  [[ -n $password ]] || die "empty admin password"
  if [[ ! -f $DYNSEC ]]; then
    mosquitto_ctrl dynsec init "$DYNSEC" "$ADMIN_USER" "$password" >/dev/null ||
      die "mosquitto_ctrl dynsec init failed"
    say "initialised $DYNSEC (admin $ADMIN_USER)"
  fi
  write_config
  rm -f "$PIDFILE"
  local output
  # Its stderr is kept for failures only (as root it always warns about running as root).
  output=$("$MOSQUITTO" -c "$CONF" -d 2>&1) || die "mosquitto failed to start: ${output:-see $LOG}"
  for _ in $(seq 1 100); do
    if port_open; then
      if admin_login_ok "$password"; then
        say "started (pid $(running_pid || echo '?')) on 127.0.0.1:$PORT; log $LOG"
      else
        say "started on 127.0.0.1:$PORT, but the admin password does not match $DYNSEC;" \
          "delete that file to re-initialise it (this drops every device grant)" >&2
      fi
      exit 0
    fi
    if ! running_pid >/dev/null && [[ -f $PIDFILE ]]; then break; fi
    sleep 0.1
  done
  echo "mosquitto: did not accept connections on 127.0.0.1:$PORT within 10 s; last log lines:" >&2
  tail -n 20 "$LOG" >&2 2>/dev/null || true
  exit 1
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$PIDFILE"
    say "not running (no live pid in $PIDFILE)"
    exit 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      say "stopped (pid $pid)"
      exit 0
    fi
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  say "killed (pid $pid) after 10 s"
}

status() {
  local pid
  if [[ $LOCAL -eq 0 ]]; then
    if remote_open; then say "remote broker ${HOST}:${PORT} reachable"; exit 0; fi
    say "remote broker ${HOST}:${PORT} not reachable"
    exit 3
  fi
  if pid=$(running_pid); then
    if port_open; then say "running (pid $pid) on 127.0.0.1:$PORT"; else say "running (pid $pid) but not accepting on :$PORT"; fi
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
