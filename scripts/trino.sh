#!/usr/bin/env bash
# Trino (the engine family of Athena v3) on 127.0.0.1: one coordinator that
# is also its worker, with the Hive connector on the local S3 server of
# scripts/s3.sh (native S3, path-style) and a file metastore kept on that
# server, and the Iceberg connector on the REST catalog of scripts/iceberg.sh
# when that is up (tables on the same S3 server). It measures what Athena's
# readers take from S3 (physical input bytes); see docs/athena-scan.md.
#
# Usage: scripts/trino.sh up|down|status|logs
#
# The server tarball (io.trino:trino-server:VERSION:tar.gz, ~820 MB) comes from
# Maven Central through mvn into Maven's local repository (~/.m2, so once per
# machine, not per clone); it is extracted into .tickbench/cache/ with only the
# Hive and Iceberg plugins kept, and re-extracted from ~/.m2 when that is gone.
# It needs a Java 24+ runtime (Trino 476 requires Java 24; the default Java 17
# is too old): TICKBENCH_TRINO_JAVA, else the newest java under /usr/lib/jvm,
# /opt or JAVA_HOME that is new enough.
#
# After `up`, .tickbench/run/trino/state.env holds:
#   TRINO_URL=http://127.0.0.1:PORT   REST endpoint (POST /v1/statement)
#   TRINO_CATALOG=hive                the Hive connector's catalog
#   TRINO_ICEBERG_CATALOG=iceberg     the Iceberg connector's catalog (empty
#                                     when scripts/iceberg.sh was not up)
#   TRINO_ICEBERG_REST_URL=...        the REST catalog it uses (ICEBERG_REST_URL)
#   TRINO_S3_ENDPOINT=...             the S3 server it reads (scripts/s3.sh's)
#   TRINO_VERSION=476  TRINO_PID=...
# The S3 keys reach the catalogs through the server's environment, never a
# file. `up` with a running server whose S3 server or Iceberg REST catalog
# changed (or came or went) restarts it.
#
# Env overrides: TICKBENCH_TRINO_VERSION (default 476),
#   TICKBENCH_TRINO_HEAP (default 2G), TICKBENCH_TRINO_JAVA,
#   TICKBENCH_M2_REPO (default ~/.m2/repository: kept across clones),
#   TICKBENCH_TRINO_START_TIMEOUT seconds (default 180).
set -euo pipefail

TB_NAME=trino # prefix of log() lines
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# 476: the newest release Maven Central served when this was written (483
# did not resolve; the metadata's <release> was 476).
TRINO_VERSION="${TICKBENCH_TRINO_VERSION:-476}"
HEAP="${TICKBENCH_TRINO_HEAP:-2G}"
START_TIMEOUT="${TICKBENCH_TRINO_START_TIMEOUT:-180}"
MIN_JAVA=24
CATALOG=hive
ICEBERG_CATALOG=iceberg
M2_REPO="${TICKBENCH_M2_REPO:-$HOME/.m2/repository}"
TARBALL="$M2_REPO/io/trino/trino-server/$TRINO_VERSION/trino-server-$TRINO_VERSION.tar.gz"
SERVER="$TB_CACHE/trino-server-$TRINO_VERSION"
# Names the plugins kept: an extract that kept fewer is made again.
MARKER="$SERVER/.complete-hive-iceberg"
KEEP_PLUGINS=(hive iceberg)

RUN="$TB_RUN/trino"
DATA="$RUN/data"
ETC="$RUN/etc"
STATE="$RUN/state.env"
SERVER_LOG="$RUN/server.log"
S3_STATE="$TB_RUN/s3/state.env"
ICEBERG_STATE="$TB_RUN/iceberg/state.env"

