#!/usr/bin/env bash
# bench/notice_cost.sh — what a NOTICE per statement costs, and whom: pgbench -M extended, 1 client, against
#   PostgreSQL directly, without and with a NOTICE the server itself raises per statement (noisy()), and
#   through deferproxy with --notices off and first; pgbench's stderr (where libpq prints notices) either in a file
#   or discarded. Medians of ROUNDS runs of DURATION seconds, alternating.
#
#   bench/notice_cost.sh
#   DURATION=5 ROUNDS=3 bench/notice_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-2}
go build -o bin/deferproxy ./cmd/deferproxy
source bench/cluster.sh
start_cluster noticecost 100
source bench/defer_setup.sh
"${PSQL[@]}" -c "CREATE FUNCTION noisy(a int) RETURNS int LANGUAGE plpgsql AS \$\$ BEGIN RAISE NOTICE 'deferred 1 relation to production run bench-0000 (2026-11-26T00:00:00.000000Z): dbt_fabio.accounts → analytics.accounts'; RETURN a; END \$\$;"
P1=$(freeport); P2=$(freeport)
start_defer_proxy "$P1" first /dev/null
start_defer_proxy "$P2" off /dev/null
wait_ready "$P1" "$P2"
printf '\\set aid random(1, 100000)\nSELECT abalance FROM dbt_fabio.accounts WHERE aid = :aid;\n' >"$WORK/dev.sql"
printf '\\set aid random(1, 100000)\nSELECT abalance FROM analytics.accounts WHERE aid = :aid;\n' >"$WORK/prod.sql"
printf '\\set aid random(1, 100000)\nSELECT noisy(abalance) FROM analytics.accounts WHERE aid = :aid;\n' >"$WORK/noisy.sql"
RES=$(mktemp)
run() { # label port script stderr
  local o
  o=$("$BIN/pgbench" -h 127.0.0.1 -p "$2" -U postgres -n -f "$3" -M extended -c 1 -j 1 -T "$DURATION" postgres 2>"$4")
  echo "$1|$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$o")" >>"$RES"
}
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq "$ROUNDS"); do
  run "direct, no NOTICE" "$PGPORT" "$WORK/prod.sql" /dev/null
  run "direct, server NOTICE per statement, stderr to a file" "$PGPORT" "$WORK/noisy.sql" "$WORK/stderr"
  run "direct, server NOTICE per statement, stderr discarded" "$PGPORT" "$WORK/noisy.sql" /dev/null
  run "deferproxy --notices off" "$P2" "$WORK/dev.sql" /dev/null
  run "deferproxy --notices first, stderr to a file" "$P1" "$WORK/dev.sql" "$WORK/stderr"
  run "deferproxy --notices first, stderr discarded" "$P1" "$WORK/dev.sql" /dev/null
  : >"$WORK/stderr"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 - "$RES" "$ROUNDS" "$DURATION" <<'PY'
import sys, statistics as st
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1]) if "|" in l]
order, agg = [], {}
for k, v in rows:
    if k not in agg: order.append(k)
    agg.setdefault(k, []).append(float(v))
base = st.median(agg[order[0]])
print("| pgbench -M extended, 1 client | TPS | / direct without NOTICE |")
print("|---|---:|---:|")
for k in order:
    m = st.median(agg[k])
    print(f"| {k} | {m:,.0f} | {m/base:.2f} |")
print(f"\nMedians of {sys.argv[2]} rounds of {sys.argv[3]} s.")
PY
