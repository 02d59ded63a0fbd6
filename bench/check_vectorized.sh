#!/usr/bin/env bash
# Checks that the GEMM micro-kernel is really vectorised: builds release and disassembles the
# built code. Fails if the micro-kernel has no AVX2 fused multiply-adds (vfmadd...ps on ymm
# registers), or if the kernel object or the compactrec executable calls fmaf (what
# SIMD8<Float>.addingProduct becomes without the package's -march=x86-64-v3: ~100x slower).
#
#   bench/check_vectorized.sh            # from anywhere; needs objdump (binutils or llvm)
#
# Off x86-64 there is nothing to check (the flag only applies there) and it exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

case "$(uname -m)" in
  x86_64|amd64) ;;
  *) echo "check_vectorized: $(uname -m) host, the AVX2 check does not apply: skipped"; exit 0 ;;
esac

OBJDUMP=${OBJDUMP:-$(command -v objdump || command -v llvm-objdump || true)}
if [[ -z "$OBJDUMP" ]]; then
  echo "check_vectorized: objdump not found (install binutils or set OBJDUMP)" >&2
  exit 2
fi

swift build -c release --product compactrec >/dev/null
BIN=$(swift build -c release --show-bin-path)
OBJ="$BIN/CompactRec.build/GEMMKernelMicro.swift.o"
EXE="$BIN/compactrec"
for file in "$OBJ" "$EXE"; do
  [[ -f "$file" ]] || { echo "check_vectorized: $file not found" >&2; exit 2; }
done

# The micro-kernel's disassembly, with relocations (calls from an object show their target only
# as a relocation).
kernel=$("$OBJDUMP" -dr --no-show-raw-insn "$OBJ" |
  awk '/^[0-9a-f]+ <.*microKernel6x16.*>:$/ { inside = 1; print; next }
       /^[0-9a-f]+ <.*>:$/ { inside = 0 }
       inside')
if [[ -z "$kernel" ]]; then
  echo "FAIL: no microKernel6x16 symbol in $OBJ" >&2
  exit 1
fi

fma_ymm=$(grep -cE 'vfmadd[0-9]+ps.*%ymm' <<<"$kernel" || true)
fmaf_kernel=$(grep -cE 'fmaf' <<<"$kernel" || true)
# Every call of fmaf anywhere in the executable (the PLT stub is how libm is reached).
fmaf_exe=$("$OBJDUMP" -d --no-show-raw-insn "$EXE" | grep -cE 'call.*<_?fmaf(@plt)?>' || true)
broadcasts=$(grep -cE 'vbroadcastss' <<<"$kernel" || true)

echo "object:      $OBJ"
echo "executable:  $EXE"
echo "micro-kernel: $(head -1 <<<"$kernel" | sed -E 's/^[0-9a-f]+ <(.*)>:$/\1/')"
echo "  vfmadd*ps on ymm: $fma_ymm (expect >= 12: 6 rows x 2 vectors per k step)"
echo "  vbroadcastss:     $broadcasts"
echo "  fmaf references:  $fmaf_kernel (expect 0)"
echo "calls of fmaf in the executable: $fmaf_exe (expect 0)"

status=0
if (( fma_ymm < 12 )); then
  echo "FAIL: the micro-kernel has $fma_ymm ymm fused multiply-adds; is -march=x86-64-v3 set in Package.swift?" >&2
  status=1
fi
if (( fmaf_kernel > 0 || fmaf_exe > 0 )); then
  echo "FAIL: fmaf is called (SIMD fused multiply-adds fell back to libm): check the target-CPU flags" >&2
  status=1
fi
(( status == 0 )) && echo "OK: the GEMM micro-kernel is vectorised (AVX2 + FMA)"
exit $status
