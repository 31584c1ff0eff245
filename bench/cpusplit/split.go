// Package cpusplit splits a CPU profile of a tickbench run by pipeline
// stage: generator, Kafka producer client, embedded broker, Kafka consumer
// client, sink decode, batching, file encode, compression, S3 upload, GC
// and runtime, other.
//
// Each sample goes to one stage, chosen in two steps:
//
//  1. The goroutine's side, from the pprof label Key that package bench
//     sets (runtime/pprof.Do) around the generator (SideGenerator), the
//     sink members (SideSink) and the embedded stack (SideStack).
//     Goroutines inherit labels from the goroutine that starts them, so a
//     Kafka client's own goroutines carry the side of the code that made
//     the client, and a GC assist or a compression call carries the side
//     of the goroutine that ran it.
//  2. The innermost frame that one of Rules matches, leaf first, under
//     that side: the same Kafka client code is the producer on the
//     generator's side and the consumer on the sink's; tick and tick/wire
//     code is the generator's encode on one side and the sink's decode on
//     the other. Runtime frames (allocation, GC assists, memmove,
//     scheduling a parked goroutine) match no rule, so they go to the stage
//     whose code called them.
//
// A sample no rule matches goes to its side's stage (Fallback), and one
// without a side whose frames are all the runtime's (the background
// collector, the scheduler with no goroutine running) to GC.
package cpusplit

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/tickbench/tickbench/bench/result"
)

// Key is the pprof label that names a goroutine's side of the pipeline.
const Key = "tickbench"

// Sides: the values of Key. SideBench is the bench's own work: its admin
// client, sampler and progress line.
const (
	SideGenerator = "generator"
	SideSink      = "sink"
	SideStack     = "stack"
	SideBench     = "bench"
)

// Stages, in the order the pipeline runs them (the summary's rows).
const (
	Generator   = "generator"
	Producer    = "producer"
	Broker      = "broker"
	Consumer    = "consumer"
	Decode      = "decode"
	Batching    = "batching"
	FileEncode  = "file-encode"
	Compression = "compression"
	Upload      = "upload"
	GC          = "gc-runtime"
	Other       = "other"
)

// Stages lists every stage in order.
var Stages = []string{Generator, Producer, Broker, Consumer, Decode, Batching, FileEncode, Compression, Upload, GC, Other}

// Rule gives a frame whose function name matches Match to a stage, which
// may depend on the goroutine's side (the "" key: any other side).
type Rule struct {
	Match *regexp.Regexp
	Stage map[string]string
}

func all(stage string) map[string]string { return map[string]string{"": stage} }

// Rules are tried on each frame from the leaf out; the first frame one
// matches decides. Their order matters only within a frame.
var Rules = []Rule{
	// Compression wherever it is called from: the producer's snappy, the
	// consumer's decompression, Parquet's zstd, gzip JSON lines.
	{regexp.MustCompile(`^github\.com/klauspost/compress/|^github\.com/golang/snappy|^compress/|^github\.com/pierrec/lz4`), all(Compression)},
	{regexp.MustCompile(`^github\.com/twmb/franz-go/pkg/kfake\.`), all(Broker)},
	{regexp.MustCompile(`^github\.com/tickbench/tickbench/stack/s3lite\.|^github\.com/aws/aws-sdk-go-v2|^github\.com/aws/smithy-go|^github\.com/tickbench/tickbench/sink\.(S3Store|\(\*?S3Store\)|\(\*Sink\)\.(upload|put|putOnce|uploadObject|uploadRejects))`), all(Upload)},
	// The producer's own types, on any side: franz-go drains a partition's
	// records from its linger timer, in a goroutine that inherits no label.
	{regexp.MustCompile(`^github\.com/twmb/franz-go/pkg/kgo\.(\(\*sink\)|\(\*recBuf\)|\(\*recBatch\)|seqRecBatch|promisedRec|\(\*producer\)|\(\*produceRequest\)|\(\*Client\)\.(Produce|produce|TryProduce|finishRecordPromise|finishBatch|Flush))`), all(Producer)},
	// One Kafka client library for both ends; the side tells them apart.
	// Under the stack's side it is kfake's own use of the protocol code;
	// without a side (the connection goroutines of the producer's timer
	// goroutines) it is the producer's, since every other client runs
	// labelled.
	{regexp.MustCompile(`^github\.com/twmb/franz-go/pkg/(kgo|kmsg|kbin)\.`), map[string]string{SideGenerator: Producer, SideSink: Consumer, SideStack: Broker, SideBench: Other, "": Producer}},
	{regexp.MustCompile(`^github\.com/HdrHistogram/|^github\.com/tickbench/tickbench/bench\.`), all(Other)},
	{regexp.MustCompile(`^github\.com/parquet-go/|^github\.com/tickbench/tickbench/sink\.(\(\*?(parquetEncoder|jsonlEncoder|gzipEncoder|appendWriter|parquetRow)\)|JSONL|Parquet)`), all(FileEncode)},
	// The tick codecs and the Confluent framing: the generator encodes,
	// the sink decodes.
	{regexp.MustCompile(`^github\.com/tickbench/tickbench/tick(/wire)?\.|^github\.com/twmb/franz-go/pkg/sr\.`), map[string]string{SideGenerator: Generator, SideSink: Decode, "": Other}},
	{regexp.MustCompile(`^github\.com/tickbench/tickbench/gen\.`), all(Generator)},
	{regexp.MustCompile(`^github\.com/tickbench/tickbench/sink\.`), all(Batching)},
	// HTTP without a frame of its own: the S3 client's connection
	// goroutines in the sink, the S3 server's (and the registry's) in the
	// stack.
	{regexp.MustCompile(`^net/http\.`), map[string]string{SideSink: Upload, SideStack: Upload, "": Other}},
}

