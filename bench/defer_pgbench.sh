#!/usr/bin/env bash
# bench/defer_pgbench.sh — the defer engine under pgbench, in one run, alternating targets:
#   direct     PostgreSQL itself
#   bare       deferproxy serve without a manifest (pure pass-through: the wire proxy's own cost)
#   defer      deferproxy serve with a production manifest, dev schema dbt_fabio (empty), the dev catalog on
# and two custom scripts:
#   deferred   SELECT abalance FROM dbt_fabio.accounts WHERE aid = :aid   — dbt_fabio.accounts does not exist in dev,
#              so every statement is rewritten to analytics.accounts (through "defer"); direct and bare run the
#              rewritten text (analytics.accounts), which is what the server executes in all three cases.
#   plain      SELECT abalance FROM pgbench_accounts WHERE aid = :aid     — names no dev or production schema: the
#              engine's prefilter says no, nothing is parsed.
# Ratios: defer/direct and defer/bare, per script, mode (-M simple, -M extended) and client count. With BEFORE_BIN
# (another deferproxy binary, e.g. built from the commit before a refactor) a fourth target "before" runs that binary
# with the defer proxy's arguments, alternating with the others, and the table adds defer/before.
#
#   bench/defer_pgbench.sh                       # 3 rounds x 10 s, clients 1 and 8
#   DURATION=5 ROUNDS=1 CLIENTS=1 bench/defer_pgbench.sh
#   BEFORE_BIN=/tmp/deferproxy-before bench/defer_pgbench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-"1 8"}
MODES=${MODES:-"simple extended"}
NOTICES=${NOTICES:-first}   # the defer proxy's --notices (first: one NOTICE per rewritten statement)
OUT=${OUT:-bench/results/defer-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"

go build -o bin/deferproxy ./cmd/deferproxy

source bench/cluster.sh
start_cluster deferbench 200
source bench/defer_setup.sh
BAREPORT=$(freeport); DEFPORT=$(freeport)
./bin/deferproxy serve --listen "127.0.0.1:$BAREPORT" --upstream "$UP" --admin "" --log-level warn 2>"$OUT/bare.log" &
BENCH_PIDS+=($!)
start_defer_proxy "$DEFPORT" "$NOTICES" "$OUT/defer.log"
TARGETS="direct bare defer"
BEFOREPORT=""
if [ -n "${BEFORE_BIN:-}" ]; then
  BEFOREPORT=$(freeport)
  start_defer_proxy "$BEFOREPORT" "$NOTICES" "$OUT/before.log" "$BEFORE_BIN"
  TARGETS="direct bare before defer"
fi
wait_ready "$BAREPORT" "$DEFPORT" $BEFOREPORT

printf '\\set aid random(1, %d)\nSELECT abalance FROM dbt_fabio.accounts WHERE aid = :aid;\n' "$NACC" >"$WORK/deferred_dev.sql"
printf '\\set aid random(1, %d)\nSELECT abalance FROM analytics.accounts WHERE aid = :aid;\n' "$NACC" >"$WORK/deferred_prod.sql"
printf '\\set aid random(1, %d)\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n' "$NACC" >"$WORK/plain.sql"

# Sanity: through the defer proxy the dev name reads production (and the client is told).
chk=$("$BIN/psql" -X -h 127.0.0.1 -p "$DEFPORT" -U postgres -tA -c "SELECT count(*) FROM dbt_fabio.accounts" postgres 2>&1)
grep -q "^$NACC\$" <<<"$chk" || { echo "defer proxy sanity check failed: $chk" >&2; exit 1; }

port_of() { case $1 in direct) echo "$PGPORT";; bare) echo "$BAREPORT";; defer) echo "$DEFPORT";; before) echo "$BEFOREPORT";; esac; }
script_for() { # script target
  case $1/$2 in
    deferred/defer|deferred/before) echo "$WORK/deferred_dev.sql";;
    deferred/*) echo "$WORK/deferred_prod.sql";;
    plain/*) echo "$WORK/plain.sql";;
  esac
}

RES="$OUT/defer_pgbench.csv"
echo "round,script,mode,clients,target,tps,latency_ms" >"$RES"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq "$ROUNDS"); do
  for s in deferred plain; do
    for m in $MODES; do
      for c in $CLIENTS; do
        j=$(( c < 2 ? 1 : 2 ))
        for t in $TARGETS; do
          # pgbench's stderr, where libpq's default notice processor prints every NOTICE, is discarded: drivers keep
          # notices in memory (psycopg2's conn.notices, JDBC warnings) or drop them. Written to a file or a pipe,
          # the client's own write per NOTICE costs more than the whole proxy (see docs/BENCHMARKS.md: the same
          # NOTICE raised by the server itself, direct, costs the client a third of its throughput with stderr in a file).
          # On failure the run is repeated briefly with stderr shown.
          if ! o=$("$BIN/pgbench" -h 127.0.0.1 -p "$(port_of "$t")" -U postgres -n -f "$(script_for "$s" "$t")" \
                -M "$m" -c "$c" -j "$j" -T "$DURATION" postgres 2>/dev/null); then
            echo "$o" >&2
            "$BIN/pgbench" -h 127.0.0.1 -p "$(port_of "$t")" -U postgres -n -f "$(script_for "$s" "$t")" -M "$m" \
              -c 1 -j 1 -t 1 postgres >&2 || true
            exit 1
          fi
          tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$o")
          lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$o")
          echo "$r,$s,$m,$c,$t,$tps,$lat" >>"$RES"
          echo "round $r $s $m c=$c $t: $tps tps, $lat ms" >&2
        done
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
    agg.setdefault((r["script"], r["mode"], int(r["clients"]), r["target"]), []).append(float(r["tps"]))
before = any(k[3] == "before" for k in agg)
if before:
    print("| script | mode | clients | direct TPS | bare proxy TPS | before TPS | defer proxy TPS | defer/direct | defer/bare | defer/before |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
else:
    print("| script | mode | clients | direct TPS | bare proxy TPS | defer proxy TPS | defer/direct | defer/bare |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
for s in ("deferred", "plain"):
    for m in ("simple", "extended", "prepared"):
        for c in sorted({k[2] for k in agg}):
            if (s, m, c, "defer") not in agg: continue
            d, b, x = (st.median(agg[(s, m, c, t)]) for t in ("direct", "bare", "defer"))
            if before:
                y = st.median(agg[(s, m, c, "before")])
                print(f"| {s} | {m} | {c} | {d:,.0f} | {b:,.0f} | {y:,.0f} | {x:,.0f} | {x/d:.2f} | {x/b:.2f} | {x/y:.2f} |")
            else:
                print(f"| {s} | {m} | {c} | {d:,.0f} | {b:,.0f} | {x:,.0f} | {x/d:.2f} | {x/b:.2f} |")
print("\nMedians of %d rounds of %s s each." % (len({r['round'] for r in rows}), sys.argv[2]))
PY