# fetch: the tarball into ~/.m2 (once per machine), then the server
# extracted into the cache (once per clone). The plugin jars are hard links
# to one another, so the archive is extracted whole before pruning.
fetch() {
  if [[ -f "$MARKER" ]]; then return 0; fi
  if [[ ! -s "$TARBALL" ]]; then
    command -v mvn >/dev/null || die "mvn not found (needed once to fetch the Trino server)"
    log "fetching io.trino:trino-server:$TRINO_VERSION:tar.gz (~820 MB) with mvn into ~/.m2 (once per machine)"
    local mvn_log="$TB_CACHE/trino-fetch.log"
    if ! mvn -B -q -Dstyle.color=never "-Dmaven.repo.local=$M2_REPO" dependency:get "-Dartifact=io.trino:trino-server:$TRINO_VERSION:tar.gz" \
      -Dtransitive=false </dev/null >"$mvn_log" 2>&1 || [[ ! -s "$TARBALL" ]]; then
      tail -n 40 "$mvn_log" >&2
      die "mvn could not fetch io.trino:trino-server:$TRINO_VERSION:tar.gz (full output: $mvn_log)"
    fi
    rm -f "$mvn_log"
  fi
  log "extracting Trino $TRINO_VERSION into ${SERVER#"$TB_ROOT"/} (plugins ${KEEP_PLUGINS[*]} only)"
  rm -rf "$TB_CACHE"/.trino-extract.* "$SERVER"
  local tmp
  tmp="$(mktemp -d "$TB_CACHE/.trino-extract.XXXXXX")"
  tar -xzf "$TARBALL" -C "$tmp" || die "extracting $TARBALL failed (delete it to fetch it again)"
  local dir="$tmp/trino-server-$TRINO_VERSION" p
  for p in "${KEEP_PLUGINS[@]}"; do
    [[ -d "$dir/plugin/$p" ]] || die "$TARBALL has no plugin/$p"
  done
  for p in "$dir"/plugin/*; do
    [[ " ${KEEP_PLUGINS[*]} " == *" $(basename "$p") "* ]] || rm -rf "$p"
  done
  rm -rf "$dir/secrets-plugin" "$dir"/bin/darwin-* "$dir"/bin/linux-arm64 "$dir"/bin/linux-ppc64le
  mv "$dir" "$SERVER"
  rm -rf "$tmp"
  date -u +%FT%TZ >"$MARKER"
}

# java_major JAVA: the major version of a java binary, or 0.
java_major() {
  "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1 | grep . || echo 0
}

# find_java: the java to run Trino with, newest first among the candidates.
find_java() {
  if [[ -n "${TICKBENCH_TRINO_JAVA:-}" ]]; then
    [[ -x "$TICKBENCH_TRINO_JAVA" ]] || die "TICKBENCH_TRINO_JAVA=$TICKBENCH_TRINO_JAVA is not an executable"
    local v
    v="$(java_major "$TICKBENCH_TRINO_JAVA")"
    ((v >= MIN_JAVA)) || die "TICKBENCH_TRINO_JAVA=$TICKBENCH_TRINO_JAVA is Java $v; Trino $TRINO_VERSION needs $MIN_JAVA+"
    printf '%s' "$TICKBENCH_TRINO_JAVA"
    return 0
  fi
  local best="" best_v=0 j v
  for j in "${JAVA_HOME:-/nonexistent}/bin/java" /usr/lib/jvm/*/bin/java /opt/*/bin/java /opt/*/*/bin/java; do
    [[ -x "$j" ]] || continue
    v="$(java_major "$j")"
    if ((v > best_v)); then best="$j" best_v="$v"; fi
  done
  ((best_v >= MIN_JAVA)) ||
    die "no Java $MIN_JAVA+ found (looked in JAVA_HOME, /usr/lib/jvm, /opt; newest: ${best:-none} ${best_v}); install one (e.g. Temurin 25) or set TICKBENCH_TRINO_JAVA"
  printf '%s' "$best"
}

running_pid() {
  local pid
  pid="$(read_state "$STATE" TRINO_PID)"
  if pid_matches "$pid" "$ETC/config.properties"; then printf '%s' "$pid"; fi
}

