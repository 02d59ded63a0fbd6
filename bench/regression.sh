#!/usr/bin/env bash
# The regression record of issue 16 ("nothing changes underneath"): trains every model with
# plain, MLET and per-field-width embeddings on a fixed teacher dataset with a fixed seed and
# thread count, and prints per run the test AUC, logloss and a checksum of the exported weights,
# then the widths an AutoDim search chooses. Run it with the binary before and after a change:
# where only code moved, every line must come out the same.
#
#   bench/regression.sh [BINARY] > regression.tsv    # BINARY: default .build/release/compactrec
#
# The checksum is SHA-256 over the safetensors export's tensors sorted by name (name, dtype,
# shape and bytes), so it does not depend on the order a file format stores them in. Work files
# go to $REGRESSION_DIR (default: a temporary directory, removed at the end). Takes about
# 4 minutes on 2 cores.
set -euo pipefail
BIN=${1:-.build/release/compactrec}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
THREADS=${THREADS:-2}
WORK=${REGRESSION_DIR:-$(mktemp -d)}
[[ -n "${REGRESSION_DIR:-}" ]] || trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK" && cd "$WORK"

if [[ ! -f data/dataset.json ]]; then
  "$BIN" generate --rows 200000 --seed 7 --output teacher.tsv >/dev/null
  "$BIN" prepare --format criteo --output data --seed 7 teacher.tsv >/dev/null 2>&1
fi

# Mixed per-field widths: 4, 8 and 16 in turn over C1..C26.
: > dims.yaml
for i in $(seq 1 26); do
  case $((i % 3)) in 0) w=4 ;; 1) w=8 ;; *) w=16 ;; esac
  echo "C$i: $w" >> dims.yaml
done

checksum() {
  python3 - "$1" <<'EOF'
import hashlib, json, struct, sys
with open(sys.argv[1], "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n])
data = blob[8 + n:]
h = hashlib.sha256()
for name in sorted(k for k in header if k != "__metadata__"):
    t = header[name]
    start, end = t["data_offsets"]
    h.update(f"{name}|{t['dtype']}|{t['shape']}|".encode())
    h.update(data[start:end])
print(h.hexdigest()[:16])
EOF
}

run() {
  local name=$1; shift
  local dir="runs/$name"
  rm -rf "$dir"
  local json
  json=$("$BIN" train data --epochs 1 --batch-size 2048 --seed 1 --threads "$THREADS" --output "$dir" --json --quiet "$@" 2>/dev/null)
  "$BIN" export --checkpoint "$dir" --format safetensors --output "$dir/model.safetensors" >/dev/null 2>&1
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("%.6f\t%.6f\t%d\t%d" % (r["auc"], r["logloss"], r["embedding_params"], r["samples_per_second"]), end="")' "$json"
  printf '\t%s\t%s\n' "$(checksum "$dir/model.safetensors")" "$name"
}

printf 'auc\tlogloss\tembedding_params\tsamples_per_s\tweights_sha256\trun\n'
run lr-plain --model lr
for model in fm wd deepfm dlrm; do
  run "$model-plain" --model "$model" --dim 16
  run "$model-mlet" --model "$model" --embedding mlet --dim 4 --inner-dim 64
  run "$model-dims" --model "$model" --dim 16 --dims dims.yaml
done
for model in fm deepfm dlrm; do
  run "$model-mlet-dims" --model "$model" --embedding mlet --dim 16 --inner-dim 64 --dims dims.yaml
done

# AutoDim's search: one epoch bi-level, two epochs (an evaluation between them), and one-level.
search() {
  local name=$1; shift
  rm -rf "runs/$name"
  "$BIN" search data --model deepfm --batch-size 2048 --seed 1 --threads "$THREADS" --output "runs/$name" --quiet "$@" >/dev/null 2>&1
  python3 - "runs/$name" "$name" <<'EOF2'
import hashlib, json, sys
d = json.load(open(sys.argv[1] + "/dims.json"))
s = json.load(open(sys.argv[1] + "/search.json"))
dims = " ".join(str(d[k]) for k in sorted(d, key=lambda k: int(k[1:])))
alpha = hashlib.sha256(json.dumps(s["alpha"]).encode()).hexdigest()[:16]
print(f"{sys.argv[2]}\tdims {dims}\talpha_sha256 {alpha}")
EOF2
}
search search-deepfm --epochs 1
search search-deepfm-2epochs --epochs 2
search search-deepfm-one-level --epochs 1 --one-level
