package bench

import (
	"cmp"
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/bench/cpusplit"
	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/tick/wire"
)

// phase is one generator run feeding one or more strategies, each its own
// consumer group, through its steps: start the sinks, generate, drain,
// collect, verify and model the lake.
type phase struct {
	*runner
	strategies []Strategy
	groups     []*sinkGroup

	usage        *usage
	prof         *cpuProfile // of the measured window, if the run asks (Config.CPUProfile)
	profile      []byte
	retries0     int64
	faults0      result.S3Faults
	producer     result.Producer
	produced     gen.Result
	sampler      *sampler
	stopProgress func() // stops the progress line and the sampler, and waits for them
	drains       []time.Duration
	used         used
	retries      int64
	faults       result.S3Faults
	netFaults    []result.NetFault
}

// phase runs strategies through one generator run and returns their
// verified results. Its own goroutines (the admin client's requests, the
// sampler, the progress line) are the bench's side of the CPU profile.
func (r *runner) phase(ctx context.Context, strategies []Strategy) (out []result.StrategyResult, err error) {
	labelled(ctx, cpusplit.SideBench, func(ctx context.Context) { out, err = r.runPhase(ctx, strategies) })
	return out, err
}

func (r *runner) runPhase(ctx context.Context, strategies []Strategy) ([]result.StrategyResult, error) {
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
	defer func() { ph.prof.stop() }() // a run that failed before the drain
	if !r.cfg.Backlog {
		if err := ph.join(sinkCtx); err != nil {
			return nil, err
		}
		if err := ph.startUsage(); err != nil {
			return nil, err
		}
	}
	if err := ph.generate(ctx); err != nil {
		return nil, err
	}
	if r.cfg.Backlog {
		if err := ph.startUsage(); err != nil {
			return nil, err
		}
		if err := ph.join(sinkCtx); err != nil {
			return nil, err
		}
	}
	if err := ph.drain(ctx); err != nil {
		return nil, err
	}
	out := make([]result.StrategyResult, len(strategies))
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

// startSinks sets each strategy's sink group to start at the topic's end,
// so earlier ticks on the topic (other runs, other phases) are never read,
// and starts the trimming of what every group committed (the embedded
// broker keeps records in memory). join then starts the members.
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
		if s.Table != "" {
			if g.newTable, err = openTables(ph.st, s, tableName(ph.runID, s.Name, ph.step), sc); err != nil {
				return err
			}
		}
		ph.groups = append(ph.groups, g)
		names[i] = sc.Group
	}
	go ph.st.TrimCommitted(sinkCtx, ph.adm, cfg.Topic, names, time.Second)
	return nil
}

// join starts every group's members (and the churn of --join-at), their
// goroutines labelled as the sink's side of the pipeline.
func (ph *phase) join(sinkCtx context.Context) (err error) {
	labelled(sinkCtx, cpusplit.SideSink, func(sinkCtx context.Context) {
		for _, g := range ph.groups {
			for range ph.cfg.Sinks {
				if _, err = g.join(sinkCtx); err != nil {
					return
				}
			}
			if ph.cfg.JoinAt > 0 {
				go churn(sinkCtx, g, ph.cfg.JoinAt, ph.cfg.LeaveAt)
			}
		}
	})
	return err
}

