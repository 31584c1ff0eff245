package bench

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/sink"
)

// phase is one generator run feeding one or more strategies, each its own
// consumer group, through its steps: start the sinks, generate, drain,
// collect, verify and model the lake.
type phase struct {
	*runner
	strategies []Strategy
	groups     []*sinkGroup

	usage        *usage
	retries0     int64
	faults0      S3Faults
	producer     Producer
	produced     gen.Result
	sampler      *sampler
	stopProgress func() // stops the progress line and the sampler, and waits for them
	drains       []time.Duration
	used         used
	retries      int64
	faults       S3Faults
}

// phase runs strategies through one generator run and returns their
// verified results.
func (r *runner) phase(ctx context.Context, strategies []Strategy) ([]StrategyResult, error) {
	ph := &phase{runner: r, strategies: strategies}
	sinkCtx, stopSinks := context.WithCancel(ctx)
	defer stopSinks()
	if err := ph.startSinks(ctx, sinkCtx); err != nil {
		return nil, err
	}
	defer func() {
		for _, g := range ph.groups {
			g.stopAll()
		}
	}()
	defer func() {
		if ph.stopProgress != nil {
			ph.stopProgress()
		}
	}()
	if err := ph.generate(ctx); err != nil {
		return nil, err
	}
	if err := ph.drain(ctx); err != nil {
		return nil, err
	}
	out := make([]StrategyResult, len(strategies))
	for i := range strategies {
		sr, err := ph.collect(i)
		if err != nil {
			return nil, err
		}
		if err := ph.check(ctx, i, &sr); err != nil {
			return nil, err
		}
		out[i] = sr
	}
	return out, nil
}

// startSinks starts each strategy's sink group at the topic's end, so
// earlier ticks on the topic (other runs, other phases) are never read,
// and the trimming of what every group committed (the embedded broker
// keeps records in memory).
func (ph *phase) startSinks(ctx, sinkCtx context.Context) error {
	cfg := ph.cfg
	startOffsets, err := endOffsets(ctx, ph.adm, cfg.Topic)
	if err != nil {
		return err
	}
	names := make([]string, len(ph.strategies))
	for i, s := range ph.strategies {
		sc, err := ph.sinkConfig(s)
		if err != nil {
			return err
		}
		if err := commitStart(ctx, ph.adm, sc.Group, cfg.Topic, startOffsets); err != nil {
			return err
		}
		g := newSinkGroup(sc, sink.S3Store{Client: ph.st.S3, Bucket: ph.st.Bucket, SSE: ph.st.SSE, SSEKMSKeyID: ph.st.SSEKMSKeyID})
		ph.groups = append(ph.groups, g)
		for range cfg.Sinks {
			if _, err := g.join(sinkCtx); err != nil {
				return err
			}
		}
		if cfg.JoinAt > 0 {
			go churn(sinkCtx, g, cfg.JoinAt, cfg.LeaveAt)
		}
		names[i] = sc.Group
	}
	go ph.st.TrimCommitted(sinkCtx, ph.adm, cfg.Topic, names, time.Second)
	return nil
}

// sinkConfig is strategy s's sink setup for this run.
func (ph *phase) sinkConfig(s Strategy) (sink.Config, error) {
	cfg := ph.cfg
	sc := sink.DefaultConfig()
	sc.Brokers, sc.Topic, sc.Policy, sc.Layout, sc.MaxBuffered = ph.st.Brokers, cfg.Topic, s.Policy, s.Layout, cfg.MaxBuffered
	sc.Group = "tickbench-" + ph.runID + "-" + s.Name
	sc.Prefix = cfg.Prefix + "runs/" + ph.runID + "/" + s.Name + "/"
	if ph.step != "" {
		sc.Group += "-" + ph.step
		sc.Prefix += ph.step + "/"
	}
	sc.ClientOpts = ph.st.KafkaOpts
	var err error
	if sc.Format, err = sink.FormatByName(s.Format); err != nil {
		return sc, err
	}
	if s.Uploaders > 0 {
		sc.Uploaders = s.Uploaders
	}
	if cfg.Uploaders > 0 {
		sc.Uploaders = cfg.Uploaders
	}
	if err := sc.Validate(); err != nil {
		return sc, fmt.Errorf("strategy %s: %w", s.Name, err)
	}
	return sc, nil
}

