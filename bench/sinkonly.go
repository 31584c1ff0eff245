package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/bench/dist"
	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
	"github.com/tickbench/tickbench/tick/wire"
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
	// Table names a table strategy's table (in TableNamespace); default
	// the group's name. Its folder is Prefix: objects under Prefix's
	// data/, Iceberg's metadata under metadata/. CommitInterval (default
	// 60 s) and CommitFiles are its commit policy.
	Table          string
	CommitInterval time.Duration
	CommitFiles    int
	// SessionTimeout of the group member; 0 keeps the sink's default.
	SessionTimeout time.Duration
	// MaxBuffered caps the memory of the sink's batches
	// (sink.Config.MaxBuffered); 0 keeps the sink's default.
	MaxBuffered int
	// UntilCaughtUp makes the sink exit once the group's commits reach the
	// topic's end offsets as they were when it started, flushing what it
	// holds when it gets there; otherwise it runs until ctx ends.
	UntilCaughtUp bool
	// DrainAt, if set, is when the sink reads the topic's end offsets for
	// UntilCaughtUp instead of at its start (which it implies): in a run
	// spread over processes, the producers' end (their shared start plus
	// the duration) plus a grace for the last acknowledgements. Until then
	// it lands what comes; after, it drains to the end offsets, and again
	// while a drain finds that they moved. Batches open at the producers'
	// end wait for it, so the grace adds to their end-to-end latency: keep
	// it short (a second or two).
	DrainAt time.Time
	// Timeout bounds the wait for the group to catch up, from the drain
	// targets on, while it lands nothing; default 5 m.
	Timeout time.Duration
	// Wire is the format of the record values, with the Schema Registry
	// the producers registered their schema in (required for Avro and
	// Protobuf).
	Wire     wire.Config
	Progress io.Writer
	// Live, if set, follows the sink for live metrics (--metrics-addr).
	Live *Live
}

// SinkResult is what a sink process did: its counters, and its result
// file (for --result).
type SinkResult struct {
	Stats sink.Stats
	File  *result.Result
}

// RunSink consumes until ctx ends (or, with UntilCaughtUp or DrainAt,
// until caught up) and returns the sink's counters and result file; on an
// error after it started, both are still returned with what it did.
func RunSink(ctx context.Context, cfg SinkConfig) (*SinkResult, error) {
	s, err := NewStrategy(cfg.Strategy, cfg.Policy, cfg.Layout)
	if err != nil {
		return nil, err
	}
	if err := validateProcessWire(cfg.Wire); err != nil {
		return nil, err
	}
	s.Wire = cfg.Wire.Format
	st, err := stack.Start(ctx, cfg.Stack)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	sc, err := cfg.sinkConfig(s, st)
	if err != nil {
		return nil, err
	}
	g := newSinkGroup(sc, sink.S3Store{Client: st.S3, Bucket: st.Bucket, SSE: st.SSE, SSEKMSKeyID: st.SSEKMSKeyID})
	if s.Table != "" {
		name := cfg.Table
		if name == "" {
			name = identifier(cfg.Group)
		} else if name != identifier(name) {
			return nil, fmt.Errorf("table %q: allowed lower-case letters, digits and _, starting with a letter", name)
		}
		if g.newTable, err = openTables(st, s, name, sc); err != nil {
			return nil, err
		}
		// The commit policy is checked with a table before anything starts.
		check := sc
		check.Table = noTable{}
		if err := check.Validate(); err != nil {
			return nil, err
		}
	}
	cfg.Live.setPhase(0, nil, nil, map[string]*sinkGroup{cfg.Strategy: g})
	cfg.Live.setRetries(st.S3Retries)
	meter, began := startProcessMeter(), time.Now()
	runErr := consume(ctx, cfg, st, g)
	p := meter.row(result.RoleSink)
	stats, _, e2e, upload, queryable := g.totals()
	out := &SinkResult{Stats: stats}
	sr := landing(s, sc, st.Bucket, stats)
	sr.Members, sr.MembersConsumed, sr.S3Retries = 1, []int64{stats.Consumed}, st.S3Retries()
	if sr.EndToEnd, err = e2e.summary(); err != nil {
		return out, errors.Join(runErr, err)
	}
	if sr.Upload, err = upload.summary(); err != nil {
		return out, errors.Join(runErr, err)
	}
	if sr.Queryable, err = queryableOf(s, e2e, queryable); err != nil {
		return out, errors.Join(runErr, err)
	}
	if s.Table != "" {
		sr.Table = tableReport(g, stats, lake.USEast1, time.Since(began))
	}
	p.Sink = &sr
	out.File = dist.File("sink-"+cfg.Group, cfg.Group, st.Kind, result.Workload{Topic: cfg.Topic}, p)
	return out, runErr
}

// sinkConfig is the sink member's configuration for strategy s on st.
func (cfg SinkConfig) sinkConfig(s Strategy, st *stack.Stack) (sink.Config, error) {
	var err error
	sc := sink.DefaultConfig()
	sc.Brokers, sc.Topic, sc.Group, sc.Prefix, sc.Policy, sc.Layout = st.Brokers, cfg.Topic, cfg.Group, cfg.Prefix, s.Policy, s.Layout
	sc.ClientOpts, sc.Wire = st.KafkaOpts, cfg.Wire
	if sc.Format, err = sink.FormatByName(s.Format); err != nil {
		return sc, err
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
	if s.Table != "" {
		if !strings.HasSuffix(sc.Prefix, "/") {
			sc.Prefix += "/"
		}
		sc.Prefix += "data/"
		sc.CommitInterval, sc.CommitFiles = cmp.Or(cfg.CommitInterval, sink.DefaultCommitInterval), cfg.CommitFiles
	}
	return sc, sc.Validate()
}

// consume runs one member until ctx ends, or until the group has landed
// the topic's end offsets as they are at DrainAt (or now, with
// UntilCaughtUp).
func consume(ctx context.Context, cfg SinkConfig, st *stack.Stack, g *sinkGroup) error {
	if !cfg.UntilCaughtUp && cfg.DrainAt.IsZero() {
		m, err := g.join(ctx)
		if err != nil {
			return err
		}
		<-m.done
		return g.firstErr()
	}
	admCl, err := kgo.NewClient(append(slices.Clip(st.KafkaOpts), kgo.SeedBrokers(st.Brokers...))...)
	if err != nil {
		return err
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	defer g.stopAll()
	joined := false
	if wait := time.Until(cfg.DrainAt); wait > 0 {
		// Land what arrives meanwhile; the drain targets come at DrainAt.
		if _, err := g.join(ctx); err != nil {
			return err
		}
		joined = true
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case err := <-g.errs:
			return err
		case <-t.C:
		}
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	for {
		targets, err := endOffsets(ctx, adm, cfg.Topic)
		if err != nil {
			return err
		}
		g.setDrain(targets)
		if !joined {
			if _, err := g.join(ctx); err != nil {
				return err
			}
			joined = true
		}
		if err := waitCommitted(ctx, adm, cfg.Group, cfg.Topic, targets, timeout, g.errs); err != nil {
			return fmt.Errorf("sink %s: %w", cfg.Group, err)
		}
		if cfg.DrainAt.IsZero() {
			break
		}
		// Producers still finishing at DrainAt (late acknowledgements)
		// moved the end: land that too, until a drain finds it where it was.
		now, err := endOffsets(ctx, adm, cfg.Topic)
		if err != nil {
			return err
		}
		if maps.Equal(now, targets) {
			break
		}
	}
	g.stopAll()
	return g.firstErr()
}
