# tickbench: `make bench` runs the whole pipeline on the embedded stack,
# `make test` runs every check CI runs.

GO       ?= go
RATE     ?= 10000
DURATION ?= 30s
ARGS     ?=
BIN      := bin/tickbench

.PHONY: all build bench test vet fmt-check bench-go up down status clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/tickbench

## bench: run generator + sink at RATE ticks/s for DURATION (ARGS passed through)
bench: build
	./$(BIN) bench --rate $(RATE) --duration $(DURATION) $(ARGS)

## test: formatting, vet, and every test (race detector on)
test: fmt-check vet
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench-go: the Go micro-benchmarks (generator, codec)
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## up/down: a real local stack (Apache Kafka from Maven Central, versitygw)
up:
	bash scripts/stack.sh up
down:
	bash scripts/stack.sh down
status:
	bash scripts/stack.sh status

## clean: build output and the embedded S3 server's landed objects
clean:
	rm -rf bin .tickbench/s3
