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
# The proxy's pump benchmarks are here too. A benchmark that one side does not have (BenchmarkPreparedUse came with
# issue 14's re-prepares) prints "-" for that side; the InstrPrepared* benchmarks below are written into both trees,
# so a commit from before them can still be measured on the same request.
#
#   bench/instr_ab.sh 9d8fc84 9dc2fdd        # before and after the engine refactor (issue 9)
#   ONLY='Hook|PrefilterMiss' bench/instr_ab.sh 9d8fc84   # the benchmarks whose names match, against HEAD
#   ONLY='Instr|PreparedUse|PumpForward' bench/instr_ab.sh fb258e7^ main   # issue 14's re-prepare, in the proxy
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
deferral Current 300000
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
proxy InstrPreparedBind 500000
proxy InstrPreparedAnswer 500000
proxy PreparedUse/untracked 500000
proxy PreparedUse/current 500000
proxy PumpForward/server-hook 500000
proxy PumpForward/client-plain 500000
"

# The proxy benchmarks every side gets (package proxy's test helpers memConn, encode and rewriteHook are older than
# any commit this is run on): pgbench -M prepared's request (Bind of a named statement, Execute, Sync) through the
# client→upstream pump with a Hook, and its answer (BindComplete, DataRow, CommandComplete, ReadyForQuery) back.
proxyBench() {
  cat <<'GO'
package proxy

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

func BenchmarkInstrPreparedBind(b *testing.B) {
	msgs := encode(b, &pgproto3.Bind{PreparedStatement: "P0_1", Parameters: [][]byte{[]byte("12345")}},
		&pgproto3.Execute{}, &pgproto3.Sync{})
	ss := &session{hook: rewriteHook{}, ctx: context.Background()}
	p := newPump(&memConn{chunks: [][]byte{msgs}, loop: b.N}, &memConn{discard: true}, &watchClientHook,
		&clientSide{ss: ss}, 1<<30, 1<<30)
	if err := p.run(); !errors.Is(err, io.EOF) {
		b.Fatal(err)
	}
}

func BenchmarkInstrPreparedAnswer(b *testing.B) {
	msgs := encode(b, &pgproto3.BindComplete{}, &pgproto3.DataRow{Values: [][]byte{[]byte("0")}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
	ss := &session{hook: rewriteHook{}, ctx: context.Background()}
	p := newPump(&memConn{chunks: [][]byte{msgs}, loop: b.N}, &memConn{discard: true}, &watchServerHook,
		&serverSide{ss: ss}, 0, 1<<30)
	if err := p.run(); !errors.Is(err, io.EOF) {
		b.Fatal(err)
	}
}
GO
}

# Only the packages of the benchmarks asked for are built.
PKGS=$(echo "$BENCHES" | while read -r pkg bench n; do
  if [ -n "$pkg" ] && [[ $bench =~ $ONLY ]]; then echo "$pkg"; fi
done | sort -u)

for side in before after; do
  rev=$BEFORE; [ "$side" = after ] && rev=$AFTER
  mkdir -p "$WORK/$side"
  git archive "$rev" | tar -x -C "$WORK/$side"
  proxyBench >"$WORK/$side/proxy/instr_ab_bench_test.go"
  for pkg in $PKGS; do
    (cd "$WORK/$side" && go test -c -o "$pkg/$pkg.test" "./$pkg")
  done
done

# irefs SIDE PKG BENCH N: the total instructions of one run.
irefs() {
  local sub=""
  [ "$3" != "${3%%/*}" ] && sub="/${3#*/}"
  (cd "$WORK/$1/$2" && GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=cachegrind --cache-sim=no \
    --cachegrind-out-file=/dev/null "./$2.test" -test.run '^$' -test.bench "^Benchmark${3%%/*}\$$sub" \
    -test.benchtime "${4}x" 2>&1) | awk '/^Benchmark/ { ran = 1 } /I +refs:/ { gsub(",", "", $NF); v = $NF }
    END { if (ran) print v }'
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
    per[$side]=-
    if [ -n "$one" ] && [ -n "$two" ]; then # empty: the side does not have the benchmark
      per[$side]=$(( (two - one) / n ))
    fi
  done
  awk -v b="$pkg.$bench" -v x="${per[before]}" -v y="${per[after]}" 'BEGIN {
    d = (x == "-" || y == "-") ? "" : sprintf("%+7.1f%%", (y - x) * 100 / x)
    printf "%-32s %12s %12s %8s\n", b, x, y, d }'
done
