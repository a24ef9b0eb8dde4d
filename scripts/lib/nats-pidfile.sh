# Shared by scripts/nats.sh and scripts/bus.sh (sourced): a nats-server started in the background
# and known by its pid file. The caller sets PIDFILE and defines say().

# The pid from the pid file, when that process is still a nats-server (a recycled pid is not ours).
running_pid() {
  [[ -f $PIDFILE ]] || return 1
  local pid
  pid=$(tr -dc '0-9' <"$PIDFILE")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q nats-server || return 1
  echo "$pid"
}

# Stops it: SIGTERM, then SIGKILL after 10 s; exits 0 either way (not running is fine).
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
