package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/tick/wire"
)

// Each wire format runs the strategy once, named by its format, through
// the stack's Schema Registry: every tick lands once, and the binary
// formats put fewer bytes on Kafka than the seed's JSON.
func TestRunWireFormats(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := testConfig(t)
	cfg.Strategies = []string{"parquet-zstd"}
	cfg.Wires = []wire.Format{wire.JSON, wire.Avro, wire.Protobuf}
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	json := res.Strategies[0].Producer.ValueBytesPerTick
	for i, want := range []struct{ name, wire string }{{"parquet-zstd", "json"}, {"parquet-zstd-avro", "avro"}, {"parquet-zstd-protobuf", "protobuf"}} {
		s := res.Strategies[i]
		b := s.Producer.ValueBytesPerTick
		if s.Strategy != want.name || s.Wire != want.wire || !s.Verify.OK || s.BadRecords != 0 || b <= 0 || (i > 0 && b >= json/2) {
			t.Errorf("%s (%s): verify %+v, %d bad records, %.1f B/tick on Kafka (json %.1f): want %s verified, under half of json's",
				s.Strategy, s.Wire, s.Verify, s.BadRecords, b, json, want.name)
		}
	}
	bad := cfg
	bad.Mode = "parallel"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "several formats run one after the other") {
		t.Errorf("Validate(parallel, 3 wires) = %v", err)
	}
	bad = cfg
	bad.Registry = "127.0.0.1:8081"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `registry "127.0.0.1:8081": want the Schema Registry's http(s):// URL`) {
		t.Errorf("Validate(registry without scheme) = %v", err)
	}
}

// A workload file names the wire format: a list for bench, one for a
// process, with the registry both share.
func TestWorkloadWire(t *testing.T) {
	read := func(s string) *WorkloadFile {
		t.Helper()
		w, err := ReadWorkload(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	cfg := Default()
	if err := read(`{"wire": ["json", "avro"], "registry": "http://127.0.0.1:8081"}`).Apply(&cfg); err != nil ||
		len(cfg.Wires) != 2 || cfg.Wires[1] != wire.Avro || cfg.Registry != "http://127.0.0.1:8081" {
		t.Errorf("bench: wires %v, registry %q, %v", cfg.Wires, cfg.Registry, err)
	}
	var p ProduceConfig
	if err := read(`{"wire": "protobuf", "registry": "http://r:1"}`).ApplyProduce(&p); err != nil || p.Wire.Format != wire.Protobuf || p.Wire.Registry != "http://r:1" {
		t.Errorf("produce: wire %+v, %v", p.Wire, err)
	}
	var s SinkConfig
	if err := read(`{"wire": ["json", "avro"]}`).ApplySink(&s); err == nil || !strings.Contains(err.Error(), "a process produces or lands one format") {
		t.Errorf("sink with two formats: %v", err)
	}
	if err := read(`{"wire": "xml"}`).Apply(&cfg); err == nil || !strings.Contains(err.Error(), `workload wire format "xml": allowed json, avro, protobuf`) {
		t.Errorf("bad format: %v", err)
	}
	if _, err := Produce(context.Background(), ProduceConfig{Count: 1, Wire: wire.Config{Format: wire.Avro}}); err == nil || !strings.Contains(err.Error(), "wire avro: needs --registry") {
		t.Errorf("produce avro without a registry: %v", err)
	}
}
