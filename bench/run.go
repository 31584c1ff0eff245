package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/bench/cpusplit"
	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
)

// Run starts the stack, and for the configured strategies produces the
// workload while sinks land it, drains, verifies by reading everything back,
// and returns the result (also when verification fails: the result says
// why). In sequential mode each strategy gets a generator run of its own
// (same seed, same ticks); in parallel mode one generator feeds every
// strategy's consumer group at once. Canceling ctx aborts at once; closing
// cfg.Stop ends production early but still drains.
func Run(ctx context.Context, cfg Config) (*result.Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Profile != nil {
		// A shaped run is recorded by its mean rate and length.
		cfg.Rate, cfg.Duration = gen.MeanRate(cfg.Profile), cfg.Profile.Length()
	}
	strategies, err := cfg.strategies()
	if err != nil {
		return nil, err
	}
	r, res, err := setUp(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer r.close()
	phases := [][]Strategy{strategies}
	if cfg.Mode == result.ModeSequential {
		phases = phases[:0]
		for _, s := range strategies {
			phases = append(phases, []Strategy{s})
		}
	}
	for i, ph := range phases {
		if len(phases) > 1 && cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "== strategy %d of %d: %s\n", i+1, len(phases), ph[0].Name)
		}
		out, err := r.phase(ctx, ph)
		if err != nil {
			return nil, err
		}
		res.Strategies = append(res.Strategies, out...)
		if ctx.Err() != nil || stopped(cfg.Stop) {
			break // the first Ctrl-C ends the remaining phases too
		}
	}
	res.Verified = len(res.Strategies) == len(strategies)
	for _, s := range res.Strategies {
		res.Verified = res.Verified && s.Verify.OK
	}
	res.Finished = time.Now().UTC()
	return res, nil
}

// setUp starts the stack and the topic of a run and returns the runner
// its phases share (close it when done) and the result's header.
func setUp(ctx context.Context, cfg Config) (*runner, *result.Result, error) {
	res := &result.Result{
		Schema:  result.SchemaVersion,
		Name:    cfg.Name,
		Mode:    cfg.Mode,
		Started: time.Now().UTC(),
		Machine: result.ThisMachine(),
		Prices:  lake.USEast1,
		Workload: result.Workload{Rate: cfg.Rate, DurationS: cfg.Duration.Seconds(), Symbols: cfg.Model.Symbols,
			Seed: cfg.Model.Seed, Topic: cfg.Topic, Partitions: cfg.Partitions, Backlog: cfg.Backlog},
	}
	res.RunID = res.Started.Format("20060102T150405Z") + "-" + randomHex(3)
	res.Workload.Source, res.Workload.Replay = cfg.Source, cfg.Replay
	if cfg.Profile != nil {
		res.Workload.Profile = cfg.Profile.String()
	}
	if src, err := cfg.newSource(); err != nil {
		return nil, nil, err
	} else if c, ok := src.(*gen.CSV); ok {
		res.Workload.SourceRows, res.Workload.SourceBadRows = c.Rows(), c.BadRows
		if len(c.BadRows) > 0 && cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "%s: skipped %d bad rows: %s\n", cfg.Source, len(c.BadRows), strings.Join(c.BadRows[:min(5, len(c.BadRows))], "; "))
		}
	}

	// The embedded servers' goroutines are the stack's side of the CPU
	// profile (package cpusplit).
	var (
		st  *stack.Stack
		err error
	)
	labelled(ctx, cpusplit.SideStack, func(ctx context.Context) { st, err = stack.Start(ctx, cfg.Stack) })
	if err != nil {
		return nil, nil, err
	}
	res.Stack = st.Kind
	cfg.Live.setRetries(st.S3Retries)

	var admCl *kgo.Client
	labelled(ctx, cpusplit.SideBench, func(context.Context) {
		admCl, err = kgo.NewClient(append(slices.Clip(st.KafkaOpts), kgo.SeedBrokers(st.Brokers...))...)
	})
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("kafka admin client: %w", err)
	}
	r := &runner{cfg: cfg, st: st, adm: kadm.NewClient(admCl), admCl: admCl, runID: res.RunID, prices: res.Prices}
	var parts int32
	labelled(ctx, cpusplit.SideBench, func(ctx context.Context) { parts, err = ensureTopic(ctx, r.adm, cfg.Topic, cfg.Partitions) })
	if err != nil {
		r.close()
		return nil, nil, err
	}
	if parts != cfg.Partitions {
		res.Workload.Partitions = parts
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "topic %s exists with %d partitions; using them (--partitions %d applies only when the run creates the topic)\n",
				cfg.Topic, parts, cfg.Partitions)
		}
	}
	return r, res, nil
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// runner holds what every phase of a run shares.
type runner struct {
	cfg    Config
	st     *stack.Stack
	adm    *kadm.Client
	admCl  *kgo.Client
	runID  string
	prices lake.Prices
	// The ceiling search's phases are its steps: step names their groups
	// and key prefixes apart, noLake skips the query side, and onSample,
	// if set, sees every per-second sample as it is taken.
	step     string
	noLake   bool
	onSample func(strategy int, s result.Sample)
	// noIntervals keeps no per-second histograms (a soak's memory must
	// not grow with its length): the samples keep their p99s.
	noIntervals bool
}

