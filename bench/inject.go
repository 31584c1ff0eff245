package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/tick"
)

// InjectConfig writes a mix of valid ticks and records that are not ticks
// to a topic, to prove the sink sets the bad ones aside without stopping.
type InjectConfig struct {
	Brokers    []string
	Topic      string
	Partitions int32
	// Count is how many records to write, valid and bad. 1..10,000,000.
	Count int
	// BadRatio is the share of bad records, 0..1; each is bad with this
	// probability, the kinds in turn (gen.BadKinds).
	BadRatio float64
	Seed     uint64
	Model    gen.ModelConfig
	Client   gen.ClientConfig
	// KafkaOpts are extra client options: TLS and SASL (stack.Security).
	KafkaOpts []kgo.Opt
}

// Validate names the first bad field, its value and the allowed range.
func (c InjectConfig) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return fmt.Errorf("brokers: none given")
	case c.Topic == "":
		return fmt.Errorf("topic: empty")
	case c.Partitions < 1 || c.Partitions > 10_000:
		return fmt.Errorf("partitions %d: allowed 1..10000", c.Partitions)
	case c.Count < 1 || c.Count > 10_000_000:
		return fmt.Errorf("count %d: allowed 1..10000000", c.Count)
	case !(c.BadRatio >= 0 && c.BadRatio <= 1):
		return fmt.Errorf("bad-ratio %v: allowed 0..1", c.BadRatio)
	}
	return c.Model.Validate()
}

// InjectResult says what was written: the valid ticks have seq
// 0..Valid-1, so a read-back verifies them like a run's.
type InjectResult struct {
	Valid  int            `json:"valid"`
	Bad    int            `json:"bad"`
	ByKind map[string]int `json:"by_kind"`
}

// Print writes one summary line.
func (r *InjectResult) Print(w io.Writer) {
	fmt.Fprintf(w, "injected %d records: %d valid ticks, %d bad %v\n", r.Valid+r.Bad, r.Valid, r.Bad, r.ByKind)
}

// Inject writes cfg.Count records and waits for every acknowledgement.
func Inject(ctx context.Context, cfg InjectConfig) (*InjectResult, error) {
	if err := cfg.Validate(); err != nil {
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
	cl, err := kgo.NewClient(append(append(opts, cfg.KafkaOpts...), kgo.SeedBrokers(cfg.Brokers...), kgo.DefaultProduceTopic(cfg.Topic))...)
	if err != nil {
		return nil, fmt.Errorf("inject: kafka client: %w", err)
	}
	defer cl.Close()
	if _, err := ensureTopic(ctx, kadm.NewClient(cl), cfg.Topic, cfg.Partitions); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xbad))
	res := &InjectResult{ByKind: map[string]int{}}
	var (
		t        tick.Tick
		firstErr error
		failed   = make(chan error, 1)
	)
	start := time.Now().UnixNano()
	for i := range cfg.Count {
		model.Next(uint64(res.Valid), start+int64(i)*int64(time.Millisecond), &t)
		var v []byte
		if rng.Float64() < cfg.BadRatio {
			kind := res.Bad % len(gen.BadKinds)
			v = gen.BadRecord(kind, &t, rng)
			res.Bad++
			res.ByKind[gen.BadKinds[kind]]++
		} else {
			v = tick.AppendJSON(nil, &t)
			res.Valid++
		}
		cl.Produce(ctx, &kgo.Record{Key: []byte(t.Symbol), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case failed <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return nil, fmt.Errorf("inject: flush: %w", err)
	}
	select {
	case firstErr = <-failed:
		return nil, fmt.Errorf("inject to %s: %w", cfg.Topic, firstErr)
	default:
	}
	return res, nil
}
