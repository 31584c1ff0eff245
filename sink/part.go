package sink

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/tick/wire"
)

// part is the goroutine of one owned partition: it feeds the partition's
// records, in offset order, to its batcher, cuts batches early when asked
// (drain, age, memory cap), and hands cut batches to the uploaders. Parts
// of different partitions run in parallel; the poll loop only queues.
type part struct {
	s         *Sink
	partition int32
	bt        *batcher
	ledger    *partLedger

	mu     sync.Mutex
	queue  [][]*kgo.Record // fetched, not yet taken
	queued int64           // their bytes, also counted in Sink.queued

	notify   chan struct{} // records arrived, or something to look at
	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	cutEarly atomic.Bool  // relieve asks for the open batch to be cut
	openMem  atomic.Int64 // the open batch's memory, for relieve

	counted struct{ consumed, invalid int } // batcher counts already added to the sink's
}

func newPart(s *Sink, p int32) *part {
	w := &part{
		s: s, partition: p, ledger: s.ledger.own(p),
		bt:     newBatcher(p, s.cfg.Policy, s.cfg.Layout, s.cfg.Format, s.encoder),
		notify: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
	}
	if s.registry != nil {
		// The format was validated with its registry: no error.
		w.bt.dec, _ = wire.NewDecoder(s.cfg.Wire.Format, s.registry)
	}
	return w
}

// recordOverhead is a fetched record's own memory besides its value.
const recordOverhead = 200

// push queues records for the partition's goroutine; it never blocks.
func (w *part) push(recs []*kgo.Record) {
	var n int64
	for _, r := range recs {
		n += int64(len(r.Key)+len(r.Value)) + recordOverhead
	}
	w.mu.Lock()
	w.queue = append(w.queue, recs)
	w.queued += n
	w.mu.Unlock()
	w.s.queued.Add(n)
	w.poke()
}

// poke has the goroutine look at its queue and its early cuts.
func (w *part) poke() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// stop ends the goroutine and waits for it; its open batch and queued
// records are dropped (never committed: the next owner replays them).
func (w *part) stop() {
	w.stopOnce.Do(func() { close(w.quit) })
	<-w.done
}

func (w *part) run(ctx context.Context) {
	defer close(w.done)
	defer w.discard()
	age := time.NewTimer(time.Hour)
	age.Stop()
	var cut []*batch
	for {
		w.mu.Lock()
		chunks := w.queue
		w.queue = nil
		w.mu.Unlock()
		for _, recs := range chunks {
			var n int64
			for _, r := range recs {
				locked, ok := w.admit(ctx)
				if !ok {
					return
				}
				before := w.bt.mem()
				cut = w.bt.add(r, cut[:0])
				if err := w.bt.unavailable; err != nil {
					if locked {
						w.s.admitMu.Unlock()
					}
					w.s.fail(fmt.Errorf("partition %d offset %d: %w", w.partition, r.Offset, err))
					return
				}
				var moved int
				for _, b := range cut {
					moved += b.mem
				}
				w.s.inflight.Add(int64(moved))
				w.s.hold(int64(w.bt.mem() - before))
				if locked {
					w.s.admitMu.Unlock()
				}
				w.openMem.Store(int64(w.bt.mem()))
				for i, b := range cut {
					if !w.submit(ctx, b) {
						for _, rest := range cut[i+1:] {
							w.s.freed(int64(rest.mem))
						}
						return
					}
				}
				n += int64(len(r.Key)+len(r.Value)) + recordOverhead
				r.Recycle() // the batcher copied what it keeps
			}
			w.dequeued(n)
		}
		w.count()
		if b := w.early(); b != nil {
			if !w.cutOpen(ctx, b) {
				return
			}
			continue
		}
		if len(chunks) > 0 {
			continue
		}
		if wait, ok := w.ageLeft(); ok {
			age.Reset(wait)
		}
		select {
		case <-w.notify:
		case <-age.C:
		case <-w.quit:
			return
		case <-ctx.Done():
			return
		}
		age.Stop()
	}
}

// dequeued gives back the queue's memory of n bytes of records taken, and
// wakes the poll loop when that may let fetching resume.
func (w *part) dequeued(n int64) {
	w.mu.Lock()
	w.queued -= n
	w.mu.Unlock()
	half := int64(w.s.cfg.FetchMaxBytes)
	if after := w.s.queued.Add(-n); after <= half && after+n > half {
		w.s.wakeLoop()
	}
}

