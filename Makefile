# tickbench: `make bench` runs the whole pipeline on the embedded stack,
# `make test` runs every check CI runs.

GO       ?= go
RATE     ?= 10000
DURATION ?= 30s
ARGS     ?=
BIN      := bin/tickbench

.PHONY: all build bench bench-matrix ceiling soak dist dist-bin test vet fmt-check bench-go up down status broker-stop broker-start lint-deploy clean compare-producer query ddl regress regress-errors regress-noise lint-workflows fuzz scan-model

all: build

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/tickbench

## bench: run generator + sink at RATE ticks/s for DURATION on STACK
## (embedded, or local after `make up`); ARGS passed through
STACK    ?= embedded
bench: build
	./$(BIN) bench --stack $(STACK) --rate $(RATE) --duration $(DURATION) $(ARGS)

## bench-matrix: every strategy over the same seeded ticks, side by side
## (one object per tick cannot keep up at high rates: its drain may take minutes)
MATRIX   ?= all
bench-matrix: build
	./$(BIN) bench --stack $(STACK) --rate $(RATE) --duration $(DURATION) --strategies $(MATRIX) --name matrix --drain-timeout 30m $(ARGS)

## dist: one run over OS processes on this machine as docs/distributed.md
## runs it on several hosts: SHARDS generator shards (default 3), SINKS
## sink members (default 2) landing STRATEGY, merged, verified and
## reported; needs `make up`
SHARDS   ?= 3
SINKS    ?= 2
STRATEGY ?= jsonl
dist: build
	RATE=$(RATE) DURATION=$(DURATION) SHARDS=$(SHARDS) SINKS=$(SINKS) STRATEGY=$(STRATEGY) ARGS="$(ARGS)" bash scripts/dist.sh

## ceiling: the highest rate each of STRATEGY (comma-separated) sustains on
## STACK: steps of a constant rate, doubling then bisecting, the whole search
## bounded by MAXDUR (docs/ceiling.md); ARGS passed through (--slo, --step, ...)
MAXDUR   ?= 10m
ceiling: build
	./$(BIN) ceiling --stack $(STACK) --strategies $(STRATEGY) --max-duration $(MAXDUR) $(ARGS)

## soak: one strategy (STRATEGY, default parquet-zstd) at RATE for DURATION
## (default here 30m) on STACK with a fault every 5 minutes (broker restarts
## on the local stack, which needs `make up BROKERS=3`; S3 errors and
## stalls on the embedded one); fails if memory, goroutines, open files or
## lag grow or a tick is lost (docs/soak.md)
soak: build
	./$(BIN) soak --stack $(STACK) --rate $(RATE) --duration $(if $(filter command line environment,$(origin DURATION)),$(DURATION),30m) --strategies $(if $(filter command line environment,$(origin STRATEGY)),$(STRATEGY),parquet-zstd) $(ARGS)

## test: formatting, vet, unit tests (race detector on), then the integration
## suite on a real Kafka + S3 that scripts/test.sh starts and stops
test: fmt-check vet lint-workflows lint-deploy
	bash scripts/test.sh

vet:
	$(GO) vet ./...

## lint-workflows: actionlint on .github/workflows/, and their make targets exist
lint-workflows:
	bash scripts/lint-workflows.sh

## lint-deploy: cfn-lint (pinned, installed into .tickbench/cache) on
## deploy/aws/, and broken copies fail it; deploy/kubernetes/ is checked by
## go test (strict decoding with the Kubernetes API's types, the command
## lines parsed by tickbench's flags)
lint-deploy:
	bash scripts/lint-deploy.sh

fmt-check:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## fuzz: each decoder of outside input for FUZZTIME (seed corpora in
## testdata/fuzz/), one target at a time: go test -fuzz takes one. New
## inputs are minimized for at most 5 s (default 60 s, counted in FUZZTIME
## with no executions)
FUZZTIME ?= 60s
FUZZFLAGS ?= -fuzzminimizetime=5s
FUZZ_TARGETS := ./tick:FuzzDecodeJSON ./gen:FuzzParseProfile ./bench:FuzzReadWorkload ./bench/result:FuzzParseResult ./sink:FuzzReadTicks ./stack/s3lite:FuzzChunkReader ./internal/pqguard:FuzzStruct ./tick/wire:FuzzDecodeAvro ./tick/wire:FuzzDecodeProtobuf ./tick/wire:FuzzDecodeFrame
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$pkg; \
	done

