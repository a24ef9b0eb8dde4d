#!/usr/bin/env bash
# The read path with and without the signed request context, side by side: builds snapshots of
# <base> (a revision before the signature, default f39f1c6^) and of the working tree, then runs
# bench/run.mjs at 1 tenant on each, alternating (and alternating which goes first),
# BENCH_CONTEXT_READ_ROUNDS times (4), and writes
# bench/results/<stamp>-context-read-path.md with each run's throughput and CPU per request.
#   bench/context-read.sh [<base revision>]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE=${1:-f39f1c6^}
ROUNDS=${BENCH_CONTEXT_READ_ROUNDS:-4}
WORK=$(mktemp -d /tmp/polystore-context-read.XXXXXX)
STAMP=$(date -u +%Y-%m-%dT%H-%M-%SZ)
OUT=$ROOT/bench/results/$STAMP-context-read-path.md
cd "$ROOT"
node bench/snapshot.mjs "$WORK/base" "$BASE" >/dev/null
node bench/snapshot.mjs "$WORK/signed" --working-tree >/dev/null
{
  echo "# Reading one customer with and without the signed request context"
  echo
  echo "Run $STAMP on $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), Node $(node --version)."
  echo "Base: $(git rev-parse --short "$BASE") (stores trust the tenant header); signed: the working tree on $(git rev-parse --short HEAD)."
  echo "bench/run.mjs at 1 tenant, 50 connections, 15 s per scenario, the floor measured in each run."
  echo
  echo "| round | variant | floor req/s | Polystore req/s | Polystore / floor | CPU ms/request: gateway / secure store / all |"
  echo "| --- | --- | --- | --- | --- | --- |"
} >"$OUT"
for round in $(seq 1 "$ROUNDS"); do
  # Alternate which goes first, so a drift of the machine's state does not favour one side.
  order="base signed"
  ((round % 2 == 0)) && order="signed base"
  for variant in $order; do
    dir=$WORK/results-$variant-$round
    BENCH_APPS_ROOT=$WORK/$variant BENCH_TENANTS=1 BENCH_CAP_VARIANT=0 BENCH_NAIVE_TENANTS=0 BENCH_DATABASE_TENANTS=0 \
      BENCH_ALL_STORES_TENANTS=0 BENCH_DURATION_S=15 BENCH_RESULTS_DIR=$dir node bench/run.mjs >"$dir.log" 2>&1
    floor=$(grep -E '^floor ' "$dir.log" | awk '{print $3}' | tr -d ,)
    poly=$(grep -E '^polystore-1 ' "$dir.log" | awk '{print $3}' | tr -d ,)
    md=$dir/latest-read-customer.md
    gateway=$(grep -oE 'spends [0-9.]+ ms in the gateway' "$md" | head -1 | grep -oE '[0-9.]+')
    store=$(grep -oE '[0-9.]+ ms in the secure store' "$md" | head -1 | grep -oE '^[0-9.]+')
    all=$(grep -oE '[0-9.]+ ms in all, [0-9.]+× the floor' "$md" | head -1 | grep -oE '^[0-9.]+')
    ratio=$(node -p "($poly / $floor).toFixed(3)")
    echo "| $round | $variant | $floor | $poly | $ratio | $gateway / $store / $all |" >>"$OUT"
    echo "round $round $variant: floor $floor, polystore $poly"
  done
done
cp "$OUT" "$ROOT/bench/results/latest-context-read-path.md"
rm -rf "$WORK"
echo "written $OUT"
