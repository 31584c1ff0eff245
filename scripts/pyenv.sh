#!/usr/bin/env bash
# A Python venv with a tool the tests need, pinned: pyarrow (the default), an
# independent Parquet reader (scripts/check_parquet.py), pyiceberg with
# pyarrow, an independent Iceberg client (scripts/check_iceberg.py), or
# cfn-lint, which lints deploy/aws/ (scripts/lint-deploy.sh), grpcio-tools,
# whose wheel carries protoc (scripts/generate.sh), or confluent-kafka with
# its Schema Registry deserializers, an independent reader of the Avro and
# Protobuf ticks (scripts/check_wire.py). Each is created
# once under .tickbench/cache/ and reused while the pinned versions and the
# Python interpreter are unchanged, so a cached call takes well under a second.
#
# Usage: scripts/pyenv.sh [pyarrow|pyiceberg|cfn-lint|protoc|confluent]
# Prints the venv's python path on stdout; progress and errors go to stderr.
#
# Env overrides: TICKBENCH_PYTHON interpreter to build the venv from
# (default python3; pyarrow needs 3.10 or newer).
set -euo pipefail

TB_NAME=pyenv # prefix of log() lines
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PYTHON="${TICKBENCH_PYTHON:-python3}"
# TOOL: the venv's folder, the pinned requirements (space-separated), and a
# check that they work.
case "${1:-pyarrow}" in
pyarrow) VENV="$TB_CACHE/venv" REQ=pyarrow==26.0.1 CHECK='import pyarrow.parquet' ;;
# pyiceberg-core: writes to a partitioned table (its transforms) need it;
# pyarrow is pinned to the reader check_parquet.py uses.
pyiceberg) VENV="$TB_CACHE/venv-pyiceberg" REQ="pyiceberg==0.12.0 pyiceberg-core==0.10.1 pyarrow==26.0.1" CHECK='import pyiceberg.catalog.rest, pyiceberg.io.pyarrow' ;;
cfn-lint) VENV="$TB_CACHE/venv-cfn-lint" REQ=cfn-lint==1.58.0 CHECK='import cfnlint' ;;
protoc) VENV="$TB_CACHE/venv-protoc" REQ=grpcio-tools==1.85.1 CHECK='import grpc_tools.protoc' ;;
confluent) VENV="$TB_CACHE/venv-confluent" REQ="confluent-kafka[avro,protobuf,schemaregistry]==2.16.1" CHECK='from confluent_kafka.schema_registry.avro import AvroDeserializer; from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer' ;;
*) die "tool '$1': allowed pyarrow (default), pyiceberg, cfn-lint, protoc, confluent" ;;
esac
read -ra REQS <<<"$REQ"
# The stamp names what the venv was built with; any change rebuilds it.
STAMP="$VENV/.tickbench-stamp"

command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.10+ or set TICKBENCH_PYTHON"
want="$REQ $("$PYTHON" -c 'import sys; print(sys.version.split()[0])') $(command -v "$PYTHON")"

ready() { [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; }

if ! ready; then
  tb_init_dirs
  # One builder at a time: parallel test runs wait here, then reuse.
  exec 9>"$VENV.lock"
  flock 9
  if ! ready; then
    log "creating $VENV with $REQ (once; later calls reuse it)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" || die "$PYTHON -m venv failed (on Debian: apt-get install python3-venv)"
    if ! "$VENV/bin/python" -m pip install --no-input --disable-pip-version-check -q "${REQS[@]}" >&2; then
      rm -rf "$VENV"
      die "pip install $REQ failed (output above): it needs the Python package index reachable, or a wheel in PIP_FIND_LINKS"
    fi
    "$VENV/bin/python" -c "$CHECK" || { rm -rf "$VENV"; die "$REQ installed but does not import"; }
    printf '%s\n' "$want" >"$STAMP"
  fi
fi
printf '%s\n' "$VENV/bin/python"