## generate: the Go code of tick/schema/tick.proto (protoc from the
## grpcio-tools wheel, protoc-gen-go of go.mod's protobuf version; both
## cached in .tickbench/cache: scripts/generate.sh)
.PHONY: generate
generate:
	bash scripts/generate.sh

## bench-go: the Go micro-benchmarks (generator, codec)
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## up/down: a real local stack (Apache Kafka from Maven Central, versitygw,
## Apache Iceberg's REST catalog from Maven Central, moto, Trino 476 from
## Maven Central: LAKE=none leaves Trino out);
## BROKERS=3 makes Kafka a 3-broker cluster (replication factor 3,
## min.insync.replicas 2), default 1; TLS=1 adds TLS and mutual-TLS
## listeners (SCRAM on one) and S3 over HTTPS, with a CA of its own
## (scripts/certs.sh); FAULTS=1 puts toxiproxy proxies between clients and
## each broker and S3 (scripts/faults.sh; the brokers advertise them)
LAKE ?= trino
BROKERS ?=
TLS     ?=
FAULTS  ?=
up:
	LAKE=$(LAKE) BROKERS=$(BROKERS) TLS=$(TLS) FAULTS=$(FAULTS) bash scripts/stack.sh up
down:
	bash scripts/stack.sh down
status:
	bash scripts/stack.sh status

## broker-stop/broker-start: stop broker ID of the cluster (a controlled
## shutdown; its partitions move to the others), and start it again
ID ?=
broker-stop:
	bash scripts/kafka.sh broker-stop $(ID)
broker-start:
	bash scripts/kafka.sh broker-start $(ID)

## dist-bin: release binaries for linux and darwin on amd64 and arm64 in
## dist/ (-trimpath, VERSION stamped: default git describe --tags --always
## --dirty), with SHA256SUMS; DuckDB needs cgo, so a platform without a C
## compiler for it (CC_OS_ARCH) is skipped and named (scripts/dist-bin.sh)
VERSION ?=
PLATFORMS ?=
dist-bin:
	VERSION="$(VERSION)" PLATFORMS="$(PLATFORMS)" bash scripts/dist-bin.sh

## clean: build output, the embedded S3 server's landed objects and its Iceberg catalog
clean:
	rm -rf bin .tickbench/s3 .tickbench/iceberg-catalog.db

## compare-producer: Kafka's producer perf tool vs tickbench's producer on the
## real broker of `make up` (COUNT records, default 1,000,000)
COUNT ?= 1000000
compare-producer: build
	bash scripts/compare-producer.sh $(COUNT)

## scan-model: the scan model against Trino on objects of several sizes
## (TestLocalTrinoScanModel, 3-4 min): starts the local stack if needed and
## leaves it up; prints the model-vs-Trino table
scan-model:
	bash scripts/stack.sh up
	TICKBENCH_LOCAL_STACK=1 TICKBENCH_SCAN_MODEL=full $(GO) test -count=1 -timeout 30m -run 'TestLocalTrinoScanModel' -v ./lake

## query: SQL over the latest run's first strategy with the local DuckDB
## (ARGS e.g. --strategy parquet-snappy); ddl: its Athena CREATE TABLE
SQL ?= SELECT count(*) FROM ticks
query: build
	./$(BIN) query $(ARGS) "$(SQL)"
ddl: build
	./$(BIN) catalog --ddl $(ARGS)

## regress: the CI performance gate: the base revision's build (BASE, default
## the merge base with main, or HEAD~1 on main) against the working tree's,
## the same seeded workloads run alternately A B B A ... (RUNS each, default
## 6) on the embedded stack, compared per unit (scripts/regress.sh)
BASE ?=
RUNS ?= 6
regress:
	BASE="$(BASE)" RUNS="$(RUNS)" bash scripts/regress.sh

## regress-errors: the gate's false alarms A/A and catches of the slowed
## build (-tags slowsink), TIMES each (default 10); about 20 gate runs
TIMES ?= 10
regress-errors:
	TIMES="$(TIMES)" bash scripts/regress-errors.sh

## regress-noise: how far the throughput workload's CPU and rate move from run
## to run (CV) and how far the slowed build moves them, per candidate
## (CANDIDATES, ;-separated bench flags and env; PAIRS each, default 6)
PAIRS ?= 6
regress-noise:
	PAIRS="$(PAIRS)" bash scripts/regress-noise.sh
