package bench

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// TestIntervalsKeptSmall: an interval histogram is kept encoded, a small
// fraction of the histogram's own size, and written to the .hlog with the
// same values and times as the histogram it came from.
func TestIntervalsKeptSmall(t *testing.T) {
	start := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	var kept []IntervalHist
	var want []*hdrhistogram.Histogram
	for i := range 3 {
		iv := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
		for v := range 5000 {
			iv.RecordValue(max(1, int64(v*(i+1))*997/1000)) // µs: 1 .. ~15 ms
		}
		from, to := start.Add(time.Duration(i)*time.Second), start.Add(time.Duration(i+1)*time.Second)
		k, err := KeepInterval(iv, from, to)
		if err != nil {
			t.Fatal(err)
		}
		// The counts array of a 1 µs..1 h histogram at 3 digits is 8 bytes
		// per bucket; what is kept must be far smaller.
		if whole := iv.ByteSize(); len(k.enc)*20 > whole {
			t.Errorf("interval %d kept in %d bytes, the histogram takes %d: want under a twentieth", i, len(k.enc), whole)
		}
		t.Logf("interval %d: %d values kept in %d bytes; the histogram takes %d", i, iv.TotalCount(), len(k.enc), iv.ByteSize())
		kept, want = append(kept, k), append(want, iv)
	}

	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := writeHlog(w, kept); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := hdrhistogram.NewHistogramLogReader(&b)
	for i := 0; ; i++ {
		got, err := r.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if got == nil {
			if i != len(want) {
				t.Fatalf("read %d intervals back, wrote %d", i, len(want))
			}
			break
		}
		w := want[i]
		if got.TotalCount() != w.TotalCount() || got.Max() != w.Max() || got.ValueAtQuantile(99) != w.ValueAtQuantile(99) {
			t.Errorf("interval %d read back: count %d max %d p99 %d; recorded count %d max %d p99 %d", i,
				got.TotalCount(), got.Max(), got.ValueAtQuantile(99), w.TotalCount(), w.Max(), w.ValueAtQuantile(99))
		}
		// The log's times are seconds from its base time, the first start.
		if wantStart := start.Add(time.Duration(i) * time.Second).UnixMilli(); got.StartTimeMs() != wantStart {
			t.Errorf("interval %d starts at %d ms, want %d", i, got.StartTimeMs(), wantStart)
		}
	}
}

// TestHistRecordsOnce: a value is recorded once, into the open interval,
// and the whole (summary, merge) is the finished intervals and the open
// one: nothing counted twice when an interval is taken, nothing missed
// before one is, clamped values counted.
func TestHistRecordsOnce(t *testing.T) {
	h := newHist()
	ref := hdrhistogram.New(histMin, histMax, histDigits) // every value recorded plainly
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
	_ = ref.RecordValue(histMax)
	want++
	l, err := h.summary()
	if err != nil {
		t.Fatal(err)
	}
	if l.Count != want || l.Clamped != 1 || l.Max < histMax*999/1000 {
		t.Fatalf("summary: count %d clamped %d max %d, want count %d, clamped 1, max ~%d", l.Count, l.Clamped, l.Max, want, histMax)
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
	if a.HDR != b.HDR || b.Count != int64(len(ats)) || b.Clamped != 1 || b.Min != histMin {
		t.Fatalf("recordSince: %+v, one by one: %+v", b, a)
	}
}
