#!/usr/bin/env bash
# `make regress-noise`: how much a throughput measurement moves from run to
# run, and how far the deliberately slowed build (-tags slowsink) moves it,
# before a candidate goes through the long error-rate runs
# (scripts/regress-errors.sh). Builds the working tree with and without
# slowsink, then per round and per candidate runs A then B (B then A on odd
# rounds) and prints per candidate and unit: each side's median and
# coefficient of variation, the change of the medians, and the spread of
# the adjacent pairs' ratios (a paired test gains only if that is smaller
# than the sides' own). A candidate is extra flags of `bench` and
# environment settings, e.g. "--backlog" or "GOMAXPROCS=1 --backlog".
# Environment: PAIRS (default 6), TICKS (default 300000), CANDIDATES
# (;-separated, default: the gate's old and new throughput workloads).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PAIRS="${PAIRS:-6}"
TICKS="${TICKS:-300000}"
CANDIDATES="${CANDIDATES:---ticks 200000;--backlog}"
if [[ ! $PAIRS =~ ^[0-9]+$ ]] || ((PAIRS < 2 || PAIRS > 100)); then
  echo "PAIRS=$PAIRS: allowed 2..100" >&2
  exit 2
fi
out=.tickbench/regress-noise
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
go build -o "$out/A" ./cmd/tickbench
go build -tags slowsink -o "$out/B" ./cmd/tickbench
IFS=';' read -r -a cands <<<"$CANDIDATES"

for ((r = 0; r < PAIRS; r++)); do
  for c in "${!cands[@]}"; do
    envs=() flags=()
    for w in ${cands[$c]}; do
      if [[ $w == --* || $w =~ ^[0-9]+$ ]]; then flags+=("$w"); else envs+=("$w"); fi
    done
    order="A B"
    ((r % 2 == 0)) || order="B A"
    for side in $order; do
      rm -rf "$out/s3"
      env "${envs[@]}" "$out/$side" bench --rate max --ticks "$TICKS" --seed 1 --symbols 100 --partitions 1 --topic regress \
        --quiet --lake-local-max 0 --flush-records 10000 --strategies jsonl --data-dir "$out/s3" \
        --out "$out/c$c/$side" --name "r$r" "${flags[@]}" >"$out/last.log" 2>&1 || { cat "$out/last.log"; exit 1; }
      # One line per run: round, unit value pairs of the benchmark line.
      grep -h '^Benchmark' "$out/c$c/$side"/*-r$r.bench.txt | sed "s/^/$r /" >>"$out/c$c/$side.txt"
    done
  done
done
rm -rf "$out/s3"

for c in "${!cands[@]}"; do
  echo "== candidate: ${cands[$c]}  ($PAIRS runs a side, A = this tree, B = -tags slowsink)"
  for unit in cpu-s/Mtick user-cpu-s/Mtick landed-ticks/s; do
    awk -v unit="$unit" '
      function med(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
        return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
      }
      function cv(a, n,   i, m, v) {
        for (i = 1; i <= n; i++) m += a[i] / n
        for (i = 1; i <= n; i++) v += (a[i] - m)^2 / (n - 1)
        return 100 * sqrt(v) / m
      }
      { for (i = 4; i < NF; i += 2) if ($(i+1) == unit) { if (FILENAME ~ /A.txt$/) a[++na] = $i; else b[++nb] = $i } }
      END {
        if (na == 0 || nb == 0) exit
        for (i = 1; i <= na && i <= nb; i++) q[i] = b[i] / a[i]
        ca = cv(a, na); cb = cv(b, nb); cq = cv(q, i - 1)
        ma = med(a, na); mb = med(b, nb)
        printf "%-17s A median %-10.4g CV %4.1f%%   B median %-10.4g CV %4.1f%%   change %+5.1f%%   B/A pairs CV %4.1f%%\n", unit, ma, ca, mb, cb, 100 * (mb - ma) / ma, cq
      }' "$out/c$c/A.txt" "$out/c$c/B.txt"
  done
done
