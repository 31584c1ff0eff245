package cpusplit

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

const (
	kgo    = "github.com/twmb/franz-go/pkg/kgo."
	kbin   = "github.com/twmb/franz-go/pkg/kbin."
	kmsg   = "github.com/twmb/franz-go/pkg/kmsg."
	kfake  = "github.com/twmb/franz-go/pkg/kfake."
	tb     = "github.com/tickbench/tickbench/"
	zstd   = "github.com/klauspost/compress/zstd."
	s2     = "github.com/klauspost/compress/s2."
	parqgo = "github.com/parquet-go/parquet-go."
)

// cases: a sample's side and frames (leaf first) and the stage each rule
// gives it.
var cases = []struct {
	name  string
	side  string
	funcs []string
	want  string
}{
	{"model", SideGenerator, []string{tb + "gen.(*Model).Next", tb + "gen.(*worker).run"}, Generator},
	{"avro encode in the generator", SideGenerator, []string{tb + "tick/wire.appendAvroLong", tb + "tick/wire.AppendAvro", tb + "tick/wire.(*Encoder).Append", tb + "gen.(*worker).run"}, Generator},
	{"json encode, allocating", SideGenerator, []string{"runtime.mallocgc", tb + "tick.AppendJSON", tb + "gen.(*worker).run"}, Generator},
	{"confluent header", SideGenerator, []string{"github.com/twmb/franz-go/pkg/sr.(*ConfluentHeader).AppendEncode", tb + "tick/wire.(*Encoder).Append", tb + "gen.(*worker).run"}, Generator},
	{"produce call", SideGenerator, []string{kgo + "(*Client).Produce", tb + "gen.(*worker).run"}, Producer},
	{"producer client goroutine", SideGenerator, []string{kbin + "AppendVarint", kgo + "(*brokerCxn).writeRequest"}, Producer},
	{"producer drain from the linger timer, no label", "", []string{"runtime.memmove", kbin + "AppendVarintBytes", kgo + "promisedRec.appendTo", kgo + "(*sink).drain"}, Producer},
	{"producer's connection without a label", "", []string{"syscall.write", kgo + "(*brokerCxn).writeConn", kgo + "(*broker).handleReqs"}, Producer},
	{"producer snappy", SideGenerator, []string{s2 + "encodeSnappyBlockAsm", kgo + "(*recBatch).appendTo"}, Compression},
	{"broker", SideStack, []string{kfake + "(*Cluster).handleProduce", kfake + "(*Cluster).run"}, Broker},
	{"broker decoding the protocol", SideStack, []string{kbin + "(*Reader).Varint", kmsg + "(*ProduceRequest).ReadFrom", kfake + "(*Cluster).handleConn"}, Broker},
	{"broker read goroutine, runtime only", SideStack, []string{"runtime.netpoll", "internal/poll.(*FD).Read"}, Broker},
	{"consumer fetch", SideSink, []string{kgo + "readRawRecordsDirect", kgo + "(*source).fetch"}, Consumer},
	{"consumer decompress", SideSink, []string{s2 + "s2Decode", kgo + "(*cursorOffsetNext).processRecordBatch"}, Compression},
	{"sink decode json", SideSink, []string{tb + "tick.(*Strings).DecodeJSON", tb + "tick/wire.(*Decoder).Decode", tb + "sink.(*batcher).add"}, Decode},
	{"sink decode protobuf, gc assist", SideSink, []string{"runtime.gcAssistAlloc", "runtime.mallocgc", tb + "tick/wire.DecodeProtobuf", tb + "sink.(*batcher).add"}, Decode},
	{"batching", SideSink, []string{tb + "sink.(*batch).fits", tb + "sink.(*batcher).add", tb + "sink.(*part).run"}, Batching},
	{"sink loop, runtime only", SideSink, []string{"runtime.chanrecv"}, Batching},
	{"parquet append", SideSink, []string{parqgo + "(*GenericWriter[...]).Write", tb + "sink.(*parquetEncoder).Append", tb + "sink.(*batch).add"}, FileEncode},
	{"parquet zstd", SideSink, []string{zstd + "(*doubleFastEncoder).EncodeNoHist", parqgo + "(*writer).writeDataPage", tb + "sink.(*parquetEncoder).Finish", tb + "sink.(*Sink).upload"}, Compression},
	{"parquet finish in the uploader", SideSink, []string{parqgo + "(*Writer).Close", tb + "sink.(*parquetEncoder).Finish", tb + "sink.(*Sink).upload"}, FileEncode},
	{"s3 client", SideSink, []string{"crypto/md5.block", "github.com/aws/aws-sdk-go-v2/service/s3.(*Client).PutObject", tb + "sink.S3Store.Put", tb + "sink.(*Sink).putOnce"}, Upload},
	{"s3 client connection", SideSink, []string{"syscall.read", "net/http.(*persistConn).readLoop"}, Upload},
	{"s3 server", SideStack, []string{"runtime.memmove", tb + "stack/s3lite.(*Server).put", "net/http.(*conn).serve"}, Upload},
	{"s3 server connection", SideStack, []string{"syscall.read", "net/http.(*conn).readRequest", "net/http.(*conn).serve"}, Upload},
	{"histograms", SideSink, []string{"github.com/HdrHistogram/hdrhistogram-go.(*Histogram).RecordValue", tb + "bench.(*hist).record", tb + "sink.(*Sink).landed"}, Other},
	{"admin client", SideBench, []string{kgo + "(*broker).handleReqs"}, Other},
	{"background gc", "", []string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"}, GC},
	{"scheduler", "", []string{"runtime.findRunnable", "runtime.schedule", "runtime.mcall"}, GC},
	{"an unknown library, no side", "", []string{"example.com/lib.F"}, Other},
}

func TestStage(t *testing.T) {
	for _, c := range cases {
		if got := Stage(c.side, c.funcs); got != c.want {
			t.Errorf("%s: side %q, frames %v: stage %s, want %s", c.name, c.side, c.funcs, got, c.want)
		}
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.want] = true
	}
	for _, st := range Stages {
		if !seen[st] {
			t.Errorf("stage %s has no case", st)
		}
	}
}

