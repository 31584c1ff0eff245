#!/usr/bin/env bash
# A real, single-node Apache Kafka broker (KRaft combined broker+controller) on
# 127.0.0.1 for integration tests and benchmarks. No Docker and no tarball: the
# broker jars come from Maven Central through mvn (scripts/kafka/pom.xml).
#
# Usage: scripts/kafka.sh up|down|restart|status|logs
#        scripts/kafka.sh perf-producer ARGS...   (org.apache.kafka.tools.ProducerPerformance)
#        scripts/kafka.sh tool MAIN_CLASS ARGS... (any class from the kafka-tools jars)
#
# After `up`, .tickbench/run/kafka/state.env holds:
#   KAFKA_BROKERS=127.0.0.1:PORT   bootstrap address (PLAINTEXT)
#   KAFKA_PID=...                  broker JVM pid
#   KAFKA_VERSION=...              Kafka version of the jars
#   KAFKA_SASL_BROKERS=127.0.0.1:PORT  SASL_PLAINTEXT listener, SCRAM-SHA-512
#   KAFKA_SASL_USER=tickbench      its user, created at format time with
#   KAFKA_SASL_PASSWORD=...        a password generated at each `up`
# `restart` stops the broker (SIGTERM) and starts it again on the same ports
# and data dir, as a broker restart in production would: nothing is lost.
#
# Env overrides: TICKBENCH_KAFKA_VERSION (default 4.1.2; all jars share it),
#   TICKBENCH_KAFKA_HEAP (default "-Xmx512m -Xms256m"),
#   TICKBENCH_KAFKA_START_TIMEOUT seconds (default 90), JAVA_HOME.
set -euo pipefail

TB_NAME=kafka # prefix of log() lines
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION="${TICKBENCH_KAFKA_VERSION:-4.1.2}"
KAFKA_HEAP="${TICKBENCH_KAFKA_HEAP:--Xmx512m -Xms256m}"
START_TIMEOUT="${TICKBENCH_KAFKA_START_TIMEOUT:-90}"

POM_DIR="$TB_ROOT/scripts/kafka"
KCACHE="$TB_CACHE/kafka-$KAFKA_VERSION"
LIBS="$KCACHE/libs"             # broker: kafka_2.13 + log4j binding
TOOLS_LIBS="$KCACHE/tools-libs" # kafka-tools: pulls connect-runtime, kept apart
MARKER="$KCACHE/.complete"
# Maven's local repository lives in the cache too, so a clone is self-contained.
M2_REPO="$TB_CACHE/m2"

RUN="$TB_RUN/kafka"
DATA="$RUN/data"
STATE="$RUN/state.env"
CONFIG="$RUN/server.properties"
BROKER_LOG="$RUN/broker.log"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

