#!/bin/bash
# Training throughput against the BLAS roofline, measured in the same rounds (docs/BENCHMARKS.md).
# Run from the repository root after `swift build -c release`, with numpy installed, on a quiet
# machine. Each round: numpy's OpenBLAS on the 12 MLP products (the reference, median of the 12),
# then `compactrec bench train` for the plain models at d = 16, MLET at d = 4, k = 64 and plain
# d = 4. Writes JSON per round to ${OUT:-bench/out/train-roofline} and prints a summary.
set -euo pipefail
BIN=${BIN:-.build/release/compactrec}
OUT=${OUT:-bench/out/train-roofline}
ROUNDS=${ROUNDS:-3}
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  uptime > "$OUT/r$round.load"
  python3 bench/gemm_reference.py --threads 2 --repeats 3 --json > "$OUT/r$round.blas.json" 2> /dev/null
  reference=$(python3 -c "
import json, statistics
print(statistics.median(r['median'] for r in json.load(open('$OUT/r$round.blas.json')) if r['threads'] == 2))")
  echo "$reference" > "$OUT/r$round.reference"
  "$BIN" bench train --model deepfm --model dlrm --model wd --model fm --threads 2 --repeats 5 \
    --reference-gflops "$reference" --json > "$OUT/r$round.plain16.json"
  "$BIN" bench train --model deepfm --model dlrm --dim 4 --inner-dim 64 --threads 2 --repeats 5 --json > "$OUT/r$round.mlet.json"
  "$BIN" bench train --model deepfm --model dlrm --dim 4 --threads 2 --repeats 5 --json > "$OUT/r$round.plain4.json"
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
for r in range(1, rounds + 1):
    cells = [f"round {r}: BLAS {float(open(f'{out}/r{r}.reference').read()):.1f} GFLOP/s"]
    for kind in ("plain16", "mlet", "plain4"):
        for x in json.load(open(f"{out}/r{r}.{kind}.json")):
            roofline = x.get("rooflineFraction")
            cells.append(f"{kind} {x['model']} {x['medianSamplesPerSecond']:,.0f}" + (f" ({100 * roofline:.0f}%)" if roofline else ""))
    print(" | ".join(cells))
PY
