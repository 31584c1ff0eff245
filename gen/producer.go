package gen

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/tick"
)

// Hooks receive each tick's timings. Sent is called by the worker that
// handed the tick over, with the worker's index (0..workers-1), so a hook
// keeps one histogram per worker without locking (hdrhistogram is not
// safe for concurrent use) and merges them at the end. Acked is called from
// franz-go's promise goroutine, serially. Times are ns since the epoch.
type Hooks struct {
	Sent  func(worker int, intended, handed int64)
	Acked func(intended, acked int64, err error)
}

// OneWorkerRate is the highest peak rate for which an automatic Producer
// uses a single worker: about a quarter of what one worker sent with
// `tickbench produce --rate max --gen-workers 1` to a kfake broker on the
// same 2-core machine (0.8-1.3M ticks/s, docs/generator.md), so below it
// one worker is clearly not the limit.
const OneWorkerRate = 300_000

// MaxWorkers bounds Producer.Workers.
const MaxWorkers = 1024

// Producer sends the model's ticks to a topic at the pacer's intended times.
type Producer struct {
	Client *kgo.Client // shared by the workers
	Topic  string
	Pacer  Pacer
	Source Source // the synthetic Model, or a CSV replay
	Hooks  Hooks
	// Workers is how many goroutines generate and hand over ticks: worker
	// i owns the ticks n with n mod Workers == i, each at its own intended
	// time, so the stream and its schedule do not depend on it. 0 (the
	// default) chooses: 1 when the pacer's peak is at most OneWorkerRate,
	// GOMAXPROCS above it or when unlimited.
	Workers int
	// Now is the clock; nil means time.Now. Tests inject their own.
	Now func() time.Time
	// Stop, when closed, ends pacing early; ticks already handed over are
	// still delivered. Canceling Run's ctx instead abandons them.
	Stop <-chan struct{}

	counts        atomic.Pointer[[]workerCount] // sent per worker, set by Run
	acked, failed atomic.Uint64
	errOnce       sync.Once
	firstErr      error
}

// workerCount is one worker's sent count, on a cache line of its own so
// workers do not contend for it.
type workerCount struct {
	n atomic.Uint64
	_ [56]byte
}

// WorkerCount is how many workers Run uses: Workers, or the automatic
// choice when it is 0.
func (p *Producer) WorkerCount() int {
	switch {
	case p.Workers > 0:
		return p.Workers
	case p.Pacer.Peak() > 0 && p.Pacer.Peak() <= OneWorkerRate:
		return 1
	default:
		return runtime.GOMAXPROCS(0)
	}
}

// Progress is a snapshot that is safe to read while Run is going.
type Progress struct {
	Sent, Acked, Failed uint64
}

// Progress returns the counts so far.
func (p *Producer) Progress() Progress {
	var sent uint64
	if c := p.counts.Load(); c != nil {
		for i := range *c {
			sent += (*c)[i].n.Load()
		}
	}
	return Progress{Sent: sent, Acked: p.acked.Load(), Failed: p.failed.Load()}
}

// Result is what one producer run did.
type Result struct {
	Start   time.Time // the pacer's zero: tick n is intended at Start + Due(n)
	Workers int
	Sent    uint64
	// PerWorker is what each worker sent: worker i sends ticks i,
	// i+Workers, i+2*Workers, ..., so a run stopped early has sent the
	// first PerWorker[i] of each worker's, not ticks 0..Sent-1.
	PerWorker   []uint64
	Acked       uint64
	Failed      uint64
	Bytes       int64         // record values handed over
	LastSent    time.Duration // when the last tick was handed to the client, from Start
	Achieved    float64       // ticks/s from Start to the last hand-over
	FirstError  error
	Interrupted bool // ctx ended before the pacer did
}

