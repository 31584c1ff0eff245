package bench

import (
	"fmt"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tickbench/tickbench/bench/result"
)

// Histograms record microseconds from 1 µs to 1 h at 3 significant digits.
// An hour, not a minute: a run that cannot hold its rate falls further
// behind every second, and that lag must be recorded, not clipped.
const (
	histMin    = 1
	histMax    = int64(time.Hour / time.Microsecond)
	histDigits = 3
)

// hist is one goroutine's latency histogram; merge them at the end. A value
// is recorded once, into the current interval's histogram iv, which the
// per-second sampler takes (the only other goroutine touching it, hence the
// uncontended mutex) and folds into h, the finished intervals: everything
// recorded is h and iv together. (Recording into both cost a second
// RecordValue per value, three values a tick.)
type hist struct {
	mu      sync.Mutex
	h, iv   *hdrhistogram.Histogram
	clamped int64
}

func newHist() *hist {
	return &hist{h: hdrhistogram.New(histMin, histMax, histDigits), iv: hdrhistogram.New(histMin, histMax, histDigits)}
}

// takeInterval returns what was recorded since the previous call and starts
// a new interval.
func (h *hist) takeInterval() *hdrhistogram.Histogram {
	fresh := hdrhistogram.New(histMin, histMax, histDigits)
	h.mu.Lock()
	iv := h.iv
	h.h.Merge(iv)
	h.iv = fresh
	h.mu.Unlock()
	return iv
}

// whole returns a copy of everything recorded: the finished intervals and
// the open one.
func (h *hist) whole() *hdrhistogram.Histogram {
	w := hdrhistogram.New(histMin, histMax, histDigits)
	h.mu.Lock()
	w.Merge(h.h)
	w.Merge(h.iv)
	h.mu.Unlock()
	return w
}

// record adds one latency given in ns. Negative values (clock steps) count
// as the minimum; values past the top are clamped and counted.
func (h *hist) record(ns int64) {
	h.mu.Lock()
	h.recordLocked(ns)
	h.mu.Unlock()
}

// recordSince records, for each time in ats (ns), the latency from it to
// end (ns), under one lock: a landed object's ticks.
func (h *hist) recordSince(end int64, ats []int64) {
	h.mu.Lock()
	for _, at := range ats {
		h.recordLocked(end - at)
	}
	h.mu.Unlock()
}

func (h *hist) recordLocked(ns int64) {
	us := ns / 1000
	if us < histMin {
		us = histMin
	}
	if us > histMax {
		us = histMax
		h.clamped++
	}
	_ = h.iv.RecordValue(us) // in range by construction
}

func mergeHists(hs ...*hist) *hist {
	out := newHist()
	for _, h := range hs {
		if h == nil {
			continue
		}
		h.mu.Lock()
		out.h.Merge(h.h)
		out.h.Merge(h.iv)
		out.clamped += h.clamped
		h.mu.Unlock()
	}
	return out
}

func (h *hist) summary() (result.Latency, error) {
	w := h.whole()
	enc, err := w.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return result.Latency{}, fmt.Errorf("encode histogram: %w", err)
	}
	h.mu.Lock()
	clamped := h.clamped
	h.mu.Unlock()
	l := result.Latency{Unit: "us", Count: w.TotalCount(), Clamped: clamped, HDR: string(enc)}
	if l.Count > 0 {
		l.Min, l.Mean, l.Max = w.Min(), w.Mean(), w.Max()
		l.P50, l.P90, l.P95 = w.ValueAtQuantile(50), w.ValueAtQuantile(90), w.ValueAtQuantile(95)
		l.P99, l.P999 = w.ValueAtQuantile(99), w.ValueAtQuantile(99.9)
	}
	return l, nil
}
