#!/usr/bin/env bash
# A 3-node MariaDB Galera cluster on loopback for the high-reliability store (issue: the reliable
# store survives a database node). Development and tests only: `root` without a password on
# loopback, like the machine's own MariaDB on 3306, which stays the default server.
#
#   scripts/galera.sh start          start every node that is down (bootstrapping or recovering the
#                                    cluster when none runs); idempotent
#   scripts/galera.sh start-node N   start node N (1-3) alone: it joins the running cluster (IST/SST)
#   scripts/galera.sh stop           stop every node cleanly (the last one stopped is safe to bootstrap)
#   scripts/galera.sh stop-node N    stop node N cleanly
#   scripts/galera.sh status         each node's port, pid and wsrep state; exit 0 when all 3 are Synced
#   scripts/galera.sh url            the RELIABLE_SERVER_URL of the cluster (all three hosts)
#
# Ports: MariaDB GALERA_PORT_BASE+1..3 (default 3307, 3308, 3309); group communication 4567/4577/
# 4587, IST 4568/4578/4588, SST (rsync) 4444/4454/4464 (moved by 100 per unit of GALERA_PORT_BASE).
# State in GALERA_DIR (default .polystore/galera/): node<N>/data, node<N>/my.cnf,
# node<N>/error.log, node<N>/mariadbd.pid. The nodes run as the `mysql` user (GALERA_USER).
#
# Bootstrap and recovery follow the Galera rules: a new cluster is only ever started from one
# node (`--wsrep-new-cluster`), and after every node stopped, from the most advanced one:
# - the node whose grastate.dat says `safe_to_bootstrap: 1` (the last one stopped cleanly), else
# - after a crash of all nodes, the node with the highest seqno recovered by `--wsrep-recover`
#   (its grastate.dat is then marked safe to bootstrap, what `galera_new_cluster` expects).
# The other nodes then start normally and catch up from it (IST from its gcache, or a full SST).
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${GALERA_DIR:-$ROOT/.polystore/galera}
MARIADBD=${MARIADBD_BIN:-/usr/sbin/mariadbd}
PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
PORT_BASE=${GALERA_PORT_BASE:-3306}
# The nodes run as the system's MariaDB user (the rsync SST daemon started as root would write as
# `nobody`); the state folder is theirs, and the folders above it only traversable.
RUN_AS=${GALERA_USER:-mysql}
NODES=(1 2 3)

say() { echo "galera: $*"; }
die() {
  echo "galera: $*" >&2
  exit 1
}

port_of() { echo $((PORT_BASE + $1)); }
# Another GALERA_PORT_BASE moves the group-communication, IST and SST ports too (by 100 per 1).
OFFSET=$(((PORT_BASE - 3306) * 100))
gcomm_port() { echo $((4557 + 10 * $1 + OFFSET)); }
ist_port() { echo $((4558 + 10 * $1 + OFFSET)); }
sst_port() { echo $((4434 + 10 * $1 + OFFSET)); }
dir_of() { echo "$STATE/node$1"; }
pid_of() { cat "$(dir_of "$1")/mariadbd.pid" 2>/dev/null || true; }

alive() { # pid: a process that is not a zombie (a killed node may wait a while to be reaped)
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ ${stat##*) } != Z* ]]
}

running() { # node
  local pid
  pid=$(pid_of "$1")
  [[ -n $pid ]] && alive "$pid"
}

sql() { # node statement
  mariadb --protocol=tcp -h 127.0.0.1 -P "$(port_of "$1")" -u root --connect-timeout=2 -N -B -e "$2" 2>/dev/null
}

wsrep_state() { # node -> e.g. "Synced Primary 3"
  sql "$1" "SELECT CONCAT_WS(' ',
      (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='WSREP_LOCAL_STATE_COMMENT'),
      (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='WSREP_CLUSTER_STATUS'),
      (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='WSREP_CLUSTER_SIZE'))" || true
}

prepare_state() {
  mkdir -p "$STATE"
  [[ $(id -u) -eq 0 && $RUN_AS != root ]] || return 0
  chown -R "$RUN_AS:" "$STATE"
  # .polystore/ (mode 700: it holds the development secrets, files of mode 600): passable only.
  if [[ $STATE == "$ROOT/.polystore/"* ]]; then chmod o+x "$ROOT/.polystore"; fi
}

