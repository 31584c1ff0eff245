#!/usr/bin/env bash
# A real S3-compatible server (versitygw, posix backend) on 127.0.0.1 for
# integration tests. The binary is built once with `go install` into
# .tickbench/cache/bin (~70 s cold, then reused).
#
# Usage: scripts/s3.sh up|down|status|logs
#
# After `up`, .tickbench/run/s3/state.env (mode 600) holds:
#   S3_ENDPOINT=http://127.0.0.1:PORT   path-style endpoint (set UsePathStyle in the SDK)
#   S3_BUCKET=tickbench                 created empty at each `up`
#   S3_ACCESS_KEY=... S3_SECRET_KEY=... random per start
#   S3_REGION=us-east-1
#   S3_PID=...
#   S3_ACCESS_LOG=...                   with TICKBENCH_S3_ACCESS_LOG=1: the
#                                       server's access log, a line per request
#                                       (bench's TestLocalTrinoIcebergScanModel
#                                       counts Trino's metadata GETs in it)
#   With TLS=1 a second versitygw serves the same data dir over HTTPS
#   (certificates from scripts/certs.sh):
#   S3_TLS_ENDPOINT=https://127.0.0.1:PORT  its certificate is for 127.0.0.1/localhost
#   S3_CA=...                           the PEM CA file that signed it (--s3-ca)
#   S3_TLS_PID=...
#
# Env overrides: TLS=1, TICKBENCH_S3_START_TIMEOUT seconds (default 30),
#   TICKBENCH_S3_ACCESS_LOG=1 (default off: json-per-tick at high rates would
#   write a line per tick).
set -euo pipefail

TB_NAME=s3 # prefix of log() lines
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VGW_VERSION=v1.8.0
VGW_MODULE=github.com/versity/versitygw/cmd/versitygw
BIN_DIR="$TB_CACHE/bin"
VGW="$BIN_DIR/versitygw"
VGW_STAMP="$BIN_DIR/versitygw.version" # which version the cached binary is
START_TIMEOUT="${TICKBENCH_S3_START_TIMEOUT:-30}"

BUCKET=tickbench
REGION=us-east-1
HEALTH_PATH=/health

RUN="$TB_RUN/s3"
DATA="$RUN/data"
STATE="$RUN/state.env"
SERVER_LOG="$RUN/server.log"

install_vgw() {
  if [[ -x "$VGW" && "$(cat "$VGW_STAMP" 2>/dev/null)" == "$VGW_VERSION" ]]; then return 0; fi
  command -v go >/dev/null || die "go not found (needed once to build versitygw)"
  log "building versitygw $VGW_VERSION with go install (first run only, ~1-2 min)"
  mkdir -p "$BIN_DIR"
  rm -f "$VGW_STAMP"
  GOBIN="$BIN_DIR" go install "$VGW_MODULE@$VGW_VERSION" </dev/null >&2 ||
    die "go install of versitygw failed"
  echo "$VGW_VERSION" >"$VGW_STAMP"
}

running_pid() {
  local pid
  pid="$(read_state "$STATE" S3_PID)"
  if pid_matches "$pid" "$DATA"; then printf '%s' "$pid"; fi
}

# wait_ready PID URL CURL_ARGS...: wait until the server at URL answers its
# health check; on failure stop it (and the plain one, PID_PLAIN) and die.
wait_ready() {
  local pid="$1" url="$2"
  shift 2
  local deadline=$((SECONDS + START_TIMEOUT))
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url$HEALTH_PATH" 2>/dev/null || true)" == 200 ]]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$SERVER_LOG" >&2 || true
      stop_all
      die "versitygw exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$SERVER_LOG" >&2 || true
      stop_all
      die "versitygw not ready after ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
}

# stop_all: stop both servers of a failed start and forget them.
stop_all() {
  local key pid
  for key in S3_TLS_PID S3_PID; do
    pid="$(read_state "$STATE.tmp" "$key")"
    [[ -z "$pid" ]] || stop_pid "$pid" "$DATA" 10
  done
  rm -rf "$DATA" "$STATE.tmp"
}

# s3curl KEY SECRET PORT ARGS...: curl with SigV4 signing. Credentials go in
# through a config on a pipe so they never show in `ps`. Prints the HTTP status.
s3curl() {
  local key="$1" secret="$2" port="$3"
  shift 3
  curl -sS -o /dev/null -w '%{http_code}' --max-time 10 \
    --aws-sigv4 "aws:amz:$REGION:s3" -K <(printf 'user = "%s:%s"\n' "$key" "$secret") \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@" 2>/dev/null || true
}

# check WANT GOT WHAT: complain and fail when the server answers unexpectedly.
check() {
  [[ "$2" == "$1" ]] && return 0
  log "$3: HTTP $2, want $1"
  return 1
}

# smoke_test KEY SECRET PORT: create the bucket and exercise what the sinks
# rely on, leaving the bucket empty. Called from `if`, so every step returns.
smoke_test() {
  local key="$1" secret="$2" port="$3"
  local base="http://127.0.0.1:$port/$BUCKET" probe="http://127.0.0.1:$port/$BUCKET/.tickbench-probe"
  # CreateBucket through the API rather than mkdir: the posix backend keeps
  # the bucket's owner and ACL in xattrs that only CreateBucket writes.
  check 200 "$(s3curl "$key" "$secret" "$port" -X PUT "$base")" "CreateBucket $BUCKET" || return 1
  check 200 "$(s3curl "$key" "$secret" "$port" -X PUT --data-binary probe "$probe")" "PutObject" || return 1
  check 200 "$(s3curl "$key" "$secret" "$port" "$probe")" "GetObject" || return 1
  check 200 "$(s3curl "$key" "$secret" "$port" "$base?list-type=2")" "ListObjectsV2" || return 1
  check 412 "$(s3curl "$key" "$secret" "$port" -X PUT -H 'If-None-Match: *' --data-binary again "$probe")" \
    "PutObject If-None-Match:* on an existing key" || return 1
  check 204 "$(s3curl "$key" "$secret" "$port" -X DELETE "$probe")" "DeleteObject" || return 1
}