// synthetic is a CPU profile with one sample per case, case i taking
// (i+1) ms, its frames as locations (the first location holding an
// inlined pair, leaf first, as runtime/pprof writes them).
func synthetic() *profile.Profile {
	p := &profile.Profile{SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}}
	fns := map[string]*profile.Function{}
	fn := func(name string) *profile.Function {
		if f := fns[name]; f != nil {
			return f
		}
		f := &profile.Function{ID: uint64(len(fns) + 1), Name: name}
		fns[name] = f
		p.Function = append(p.Function, f)
		return f
	}
	for i, c := range cases {
		s := &profile.Sample{Value: []int64{int64(i + 1), int64(i+1) * 1e6}}
		if c.side != "" {
			s.Label = map[string][]string{Key: {c.side}}
		}
		funcs := c.funcs
		if len(funcs) >= 2 {
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: fn(funcs[0])}, {Function: fn(funcs[1])}}}
			p.Location = append(p.Location, loc)
			s.Location = append(s.Location, loc)
			funcs = funcs[2:]
		}
		for _, f := range funcs {
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: fn(f)}}}
			p.Location = append(p.Location, loc)
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}

// TestOf: written and parsed back, the synthetic profile splits into each
// case's milliseconds per its stage, and the stages add up to the whole.
func TestOf(t *testing.T) {
	var buf bytes.Buffer
	if err := synthetic().Write(&buf); err != nil {
		t.Fatal(err)
	}
	p, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	const ticks = 2_000_000
	split, err := Of(p, ticks)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	var total float64
	for i, c := range cases {
		want[c.want] += float64(i+1) / 1e3
		total += float64(i+1) / 1e3
	}
	if math.Abs(split.CPUSeconds-total) > 1e-9 || math.Abs(split.CPUSecondsPerMillion-total/2) > 1e-9 || split.Ticks != ticks {
		t.Fatalf("total %v s, %v s/M, %d ticks; want %v, %v, %d", split.CPUSeconds, split.CPUSecondsPerMillion, split.Ticks, total, total/2, ticks)
	}
	var sum, shares float64
	for i, st := range split.Stages {
		if st.Stage != Stages[i] {
			t.Fatalf("stage %d is %s, want %s", i, st.Stage, Stages[i])
		}
		if math.Abs(st.CPUSeconds-want[st.Stage]) > 1e-9 {
			t.Errorf("%s: %v s, want %v", st.Stage, st.CPUSeconds, want[st.Stage])
		}
		sum += st.CPUSecondsPerMillion
		shares += st.Share
	}
	if math.Abs(sum-split.CPUSecondsPerMillion) > 1e-9 || math.Abs(shares-1) > 1e-9 {
		t.Fatalf("stages sum to %v s/M and %v of the whole; want %v and 1", sum, shares, split.CPUSecondsPerMillion)
	}
}

func TestOfBadInput(t *testing.T) {
	if _, err := Of(synthetic(), 0); err == nil || !strings.Contains(err.Error(), "ticks 0") {
		t.Errorf("0 ticks: err %v, want one naming ticks 0", err)
	}
	heap := &profile.Profile{SampleType: []*profile.ValueType{{Type: "inuse_space", Unit: "bytes"}}}
	if _, err := Of(heap, 1); err == nil || !strings.Contains(err.Error(), "not a CPU profile") {
		t.Errorf("heap profile: err %v, want not a CPU profile", err)
	}
	if _, err := Parse([]byte("not a profile")); err == nil || !strings.Contains(err.Error(), "cpu profile") {
		t.Errorf("garbage: err %v, want a cpu profile error", err)
	}
}
