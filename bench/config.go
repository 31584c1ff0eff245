// Package bench owns a benchmark run: it wires generator and sink together
// over a stack, records latency histograms, verifies that what landed is what
// was produced, and writes the result file.
package bench

import (
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
	"github.com/tickbench/tickbench/tick/wire"
)

// Config is one run. Start from Default.
type Config struct {
	// Name labels the result file: results/<UTC time>-<Name>.json.
	Name string
	// Rate in ticks per second and Duration of the generator. Default
	// 10000/s for 30 s.
	Rate     float64
	Duration time.Duration
	// Ticks, if set, is the run's tick count instead of Rate x Duration:
	// set it with SetTicks.
	Ticks uint64
	// Profile, if set, shapes the rate instead (gen.ParseProfile: ramp,
	// steps, sine, burst) and sets the duration; Run then records its mean
	// rate and length as Rate and Duration.
	Profile gen.Shape
	// GenWorkers is how many goroutines generate (gen.Producer.Workers);
	// 0 (default) chooses from the peak rate.
	GenWorkers int
	Model      gen.ModelConfig
	// Source is "model" (the synthetic market, default) or "csv:FILE"
	// (rows of a CSV replayed at the pacer's rate); Replay is "order"
	// (default) or "sample" (with replacement, seeded by Model.Seed).
	Source, Replay string
	// Client is the producer's Kafka settings (acks, compression, linger).
	Client gen.ClientConfig
	// Topic and its partition count (used when the run creates it).
	// Default "ticks", 6.
	Topic      string
	Partitions int32
	Stack      stack.Config
	// NetFaults are network faults put in, each in its window of every
	// generator run, through Proxies (the local stack's toxiproxy:
	// stack.ReadLocalNetFaults), which Stack's brokers and S3 endpoint
	// must be.
	NetFaults []NetFault
	Proxies   *stack.NetFaults
	// Strategies to compare over the same seeded ticks (see
	// StrategyNames). Default jsonl.
	Strategies []string
	// Mode is ModeSequential (default: each strategy gets a generator run
	// of its own, so CPU and memory are its own) or ModeParallel (one
	// generator feeds every strategy's consumer group at once).
	Mode string
	// MaxBuffered caps the bytes a sink member's open batches hold
	// (sink.Config.MaxBuffered). Default 1 GiB.
	MaxBuffered int
	// Layout partitions keys (sink.Layouts). Default dt-hour.
	Layout sink.Layout
	// Prefix goes before every key: <Prefix>runs/<run id>/<strategy>/...
	Prefix string
	Policy sink.Policy
	// CommitInterval and CommitFiles are the table strategies' commit
	// policy (sink.Config's): default 60 s, and off. CommitIntervals, if
	// it holds two or more, runs each table strategy once per interval
	// (named strategy-every-interval), side by side; CommitInterval is
	// ignored.
	CommitInterval  time.Duration
	CommitIntervals []time.Duration
	CommitFiles     int
	// Wires are the formats of the ticks on Kafka (wire.Formats): empty
	// is JSON, the seed's; two or more run each strategy once per format
	// (named strategy-format; a format other than JSON always names
	// itself so), in sequential mode. Registry is the Schema Registry of
	// Avro and Protobuf (default: the stack's in-process one).
	Wires    []wire.Format
	Registry string
	// Uploaders, if set, is how many PUTs each sink member keeps in
	// flight, for every strategy (0: each strategy's own, see Strategy).
	Uploaders int
	// Sinks is how many sink members share the consumer group. Default 1.
	Sinks int
	// JoinAt, if set, has one more member join the group that long after
	// the start, and leave at LeaveAt (if set): rebalances mid-run.
	JoinAt, LeaveAt time.Duration
	// Backlog, if set, starts the sinks only once the generator has
	// produced every tick: each consumes the backlog alone, so the phase's
	// CPU time and peak RSS are the sink's work and the embedded servers'
	// serving it, without the generator's, and the landed rate is the
	// sink's own pace. End-to-end latency then includes the wait.
	Backlog bool
	// DrainTimeout is how long, after the generator stops, a sink may go
	// without committing anything before the run fails. A slow sink that
	// keeps landing is waited for however long it takes. Default 2 m.
	DrainTimeout time.Duration
	// Out is the results folder. Default "results".
	Out string
	// Progress receives a status line every second; nil is quiet. With
	// ProgressLive the line rewrites itself (a terminal), otherwise each
	// second is a plain line (a log).
	Progress     io.Writer
	ProgressLive bool
	// AfterProduce, if set, is called when the generator has finished and
	// before the drain (the CLI takes its heap profile there).
	AfterProduce func()
	// CPUProfile, if set, makes each phase profile its CPU over the window
	// it measures CPU time and RSS in (generation through drain, not the
	// verification after it), split the profile by pipeline stage into its
	// strategy's row (StrategyResult.CPUSplit; sequential mode: one
	// strategy a phase) and hand the profile (gzipped pprof) to CPUProfile.
	CPUProfile func(profile []byte)
	// Stop, when closed, ends the generator early; the run still drains,
	// verifies and reports what was sent (the first Ctrl-C).
	Stop <-chan struct{}
	// LakeLocalMax is the most objects a strategy may have for the local
	// SQL check to run (0 turns it off). Default DefaultLakeLocalMaxObjects.
	LakeLocalMax int
	// LakeTrino, if set, is a Trino server reading the stack's S3 (the
	// local stack's, scripts/trino.sh): the standard queries run there too,
	// and the result keeps the bytes it read next to the model's.
	LakeTrino *stack.Trino
	// Live, if set, follows the run for live metrics (--metrics-addr).
	Live *Live
}

