#!/usr/bin/env bash
# Provisioning tenants on two builds side by side: snapshots of <base> and <head> (a revision, or
# --working-tree), then bench/run.mjs on each, alternating (and alternating which goes first)
# BENCH_COMPARE_ROUNDS times (3): BENCH_COMPARE_SECURE_TENANTS (200) tenants in the secure store
# only, then BENCH_COMPARE_ALL_TENANTS (100) in all three stores, 8 at a time (reads: 1 tenant, 2 s,
# not compared). Writes bench/results/<stamp>-provision-compare-<label>.md with tenants/s and the
# CPU per tenant of PostgreSQL, MariaDB and the stores.
#   bench/provision-compare.sh <base> <head | --working-tree> <label>
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib/compare.sh"
ROUNDS=${BENCH_COMPARE_ROUNDS:-3}
SECURE=${BENCH_COMPARE_SECURE_TENANTS:-200}
ALL=${BENCH_COMPARE_ALL_TENANTS:-100}
compare_init "${1:?base revision}" "${2:?head revision or --working-tree}" "${3:?label}" provision
{
  echo "# Provisioning tenants: $BASE_NAME (base) and $HEAD_NAME (head), side by side"
  echo
  echo "Run on $MACHINE."
  echo "bench/run.mjs: $SECURE tenants in the secure store only, then $ALL in all three stores, 8 at a time; rounds alternate which build goes first."
  echo
  echo "| round | build | run | tenants/s | p50 ms | CPU ms per tenant: PostgreSQL / MariaDB / stores / gateway / all |"
  echo "| --- | --- | --- | ---: | ---: | --- |"
} >"$OUT"

row() { # json key
  node -e '
    const [file, key] = process.argv.slice(1);
    const p = JSON.parse(require("fs").readFileSync(file, "utf8")).provisioning[key];
    const c = p.cpu.components, ms = (n) => (c[n]?.msPerRequest ?? 0);
    const stores = ms("secure") + ms("reliable") + ms("edge");
    const all = Object.values(c).reduce((s, x) => s + x.msPerRequest, 0);
    console.log(`${p.tenantsPerSecond.toFixed(1)} | ${Math.round(p.latencyMs.p50)} | ${ms("postgres").toFixed(0)} / ${ms("mariadb").toFixed(0)} / ${stores.toFixed(0)} / ${ms("gateway").toFixed(0)} / ${all.toFixed(0)}`);
  ' "$1" "$2"
}

one_run() { # round variant apps results
  BENCH_APPS_ROOT=$3 BENCH_TENANTS=1,$SECURE BENCH_CAP_VARIANT=0 BENCH_NAIVE_TENANTS=0 BENCH_DATABASE_TENANTS=0 \
    BENCH_ALL_STORES_TENANTS=$ALL BENCH_DURATION_S=2 BENCH_WARMUP_S=1 BENCH_RESULTS_DIR=$4 node bench/run.mjs >"$4.log" 2>&1
  local json
  json=$(ls "$4"/*-read-customer.json | head -n 1)
  for key in secure allStores; do echo "| $1 | $2 | $key | $(row "$json" "$key") |" >>"$OUT"; done
  echo "round $1 $2: $(grep -E 'tenants/s \(p50' "$4.log" | tr -s ' ' | tr '\n' ';')"
}

compare_rounds "$ROUNDS" one_run
compare_done
