#!/usr/bin/env bash
# `make regress [BASE=<rev>]`: the CI performance gate, A/B against a base
# revision. Builds the base revision's tickbench (from a git worktree in a
# temp folder, removed after) and the current tree's, then runs the same
# fixed, seeded workloads with each, alternately A B B A A B ... (RUNS each,
# default 6), so that what the machine does meanwhile lands on both sides
# alike. `tickbench compare` then decides per unit (Mann-Whitney U, alpha
# 0.05, the threshold of RULES below) and the script exits 1 on a
# regression. Outputs in .tickbench/regress/: base/ and new/ (results,
# benchmark lines), compare.txt, compare.md, summary.md and report.html.
#
# Environment: BASE (default: the merge base with main, or HEAD~1 on main),
# RUNS, NEW_TAGS (build tags of the new binary: slowsink is the deliberately
# slowed build), BASE_BIN/NEW_BIN (use these binaries instead of building),
# ICOUNT (auto, perf, callgrind or none: how instructions are counted).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS="${RUNS:-6}"
NEW_TAGS="${NEW_TAGS:-}"
ICOUNT="${ICOUNT:-auto}"
out=.tickbench/regress
if [[ ! $RUNS =~ ^[0-9]+$ ]] || ((RUNS < 4 || RUNS > 50)); then
  echo "RUNS=$RUNS: allowed 4..50 (the U test cannot tell 3 runs from 3)" >&2
  exit 2
fi
start=$SECONDS

base_rev() {
  if [[ -n ${BASE:-} ]]; then
    echo "$BASE"
    return
  fi
  local main
  for main in main origin/main; do
    if git rev-parse -q --verify "$main^{commit}" >/dev/null; then
      if [[ $(git rev-parse HEAD) == $(git rev-parse "$main") ]]; then
        echo HEAD~1
      else
        git merge-base HEAD "$main"
      fi
      return
    fi
  done
  echo HEAD~1
}

rm -rf "$out"
mkdir -p "$out/bin" "$out/base" "$out/new"
out=$(cd "$out" && pwd)

if [[ -n ${BASE_BIN:-} ]]; then
  cp "$BASE_BIN" "$out/bin/base"
  base_label="$BASE_BIN"
else
  rev=$(base_rev)
  sha=$(git rev-parse -q --verify "$rev^{commit}") || {
    echo "BASE=$rev: not a commit of this repository (a shallow clone needs the base fetched: git fetch --depth=1 origin <sha>)" >&2
    exit 2
  }
  base_label="$rev ($(git log -1 --format=%h "$sha"))"
  wt=$(mktemp -d)
  trap 'git worktree remove --force "$wt/src" >/dev/null 2>&1 || true; rm -rf "$wt"' EXIT
  git worktree add -q --detach "$wt/src" "$sha"
  echo "== building base $base_label"
  (cd "$wt/src" && go build -o "$out/bin/base" ./cmd/tickbench)
  git worktree remove --force "$wt/src"
fi
if [[ -n ${NEW_BIN:-} ]]; then
  cp "$NEW_BIN" "$out/bin/new"
  new_label="$NEW_BIN"
else
  dirty=""
  if [[ -n $(git status --porcelain) ]]; then
    dirty=", with local changes"
  fi
  new_label="the working tree ($(git log -1 --format=%h HEAD)$dirty)${NEW_TAGS:+, -tags $NEW_TAGS}"
  echo "== building new: $new_label"
  go build -tags "$NEW_TAGS" -o "$out/bin/new" ./cmd/tickbench
fi

# The throughput workload: a fixed count as fast as the generator goes,
# then the sink alone consumes that backlog (--backlog): its CPU time and
# landed rate are then the sink's work (and the embedded servers' serving
# it), not diluted by the generator's or moved by how the two shared the
# CPU. A base older than --backlog runs generator and sink together on
# both sides; one older than --rate max also sends the count paced at
# TICKS per second.
# Each slot runs it COUNT times in one process and contributes their
# median, one sample per slot (compare --per-file median): runs of one
# process share its warm-up and the same seconds of the machine, so as
# separate samples they made the U test's p-values too small (A/A found 3
# "significant" moves in 30). The median of 3 moves less than one run.
TICKS=300000
COUNT=1
# (Captured first: grep -q closing the pipe early would fail the pipeline.)
help=$("$out/bin/base" bench -h 2>&1 || true)
if [[ $help == *"-backlog"* ]]; then
  COUNT=3
  throughput=(--rate max --ticks $TICKS --backlog --count $COUNT)
  tkey=rate=10000000
elif [[ $help == *"-ticks"* ]]; then
  echo "note: the base has no --backlog; both sides run generator and sink together"
  throughput=(--rate max --ticks $TICKS)
  tkey=rate=10000000
else
  echo "note: the base has no --rate max --ticks; both sides send the $TICKS ticks paced at $TICKS/s, generator and sink together"
  throughput=(--rate $TICKS --duration 1s)
  tkey=rate=$TICKS
fi
common=(--seed 1 --symbols 100 --partitions 1 --topic regress --quiet --lake-local-max 0)
# The latency workload: paced, every S3 request answered 20 ms late (a
# fixed floor that dwarfs the embedded server's own noise), three formats
# for the deterministic units of each, fed by one generator (parallel mode).
latency=(--rate 2000 --duration 1s --flush-records 200 --s3-faults latency=20ms --strategies jsonl,jsonl.gz,parquet-zstd --mode parallel)

