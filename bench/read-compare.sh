#!/usr/bin/env bash
# Reading one customer on two builds side by side: snapshots of <base> and <head> (a revision, or
# --working-tree), then bench/run.mjs on each at BENCH_COMPARE_TENANTS tenant counts (default
# "1,50"), alternating (and alternating which goes first) BENCH_COMPARE_ROUNDS times (4), and
# writes bench/results/<stamp>-read-compare-<label>.md with each run's throughput, its ratio to the
# floor measured in the same run, and CPU per request.
#   bench/read-compare.sh <base> <head | --working-tree> <label>
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib/compare.sh"
ROUNDS=${BENCH_COMPARE_ROUNDS:-4}
TENANTS=${BENCH_COMPARE_TENANTS:-1,50}
compare_init "${1:?base revision}" "${2:?head revision or --working-tree}" "${3:?label}" read
{
  echo "# Reading one customer: $BASE_NAME (base) and $HEAD_NAME (head), side by side"
  echo
  echo "Run on $MACHINE."
  echo "bench/run.mjs at $TENANTS tenant(s), 50 connections, 15 s per scenario, the floor measured in each run; rounds alternate which build goes first."
  echo
  echo "| round | build | floor req/s | tenants | Polystore req/s | Polystore / floor | CPU ms/request: gateway / secure store / all |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
} >"$OUT"

one_run() { # round variant apps results
  BENCH_APPS_ROOT=$3 BENCH_TENANTS=$TENANTS BENCH_CAP_VARIANT=0 BENCH_NAIVE_TENANTS=0 BENCH_DATABASE_TENANTS=0 \
    BENCH_ALL_STORES_TENANTS=0 BENCH_DURATION_S=15 BENCH_RESULTS_DIR=$4 node bench/run.mjs >"$4.log" 2>&1
  local floor poly cpu ratio count json
  floor=$(grep -E '^floor ' "$4.log" | awk '{print $3}' | tr -d ,)
  json=$(ls "$4"/*-read-customer.json | head -n 1)
  for count in ${TENANTS//,/ }; do
    poly=$(grep -E "^polystore-$count " "$4.log" | awk '{print $3}' | tr -d ,)
    cpu=$(node bench/lib/cpu-of.mjs "$json" "polystore-$count" 2>/dev/null || echo "n/a")
    ratio=$(node -p "($poly / $floor).toFixed(3)")
    echo "| $1 | $2 | $floor | $count | $poly | $ratio | $cpu |" >>"$OUT"
    echo "round $1 $2: floor $floor, polystore-$count $poly"
  done
}

compare_rounds "$ROUNDS" one_run
compare_done
