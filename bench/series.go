package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tickbench/tickbench/gen"
)

// Sample is one interval (about a second) of a strategy's run: what the
// generator achieved against its target, what landed, how far the sink was
// behind, and the end-to-end and upload p99 of what landed in the interval.
type Sample struct {
	T            float64 `json:"t_s"`           // end of the interval, seconds since the generator started
	TargetRate   float64 `json:"target_rate"`   // ticks/s the pacer scheduled in the interval; 0 once the generator has stopped
	AchievedRate float64 `json:"achieved_rate"` // ticks acknowledged by Kafka in the interval, per second
	LandedRate   float64 `json:"landed_rate"`   // ticks whose S3 PUT was acknowledged in the interval, per second
	Lag          int64   `json:"lag"`           // ticks acknowledged by Kafka and not yet landed, at T
	E2EP99       int64   `json:"e2e_p99_us"`    // of ticks landed in the interval; 0 if none
	UploadP99    int64   `json:"upload_p99_us"` // of objects uploaded in the interval; 0 if none
}

// Interval histograms are kept for the .hlog files, one per second.
type Intervals struct {
	E2E, Upload, Publish []IntervalHist
}

// IntervalHist is an interval histogram kept in HdrHistogram's compressed
// encoding with its interval's times. A histogram of 1 µs..1 h at 3 digits
// takes ~190 KB whatever it holds, its encoding a few hundred bytes: kept
// whole, three a second held ~34 MB after a minute (and raised the heap's
// goal twice that), ~0.3 GB after ten.
type IntervalHist struct {
	startMs, endMs int64
	enc            []byte
}

// KeepInterval encodes h, with the times of its interval.
func KeepInterval(h *hdrhistogram.Histogram, start, end time.Time) (IntervalHist, error) {
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return IntervalHist{}, fmt.Errorf("encode interval histogram: %w", err)
	}
	return IntervalHist{startMs: start.UnixMilli(), endMs: end.UnixMilli(), enc: enc}, nil
}

// histogram decodes the interval's histogram, its times set.
func (iv IntervalHist) histogram() (*hdrhistogram.Histogram, error) {
	h, err := hdrhistogram.Decode(iv.enc)
	if err != nil {
		return nil, fmt.Errorf("decode interval histogram: %w", err)
	}
	h.SetStartTimeMs(iv.startMs)
	h.SetEndTimeMs(iv.endMs)
	return h, nil
}

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
	onSample   func(strategy int, s Sample)
	series     [][]Sample
	ivs        []Intervals // publish is filled in by result
	pubIvs     []IntervalHist
	err        error // the first interval that could not be kept
}

// result returns strategy i's series and interval histograms.
func (s *sampler) result(i int) ([]Sample, Intervals, error) {
	iv := s.ivs[i]
	iv.Publish = s.pubIvs
	return s.series[i], iv, s.err
}

func newSampler(start time.Time, pacer gen.Shape, acked func() uint64, pub *hist, groups []*sinkGroup) *sampler {
	return &sampler{start: start, pacer: pacer, acked: acked, pub: pub, groups: groups,
		last: start, lastLanded: make([]int64, len(groups)), series: make([][]Sample, len(groups)), ivs: make([]Intervals, len(groups))}
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
	keep := func(h *hdrhistogram.Histogram) IntervalHist {
		iv, err := KeepInterval(h, s.last, now)
		if err != nil && s.err == nil {
			s.err = err
		}
		return iv
	}
	acked := s.acked()
	// The ticks scheduled in the interval, per second: a shape's rate
	// averaged over it, 0 once the generator's time is up (draining).
	target := (s.pacer.Count(now.Sub(s.start)) - s.pacer.Count(s.last.Sub(s.start))) / dt
	// The producer histogram is shared by the phase's strategies.
	s.pubIvs = append(s.pubIvs, keep(s.pub.takeInterval()))
	for i, g := range s.groups {
		landed := g.landed.Load()
		e2e, up := g.takeIntervals()
		smp := Sample{
			T:            now.Sub(s.start).Seconds(),
			TargetRate:   target,
			AchievedRate: float64(acked-s.lastAcked) / dt,
			LandedRate:   float64(landed-s.lastLanded[i]) / dt,
			Lag:          max(int64(acked)-landed, 0),
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
		s.ivs[i].E2E = append(s.ivs[i].E2E, keep(e2e))
		s.ivs[i].Upload = append(s.ivs[i].Upload, keep(up))
		s.lastLanded[i] = landed
	}
	if dt >= 0.5 {
		s.live.setRates(target, float64(acked-s.lastAcked)/dt)
	}
	s.last, s.lastAcked = now, acked
}
