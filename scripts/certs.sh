#!/usr/bin/env bash
# TLS material for the local stack's TLS listeners (TLS=1 of scripts/stack.sh,
# kafka.sh and s3.sh): a CA, a server certificate for 127.0.0.1/localhost,
# the bad ones clients must refuse (expired, for another host name, from
# another CA) and a client certificate for mutual TLS. Made with Go's crypto
# (internal/certs, `go run ./internal/certs/certgen`), nothing fetched.
#
# Usage: scripts/certs.sh up|down|status
#
# After `up`, .tickbench/run/certs/state.env holds the PEM files' paths:
#   TLS_CA, TLS_OTHER_CA, TLS_SERVER_CERT/_KEY, TLS_EXPIRED_CERT/_KEY,
#   TLS_EXPIRED_AT, TLS_WRONGHOST_CERT/_KEY, TLS_WRONGHOST_NAME,
#   TLS_CLIENT_CERT/_KEY, TLS_DIR
# `up` keeps a set that is valid for at least another day; `down` deletes it
# (the servers that use it should be down first).
set -euo pipefail

TB_NAME=certs # prefix of log() lines
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUN="$TB_RUN/certs"
DATA="$RUN/files"
STATE="$RUN/state.env"

# valid_set: the state names a server certificate made less than 6 days ago
# (certgen makes them valid for 7).
valid_set() {
  local cert
  cert="$(read_state "$STATE" TLS_SERVER_CERT)"
  [[ -f "$cert" && -n "$(find "$STATE" -mmin -$((6 * 24 * 60)) 2>/dev/null)" ]]
}

cmd_up() {
  tb_init_dirs
  if valid_set; then
    log "reusing the certificates in ${DATA#"$TB_ROOT"/}"
    return 0
  fi
  command -v go >/dev/null || die "go not found (needed to make the certificates)"
  rm -rf "$DATA" "$STATE"
  mkdir -p "$RUN"
  (cd "$TB_ROOT" && go run ./internal/certs/certgen -dir "$DATA") >"$STATE.tmp" || die "certgen failed"
  mv "$STATE.tmp" "$STATE"
  log "made a CA and certificates in ${DATA#"$TB_ROOT"/} (CA $(read_state "$STATE" TLS_CA))"
}

cmd_down() {
  rm -rf "$DATA" "$STATE" "$STATE.tmp"
}

cmd_status() {
  if [[ -f "$STATE" ]]; then cat "$STATE"; else echo "not running"; fi
}

tb_dispatch "up|down|status" "$@"
