package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
)

// SinkConfig is a sink on its own: one member of a consumer group landing
// a topic in S3, as it would run in production, one process of many.
type SinkConfig struct {
	Stack    stack.Config
	Topic    string
	Group    string
	Prefix   string
	Strategy string
	Policy   sink.Policy
	Layout   sink.Layout
	// SessionTimeout of the group member; 0 keeps the sink's default.
	SessionTimeout time.Duration
	// MaxBuffered caps the memory of the sink's batches
	// (sink.Config.MaxBuffered); 0 keeps the sink's default.
	MaxBuffered int
	// UntilCaughtUp makes the sink exit once the group's commits reach the
	// topic's end offsets as they were when it started, flushing what it
	// holds when it gets there; otherwise it runs until ctx ends.
	UntilCaughtUp bool
	Timeout       time.Duration // bound for UntilCaughtUp; default 5 m
	Progress      io.Writer
	// Live, if set, follows the sink for live metrics (--metrics-addr).
	Live *Live
}

// RunSink consumes until ctx ends (or, with UntilCaughtUp, until caught
// up) and returns the sink's counters.
func RunSink(ctx context.Context, cfg SinkConfig) (sink.Stats, error) {
	s, err := NewStrategy(cfg.Strategy, cfg.Policy, cfg.Layout)
	if err != nil {
		return sink.Stats{}, err
	}
	st, err := stack.Start(ctx, cfg.Stack)
	if err != nil {
		return sink.Stats{}, err
	}
	defer st.Close()
	sc := sink.DefaultConfig()
	sc.Brokers, sc.Topic, sc.Group, sc.Prefix, sc.Policy, sc.Layout = st.Brokers, cfg.Topic, cfg.Group, cfg.Prefix, s.Policy, s.Layout
	sc.ClientOpts = st.KafkaOpts
	if sc.Format, err = sink.FormatByName(s.Format); err != nil {
		return sink.Stats{}, err
	}
	if s.Uploaders > 0 {
		sc.Uploaders = s.Uploaders
	}
	if cfg.SessionTimeout > 0 {
		sc.SessionTimeout = cfg.SessionTimeout
	}
	if cfg.MaxBuffered != 0 {
		sc.MaxBuffered = cfg.MaxBuffered
	}
	if err := sc.Validate(); err != nil {
		return sink.Stats{}, err
	}
	g := newSinkGroup(sc, sink.S3Store{Client: st.S3, Bucket: st.Bucket, SSE: st.SSE, SSEKMSKeyID: st.SSEKMSKeyID})
	cfg.Live.setPhase(0, nil, nil, map[string]*sinkGroup{cfg.Strategy: g})
	cfg.Live.setRetries(st.S3Retries)
	if !cfg.UntilCaughtUp {
		m, err := g.join(ctx)
		if err != nil {
			return sink.Stats{}, err
		}
		<-m.done
		stats, _, _, _ := g.totals()
		return stats, g.firstErr()
	}

	admCl, err := kgo.NewClient(append(slices.Clip(st.KafkaOpts), kgo.SeedBrokers(st.Brokers...))...)
	if err != nil {
		return sink.Stats{}, err
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	targets, err := endOffsets(ctx, adm, cfg.Topic)
	if err != nil {
		return sink.Stats{}, err
	}
	g.setDrain(targets)
	if _, err := g.join(ctx); err != nil {
		return sink.Stats{}, err
	}
	defer g.stopAll()
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	if err := waitCommitted(ctx, adm, cfg.Group, cfg.Topic, targets, timeout, g.errs); err != nil {
		return sink.Stats{}, fmt.Errorf("sink %s: %w", cfg.Group, err)
	}
	g.stopAll()
	stats, _, _, _ := g.totals()
	return stats, g.firstErr()
}