func (r *runner) close() {
	r.admCl.Close()
	r.st.Close()
}

// faultStats is what the embedded S3 server has injected so far (zero for
// other servers).
func (r *runner) faultStats() result.S3Faults {
	if r.st.S3Server == nil {
		return result.S3Faults{}
	}
	st := r.st.S3Server.Stats()
	return result.S3Faults{Errors503: st.Injected503, Errors500: st.Injected500, Resets: st.Resets + st.ResetsAfter,
		Throttled: st.Throttled, Stalled: st.Stalled, Delayed: st.Delayed}
}

// semantics labels a landing: a wall-clock or memory cut makes batch
// boundaries differ on a replay, so the sink may land a tick twice.
func semantics(p sink.Policy, st sink.Stats) string {
	switch {
	case p.MaxAge > 0:
		return "at-least-once (max-age flushes)"
	case st.CappedFlushes > 0:
		return fmt.Sprintf("at-least-once (memory cap cut %d batches early)", st.CappedFlushes)
	}
	return "exactly-once"
}

// ensureTopic creates topic with partitions unless it exists, and returns
// the partition count it has. Its replication factor is the brokers' default
// (-1): one replica on one broker, three on the 3-broker cluster of
// `make up BROKERS=3` or on MSK.
func ensureTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32) (int32, error) {
	resp, err := adm.CreateTopic(ctx, partitions, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return 0, fmt.Errorf("create topic %s: %w", topic, err)
	}
	// A real broker answers metadata from a cache that learns of a new
	// topic a moment after CreateTopics returned, and on a cluster each
	// partition's leader learns it is the leader a moment later still:
	// retry those answers for a few seconds, until the topic's end offsets
	// (asked of every leader) answer too.
	wait := 50 * time.Millisecond
	for deadline := time.Now().Add(10 * time.Second); ; wait = min(2*wait, time.Second) {
		details, err := adm.ListTopics(ctx, topic)
		if err == nil {
			err = details.Error()
		}
		if err == nil {
			_, err = endOffsets(ctx, adm, topic)
		}
		if err == nil {
			return int32(len(details[topic].Partitions)), nil
		}
		retriable := errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, kerr.LeaderNotAvailable) ||
			errors.Is(err, kerr.NotLeaderForPartition)
		if !retriable || time.Now().Add(wait).After(deadline) {
			return 0, fmt.Errorf("describe topic %s: %w", topic, err)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("describe topic %s: %w", topic, ctx.Err())
		case <-time.After(wait):
		}
	}
}

func endOffsets(ctx context.Context, adm *kadm.Client, topic string) (map[int32]int64, error) {
	lo, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	out := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	if len(out) == 0 {
		return nil, fmt.Errorf("end offsets of %s: topic has no partitions", topic)
	}
	return out, nil
}

func commitStart(ctx context.Context, adm *kadm.Client, group, topic string, offsets map[int32]int64) error {
	var o kadm.Offsets
	for p, at := range offsets {
		o.Add(kadm.Offset{Topic: topic, Partition: p, At: at, LeaderEpoch: -1})
	}
	resp, err := adm.CommitOffsets(ctx, group, o)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("set start offsets of group %s: %w", group, err)
	}
	return nil
}

// waitCommitted polls the group's commits until they reach targets. A
// group that is slow but moving is waited for; it fails when its commits
// made no progress for stall, or at once if a sink member fails.
func waitCommitted(ctx context.Context, adm *kadm.Client, group, topic string, targets map[int32]int64,
	stall time.Duration, sinkErrs <-chan error) error {
	deadline := time.NewTimer(stall)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var behind map[int32]int64
	var left int64 = -1
	for {
		offs, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			behind = map[int32]int64{}
			var sum int64
			for p, target := range targets {
				o, ok := offs.Lookup(topic, p)
				if !ok || o.Err != nil || o.At < target {
					behind[p] = target - o.At
					sum += target - o.At
				}
			}
			if len(behind) == 0 {
				return nil
			}
			if left < 0 || sum < left {
				deadline.Reset(stall)
				left = sum
			}
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case err := <-sinkErrs:
			return fmt.Errorf("draining: %w", err)
		case <-deadline.C:
			return fmt.Errorf("drain stalled: no commit for %v, partitions still behind (partition: records) %v", stall, behind)
		case <-tick.C:
		}
	}
}

// churn has an extra member join the group at join and leave at leave
// (elapsed from now; leave 0 means it stays): two rebalances mid-run.
func churn(ctx context.Context, grp *sinkGroup, join, leave time.Duration) {
	start := time.Now()
	select {
	case <-ctx.Done():
		return
	case <-time.After(join):
	}
	m, err := grp.join(ctx)
	if err != nil || leave <= 0 {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(leave - time.Since(start)):
		m.leave()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}
