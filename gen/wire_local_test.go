package gen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/stack"
	"github.com/tickbench/tickbench/tick"
	"github.com/tickbench/tickbench/tick/wire"
)

// TestLocalWireReadByConfluent produces 100,000 ticks per framed wire
// format to the real local Kafka, with the Schema Registry at
// TICKBENCH_REGISTRY_URL (e.g. a Karapace on that Kafka) or else an
// in-process one, and has Confluent's
// Python client (confluent-kafka with its AvroDeserializer and
// ProtobufDeserializer, scripts/check_wire.py) read the topic: it must
// find the same ticks, field for field, as tickbench's own decoder.
// Skips without TICKBENCH_LOCAL_STACK=1 (`make up` first).
func TestLocalWireReadByConfluent(t *testing.T) {
	if os.Getenv("TICKBENCH_LOCAL_STACK") == "" {
		t.Skip("needs the real local stack: `make up` and set TICKBENCH_LOCAL_STACK=1")
	}
	n := 100_000
	if v := os.Getenv("TICKBENCH_WIRE_TICKS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	root := testrepo.Root(t)
	sc, err := stack.Local(filepath.Join(root, stack.LocalStateDir))
	if err != nil {
		t.Fatal(err)
	}
	registry := os.Getenv("TICKBENCH_REGISTRY_URL")
	if registry == "" {
		reg := srfake.New()
		t.Cleanup(reg.Close)
		registry = reg.URL()
	}
	t.Logf("brokers %v, schema registry %s", sc.Brokers, registry)
	python := pyenv(t, root, "confluent")
	pb2 := t.TempDir()
	protoc := exec.CommandContext(t.Context(), pyenv(t, root, "protoc"), "-m", "grpc_tools.protoc",
		"--proto_path="+filepath.Join(root, "tick", "schema"), "--python_out="+pb2, "tick.proto")
	if out, err := protoc.CombinedOutput(); err != nil {
		t.Fatalf("protoc --python_out: %v\n%s", err, out)
	}

	for _, f := range []wire.Format{wire.Avro, wire.Protobuf} {
		t.Run(f.String(), func(t *testing.T) {
			ctx := t.Context()
			topic := fmt.Sprintf("ticks-wire-%s-%d", f, time.Now().UnixNano())
			cl, err := kgo.NewClient(kgo.SeedBrokers(sc.Brokers...), kgo.ProducerLinger(5*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, -1, nil, topic); err != nil {
				t.Fatal(err)
			}
			model, err := NewModel(DefaultModelConfig())
			if err != nil {
				t.Fatal(err)
			}
			wc := wire.Config{Format: f, Registry: registry}
			p := &Producer{Client: cl, Topic: topic, Source: model, Pacer: Unlimited{Count: uint64(n)}, Wire: wc}
			began := time.Now()
			if res, err := p.Run(ctx); err != nil || res.Acked != uint64(n) {
				t.Fatalf("produce: %+v, %v", res, err)
			}
			t.Logf("%d ticks produced in %v", n, time.Since(began).Round(time.Millisecond))

			ours := readOwn(t, sc.Brokers, topic, wc, n)
			began = time.Now()
			cmd := exec.CommandContext(ctx, python, filepath.Join(root, "scripts", "check_wire.py"), "--brokers", strings.Join(sc.Brokers, ","),
				"--topic", topic, "--registry", registry, "--format", f.String(), "--count", strconv.Itoa(n), "--pb2-dir", pb2)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("check_wire.py: %v\n%s", err, stderr.Bytes())
			}
			t.Logf("check_wire.py read %d bytes in %v", len(out), time.Since(began).Round(time.Millisecond))
			sc := bufio.NewScanner(bytes.NewReader(out))
			seen := make([]bool, n)
			got := 0
			for sc.Scan() {
				var theirs tick.Tick
				if err := json.Unmarshal(sc.Bytes(), &theirs); err != nil {
					t.Fatalf("line %d: %v: %s", got+1, err, sc.Bytes())
				}
				if theirs.Seq >= uint64(n) || seen[theirs.Seq] {
					t.Fatalf("seq %d out of range or twice", theirs.Seq)
				}
				seen[theirs.Seq] = true
				if theirs != ours[theirs.Seq] {
					t.Fatalf("confluent-kafka read %+v, tickbench %+v", theirs, ours[theirs.Seq])
				}
				got++
			}
			if got != n {
				t.Fatalf("confluent-kafka read %d ticks, want %d", got, n)
			}
		})
	}
}

// readOwn decodes the topic's n ticks with tickbench's own decoder, by seq.
func readOwn(t *testing.T, brokers []string, topic string, wc wire.Config, n int) []tick.Tick {
	t.Helper()
	reg, err := wire.NewRegistry(wc)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := wire.NewDecoder(wc.Format, reg)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out := make([]tick.Tick, n)
	for got := 0; got < n; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("after %d records: %v", got, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var tk tick.Tick
			if err := dec.Decode(r.Value, &tk); err != nil {
				t.Fatalf("%s[%d] offset %d: %v", topic, r.Partition, r.Offset, err)
			}
			out[tk.Seq] = tk
			got++
		})
	}
	return out
}

// pyenv is scripts/pyenv.sh's venv of tool, built once.
func pyenv(t *testing.T, root, tool string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "bash", filepath.Join(root, "scripts", "pyenv.sh"), tool).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Logf("pyenv.sh %s stderr:\n%s", tool, ee.Stderr)
		}
		t.Fatalf("scripts/pyenv.sh %s: %v", tool, err)
	}
	return strings.TrimSpace(string(out))
}
