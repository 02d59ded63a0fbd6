#!/usr/bin/env python3
"""Reference BLAS GFLOP/s (numpy float32 matmul, OpenBLAS in numpy's wheels) on the products of
`compactrec bench gemm`, printed as the same table, optionally beside CompactRec's figures.

Run by hand from the repository root (needs `pip install numpy`):

    swift build -c release
    python3 bench/gemm_reference.py                              # numpy alone, 1 and 2 threads
    python3 bench/gemm_reference.py --compare --rounds 3         # both, interleaved, with ratios

The BLAS thread count is fixed per process through OPENBLAS_NUM_THREADS (and the OMP / MKL
variables), so each thread count runs in a fresh child process. With --compare, every round
runs `compactrec bench gemm --json` and then numpy for each thread count, back to back, so both
see the same machine load; the table reports, per product, the median over rounds of each
round's median, and CompactRec / numpy.

The layers, batch size, repeats and seconds per repeat mirror `compactrec bench gemm`:
forward X W, input gradient dY W^T (numpy: dY @ W.T, a transposed view handed to sgemm without a
copy) and weight gradient X^T dY (X.T @ dY), each written into a preallocated output.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BINARY = ".build/release/compactrec"
LAYERS = [(429, 400), (400, 400), (367, 512), (512, 256)]


def products(batch):
    """(shape, op, m, n, k, transposeA, transposeB) in `compactrec bench gemm`'s order."""
    result = []
    for inputs, outputs in LAYERS:
        result.append((f"({batch}x{inputs})({inputs}x{outputs})", "X W", batch, outputs, inputs, False, False))
        result.append((f"({batch}x{outputs})({outputs}x{inputs})", "dY W^T", batch, inputs, outputs, False, True))
        result.append((f"({inputs}x{batch})({batch}x{outputs})", "X^T dY", inputs, outputs, batch, True, False))
    return result


def measure(batch, threads, repeats, seconds):
    """Runs in a child whose BLAS thread count is already fixed; returns JSON-ready records."""
    import numpy as np

    rng = np.random.default_rng(7)
    records = []
    for inputs, outputs in LAYERS:
        x = rng.uniform(-1, 1, (batch, inputs)).astype(np.float32)
        w = rng.uniform(-0.1, 0.1, (inputs, outputs)).astype(np.float32)
        dy = rng.uniform(-1, 1, (batch, outputs)).astype(np.float32)
        cases = [(x, w), (dy, w.T), (x.T, dy)]
        for (shape, op, m, n, k, _, _), (a, b) in zip(products(batch)[len(records):len(records) + 3], cases):
            c = np.empty((m, n), dtype=np.float32)
            np.matmul(a, b, out=c)
            runs = []
            for _ in range(repeats):
                iterations = 0
                start = time.perf_counter()
                while True:
                    np.matmul(a, b, out=c)
                    iterations += 1
                    elapsed = time.perf_counter() - start
                    if elapsed >= seconds:
                        break
                runs.append(2.0 * m * n * k * iterations / elapsed / 1e9)
            records.append({"shape": shape, "op": op, "m": m, "n": n, "k": k, "threads": threads,
                            "median": statistics.median(runs), "best": max(runs), "runs": runs})
            print(f"  numpy {shape} {op} threads {threads}: {records[-1]['median']:.1f} GFLOP/s", file=sys.stderr)
    return records


def numpy_child(batch, threads, repeats, seconds):
    """Runs `measure` in a fresh Python with the BLAS limited to `threads` threads."""
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    command = [sys.executable, __file__, "--child", "--batch", str(batch), "--threads", str(threads),
               "--repeats", str(repeats), "--seconds", str(seconds)]
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(result.stdout)


def compactrec_run(binary, batch, threads, repeats, seconds):
    command = [binary, "bench", "gemm", "--json", "--batch", str(batch), "--threads", str(threads),
               "--repeats", str(repeats), "--seconds", str(seconds)]
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(result.stdout)


def print_table(records):
    print("| shape | op | threads | median GFLOP/s | best GFLOP/s |")
    print("| --- | --- | --- | --- | --- |")
    for r in records:
        print(f"| {r['shape']} | {r['op']} | {r['threads']} | {r['median']:.1f} | {r['best']:.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="BLAS thread counts (default 1 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per product")
    parser.add_argument("--batch", type=int, default=4096, help="rows of X")
    parser.add_argument("--seconds", type=float, default=0.25, help="minimum seconds per repeat")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--compare", action="store_true", help="also run compactrec bench gemm, interleaved")
    parser.add_argument("--rounds", type=int, default=3, help="with --compare: rounds of both")
    parser.add_argument("--binary", default=BINARY, help="the compactrec executable")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(measure(args.batch, args.threads[0], args.repeats, args.seconds)))
        return

    if not args.compare:
        records = [r for t in args.threads for r in numpy_child(args.batch, t, args.repeats, args.seconds)]
        if args.json:
            print(json.dumps(records, indent=2))
        else:
            print_table(records)
        return

    # Interleaved rounds: per thread count, CompactRec then numpy, back to back.
    ours, theirs = {}, {}
    for round_index in range(args.rounds):
        for t in args.threads:
            print(f"round {round_index + 1}/{args.rounds}, {t} thread(s)", file=sys.stderr)
            for r in compactrec_run(args.binary, args.batch, t, args.repeats, args.seconds):
                ours.setdefault((r["shape"], r["op"], t), []).append(r["median"])
            for r in numpy_child(args.batch, t, args.repeats, args.seconds):
                theirs.setdefault((r["shape"], r["op"], t), []).append(r["median"])
    rows = []
    for t in args.threads:
        for shape, op, *_ in products(args.batch):
            key = (shape, op, t)
            a, b = ours.get(key, []), theirs.get(key, [])
            rows.append({"shape": shape, "op": op, "threads": t,
                         "compactrec": statistics.median(a), "numpy": statistics.median(b),
                         "ratio": statistics.median(a) / statistics.median(b),
                         "compactrec_rounds": a, "numpy_rounds": b})
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"Median over {args.rounds} rounds of each round's median GFLOP/s ({args.repeats} repeats of >= {args.seconds} s)")
    print("| shape | op | threads | CompactRec | numpy (OpenBLAS) | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['shape']} | {r['op']} | {r['threads']} | {r['compactrec']:.1f} | {r['numpy']:.1f} | {r['ratio']:.2f} |")
    for t in args.threads:
        ratios = [r["ratio"] for r in rows if r["threads"] == t]
        print(f"\n{t} thread(s): ratio median {statistics.median(ratios):.2f}, min {min(ratios):.2f}")


if __name__ == "__main__":
    main()