// Run paces, generates and produces until the pacer stops or ctx ends, then
// waits for every outstanding acknowledgement. A run ended by Stop is not
// an error: Result.Interrupted says so and the counts cover what was sent.
// It is open loop: a tick that is overdue is sent at once and keeps its
// intended time, so a slow broker shows up as latency, never as a
// silently lower rate.
func (p *Producer) Run(ctx context.Context) (Result, error) {
	k := p.WorkerCount()
	if k < 1 || k > MaxWorkers {
		return Result{}, fmt.Errorf("producer workers %d: allowed 0 (automatic) or 1..%d", p.Workers, MaxWorkers)
	}
	now := p.Now
	if now == nil {
		now = time.Now
	}
	counts := make([]workerCount, k)
	p.counts.Store(&counts)
	promise := func(r *kgo.Record, err error) {
		at := now().UnixNano()
		if err != nil {
			p.failed.Add(1)
			p.errOnce.Do(func() { p.firstErr = fmt.Errorf("produce to %s: %w", r.Topic, err) })
		} else {
			p.acked.Add(1)
		}
		if p.Hooks.Acked != nil {
			p.Hooks.Acked(r.Timestamp.UnixNano(), at, err)
		}
	}

	start := now()
	done := make([]workerDone, k)
	var wg sync.WaitGroup
	// Every clone is taken before any worker starts: a Source is not safe
	// to read while its first worker uses it.
	srcs := []Source{p.Source}
	for range k - 1 {
		srcs = append(srcs, p.Source.Clone())
	}
	for i, src := range srcs {
		w := &worker{p: p, id: i, stride: uint64(k), now: now, start: start, src: src, promise: promise, sent: &counts[i].n}
		wg.Go(func() { done[i] = w.run(ctx) })
	}
	wg.Wait()
	flushErr := p.Client.Flush(ctx)

	res := Result{Start: start, Workers: k, Acked: p.acked.Load(), Failed: p.failed.Load()}
	for i, d := range done {
		res.PerWorker = append(res.PerWorker, counts[i].n.Load())
		res.Sent += res.PerWorker[i]
		res.Bytes += d.bytes
		res.LastSent = max(res.LastSent, d.lastSent)
		res.Interrupted = res.Interrupted || d.interrupted
	}
	if n := res.Sent; n > 1 && res.LastSent > 0 {
		res.Achieved = float64(n-1) / res.LastSent.Seconds()
	} else {
		res.Achieved = float64(n)
	}
	p.errOnce.Do(func() {})
	res.FirstError = p.firstErr
	switch {
	case flushErr != nil:
		return res, fmt.Errorf("flush producer: %w (%d of %d ticks acknowledged)", flushErr, res.Acked, res.Sent)
	case res.Failed > 0:
		return res, fmt.Errorf("%d of %d ticks failed: %w", res.Failed, res.Sent, res.FirstError)
	}
	return res, nil
}

// worker generates and hands over the ticks n = id, id+stride, ...
type worker struct {
	p       *Producer
	id      int
	stride  uint64
	now     func() time.Time
	start   time.Time
	src     Source
	promise func(*kgo.Record, error)
	sent    *atomic.Uint64

	keys map[string][]byte // symbol -> record key, so keys are not allocated per tick
	recs []kgo.Record      // records are carved from slabs: one allocation per 256
	buf  []byte            // values are appended into slabs of 64 KiB
}

type workerDone struct {
	lastSent    time.Duration // from the start, of this worker's last hand-over
	bytes       int64         // record values handed over
	interrupted bool
}

func (w *worker) run(ctx context.Context) workerDone {
	p := w.p
	startNS := w.start.UnixNano()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	w.keys = map[string][]byte{}
	var tk tick.Tick
	var d workerDone
	for n := uint64(w.id); ; n += w.stride {
		// The clock's last reading, at the previous hand-over, saves a read
		// per tick (reading it is ~10% of the producer's CPU here): a tick
		// overdue then is overdue now, and one that is not is waited for
		// and the clock read again.
		elapsed := d.lastSent
		var wait time.Duration
		for {
			var stop bool
			wait, stop = p.Pacer.Pace(elapsed, n)
			if stop {
				return d
			}
			if wait <= 0 {
				break
			}
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				d.interrupted = true
				return d
			case <-p.Stop:
				d.interrupted = true
				return d
			case <-timer.C:
			}
			elapsed = w.now().Sub(w.start)
		}
		// Pace's wait is from elapsed to the tick's intended time, so the
		// schedule is solved once per tick (a sine's takes a few Newton
		// steps).
		intended := startNS + int64(elapsed+wait)
		w.src.Next(n, intended, &tk)
		rec := w.record(&tk, intended)
		d.bytes += int64(len(rec.Value))
		p.Client.Produce(ctx, rec, w.promise)
		handed := w.now()
		if p.Hooks.Sent != nil {
			p.Hooks.Sent(w.id, intended, handed.UnixNano())
		}
		d.lastSent = handed.Sub(w.start)
		w.sent.Add(1)
		select {
		case <-p.Stop:
			d.interrupted = true
			return d
		default:
		}
		if ctx.Err() != nil {
			d.interrupted = true
			return d
		}
	}
}

// record returns tk as a record keyed by its symbol, carved from the
// worker's slabs (a slab lives until its last record is acknowledged).
func (w *worker) record(tk *tick.Tick, intended int64) *kgo.Record {
	const slabRecords, slabBytes, maxValue = 256, 64 << 10, 512
	if len(w.recs) == 0 {
		w.recs = make([]kgo.Record, slabRecords)
	}
	if cap(w.buf)-len(w.buf) < maxValue {
		w.buf = make([]byte, 0, slabBytes)
	}
	key, ok := w.keys[tk.Symbol]
	if !ok {
		key = []byte(tk.Symbol)
		w.keys[tk.Symbol] = key
	}
	at := len(w.buf)
	w.buf = tick.AppendJSON(w.buf, tk)
	rec := &w.recs[0]
	w.recs = w.recs[1:]
	*rec = kgo.Record{
		Topic: w.p.Topic,
		Key:   key,
		Value: w.buf[at:len(w.buf):len(w.buf)],
		// The Kafka timestamp is the event time, so Kafka-side tools see
		// the same clock as the lake.
		Timestamp: time.Unix(0, intended),
	}
	return rec
}
