#!/usr/bin/env bash
# `make regress`: the CI performance gate. Runs a short fixed, seeded
# workload RUNS times (default 5) on the embedded stack and compares it with the
# committed baseline (results/baseline/) on machine-independent units only:
# bytes/tick, objects, PUTs per million ticks, achieved/target rate and the
# modelled Athena bytes scanned per standard query. Exits
# non-zero when one of them regressed by more than THRESHOLD with
# significance (Mann-Whitney U, alpha 0.05).
# `make baseline` (scripts/regress.sh baseline) refreshes the baseline.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS="${RUNS:-5}"
THRESHOLD="${THRESHOLD:-10%}"
UNITS="bytes/tick,objects,puts/Mtick,achieved/target,scan-B/query"
BIN=bin/tickbench
out=.tickbench/regress
rm -rf "$out"
mkdir -p "$out"
go build -o "$BIN" ./cmd/tickbench

# The fixed workload: 1,000 ticks/s for 2 s, seed 1, one partition, a flush
# every 100 records, three formats. Change it only together with the baseline.
./"$BIN" bench --count "$RUNS" --rate 1000 --duration 2s --seed 1 --symbols 100 --partitions 1 \
  --topic regress --flush-records 100 --strategies jsonl,jsonl.gz,parquet-zstd --quiet \
  --data-dir "$out/s3" --out "$out/runs" --name regress > "$out/bench.log" ||
  { cat "$out/bench.log"; exit 1; }

if [[ "${1:-}" == baseline ]]; then
  mkdir -p results/baseline
  rm -f results/baseline/*.bench.txt
  cp "$out"/runs/*.bench.txt results/baseline/regress.bench.txt
  echo "baseline: results/baseline/regress.bench.txt ($RUNS runs of $(grep -c ^Benchmark results/baseline/regress.bench.txt) lines); commit it"
  exit 0
fi

echo "== benchstat on the gate's units and e2e p99 (for reading; the gate is the compare below)"
filter=".unit:(${UNITS//,/ OR } OR e2e-p99-us)"
go run golang.org/x/perf/cmd/benchstat -filter "$filter" results/baseline/*.bench.txt "$out"/runs/*.bench.txt || true
echo "== tickbench compare on $UNITS (threshold $THRESHOLD)"
./"$BIN" compare --units "$UNITS" --threshold "$THRESHOLD" results/baseline "$out/runs"
