#!/usr/bin/env bash
# Apache Iceberg's REST catalog on 127.0.0.1: the code of the
# apache/iceberg-rest-fixture image (iceberg-core's RESTCatalogAdapter and
# RESTCatalogServlet over a JdbcCatalog), wired by scripts/iceberg/RestServer.java
# so that it binds 127.0.0.1 only and tells clients where the objects are.
# Tables live on the S3 server of scripts/s3.sh (S3FileIO, path-style), their
# catalog in a SQLite file that outlives the server while that S3 server does.
#
# Usage: scripts/iceberg.sh up|down|restart|status|logs
#
# The jars (scripts/iceberg/pom.xml, ~45 MB, no Hadoop) come from Maven
# Central through mvn into Maven's local repository (~/.m2, so once per
# machine) and are copied into .tickbench/cache/iceberg-rest-VERSION/lib with
# the launcher compiled beside them. Java 17 (the default) runs it.
#
# After `up`, .tickbench/run/iceberg/state.env holds:
#   ICEBERG_REST_URL=http://127.0.0.1:PORT   the catalog's URI (GET /v1/config, ...)
#   ICEBERG_WAREHOUSE=s3://tickbench/iceberg/  where new tables go
#   ICEBERG_S3_ENDPOINT=...                  the S3 server it writes to (scripts/s3.sh's)
#   ICEBERG_VERSION=1.10.0  ICEBERG_PID=...
# Clients need only the URI: GET /v1/config hands them s3.endpoint,
# s3.path-style-access=true (s3.force-virtual-addressing=false for
# iceberg-go), s3.region and client.region as defaults, and every table load
# (or create) hands them the S3 keys in its config.
#
# The S3 keys reach the server through its environment, never a file or argv.
# `up` with a running server whose S3 server changed restarts it on a new,
# empty catalog (the old one names objects that are gone); a stopped server is
# started again on its catalog if the S3 server is the same one. `down` stops
# it and keeps that catalog for such a start; `restart` stops it and starts it
# again on the same port and catalog, as a catalog outage in production.
#
# Env overrides: TICKBENCH_ICEBERG_VERSION (default 1.10.0),
#   TICKBENCH_ICEBERG_HEAP (default 256m), JAVA_HOME,
#   TICKBENCH_M2_REPO (default ~/.m2/repository: kept across clones),
#   TICKBENCH_ICEBERG_START_TIMEOUT seconds (default 60).
set -euo pipefail

TB_NAME=iceberg # prefix of log() lines
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ICEBERG_VERSION="${TICKBENCH_ICEBERG_VERSION:-1.10.0}"
HEAP="${TICKBENCH_ICEBERG_HEAP:-256m}"
START_TIMEOUT="${TICKBENCH_ICEBERG_START_TIMEOUT:-60}"
CATALOG_NAME=tickbench # JdbcCatalog keys its rows by it: changing it hides the tables
M2_REPO="${TICKBENCH_M2_REPO:-$HOME/.m2/repository}"

SRC_DIR="$TB_ROOT/scripts/iceberg"
LAUNCHER="$SRC_DIR/RestServer.java"
ICACHE="$TB_CACHE/iceberg-rest-$ICEBERG_VERSION"
LIBS="$ICACHE/lib"
CLASSES="$ICACHE/classes"
MARKER="$ICACHE/.complete"

RUN="$TB_RUN/iceberg"
DATA="$RUN/data" # the JVM's temp dir (sqlite-jdbc unpacks its library there); tb_down removes it
CATALOG_DIR="$RUN/catalog"
CATALOG_DB="$CATALOG_DIR/catalog.db"
CATALOG_OWNER="$CATALOG_DIR/s3-instance" # which S3 server the catalog's objects are on
STATE="$RUN/state.env"
SERVER_LOG="$RUN/server.log"
S3_STATE="$TB_RUN/s3/state.env"
MATCH="-Dtickbench.iceberg.run=$RUN" # in the server's command line

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java" JAVAC="$JAVA_HOME/bin/javac"
else
  JAVA=java JAVAC=javac
fi

