#!/usr/bin/env python3
"""Prepare throughput beside pandas.read_csv and polars.read_csv on the same Criteo-layout file.

Run by hand from the repository root (needs `pip install pandas polars`):

    swift build -c release
    python3 bench/prepare_vs_pandas.py --rows 9000000 --runs 3

It generates the file with `compactrec generate` (about 2 GB for 9M rows), then times
`compactrec prepare` and each Python reader in a fresh process per run, recording wall time and
peak resident memory (GNU time's %M), and prints a Markdown table of medians and the ratios.
The Python readers only parse the file into memory; prepare also builds vocabularies, splits,
transforms and writes the dataset, so the comparison favours the Python side.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

BINARY = ".build/release/compactrec"

PANDAS = """
import pandas as pd, sys
names = ['label'] + [f'I{i}' for i in range(1, 14)] + [f'C{i}' for i in range(1, 27)]
df = pd.read_csv(sys.argv[1], sep='\\t', header=None, names=names,
                 dtype={**{f'C{i}': 'string' for i in range(1, 27)}, **{f'I{i}': 'float32' for i in range(1, 14)}, 'label': 'int8'})
print(len(df))
"""

POLARS = """
import polars as pl, sys
names = ['label'] + [f'I{i}' for i in range(1, 14)] + [f'C{i}' for i in range(1, 27)]
df = pl.read_csv(sys.argv[1], separator='\\t', has_header=False, new_columns=names,
                 schema_overrides={**{f'C{i}': pl.Utf8 for i in range(1, 27)}, **{f'I{i}': pl.Float32 for i in range(1, 14)}})
print(df.height)
"""


def timed(command):
    """Wall seconds and peak RSS (bytes) of one run of `command`."""
    result = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr}")
    seconds, kilobytes = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kilobytes) * 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=9_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", default=tempfile.gettempdir())
    parser.add_argument("--skip-python", action="store_true")
    args = parser.parse_args()

    data = os.path.join(args.workdir, f"bench-teacher-{args.rows}.tsv")
    if not os.path.exists(data):
        generate = [BINARY, "generate", "--rows", str(args.rows), "--seed", "1", "--output", data, "--quiet"]
        runs = [timed(generate)]
    else:
        runs = []
    size = os.path.getsize(data)
    print(f"file: {data}, {size / 1e9:.2f} GB, {args.rows} rows")
    if runs:
        print(f"generate: {runs[0][0]:.1f} s, {size / 1e6 / runs[0][0]:.0f} MB/s")

    results = {}
    out = os.path.join(args.workdir, "bench-prepared")
    results["compactrec prepare"] = [
        timed([BINARY, "prepare", "--format", "criteo", "--output", out, "--force", "--quiet", data])
        for _ in range(args.runs)
    ]
    if not args.skip_python:
        for name, script in [("pandas.read_csv", PANDAS), ("polars.read_csv", POLARS)]:
            try:
                __import__(name.split(".")[0])
            except ImportError:
                print(f"{name}: not installed, skipped")
                continue
            results[name] = [timed([sys.executable, "-c", script, data]) for _ in range(args.runs)]

    base = statistics.median(s for s, _ in results["compactrec prepare"])
    print()
    print("| tool | median s | MB/s | runs (s) | peak RSS (MiB) | time vs prepare |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, measured in results.items():
        seconds = statistics.median(s for s, _ in measured)
        peak = max(m for _, m in measured)
        print(f"| {name} | {seconds:.2f} | {size / 1e6 / seconds:.0f} | "
              f"{', '.join(f'{s:.2f}' for s, _ in measured)} | {peak / 2**20:.0f} | {seconds / base:.2f}x |")


if __name__ == "__main__":
    main()
