package sink

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// heapAlloc is the live heap after a full collection.
func heapAlloc() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestFootprintMatchesHeap: what encoders report as their footprint is
// what they keep alive on the heap, within a quarter, for every format, at
// a few batch sizes: MaxBuffered counts Footprint, so the cap is only as
// true as this.
func TestFootprintMatchesHeap(t *testing.T) {
	ts := modelTicks(t, 150_000)
	for _, name := range formatNames() {
		for _, n := range []int{2_000, 150_000} {
			const encoders = 8
			f := Formats[name]
			before := heapAlloc()
			encs := make([]Encoder, encoders)
			for i := range encs {
				encs[i] = f.NewEncoder()
				for j := range n {
					if err := encs[i].Append(&ts[j]); err != nil {
						t.Fatal(err)
					}
				}
			}
			held := heapAlloc() - before
			accounted := 0
			for _, e := range encs {
				accounted += e.Footprint()
			}
			t.Logf("%-12s %7d ticks x %d: heap %10d  footprint %10d  (%.2f)", name, n, encoders, held, accounted, float64(accounted)/float64(held))
			runtime.KeepAlive(encs)
			if r := float64(accounted) / float64(held); r < 0.8 || r > 1.25 {
				t.Errorf("%s with %d ticks: footprint %d bytes, heap %d: off by more than a quarter", name, n, accounted, held)
			}
		}
	}
}

// TestMemoryCapHolds: 40 partitions whose batches would hold 2.5 MiB under a
// 1 MiB cap. The memory held by open and in-flight batches never exceeds
// the cap by more than one record's growth (a buffer's growth step), the
// cap acts (capped flushes), and every tick lands exactly once.
func TestMemoryCapHolds(t *testing.T) {
	const partitions, n = 40, 30_000
	brokers := spreadTicks(t, partitions, n)

	cfg := DefaultConfig()
	cfg.Brokers, cfg.Topic, cfg.Group, cfg.Prefix = brokers, "ticks", "g", "runs/r/jsonl/"
	// No batch fills (a partition's 750 records are ~110 KiB): only the cap
	// and, once every record was taken, the drain cut them.
	cfg.Policy = Policy{Records: MaxFlushRecords, Bytes: 1 << 20, Interval: time.Hour}
	cfg.MaxBuffered = 1 << 20
	store := &memStore{objects: map[string][]byte{}}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var landed int
	s, err := New(cfg, store, func(l Landed) {
		if landed += l.Ticks; landed >= n {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Drain once every record was taken: the open batches then land
	// without waiting. Before that, the 40 open batches hold ~4 MiB.
	targets := map[int32]int64{}
	for p := range int32(partitions) {
		targets[p] = n / partitions
	}
	go func() {
		for s.Stats().Consumed < n && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		s.Drain(targets)
	}()
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	t.Logf("landed %d ticks in %d objects; capped flushes %d; peak buffered %d of %d", landed, st.Objects, st.CappedFlushes, st.PeakBuffered, cfg.MaxBuffered)
	if st.CappedFlushes == 0 {
		t.Fatalf("the cap never acted: %+v", st)
	}
	// One record adds a line (~150 bytes), an intended time, and at most
	// one growth step of one buffer: doubling one holding under ~110 KiB,
	// so at most 128 KiB. Near the cap partitions take records one at a
	// time; one that checked just below 7/8 of it may still be adding.
	if limit := int64(cfg.MaxBuffered + 2*(128<<10+1<<10)); st.PeakBuffered > limit {
		t.Fatalf("batches held %d bytes at the peak, cap %d: more than two records over", st.PeakBuffered, cfg.MaxBuffered)
	}
	eachOnce(t, store.objects, n)
	if s.open.Load() != 0 || s.inflight.Load() != 0 || s.queued.Load() != 0 {
		t.Fatalf("after the run: open %d, in flight %d, queued %d bytes still counted", s.open.Load(), s.inflight.Load(), s.queued.Load())
	}
}
