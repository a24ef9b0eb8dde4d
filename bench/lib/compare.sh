# Sourced by bench/*-compare.sh: two builds side by side. `compare_init <base> <head|--working-tree>
# <label> <kind>` builds snapshots of both (bench/snapshot.mjs) into $WORK and sets $OUT
# (bench/results/<stamp>-<kind>-compare-<label>.md), $BASE_NAME and $HEAD_NAME; `compare_rounds
# <rounds> <function>` calls `<function> <round> <variant> <apps root> <results dir>` for base and
# head in each round, alternating which goes first (the server's drift over a run falls on both);
# `compare_done` removes the snapshots.
compare_init() {
  local base=$1 head=$2 label=$3 kind=$4
  WORK=$(mktemp -d "/tmp/polystore-$kind-compare.XXXXXX")
  OUT=$ROOT/bench/results/$(date -u +%Y-%m-%dT%H-%M-%SZ)-$kind-compare-$label.md
  cd "$ROOT"
  node bench/snapshot.mjs "$WORK/base" "$base" >/dev/null
  node bench/snapshot.mjs "$WORK/head" "$head" >/dev/null
  BASE_NAME=$(git rev-parse --short "$base")
  HEAD_NAME=$([ "$head" = --working-tree ] && echo "the working tree on $(git rev-parse --short HEAD)" || git rev-parse --short "$head")
  MACHINE="$(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), Node $(node --version)"
}

compare_rounds() {
  local rounds=$1 run=$2 round variant order
  for round in $(seq 1 "$rounds"); do
    order="base head"
    ((round % 2 == 0)) && order="head base"
    for variant in $order; do
      "$run" "$round" "$variant" "$WORK/$variant" "$WORK/results-$variant-$round"
    done
  done
}

compare_done() {
  rm -rf "$WORK"
  echo "written $OUT"
}
