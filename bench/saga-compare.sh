#!/usr/bin/env bash
# Device registration over HTTP on two builds side by side: snapshots of <base> and <head> (a
# revision, or --working-tree), then bench/saga.mjs on each with BENCH_SAGA_EXISTING_DEVICES
# (5,000) devices registered beforehand, alternating (and alternating which goes first)
# BENCH_COMPARE_ROUNDS times (2). Only the HTTP round compares the builds (the bench's direct and
# in-process saga rounds run the repository's dist/). Writes
# bench/results/<stamp>-saga-compare-<label>.md.
#   bench/saga-compare.sh <base> <head | --working-tree> <label>
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib/compare.sh"
ROUNDS=${BENCH_COMPARE_ROUNDS:-2}
DEVICES=${BENCH_SAGA_EXISTING_DEVICES:-5000}
compare_init "${1:?base revision}" "${2:?head revision or --working-tree}" "${3:?label}" saga
{
  echo "# Device registration over HTTP: $BASE_NAME (base) and $HEAD_NAME (head), side by side"
  echo
  echo "Run on $MACHINE."
  echo "bench/saga.mjs with $DEVICES devices registered beforehand, 20 tenants, 50 clients, 10 s per round; rounds alternate which build goes first."
  echo
  echo "| round | build | registrations/s | p50 ms | p99 ms | errors | CPU ms per registration: gateway / PostgreSQL / all |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | --- |"
} >"$OUT"

one_run() { # round variant apps results
  BENCH_APPS_ROOT=$3 BENCH_SAGA_EXISTING_DEVICES=$DEVICES BENCH_DURATION_S=10 BENCH_RESULTS_DIR=$4 \
    node bench/saga.mjs >"$4.log" 2>&1
  local row
  row=$(node -e '
    const fs = require("fs");
    const dir = process.argv[1];
    const file = fs.readdirSync(dir).find((f) => f.endsWith("-saga-registrations.json"));
    const run = JSON.parse(fs.readFileSync(`${dir}/${file}`, "utf8"));
    const round = run.rounds.find((r) => r.kinds.includes("http"));
    const h = round.results.http, c = round.cpu.components;
    const all = Object.values(c).reduce((s, x) => s + x.msPerRequest, 0);
    console.log(`${h.perSecond.toFixed(1)} | ${Math.round(h.p50)} | ${Math.round(h.p99)} | ${h.errors} | ${c.gateway.msPerRequest.toFixed(2)} / ${c.postgres.msPerRequest.toFixed(2)} / ${all.toFixed(1)}`);
  ' "$4")
  echo "| $1 | $2 | $row |" >>"$OUT"
  echo "round $1 $2: $row"
}

compare_rounds "$ROUNDS" one_run
compare_done
