#!/usr/bin/env bash
# bench/instr_ab.sh BEFORE [AFTER] — the defer engine's hot-path benchmarks at two commits, counted in instructions
# per operation by valgrind's cachegrind instead of timed. An instruction count does not depend on what else the
# machine is doing, so a refactor can be judged on a busy machine; gobench_ab.sh (time, allocations) needs a quiet one.
#
# Each benchmark runs twice under cachegrind, at N and 2N iterations (-test.benchtime Nx): the difference of the two
# totals, divided by N, is the cost of one operation without the test binary's start-up and fixtures. N is chosen so
# that N operations are a few hundred million instructions, which keeps the start-up's own variation (garbage
# collection timing, ±1 M instructions) under 1 %.
#
#   bench/instr_ab.sh 9d8fc84 9dc2fdd        # before and after the engine refactor (issue 9)
#   ONLY='Hook|PrefilterMiss' bench/instr_ab.sh 9d8fc84   # the benchmarks whose names match, against HEAD
set -euo pipefail
cd "$(dirname "$0")/.."

BEFORE=${1:?usage: bench/instr_ab.sh BEFORE [AFTER]}
AFTER=${2:-HEAD}
ONLY=${ONLY:-.}
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export DEFERPROXY_CORPUS=${DEFERPROXY_CORPUS:-$PWD/testdata/corpus}

# package benchmark N: N operations of about 300 M instructions in all.
BENCHES="
deferral HookPrefilterMiss 100000
deferral HookPrefilterMiss1KB 30000
deferral HookDeferredWarm 30000
deferral HookExistingWarm 75000
deferral HookDbtModelWarm 1500
deferral HookDeferredLiterals 2000
rewrite PrefilterMiss 30000
rewrite PrefilterMissPgbench 200000
rewrite CacheHit/stripe 100000
rewrite CacheHit/pgbench 600000
rewrite CacheShapeHit/stripe 1500
rewrite CacheShapeHit/pgbench 15000
rewrite CacheHitRewrite 7500
rewrite Analyze/stripe 60
rewrite Analyze/pgbench 750
rewrite AnalyzeRewrite/stripe 60
rewrite AnalyzeRewrite/pgbench 750
"

for side in before after; do
  rev=$BEFORE; [ "$side" = after ] && rev=$AFTER
  mkdir -p "$WORK/$side"
  git archive "$rev" | tar -x -C "$WORK/$side"
  (cd "$WORK/$side" && go test -c -o deferral/deferral.test ./deferral && go test -c -o rewrite/rewrite.test ./rewrite)
done

# irefs SIDE PKG BENCH N: the total instructions of one run.
irefs() {
  local sub=""
  [ "$3" != "${3%%/*}" ] && sub="/${3#*/}"
  (cd "$WORK/$1/$2" && GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=cachegrind --cache-sim=no \
    --cachegrind-out-file=/dev/null "./$2.test" -test.run '^$' -test.bench "^Benchmark${3%%/*}\$$sub" \
    -test.benchtime "${4}x" 2>&1) | awk '/I +refs:/ { gsub(",", "", $NF); print $NF }'
}

printf '# instructions per operation, cachegrind, before=%s after=%s\n' \
  "$(git rev-parse --short "$BEFORE")" "$(git rev-parse --short "$AFTER")"
printf '%-32s %12s %12s %8s\n' benchmark before after delta
echo "$BENCHES" | while read -r pkg bench n; do
  [ -z "$pkg" ] && continue
  [[ $bench =~ $ONLY ]] || continue
  declare -A per
  for side in before after; do
    one=$(irefs "$side" "$pkg" "$bench" "$n")
    two=$(irefs "$side" "$pkg" "$bench" $((2 * n)))
    per[$side]=$(( (two - one) / n ))
  done
  awk -v b="$pkg.$bench" -v x="${per[before]}" -v y="${per[after]}" \
    'BEGIN { printf "%-32s %12d %12d %+7.1f%%\n", b, x, y, (y - x) * 100 / x }'
done
