#!/usr/bin/env bash
# Network faults between tickbench and the local stack's servers: Shopify's
# toxiproxy (its server built once with `go install` from the Go module
# proxy, ~15 s) with a proxy in front of each Kafka node and of the S3
# server. The brokers must have been started with FAULTS=1 (scripts/kafka.sh):
# then their PROXIED listener advertises the proxies, so a client
# bootstrapped at a proxy reaches every broker through its proxy only.
# Faults (toxics) are added and removed through toxiproxy's HTTP API; Go
# tests use stack.NetFaults.
#
# Usage: scripts/faults.sh up|down|status|logs
#
# After `up`, .tickbench/run/faults/state.env holds:
#   TOXIPROXY_API=http://127.0.0.1:PORT  toxiproxy's HTTP API
#   FAULTS_KAFKA_BROKERS=...             bootstrap through the proxies (one per node)
#   FAULTS_KAFKA_PROXIES=kafka-1,...     the proxies' names, in node order
#   FAULTS_S3_ENDPOINT=http://127.0.0.1:PORT  the S3 server through its proxy
#   FAULTS_S3_PROXY=s3
#   TOXIPROXY_PID=... TOXIPROXY_VERSION=...
set -euo pipefail

TB_NAME=faults # prefix of log() lines
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOXI_VERSION=v2.12.0
TOXI_MODULE=github.com/Shopify/toxiproxy/v2/cmd/server
TOXI_DIR="$TB_CACHE/toxiproxy-$TOXI_VERSION"
TOXI="$TOXI_DIR/toxiproxy-server"

RUN="$TB_RUN/faults"
DATA="$RUN/data" # nothing in it; tb_down removes it
STATE="$RUN/state.env"
SERVER_LOG="$RUN/server.log"

install_toxi() {
  if [[ -x "$TOXI" ]]; then return 0; fi
  command -v go >/dev/null || die "go not found (needed once to build toxiproxy)"
  log "building toxiproxy $TOXI_VERSION with go install (first run only, ~15 s)"
  local tmp
  rm -rf "$TB_CACHE"/.toxi-build.*
  tmp="$(mktemp -d "$TB_CACHE/.toxi-build.XXXXXX")"
  GOBIN="$tmp" go install "$TOXI_MODULE@$TOXI_VERSION" </dev/null >&2 || die "go install of toxiproxy failed"
  mkdir -p "$TOXI_DIR"
  mv "$tmp/server" "$TOXI"
  rm -rf "$tmp"
}

running_pid() {
  local pid
  pid="$(read_state "$STATE" TOXIPROXY_PID)"
  if pid_matches "$pid" "$TOXI"; then printf '%s' "$pid"; fi
}

# api METHOD PATH [JSON]: call toxiproxy's API, fail on an HTTP error.
api() {
  local url
  url="$(read_state "$STATE.tmp" TOXIPROXY_API)"
  [[ -n "$url" ]] || url="$(read_state "$STATE" TOXIPROXY_API)"
  curl -sS -f --max-time 10 -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$url$2" >/dev/null
}

cmd_up() {
  tb_init_dirs
  local pid kafka_state="$TB_RUN/kafka/state.env" s3_state="$TB_RUN/s3/state.env"
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    log "already running: pid $pid, $(read_state "$STATE" TOXIPROXY_API)"
    return 0
  fi
  local proxied upstreams s3
  proxied="$(read_state "$kafka_state" KAFKA_PROXIED_BROKERS)"
  upstreams="$(read_state "$kafka_state" KAFKA_PROXIED_UPSTREAMS)"
  s3="$(read_state "$s3_state" S3_ENDPOINT)"
  [[ -n "$proxied" && -n "$upstreams" ]] || die "Kafka runs without the proxied listeners: start it with FAULTS=1 (scripts/kafka.sh)"
  [[ -n "$s3" ]] || die "the S3 server is not running (scripts/s3.sh up)"
  install_toxi
  rm -rf "$RUN"
  mkdir -p "$DATA"

  local port s3port
  read -r port s3port < <(free_ports 2)
  setsid "$TOXI" -host 127.0.0.1 -port "$port" </dev/null >"$SERVER_LOG" 2>&1 &
  pid=$!
  local names=() up i
  IFS=, read -r -a up <<<"$upstreams"
  IFS=, read -r -a px <<<"$proxied"
  for ((i = 1; i <= ${#up[@]}; i++)); do names+=("kafka-$i"); done
  {
    echo "TOXIPROXY_API=http://127.0.0.1:$port"
    echo "FAULTS_KAFKA_BROKERS=$proxied"
    echo "FAULTS_KAFKA_PROXIES=$(IFS=,; echo "${names[*]}")"
    echo "FAULTS_S3_ENDPOINT=http://127.0.0.1:$s3port"
    echo "FAULTS_S3_PROXY=s3"
    echo "TOXIPROXY_PID=$pid"
    echo "TOXIPROXY_VERSION=$TOXI_VERSION"
  } >"$STATE.tmp"
  local deadline=$((SECONDS + 15))
  until curl -s -f -o /dev/null --max-time 2 "http://127.0.0.1:$port/version"; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
      tail -n 20 "$SERVER_LOG" >&2 || true
      stop_pid "$pid" "$TOXI" 5
      rm -rf "$RUN"
      die "toxiproxy did not start"
    fi
    sleep 0.1
  done
  local ok=1
  for ((i = 0; i < ${#up[@]}; i++)); do
    api POST /proxies "{\"name\":\"${names[i]}\",\"listen\":\"${px[i]}\",\"upstream\":\"${up[i]}\",\"enabled\":true}" || ok=0
  done
  api POST /proxies "{\"name\":\"s3\",\"listen\":\"127.0.0.1:$s3port\",\"upstream\":\"${s3#http://}\",\"enabled\":true}" || ok=0
  if ((ok == 0)); then
    tail -n 20 "$SERVER_LOG" >&2 || true
    stop_pid "$pid" "$TOXI" 5
    rm -rf "$RUN"
    die "toxiproxy refused a proxy (a port taken meanwhile?)"
  fi
  mv "$STATE.tmp" "$STATE"
  log "toxiproxy $TOXI_VERSION up: API http://127.0.0.1:$port; Kafka through $proxied, S3 through http://127.0.0.1:$s3port (pid $pid)"
}

cmd_down() {
  tb_down TOXIPROXY_PID "$TOXI" 5
  rm -rf "$RUN"
}

cmd_status() {
  if [[ -n "$(running_pid)" ]]; then
    cat "$STATE"
    curl -s --max-time 5 "$(read_state "$STATE" TOXIPROXY_API)/proxies" && echo
  else
    echo "not running"
  fi
}

cmd_logs() {
  tb_logs "$SERVER_LOG" server
}

tb_dispatch "up|down|status|logs" "$@"
