package bench

import (
	"sync"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tickbench/tickbench/bench/result"
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
	return &hist{h: result.NewHistogram(), iv: result.NewHistogram()}
}

// takeInterval returns what was recorded since the previous call and starts
// a new interval.
func (h *hist) takeInterval() *hdrhistogram.Histogram {
	fresh := result.NewHistogram()
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
	w := result.NewHistogram()
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
	if us < result.HistMin {
		us = result.HistMin
	}
	if us > result.HistMax {
		us = result.HistMax
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
	h.mu.Lock()
	clamped := h.clamped
	h.mu.Unlock()
	return result.Summarize(w, clamped)
}