// Fallback is the stage of a sample no rule matched, by side.
var Fallback = map[string]string{SideGenerator: Generator, SideSink: Batching, SideStack: Broker}

// Stage is the stage of one sample: its side and its frames' function
// names, leaf first.
func Stage(side string, funcs []string) string {
	for _, f := range funcs {
		for _, r := range Rules {
			if !r.Match.MatchString(f) {
				continue
			}
			if s, ok := r.Stage[side]; ok {
				return s
			}
			return r.Stage[""]
		}
	}
	if s, ok := Fallback[side]; ok {
		return s
	}
	for _, f := range funcs {
		if !isRuntime(f) {
			return Other
		}
	}
	return GC
}

// isRuntime reports whether f is the Go runtime's (or a frame the
// profiler could not name).
func isRuntime(f string) bool {
	return f == "" || strings.HasPrefix(f, "runtime.") || strings.HasPrefix(f, "internal/") ||
		strings.HasPrefix(f, "runtime/") || f == "gcWriteBarrier" || strings.HasPrefix(f, "aeshash")
}

// Parse reads a CPU profile (gzipped or not, as runtime/pprof writes it).
func Parse(data []byte) (*profile.Profile, error) {
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return p, nil
}

// Of splits profile p of a window in which ticks ticks went through the
// pipeline. The stages' seconds add up to the profile's total.
func Of(p *profile.Profile, ticks uint64) (*result.CPUSplit, error) {
	if ticks == 0 {
		return nil, fmt.Errorf("ticks 0: want at least 1 to give CPU s per M ticks")
	}
	vi := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			vi = i
		}
	}
	if vi < 0 {
		return nil, fmt.Errorf("not a CPU profile: no cpu/nanoseconds sample type (sample types %v)", p.SampleType)
	}
	ns := make(map[string]int64, len(Stages))
	var total int64
	var funcs []string
	for _, s := range p.Sample {
		funcs = funcs[:0]
		for _, loc := range s.Location {
			// Inlined calls come first in a location's lines, as the
			// leaf-first order wants.
			for _, l := range loc.Line {
				if l.Function != nil {
					funcs = append(funcs, l.Function.Name)
				}
			}
			if len(loc.Line) == 0 {
				funcs = append(funcs, "")
			}
		}
		side := ""
		if v := s.Label[Key]; len(v) > 0 {
			side = v[0]
		}
		v := s.Value[vi]
		ns[Stage(side, funcs)] += v
		total += v
	}
	perM := func(n int64) float64 { return float64(n) / 1e9 / (float64(ticks) / 1e6) }
	out := &result.CPUSplit{Ticks: ticks, CPUSeconds: float64(total) / 1e9, CPUSecondsPerMillion: perM(total)}
	for _, st := range Stages {
		n := ns[st]
		share := 0.0
		if total > 0 {
			share = float64(n) / float64(total)
		}
		out.Stages = append(out.Stages, result.StageCPU{Stage: st, CPUSeconds: float64(n) / 1e9, CPUSecondsPerMillion: perM(n), Share: share})
	}
	return out, nil
}