# iceberg_url: the REST catalog of scripts/iceberg.sh if it answers, else nothing.
iceberg_url() {
  local url
  url="$(read_state "$ICEBERG_STATE" ICEBERG_REST_URL)"
  [[ -n "$url" ]] || return 0
  if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/v1/config" 2>/dev/null || true)" == 200 ]]; then
    printf '%s' "$url"
  fi
}

# write_config PORT S3_ENDPOINT BUCKET REGION ICEBERG_URL: the node's etc/
# (no secrets); the Iceberg catalog only with an ICEBERG_URL.
write_config() {
  local port="$1" endpoint="$2" bucket="$3" region="$4" iceberg="$5"
  mkdir -p "$ETC/catalog" "$DATA"
  cat >"$ETC/config.properties" <<EOF
# Written by scripts/trino.sh at each start; edits are lost.
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port=$port
discovery.uri=http://127.0.0.1:$port
plugin.dir=$SERVER/plugin
catalog.config-dir=$ETC/catalog
# Its default path is var/log/ under the current directory.
http-server.log.enabled=false
# A 2-core machine shared with the rest of the stack.
query.max-memory=1GB
query.max-memory-per-node=1GB
EOF
  cat >"$ETC/log.properties" <<EOF
io.trino=WARN
io.airlift=WARN
EOF
  # The reader settings stay Trino's defaults: they are what lake/scan.go
  # models (parquet.small-file-threshold 3MB, max-merge-distance 1MB, ...).
  cat >"$ETC/catalog/$CATALOG.properties" <<EOF
connector.name=hive
hive.metastore=file
hive.metastore.catalog.dir=s3://$bucket/trino-metastore/
hive.timestamp-precision=MICROSECONDS
hive.non-managed-table-writes-enabled=false
fs.native-s3.enabled=true
s3.endpoint=$endpoint
s3.region=$region
s3.path-style-access=true
s3.aws-access-key=\${ENV:TICKBENCH_TRINO_S3_ACCESS_KEY}
s3.aws-secret-key=\${ENV:TICKBENCH_TRINO_S3_SECRET_KEY}
EOF
  [[ -n "$iceberg" ]] || return 0
  # Trino reads and writes the data files with its own S3 settings, the same
  # as Hive's; the keys the catalog hands out stay unused.
  cat >"$ETC/catalog/$ICEBERG_CATALOG.properties" <<EOF
connector.name=iceberg
iceberg.catalog.type=rest
iceberg.rest-catalog.uri=$iceberg
fs.native-s3.enabled=true
s3.endpoint=$endpoint
s3.region=$region
s3.path-style-access=true
s3.aws-access-key=\${ENV:TICKBENCH_TRINO_S3_ACCESS_KEY}
s3.aws-secret-key=\${ENV:TICKBENCH_TRINO_S3_SECRET_KEY}
EOF
}

# ready PORT: the server answers /v1/info and has finished starting.
ready() {
  curl -s --max-time 2 "http://127.0.0.1:$1/v1/info" 2>/dev/null | grep -q '"starting":false'
}