write_config() { # node
  local n=$1 dir members=() m
  dir=$(dir_of "$n")
  for m in "${NODES[@]}"; do members+=("127.0.0.1:$(gcomm_port "$m")"); done
  mkdir -p "$dir/data"
  prepare_state
  cat >"$dir/my.cnf" <<EOF
# Written by scripts/galera.sh on every start; edit the script, not this file.
[mysqld]
user = $RUN_AS
datadir = $dir/data
socket = $dir/mariadbd.sock
pid-file = $dir/mariadbd.pid
log-error = $dir/error.log
port = $(port_of "$n")
bind-address = 127.0.0.1
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
# What Galera needs: row-based binary log format, InnoDB, interleaved auto-increment locks.
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
# Durable on each node too: a cluster-wide power loss must not lose what was acknowledged.
innodb_flush_log_at_trx_commit = 1
innodb_buffer_pool_size = 64M
max_connections = 300
wsrep_on = ON
wsrep_provider = $PROVIDER
wsrep_cluster_name = polystore
wsrep_cluster_address = gcomm://$(
    IFS=,
    echo "${members[*]}"
  )
wsrep_node_name = node$n
wsrep_node_address = 127.0.0.1:$(gcomm_port "$n")
wsrep_sst_method = rsync
wsrep_sst_receive_address = 127.0.0.1:$(sst_port "$n")
# gcache: how much of the write-set history a node keeps for IST (a returning node catches up
# from it instead of copying everything); pc.recovery: a primary component that lost every node
# at once reforms by itself when they all come back. evs.*: how soon a silent node is declared
# gone. Until then the others can commit nothing (every write set waits for it), so this is the
# failover pause: 1.5 s here, on loopback; Galera's default, 5 s, suits a real network, where a
# shorter timeout evicts nodes on every latency spike (docs/operations.md).
wsrep_provider_options = "gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$(ist_port "$n");gcache.size=128M;pc.recovery=TRUE;evs.keepalive_period=PT0.5S;evs.inactive_check_period=PT0.5S;evs.suspect_timeout=PT1.5S;evs.inactive_timeout=PT3S;evs.install_timeout=PT3S"
# Reads wait until the node has applied every write set it has received (causality checks), so
# a read after a failover sees what the cluster acknowledged.
wsrep_sync_wait = 1
EOF
}

initialized() { [[ -d "$(dir_of "$1")/data/mysql" ]]; }

