#!/usr/bin/env bash
# Issue 6 benchmarks: exported model sizes, `compactrec predict` rows/s, and an HTTP load test of
# `compactrec serve` with wrk (Debian package `wrk`) on loopback, 1-row and 100-row requests.
#
# Usage (from the repository root, after `swift build -c release`):
#   bench/ship.sh [WORKDIR] [RUNS] [SECONDS]      defaults: /tmp/bench-ship 3 20
# Every load run is bounded (wrk -d SECONDS) and the server is stopped with SIGTERM at the end.
set -euo pipefail
work=${1:-/tmp/bench-ship}
runs=${2:-3}
seconds=${3:-20}
bin=$(pwd)/.build/release/compactrec
here=$(cd "$(dirname "$0")" && pwd)
port=18086
mkdir -p "$work"
cd "$work"

if [ ! -f teacher.tsv ]; then "$bin" generate --rows 1000000 --seed 1 --output teacher.tsv --quiet >/dev/null; fi
if [ ! -d prepared ]; then "$bin" prepare --format criteo --min-count 3 --output prepared --quiet teacher.tsv >/dev/null; fi

train() {  # name, options...
  local name=$1; shift
  if [ ! -f "$name.crmodel" ]; then
    "$bin" train prepared --model deepfm --epochs 1 --batch-size 4096 --quiet --force --output "$name.crmodel" "$@" >/dev/null
  fi
}
train plain16 --dim 16
train mlet16 --dim 16 --embedding mlet --inner-dim 64
train plain4 --dim 4
# Mixed widths: C1..C13 at 4, C14..C26 at 16 (projected to d = 16).
for i in $(seq 1 13); do echo "C$i: 4"; done > dims.yaml
train mixed --dim 16 --dims dims.yaml

echo "## Exported sizes (bytes)"
echo "| model | .crmodel | weights section | embedding params | total params |"
echo "| --- | --- | --- | --- | --- |"
for name in plain16 mlet16 plain4 mixed; do
  "$bin" export --checkpoint "$name.run" --output "$name.export.crmodel" --json > "$name.export.json"
  python3 - "$name" "$name.export.json" "$name.crmodel" <<'PY' 2>/dev/null || awk -v n="$name" 'BEGIN{print "| " n " | (see " n ".export.json) | | | |"}'
import json, os, sys
name, path, model = sys.argv[1:]
r = json.load(open(path))
print(f"| {name} | {os.path.getsize(model)} | {r['weight_bytes']} | {r['embedding_params']} | {r['total_params']} |")
PY
done
"$bin" export --checkpoint plain16.run --format safetensors --output plain16.safetensors --json > plain16.safetensors.json

echo "## predict (1,000,000 raw rows, 2 threads)"
for r in $(seq 1 "$runs"); do
  "$bin" predict --model plain16.crmodel --input teacher.tsv --output scores.csv --json | grep rows_per_second
done

"$here/criteo-rows-to-json.sh" teacher.tsv 1 > one.json
"$here/criteo-rows-to-json.sh" teacher.tsv 100 > hundred.json
"$bin" serve --model plain16.crmodel --port $port --log-level warning &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
for body in one hundred; do
  echo "## serve, $body-row requests: wrk -t1 -c4 -d${seconds}s"
  for r in $(seq 1 "$runs"); do
    BODY=$body.json wrk -t1 -c4 -d"${seconds}s" --latency -s "$here/wrk-predict.lua" "http://127.0.0.1:$port/v1/predict" > "wrk-$body-$r.txt"
    awk -v run="$r" '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /requests in/ {n=$1}
      /Non-2xx/ {bad=$NF} /Socket errors/ {err=$0}
      END {printf "run %s: %s requests, %s req/s, p50 %s, p99 %s, non-2xx %s, %s\n", run, n, rps, p50, p99, (bad==""?0:bad), (err==""?"no socket errors":err)}' "wrk-$body-$r.txt"
  done
done
kill -TERM $server
wait $server || true
trap - EXIT