// count adds the batcher's new counts to the sink's.
func (w *part) count() {
	w.s.consumed.Add(int64(w.bt.consumed - w.counted.consumed))
	w.s.invalid.Add(int64(w.bt.invalid - w.counted.invalid))
	w.counted.consumed, w.counted.invalid = w.bt.consumed, w.bt.invalid
}

// early returns the open batch when it must be cut before its policy says
// so: the memory cap asked for it, the partition reached its drain target,
// or the batch is older than MaxAge.
func (w *part) early() *batch {
	b := w.bt.open
	if b == nil || b.empty() {
		w.cutEarly.Store(false)
		return nil
	}
	switch {
	case w.cutEarly.Swap(false):
		w.s.cappedFlushes.Add(1)
	case w.drained(b):
	case w.s.cfg.Policy.MaxAge > 0 && time.Since(b.opened) >= w.s.cfg.Policy.MaxAge:
		w.s.agedFlushes.Add(1)
	default:
		return nil
	}
	return w.bt.take()
}

func (w *part) drained(b *batch) bool {
	target, ok := w.s.drainTarget(w.partition)
	return ok && b.next >= target
}

// ageLeft is how long until the open batch reaches MaxAge.
func (w *part) ageLeft() (time.Duration, bool) {
	b := w.bt.open
	if w.s.cfg.Policy.MaxAge <= 0 || b == nil || b.empty() {
		return 0, false
	}
	return max(time.Until(b.opened.Add(w.s.cfg.Policy.MaxAge)), 0), true
}

// cutOpen submits b, just taken from the batcher: its memory moves from
// open to in flight.
func (w *part) cutOpen(ctx context.Context, b *batch) bool {
	w.s.inflight.Add(int64(b.mem))
	w.s.hold(-int64(b.mem))
	w.openMem.Store(0)
	return w.submit(ctx, b)
}

// admit waits, before the next record, while the batches hold more than
// MaxBuffered: it asks the largest open batches to be cut (its own among
// them, perhaps) and waits for uploads to give memory back. Near the cap
// (past 7/8 of it) partitions take records one at a time: admit then
// returns locked, and the caller unlocks admitMu once the record's memory
// is counted, so that parallel partitions cannot all pass the check
// before any of them grows. ok false: stop.
func (w *part) admit(ctx context.Context) (locked, ok bool) {
	for {
		freed := w.s.memoryFreed()
		if !w.s.over() {
			if !w.s.near() {
				return false, true
			}
			w.s.admitMu.Lock()
			if !w.s.over() {
				return true, true
			}
			w.s.admitMu.Unlock()
		}
		w.s.relieve()
		if b := w.early(); b != nil {
			if !w.cutOpen(ctx, b) {
				return false, false
			}
			continue
		}
		select {
		case <-freed:
		case <-w.notify:
			w.poke() // keep the signal for the loop: records may have come too
		case <-w.quit:
			return false, false
		case <-ctx.Done():
			return false, false
		}
	}
}

// submit records the cut batch in the ledger and queues its uploads: one
// per object and one for its errors object. False: the partition is no
// longer this member's, or the sink is stopping; what was not queued is
// abandoned, uncommitted.
func (w *part) submit(ctx context.Context, b *batch) bool {
	jobs := make([]job, 0, len(b.order)+1)
	for _, dir := range b.order {
		jobs = append(jobs, job{b: b, o: b.objects[dir]})
	}
	if len(b.rejects) > 0 {
		jobs = append(jobs, job{b: b})
	}
	if !w.s.ledger.cut(w.ledger, b, len(jobs)) {
		w.s.freed(int64(b.mem))
		return false
	}
	for i, j := range jobs {
		select {
		case w.s.jobs <- j:
			continue
		case <-w.quit:
		case <-ctx.Done():
		}
		if _, done := w.s.ledger.finish(b, len(jobs)-i, nil, errAbandoned); done {
			w.s.ledger.advance(b)
			w.s.freed(int64(b.mem))
		}
		return false
	}
	return true
}

// discard gives back the memory of what the goroutine held when it ended.
func (w *part) discard() {
	w.s.hold(-int64(w.bt.mem()))
	w.openMem.Store(0)
	w.bt.open = nil
	w.mu.Lock()
	n := w.queued
	w.queue, w.queued = nil, 0
	w.mu.Unlock()
	w.s.queued.Add(-n)
	w.count()
}
