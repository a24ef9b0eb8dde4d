#!/usr/bin/env bash
# The read path with and without the signed request context, side by side on one build: a
# snapshot of <revision> (default: the working tree) as it is ("signed") and its twin whose
# signer adds nothing and whose stores' check accepts every message ("unsigned",
# bench/lib/unsign-snapshot.mjs), then bench/run.mjs at 1 tenant on each, alternating (and
# alternating which goes first), BENCH_CONTEXT_READ_ROUNDS times (4), and writes
# bench/results/<stamp>-context-read-path.md with each run's throughput and CPU per request.
#   bench/context-read.sh [<revision>]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REVISION=${1:---working-tree}
ROUNDS=${BENCH_CONTEXT_READ_ROUNDS:-4}
WORK=$(mktemp -d /tmp/polystore-context-read.XXXXXX)
STAMP=$(date -u +%Y-%m-%dT%H-%M-%SZ)
OUT=$ROOT/bench/results/$STAMP-context-read-path.md
cd "$ROOT"
node bench/snapshot.mjs "$WORK/signed" "$REVISION" >/dev/null
node bench/snapshot.mjs "$WORK/unsigned" "$REVISION" >/dev/null
node bench/lib/unsign-snapshot.mjs "$WORK/unsigned" >/dev/null
if [ "$REVISION" = --working-tree ]; then build="the working tree on $(git rev-parse --short HEAD)"; else build=$(git rev-parse --short "$REVISION"); fi
{
  echo "# Reading one customer with and without the signed request context"
  echo
  echo "Run $STAMP on $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), Node $(node --version)."
  echo "Both variants are one build ($build); unsigned: its signer adds nothing and its stores' check accepts every message (bench/lib/unsign-snapshot.mjs)."
  echo "bench/run.mjs at 1 tenant, 50 connections, 15 s per scenario, the floor measured in each run."
  echo
  echo "| round | variant | floor req/s | Polystore req/s | Polystore / floor | CPU ms/request: gateway / secure store / all |"
  echo "| --- | --- | --- | --- | --- | --- |"
} >"$OUT"
for round in $(seq 1 "$ROUNDS"); do
  # Alternate which goes first, so a drift of the machine's state does not favour one side.
  order="unsigned signed"
  ((round % 2 == 0)) && order="signed unsigned"
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
# Means of each variant, and signed / unsigned (raw, and normalized by each run's floor).
node - "$OUT" <<'JS' >>"$OUT"
const rows = require('node:fs').readFileSync(process.argv[2], 'utf8').split('\n')
  .filter((l) => /^\| \d+ \| (signed|unsigned) /.test(l)).map((l) => l.split('|').map((c) => c.trim()));
const mean = (v, i) => { const xs = rows.filter((r) => r[2] === v).map((r) => Number(r[i])); return xs.reduce((a, b) => a + b, 0) / xs.length; };
const [s, u, sn, un] = [mean('signed', 4), mean('unsigned', 4), mean('signed', 5), mean('unsigned', 5)];
console.log(`\nMeans: signed ${s.toFixed(0)} req/s, unsigned ${u.toFixed(0)} req/s: **signed / unsigned ${(s / u).toFixed(3)}x** raw, ${(sn / un).toFixed(3)}x normalized by each run's floor (target: at least 0.95x).`);
JS
cp "$OUT" "$ROOT/bench/results/latest-context-read-path.md"
rm -rf "$WORK"
echo "written $OUT"