// generate produces the workload at its rate, with the progress line and
// the per-second sampler running, and records the producer's side.
func (ph *phase) generate(ctx context.Context) error {
	cfg := ph.cfg
	ph.retries0, ph.faults0 = ph.st.S3Retries(), ph.faultStats()
	// Return the previous phase's garbage to the OS first, so the peak
	// RSS of this phase is its own.
	debug.FreeOSMemory()
	ph.usage = startUsage()
	source, err := cfg.newSource()
	if err != nil {
		return err
	}
	copts, err := cfg.Client.Options()
	if err != nil {
		return err
	}
	prodCl, err := kgo.NewClient(append(append(copts, ph.st.KafkaOpts...), kgo.SeedBrokers(ph.st.Brokers...))...)
	if err != nil {
		return fmt.Errorf("kafka producer: %w", err)
	}
	defer prodCl.Close()
	gr := newGenerator(&gen.Producer{Client: prodCl, Topic: cfg.Topic, Source: source, Pacer: cfg.pacer(), Stop: cfg.Stop, Workers: cfg.GenWorkers})
	prod, pub := gr.Producer, gr.pub
	ph.watch(ctx, prod, pub)
	res, err := prod.Run(ctx)
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if err != nil {
		return err
	}
	ph.produced = res
	p := Producer{TargetRate: cfg.Rate, AchievedRate: res.Achieved, Workers: res.Workers, Sent: res.Sent, Acked: res.Acked,
		Failed: res.Failed, Interrupted: res.Interrupted}
	p.RateHeld = !res.Interrupted && res.Achieved >= 0.99*cfg.Rate
	if p.PublishDelay, err = gr.delay().summary(); err != nil {
		return err
	}
	if p.Publish, err = pub.summary(); err != nil {
		return err
	}
	ph.producer = p
	if cfg.AfterProduce != nil {
		cfg.AfterProduce()
	}
	return nil
}

// watch starts the progress line and the per-second sampler of the phase;
// ph.stopProgress stops them.
func (ph *phase) watch(ctx context.Context, prod *gen.Producer, pub *hist) {
	cfg := ph.cfg
	acked := func() uint64 { return prod.Progress().Acked }
	pr := &progress{w: cfg.Progress, live: cfg.ProgressLive, start: time.Now(), pacer: cfg.pacer(),
		sent: acked, landed: func() int64 {
			low := ph.groups[0].landed.Load()
			for _, g := range ph.groups[1:] {
				low = min(low, g.landed.Load())
			}
			return low
		}}
	ph.sampler = newSampler(pr.start, cfg.pacer(), acked, pub, ph.groups)
	ph.sampler.live, ph.sampler.onSample = cfg.Live, ph.onSample
	byName := map[string]*sinkGroup{}
	for i, s := range ph.strategies {
		byName[s.Name] = ph.groups[i]
	}
	cfg.Live.setPhase(cfg.pacer().Rate(0), prod, pub, byName)
	progCtx, stop := context.WithCancel(ctx)
	progDone, smpDone := make(chan struct{}), make(chan struct{})
	go func() { pr.run(progCtx); close(progDone) }()
	go func() { ph.sampler.run(progCtx); close(smpDone) }()
	ph.stopProgress = sync.OnceFunc(func() { stop(); <-progDone; <-smpDone })
}

// drain tells every group where the input ends and waits for its commits
// to get there; a group that keeps landing may take as long as it needs,
// one that stops moving for DrainTimeout fails the run.
func (ph *phase) drain(ctx context.Context) error {
	cfg := ph.cfg
	begin := time.Now()
	targets, err := endOffsets(ctx, ph.adm, cfg.Topic)
	if err != nil {
		return err
	}
	for _, g := range ph.groups {
		g.setDrain(targets)
	}
	ph.drains = make([]time.Duration, len(ph.groups))
	for i, g := range ph.groups {
		if err := waitCommitted(ctx, ph.adm, g.cfg.Group, cfg.Topic, targets, cfg.DrainTimeout, g.errs); err != nil {
			return fmt.Errorf("strategy %s: %w", ph.strategies[i].Name, err)
		}
		ph.drains[i] = time.Since(begin)
	}
	for _, g := range ph.groups {
		g.stopAll()
		if err := g.firstErr(); err != nil {
			return err
		}
	}
	ph.used = ph.usage.stop()
	ph.retries, ph.faults = ph.st.S3Retries()-ph.retries0, ph.faultStats().minus(ph.faults0)
	ph.stopProgress()
	ph.sampler.sample(time.Now()) // the last, partial interval
	return nil
}

