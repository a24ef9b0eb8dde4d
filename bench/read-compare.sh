#!/usr/bin/env bash
# Reading one customer on two builds side by side: snapshots of <base> and <head> (a revision, or
# --working-tree), then bench/run.mjs on each at BENCH_COMPARE_TENANTS tenant counts (default
# "1,50"), alternating (and alternating which goes first) BENCH_COMPARE_ROUNDS times (4), and
# writes bench/results/<stamp>-read-compare-<label>.md with each run's throughput, its ratio to the
# floor measured in the same run, and CPU per request.
#   bench/read-compare.sh <base> <head | --working-tree> <label>
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE=${1:?base revision}
HEAD_REV=${2:?head revision or --working-tree}
LABEL=${3:?label}
ROUNDS=${BENCH_COMPARE_ROUNDS:-4}
TENANTS=${BENCH_COMPARE_TENANTS:-1,50}
WORK=$(mktemp -d /tmp/polystore-read-compare.XXXXXX)
STAMP=$(date -u +%Y-%m-%dT%H-%M-%SZ)
OUT=$ROOT/bench/results/$STAMP-read-compare-$LABEL.md
cd "$ROOT"
node bench/snapshot.mjs "$WORK/base" "$BASE" >/dev/null
node bench/snapshot.mjs "$WORK/head" "$HEAD_REV" >/dev/null
head_name=$([ "$HEAD_REV" = --working-tree ] && echo "the working tree on $(git rev-parse --short HEAD)" || git rev-parse --short "$HEAD_REV")
{
  echo "# Reading one customer: $(git rev-parse --short "$BASE") (base) and $head_name (head), side by side"
  echo
  echo "Run $STAMP on $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), Node $(node --version)."
  echo "bench/run.mjs at $TENANTS tenant(s), 50 connections, 15 s per scenario, the floor measured in each run; rounds alternate which build goes first."
  echo
  echo "| round | build | floor req/s | tenants | Polystore req/s | Polystore / floor | CPU ms/request: gateway / secure store / all |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
} >"$OUT"
for round in $(seq 1 "$ROUNDS"); do
  order="base head"
  ((round % 2 == 0)) && order="head base"
  for variant in $order; do
    dir=$WORK/results-$variant-$round
    BENCH_APPS_ROOT=$WORK/$variant BENCH_TENANTS=$TENANTS BENCH_CAP_VARIANT=0 BENCH_NAIVE_TENANTS=0 BENCH_DATABASE_TENANTS=0 \
      BENCH_ALL_STORES_TENANTS=0 BENCH_DURATION_S=15 BENCH_RESULTS_DIR=$dir node bench/run.mjs >"$dir.log" 2>&1
    floor=$(grep -E '^floor ' "$dir.log" | awk '{print $3}' | tr -d ,)
    md=$dir/latest-read-customer.md
    for count in ${TENANTS//,/ }; do
      poly=$(grep -E "^polystore-$count " "$dir.log" | awk '{print $3}' | tr -d ,)
      cpu=$(node bench/lib/cpu-of.mjs "$dir/latest-read-customer.json" "polystore-$count" 2>/dev/null || echo "n/a")
      ratio=$(node -p "($poly / $floor).toFixed(3)")
      echo "| $round | $variant | $floor | $count | $poly | $ratio | $cpu |" >>"$OUT"
      echo "round $round $variant: floor $floor, polystore-$count $poly"
    done
  done
done
rm -rf "$WORK"
echo "written $OUT"