// Default returns the documented defaults.
func Default() Config {
	return Config{
		Name:           "bench",
		Rate:           10_000,
		Duration:       30 * time.Second,
		Model:          gen.DefaultModelConfig(),
		Source:         "model",
		Replay:         "order",
		Client:         gen.DefaultClientConfig(),
		Topic:          "ticks",
		Partitions:     6,
		Stack:          stack.Default(),
		Strategies:     []string{"jsonl"},
		Mode:           result.ModeSequential,
		Layout:         sink.LayoutHourly,
		MaxBuffered:    sink.DefaultConfig().MaxBuffered,
		Policy:         sink.DefaultConfig().Policy,
		CommitInterval: sink.DefaultCommitInterval,
		Sinks:          1,
		DrainTimeout:   2 * time.Minute,
		Out:            "results",
		LakeLocalMax:   DefaultLakeLocalMaxObjects,
	}
}

// MaxTicks is the most ticks a fixed-count run may send.
const MaxTicks = 1_000_000_000

// SetTicks makes the run send exactly n ticks at Rate: Duration becomes
// the instant the tick after the last is due. With Rate gen.MaxRate
// ("--rate max") every tick is due sooner than any pipeline takes it, so
// the run goes as fast as it can: a fixed amount of work whose CPU per
// tick and throughput the regression gate compares.
func (c *Config) SetTicks(n uint64) {
	c.Ticks = n
	c.Duration = ticksDuration(n, c.Rate)
}

