package bench

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/stack"
	"github.com/tickbench/tickbench/stack/s3lite"
	"github.com/tickbench/tickbench/tick/wire"
)

// TestValidateCoversEveryField: every field of Config, its nested configs
// included, has a bad value that Validate rejects with the value, the
// field and what is allowed (or is listed as one no value of can be bad).
// A new field without a case fails this test.
func TestValidateCoversEveryField(t *testing.T) {
	type badCase struct {
		mut  func(*Config)
		want string
	}
	cases := map[string][]badCase{
		"Name":     {{func(c *Config) { c.Name = "a/b" }, `name "a/b": allowed 1..64`}},
		"Rate":     {{func(c *Config) { c.Rate = 0 }, "rate 0: allowed 1..10000000 ticks/s"}},
		"Duration": {{func(c *Config) { c.Duration = 0 }, "duration 0s: allowed 1s..168h"}},
		"Ticks": {{func(c *Config) { c.Ticks = MaxTicks + 1 }, "ticks 1000000001: allowed 1..1000000000"},
			{func(c *Config) { c.Ticks = 5 }, "duration 30s: 5 ticks at rate 10000 take 500µs (set them with SetTicks)"},
			{func(c *Config) { c.Rate = 1; c.SetTicks(MaxTicks) }, "ticks 1000000000 at rate 1: would take"}},
		"Profile": {{func(c *Config) { c.Profile = gen.Ramp{From: 0, To: 0, Duration: time.Minute} }, "ramp 0-0: allowed at least one end >= 1 tick/s"},
			{func(c *Config) {
				c.Profile = gen.Sine{Mean: 100, Amplitude: 10, Period: time.Second, Duration: time.Minute}
				c.JoinAt = 2 * time.Minute
			}, "join-at 2m0s: allowed 0 (none)..duration 1m0s"}},
		"Backlog":                     {{func(c *Config) { c.Backlog = true; c.JoinAt = time.Second }, "join-at 1s with backlog: allowed only 0"}},
		"GenWorkers":                  {{func(c *Config) { c.GenWorkers = -1 }, "gen-workers -1: allowed 0 (automatic) or 1..1024"}},
		"Model.Symbols":               {{func(c *Config) { c.Model.Symbols = 0 }, "symbols 0: allowed 1..456976"}},
		"Model.Volatility":            {{func(c *Config) { c.Model.Volatility = -1 }, "volatility -1: allowed 0..10"}},
		"Model.TicksPerSymbolPerYear": {{func(c *Config) { c.Model.TicksPerSymbolPerYear = 0 }, "ticks per symbol per year 0: allowed >= 1"}},
		"Source":                      {{func(c *Config) { c.Source = "x" }, `source "x": allowed model or csv:FILE`}},
		"Replay":                      {{func(c *Config) { c.Replay = "x" }, `replay "x": allowed order, sample`}},
		"Client.Acks":                 {{func(c *Config) { c.Client.Acks = "2" }, `acks "2": allowed all, leader, none`}},
		"Client.Compression":          {{func(c *Config) { c.Client.Compression = "brotli" }, `compression "brotli": allowed`}},
		"Client.Linger":               {{func(c *Config) { c.Client.Linger = time.Hour }, "linger 1h0m0s: allowed 0..1m"}},
		"Client.BatchMaxBytes":        {{func(c *Config) { c.Client.BatchMaxBytes = 1 }, "batch-max-bytes 1: allowed 1024..67108864"}},
		"Client.MaxBuffered":          {{func(c *Config) { c.Client.MaxBuffered = 0 }, "max-buffered 0: allowed 1..10000000"}},
		"Topic":                       {{func(c *Config) { c.Topic = "" }, `topic "": allowed 1..249`}},
		"Partitions":                  {{func(c *Config) { c.Partitions = 10_001 }, "partitions 10001: allowed 1..10000"}},
		"NetFaults": {{func(c *Config) {
			c.NetFaults = []NetFault{{Spec: "latency", Faults: []stack.Fault{{}}, To: time.Second}}
		},
			"net fault latency: needs the local stack's fault proxies"},
			{func(c *Config) {
				c.Proxies = &stack.NetFaults{Brokers: c.Stack.Brokers, S3Endpoint: c.Stack.S3Endpoint}
				c.NetFaults = []NetFault{{Spec: "reset", Faults: []stack.Fault{{}}, From: time.Second, To: time.Hour}}
			}, "net fault reset: window 1s-1h0m0s: allowed 0 <= from < to <= the duration 30s"}},
		"Proxies": {{func(c *Config) {
			c.Proxies = &stack.NetFaults{Brokers: []string{"127.0.0.1:1"}}
			c.NetFaults = []NetFault{{Spec: "blackhole", Faults: []stack.Fault{{}}, To: time.Second}}
		}, "net fault blackhole: brokers [] and S3  do not go through the proxies"}},
		"Stack.Name":        nil,
		"Stack.IcebergREST": nil,
		"CommitInterval": {{func(c *Config) { c.Strategies = []string{"iceberg-parquet-zstd"}; c.CommitInterval = time.Millisecond }, "commit-interval 1ms: allowed 100ms..1h0m0s"},
			{func(c *Config) { c.Strategies = []string{"iceberg-parquet-zstd"}; c.Policy.MaxAge = time.Second }, "max-age 1s: a table strategy cuts batches by their records only (use 0)"}},
		"CommitIntervals": {{func(c *Config) {
			c.Strategies = []string{"iceberg-parquet-zstd"}
			c.CommitIntervals = []time.Duration{time.Second, 2 * time.Hour}
		}, "commit-interval 2h0m0s: allowed 100ms..1h0m0s"}},
		"Wires": {{func(c *Config) { c.Wires = []wire.Format{wire.Avro, wire.Avro} }, "wire avro: given twice"},
			{func(c *Config) { c.Wires = []wire.Format{9} }, "wire format"},
			{func(c *Config) { c.Wires, c.Mode = []wire.Format{wire.JSON, wire.Avro}, "parallel" }, "several formats run one after the other"}},
		"Registry":             {{func(c *Config) { c.Registry = "localhost:8081" }, `registry "localhost:8081": want`}},
		"CommitFiles":          {{func(c *Config) { c.Strategies = []string{"iceberg-parquet-zstd"}; c.CommitFiles = -1 }, "commit-files -1: allowed 0 (off)..100000"}},
		"Stack.Brokers":        nil,
		"Stack.S3Endpoint":     {{func(c *Config) { c.Stack.S3Endpoint = "minio:9000" }, `s3-endpoint "minio:9000": allowed an http:// or https:// URL`}},
		"Stack.AWS":            nil,
		"Stack.Bucket":         {{func(c *Config) { c.Stack.Bucket = "B" }, `bucket "B": allowed 3..63`}},
		"Stack.Region":         nil,
		"Stack.AccessKey":      {{func(c *Config) { c.Stack.AccessKey = "k" }, "access key and secret key: give both or neither"}},
		"Stack.SecretKey":      {{func(c *Config) { c.Stack.SecretKey = "s" }, "access key and secret key: give both or neither"}},
		"Stack.DataDir":        nil,
		"Stack.Partitions":     {{func(c *Config) { c.Stack.Partitions = -1 }, "partitions -1: allowed 1..10000"}},
		"Stack.ConnectTimeout": {{func(c *Config) { c.Stack.ConnectTimeout = -time.Second }, "connect-timeout -1s: allowed"}},
		"Stack.Faults":         {{func(c *Config) { c.Stack.Faults = s3lite.Faults{ErrorRate503: 2} }, "s3-faults: "}},
		"Stack.Security":       {{func(c *Config) { c.Stack.Security.SASLMechanism = "x" }, `sasl-mechanism "x": allowed`}},
		"Stack.SSE":            {{func(c *Config) { c.Stack.SSE = "des" }, `s3-sse "des": allowed AES256, aws:kms`}},
		"Stack.SSEKMSKeyID":    {{func(c *Config) { c.Stack.SSEKMSKeyID = "k" }, `s3-sse-kms-key-id "k": needs --s3-sse aws:kms`}},
		"Stack.S3CA": {{func(c *Config) { c.Stack.S3CA = "ca.pem"; c.Stack.S3Endpoint = "http://127.0.0.1:9000" },
			`s3-ca ca.pem: needs an https:// --s3-endpoint, not "http://127.0.0.1:9000"`}},
		"Stack.Servers":   nil, // pids read from the local stack's state files; a dead one is left out
		"Strategies":      {{func(c *Config) { c.Strategies = []string{"csv"} }, `strategy "csv": allowed`}, {func(c *Config) { c.Strategies = nil }, "strategies: none given"}},
		"Mode":            {{func(c *Config) { c.Mode = "x" }, `mode "x": allowed sequential, parallel`}},
		"MaxBuffered":     {{func(c *Config) { c.MaxBuffered = 1 }, "max-buffered 1: allowed >= 1048576 bytes"}},
		"Layout":          {{func(c *Config) { c.Layout = "daily" }, `layout "daily": allowed none, dt-hour, dt-symbol`}},
		"Prefix":          {{func(c *Config) { c.Prefix = "/abs/" }, `prefix "/abs/": allowed up to 512 bytes`}},
		"Policy.Records":  {{func(c *Config) { c.Policy.Records = 0 }, "flush-records 0: allowed 1..10000000"}},
		"Policy.Bytes":    {{func(c *Config) { c.Policy.Bytes = 1 }, "flush-bytes 1: allowed 1024..5368709120"}},
		"Policy.Interval": {{func(c *Config) { c.Policy.Interval = 2 * time.Hour }, "flush-interval 2h0m0s: allowed 1ms..1h"}},
		"Policy.MaxAge":   {{func(c *Config) { c.Policy.MaxAge = -1 }, "max-age -1ns: allowed 0 (off)..1h"}},
		"Sinks":           {{func(c *Config) { c.Sinks = 65 }, "sinks 65: allowed 1..64"}},
		"Uploaders":       {{func(c *Config) { c.Uploaders = 257 }, "uploaders 257: allowed 0 (each strategy's own) or 1..256"}},
		"JoinAt":          {{func(c *Config) { c.JoinAt = time.Hour }, "join-at 1h0m0s: allowed 0 (none)..duration 30s"}},
		"LeaveAt":         {{func(c *Config) { c.LeaveAt = time.Second }, "leave-at 1s: allowed 0 (stays) or after join-at 0s"}},
		"DrainTimeout":    {{func(c *Config) { c.DrainTimeout = 0 }, "drain-timeout 0s: allowed 1s..24h"}},
		"Out":             {{func(c *Config) { c.Out = "" }, "out: empty"}},
		"LakeLocalMax":    {{func(c *Config) { c.LakeLocalMax = -1 }, "lake-local-max -1: allowed >= 0"}},
		"LakeTrino":       {{func(c *Config) { c.LakeTrino = &stack.Trino{URL: "127.0.0.1:8080", Catalog: "hive"} }, `lake trino "127.0.0.1:8080" catalog "hive": want an http(s) URL`}},
		// Any value is fine: a seed, free-form labels, hooks of the caller.
		"Model.Seed": nil, "Progress": nil, "ProgressLive": nil, "AfterProduce": nil, "CPUProfile": nil, "Stop": nil, "Live": nil,
	}
	seen := map[string]bool{}
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := prefix + f.Name
			// Nested configs are covered field by field, unless listed whole.
			if _, listed := cases[name]; !listed && f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
				walk(name+".", f.Type)
				continue
			}
			seen[name] = true
			if _, ok := cases[name]; !ok {
				t.Errorf("Config.%s has no bad-value case in this table (nil if no value of it can be bad)", name)
			}
		}
	}
	walk("", reflect.TypeOf(Config{}))
	for name, cs := range cases {
		if !seen[name] {
			t.Errorf("table lists %s, which Config does not have", name)
		}
		for _, tc := range cs {
			c := Default()
			tc.mut(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: Validate() = %v, want %q", name, err, tc.want)
			}
		}
	}
}