cmd_up() {
  tb_init_dirs
  [[ -f "$S3_STATE" ]] || die "the S3 server is not up (scripts/s3.sh up first): Trino reads its objects"
  local endpoint bucket region key secret pid
  endpoint="$(read_state "$S3_STATE" S3_ENDPOINT)"
  bucket="$(read_state "$S3_STATE" S3_BUCKET)"
  region="$(read_state "$S3_STATE" S3_REGION)"
  key="$(read_state "$S3_STATE" S3_ACCESS_KEY)"
  secret="$(read_state "$S3_STATE" S3_SECRET_KEY)"
  [[ -n "$endpoint" && -n "$bucket" && -n "$key" && -n "$secret" ]] || die "$S3_STATE lacks the endpoint, bucket or keys"
  local iceberg
  iceberg="$(iceberg_url)"
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    if [[ "$(read_state "$STATE" TRINO_S3_ENDPOINT)" != "$endpoint" ]]; then
      log "the S3 server changed since Trino started: restarting it"
    elif [[ "$(read_state "$STATE" TRINO_ICEBERG_REST_URL)" != "$iceberg" ]]; then
      log "the Iceberg REST catalog changed since Trino started (now: ${iceberg:-none}): restarting it"
    else
      log "already running: pid $pid, $(read_state "$STATE" TRINO_URL)"
      return 0
    fi
    cmd_down
  fi
  rm -rf "$DATA" "$ETC" "$STATE" "$STATE.tmp"

  fetch
  command -v curl >/dev/null || die "curl not found"
  local java port
  java="$(find_java)"
  read -r port < <(free_ports 1)
  write_config "$port" "$endpoint" "$bucket" "${region:-us-east-1}" "$iceberg"

  # Flags as Trino's launcher passes them, with a modest heap. setsid:
  # outlive this script; the config path in argv tells our JVM from others.
  TICKBENCH_TRINO_S3_ACCESS_KEY="$key" TICKBENCH_TRINO_S3_SECRET_KEY="$secret" \
    setsid "$java" "-Xmx$HEAP" -XX:+UseG1GC -XX:G1HeapRegionSize=32M -XX:+ExplicitGCInvokesConcurrent \
    -XX:+ExitOnOutOfMemoryError -XX:-OmitStackTraceInFastThrow -XX:ReservedCodeCacheSize=256M \
    -XX:PerMethodRecompilationCutoff=10000 -XX:PerBytecodeRecompilationCutoff=10000 \
    -Djdk.attach.allowAttachSelf=true -Djdk.nio.maxCachedBufferSize=2000000 -Dfile.encoding=UTF-8 \
    -XX:+EnableDynamicAgentLoading --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -Duser.timezone=UTC -Dnode.environment=tickbench -Dnode.id=tickbench-1 \
    "-Dnode.data-dir=$DATA" -Dnode.bind-ip=127.0.0.1 -Dnode.internal-address=127.0.0.1 \
    "-Dconfig=$ETC/config.properties" "-Dlog.levels-file=$ETC/log.properties" \
    -cp "$SERVER/lib/*" io.trino.server.TrinoServer </dev/null >"$SERVER_LOG" 2>&1 &
  pid=$!
  # Until the server is ready the state lives in state.env.tmp, which
  # `down` also reads, so an interrupted start can still be stopped.
  printf 'TRINO_URL=http://127.0.0.1:%s\nTRINO_CATALOG=%s\nTRINO_ICEBERG_CATALOG=%s\nTRINO_ICEBERG_REST_URL=%s\nTRINO_S3_ENDPOINT=%s\nTRINO_VERSION=%s\nTRINO_PID=%s\n' \
    "$port" "$CATALOG" "${iceberg:+$ICEBERG_CATALOG}" "$iceberg" "$endpoint" "$TRINO_VERSION" "$pid" >"$STATE.tmp"

  local deadline=$((SECONDS + START_TIMEOUT))
  until ready "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$SERVER_LOG" >&2 || true
      rm -rf "$DATA" "$STATE.tmp"
      die "Trino exited during startup (log: ${SERVER_LOG#"$TB_ROOT"/})"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 40 "$SERVER_LOG" >&2 || true
      stop_pid "$pid" "$ETC/config.properties" 20
      rm -rf "$DATA" "$STATE.tmp"
      die "Trino not ready after ${START_TIMEOUT}s"
    fi
    sleep 0.5
  done
  mv "$STATE.tmp" "$STATE"
  log "Trino $TRINO_VERSION up: http://127.0.0.1:$port, catalog $CATALOG on $endpoint${iceberg:+, catalog $ICEBERG_CATALOG on $iceberg} (pid $pid, $(basename "$(dirname "$(dirname "$java")")"))"
}

cmd_down() {
  tb_down TRINO_PID "$ETC/config.properties" 20
  rm -rf "$ETC"
}

cmd_status() {
  if [[ -n "$(running_pid)" ]]; then cat "$STATE"; else echo "not running"; fi
}

cmd_logs() {
  tb_logs "$SERVER_LOG" server
}

tb_dispatch "up|down|status|logs" "$@"