initialize() { # node: system tables, root without a password on loopback (development only)
  local dir
  dir=$(dir_of "$1")
  say "node $1: initializing $dir/data"
  mariadb-install-db --defaults-file="$dir/my.cnf" --auth-root-authentication-method=normal \
    --skip-test-db >"$dir/install.log" 2>&1 || {
    tail -n 20 "$dir/install.log" >&2
    die "node $1: mariadb-install-db failed"
  }
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

launch() { # node [extra mariadbd args...]
  local n=$1 dir
  shift
  dir=$(dir_of "$n")
  # Another folder's cluster (a second checkout, a CI clone) on the same ports: say so, plainly.
  if port_open "$(port_of "$n")"; then
    die "node $n: port $(port_of "$n") is taken by a process this folder did not start (not $dir): stop that cluster (its scripts/galera.sh stop) or set GALERA_PORT_BASE"
  fi
  rm -f "$dir/mariadbd.pid"
  # setsid: the node outlives the shell that started it, and a Ctrl-C there does not reach it.
  setsid "$MARIADBD" --defaults-file="$dir/my.cnf" "$@" >>"$dir/error.log" 2>&1 </dev/null &
}

wait_synced() { # node seconds
  local n=$1 deadline=$((SECONDS + $2)) state
  while ((SECONDS < deadline)); do
    state=$(wsrep_state "$n")
    if [[ $state == Synced\ Primary* ]]; then
      say "node $n: $state (port $(port_of "$n"))"
      return 0
    fi
    if [[ -f "$(dir_of "$n")/mariadbd.pid" ]] && ! running "$n"; then break; fi
    sleep 0.3
  done
  tail -n 30 "$(dir_of "$n")/error.log" >&2 || true
  die "node $n did not reach Synced within $2 s (last state: ${state:-down})"
}

grastate() { # node field
  sed -n "s/^$2:[[:space:]]*//p" "$(dir_of "$1")/data/grastate.dat" 2>/dev/null | head -n 1
}

recovered_seqno() { # node: the last committed seqno, from grastate.dat or --wsrep-recover
  local n=$1 dir seqno
  seqno=$(grastate "$n" seqno)
  if [[ -n $seqno && $seqno != -1 ]]; then
    echo "$seqno"
    return
  fi
  dir=$(dir_of "$n")
  rm -f "$dir/recover.log"
  "$MARIADBD" --defaults-file="$dir/my.cnf" --wsrep-recover --log-error="$dir/recover.log" >/dev/null 2>&1 || true
  # The line may run into the next one's timestamp (no newline): take the digits before it.
  seqno=$(perl -ne 'print "$1\n" if /Recovered position: [0-9a-f-]{36}:(-?\d+?)(?=\d{4}-\d\d-\d\d|\D|$)/' \
    "$dir/recover.log" | tail -n 1)
  echo "${seqno:--1}"
}

bootstrap_node() { # -> the node to start a new cluster from
  local n best='' best_seqno=-2 seqno
  for n in "${NODES[@]}"; do
    if [[ $(grastate "$n" safe_to_bootstrap) == 1 ]]; then
      echo "$n"
      return
    fi
  done
  for n in "${NODES[@]}"; do
    initialized "$n" || continue
    seqno=$(recovered_seqno "$n")
    if ((seqno > best_seqno)); then
      best=$n
      best_seqno=$seqno
    fi
  done
  [[ -n $best ]] || return 0
  say "no node was stopped last cleanly: node $best is the most advanced (seqno $best_seqno)" >&2
  sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$(dir_of "$best")/data/grastate.dat"
  echo "$best"
}

start_all() {
  local n any=0 first
  for n in "${NODES[@]}"; do write_config "$n"; done
  for n in "${NODES[@]}"; do running "$n" && any=1; done
  if ((any == 0)); then
    first=$(bootstrap_node)
    if [[ -z $first ]]; then
      first=1
      initialize 1
    fi
    say "node $first: bootstrapping the cluster"
    launch "$first" --wsrep-new-cluster
    wait_synced "$first" 60
  fi
  for n in "${NODES[@]}"; do
    running "$n" && continue
    say "node $n: joining"
    launch "$n"
  done
  for n in "${NODES[@]}"; do wait_synced "$n" 120; done
}

start_node() { # node
  local n=$1 m any=0
  write_config "$n"
  if running "$n"; then
    say "node $n already runs (pid $(pid_of "$n"))"
    return
  fi
  for m in "${NODES[@]}"; do running "$m" && any=1; done
  ((any == 1)) || die "no node runs: use 'start' to bootstrap the cluster"
  launch "$n"
  wait_synced "$n" 120
}

stop_node() { # node
  local n=$1 pid
  pid=$(pid_of "$n")
  if [[ -z $pid ]] || ! alive "$pid"; then return 0; fi
  kill -TERM "$pid"
  for _ in $(seq 1 600); do
    alive "$pid" || {
      say "node $n stopped"
      return 0
    }
    sleep 0.1
  done
  die "node $n (pid $pid) did not stop within 60 s"
}

status() {
  local n all=0 state
  for n in "${NODES[@]}"; do
    if running "$n"; then
      state=$(wsrep_state "$n")
      echo "node$n port=$(port_of "$n") pid=$(pid_of "$n") state=${state:-starting}"
      [[ $state == Synced\ Primary* ]] && all=$((all + 1))
    else
      echo "node$n port=$(port_of "$n") down"
    fi
  done
  ((all == ${#NODES[@]})) || return 3
}

url() {
  local n hosts=()
  for n in "${NODES[@]}"; do hosts+=("127.0.0.1:$(port_of "$n")"); done
  echo "mysql://root@$(
    IFS=,
    echo "${hosts[*]}"
  )"
}

node_arg() {
  [[ ${1:-} =~ ^[1-3]$ ]] || die "node must be 1, 2 or 3 (got '${1:-}')"
  echo "$1"
}

case ${1:-} in
  start) start_all ;;
  start-node) start_node "$(node_arg "${2:-}")" ;;
  stop)
    # In reverse order, so node 1 (stopped last) is the one safe to bootstrap next time.
    for n in 3 2 1; do stop_node "$n"; done
    ;;
  stop-node) stop_node "$(node_arg "${2:-}")" ;;
  status) status ;;
  url) url ;;
  *) die "usage: $0 start|start-node N|stop|stop-node N|status|url" ;;
esac