// startUsage starts measuring the phase's CPU time and peak RSS (and
// profiling its CPU, if the run asks).
func (ph *phase) startUsage() error {
	// Return the previous phase's garbage (with a backlog: the
	// generator's) to the OS first, so the peak RSS measured is this
	// phase's own.
	debug.FreeOSMemory()
	ph.usage = startUsage(ph.st.Servers)
	var err error
	ph.prof, err = startCPUProfile(ph.cfg)
	return err
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
	sc.Wire = ph.wire(s)
	if s.Table != "" {
		// The table's folder: data objects under data/, metadata beside.
		sc.Prefix += "data/"
		sc.CommitInterval, sc.CommitFiles = cmp.Or(s.CommitInterval, cfg.CommitInterval), cfg.CommitFiles
	}
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

// wire is strategy s's wire format with the run's Schema Registry: the
// one configured, or the stack's.
func (ph *phase) wire(s Strategy) wire.Config {
	w := wire.DefaultConfig()
	w.Format, w.Registry = s.Wire, cmp.Or(ph.cfg.Registry, ph.st.Registry)
	return w
}

// generate produces the workload at its rate, with the progress line and
// the per-second sampler running, and records the producer's side.
func (ph *phase) generate(ctx context.Context) error {
	cfg := ph.cfg
	ph.retries0, ph.faults0 = ph.st.S3Retries(), ph.faultStats()
	source, err := cfg.newSource()
	if err != nil {
		return err
	}
	copts, err := cfg.Client.Options()
	if err != nil {
		return err
	}
	// The producer client and the generator run labelled as the
	// generator's side of the pipeline (their goroutines inherit it).
	var prodCl *kgo.Client
	labelled(ctx, cpusplit.SideGenerator, func(context.Context) {
		prodCl, err = kgo.NewClient(append(append(copts, ph.st.KafkaOpts...), kgo.SeedBrokers(ph.st.Brokers...))...)
	})
	if err != nil {
		return fmt.Errorf("kafka producer: %w", err)
	}
	defer prodCl.Close()
	gr := newGenerator(&gen.Producer{Client: prodCl, Topic: cfg.Topic, Source: source, Pacer: cfg.pacer(), Stop: cfg.Stop, Workers: cfg.GenWorkers,
		Wire: ph.wire(ph.strategies[0])})
	prod, pub := gr.Producer, gr.pub
	ph.watch(ctx, prod, pub)
	endNetFaults := ph.runner.netFaults(ctx)
	var res gen.Result
	labelled(ctx, cpusplit.SideGenerator, func(ctx context.Context) { res, err = prod.Run(ctx) })
	ph.netFaults = endNetFaults()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if err != nil {
		return err
	}
	ph.produced = res
	if ph.producer, err = gr.row(cfg.Rate, res); err != nil {
		return err
	}
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
	ph.sampler.noIntervals = ph.noIntervals
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
	if ph.profile = ph.prof.stop(); ph.profile != nil {
		cfg.CPUProfile(ph.profile)
	}
	ph.retries, ph.faults = ph.st.S3Retries()-ph.retries0, ph.faultStats().Minus(ph.faults0)
	ph.stopProgress()
	ph.sampler.sample(time.Now()) // the last, partial interval
	return nil
}

// collect gathers strategy i's counts, costs and histograms.
func (ph *phase) collect(i int) (result.StrategyResult, error) {
	cfg, s, g := ph.cfg, ph.strategies[i], ph.groups[i]
	stats, perMember, e2e, upload, queryable := g.totals()
	sr := landing(s, g.cfg, ph.st.Bucket, stats)
	sr.Members, sr.MembersConsumed, sr.Producer = cfg.Sinks, perMember, ph.producer
	sr.DrainS, sr.S3Retries, sr.S3Faults, sr.NetFaults = ph.drains[i].Seconds(), ph.retries, ph.faults, ph.netFaults
	acked := ph.produced.Acked
	if acked > 0 {
		sr.BytesPerTick = float64(stats.Bytes) / float64(acked)
		putsPerTick := float64(sr.PutRequests) / float64(acked)
		sr.PutCostPerDayUSD = ph.prices.PutCost(putsPerTick * cfg.Rate * 86400)
		if len(ph.strategies) == 1 {
			sr.CPUSecondsPerMillion = ph.used.cpu.total().Seconds() / float64(acked) * 1e6
			sr.UserCPUSecondsPerMillion = ph.used.cpu.user.Seconds() / float64(acked) * 1e6
			sr.PeakRSSBytes, sr.MachineCPUUtil = ph.used.peakRSS, ph.used.machine
			sr.CPUByProcess = ph.used.byProcess()
			if ph.profile != nil {
				var err error
				if sr.CPUSplit, err = splitCPU(ph.profile, acked); err != nil {
					return sr, err
				}
			}
		}
	}
	if cfg.Backlog {
		// The sink started behind by design; its rate is its own pace.
		sr.SustainedRate = float64(acked) / ph.drains[i].Seconds()
	} else {
		sr.SustainedRate, sr.FellBehind = keptUp(acked, ph.produced.LastSent, ph.drains[i])
	}
	var err error
	if sr.Series, sr.Intervals, err = ph.sampler.result(i); err != nil {
		return sr, err
	}
	if sr.EndToEnd, err = e2e.summary(); err != nil {
		return sr, err
	}
	if sr.Upload, err = upload.summary(); err != nil {
		return sr, err
	}
	if sr.Queryable, err = queryableOf(s, e2e, queryable); err != nil {
		return sr, err
	}
	if s.Table != "" {
		sr.Table = tableReport(g, stats, ph.prices, cfg.Duration+ph.drains[i])
	}
	return sr, nil
}

// landing is a strategy's row with a sink's counters.
func landing(s Strategy, sc sink.Config, bucket string, stats sink.Stats) result.StrategyResult {
	return result.StrategyResult{
		Strategy: s.Name, Wire: s.Wire.String(), Format: sc.Format.Name(), Layout: string(sc.Layout), Prefix: sc.Prefix, Bucket: bucket,
		FlushRecords: s.Policy.Records, FlushBytes: s.Policy.Bytes, FlushInterval: s.Policy.Interval.String(),
		Semantics: semantics(s.Policy, stats), Objects: stats.Objects, Bytes: stats.Bytes, Consumed: stats.Consumed,
		Invalid: stats.Invalid, CommitErrors: stats.CommitErrors, ExistingObjects: stats.Existed,
		OverwrittenObjects: stats.Overwritten, AgedFlushes: stats.AgedFlushes, CappedFlushes: stats.CappedFlushes,
		FetchPauses: stats.Pauses, Rebalances: stats.Rebalances, PutRequests: stats.Requests, BadRecords: stats.Rejected, ErrorObjects: stats.ErrorObjects,
	}
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
func (ph *phase) check(ctx context.Context, i int, sr *result.StrategyResult) error {
	acked, f := ph.produced.Acked, ph.groups[i].cfg.Format
	var only map[string]bool
	if g := ph.groups[i]; g.table != nil {
		var err error
		if only, err = readTable(ctx, g.table, ph.cfg.Topic, sr, ph.cfg.Duration); err != nil {
			return err
		}
	}
	var err error
	if sr.Verify, err = verify(ctx, ph.st.S3, ph.st.Bucket, sr.Prefix, f, ph.produced.PerWorker, only); err != nil {
		return err
	}
	if sr.Table != nil {
		sr.Table.Orphans, sr.Table.OrphanBytes = sr.Verify.Orphans, sr.Verify.OrphanBytes
	}
	if !ph.noLake {
		sr.Lake, err = ph.lake(ctx, ph.strategies[i], ph.groups[i].table, sr.Prefix, f, sr.Verify, acked)
	}
	return err
}
