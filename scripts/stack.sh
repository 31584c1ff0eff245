#!/usr/bin/env bash
# The whole local integration stack: a real Kafka broker (scripts/kafka.sh),
# a real S3 server (scripts/s3.sh) and an AWS API peer for Glue and Athena
# (scripts/moto.sh), all on 127.0.0.1.
#
# Usage: scripts/stack.sh up|down|status
#
# State for tests, one KEY=VALUE per line (see the two scripts for the keys):
#   .tickbench/run/kafka/state.env   KAFKA_BROKERS, KAFKA_PID, KAFKA_VERSION
#   .tickbench/run/s3/state.env      S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY,
#                                    S3_SECRET_KEY, S3_REGION, S3_PID
#   .tickbench/run/moto/state.env    MOTO_ENDPOINT, MOTO_REGION, MOTO_PID
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

case "${1:-}" in
up)
  # S3 first: it is quick when cached, and a failure there should not leave a
  # broker behind. If either fails, take down whatever did start.
  if ! { bash "$here/s3.sh" up && bash "$here/moto.sh" up && bash "$here/kafka.sh" up; }; then
    echo "[stack] up failed; stopping what started" >&2
    bash "$here/kafka.sh" down || true
    bash "$here/moto.sh" down || true
    bash "$here/s3.sh" down || true
    exit 1
  fi
  ;;
down)
  # Always try both, and report failure if either failed.
  rc=0
  bash "$here/kafka.sh" down || rc=1
  bash "$here/s3.sh" down || rc=1
  bash "$here/moto.sh" down || rc=1
  exit "$rc"
  ;;
status)
  echo "== kafka"
  bash "$here/kafka.sh" status
  echo "== s3"
  bash "$here/s3.sh" status
  echo "== moto"
  bash "$here/moto.sh" status
  ;;
*)
  echo "usage: $0 up|down|status" >&2
  exit 2
  ;;
esac
