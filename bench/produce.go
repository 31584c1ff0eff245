package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/bench/dist"
	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/stack"
	"github.com/tickbench/tickbench/tick/wire"
)

// ProduceConfig is a producer-only run: the generator against a broker with
// no sink, for comparing tickbench's producer with other tools.
type ProduceConfig struct {
	Brokers []string
	Topic   string
	// Partitions of the topic when the run creates it.
	Partitions int32
	// Count ticks as fast as back-pressure allows when Rate is 0 and
	// there is no Profile; otherwise Rate ticks/s for Duration, or the
	// Profile's shape.
	Count    uint64
	Rate     float64
	Duration time.Duration
	Profile  gen.Shape
	// Workers is gen.Producer.Workers: 0 chooses from the peak rate.
	Workers int
	Model   gen.ModelConfig
	Client  gen.ClientConfig
	// KafkaOpts are extra client options: TLS and SASL (stack.Security).
	KafkaOpts []kgo.Opt
	// Live, if set, follows the run for live metrics (--metrics-addr).
	Live *Live
	// Shard is this process's share of a run split over several; the zero
	// value is the whole run.
	Shard gen.Shard
	// StartAt is the shared start of the schedule (zero: now). It must
	// not have passed: a shard started late would send its share of the
	// overdue ticks in a burst, and its result would measure that.
	StartAt time.Time
	// Wire is the format of the record values, with the Schema Registry
	// its sinks read too (required for Avro and Protobuf: processes share
	// no in-process registry).
	Wire wire.Config
}

// workload is what the config asks for, as a result file records it.
func (cfg ProduceConfig) workload(pacer gen.Pacer) result.Workload {
	w := result.Workload{DurationS: cfg.Duration.Seconds(), Symbols: cfg.Model.Symbols, Seed: cfg.Model.Seed,
		Topic: cfg.Topic, Partitions: cfg.Partitions, Source: "model", StartAt: cfg.StartAt.UTC(), Shards: max(cfg.Shard.Count, 1)}
	if s, ok := pacer.(gen.Shape); ok {
		w.Rate, w.DurationS = gen.MeanRate(s), s.Length().Seconds()
		if cfg.Profile != nil {
			w.Profile = s.String()
		}
	}
	return w
}

// ProduceResult is what a producer-only run measured.
type ProduceResult struct {
	Sent, Acked  uint64
	Workers      int   // generator goroutines
	Bytes        int64 // record values
	Elapsed      time.Duration
	RecordsPerS  float64
	MBPerS       float64        // MiB of values per second
	Publish      result.Latency // intended -> ack; unlimited runs have no schedule, so hand-over -> ack
	PublishDelay result.Latency
	// File is this process's result file (for --result).
	File *result.Result
}

// Validate names the first bad value and its allowed range, and returns
// the pacer the config describes.
func (cfg ProduceConfig) Validate() (gen.Pacer, error) {
	var pacer gen.Pacer = gen.Unlimited{Count: cfg.Count}
	shape := cfg.Profile
	if shape == nil && cfg.Rate > 0 {
		shape = gen.Constant{PerSecond: cfg.Rate, Duration: cfg.Duration}
	}
	if shape != nil {
		if err := shape.Validate(); err != nil {
			return nil, err
		}
		pacer = shape
	} else if cfg.Count < 1 || cfg.Count > 10_000_000_000 {
		return nil, fmt.Errorf("count %d: allowed 1..10000000000 when the rate is unlimited", cfg.Count)
	}
	if cfg.Workers < 0 || cfg.Workers > gen.MaxWorkers {
		return nil, fmt.Errorf("workers %d: allowed 0 (automatic) or 1..%d", cfg.Workers, gen.MaxWorkers)
	}
	if err := cfg.Shard.Validate(); err != nil {
		return nil, err
	}
	if err := validateProcessWire(cfg.Wire); err != nil {
		return nil, err
	}
	if late := time.Since(cfg.StartAt); !cfg.StartAt.IsZero() && late > 0 {
		return nil, fmt.Errorf("start at %s: %v in the past; allowed a future instant (or none: now), so that every shard starts on time",
			cfg.StartAt.UTC().Format(time.RFC3339Nano), late.Round(time.Millisecond))
	}
	return pacer, nil
}

// validateProcessWire checks a process's wire format: Avro and Protobuf
// need a registry that the other processes of the run reach too.
func validateProcessWire(w wire.Config) error {
	if w.Format != wire.JSON && w.Registry == "" {
		return fmt.Errorf("wire %s: needs --registry, a Schema Registry that the producers and the sinks of the run all reach", w.Format)
	}
	return w.Validate()
}

