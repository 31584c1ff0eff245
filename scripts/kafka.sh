#!/usr/bin/env bash
# A real Apache Kafka cluster on 127.0.0.1 for integration tests and
# benchmarks: one KRaft node (combined broker+controller) by default, or
# BROKERS=N of them (1..5), each a broker and a voter of one static controller
# quorum. No Docker and no tarball: the broker jars come from Maven Central
# through mvn (scripts/kafka/pom.xml).
#
# Usage: scripts/kafka.sh up|down|restart|status|logs
#        scripts/kafka.sh broker-stop I | broker-start I   (one node of a cluster)
#        scripts/kafka.sh perf-producer ARGS...   (org.apache.kafka.tools.ProducerPerformance)
#        scripts/kafka.sh tool MAIN_CLASS ARGS... (any class from the kafka-tools jars)
#
# After `up`, .tickbench/run/kafka/state.env holds:
#   KAFKA_BROKERS=127.0.0.1:PORT,...  bootstrap addresses (PLAINTEXT), one per node
#   KAFKA_BROKER_COUNT=N           nodes of the cluster
#   KAFKA_PID_I=...                JVM pid of node I (1..N; gone while it is stopped)
#   KAFKA_VERSION=...              Kafka version of the jars
#   KAFKA_SASL_BROKERS=127.0.0.1:PORT,...  SASL_PLAINTEXT listeners, SCRAM-SHA-512
#   KAFKA_SASL_USER=tickbench      its user, created at format time with
#   KAFKA_SASL_PASSWORD=...        a password generated at each `up`
# With TLS=1 (certificates from scripts/certs.sh), each node has five TLS
# listeners more, and the state says where (one address per node each):
#   KAFKA_SSL_BROKERS=...          SSL, the server certificate of TLS_CA
#   KAFKA_SASL_SSL_BROKERS=...     SASL_SSL, SCRAM-SHA-512 (the user above)
#   KAFKA_MTLS_BROKERS=...         SSL with ssl.client.auth=required
#   KAFKA_TLS_EXPIRED_BROKERS=...  SSL with an expired certificate
#   KAFKA_TLS_WRONGHOST_BROKERS=...  SSL with a certificate for another host
#   KAFKA_TLS_CA=... KAFKA_TLS_CLIENT_CERT=... KAFKA_TLS_CLIENT_KEY=...  PEM files
# With FAULTS=1 each node has a PLAINTEXT listener more, PROXIED, that
# advertises the address of a proxy in front of it (scripts/faults.sh
# starts the proxies), so that a client bootstrapped there reaches every
# broker through its proxy only:
#   KAFKA_PROXIED_BROKERS=...      the proxies' addresses (advertised)
#   KAFKA_PROXIED_UPSTREAMS=...    the listeners behind them
# Node I keeps its config, data and logs in .tickbench/run/kafka/node-I/.
# Replication follows the node count: new topics (created with replication
# factor -1, the broker default) and internal topics get min(N, 3) replicas,
# and min.insync.replicas is 2 from 3 nodes on, so a cluster of 3 takes acks=all
# writes with one node down.
# `restart` stops each node (SIGTERM) and starts it again on the same ports and
# data dir, one after the other, as a rolling restart in production would:
# nothing is lost. `broker-stop I` stops node I (SIGTERM, a controlled
# shutdown) and leaves it down; `broker-start I` brings it back.
#
# Env overrides: BROKERS node count for `up` (default 1), TLS=1, FAULTS=1,
#   TICKBENCH_KAFKA_VERSION (default 4.1.2; all jars share it),
#   TICKBENCH_KAFKA_HEAP (default "-Xmx512m -Xms256m" for one node,
#   "-Xmx384m -Xms128m" each for more), TICKBENCH_KAFKA_START_TIMEOUT seconds
#   (default 90), JAVA_HOME.
set -euo pipefail

TB_NAME=kafka # prefix of log() lines
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION="${TICKBENCH_KAFKA_VERSION:-4.1.2}"
KAFKA_HEAP="${TICKBENCH_KAFKA_HEAP:--Xmx512m -Xms256m}" # more nodes: cluster_heap
START_TIMEOUT="${TICKBENCH_KAFKA_START_TIMEOUT:-90}"