# RULES: which unit the gate compares on which workload, and its threshold.
# CPU and instructions per tick catch a slower sink (CPU time moves ~10%
# from run to run on a shared machine; a sink 20% slower adds ~18% to the
# backlog's); throughput, latency and memory are noisier, so their
# thresholds are wider (the backlog's landed rate also moves by the 50 ms
# the drain is polled at, ~13% of a 0.4 s drain); bytes, objects, PUTs and
# scans are deterministic.
RULES="$tkey:cpu-s/Mtick=10%,$tkey:landed-ticks/s=25%,$tkey:peak-rss-B=20%,counter=:instructions/tick=2%"
RULES+=",rate=2000:e2e-p50-us=15%,rate=2000:e2e-p99-us=25%,rate=2000:upload-p50-us=15%,rate=2000:achieved/target=2%"
RULES+=",bytes/tick=1%,objects=1%,puts/Mtick=1%,scan-B/query=1%"

# Instructions per tick: perf stat counts them during the throughput run
# where the machine has the counter; elsewhere callgrind counts a small
# fixed-count run (deterministic: one thread, no GC, no preemption signals).
install_pkg() { # install_pkg BINARY PACKAGE: on CI only, quietly
  command -v "$1" >/dev/null && return 0
  [[ ${CI:-} == true ]] || return 1
  echo "== installing $2 (for $1)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; } >/dev/null 2>&1
  command -v "$1" >/dev/null
}
if [[ $ICOUNT == auto ]]; then
  ICOUNT=none
  if install_pkg perf linux-perf && [[ $(perf stat -x, -e instructions true 2>&1 >/dev/null) =~ ^[0-9] ]]; then
    ICOUNT=perf
  elif install_pkg valgrind valgrind; then
    ICOUNT=callgrind
  fi
fi
CG_TICKS=5000
case $ICOUNT in
perf) echo "instructions: perf stat -e instructions over each throughput run" ;;
callgrind) echo "instructions: perf stat says <not supported> here; callgrind counts a $CG_TICKS-tick run per slot instead" ;;
none) echo "instructions: not counted (no perf counter, no valgrind; CI installs them)" ;;
*)
  echo "ICOUNT=$ICOUNT: allowed auto, perf, callgrind, none" >&2
  exit 2
  ;;
esac

# icount_line SIDE COUNTER INSTRUCTIONS TICKS N writes slot N's benchmark
# line, a file per slot (compare takes one sample per file).
icount_line() {
  [[ $3 =~ ^[0-9]+$ ]] || { echo "instruction count of $1 not found: '$3'" >&2; exit 1; }
  echo "BenchmarkTickbench/strategy=jsonl/$tkey/counter=$2 1 $(($3 / $4)) instructions/tick" >"$out/$1/icount$5.bench.txt"
}

# slot SIDE N: one run of each workload with SIDE's binary.
slot() {
  local side=$1 n=$2 bin="$out/bin/$1" dir="$out/$1" log="$out/$1/run$2.log"
  local t=("$bin" bench "${throughput[@]}" "${common[@]}" --flush-records 10000 --strategies jsonl
    --data-dir "$out/s3" --out "$dir" --name "throughput-$n")
  if [[ $ICOUNT == perf ]]; then
    perf stat -x, -e instructions -o "$dir/perf$n.csv" -- "${t[@]}" >"$log" 2>&1 || { cat "$log"; return 1; }
    icount_line "$side" perf "$(grep -m1 ',instructions' "$dir/perf$n.csv" | cut -d, -f1)" $((TICKS * COUNT)) "$n"
  else
    "${t[@]}" >"$log" 2>&1 || { cat "$log"; return 1; }
  fi
  rm -rf "$out/s3"
  "$bin" bench "${latency[@]}" "${common[@]}" --data-dir "$out/s3" --out "$dir" --name "latency-$n" >>"$log" 2>&1 || { cat "$log"; return 1; }
  rm -rf "$out/s3"
  if [[ $ICOUNT == callgrind ]]; then
    local c=("$bin" bench --rate max --ticks $CG_TICKS "${common[@]}" --flush-records 1000 --strategies jsonl
      --data-dir "$out/s3" --out "$dir/callgrind" --name "callgrind-$n")
    [[ $tkey == rate=10000000 ]] || c=("$bin" bench --rate $CG_TICKS --duration 1s "${common[@]}" --flush-records 1000 --strategies jsonl
      --data-dir "$out/s3" --out "$dir/callgrind" --name "callgrind-$n")
    GOGC=off GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      --log-file="$dir/callgrind$n.log" "${c[@]}" >>"$log" 2>&1 || { cat "$log" "$dir/callgrind$n.log"; return 1; }
    icount_line "$side" callgrind "$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$dir/callgrind$n.log")" $CG_TICKS "$n"
    rm -rf "$out/s3"
  fi
}

echo "== $RUNS runs each, interleaved A B B A ...: A = base $base_label, B = new $new_label"
for ((i = 0; i < 2 * RUNS; i++)); do
  if ((i % 4 == 0 || i % 4 == 3)); then side=base letter=A; else side=new letter=B; fi
  printf '%s ' "$letter"
  slot "$side" "$i"
done
echo

new=("$out/bin/new")
echo "== tickbench compare (new vs base)"
set +e
"${new[@]}" compare --per-file median --units "$RULES" --markdown "$out/compare.md" "$out/base" "$out/new" | tee "$out/compare.txt"
verdict=${PIPESTATUS[0]}
set -e
"${new[@]}" report --base "$out/base" --units "$RULES" -o "$out/report.html" --markdown "$out/summary.md" "$out/new" >/dev/null
echo "report     $out/report.html, $out/summary.md ($((SECONDS - start)) s in all)"
exit "$verdict"
