# bench/defer_setup.sh — sourced after start_cluster by the defer-engine benchmarks (defer_pgbench.sh,
# notice_cost.sh). It loads pgbench's tables at scale $SCALE (default 1), makes production analytics.accounts (a copy
# of pgbench_accounts) and an empty dev schema dbt_fabio, and writes $WORK/manifest.json: a production manifest with
# one model, accounts, built in postgres.analytics. Sets PSQL, UP (the upstream URL) and NACC (accounts rows).
#
#   start_defer_proxy PORT NOTICES LOG    # deferproxy serve in front of UP with that manifest and dev schema

SCALE=${SCALE:-1}
NACC=$((100000 * SCALE))
PSQL=("$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres postgres)
UP="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"

"$BIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -i -s "$SCALE" -q postgres >/dev/null 2>&1
"${PSQL[@]}" -c "CREATE SCHEMA analytics; CREATE SCHEMA dbt_fabio;
  CREATE TABLE analytics.accounts AS SELECT * FROM pgbench_accounts; ALTER TABLE analytics.accounts ADD PRIMARY KEY (aid);"
"${PSQL[@]}" -c "VACUUM ANALYZE analytics.accounts"

cat >"$WORK/manifest.json" <<JSON
{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "1.11.2",
  "generated_at": "$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)", "invocation_id": "bench-0000", "project_name": "bench",
  "adapter_type": "postgres", "env": {}},
 "nodes": {"model.bench.accounts": {"unique_id": "model.bench.accounts", "resource_type": "model", "package_name": "bench",
   "name": "accounts", "alias": "accounts", "database": "postgres", "schema": "analytics",
   "relation_name": "\"postgres\".\"analytics\".\"accounts\"", "config": {"materialized": "table"},
   "depends_on": {"nodes": []}}},
 "sources": {}, "macros": {}}
JSON

start_defer_proxy() { # port notices log [binary]
  "${4:-./bin/deferproxy}" serve --listen "127.0.0.1:$1" --upstream "$UP" --admin "" --log-level warn \
    --manifest "$WORK/manifest.json" --dev-schema dbt_fabio --catalog-dsn "$UP" --notices "$2" 2>"$3" &
  BENCH_PIDS+=($!)
}

wait_ready() { # port…
  local p
  for p in "$@"; do
    for _ in $(seq 100); do "$BIN/pg_isready" -q -h 127.0.0.1 -p "$p" && break; sleep 0.1; done
  done
}
