#!/usr/bin/env bash
# moto in server mode on 127.0.0.1: an AWS API peer for the Glue and Athena
# code paths (TestLocalGlue*, TestLocalAthena*). It speaks the AWS wire
# protocol; Athena queries are not run (SUCCEEDED at once, 0 bytes scanned).
# moto is pip-installed once into .tickbench/cache/moto-venv and reused.
#
# Usage: scripts/moto.sh up|down|status|logs
#
# After `up`, .tickbench/run/moto/state.env holds:
#   MOTO_ENDPOINT=http://127.0.0.1:PORT   one endpoint for every service
#   MOTO_REGION=us-east-1
#   MOTO_PID=...
#
# Env overrides: TICKBENCH_PYTHON (default python3),
# TICKBENCH_MOTO_START_TIMEOUT seconds (default 30).
set -euo pipefail

TB_NAME=moto # prefix of log() lines
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_VERSION=5.2.1
PYTHON="${TICKBENCH_PYTHON:-python3}"
VENV="$TB_CACHE/moto-venv"
STAMP="$VENV/.tickbench-stamp"
START_TIMEOUT="${TICKBENCH_MOTO_START_TIMEOUT:-30}"
REGION=us-east-1

RUN="$TB_RUN/moto"
DATA="$RUN/data" # nothing is kept there; tb_down removes it
STATE="$RUN/state.env"
SERVER_LOG="$RUN/server.log"
MATCH="$VENV/bin/moto_server" # in the server's command line

install_moto() {
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.10+ or set TICKBENCH_PYTHON"
  local want
  want="moto[server]==$MOTO_VERSION $("$PYTHON" -c 'import sys; print(sys.version.split()[0])') $(command -v "$PYTHON")"
  if [[ -x "$VENV/bin/moto_server" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then return 0; fi
  exec 8>"$TB_CACHE/moto-venv.lock"
  flock 8
  if [[ -x "$VENV/bin/moto_server" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then return 0; fi
  log "creating $VENV with moto[server] $MOTO_VERSION (once; later calls reuse it)"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die "$PYTHON -m venv failed (on Debian: apt-get install python3-venv)"
  if ! "$VENV/bin/python" -m pip install --no-input --disable-pip-version-check -q "moto[server]==$MOTO_VERSION" >&2; then
    rm -rf "$VENV"
    die "pip install moto[server]==$MOTO_VERSION failed (output above): it needs the Python package index reachable"
  fi
  printf '%s\n' "$want" >"$STAMP"
}

running_pid() {
  local pid
  pid="$(read_state "$STATE" MOTO_PID)"
  if pid_matches "$pid" "$MATCH"; then printf '%s' "$pid"; fi
}

cmd_up() {
  tb_init_dirs
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    log "already running: pid $pid, $(read_state "$STATE" MOTO_ENDPOINT)"
    return 0
  fi
  rm -rf "$DATA" "$STATE" "$STATE.tmp"
  install_moto
  command -v curl >/dev/null || die "curl not found"
  mkdir -p "$DATA"
  local port
  read -r port < <(free_ports 1)
  # setsid: outlive this script; stopped by pid through `down`.
  setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" </dev/null >"$SERVER_LOG" 2>&1 &
  pid=$!
  printf 'MOTO_ENDPOINT=http://127.0.0.1:%s\nMOTO_REGION=%s\nMOTO_PID=%s\n' "$port" "$REGION" "$pid" >"$STATE.tmp"

  local deadline=$((SECONDS + START_TIMEOUT))
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/moto-api/" 2>/dev/null || true)" == 200 ]]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$SERVER_LOG" >&2 || true
      rm -rf "$DATA" "$STATE.tmp"
      die "moto_server exited during startup"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$SERVER_LOG" >&2 || true
      stop_pid "$pid" "$MATCH" 10
      rm -rf "$DATA" "$STATE.tmp"
      die "moto_server not ready after ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
  mv "$STATE.tmp" "$STATE"
  log "moto $MOTO_VERSION up: http://127.0.0.1:$port (pid $pid)"
}

cmd_down() {
  tb_down MOTO_PID "$MATCH" 10
}

cmd_status() {
  if [[ -n "$(running_pid)" ]]; then cat "$STATE"; else echo "not running"; fi
}

cmd_logs() {
  tb_logs "$SERVER_LOG" server
}

tb_dispatch "up|down|status|logs" "$@"