POM_DIR="$TB_ROOT/scripts/kafka"
KCACHE="$TB_CACHE/kafka-$KAFKA_VERSION"
LIBS="$KCACHE/libs"             # broker: kafka_2.13 + log4j binding
TOOLS_LIBS="$KCACHE/tools-libs" # kafka-tools: pulls connect-runtime, kept apart
MARKER="$KCACHE/.complete"
# Maven's local repository lives in the cache too, so a clone is self-contained.
M2_REPO="$TB_CACHE/m2"

RUN="$TB_RUN/kafka"
STATE="$RUN/state.env"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

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

# Node I's files: config, data dir, logs. The config path in a JVM's command
# line tells our node I from any other process.
node_dir() { printf '%s/node-%s' "$RUN" "$1"; }
node_config() { printf '%s/server.properties' "$(node_dir "$1")"; }

# node_count: nodes of the cluster that `up` started (empty if none).
node_count() {
  local n
  n="$(read_state "$STATE" KAFKA_BROKER_COUNT)"
  [[ -n "$n" ]] || n="$(read_state "$STATE.tmp" KAFKA_BROKER_COUNT)"
  printf '%s' "$n"
}

# node_pid I: node I's JVM pid if it is alive, else nothing.
node_pid() {
  local pid
  pid="$(read_state "$STATE" "KAFKA_PID_$1")"
  [[ -n "$pid" ]] || pid="$(read_state "$STATE.tmp" "KAFKA_PID_$1")"
  if pid_matches "$pid" "$(node_config "$1")"; then printf '%s' "$pid"; fi
}

# running_nodes: the ids of the live nodes, space-separated.
running_nodes() {
  local i n out=()
  n="$(node_count)"
  for ((i = 1; i <= ${n:-0}; i++)); do
    if [[ -n "$(node_pid "$i")" ]]; then out+=("$i"); fi
  done
  printf '%s' "${out[*]}"
}

# node_addr LIST_KEY I: node I's entry of a comma-separated address list.
node_addr() {
  local list
  list="$(read_state "$STATE" "$1")"
  [[ -n "$list" ]] || list="$(read_state "$STATE.tmp" "$1")"
  cut -d, -f "$2" <<<"$list"
}

# set_state KEY VALUE: replace KEY's line in $STATE (an empty VALUE drops it).
set_state() {
  { grep -v "^$1=" "$STATE" || true; [[ -z "$2" ]] || echo "$1=$2"; } >"$STATE.new"
  mv "$STATE.new" "$STATE"
}

# check_node I: I must be a node of the cluster.
check_node() {
  local n
  n="$(node_count)"
  [[ -n "$n" ]] || die "not running: no cluster (use up)"
  [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= n)) || die "node '$1': allowed 1..$n"
}

# Show why a start failed: JVM output (crashes, bad flags) and the broker log.
show_failure() {
  local f dir
  dir="$(node_dir "$1")"
  for f in "$dir/stdout.log" "$dir/broker.log"; do
    if [[ -s "$f" ]]; then
      log "tail of ${f#"$TB_ROOT"/}:"
      tail -n 40 "$f" >&2
    fi
  done
}

# TLS listeners of TLS=1: name, security protocol, certificate pair (keys of
# the certs state), client auth.
TLS_LISTENERS=(
  "SSL SSL SERVER none"
  "SASL_SSL SASL_SSL SERVER none"
  "MTLS SSL SERVER required"
  "EXPIRED SSL EXPIRED none"
  "WRONGHOST SSL WRONGHOST none"
)
# The state keys of their addresses, in the same order.
TLS_KEYS=(KAFKA_SSL_BROKERS KAFKA_SASL_SSL_BROKERS KAFKA_MTLS_BROKERS KAFKA_TLS_EXPIRED_BROKERS KAFKA_TLS_WRONGHOST_BROKERS)
CERTS_STATE="$TB_RUN/certs/state.env"

# pem_value FILE: a PEM file as one properties value (newlines as \n).
pem_value() { awk '{printf "%s\\n", $0}' "$1"; }