// collect gathers strategy i's counts, costs and histograms.
func (ph *phase) collect(i int) (StrategyResult, error) {
	cfg, s, g := ph.cfg, ph.strategies[i], ph.groups[i]
	stats, perMember, e2e, upload := g.totals()
	sr := StrategyResult{
		Strategy: s.Name, Format: g.cfg.Format.Name(), Layout: string(g.cfg.Layout), Prefix: g.cfg.Prefix, Bucket: ph.st.Bucket,
		FlushRecords: s.Policy.Records, FlushBytes: s.Policy.Bytes, FlushInterval: s.Policy.Interval.String(),
		Members: cfg.Sinks, Semantics: semantics(s.Policy, stats), Producer: ph.producer,
		Objects: stats.Objects, Bytes: stats.Bytes, Consumed: stats.Consumed,
		MembersConsumed: perMember, Invalid: stats.Invalid, CommitErrors: stats.CommitErrors, ExistingObjects: stats.Existed,
		OverwrittenObjects: stats.Overwritten, AgedFlushes: stats.AgedFlushes, CappedFlushes: stats.CappedFlushes,
		FetchPauses: stats.Pauses, DrainS: ph.drains[i].Seconds(),
		PutRequests: stats.Requests, S3Retries: ph.retries, S3Faults: ph.faults,
		BadRecords: stats.Rejected, ErrorObjects: stats.ErrorObjects,
	}
	acked := ph.produced.Acked
	if acked > 0 {
		sr.BytesPerTick = float64(stats.Bytes) / float64(acked)
		putsPerTick := float64(sr.PutRequests) / float64(acked)
		sr.PutCostPerDayUSD = ph.prices.PutCost(putsPerTick * cfg.Rate * 86400)
		if len(ph.strategies) == 1 {
			sr.CPUSecondsPerMillion = ph.used.cpu.Seconds() / float64(acked) * 1e6
			sr.PeakRSSBytes, sr.MachineCPUUtil = ph.used.peakRSS, ph.used.machine
		}
	}
	sr.SustainedRate, sr.FellBehind = keptUp(acked, ph.produced.LastSent, ph.drains[i])
	sr.Series, sr.intervals = ph.sampler.result(i)
	var err error
	if sr.EndToEnd, err = e2e.summary(); err != nil {
		return sr, err
	}
	if sr.Upload, err = upload.summary(); err != nil {
		return sr, err
	}
	return sr, nil
}

// keptUp tells whether a strategy kept up with the generator: one that did
// needs only to land its last open batches once production stops. A drain
// longer than 2 s and a tenth of the production time means it fell behind;
// its sustained rate is what it landed over production plus drain.
func keptUp(acked uint64, produced, drain time.Duration) (sustained float64, fellBehind bool) {
	if whole := (produced + drain).Seconds(); whole > 0 {
		sustained = float64(acked) / whole
	}
	return sustained, drain > max(2*time.Second, produced/10)
}

// check verifies what strategy i landed by reading it back, then models
// (and, where it can, runs) the lake's standard queries over it.
func (ph *phase) check(ctx context.Context, i int, sr *StrategyResult) error {
	acked, f := ph.produced.Acked, ph.groups[i].cfg.Format
	var err error
	if sr.Verify, err = verify(ctx, ph.st.S3, ph.st.Bucket, sr.Prefix, f, ph.produced.PerWorker); err != nil {
		return err
	}
	if !ph.noLake {
		sr.Lake, err = ph.lake(ctx, ph.strategies[i], sr.Prefix, f, sr.Verify, acked)
	}
	return err
}
