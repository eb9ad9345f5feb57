#!/usr/bin/env bash
# bench/pgbench.sh — deferproxy vs direct PostgreSQL vs PgBouncer (session mode), in one run, alternating.
#
#   bench/pgbench.sh                # full run: -S, -M simple|extended, 1/8/32 clients, 3 rounds, 10 s each
#   DURATION=5 ROUNDS=1 bench/pgbench.sh
#   HOOK=noop bench/pgbench.sh      # the proxy with a Hook that sees every statement and changes nothing
#
# It starts a throwaway cluster (initdb/pg_ctl as the postgres user, like internal/pgtest), the proxy (bin/proxyserve:
# proxy.New with no defer engine), and PgBouncer (Debian's, installed when missing and root). Results go to
# $OUT (default bench/results/<timestamp>) and a Markdown table to stdout. Extra parts, each skippable:
#   COPY=1   COPY (1M rows) TO STDOUT through the proxy vs direct, 3 rounds
#   IDLE=1   RSS of the proxy holding 1,000 idle sessions
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-"1 8 32"}
MODES=${MODES:-"simple extended"}
TARGETS=${TARGETS:-"direct proxy pgbouncer"}
HOOK=${HOOK:-}
COPY=${COPY:-1}
IDLE=${IDLE:-1}
OUT=${OUT:-bench/results/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"

go build -o bin/proxyserve ./bench/proxyserve
go build -o bin/idleconns ./bench/idleconns

source bench/cluster.sh
start_cluster bench 1200
PXPORT=$(freeport); BXPORT=$(freeport)
"$BIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -i -s 10 -q postgres >/dev/null 2>&1

./bin/proxyserve -listen "127.0.0.1:$PXPORT" -upstream "postgres://127.0.0.1:$PGPORT/postgres?sslmode=disable" \
  ${HOOK:+-hook "$HOOK"} ${PPROF:+-pprof "$PPROF"} 2>"$OUT/proxy.log" &
PX_PID=$!; BENCH_PIDS+=("$PX_PID")

start_pgbouncer "$BXPORT"
for _ in $(seq 50); do "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PXPORT" && break; sleep 0.1; done

port_of() { case $1 in direct) echo "$PGPORT";; proxy) echo "$PXPORT";; pgbouncer) echo "$BXPORT";; esac; }
pid_of() { case $1 in proxy) echo "$PX_PID";; pgbouncer) echo "$BX_PID";; *) echo "";; esac; }
HZ=$(getconf CLK_TCK)

RES="$OUT/pgbench.csv"
echo "round,mode,clients,target,tps,latency_ms,cpu_us_per_tx" >"$RES"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq "$ROUNDS"); do
  for m in $MODES; do
    for c in $CLIENTS; do
      j=$(( c < 2 ? 1 : 2 ))
      for t in $TARGETS; do
        pid=$(pid_of "$t"); t0=0; [ -n "$pid" ] && t0=$(cpu_ticks "$pid")
        o=$("$BIN/pgbench" -h 127.0.0.1 -p "$(port_of "$t")" -U postgres -n -S -M "$m" -c "$c" -j "$j" -T "$DURATION" postgres 2>&1) || { echo "$o" >&2; exit 1; }
        t1=0; [ -n "$pid" ] && t1=$(cpu_ticks "$pid")
        tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$o")
        lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$o")
        ntx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$o")
        cpu=$(python3 -c "print(f'{($t1-$t0)/$HZ*1e6/max($ntx,1):.1f}' if '$pid' else '')")
        echo "$r,$m,$c,$t,$tps,$lat,$cpu" >>"$RES"
        echo "round $r $m c=$c $t: $tps tps, $lat ms, ${cpu:-–} µs CPU/tx" >&2
      done
    done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$RES" "$DURATION" <<'PY'
import csv, sys, statistics as st
rows = list(csv.DictReader(open(sys.argv[1])))
agg = {}
for r in rows:
    k = (r["mode"], int(r["clients"]), r["target"])
    agg.setdefault(k, []).append((float(r["tps"]), float(r["latency_ms"]), float(r["cpu_us_per_tx"] or "nan")))
print("| mode | clients | direct TPS | proxy TPS | PgBouncer TPS | direct ms | proxy ms | PgBouncer ms | proxy/direct | proxy/PgBouncer | proxy CPU µs/tx | PgBouncer CPU µs/tx |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for mode in ("simple", "extended"):
    for c in sorted({k[1] for k in agg}):
        g = lambda t, i: st.median(v[i] for v in agg.get((mode, c, t), [(float("nan"),) * 3]))
        if (mode, c, "proxy") not in agg: continue
        d, p, b = g("direct", 0), g("proxy", 0), g("pgbouncer", 0)
        print(f"| {mode} | {c} | {d:,.0f} | {p:,.0f} | {b:,.0f} | {g('direct',1):.3f} | {g('proxy',1):.3f} | {g('pgbouncer',1):.3f} | {p/d:.2f} | {p/b:.2f} | {g('proxy',2):.1f} | {g('pgbouncer',2):.1f} |")
print("\nMedians of %d rounds of %s s each (TPS without initial connection time)." % (len({r['round'] for r in rows}), sys.argv[2]))
PY

if [ "$COPY" = 1 ]; then
  echo
  echo "| COPY 1M rows TO STDOUT | round 1 s | round 2 s | round 3 s | median s |"
  echo "|---|---:|---:|---:|---:|"
  declare -A CT
  for r in 1 2 3; do
    for t in direct proxy; do
      s=$(date +%s.%N)
      "$BIN/psql" -h 127.0.0.1 -p "$(port_of $t)" -U postgres -d postgres -qAt \
        -c "COPY (SELECT g, md5(g::text), now() FROM generate_series(1, 1000000) g) TO STDOUT" >/dev/null
      e=$(date +%s.%N)
      CT[$t,$r]=$(python3 -c "print(f'{$e-$s:.3f}')")
    done
  done
  for t in direct proxy; do
    med=$(printf '%s\n' "${CT[$t,1]}" "${CT[$t,2]}" "${CT[$t,3]}" | sort -n | sed -n 2p)
    echo "| $t | ${CT[$t,1]} | ${CT[$t,2]} | ${CT[$t,3]} | $med |"
    eval "MED_$t=$med"
  done
  python3 -c "print(f'\nCOPY proxy/direct time ratio: {$MED_proxy/$MED_direct:.2f}')"
fi

if [ "$IDLE" = 1 ]; then
  rss0=$(awk '/VmRSS/{print $2}' /proc/$PX_PID/status)
  ./bin/idleconns -url "postgres://postgres@127.0.0.1:$PXPORT/postgres?sslmode=disable" -n 1000 -hold 30s >"$WORK/idle.out" 2>&1 &
  IC=$!
  for _ in $(seq 300); do grep -q ready "$WORK/idle.out" 2>/dev/null && break; sleep 0.1; done
  sleep 2
  rss1=$(awk '/VmRSS/{print $2}' /proc/$PX_PID/status)
  kill -INT $IC; wait $IC || true
  echo
  echo "Proxy RSS: $((rss0/1024)) MB before, $((rss1/1024)) MB with 1,000 idle sessions ($(grep -c . "$WORK/idle.out") line(s) from the client: $(head -1 "$WORK/idle.out"))"
fi
