#!/usr/bin/env bash
# `make dist`: one run spread over OS processes on this machine, exactly as
# docs/distributed.md runs it by hand on several hosts: SHARDS generator
# shards with a shared start, SINKS sink members of one consumer group, then
# merge, verify and report. Needs the local stack (`make up`, or
# `make up BROKERS=3`).
#
# Env: RATE (ticks/s of the whole run, default 30000), DURATION (Ns, Nm or
# Nh, default 30s), SHARDS (3), SINKS (2), STRATEGY (jsonl), ARGS (extra sink
# flags), OUT (default results/dist-<UTC>).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RATE="${RATE:-30000}"
DURATION="${DURATION:-30s}"
SHARDS="${SHARDS:-3}"
SINKS="${SINKS:-2}"
STRATEGY="${STRATEGY:-jsonl}"
ARGS="${ARGS:-}"
BIN=./bin/tickbench

case "$DURATION" in
*s) secs="${DURATION%s}" ;;
*m) secs=$((${DURATION%m} * 60)) ;;
*h) secs=$((${DURATION%h} * 3600)) ;;
*) secs="" ;;
esac
if ! [[ "$secs" =~ ^[0-9]+$ ]]; then
  echo "dist: DURATION=$DURATION: allowed a whole number with s, m or h (e.g. 30s, 5m)" >&2
  exit 2
fi

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${OUT:-results/dist-$stamp}"
mkdir -p "$OUT"
topic="dist-$stamp"
group="dist-$stamp"
prefix="runs/dist-$stamp/$STRATEGY/"
# The start leaves every process time to start and the sinks to join the
# group; the sinks drain once the producers' schedule is over, plus a grace
# for the last acknowledgements.
start="$(date -u -d "+6 seconds" +%Y-%m-%dT%H:%M:%SZ)"
drain="$(date -u -d "$start + $((secs + 5)) seconds" +%Y-%m-%dT%H:%M:%SZ)"
echo "dist: $SHARDS shards x $RATE ticks/s for $DURATION from $start, $SINKS sinks ($STRATEGY) draining at $drain; files in $OUT"

pids=()
for ((i = 0; i < SHARDS; i++)); do
  "$BIN" produce --stack local --topic "$topic" --rate "$RATE" --duration "$DURATION" \
    --shard "$i/$SHARDS" --start-at "$start" --result "$OUT/produce-$i.json" >"$OUT/produce-$i.log" 2>&1 &
  pids+=($!)
done
for ((j = 0; j < SINKS; j++)); do
  # shellcheck disable=SC2086 # ARGS is a list of flags
  "$BIN" sink --stack local --topic "$topic" --group "$group" --prefix "$prefix" --strategy "$STRATEGY" \
    --drain-at "$drain" --result "$OUT/sink-$j.json" $ARGS >"$OUT/sink-$j.log" 2>&1 &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
if [[ $failed == 1 ]]; then
  echo "dist: a process failed; its log is in $OUT:" >&2
  tail -n 5 "$OUT"/*.log >&2
  exit 1
fi
"$BIN" merge --out "$OUT/merged.json" "$OUT"/produce-*.json "$OUT"/sink-*.json
"$BIN" verify --stack local --prefix "$prefix" --result "$OUT/merged.json"
"$BIN" report -o "$OUT/merged.html" "$OUT/merged.json"
