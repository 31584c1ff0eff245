package bench

import (
	"context"
	"runtime"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/gen"
)

// sampler cuts a phase into one-second intervals: the per-second series of
// every strategy and the interval histograms behind them.
type sampler struct {
	start  time.Time
	pacer  gen.Shape
	acked  func() uint64
	pub    *hist
	groups []*sinkGroup

	last       time.Time
	lastAcked  uint64
	lastLanded []int64
	live       *Live // told the achieved rate of each full second
	onSample   func(strategy int, s result.Sample)
	series     [][]result.Sample
	ivs        []result.Intervals // publish is filled in by result
	pubIvs     []result.IntervalHist
	err        error // the first interval that could not be kept
	// noIntervals: the interval histograms are not kept (runner's).
	noIntervals bool
}

// result returns strategy i's series and interval histograms.
func (s *sampler) result(i int) ([]result.Sample, result.Intervals, error) {
	iv := s.ivs[i]
	iv.Publish = s.pubIvs
	return s.series[i], iv, s.err
}

func newSampler(start time.Time, pacer gen.Shape, acked func() uint64, pub *hist, groups []*sinkGroup) *sampler {
	return &sampler{start: start, pacer: pacer, acked: acked, pub: pub, groups: groups,
		last: start, lastLanded: make([]int64, len(groups)), series: make([][]result.Sample, len(groups)), ivs: make([]result.Intervals, len(groups))}
}

// run samples once a second until ctx ends; the caller then takes the last
// (partial) interval with sample.
func (s *sampler) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.sample(now)
		}
	}
}

// sample closes the interval ending at now.
func (s *sampler) sample(now time.Time) {
	dt := now.Sub(s.last).Seconds()
	if dt <= 0 {
		return
	}
	keep := func(h *hdrhistogram.Histogram) result.IntervalHist {
		iv, err := result.KeepInterval(h, s.last, now)
		if err != nil && s.err == nil {
			s.err = err
		}
		return iv
	}
	acked := s.acked()
	// The ticks scheduled in the interval, per second: a shape's rate
	// averaged over it, 0 once the generator's time is up (draining).
	target := (s.pacer.Count(now.Sub(s.start)) - s.pacer.Count(s.last.Sub(s.start))) / dt
	rss, goroutines, files, heap := residentBytes(), runtime.NumGoroutine(), openFiles(), heapLive()
	// The producer histogram is shared by the phase's strategies.
	if pub := s.pub.takeInterval(); !s.noIntervals {
		s.pubIvs = append(s.pubIvs, keep(pub))
	}
	for i, g := range s.groups {
		landed := g.landed.Load()
		e2e, up := g.takeIntervals()
		smp := result.Sample{
			T:             now.Sub(s.start).Seconds(),
			TargetRate:    target,
			AchievedRate:  float64(acked-s.lastAcked) / dt,
			LandedRate:    float64(landed-s.lastLanded[i]) / dt,
			Lag:           max(int64(acked)-landed, 0),
			RSSBytes:      rss,
			Goroutines:    goroutines,
			OpenFiles:     files,
			HeapLiveBytes: heap,
		}
		if e2e.TotalCount() > 0 {
			smp.E2EP99 = e2e.ValueAtQuantile(99)
		}
		if up.TotalCount() > 0 {
			smp.UploadP99 = up.ValueAtQuantile(99)
		}
		s.series[i] = append(s.series[i], smp)
		if s.onSample != nil {
			s.onSample(i, smp)
		}
		if !s.noIntervals {
			s.ivs[i].E2E = append(s.ivs[i].E2E, keep(e2e))
			s.ivs[i].Upload = append(s.ivs[i].Upload, keep(up))
		}
		s.lastLanded[i] = landed
	}
	if dt >= 0.5 {
		s.live.setRates(target, float64(acked-s.lastAcked)/dt)
	}
	s.last, s.lastAcked = now, acked
}