# Fetch the jars once; the marker file is written only after both sets landed.
fetch() {
  if [[ -f "$MARKER" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch Kafka jars)"
  log "fetching Kafka $KAFKA_VERSION jars with mvn (first run only)"
  # Work in a scratch dir so an interrupted fetch never looks complete.
  rm -rf "$TB_CACHE"/.kafka-fetch.*
  local tmp
  tmp="$(mktemp -d "$TB_CACHE/.kafka-fetch.XXXXXX")"
  local mvn_args=(-q -B -Dstyle.color=never "-Dmaven.repo.local=$M2_REPO"
    "-Dkafka.version=$KAFKA_VERSION" dependency:copy-dependencies -DincludeScope=runtime)
  # mvn's output goes to a file, shown only on failure (Debian's Maven 3.8
  # prints stray colour codes even with -q).
  local mvn_log="$TB_CACHE/kafka-$KAFKA_VERSION-fetch.log"
  if ! mvn "${mvn_args[@]}" -f "$POM_DIR/pom.xml" "-DoutputDirectory=$tmp/libs" </dev/null >"$mvn_log" 2>&1 ||
    ! mvn "${mvn_args[@]}" -f "$POM_DIR/tools-pom.xml" "-DoutputDirectory=$tmp/tools-libs" </dev/null >>"$mvn_log" 2>&1; then
    tail -n 40 "$mvn_log" >&2
    die "mvn could not fetch the Kafka jars (full output: $mvn_log)"
  fi
  [[ -f "$tmp/libs/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"
  [[ -f "$tmp/tools-libs/kafka-tools-$KAFKA_VERSION.jar" ]] || die "kafka-tools-$KAFKA_VERSION.jar missing after fetch"
  rm -rf "$LIBS" "$TOOLS_LIBS"
  mkdir -p "$KCACHE"
  mv "$tmp/libs" "$LIBS"
  mv "$tmp/tools-libs" "$TOOLS_LIBS"
  rm -rf "$tmp" "$mvn_log"
  date -u +%FT%TZ >"$MARKER"
  local broker_jars=("$LIBS"/*.jar) tools_jars=("$TOOLS_LIBS"/*.jar)
  log "cached ${#broker_jars[@]} broker jars and ${#tools_jars[@]} tools jars in ${KCACHE#"$TB_ROOT"/}"
}

# Run a main class from the tools jars, logging warnings to stderr only.
run_tool() {
  local cls="$1"
  shift
  "$JAVA" -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$POM_DIR/log4j2-tools.xml" \
    -cp "$TOOLS_LIBS/*" "$cls" "$@"
}

# Show why a start failed: JVM output (crashes, bad flags) and the broker log.
show_failure() {
  local f
  for f in "$RUN/stdout.log" "$BROKER_LOG"; do
    if [[ -s "$f" ]]; then
      log "tail of ${f#"$TB_ROOT"/}:"
      tail -n 40 "$f" >&2
    fi
  done
}

running_pid() {
  local pid
  pid="$(read_state "$STATE" KAFKA_PID)"
  if pid_matches "$pid" "$CONFIG"; then printf '%s' "$pid"; fi
}

write_config() {
  local port="$1" cport="$2" sport="$3"
  cat >"$CONFIG" <<EOF
# Written by scripts/kafka.sh at each start; edits are lost.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_PLAINTEXT://127.0.0.1:$sport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_PLAINTEXT://127.0.0.1:$sport
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
log.dirs=$DATA
# Clients may authenticate with SCRAM-SHA-512 on the SASL_PLAINTEXT listener
# (its user is created at format time); brokers talk PLAINTEXT among themselves.
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;

# Single node: every internal topic must live with one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
default.replication.factor=1
# Fewer internal partitions than the default 50: a 2-core machine, one broker.
offsets.topic.num.partitions=6
transaction.state.log.num.partitions=6
share.coordinator.state.topic.num.partitions=6

# Tests want groups to start at once and topics to exist only when created.
group.initial.rebalance.delay.ms=0
# Lets tests use short sessions, so a SIGKILLed sink's partitions move on quickly.
group.min.session.timeout.ms=1000
num.partitions=6
auto.create.topics.enable=false
EOF
}

cmd_up() {
  tb_init_dirs
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    log "already running: pid $pid, $(read_state "$STATE" KAFKA_BROKERS)"
    return 0
  fi
  # A state file whose pid is gone is left over from a crash or reboot.
  rm -rf "$DATA" "$STATE" "$STATE.tmp"

  fetch
  command -v "$JAVA" >/dev/null || die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
  local java_major
  java_major="$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
  [[ "${java_major:-0}" -ge 17 ]] || die "Kafka $KAFKA_VERSION needs Java 17+, $JAVA is ${java_major:-unknown}"

  mkdir -p "$RUN"
  local port cport sport
  read -r port cport sport < <(free_ports 3)
  write_config "$port" "$cport" "$sport"
  # A SCRAM user for the SASL listener, with a password of this start only.
  local sasl_user=tickbench sasl_password
  sasl_password="$(random_alnum 24)"

  # --standalone formats a dynamic quorum whose only voter is this node.
  # StorageTool lives in kafka_2.13, so it runs from the broker jars.
  local storage_tool=("$JAVA" -Xmx256m "-Dlog4j2.configurationFile=$POM_DIR/log4j2-tools.xml"
    -cp "$LIBS/*" kafka.tools.StorageTool)
  local cluster_id
  cluster_id="$("${storage_tool[@]}" random-uuid)" || die "StorageTool random-uuid failed"
  "${storage_tool[@]}" format -c "$CONFIG" -t "$cluster_id" --standalone \
    --add-scram "SCRAM-SHA-512=[name=\"$sasl_user\",password=\"$sasl_password\"]" >"$RUN/format.log" 2>&1 ||
    { cat "$RUN/format.log" >&2; die "formatting the log dir failed"; }

  {
    echo "KAFKA_BROKERS=127.0.0.1:$port"
    echo "KAFKA_SASL_BROKERS=127.0.0.1:$sport"
    echo "KAFKA_SASL_USER=$sasl_user"
    echo "KAFKA_SASL_PASSWORD=$sasl_password"
    echo "KAFKA_VERSION=$KAFKA_VERSION"
  } >"$STATE.tmp"
  start_broker "$port" || { rm -f "$STATE.tmp"; rm -rf "$DATA"; die "Kafka failed to start"; }
  mv "$STATE.tmp" "$STATE"
  log "Kafka $KAFKA_VERSION up: 127.0.0.1:$port, SASL/SCRAM-SHA-512 on 127.0.0.1:$sport (pid $(read_state "$STATE" KAFKA_PID))"
}

# start_broker PORT: start the JVM on $CONFIG, append KAFKA_PID to
# $STATE.tmp and wait until it serves PORT; on failure it is stopped.
start_broker() {
  local port="$1" pid
  if [[ -f "$BROKER_LOG" ]]; then mv -f "$BROKER_LOG" "$BROKER_LOG.prev"; fi
  # setsid: the broker must outlive this script and not get the caller's signals.
  # The config path in its command line lets us tell our JVM from any other.
  # shellcheck disable=SC2086
  setsid "$JAVA" $KAFKA_HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$POM_DIR/log4j2-broker.xml" "-Dkafka.logs.dir=$RUN" \
    -cp "$LIBS/*" kafka.Kafka "$CONFIG" \
    </dev/null >"$RUN/stdout.log" 2>&1 &
  pid=$!
  echo "KAFKA_PID=$pid" >>"$STATE.tmp"

  # Ready = port accepts connections AND the broker says it finished starting
  # (it logs that line only after it is unfenced by its controller).
  local deadline=$((SECONDS + START_TIMEOUT))
  until port_open "$port" && grep -q "Kafka Server started" "$BROKER_LOG" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "broker exited during startup"
      show_failure
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "broker not ready after ${START_TIMEOUT}s"
      show_failure
      stop_pid "$pid" "$CONFIG" 15
      return 1
    fi
    sleep 0.3
  done
}

# cmd_restart stops the running broker and starts it again with the same
# config (ports) and data dir: a rolling restart of a one-node cluster.
cmd_restart() {
  local pid port
  pid="$(running_pid)"
  [[ -n "$pid" ]] || die "not running: nothing to restart (use up)"
  log "stopping pid $pid for a restart"
  stop_pid "$pid" "$CONFIG" 30
  port="$(read_state "$STATE" KAFKA_BROKERS)"
  port="${port##*:}"
  grep -v '^KAFKA_PID=' "$STATE" >"$STATE.tmp"
  start_broker "$port" || { rm -f "$STATE.tmp"; die "Kafka failed to restart (data kept in ${DATA#"$TB_ROOT"/})"; }
  mv "$STATE.tmp" "$STATE"
  log "Kafka restarted: 127.0.0.1:$port (pid $(read_state "$STATE" KAFKA_PID))"
}

cmd_down() {
  # Combined mode shuts down cleanly in a few seconds; a data dir we delete
  # anyway does not need more patience than that.
  tb_down KAFKA_PID "$CONFIG" 20
}

cmd_status() {
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    # The password stays in the file; status is often pasted into CI logs.
    sed 's/^KAFKA_SASL_PASSWORD=.*/KAFKA_SASL_PASSWORD=(see state.env)/' "$STATE"
  else
    echo "not running"
  fi
}

cmd_logs() {
  tb_logs "$BROKER_LOG" broker
}

# ProducerPerformance flags (Kafka 4.1.2; `perf-producer --help` prints them),
# all passed through unchanged:
#   --topic T                   topic to produce to (must exist: auto-create is off;
#                               create one with `tool org.apache.kafka.tools.TopicCommand
#                               --bootstrap-server $KAFKA_BROKERS --create --topic T ...`)
#   --num-records N             records to send
#   --record-size B | --payload-file F [--payload-delimiter D] | --payload-monotonic
#   --throughput R              records/s cap, -1 for none
#   --producer-props k=v ...    producer configs; there is no --bootstrap-server flag,
#                               so pass bootstrap.servers=$KAFKA_BROKERS here
#   --producer.config FILE      producer configs from a file (props above win)
#   --print-metrics             dump producer metrics at the end
#   --transactional-id ID / --transaction-duration-ms MS   transactional sends
# Its last stdout line: "N records sent, X records/sec (Y MB/sec), A ms avg
# latency, M ms max latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th."
# Latency is taken from the actual send, not the intended one (coordinated omission).
# Example:
#   source .tickbench/run/kafka/state.env
#   scripts/kafka.sh perf-producer --topic perf --num-records 1000000 --record-size 100 \
#     --throughput -1 --producer-props bootstrap.servers=$KAFKA_BROKERS acks=all linger.ms=5
cmd_perf_producer() {
  tb_init_dirs
  fetch
  run_tool org.apache.kafka.tools.ProducerPerformance "$@"
}

cmd_tool() {
  [[ $# -ge 1 ]] || die "usage: $0 tool MAIN_CLASS ARGS..."
  tb_init_dirs
  fetch
  run_tool "$@"
}

tb_dispatch "up|down|restart|status|logs|perf-producer ARGS...|tool MAIN_CLASS ARGS..." "$@"
