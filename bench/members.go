package bench

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/sink/iceberg"
)

// sinkGroup is one strategy's sink members, all in one consumer group. Each
// member records into its own histograms; they are merged at the end.
type sinkGroup struct {
	cfg   sink.Config
	store sink.Store
	// newTable, for a table strategy, opens each member's table.
	newTable func(context.Context) (*iceberg.Table, error)
	table    *iceberg.Table // the first member's, to read the table back

	landed atomic.Int64
	errs   chan error // a member that failed

	mu      sync.Mutex
	members []*member
	drain   map[int32]int64
}

type member struct {
	sk          *sink.Sink
	e2e, upload *hist
	// queryable is intended -> the table commit holding the tick (table
	// strategies only).
	queryable *hist
	cancel    context.CancelFunc
	done      chan struct{}
}

func newSinkGroup(cfg sink.Config, store sink.Store) *sinkGroup {
	return &sinkGroup{cfg: cfg, store: store, errs: make(chan error, 64)}
}

// join starts a member; it runs until leave, stopAll, or ctx ends.
func (g *sinkGroup) join(ctx context.Context) (*member, error) {
	m := &member{e2e: newHist(), upload: newHist(), queryable: newHist(), done: make(chan struct{})}
	cfg := g.cfg
	if g.newTable != nil {
		tbl, err := g.newTable(ctx)
		if err != nil {
			return nil, err
		}
		cfg.Table = tbl
		g.mu.Lock()
		if g.table == nil {
			g.table = tbl
		}
		g.mu.Unlock()
	}
	sk, err := sink.New(cfg, g.store, func(l sink.Landed) {
		m.e2e.recordSince(l.Acked.UnixNano(), l.Intended)
		m.upload.record(int64(l.Upload))
		g.landed.Add(int64(l.Ticks))
	})
	if err != nil {
		return nil, err
	}
	sk.OnCommit(func(c sink.TableCommit) {
		at := c.At.UnixNano()
		for _, f := range c.Files {
			m.queryable.recordSince(at, f.Intended)
		}
	})
	m.sk = sk
	g.mu.Lock()
	if g.drain != nil {
		sk.Drain(g.drain)
	}
	g.members = append(g.members, m)
	g.mu.Unlock()
	mctx, cancel := context.WithCancel(ctx)
	m.cancel = cancel
	go func() {
		defer close(m.done)
		if err := sk.Run(mctx); err != nil {
			g.errs <- err
		}
	}()
	return m, nil
}

// leave stops one member (it leaves the group) and waits for it.
func (m *member) leave() {
	m.cancel()
	<-m.done
}

// setDrain tells every member, present and future, where the input ends.
func (g *sinkGroup) setDrain(targets map[int32]int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.drain = targets
	for _, m := range g.members {
		m.sk.Drain(targets)
	}
}

func (g *sinkGroup) stopAll() {
	g.mu.Lock()
	ms := append([]*member(nil), g.members...)
	g.mu.Unlock()
	for _, m := range ms {
		m.leave()
	}
}

// firstErr returns a member's failure, if any has been reported.
func (g *sinkGroup) firstErr() error {
	select {
	case err := <-g.errs:
		return err
	default:
		return nil
	}
}

// totals sums the members' counters, lists what each consumed (in join
// order), and merges their histograms. The histograms are read first: the
// sink counts an object before its observer records the object's ticks,
// so reading the counters after them means a live reader never sees
// landed ticks of an object that the counters do not hold yet.
func (g *sinkGroup) totals() (s sink.Stats, perMember []int64, e2e, upload, queryable *hist) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var e2es, ups, qs []*hist
	for _, m := range g.members {
		e2es, ups, qs = append(e2es, m.e2e), append(ups, m.upload), append(qs, m.queryable)
	}
	e2e, upload, queryable = mergeHists(e2es...), mergeHists(ups...), mergeHists(qs...)
	for _, m := range g.members {
		ms := m.sk.Stats()
		perMember = append(perMember, ms.Consumed)
		s.Consumed += ms.Consumed
		s.Invalid += ms.Invalid
		s.Objects += ms.Objects
		s.Bytes += ms.Bytes
		s.CommitErrors += ms.CommitErrors
		s.Requests += ms.Requests
		s.Existed += ms.Existed
		s.Overwritten += ms.Overwritten
		s.AgedFlushes += ms.AgedFlushes
		s.CappedFlushes += ms.CappedFlushes
		s.Pauses += ms.Pauses
		s.Rebalances += ms.Rebalances
		s.Rejected += ms.Rejected
		s.ErrorObjects += ms.ErrorObjects
		s.Commits += ms.Commits
		s.CommitConflicts += ms.CommitConflicts
		s.CommitFailures += ms.CommitFailures
		s.CommittedFiles += ms.CommittedFiles
		s.LeftBatches += ms.LeftBatches
		s.MetadataGets += ms.MetadataGets
		s.MetadataPuts += ms.MetadataPuts
		// Members hold their batches apart: the peak is the largest one's.
		s.PeakBuffered = max(s.PeakBuffered, ms.PeakBuffered)
	}
	return s, perMember, e2e, upload, queryable
}

// takeIntervals merges and restarts the members' interval histograms.
func (g *sinkGroup) takeIntervals() (e2e, upload *hdrhistogram.Histogram) {
	e2e, upload = result.NewHistogram(), result.NewHistogram()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range g.members {
		e2e.Merge(m.e2e.takeInterval())
		upload.Merge(m.upload.takeInterval())
	}
	return e2e, upload
}
