#!/usr/bin/env bash
# Regenerates the checked-in Go code of tick/schema/tick.proto (make
# generate). protoc comes from the grpcio-tools wheel (a pinned venv of
# scripts/pyenv.sh: no protoc binary is installed on the machine or
# downloaded), protoc-gen-go is built from the google.golang.org/protobuf
# version go.mod requires, so the generated code matches the runtime it is
# compiled with. Both land in .tickbench/cache once.
#
# Usage: scripts/generate.sh
set -euo pipefail

TB_NAME=generate # prefix of log() lines
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tb_init_dirs
py="$(bash "$TB_ROOT/scripts/pyenv.sh" protoc)"
bin="$TB_CACHE/bin"
mkdir -p "$bin"
(cd "$TB_ROOT" && go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go) ||
  die "building protoc-gen-go failed"
cd "$TB_ROOT/tick/schema"
"$py" -m grpc_tools.protoc --plugin=protoc-gen-go="$bin/protoc-gen-go" \
  --proto_path=. --go_out=. --go_opt=paths=source_relative tick.proto
log "generated tick/schema/tick.pb.go ($("$py" -m grpc_tools.protoc --version))"
