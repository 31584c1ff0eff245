#!/usr/bin/env bash
# Kafka's own producer perf tool and tickbench's producer, one after the
# other against the same real broker (`make up`), with the same records
# (tick JSON lines as the perf tool's payload file), count, acks=all,
# compression, linger and batch size. Prints both summaries and the ratio.
#
# Usage: scripts/compare-producer.sh [COUNT]   (default 1,000,000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

count="${1:-1000000}"
compression="${COMPRESSION:-snappy}"
state=.tickbench/run/kafka/state.env
[[ -f $state ]] || { echo "no local broker: run \`make up\` first" >&2; exit 1; }
# shellcheck disable=SC1090
source "$state"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
./bin/tickbench ticks --count 100000 > "$work/payload.txt"
avg_size="$(awk '{ n += length($0) } END { printf "%.0f", n / NR }' "$work/payload.txt")"
run="$(date +%s)"

# The broker does not auto-create topics; both get 6 partitions and the
# brokers' default replication factor, as tickbench's own topics do.
for who in kafka tickbench; do
  bash scripts/kafka.sh tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" \
    --create --topic "compare-$who-$run" --partitions 6 >/dev/null
done

echo "== kafka-producer-perf-test (Kafka $KAFKA_VERSION): $count records, ~${avg_size} B tick payloads, acks=all, $compression"
bash scripts/kafka.sh perf-producer --topic "compare-kafka-$run" --num-records "$count" \
  --payload-file "$work/payload.txt" --throughput -1 \
  --producer-props "bootstrap.servers=$KAFKA_BROKERS" acks=all "compression.type=$compression" \
  linger.ms=5 batch.size=1048576 enable.idempotence=true | tee "$work/kafka.out"
kafka_rate="$(tail -n 1 "$work/kafka.out" | sed -E 's/.*records sent, ([0-9.]+) records\/sec.*/\1/')"

echo "== tickbench produce: $count records, acks=all, $compression"
./bin/tickbench produce --brokers "$KAFKA_BROKERS" --topic "compare-tickbench-$run" --count "$count" \
  --acks all --compression "$compression" --linger 5ms | tee "$work/tickbench.out"
tb_rate="$(tail -n 1 "$work/tickbench.out" | sed -E 's/.*records sent, ([0-9.]+) records\/sec.*/\1/')"

awk -v k="$kafka_rate" -v t="$tb_rate" 'BEGIN {
  printf "\nrecords/s  kafka-producer-perf-test %.0f  tickbench %.0f  ratio tickbench/kafka %.2f\n", k, t, t / k }'
