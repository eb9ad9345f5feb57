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
# with the defer proxy's arguments, alternating with the others, and the table adds defer/before. With PGBOUNCER=1
# PgBouncer (session mode, bench/cluster.sh) runs too, with direct's scripts. Each middlebox's CPU time per
# transaction (user+system, from /proc) is recorded beside its TPS: on a shared machine it is the steadier measure.
#
#   bench/defer_pgbench.sh                       # 3 rounds x 10 s, clients 1 and 8
#   DURATION=5 ROUNDS=1 CLIENTS=1 bench/defer_pgbench.sh
#   BEFORE_BIN=/tmp/deferproxy-before bench/defer_pgbench.sh
#   MODES=prepared PGBOUNCER=1 BEFORE_BIN=/tmp/old/bin/deferproxy bench/defer_pgbench.sh
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
BARE_PID=$!; BENCH_PIDS+=($!)
start_defer_proxy "$DEFPORT" "$NOTICES" "$OUT/defer.log"
DEF_PID=${BENCH_PIDS[-1]}
TARGETS="direct bare defer"
BEFOREPORT=""; BEFORE_PID=""
if [ -n "${BEFORE_BIN:-}" ]; then
  BEFOREPORT=$(freeport)
  start_defer_proxy "$BEFOREPORT" "$NOTICES" "$OUT/before.log" "$BEFORE_BIN"
  BEFORE_PID=${BENCH_PIDS[-1]}
  TARGETS="direct bare before defer"
fi
BXPORT=""; BX_PID=""
if [ "${PGBOUNCER:-0}" = 1 ]; then
  BXPORT=$(freeport)
  start_pgbouncer "$BXPORT"
  TARGETS="$TARGETS pgbouncer"
fi
wait_ready "$BAREPORT" "$DEFPORT" $BEFOREPORT
HZ=$(getconf CLK_TCK)

printf '\\set aid random(1, %d)\nSELECT abalance FROM dbt_fabio.accounts WHERE aid = :aid;\n' "$NACC" >"$WORK/deferred_dev.sql"
printf '\\set aid random(1, %d)\nSELECT abalance FROM analytics.accounts WHERE aid = :aid;\n' "$NACC" >"$WORK/deferred_prod.sql"
printf '\\set aid random(1, %d)\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n' "$NACC" >"$WORK/plain.sql"

# Sanity: through the defer proxy the dev name reads production (and the client is told).
chk=$("$BIN/psql" -X -h 127.0.0.1 -p "$DEFPORT" -U postgres -tA -c "SELECT count(*) FROM dbt_fabio.accounts" postgres 2>&1)
grep -q "^$NACC\$" <<<"$chk" || { echo "defer proxy sanity check failed: $chk" >&2; exit 1; }

port_of() { case $1 in direct) echo "$PGPORT";; bare) echo "$BAREPORT";; defer) echo "$DEFPORT";; before) echo "$BEFOREPORT";;
  pgbouncer) echo "$BXPORT";; esac; }
pid_of() { case $1 in bare) echo "$BARE_PID";; defer) echo "$DEF_PID";; before) echo "$BEFORE_PID";; pgbouncer) echo "$BX_PID";; esac; }
script_for() { # script target
  case $1/$2 in
    deferred/defer|deferred/before) echo "$WORK/deferred_dev.sql";;
    deferred/*) echo "$WORK/deferred_prod.sql";;
    plain/*) echo "$WORK/plain.sql";;
  esac
}

RES="$OUT/defer_pgbench.csv"
echo "round,script,mode,clients,target,tps,latency_ms,cpu_us_per_tx" >"$RES"
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
          pid=$(pid_of "$t"); t0=0; [ -n "$pid" ] && t0=$(cpu_ticks "$pid")
          if ! o=$("$BIN/pgbench" -h 127.0.0.1 -p "$(port_of "$t")" -U postgres -n -f "$(script_for "$s" "$t")" \
                -M "$m" -c "$c" -j "$j" -T "$DURATION" postgres 2>/dev/null); then
            echo "$o" >&2
            "$BIN/pgbench" -h 127.0.0.1 -p "$(port_of "$t")" -U postgres -n -f "$(script_for "$s" "$t")" -M "$m" \
              -c 1 -j 1 -t 1 postgres >&2 || true
            exit 1
          fi
          t1=0; [ -n "$pid" ] && t1=$(cpu_ticks "$pid")
          tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$o")
          lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$o")
          ntx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$o")
          cpu=$(python3 -c "print(f'{($t1-$t0)/$HZ*1e6/max($ntx,1):.1f}' if '$pid' else '')")
          echo "$r,$s,$m,$c,$t,$tps,$lat,$cpu" >>"$RES"
          echo "round $r $s $m c=$c $t: $tps tps, $lat ms, ${cpu:-–} µs CPU/tx" >&2
        done
      done
    done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$RES" "$DURATION" <<'PY'
import csv, sys, statistics as st
rows = list(csv.DictReader(open(sys.argv[1])))
agg, cpu = {}, {}
for r in rows:
    k = (r["script"], r["mode"], int(r["clients"]), r["target"])
    agg.setdefault(k, []).append(float(r["tps"]))
    if r.get("cpu_us_per_tx"):
        cpu.setdefault(k, []).append(float(r["cpu_us_per_tx"]))
targets = [t for t in ("direct", "bare", "before", "defer", "pgbouncer") if any(k[3] == t for k in agg)]
mids = [t for t in targets if t != "direct"]
head = ["script", "mode", "clients"] + [f"{t} TPS" for t in targets] + ["defer/direct", "defer/bare"]
if "before" in targets: head.append("defer/before")
head += [f"{t} CPU µs/tx" for t in mids]
print("| " + " | ".join(head) + " |")
print("|---|---|" + "---:|" * (len(head) - 2))
for s in ("deferred", "plain"):
    for m in ("simple", "extended", "prepared"):
        for c in sorted({k[2] for k in agg}):
            if (s, m, c, "defer") not in agg: continue
            tps = {t: st.median(agg[(s, m, c, t)]) for t in targets}
            cells = [s, m, str(c)] + [f"{tps[t]:,.0f}" for t in targets]
            cells += [f"{tps['defer']/tps['direct']:.2f}", f"{tps['defer']/tps['bare']:.2f}"]
            if "before" in targets: cells.append(f"{tps['defer']/tps['before']:.2f}")
            cells += [f"{st.median(cpu[(s, m, c, t)]):.1f}" if (s, m, c, t) in cpu else "" for t in mids]
            print("| " + " | ".join(cells) + " |")
print("\nMedians of %d rounds of %s s each." % (len({r['round'] for r in rows}), sys.argv[2]))
PY