# tls_config PORT...: the listeners of TLS_LISTENERS on these ports, as
# three variables: TLS_LISTEN (",NAME://127.0.0.1:PORT" each), TLS_MAP
# (",NAME:PROTOCOL" each) and TLS_PROPS (their per-listener settings). Kafka
# takes PEM key stores inline (a PEM key store file would need an encrypted
# key) and a PEM trust store file.
tls_config() {
  local i name proto pair auth lc
  TLS_LISTEN="" TLS_MAP="" TLS_PROPS=""
  for ((i = 0; i < ${#TLS_LISTENERS[@]}; i++)); do
    read -r name proto pair auth <<<"${TLS_LISTENERS[i]}"
    lc="${name,,}"
    TLS_LISTEN+=",$name://127.0.0.1:$1"
    TLS_MAP+=",$name:$proto"
    TLS_PROPS+="listener.name.$lc.ssl.keystore.type=PEM
listener.name.$lc.ssl.keystore.certificate.chain=$(pem_value "$(read_state "$CERTS_STATE" "TLS_${pair}_CERT")")
listener.name.$lc.ssl.keystore.key=$(pem_value "$(read_state "$CERTS_STATE" "TLS_${pair}_KEY")")
"
    if [[ "$auth" == required ]]; then
      TLS_PROPS+="listener.name.$lc.ssl.client.auth=required
listener.name.$lc.ssl.truststore.type=PEM
listener.name.$lc.ssl.truststore.location=$(read_state "$CERTS_STATE" TLS_CA)
"
    fi
    if [[ "$proto" == SASL_SSL ]]; then
      TLS_PROPS+="listener.name.$lc.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
"
    fi
    shift
  done
}

# write_config I N PORT CPORT SPORT QUORUM [TLS_PORT...]: node I of N,
# QUORUM the line that names the controllers, the TLS listeners' ports if
# TLS=1.
write_config() {
  local id="$1" n="$2" port="$3" cport="$4" sport="$5" quorum="$6"
  shift 6
  local dir rf=$((n < 3 ? n : 3)) isr=$((n >= 3 ? 2 : 1))
  TLS_LISTEN="" TLS_MAP="" TLS_PROPS=""
  if (($#)); then tls_config "$@"; fi
  dir="$(node_dir "$id")"
  mkdir -p "$dir"
  cat >"$dir/server.properties" <<CONF
# Written by scripts/kafka.sh at each start; edits are lost.
process.roles=broker,controller
node.id=$id
$quorum
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_PLAINTEXT://127.0.0.1:$sport$TLS_LISTEN${PROXIED_LISTEN:+,PROXIED://$PROXIED_LISTEN}
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_PLAINTEXT://127.0.0.1:$sport$TLS_LISTEN${PROXIED_ADV:+,PROXIED://$PROXIED_ADV}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT$TLS_MAP${PROXIED_LISTEN:+,PROXIED:PLAINTEXT}
log.dirs=$dir/data
# Clients may authenticate with SCRAM-SHA-512 on the SASL_PLAINTEXT listener
# (its user is created at format time); brokers talk PLAINTEXT among themselves.
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;

# Replicas follow the node count (one node: one replica of everything); from
# 3 nodes on an acks=all write needs 2 in sync, so one node may be down.
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
min.insync.replicas=$isr
default.replication.factor=$rf
# Fewer internal partitions than the default 50: a 2-core machine.
offsets.topic.num.partitions=6
transaction.state.log.num.partitions=6
share.coordinator.state.topic.num.partitions=6

# Tests want groups to start at once and topics to exist only when created.
group.initial.rebalance.delay.ms=0
# Lets tests use short sessions, so a SIGKILLed sink's partitions move on quickly.
group.min.session.timeout.ms=1000
num.partitions=6
auto.create.topics.enable=false
CONF
  # Written apart: PEM values hold backslashes a heredoc would keep but
  # echo might not.
  printf '%s' "$TLS_PROPS" >>"$dir/server.properties"
}

cmd_up() {
  tb_init_dirs
  local n="${BROKERS:-1}" running
  [[ "$n" =~ ^[1-5]$ ]] || die "BROKERS=$n: allowed 1..5"
  running="$(running_nodes)"
  if [[ -n "$running" ]]; then
    # Without BROKERS, whatever runs will do (make test on a stack of make up).
    n="${BROKERS:-$(node_count)}"
    [[ "$(node_count)" == "$n" ]] || die "running with $(node_count) node(s), not BROKERS=$n: stop it first (make down)"
    if [[ "${TLS:-0}" == 1 && -z "$(read_state "$STATE" KAFKA_SSL_BROKERS)" ]]; then
      die "running without TLS: stop it first (make down)"
    fi
    if [[ "${FAULTS:-0}" == 1 && -z "$(read_state "$STATE" KAFKA_PROXIED_BROKERS)" ]]; then
      die "running without the proxied listeners of FAULTS=1: stop it first (make down)"
    fi
    log "already running: nodes $running of $n, $(read_state "$STATE" KAFKA_BROKERS)"
    return 0
  fi
  # A state file whose pids are gone is left over from a crash or reboot.
  rm -rf "$RUN"/node-* "$STATE" "$STATE.tmp"

  fetch
  command -v "$JAVA" >/dev/null || die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
  local java_major
  java_major="$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
  [[ "${java_major:-0}" -ge 17 ]] || die "Kafka $KAFKA_VERSION needs Java 17+, $JAVA is ${java_major:-unknown}"
  cluster_heap "$n"
  local tls="${TLS:-0}"
  [[ "$tls" =~ ^[01]$ ]] || die "TLS=$tls: allowed 0 or 1"
  if [[ "$tls" == 1 ]]; then bash "$TB_ROOT/scripts/certs.sh" up; fi
  local faults="${FAULTS:-0}" proxied=() upstreams=() extra=0
  [[ "$faults" =~ ^[01]$ ]] || die "FAULTS=$faults: allowed 0 or 1"
  [[ "$faults" == 1 ]] && extra=$((2 * n))

  mkdir -p "$RUN"
  # Ports per node: PLAINTEXT, CONTROLLER, SASL_PLAINTEXT, then with TLS=1
  # one per TLS listener.
  local k=3 ports i j quorum voters=() plain=() sasl=() tls_addrs=() tls_ports
  [[ "$tls" == 1 ]] && k=$((3 + ${#TLS_LISTENERS[@]}))
  # One call, so that no port is handed out twice; FAULTS=1 takes two per
  # node more from the end: the PROXIED listener and its proxy's.
  read -r -a ports < <(free_ports $((k * n + extra)))
  for ((i = 1; i <= extra / 2; i++)); do
    upstreams+=("127.0.0.1:${ports[k * n + 2 * i - 2]}")
    proxied+=("127.0.0.1:${ports[k * n + 2 * i - 1]}")
  done
  for ((i = 1; i <= n; i++)); do
    plain+=("127.0.0.1:${ports[k * i - k]}")
    voters+=("$i@127.0.0.1:${ports[k * i - k + 1]}")
    sasl+=("127.0.0.1:${ports[k * i - k + 2]}")
    for ((j = 3; j < k; j++)); do
      tls_addrs[j - 3]+="${tls_addrs[j - 3]:+,}127.0.0.1:${ports[k * i - k + j]}"
    done
  done
  # One node formats a dynamic quorum of itself (--standalone); a cluster
  # names its voters statically. The two must not be mixed.
  if ((n == 1)); then
    quorum="controller.quorum.bootstrap.servers=127.0.0.1:${ports[1]}"
  else
    quorum="controller.quorum.voters=$(IFS=,; echo "${voters[*]}")"
  fi
  for ((i = 1; i <= n; i++)); do
    tls_ports=("${ports[@]:k * i - k + 3:k - 3}")
    PROXIED_LISTEN="${upstreams[i - 1]:-}" PROXIED_ADV="${proxied[i - 1]:-}" write_config "$i" "$n" "${ports[k * i - k]}" "${ports[k * i - k + 1]}" "${ports[k * i - k + 2]}" "$quorum" "${tls_ports[@]}"
  done
  # A SCRAM user for the SASL listeners, with a password of this start only.
  local sasl_user=tickbench sasl_password
  sasl_password="$(random_alnum 24)"

  # StorageTool lives in kafka_2.13, so it runs from the broker jars. Every
  # node is formatted with the same cluster id and the same SCRAM user.
  local storage_tool=("$JAVA" -Xmx256m "-Dlog4j2.configurationFile=$POM_DIR/log4j2-tools.xml"
    -cp "$LIBS/*" kafka.tools.StorageTool)
  local cluster_id standalone=()
  ((n == 1)) && standalone=(--standalone)
  cluster_id="$("${storage_tool[@]}" random-uuid)" || die "StorageTool random-uuid failed"
  for ((i = 1; i <= n; i++)); do
    "${storage_tool[@]}" format -c "$(node_config "$i")" -t "$cluster_id" "${standalone[@]}" \
      --add-scram "SCRAM-SHA-512=[name=\"$sasl_user\",password=\"$sasl_password\"]" >"$(node_dir "$i")/format.log" 2>&1 ||
      { cat "$(node_dir "$i")/format.log" >&2; die "formatting node $i's log dir failed"; }
  done

  {
    echo "KAFKA_BROKERS=$(IFS=,; echo "${plain[*]}")"
    echo "KAFKA_BROKER_COUNT=$n"
    echo "KAFKA_SASL_BROKERS=$(IFS=,; echo "${sasl[*]}")"
    echo "KAFKA_SASL_USER=$sasl_user"
    echo "KAFKA_SASL_PASSWORD=$sasl_password"
    echo "KAFKA_VERSION=$KAFKA_VERSION"
    if [[ "$tls" == 1 ]]; then
      for ((j = 0; j < ${#TLS_KEYS[@]}; j++)); do echo "${TLS_KEYS[j]}=${tls_addrs[j]}"; done
      echo "KAFKA_TLS_CA=$(read_state "$CERTS_STATE" TLS_CA)"
      echo "KAFKA_TLS_CLIENT_CERT=$(read_state "$CERTS_STATE" TLS_CLIENT_CERT)"
      echo "KAFKA_TLS_CLIENT_KEY=$(read_state "$CERTS_STATE" TLS_CLIENT_KEY)"
    fi
    if [[ "$faults" == 1 ]]; then
      echo "KAFKA_PROXIED_BROKERS=$(IFS=,; echo "${proxied[*]}")"
      echo "KAFKA_PROXIED_UPSTREAMS=$(IFS=,; echo "${upstreams[*]}")"
    fi
  } >"$STATE.tmp"
  # All nodes start before any is waited for: a node of a cluster is ready
  # only once a majority of the voters runs.
  for ((i = 1; i <= n; i++)); do
    launch_node "$i"
    echo "KAFKA_PID_$i=$LAUNCHED_PID" >>"$STATE.tmp"
  done
  for ((i = 1; i <= n; i++)); do
    if ! wait_node "$i"; then
      cmd_down >/dev/null 2>&1 || true
      die "Kafka failed to start"
    fi
  done
  mv "$STATE.tmp" "$STATE"
  if [[ "$tls" == 1 ]]; then
    log "TLS listeners: SSL $(read_state "$STATE" KAFKA_SSL_BROKERS), SASL_SSL $(read_state "$STATE" KAFKA_SASL_SSL_BROKERS), mTLS $(read_state "$STATE" KAFKA_MTLS_BROKERS)"
  fi
  if ((n == 1)); then
    log "Kafka $KAFKA_VERSION up: ${plain[0]}, SASL/SCRAM-SHA-512 on ${sasl[0]} (pid $(read_state "$STATE" KAFKA_PID_1))"
  else
    log "Kafka $KAFKA_VERSION up: $n brokers $(read_state "$STATE" KAFKA_BROKERS) (replication factor 3, min.insync.replicas 2), SASL/SCRAM-SHA-512 on $(read_state "$STATE" KAFKA_SASL_BROKERS)"
  fi
}

# cluster_heap N: three nodes with the single node's heap would take 1.5 GB;
# each of a cluster gets less, unless TICKBENCH_KAFKA_HEAP says otherwise.
cluster_heap() {
  if [[ -z "${TICKBENCH_KAFKA_HEAP:-}" ]] && (($1 > 1)); then KAFKA_HEAP="-Xmx384m -Xms128m"; fi
}

# launch_node I: start node I's JVM on its config and set LAUNCHED_PID.
launch_node() {
  local dir
  dir="$(node_dir "$1")"
  if [[ -f "$dir/broker.log" ]]; then mv -f "$dir/broker.log" "$dir/broker.log.prev"; fi
  # setsid: the broker must outlive this script and not get the caller's signals.
  # shellcheck disable=SC2086
  setsid "$JAVA" $KAFKA_HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$POM_DIR/log4j2-broker.xml" "-Dkafka.logs.dir=$dir" \
    -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" \
    </dev/null >"$dir/stdout.log" 2>&1 &
  LAUNCHED_PID=$!
}

# wait_node I: wait until node I serves its PLAINTEXT port and says it
# finished starting (it logs that line only after its controller unfenced
# it); on failure it is stopped.
wait_node() {
  local id="$1" pid port dir
  pid="$(read_state "$STATE.tmp" "KAFKA_PID_$id")"
  [[ -n "$pid" ]] || pid="$(read_state "$STATE" "KAFKA_PID_$id")"
  port="$(node_addr KAFKA_BROKERS "$id")"
  port="${port##*:}"
  dir="$(node_dir "$id")"
  local deadline=$((SECONDS + START_TIMEOUT))
  until port_open "$port" && grep -q "Kafka Server started" "$dir/broker.log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "node $id exited during startup"
      show_failure "$id"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "node $id not ready after ${START_TIMEOUT}s"
      show_failure "$id"
      stop_pid "$pid" "$(node_config "$id")" 15
      return 1
    fi
    sleep 0.3
  done
}

# stop_node I: SIGTERM node I (a controlled shutdown) and forget its pid.
stop_node() {
  local pid
  pid="$(node_pid "$1")"
  [[ -n "$pid" ]] || die "node $1 is not running"
  log "stopping node $1 (pid $pid)"
  stop_pid "$pid" "$(node_config "$1")" 30
  set_state "KAFKA_PID_$1" ""
}

# start_node I: start node I again on its ports and data dir and wait for it.
start_node() {
  [[ -z "$(node_pid "$1")" ]] || die "node $1 is already running (pid $(node_pid "$1"))"
  cluster_heap "$(node_count)"
  launch_node "$1"
  set_state "KAFKA_PID_$1" "$LAUNCHED_PID"
  wait_node "$1" || { set_state "KAFKA_PID_$1" ""; die "node $1 failed to start (data kept in $(node_dir "$1" | sed "s|^$TB_ROOT/||")/data)"; }
}

# cmd_restart stops each node and starts it again with the same config
# (ports) and data dir, one at a time: a rolling restart.
cmd_restart() {
  local running i
  running="$(running_nodes)"
  [[ -n "$running" ]] || die "not running: nothing to restart (use up)"
  for i in $running; do
    stop_node "$i"
    start_node "$i"
    log "Kafka restarted: node $i on $(node_addr KAFKA_BROKERS "$i") (pid $(node_pid "$i"))"
  done
}

cmd_broker_stop() {
  [[ $# -eq 1 ]] || die "usage: $0 broker-stop NODE"
  check_node "$1"
  stop_node "$1"
  log "node $1 stopped; the others serve its partitions (broker-start $1 brings it back)"
}

cmd_broker_start() {
  [[ $# -eq 1 ]] || die "usage: $0 broker-start NODE"
  check_node "$1"
  start_node "$1"
  log "node $1 up again on $(node_addr KAFKA_BROKERS "$1") (pid $(node_pid "$1"))"
}

# cmd_down stops every node at once: stopped one by one, the last would wait
# for a controller quorum that is already gone. Combined mode shuts down in a
# few seconds; a data dir we delete anyway needs no more patience than that.
cmd_down() {
  local i n pid waits=() rc=0
  n="$(node_count)"
  for ((i = 1; i <= ${n:-0}; i++)); do
    pid="$(node_pid "$i")"
    if [[ -n "$pid" ]]; then
      log "stopping node $i (pid $pid)"
      stop_pid "$pid" "$(node_config "$i")" 20 &
      waits+=($!)
    fi
  done
  ((${#waits[@]})) || log "not running"
  for pid in "${waits[@]}"; do wait "$pid" || rc=1; done
  rm -rf "$RUN"/node-* "$STATE" "$STATE.tmp"
  return "$rc"
}

cmd_status() {
  local i n pid
  if [[ -z "$(running_nodes)" ]]; then
    echo "not running"
    return 0
  fi
  # The password stays in the file; status is often pasted into CI logs.
  sed 's/^KAFKA_SASL_PASSWORD=.*/KAFKA_SASL_PASSWORD=(see state.env)/' "$STATE"
  n="$(node_count)"
  if ((n > 1)); then
    for ((i = 1; i <= n; i++)); do
      pid="$(node_pid "$i")"
      if [[ -n "$pid" ]]; then pid="running, pid $pid"; else pid=stopped; fi
      echo "node $i: $(node_addr KAFKA_BROKERS "$i") $pid"
    done
  fi
}

cmd_logs() {
  local i n
  n="$(node_count)"
  for ((i = 1; i <= ${n:-1}; i++)); do
    if ((${n:-1} > 1)); then echo "== node $i"; fi
    tb_logs "$(node_dir "$i")/broker.log" broker
  done
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

tb_dispatch "up|down|restart|status|logs|broker-stop I|broker-start I|perf-producer ARGS...|tool MAIN_CLASS ARGS..." "$@"
