#!/usr/bin/env bash
# The whole local integration stack: a real Kafka broker (scripts/kafka.sh),
# a real S3 server (scripts/s3.sh), Apache Iceberg's REST catalog with its
# tables on that S3 server (scripts/iceberg.sh), an AWS API peer for Glue and
# Athena (scripts/moto.sh) and Trino over that S3 server and catalog
# (scripts/trino.sh), all on 127.0.0.1.
#
# Usage: scripts/stack.sh up|down|status
#
# LAKE=none leaves Trino out of `up` (it needs Java 24+ and an 820 MB
# download, once per machine); `down` and `status` always include it. The
# Iceberg catalog is started either way: Java 17, ~45 MB of jars once per
# machine, ~2 s and ~100 MB RSS.
# BROKERS=N (1..5, default 1) starts a Kafka cluster of N brokers
# (scripts/kafka.sh; 3 gives replication factor 3, min.insync.replicas 2).
# TLS=1 adds TLS: a CA and certificates (scripts/certs.sh, Go's crypto), the
# brokers' SSL, SASL_SSL (SCRAM-SHA-512) and mutual-TLS listeners and two
# with bad certificates (expired, wrong host name), and the S3 server over
# HTTPS beside its HTTP endpoint; ~1 s more than without.
# FAULTS=1 puts toxiproxy (scripts/faults.sh) between clients and each broker
# and the S3 server: each broker gets a listener that advertises its proxy.
#
# State for tests, one KEY=VALUE per line (see the scripts for the keys):
#   .tickbench/run/kafka/state.env   KAFKA_BROKERS (comma-separated),
#                                    KAFKA_BROKER_COUNT, KAFKA_PID_1.., KAFKA_VERSION,
#                                    with TLS=1 KAFKA_SSL_BROKERS, KAFKA_SASL_SSL_BROKERS,
#                                    KAFKA_MTLS_BROKERS, KAFKA_TLS_EXPIRED_BROKERS,
#                                    KAFKA_TLS_WRONGHOST_BROKERS, KAFKA_TLS_CA, ..
#   .tickbench/run/certs/state.env   with TLS=1: TLS_CA, TLS_OTHER_CA, TLS_CLIENT_CERT, ..
#   .tickbench/run/faults/state.env  with FAULTS=1: TOXIPROXY_API, FAULTS_KAFKA_BROKERS,
#                                    FAULTS_KAFKA_PROXIES, FAULTS_S3_ENDPOINT, FAULTS_S3_PROXY
#   .tickbench/run/s3/state.env      S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY,
#                                    S3_SECRET_KEY, S3_REGION, S3_PID, with TLS=1
#                                    S3_TLS_ENDPOINT, S3_CA, S3_TLS_PID
#   .tickbench/run/iceberg/state.env ICEBERG_REST_URL, ICEBERG_WAREHOUSE,
#                                    ICEBERG_S3_ENDPOINT, ICEBERG_VERSION, ICEBERG_PID
#   .tickbench/run/moto/state.env    MOTO_ENDPOINT, MOTO_REGION, MOTO_PID
#   .tickbench/run/trino/state.env   TRINO_URL, TRINO_CATALOG, TRINO_ICEBERG_CATALOG,
#                                    TRINO_ICEBERG_REST_URL, TRINO_S3_ENDPOINT,
#                                    TRINO_VERSION, TRINO_PID
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAKE="${LAKE:-trino}"
case "$LAKE" in
trino | none) ;;
*)
  echo "[stack] LAKE=$LAKE: allowed trino (default) or none" >&2
  exit 2
  ;;
esac
# Checked before anything starts; kafka.sh reads BROKERS itself.
if [[ -n "${BROKERS:-}" && ! "$BROKERS" =~ ^[1-5]$ ]]; then
  echo "[stack] BROKERS=$BROKERS: allowed 1..5" >&2
  exit 2
fi
if [[ -n "${TLS:-}" && ! "$TLS" =~ ^[01]$ ]]; then
  echo "[stack] TLS=$TLS: allowed 0 or 1" >&2
  exit 2
fi
if [[ -n "${FAULTS:-}" && ! "$FAULTS" =~ ^[01]$ ]]; then
  echo "[stack] FAULTS=$FAULTS: allowed 0 or 1" >&2
  exit 2
fi

faults_up() {
  if [[ "${FAULTS:-0}" == 1 ]]; then bash "$here/faults.sh" up; fi
}

trino_up() {
  if [[ "$LAKE" == trino ]]; then bash "$here/trino.sh" up; fi
}

case "${1:-}" in
up)
  # S3 first: it is quick when cached, and a failure there should not leave a
  # broker behind; the Iceberg catalog keeps its tables there, and Trino reads
  # both. If any fails, take down whatever did start.
  if ! { bash "$here/s3.sh" up && bash "$here/iceberg.sh" up && trino_up && bash "$here/moto.sh" up && bash "$here/kafka.sh" up && faults_up; }; then
    echo "[stack] up failed; stopping what started" >&2
    bash "$here/faults.sh" down || true
    bash "$here/kafka.sh" down || true
    bash "$here/moto.sh" down || true
    bash "$here/trino.sh" down || true
    bash "$here/iceberg.sh" down || true
    bash "$here/s3.sh" down || true
    exit 1
  fi
  ;;
down)
  # Always try all, and report failure if any failed.
  rc=0
  bash "$here/faults.sh" down || rc=1
  bash "$here/kafka.sh" down || rc=1
  bash "$here/trino.sh" down || rc=1
  bash "$here/iceberg.sh" down || rc=1
  bash "$here/s3.sh" down || rc=1
  bash "$here/moto.sh" down || rc=1
  bash "$here/certs.sh" down || rc=1
  exit "$rc"
  ;;
status)
  echo "== kafka"
  bash "$here/kafka.sh" status
  echo "== s3"
  bash "$here/s3.sh" status
  echo "== iceberg"
  bash "$here/iceberg.sh" status
  echo "== moto"
  bash "$here/moto.sh" status
  echo "== trino"
  bash "$here/trino.sh" status
  echo "== certs"
  bash "$here/certs.sh" status
  echo "== faults"
  bash "$here/faults.sh" status
  ;;
*)
  echo "usage: $0 up|down|status" >&2
  exit 2
  ;;
esac
