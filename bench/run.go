package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
)

// Run starts the stack, produces the workload while the sink lands it,
// drains, verifies by reading everything back, and returns the result
// (also when verification fails: the result says why). Canceling ctx aborts
// at once; closing cfg.Stop ends production early but still drains.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	res := &Result{
		Schema:  SchemaVersion,
		Name:    cfg.Name,
		Started: time.Now().UTC(),
		Machine: thisMachine(),
		Workload: Workload{Rate: cfg.Rate, DurationS: cfg.Duration.Seconds(), Symbols: cfg.Model.Symbols,
			Seed: cfg.Model.Seed, Topic: cfg.Topic, Partitions: cfg.Partitions},
	}
	res.RunID = res.Started.Format("20060102T150405Z") + "-" + randomHex(3)

	st, err := stack.Start(ctx, cfg.Stack)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	res.Stack = st.Kind

	admCl, err := kgo.NewClient(kgo.SeedBrokers(st.Brokers...))
	if err != nil {
		return nil, fmt.Errorf("kafka admin client: %w", err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	parts, err := ensureTopic(ctx, adm, cfg.Topic, cfg.Partitions)
	if err != nil {
		return nil, err
	}
	if parts != cfg.Partitions {
		res.Workload.Partitions = parts
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "topic %s exists with %d partitions; using them (--partitions %d applies only when the run creates the topic)\n",
				cfg.Topic, parts, cfg.Partitions)
		}
	}
	// The group starts where the topic ends now, so earlier runs' ticks on
	// a shared topic are never read.
	startOffsets, err := endOffsets(ctx, adm, cfg.Topic)
	if err != nil {
		return nil, err
	}
	group := "tickbench-" + res.RunID + "-" + cfg.Strategy
	if err := commitStart(ctx, adm, group, cfg.Topic, startOffsets); err != nil {
		return nil, err
	}

	format, _ := sink.FormatByName(cfg.Strategy)
	sc := sink.DefaultConfig()
	sc.Brokers, sc.Topic, sc.Group, sc.Format, sc.Policy = st.Brokers, cfg.Topic, group, format, cfg.Policy
	sc.Prefix = cfg.Prefix
	if sc.Prefix == "" {
		sc.Prefix = "runs/" + res.RunID + "/" + cfg.Strategy + "/"
	}
	grp := newSinkGroup(sc, sink.S3Store{Client: st.S3, Bucket: st.Bucket})
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	// Sinks live as long as Run: they keep landing after the generator stops.
	sinkCtx, stopSinks := context.WithCancel(ctx)
	defer stopSinks()
	defer grp.stopAll()
	for range cfg.Sinks {
		if _, err := grp.join(sinkCtx); err != nil {
			return nil, err
		}
	}
	if cfg.JoinAt > 0 {
		go churn(sinkCtx, grp, cfg.JoinAt, cfg.LeaveAt)
	}
	go st.TrimCommitted(sinkCtx, adm, cfg.Topic, []string{group}, time.Second)

	// Producer.
	model, err := gen.NewModel(cfg.Model)
	if err != nil {
		return nil, err
	}
	copts, err := cfg.Client.Options()
	if err != nil {
		return nil, err
	}
	prodCl, err := kgo.NewClient(append(copts, kgo.SeedBrokers(st.Brokers...))...)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	defer prodCl.Close()
	pubDelay, pub := newHist(), newHist()
	prod := &gen.Producer{
		Client: prodCl, Topic: cfg.Topic, Model: model,
		Pacer: gen.Constant{PerSecond: cfg.Rate, Duration: cfg.Duration},
		Stop:  cfg.Stop,
		Hooks: gen.Hooks{
			Sent:  func(intended, handed int64) { pubDelay.record(handed - intended) },
			Acked: func(intended, acked int64, err error) { pub.record(acked - intended) },
		},
	}
	progCtx, stopProgress := context.WithCancel(ctx)
	pr := &progress{w: cfg.Progress, live: cfg.ProgressLive, start: time.Now(), duration: cfg.Duration, target: cfg.Rate,
		sent: func() uint64 { return prod.Progress().Acked }, landed: grp.landed.Load}
	progDone := make(chan struct{})
	go func() { pr.run(progCtx); close(progDone) }()
	defer func() { stopProgress(); <-progDone }()

	pres, perr := prod.Run(ctx)
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	res.Producer = Producer{TargetRate: cfg.Rate, AchievedRate: pres.Achieved, Sent: pres.Sent, Acked: pres.Acked,
		Failed: pres.Failed, Interrupted: pres.Interrupted}
	res.Producer.RateHeld = !pres.Interrupted && pres.Achieved >= 0.99*cfg.Rate
	if perr != nil {
		return nil, perr
	}

	if cfg.AfterProduce != nil {
		cfg.AfterProduce()
	}
	// Drain: tell the sink where the input ends and wait for the group's
	// commits to get there.
	drainStart := time.Now()
	targets, err := endOffsets(ctx, adm, cfg.Topic)
	if err != nil {
		return nil, err
	}
	grp.setDrain(targets)
	if err := waitCommitted(ctx, adm, group, cfg.Topic, targets, cfg.DrainTimeout, grp.errs); err != nil {
		return nil, err
	}
	drain := time.Since(drainStart)
	grp.stopAll()
	if err := grp.firstErr(); err != nil {
		return nil, err
	}
	stopProgress()
	<-progDone

	if res.Producer.PublishDelay, err = pubDelay.summary(); err != nil {
		return nil, err
	}
	if res.Producer.Publish, err = pub.summary(); err != nil {
		return nil, err
	}
	stats, perMember, e2e, upload := grp.totals()
	s := Sink{
		Strategy: cfg.Strategy, Format: format.Name(), Layout: string(sc.Layout), Prefix: sc.Prefix, Bucket: st.Bucket,
		FlushRecords: sc.Policy.Records, FlushBytes: sc.Policy.Bytes, FlushInterval: sc.Policy.Interval.String(),
		Members: cfg.Sinks, Semantics: "exactly-once", Objects: stats.Objects, Bytes: stats.Bytes, Consumed: stats.Consumed,
		MembersConsumed: perMember, Invalid: stats.Invalid, CommitErrors: stats.CommitErrors, DrainS: drain.Seconds(),
	}
	if pres.Acked > 0 {
		s.BytesPerTick = float64(stats.Bytes) / float64(pres.Acked)
	}
	if s.EndToEnd, err = e2e.summary(); err != nil {
		return nil, err
	}
	if s.Upload, err = upload.summary(); err != nil {
		return nil, err
	}
	if s.Verify, err = verifyJSONL(ctx, st.S3, st.Bucket, sc.Prefix, pres.Acked); err != nil {
		return nil, err
	}
	res.Sinks = append(res.Sinks, s)
	res.Verified = s.Verify.OK
	res.Finished = time.Now().UTC()
	return res, nil
}

// ensureTopic creates topic with partitions unless it exists, and returns
// the partition count it has.
func ensureTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32) (int32, error) {
	resp, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return 0, fmt.Errorf("create topic %s: %w", topic, err)
	}
	details, err := adm.ListTopics(ctx, topic)
	if err == nil {
		err = details.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("describe topic %s: %w", topic, err)
	}
	return int32(len(details[topic].Partitions)), nil
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

// waitCommitted polls the group's commits until they reach targets. It
// fails after timeout, or at once if a sink member fails.
func waitCommitted(ctx context.Context, adm *kadm.Client, group, topic string, targets map[int32]int64,
	timeout time.Duration, sinkErrs <-chan error) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var behind map[int32]int64
	for {
		offs, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			behind = map[int32]int64{}
			for p, target := range targets {
				o, ok := offs.Lookup(topic, p)
				if !ok || o.Err != nil || o.At < target {
					behind[p] = target - o.At
				}
			}
			if len(behind) == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case err := <-sinkErrs:
			return fmt.Errorf("draining: %w", err)
		case <-deadline.C:
			return fmt.Errorf("drain timed out after %v: partitions still behind (partition: records) %v", timeout, behind)
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
