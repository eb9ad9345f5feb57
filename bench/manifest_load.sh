#!/usr/bin/env bash
# Manifest load benchmark (issue 4, "Performance"): generates synthetic manifests with bench/manifestgen
# (500 nodes per nominal MB, i.e. 50 k nodes per "100 MB"), loads each with catalog.LoadManifestFile
# (bench/manifestload) and with Python's json.load, and prints a Markdown table of wall time and peak RSS
# (/usr/bin/time -v). Goal: the 100 MB manifest in <= 2 s with peak RSS <= 2 x the file size.
#
#   bash bench/manifest_load.sh            # 10, 100 and 1000 MB
#   SIZES="10 100" bash bench/manifest_load.sh
#   PYTHON_MAX_MB=100 bash bench/manifest_load.sh   # skip json.load above that size (it needs ~5-6x the file in RAM)
#
# Generated files live in a temporary directory that is removed at the end; nothing is written to the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"10 100 1000"}
RUNS=${RUNS:-3}
PYTHON=${PYTHON:-python3}
PYTHON_MAX_MB=${PYTHON_MAX_MB:-1000}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "manifest_load.sh needs GNU time at $TIME (apt-get install time)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/manifestgen" ./bench/manifestgen
go build -o "$tmp/manifestload" ./bench/manifestload

# measure CMD...: prints "<elapsed s> <user+sys CPU s> <peak RSS KiB>" of one run. CPU time is printed beside
# wall time because the machine may be shared: it is what the load costs, whatever else runs.
measure() {
  "$TIME" -v "$@" >"$tmp/out" 2>"$tmp/time" || { cat "$tmp/out" "$tmp/time" >&2; exit 1; }
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; t=s}
              /User time \(seconds\)/ {u=$2} /System time \(seconds\)/ {y=$2}
              /Maximum resident set size/ {m=$2} END {printf "%.2f %.2f %d\n", t, u+y, m}' "$tmp/time"
}

# best of RUNS: the run with the lowest wall time.
best() {
  local best_t="" best_c="" best_m=""
  for _ in $(seq "$RUNS"); do
    read -r t c m < <(measure "$@")
    if [ -z "$best_t" ] || awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; best_c=$c; best_m=$m; fi
  done
  echo "$best_t $best_c $best_m"
}

echo "<!-- $(date -u +%FT%TZ), $(nproc) CPUs, $(go version | cut -d' ' -f3), $($PYTHON --version 2>&1), load average$(uptime | sed 's/.*load average//') -->"
echo "| nominal | file size | nodes | deferproxy load (wall / CPU) | deferproxy peak RSS | RSS / file | python json.load (wall / CPU) | python peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
for mb in $SIZES; do
  "$tmp/manifestgen" -mb "$mb" -o "$tmp/manifest.json"
  bytes=$(stat -c %s "$tmp/manifest.json")
  read -r gt gc gm < <(best "$tmp/manifestload" "$tmp/manifest.json")
  nodes=$(sed -n 's/.*nodes=\([0-9]*\).*/\1/p' "$tmp/out")
  if [ "$mb" -le "$PYTHON_MAX_MB" ]; then
    read -r pt pc pm < <(measure "$PYTHON" -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/manifest.json")
    py="${pt} s / ${pc} s | $((pm / 1024)) MiB"
  else
    py="skipped | skipped"
  fi
  ratio=$(awk "BEGIN{printf \"%.2f\", $gm * 1024 / $bytes}")
  echo "| ${mb} MB | $(awk "BEGIN{printf \"%.1f\", $bytes/1048576}") MiB | ${nodes} | ${gt} s / ${gc} s | $((gm / 1024)) MiB | ${ratio} | ${py} |"
  rm -f "$tmp/manifest.json"
done
