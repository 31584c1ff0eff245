package bench

import (
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tickbench/tickbench/bench/result"
)

// TestHistRecordsOnce: a value is recorded once, into the open interval,
// and the whole (summary, merge) is the finished intervals and the open
// one: nothing counted twice when an interval is taken, nothing missed
// before one is, clamped values counted.
func TestHistRecordsOnce(t *testing.T) {
	h := newHist()
	ref := result.NewHistogram() // every value recorded plainly
	var taken []*hdrhistogram.Histogram
	want := int64(0)
	for i := range 10 {
		for v := range 1000 {
			ns := int64(v+1) * int64(time.Millisecond) * int64(i+1)
			h.record(ns)
			_ = ref.RecordValue(ns / 1000)
			want++
		}
		if i%3 == 2 {
			taken = append(taken, h.takeInterval())
		}
	}
	h.record(int64(2 * time.Hour)) // clamped to the top
	_ = ref.RecordValue(result.HistMax)
	want++
	l, err := h.summary()
	if err != nil {
		t.Fatal(err)
	}
	if l.Count != want || l.Clamped != 1 || l.Max < result.HistMax*999/1000 {
		t.Fatalf("summary: count %d clamped %d max %d, want count %d, clamped 1, max ~%d", l.Count, l.Clamped, l.Max, want, result.HistMax)
	}
	if l.Min != ref.Min() || l.P50 != ref.ValueAtQuantile(50) || l.P99 != ref.ValueAtQuantile(99) || l.Mean != ref.Mean() {
		t.Fatalf("summary: min %d p50 %d p99 %d mean %g, want those of every value recorded once: %d %d %d %g",
			l.Min, l.P50, l.P99, l.Mean, ref.Min(), ref.ValueAtQuantile(50), ref.ValueAtQuantile(99), ref.Mean())
	}
	if m := mergeHists(h, h).h.TotalCount(); m != 2*want {
		t.Fatalf("merge of two: %d values, want %d", m, 2*want)
	}
	rest := h.takeInterval()
	sum := rest.TotalCount()
	for _, iv := range taken {
		sum += iv.TotalCount()
	}
	if sum != want || h.whole().TotalCount() != want {
		t.Fatalf("intervals hold %d values, the whole %d, want %d each", sum, h.whole().TotalCount(), want)
	}
	if again, _ := h.summary(); again.Count != want || again.P99 != l.P99 {
		t.Fatalf("after the last interval: count %d p99 %d, want %d and %d", again.Count, again.P99, want, l.P99)
	}
}

// TestHistRecordSince: a landed object's latencies recorded under one lock
// are the ones recorded one by one, clamping included.
func TestHistRecordSince(t *testing.T) {
	end := int64(10 * time.Hour)
	ats := []int64{end - 1500, end - int64(time.Second), end - int64(2*time.Hour), end + 5000, end - 42_000}
	one, all := newHist(), newHist()
	for _, at := range ats {
		one.record(end - at)
	}
	all.recordSince(end, ats)
	a, _ := one.summary()
	b, _ := all.summary()
	if a.HDR != b.HDR || b.Count != int64(len(ats)) || b.Clamped != 1 || b.Min != result.HistMin {
		t.Fatalf("recordSince: %+v, one by one: %+v", b, a)
	}
}
