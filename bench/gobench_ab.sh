#!/usr/bin/env bash
# bench/gobench_ab.sh BEFORE [AFTER] — the defer engine's hot-path Go benchmarks (deferral's Hook*, rewrite's
# prefilter, cache and analysis) at two commits, in one run: the test binaries of both are built first, then run
# alternately, ROUNDS times COUNT runs each, so a change in machine load hits both alike; benchstat compares them.
# Every refactor of the engine runs it (docs/BENCHMARKS.md).
#
#   bench/gobench_ab.sh 9d8fc84                 # that commit against HEAD, 5 rounds x 2 = 10 samples per benchmark
#   ROUNDS=10 COUNT=1 bench/gobench_ab.sh main issue-9
set -euo pipefail
cd "$(dirname "$0")/.."

BEFORE=${1:?usage: bench/gobench_ab.sh BEFORE [AFTER]}
AFTER=${2:-HEAD}
ROUNDS=${ROUNDS:-5}
COUNT=${COUNT:-2}
HOOK=${HOOK:-Hook}
REWRITE=${REWRITE:-'^Benchmark(PrefilterMiss|PrefilterMissPgbench|CacheHit|CacheShapeHit|CacheHitRewrite|Analyze|AnalyzeRewrite)$'}
OUT=${OUT:-bench/results/ab-$(date -u +%Y%m%dT%H%M%SZ)}
BENCHSTAT=${BENCHSTAT:-$(command -v benchstat || echo "$(go env GOPATH)/bin/benchstat")}
[ -x "$BENCHSTAT" ] || { echo "benchstat not found: go install golang.org/x/perf/cmd/benchstat@latest" >&2; exit 1; }
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Both sides read the same corpus (the stripe models), whatever their own tree carries.
export DEFERPROXY_CORPUS=${DEFERPROXY_CORPUS:-$PWD/testdata/corpus}

for side in before after; do
  rev=$BEFORE; [ "$side" = after ] && rev=$AFTER
  mkdir -p "$WORK/$side"
  git archive "$rev" | tar -x -C "$WORK/$side"
  (cd "$WORK/$side" && go test -c -o deferral/deferral.test ./deferral && go test -c -o rewrite/rewrite.test ./rewrite)
  echo "# $side = $rev ($(git rev-parse --short "$rev"))" >"$OUT/$side.txt"
done
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq "$ROUNDS"); do
  for side in before after; do
    echo "round $r: $side" >&2
    (cd "$WORK/$side/deferral" && ./deferral.test -test.run '^$' -test.bench "$HOOK" -test.benchmem -test.count "$COUNT") \
      | grep -E '^(Benchmark|goos|goarch|pkg|cpu)' >>"$OUT/$side.txt"
    (cd "$WORK/$side/rewrite" && ./rewrite.test -test.run '^$' -test.bench "$REWRITE" -test.benchmem -test.count "$COUNT" \
      -test.benchtime 0.5s) | grep -E '^(Benchmark|goos|goarch|pkg|cpu)' >>"$OUT/$side.txt"
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$BENCHSTAT" "$OUT/before.txt" "$OUT/after.txt" | tee "$OUT/benchstat.txt"
