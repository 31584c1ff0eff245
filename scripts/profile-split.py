#!/usr/bin/env python3
"""Split a tickbench CPU profile by pipeline stage.

usage: scripts/profile-split.py BINARY PROFILE

Reads `go tool pprof -traces` and gives every sample to the first stage
(in the order below) that one of its frames belongs to, so a stage's share
includes the runtime work (allocation, memmove) done on its behalf. Garbage
collection running in its own workers is its own stage.
"""
import re
import subprocess
import sys

# (stage, frame pattern), first match wins. kgo's producer and consumer
# share a package: they are told apart by their entry points.
STAGES = [
    ("embedded broker (kfake)", r"franz-go/pkg/kfake\."),
    ("embedded S3 (s3lite)", r"tickbench/stack/s3lite\."),
    ("verify (read back)", r"tickbench/bench\.(verify|expectTicks|readObject)|tickbench/sink\.ReadTicks"),
    ("lake (scan model, local SQL)", r"tickbench/lake|duckdb|tickbench/bench\.\(\*runner\)\.lake"),
    ("histograms", r"HdrHistogram|tickbench/bench\.\(\*hist\)"),
    ("decode (JSON -> tick)", r"tickbench/tick\.(DecodeJSON|decode)"),
    ("encode (tick -> JSON/Parquet, compress)", r"tickbench/sink\.\((\*batch\)\.add|\*?JSONL|\*?jsonlEncoder|\*?gzipEncoder|\*?parquetEncoder|\*appendWriter)|parquet-go/parquet-go\.\(\*(Writer|GenericWriter|writer|ColumnWriter)|Encoder\)\.Finish"),
    ("upload (S3 client)", r"aws-sdk-go-v2|smithy-go|tickbench/sink\.(\(\*Sink\)\.(upload|put)|S3Store)"),
    ("generator (model, pacing)", r"tickbench/gen\."),
    ("producer client (kgo)", r"franz-go/pkg/kgo\.(\(\*Client\)\.(Produce|produce|finishRecordPromise|Flush)|\(\*sink\)|\(\*recBuf\)|\(\*recBatch\)|promisedRec|\(\*producer\)|\(\*produceRequest\))"),
    ("consumer client (kgo)", r"franz-go/pkg/kgo\.|franz-go/pkg/kmsg"),
    ("sink loop (routing, batching)", r"tickbench/sink\."),
    ("garbage collection", r"runtime\.gcBgMarkWorker|runtime\.bgsweep|runtime\.bgscavenge"),
]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out = subprocess.run(["go", "tool", "pprof", "-traces", sys.argv[1], sys.argv[2]],
                         capture_output=True, text=True, check=True).stdout
    totals = {}
    whole = 0.0
    for block in out.split("-----------+-------------------------------------------------------")[1:]:
        lines = [l for l in block.strip("\n").split("\n") if l.strip()]
        if not lines:
            continue
        m = re.match(r"\s*([\d.]+)(ms|s|us)\s+(.*)", lines[0])
        if not m:
            continue
        v = float(m.group(1)) * {"s": 1.0, "ms": 1e-3, "us": 1e-6}[m.group(2)]
        frames = [m.group(3)] + [l.strip() for l in lines[1:]]
        stage = "other"
        for name, pat in STAGES:
            if any(re.search(pat, f) for f in frames):
                stage = name
                break
        totals[stage] = totals.get(stage, 0) + v
        whole += v
    print(f"{'stage':42} {'CPU s':>8} {'share':>7}")
    for stage, v in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"{stage:42} {v:8.2f} {100 * v / whole:6.1f}%")
    print(f"{'all samples':42} {whole:8.2f}")


if __name__ == "__main__":
    main()