# fetch: the jars into ~/.m2 (once per machine), copied into the cache.
fetch() {
  if [[ -f "$MARKER" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch the Iceberg jars)"
  log "fetching Iceberg $ICEBERG_VERSION REST catalog jars with mvn (first run only)"
  # Work in a scratch dir so an interrupted fetch never looks complete.
  rm -rf "$TB_CACHE"/.iceberg-fetch.*
  local tmp
  tmp="$(mktemp -d "$TB_CACHE/.iceberg-fetch.XXXXXX")"
  local mvn_log="$TB_CACHE/iceberg-rest-$ICEBERG_VERSION-fetch.log"
  if ! mvn -q -B -Dstyle.color=never "-Dmaven.repo.local=$M2_REPO" "-Diceberg.version=$ICEBERG_VERSION" \
    -f "$SRC_DIR/pom.xml" dependency:copy-dependencies -DincludeScope=runtime "-DoutputDirectory=$tmp/lib" \
    </dev/null >"$mvn_log" 2>&1; then
    tail -n 40 "$mvn_log" >&2
    die "mvn could not fetch the Iceberg jars (full output: $mvn_log)"
  fi
  [[ -f "$tmp/lib/iceberg-core-$ICEBERG_VERSION-tests.jar" ]] || die "iceberg-core-$ICEBERG_VERSION-tests.jar missing after fetch"
  rm -rf "$LIBS" "$CLASSES"
  mkdir -p "$ICACHE"
  mv "$tmp/lib" "$LIBS"
  rm -rf "$tmp" "$mvn_log"
  date -u +%FT%TZ >"$MARKER"
  local jars=("$LIBS"/*.jar)
  log "cached ${#jars[@]} jars in ${LIBS#"$TB_ROOT"/}"
}

# compile: the launcher, once per change of its source or of the JDK. Run
# from source (java RestServer.java) it would compile at every start: ~1 s
# and ~50 MB more.
compile() {
  local want stamp="$CLASSES/.stamp"
  want="$(sha256sum <"$LAUNCHER" | cut -c1-16) $("$JAVA" -version 2>&1 | head -n 1)"
  if [[ -f "$CLASSES/RestServer.class" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then return 0; fi
  command -v "$JAVAC" >/dev/null || die "javac not found (a JDK 17+ is needed)"
  rm -rf "$CLASSES"
  mkdir -p "$CLASSES"
  "$JAVAC" -nowarn -encoding UTF-8 -cp "$LIBS/*" -d "$CLASSES" "$LAUNCHER" >&2 || die "compiling ${LAUNCHER#"$TB_ROOT"/} failed"
  printf '%s\n' "$want" >"$stamp"
}

running_pid() {
  local pid
  pid="$(read_state "$STATE" ICEBERG_PID)"
  if pid_matches "$pid" "$MATCH"; then printf '%s' "$pid"; fi
}

# s3_instance: names the running S3 server: its keys are random per start,
# so a restarted one on a reused port still differs. A hash: no secret here.
s3_instance() {
  printf '%s %s %s' "$(read_state "$S3_STATE" S3_ENDPOINT)" "$(read_state "$S3_STATE" S3_BUCKET)" \
    "$(read_state "$S3_STATE" S3_ACCESS_KEY)" | sha256sum | cut -c1-16
}

# ready PORT: the catalog answers GET /v1/config.
ready() {
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/v1/config" 2>/dev/null || true)" == 200 ]]
}

# start PORT: the server on PORT over the catalog in CATALOG_DIR, which must
# belong to the current S3 server; waits until it answers.
start() {
  local port="$1" endpoint bucket region key secret pid
  endpoint="$(read_state "$S3_STATE" S3_ENDPOINT)"
  bucket="$(read_state "$S3_STATE" S3_BUCKET)"
  region="$(read_state "$S3_STATE" S3_REGION)"
  region="${region:-us-east-1}"
  key="$(read_state "$S3_STATE" S3_ACCESS_KEY)"
  secret="$(read_state "$S3_STATE" S3_SECRET_KEY)"
  [[ -n "$endpoint" && -n "$bucket" && -n "$key" && -n "$secret" ]] || die "$S3_STATE lacks the endpoint, bucket or keys"
  local warehouse="s3://$bucket/iceberg/"
  mkdir -p "$DATA" "$CATALOG_DIR"

  # Catalog properties as the fixture takes them (CATALOG_X_Y__Z -> x.y-z),
  # keys included: the environment, not argv. setsid: outlive this script.
  # busy_timeout: JdbcCatalog's two pooled connections wait for each other's
  # commits instead of failing with SQLITE_BUSY.
  CATALOG_CATALOG_NAME="$CATALOG_NAME" CATALOG_REST_HOST=127.0.0.1 CATALOG_REST_PORT="$port" \
    CATALOG_URI="jdbc:sqlite:$CATALOG_DB?busy_timeout=10000" CATALOG_JDBC_SCHEMA__VERSION=V1 \
    CATALOG_WAREHOUSE="$warehouse" CATALOG_IO__IMPL=org.apache.iceberg.aws.s3.S3FileIO \
    CATALOG_S3_ENDPOINT="$endpoint" CATALOG_S3_PATH__STYLE__ACCESS=true CATALOG_S3_FORCE__VIRTUAL__ADDRESSING=false \
    CATALOG_S3_REGION="$region" CATALOG_CLIENT_REGION="$region" \
    CATALOG_S3_ACCESS__KEY__ID="$key" CATALOG_S3_SECRET__ACCESS__KEY="$secret" \
    CATALOG_INCLUDE__CREDENTIALS=true \
    setsid "$JAVA" "-Xmx$HEAP" -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError \
    "-Djava.io.tmpdir=$DATA" "$MATCH" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$CLASSES:$LIBS/*" RestServer </dev/null >"$SERVER_LOG" 2>&1 &
  pid=$!
  # Until the server answers the state lives in state.env.tmp, which `down`
  # also reads, so an interrupted start can still be stopped.
  printf 'ICEBERG_REST_URL=http://127.0.0.1:%s\nICEBERG_WAREHOUSE=%s\nICEBERG_S3_ENDPOINT=%s\nICEBERG_VERSION=%s\nICEBERG_PID=%s\n' \
    "$port" "$warehouse" "$endpoint" "$ICEBERG_VERSION" "$pid" >"$STATE.tmp"

  local deadline=$((SECONDS + START_TIMEOUT))
  until ready "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$SERVER_LOG" >&2 || true
      rm -rf "$DATA" "$STATE.tmp"
      die "the Iceberg REST catalog exited during startup (log: ${SERVER_LOG#"$TB_ROOT"/})"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$SERVER_LOG" >&2 || true
      stop_pid "$pid" "$MATCH" 10
      rm -rf "$DATA" "$STATE.tmp"
      die "the Iceberg REST catalog not ready after ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
  mv "$STATE.tmp" "$STATE"
  log "Iceberg $ICEBERG_VERSION REST catalog up: http://127.0.0.1:$port, warehouse $warehouse on $endpoint (pid $pid)"
}

cmd_up() {
  tb_init_dirs
  [[ -f "$S3_STATE" ]] || die "the S3 server is not up (scripts/s3.sh up first): the catalog keeps its tables there"
  local instance pid
  instance="$(s3_instance)"
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    if [[ "$(cat "$CATALOG_OWNER" 2>/dev/null || true)" == "$instance" ]]; then
      log "already running: pid $pid, $(read_state "$STATE" ICEBERG_REST_URL)"
      return 0
    fi
    log "the S3 server changed since the catalog started: restarting it"
    cmd_down
  fi
  rm -rf "$DATA" "$STATE" "$STATE.tmp"
  if [[ "$(cat "$CATALOG_OWNER" 2>/dev/null || true)" != "$instance" ]]; then
    if [[ -f "$CATALOG_DB" ]]; then log "dropping the catalog of a previous S3 server (its objects are gone)"; fi
    rm -rf "$CATALOG_DIR"
    mkdir -p "$CATALOG_DIR"
    printf '%s\n' "$instance" >"$CATALOG_OWNER"
  fi

  fetch
  compile
  command -v curl >/dev/null || die "curl not found"
  local port
  read -r port < <(free_ports 1)
  start "$port"
}

cmd_down() {
  tb_down ICEBERG_PID "$MATCH" 10
}

cmd_restart() {
  local pid port
  pid="$(running_pid)"
  [[ -n "$pid" ]] || die "not running (scripts/iceberg.sh up)"
  port="$(read_state "$STATE" ICEBERG_REST_URL)"
  port="${port##*:}"
  fetch
  compile
  log "stopping pid $pid"
  stop_pid "$pid" "$MATCH" 10
  rm -rf "$DATA" "$STATE"
  start "$port"
}

cmd_status() {
  if [[ -n "$(running_pid)" ]]; then cat "$STATE"; else echo "not running"; fi
}

cmd_logs() {
  tb_logs "$SERVER_LOG" server
}

tb_dispatch "up|down|restart|status|logs" "$@"