cmd_up() {
  tb_init_dirs
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    if [[ "${TLS:-0}" == 1 && -z "$(read_state "$STATE" S3_TLS_ENDPOINT)" ]]; then
      die "already running without TLS: stop it first (make down)"
    fi
    log "already running: pid $pid, $(read_state "$STATE" S3_ENDPOINT)"
    return 0
  fi
  rm -rf "$DATA" "$STATE" "$STATE.tmp"

  install_vgw
  command -v curl >/dev/null || die "curl not found"

  mkdir -p "$DATA"
  local port key secret access_log="" access_args=()
  if [[ "${TICKBENCH_S3_ACCESS_LOG:-}" == 1 ]]; then
    access_log="$RUN/access.log"
    rm -f "$access_log"
    access_args=(--access-log "$access_log")
  fi
  read -r port < <(free_ports 1)
  key="$(random_alnum 20)"
  secret="$(random_alnum 40)"

  # Keys go in through the environment, not argv. The data dir in argv lets
  # us tell our server from any other. setsid: outlive this script.
  ROOT_ACCESS_KEY="$key" ROOT_SECRET_KEY="$secret" \
    setsid "$VGW" --port "127.0.0.1:$port" --region "$REGION" --health "$HEALTH_PATH" --quiet "${access_args[@]}" \
    posix "$DATA" </dev/null >"$SERVER_LOG" 2>&1 &
  pid=$!
  # Until the smoke test passes the state lives in state.env.tmp, which
  # `down` also reads, so an interrupted start can still be stopped.
  (
    umask 077
    cat >"$STATE.tmp" <<EOF
S3_ENDPOINT=http://127.0.0.1:$port
S3_BUCKET=$BUCKET
S3_ACCESS_KEY=$key
S3_SECRET_KEY=$secret
S3_REGION=$REGION
S3_PID=$pid
EOF
    if [[ -n "$access_log" ]]; then echo "S3_ACCESS_LOG=$access_log" >>"$STATE.tmp"; fi
  )

  wait_ready "$pid" "http://127.0.0.1:$port"

  if ! smoke_test "$key" "$secret" "$port"; then
    tail -n 20 "$SERVER_LOG" >&2 || true
    stop_all
    die "versitygw does not behave as expected"
  fi
  if [[ "${TLS:-0}" == 1 ]]; then tls_up "$key" "$secret"; fi

  chmod 600 "$STATE.tmp"
  mv "$STATE.tmp" "$STATE"
  log "versitygw $VGW_VERSION up: http://127.0.0.1:$port bucket $BUCKET (pid $pid)"
  if [[ "${TLS:-0}" == 1 ]]; then log "and over HTTPS: $(read_state "$STATE" S3_TLS_ENDPOINT) (CA $(read_state "$STATE" S3_CA))"; fi
}

# tls_up KEY SECRET: a second gateway on the same data dir, over HTTPS with
# the server certificate of scripts/certs.sh; checked with a signed list.
tls_up() {
  local key="$1" secret="$2" port pid certs="$TB_RUN/certs/state.env" ca
  [[ "${TLS:-}" == 1 ]] || return 0
  bash "$TB_ROOT/scripts/certs.sh" up
  ca="$(read_state "$certs" TLS_CA)"
  read -r port < <(free_ports 1)
  ROOT_ACCESS_KEY="$key" ROOT_SECRET_KEY="$secret" \
    setsid "$VGW" --port "127.0.0.1:$port" --region "$REGION" --health "$HEALTH_PATH" --quiet \
    --cert "$(read_state "$certs" TLS_SERVER_CERT)" --key "$(read_state "$certs" TLS_SERVER_KEY)" \
    posix "$DATA" </dev/null >>"$SERVER_LOG" 2>&1 &
  pid=$!
  {
    echo "S3_TLS_ENDPOINT=https://127.0.0.1:$port"
    echo "S3_CA=$ca"
    echo "S3_TLS_PID=$pid"
  } >>"$STATE.tmp"
  wait_ready "$pid" "https://127.0.0.1:$port" --cacert "$ca"
  if ! check 200 "$(s3curl "$key" "$secret" "$port" --cacert "$ca" "https://127.0.0.1:$port/$BUCKET?list-type=2")" "ListObjectsV2 over HTTPS"; then
    stop_all
    die "versitygw over HTTPS does not behave as expected"
  fi
}

cmd_down() {
  local pid
  pid="$(read_state "$STATE" S3_TLS_PID)"
  [[ -n "$pid" ]] || pid="$(read_state "$STATE.tmp" S3_TLS_PID)"
  if [[ -n "$pid" ]]; then stop_pid "$pid" "$DATA" 10; fi
  tb_down S3_PID "$DATA" 10
}

cmd_status() {
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    # The secret stays in the file; status is often pasted into CI logs.
    sed 's/^S3_SECRET_KEY=.*/S3_SECRET_KEY=(see state.env)/' "$STATE"
  else
    echo "not running"
  fi
}

cmd_logs() {
  tb_logs "$SERVER_LOG" server
}

tb_dispatch "up|down|status|logs" "$@"