// Produce runs the generator alone.
func Produce(ctx context.Context, cfg ProduceConfig) (*ProduceResult, error) {
	pacer, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	opts, err := cfg.Client.Options()
	if err != nil {
		return nil, err
	}
	model, err := gen.NewModel(cfg.Model)
	if err != nil {
		return nil, err
	}
	admCl, err := kgo.NewClient(append(slices.Clip(cfg.KafkaOpts), kgo.SeedBrokers(cfg.Brokers...))...)
	if err != nil {
		return nil, err
	}
	defer admCl.Close()
	if _, err := ensureTopic(ctx, kadm.NewClient(admCl), cfg.Topic, cfg.Partitions); err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(append(opts, cfg.KafkaOpts...), kgo.SeedBrokers(cfg.Brokers...))...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()

	g := newGenerator(&gen.Producer{Client: cl, Topic: cfg.Topic, Source: model, Pacer: pacer, Workers: cfg.Workers,
		Shard: cfg.Shard, Start: cfg.StartAt, Wire: cfg.Wire})
	cfg.Live.setPhase(pacer.Rate(0), g.Producer, g.pub, nil)
	meter := startProcessMeter()
	res, err := g.Run(ctx)
	p := meter.row(result.RoleProduce)
	if err != nil {
		return nil, err
	}
	p.Shard = cfg.Shard.String()
	// Elapsed counts from the schedule's start, not from a wait for it.
	out := &ProduceResult{Sent: res.Sent, Acked: res.Acked, Bytes: res.Bytes, Workers: res.Workers, Elapsed: time.Since(res.Start)}
	out.RecordsPerS = float64(res.Acked) / out.Elapsed.Seconds()
	out.MBPerS = float64(out.Bytes) / (1 << 20) / out.Elapsed.Seconds()
	w := cfg.workload(pacer)
	row, err := g.row(w.Rate/float64(w.Shards), res) // a shard's share of the rate
	if err != nil {
		return nil, err
	}
	out.Publish, out.PublishDelay = row.Publish, row.PublishDelay
	p.Producer = &row
	runID := res.Start.UTC().Format("20060102T150405.000Z") + "-seed" + fmt.Sprint(cfg.Model.Seed)
	out.File = dist.File("produce-"+strings.ReplaceAll(cfg.Shard.String(), "/", "-of-"), runID,
		stack.Kind{Name: "external", Kafka: "external"}, w, p)
	return out, nil
}

// generator is a producer with its latency histograms: publish delay
// (intended -> handed to the client), one per worker so that workers never
// wait for each other, and publish latency (intended -> acknowledged),
// recorded by franz-go's one promise goroutine.
type generator struct {
	*gen.Producer
	delays []*hist
	pub    *hist
}

// newGenerator sets p's hooks to record into the generator's histograms.
func newGenerator(p *gen.Producer) *generator {
	g := &generator{Producer: p, delays: make([]*hist, p.WorkerCount()), pub: newHist()}
	for i := range g.delays {
		g.delays[i] = newHist()
	}
	p.Hooks = gen.Hooks{
		Sent:  func(w int, intended, handed int64) { g.delays[w].record(handed - intended) },
		Acked: func(intended, acked int64, _ error) { g.pub.record(acked - intended) },
	}
	return g
}

// delay merges the workers' publish-delay histograms.
func (g *generator) delay() *hist { return mergeHists(g.delays...) }

// row is the generator's run as a result records it, against a target
// rate in ticks/s (0: unlimited).
func (g *generator) row(target float64, res gen.Result) (result.Producer, error) {
	p := result.Producer{TargetRate: target, AchievedRate: res.Achieved, Workers: res.Workers, Sent: res.Sent, Acked: res.Acked,
		Failed: res.Failed, Interrupted: res.Interrupted}
	p.RateHeld = !res.Interrupted && res.Achieved >= 0.99*target
	if res.Sent > 0 {
		p.ValueBytesPerTick = float64(res.Bytes) / float64(res.Sent)
	}
	var err error
	if p.PublishDelay, err = g.delay().summary(); err != nil {
		return p, err
	}
	if p.Publish, err = g.pub.summary(); err != nil {
		return p, err
	}
	return p, nil
}

// Print writes one line in the shape of Kafka's ProducerPerformance summary.
func (r *ProduceResult) Print(w io.Writer) {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	fmt.Fprintf(w, "%d records sent, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %.0f ms 50th, %.0f ms 95th, %.0f ms 99th, %.0f ms 99.9th.\n",
		r.Acked, r.RecordsPerS, r.MBPerS, r.Publish.Mean/1000, ms(r.Publish.Max), ms(r.Publish.P50), ms(r.Publish.P95), ms(r.Publish.P99), ms(r.Publish.P999))
}
