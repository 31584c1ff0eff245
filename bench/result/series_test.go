package result

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
