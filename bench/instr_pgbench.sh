#!/usr/bin/env bash
# bench/instr_pgbench.sh BINARY... — the whole proxy's instructions per pgbench transaction, counted by valgrind's
# cachegrind: each `deferproxy serve` binary (say, main's and one built from an older commit) runs under cachegrind
# in front of the defer benchmark's cluster (bench/defer_setup.sh: a one-model manifest, an empty dev schema), and
# pgbench runs N and then 2N transactions through it on one connection; the difference of the two totals divided by
# N is what one transaction costs the proxy's process in user space (Go code and runtime; the kernel's socket work
# is not counted). Unlike TPS or CPU time, the count does not depend on what else the machine is doing.
#
#   bench/instr_pgbench.sh /tmp/prep-old/bin/deferproxy bin/deferproxy          # before and after, -M prepared
#   SCRIPT=plain MODE=extended N=3000 bench/instr_pgbench.sh bin/deferproxy
#
# SCRIPT: deferred (every statement reads a relation deferred to production) or plain (names no dev or production
# schema); MODE: pgbench's -M. With -M prepared the statement is parsed once per connection, so a transaction is
# Bind/Execute/Sync: the proxy's hot path for a kept prepared statement.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/instr_pgbench.sh BINARY..." >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 1; }
N=${N:-5000}
SCRIPT=${SCRIPT:-deferred}
MODE=${MODE:-prepared}

source bench/cluster.sh
start_cluster instrpgbench 50
source bench/defer_setup.sh
case $SCRIPT in
  deferred) printf '\\set aid random(1, %d)\nSELECT abalance FROM dbt_fabio.accounts WHERE aid = :aid;\n' "$NACC" ;;
  plain) printf '\\set aid random(1, %d)\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n' "$NACC" ;;
  *) echo "SCRIPT is deferred or plain" >&2; exit 1 ;;
esac >"$WORK/script.sql"

# irefs BINARY TRANSACTIONS: the proxy process's total instructions for one run of that many transactions.
irefs() {
  local port log pid
  port=$(freeport)
  log="$WORK/vg.$port.log"
  GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
    --log-file="$log" "$1" serve --listen "127.0.0.1:$port" --upstream "$UP" --admin "" --log-level warn \
    --manifest "$WORK/manifest.json" --dev-schema dbt_fabio --catalog-dsn "$UP" --notices first 2>/dev/null &
  pid=$!
  for _ in $(seq 600); do "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
  "$BIN/pgbench" -h 127.0.0.1 -p "$port" -U postgres -n -f "$WORK/script.sql" -M "$MODE" -c 1 -j 1 -t "$2" \
    postgres >/dev/null 2>&1
  kill -INT "$pid"
  wait "$pid" || true
  awk '/I +refs:/ { gsub(",", "", $NF); print $NF }' "$log"
}

printf '# proxy instructions per transaction (user space), cachegrind, pgbench -M %s, script %s, N=%d\n' \
  "$MODE" "$SCRIPT" "$N"
for bin in "$@"; do
  one=$(irefs "$bin" "$N")
  two=$(irefs "$bin" $((2 * N)))
  printf '%-40s %10d\n' "$bin" $(( (two - one) / N ))
done
