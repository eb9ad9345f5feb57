#!/usr/bin/env bash
# bench/dbt_timing.sh — wall time of `dbt run -s <one model>` through deferproxy vs native `--defer --state`, and vs a
# full dev build, on the synthetic 100-model project of bench/dbtgen (issue 4, "Performance"). Goal: proxy ≤ 1.1 ×
# native defer.
#
#   bench/dbt_timing.sh                       # 5 rounds, models m_099 (deepest chain end) and m_050 (a fan-in)
#   ROUNDS=3 MODELS="m_099" bench/dbt_timing.sh
#
# It starts a throwaway cluster (initdb/pg_ctl as the postgres user, like internal/pgtest), builds production with dbt
# (target prod, schema analytics), starts bin/deferproxy serve in front with that manifest and dev schema dbt_dev, then
# for each round and model runs, alternating, from an empty dev schema each time:
#   native: dbt run -s MODEL --target dev_native --defer --state <prod target>     (direct to PostgreSQL)
#   proxy:  dbt run -s MODEL --target dev_proxy                                     (through deferproxy, no --defer)
# and once per round the full dev build `dbt build --target dev_native` (seeds + 100 models, no defer).
# Each dbt invocation keeps its own --target-path, so partial parsing is warm for all three. Results: $OUT (default
# bench/results/dbt-<timestamp>) and a Markdown table on stdout (medians of wall-clock seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
MODELS=${MODELS:-"m_099 m_050"}
VENV=${DEFERPROXY_VENV:-$PWD/.venv}
DBT=$VENV/bin/dbt
OUT=${OUT:-bench/results/dbt-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
[ -x "$DBT" ] || { echo "dbt not found at $DBT (make venv)" >&2; exit 1; }

go build -o bin/deferproxy ./cmd/deferproxy

source bench/cluster.sh
start_cluster dbtbench 100
PXPORT=$(freeport)
PSQL=("$BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -d postgres -c "create database bench"

go run ./bench/dbtgen -out "$WORK/proj" -models 100 -seeds 4
cat >"$WORK/profiles.yml" <<YAML
dbtbench:
  target: prod
  outputs:
    prod:       {type: postgres, host: 127.0.0.1, port: $PGPORT, user: postgres, password: x, dbname: bench, schema: analytics, threads: 4}
    dev_native: {type: postgres, host: 127.0.0.1, port: $PGPORT, user: postgres, password: x, dbname: bench, schema: dbt_dev, threads: 4}
    dev_proxy:  {type: postgres, host: 127.0.0.1, port: $PXPORT, user: postgres, password: x, dbname: bench, schema: dbt_dev, threads: 4}
YAML
export DBT_PROFILES_DIR=$WORK DBT_SEND_ANONYMOUS_USAGE_STATS=false DBT_USE_COLORS=false
dbt() { (cd "$WORK/proj" && "$DBT" "$@" --log-path "$WORK/logs") >>"$OUT/dbt.log" 2>&1; }

echo "# production build" >&2
dbt seed --target prod --target-path "$WORK/prod"
dbt run --target prod --target-path "$WORK/prod"

./bin/deferproxy serve --listen "127.0.0.1:$PXPORT" --admin "" --log-level warn \
  --upstream "postgres://postgres@127.0.0.1:$PGPORT/bench?sslmode=disable" \
  --manifest "$WORK/prod/manifest.json" --dev-schema dbt_dev 2>"$OUT/proxy.log" &
PX_PID=$!; BENCH_PIDS+=("$PX_PID")
for _ in $(seq 50); do "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PXPORT" && break; sleep 0.1; done

reset_dev() { "${PSQL[@]}" -d bench -c "drop schema if exists dbt_dev cascade; create schema dbt_dev" 2>/dev/null; }
# timed LABEL dbt-args…: one dbt invocation from an empty dev schema; appends "LABEL seconds" to $OUT/times.
timed() {
  local label=$1; shift
  reset_dev
  local t0 t1
  t0=$(date +%s.%N)
  dbt "$@" || { echo "dbt $* failed: see $OUT/dbt.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$label $(echo "$t1 - $t0" | bc)" | tee -a "$OUT/times" >&2
}

# One untimed warm-up of each kind: partial parse files and OS caches.
for m in $MODELS; do
  timed warmup run -s "$m" --target dev_native --defer --state "$WORK/prod" --target-path "$WORK/t-native"
  timed warmup run -s "$m" --target dev_proxy --target-path "$WORK/t-proxy"
done
timed warmup build --target dev_native --target-path "$WORK/t-full"
sed -i '/^warmup /d' "$OUT/times"

for r in $(seq "$ROUNDS"); do
  for m in $MODELS; do
    timed "native:$m" run -s "$m" --target dev_native --defer --state "$WORK/prod" --target-path "$WORK/t-native"
    timed "proxy:$m" run -s "$m" --target dev_proxy --target-path "$WORK/t-proxy"
  done
  timed "full" build --target dev_native --target-path "$WORK/t-full"
done

python3 - "$OUT/times" "$MODELS" <<'PY'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    times.setdefault(k, []).append(float(v))
med = {k: statistics.median(v) for k, v in times.items()}
print("| selection | native --defer (s) | through proxy (s) | proxy / native (medians) | proxy / native (median of paired rounds) | full dev build (s) |")
print("|---|---|---|---|---|---|")
for m in sys.argv[2].split():
    n, p = med[f"native:{m}"], med[f"proxy:{m}"]
    paired = statistics.median(b / a for a, b in zip(times[f"native:{m}"], times[f"proxy:{m}"]))
    print(f"| `-s {m}` | {n:.2f} | {p:.2f} | {p/n:.3f} | {paired:.3f} | {med['full']:.2f} |")
print(f"\nmedians of {len(times['full'])} rounds; raw: {sys.argv[1]}")
PY