// ticksDuration is when tick n (the one after the last of n) is due at a
// constant rate: a run of n ticks ends there.
func ticksDuration(n uint64, rate float64) time.Duration {
	return time.Duration(math.Round(float64(n) * float64(time.Second) / rate))
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
var topicRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

// Validate checks every field before anything starts and names the value
// and the allowed range of the first bad one.
func (c Config) Validate() error {
	if c.Profile != nil && c.Ticks > 0 {
		return fmt.Errorf("ticks %d with a rate profile: give one of them", c.Ticks)
	}
	if c.Profile != nil {
		if err := c.Profile.Validate(); err != nil {
			return err
		}
	} else if err := c.validatePace(); err != nil {
		return err
	}
	if c.GenWorkers < 0 || c.GenWorkers > gen.MaxWorkers {
		return fmt.Errorf("gen-workers %d: allowed 0 (automatic) or 1..%d", c.GenWorkers, gen.MaxWorkers)
	}
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if c.Source != "model" && !strings.HasPrefix(c.Source, "csv:") {
		return fmt.Errorf("source %q: allowed model or csv:FILE", c.Source)
	}
	if c.Replay != "order" && c.Replay != "sample" {
		return fmt.Errorf("replay %q: allowed order, sample", c.Replay)
	}
	if _, err := c.Client.Options(); err != nil {
		return err
	}
	if _, err := c.strategies(); err != nil {
		return err
	}
	switch {
	case !nameRE.MatchString(c.Name):
		return fmt.Errorf("name %q: allowed 1..64 of A-Z a-z 0-9 . _ -, starting with a letter or digit", c.Name)
	case !topicRE.MatchString(c.Topic):
		return fmt.Errorf("topic %q: allowed 1..249 of A-Z a-z 0-9 . _ -", c.Topic)
	case c.Partitions < 1 || c.Partitions > 10_000:
		return fmt.Errorf("partitions %d: allowed 1..10000", c.Partitions)
	case c.DrainTimeout < time.Second || c.DrainTimeout > 24*time.Hour:
		return fmt.Errorf("drain-timeout %v: allowed 1s..24h", c.DrainTimeout)
	case c.LakeLocalMax < 0:
		return fmt.Errorf("lake-local-max %d: allowed >= 0 (0 turns the local SQL check off)", c.LakeLocalMax)
	case c.LakeTrino != nil && (!strings.HasPrefix(c.LakeTrino.URL, "http") || c.LakeTrino.Catalog == ""):
		return fmt.Errorf("lake trino %q catalog %q: want an http(s) URL and a catalog", c.LakeTrino.URL, c.LakeTrino.Catalog)
	case c.Mode != result.ModeSequential && c.Mode != result.ModeParallel:
		return fmt.Errorf("mode %q: allowed %s, %s", c.Mode, result.ModeSequential, result.ModeParallel)
	case c.Uploaders < 0 || c.Uploaders > 256:
		return fmt.Errorf("uploaders %d: allowed 0 (each strategy's own) or 1..256", c.Uploaders)
	case c.Sinks < 1 || c.Sinks > 64:
		return fmt.Errorf("sinks %d: allowed 1..64", c.Sinks)
	case c.JoinAt < 0 || c.JoinAt > c.pacer().Length():
		return fmt.Errorf("join-at %v: allowed 0 (none)..duration %v", c.JoinAt, c.pacer().Length())
	case c.LeaveAt != 0 && (c.JoinAt == 0 || c.LeaveAt <= c.JoinAt):
		return fmt.Errorf("leave-at %v: allowed 0 (stays) or after join-at %v", c.LeaveAt, c.JoinAt)
	case c.Backlog && c.JoinAt != 0:
		return fmt.Errorf("join-at %v with backlog: allowed only 0 (the sinks start after the generator has finished)", c.JoinAt)
	case c.Out == "":
		return errors.New("out: empty")
	case strings.HasPrefix(c.Prefix, "/") || strings.Contains(c.Prefix, "//") || len(c.Prefix) > 512:
		return fmt.Errorf("prefix %q: allowed up to 512 bytes, not starting with / or containing //", c.Prefix)
	}
	if err := c.Stack.Validate(); err != nil {
		return err
	}
	if err := c.validateWires(); err != nil {
		return err
	}
	if err := c.validateNetFaults(); err != nil {
		return err
	}
	return c.validateSink()
}

// validateNetFaults checks that net faults have proxies that the run
// goes through, and windows within each generator run.
func (c Config) validateNetFaults() error {
	if len(c.NetFaults) == 0 {
		return nil
	}
	if c.Proxies == nil {
		return fmt.Errorf("net fault %s: needs the local stack's fault proxies (make up FAULTS=1, --stack local)", c.NetFaults[0].Spec)
	}
	if !slices.Equal(c.Stack.Brokers, c.Proxies.Brokers) || c.Stack.S3Endpoint != c.Proxies.S3Endpoint {
		return fmt.Errorf("net fault %s: brokers %v and S3 %s do not go through the proxies (brokers %v, S3 %s)",
			c.NetFaults[0].Spec, c.Stack.Brokers, c.Stack.S3Endpoint, c.Proxies.Brokers, c.Proxies.S3Endpoint)
	}
	for _, f := range c.NetFaults {
		if length := c.pacer().Length(); f.From < 0 || f.To <= f.From || f.To > length {
			return fmt.Errorf("net fault %s: window %v-%v: allowed 0 <= from < to <= the duration %v", f.Spec, f.From, f.To, length)
		}
		if len(f.Faults) == 0 {
			return fmt.Errorf("net fault %s: no proxy to put it on", f.Spec)
		}
	}
	return nil
}

// validateSink checks what the sinks take from c against sink.Config's
// ranges, a table strategy's commit policy with each interval.
func (c Config) validateSink() error {
	sc := sink.DefaultConfig()
	sc.Brokers, sc.Topic, sc.Group, sc.Policy, sc.Layout, sc.MaxBuffered = []string{"-"}, c.Topic, "-", c.Policy, c.Layout, c.MaxBuffered
	if err := sc.Validate(); err != nil {
		return err
	}
	if c.hasTable() {
		sc.Format, _ = sink.FormatByName("parquet")
		sc.Table, sc.CommitFiles = noTable{}, c.CommitFiles
		for _, d := range append([]time.Duration{c.CommitInterval}, c.CommitIntervals...) {
			sc.CommitInterval = d
			if err := sc.Validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateWires checks the wire formats and where their schemas live.
func (c Config) validateWires() error {
	seen := map[wire.Format]bool{}
	for _, f := range c.Wires {
		if err := f.Validate(); err != nil {
			return err
		}
		if seen[f] {
			return fmt.Errorf("wire %s: given twice", f)
		}
		seen[f] = true
	}
	if len(c.Wires) > 1 && c.Mode != result.ModeSequential {
		return fmt.Errorf("wire %v: several formats run one after the other (mode %s), not in mode %s", c.Wires, result.ModeSequential, c.Mode)
	}
	if c.Registry != "" && !strings.HasPrefix(c.Registry, "http://") && !strings.HasPrefix(c.Registry, "https://") {
		return fmt.Errorf("registry %q: want the Schema Registry's http(s):// URL", c.Registry)
	}
	return nil
}

// hasTable reports whether a table strategy is among the strategies.
func (c Config) hasTable() bool {
	ss, err := c.strategies()
	if err != nil {
		return false
	}
	for _, s := range ss {
		if s.Table != "" {
			return true
		}
	}
	return false
}

// noTable stands in for a table where only the commit policy is checked.
type noTable struct{ sink.Table }

// validatePace checks Rate with Duration, or with Ticks: a fixed count may
// take less than the second a paced run lasts at least.
func (c Config) validatePace() error {
	if c.Ticks == 0 {
		return gen.Constant{PerSecond: c.Rate, Duration: c.Duration}.Validate()
	}
	if err := (gen.Constant{PerSecond: c.Rate, Duration: time.Second}).Validate(); err != nil {
		return err
	}
	if c.Ticks > MaxTicks {
		return fmt.Errorf("ticks %d: allowed 1..%d", c.Ticks, MaxTicks)
	}
	d := ticksDuration(c.Ticks, c.Rate)
	switch {
	case d > 7*24*time.Hour:
		return fmt.Errorf("ticks %d at rate %v: would take %v, allowed up to 168h", c.Ticks, c.Rate, d)
	case d != c.Duration:
		return fmt.Errorf("duration %v: %d ticks at rate %v take %v (set them with SetTicks)", c.Duration, c.Ticks, c.Rate, d)
	}
	return nil
}

// pacer is the run's schedule: the profile, or Rate for Duration.
// Length is how long each generator run lasts: Duration, or the rate
// profile's.
func (c Config) Length() time.Duration { return c.pacer().Length() }

func (c Config) pacer() gen.Shape {
	if c.Profile != nil {
		return c.Profile
	}
	return gen.Constant{PerSecond: c.Rate, Duration: c.Duration}
}

// newSource returns a fresh tick source for one generator run (every phase
// replays the same ticks).
func (c Config) newSource() (gen.Source, error) {
	if path, ok := strings.CutPrefix(c.Source, "csv:"); ok {
		return gen.LoadCSV(path, c.Replay == "sample", c.Model.Seed)
	}
	return gen.NewModel(c.Model)
}
