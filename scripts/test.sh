#!/usr/bin/env bash
# `make test`: unit tests with the race detector, then the integration suite
# against a real Apache Kafka broker, a real S3 server (versitygw), Apache
# Iceberg's REST catalog, an AWS API peer (moto) and Trino that this script
# starts (installing them on first use) and stops again. A stack that was already up (`make up`) is used and
# left running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== unit tests (race detector on; integration tests skip here)"
go test -race -count=1 ./...

echo "== timing checks without the race detector (it slows every request's client side)"
go test -count=1 -run 'TestLatencyTellsTheTruth/50_ms' -v ./bench 2>&1 | grep -E -- '--- (PASS|FAIL|SKIP)|^ok|^FAIL|run_test'

already_up=0
# Capture first: grep -q closing the pipe early would fail the pipeline.
status="$(bash scripts/stack.sh status 2>/dev/null || true)"
if [[ $status != *"not running"* ]]; then
  already_up=1
fi
echo "== starting the real local stack (Kafka jars, versitygw and moto are fetched once into .tickbench/cache, Iceberg's and Trino's jars once per machine into ~/.m2)"
# The access log lets the Iceberg scan-model test count Trino's metadata
# GETs (a stack that was up already is used as it is). TLS=1 adds the TLS
# listeners and S3 over HTTPS that TestLocalTLS* use (~1 s more to start).
TICKBENCH_S3_ACCESS_LOG=1 TLS=1 bash scripts/stack.sh up
if [[ $already_up == 0 ]]; then
  trap 'echo "== stopping the real local stack"; bash scripts/stack.sh down' EXIT
fi

echo "== integration tests on the real local stack"
# -v shows the figures the tests log; packages without Local tests are quiet.
TICKBENCH_LOCAL_STACK=1 go test -count=1 -timeout 30m -run 'Local' -v ./... 2>&1 |
  grep -vE '^=== (RUN|PAUSE|CONT)|^testing: warning: no tests to run|^PASS$|no tests to run\]$' 

# Tests named LocalThreeBrokers* need the 3-broker cluster of
# `make up BROKERS=3` (above they skip on one broker), and the distributed
# run is repeated there with broker 2 stopped half-way: Kafka is started again
# as 3 brokers for them, unless the stack was someone else's to keep.
if [[ $already_up == 0 ]]; then
  echo "== the 3-broker cluster (BROKERS=3): tests that stop a broker mid-run"
  bash scripts/kafka.sh down
  # FAULTS=1: a listener per broker that advertises a toxiproxy proxy in
  # front of it (scripts/faults.sh), for TestLocalThreeBrokersNetFaults.
  BROKERS=3 TLS=1 FAULTS=1 bash scripts/kafka.sh up
  bash scripts/faults.sh up
  # The TLS runs again: their topics get 3 replicas here.
  TICKBENCH_LOCAL_STACK=1 TICKBENCH_STOP_BROKER=2 go test -count=1 -timeout 15m -run 'LocalThreeBrokers|LocalDistributedRun|LocalTLSRuns' -v ./... 2>&1 |
    grep -vE '^=== (RUN|PAUSE|CONT)|^testing: warning: no tests to run|^PASS$|no tests to run\]$'
else
  echo "== the 3-broker tests (LocalThreeBrokers*) ran above only if the running stack has 3 brokers (make up BROKERS=3); the distributed run with a broker stopped needs TICKBENCH_STOP_BROKER=2 on one"
fi
