package gen

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/tick"
	"github.com/tickbench/tickbench/tick/wire"
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
	// Shard is this process's share of a run split over several
	// processes (--shard i/N); the zero value is the whole run.
	Shard Shard
	// Start is the instant the pacer's schedule starts from: processes
	// that share a run share it. The zero value means when Run is called;
	// Run waits for a Start in the future.
	Start time.Time
	// Now is the clock; nil means time.Now. Tests inject their own.
	Now func() time.Time
	// Stop, when closed, ends pacing early; ticks already handed over are
	// still delivered. Canceling Run's ctx instead abandons them.
	Stop <-chan struct{}
	// Wire is the format of the record values; the zero value is JSON.
	// For Avro and Protobuf, Run first registers the tick schema under
	// Topic's subject (<topic>-value) in Wire.Registry, and fails if it
	// cannot.
	Wire wire.Config

	enc *wire.Encoder // Wire's, set by Run

	counts        atomic.Pointer[[]workerCount] // sent per worker, set by Run
	acked, failed atomic.Uint64
	errOnce       sync.Once
	slabs         sync.Pool // *slab: records and values, reused once acknowledged
	firstErr      error
}

// workerCount is one worker's sent count, on a cache line of its own so
// workers do not contend for it.
type workerCount struct {
	n atomic.Uint64
	_ [56]byte
}

// MaxShards bounds Shard.Count.
const MaxShards = 1024

// Shard is one process's share of a run: the ticks n with n mod Count ==
// Index. Interleaved rather than in contiguous blocks, because a tick's
// intended time follows its number: blocks would have shard i send only
// during the i-th part of the run, at the full rate, while the others
// wait, so the load would not be split at all. Interleaved, every shard
// sends 1/Count of the rate for the whole run.
type Shard struct {
	Index, Count int
}

// count is the number of shards, 1 for the zero value.
func (s Shard) count() int { return max(s.Count, 1) }

// String is the flag's form, i/N.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.count()) }

// Validate names a bad shard and the allowed range.
func (s Shard) Validate() error {
	if s.Count < 0 || s.Count > MaxShards || s.Index < 0 || s.Index >= s.count() {
		return fmt.Errorf("shard %d/%d: allowed i/N with 1 <= N <= %d and 0 <= i < N", s.Index, s.Count, MaxShards)
	}
	return nil
}

// ParseShard reads i/N.
func ParseShard(v string) (Shard, error) {
	var s Shard
	i, n, ok := strings.Cut(v, "/")
	var err1, err2 error
	s.Index, err1 = strconv.Atoi(i)
	s.Count, err2 = strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: not i/N (e.g. 0/3: the first of 3 shards)", v)
	}
	if s.Count == 0 {
		return Shard{}, fmt.Errorf("shard %q: allowed i/N with 1 <= N <= %d and 0 <= i < N", v, MaxShards)
	}
	if err := s.Validate(); err != nil {
		return Shard{}, err
	}
	return s, nil
}

// WorkerCount is how many workers Run uses: Workers, or the automatic
// choice when it is 0 (by this shard's share of the peak rate).
func (p *Producer) WorkerCount() int {
	switch {
	case p.Workers > 0:
		return p.Workers
	case p.Pacer.Peak() > 0 && p.Pacer.Peak()/float64(p.Shard.count()) <= OneWorkerRate:
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
	if err := p.Shard.Validate(); err != nil {
		return Result{}, err
	}
	var err error
	if p.enc, err = wire.NewEncoder(ctx, p.Wire, p.Topic); err != nil {
		return Result{}, fmt.Errorf("producer: %w", err)
	}
	now := p.Now
	if now == nil {
		now = time.Now
	}
	start := p.Start
	if start.IsZero() {
		start = now()
	}
	since := elapsedSince(start, p.Now)
	startNS := start.UnixNano()
	counts := make([]workerCount, k)
	p.counts.Store(&counts)
	promise := func(r *kgo.Record, err error) {
		at := startNS + int64(since())
		if err != nil {
			p.failed.Add(1)
			p.errOnce.Do(func() { p.firstErr = fmt.Errorf("produce to %s: %w", r.Topic, err) })
		} else {
			p.acked.Add(1)
		}
		if p.Hooks.Acked != nil {
			p.Hooks.Acked(r.Timestamp.UnixNano(), at, err)
		}
		// The record is not touched after this.
		if sl, ok := r.Context.(*slab); ok {
			sl.release(&p.slabs)
		}
	}

	done := make([]workerDone, k)
	var wg sync.WaitGroup
	// Every clone is taken before any worker starts: a Source is not safe
	// to read while its first worker uses it.
	srcs := []Source{p.Source}
	for range k - 1 {
		srcs = append(srcs, p.Source.Clone())
	}
	for i, src := range srcs {
		// Worker i of shard s/N owns the ticks n = s + N*(i + k*j).
		n := p.Shard.count()
		w := &worker{p: p, first: uint64(p.Shard.Index + n*i), stride: uint64(n * k), id: i, since: since, start: start, src: src, promise: promise, sent: &counts[i].n}
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

// elapsedSince returns a clock of the time since start. With now nil it
// reads only the monotonic clock (time.Now reads the wall clock too, and
// the producer reads the time twice per tick), from an anchor taken now:
// a start without a monotonic reading (a shared start parsed from a flag)
// is placed by the wall clock once, and a wall-clock step during the run
// moves nothing.
func elapsedSince(start time.Time, now func() time.Time) func() time.Duration {
	if now != nil {
		return func() time.Duration { return now().Sub(start) }
	}
	anchor := time.Now()
	offset := anchor.Sub(start)
	return func() time.Duration { return offset + time.Since(anchor) }
}

// worker generates and hands over the ticks n = first, first+stride, ...
type worker struct {
	p       *Producer
	id      int
	first   uint64
	stride  uint64
	since   func() time.Duration // from start
	start   time.Time
	src     Source
	promise func(*kgo.Record, error)
	sent    *atomic.Uint64

	slab *slab // records and values are carved from it
}

type workerDone struct {
	lastSent    time.Duration // from the start, of this worker's last hand-over
	bytes       int64         // record values handed over
	interrupted bool
}

// minSleep is the shortest sleep of a worker ahead of its schedule. At
// 200,000/s a tick is due every 5 µs, and waking for each (in practice
// every ~100 µs, ~8,000 times a second) cost a tenth of the run's CPU in
// timers and scheduling; waking at most 1,000 times a second costs a few
// hundred µs of publish delay, which the publish-delay histogram shows.
// Kafka's own perf tool sleeps at least 2 ms for the same reason.
const minSleep = time.Millisecond

func (w *worker) run(ctx context.Context) workerDone {
	p := w.p
	startNS := w.start.UnixNano()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var tk tick.Tick
	var d workerDone
	// A shared start in the future is waited for here, so every pacer,
	// Unlimited too, sees elapsed >= 0.
	last := w.since()
	if last < 0 {
		timer.Reset(-last)
		select {
		case <-ctx.Done():
			d.interrupted = true
			return d
		case <-p.Stop:
			d.interrupted = true
			return d
		case <-timer.C:
		}
		last = 0
	}
	for n := w.first; ; n += w.stride {
		// The clock's last reading, at the previous hand-over, saves a read
		// per tick (reading it is ~10% of the producer's CPU here): a tick
		// overdue then is overdue now, and one that is not is waited for
		// and the clock read again.
		elapsed := last
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
			// Sleep at least minSleep: ticks due meanwhile go out together
			// on waking, each with its own intended time.
			timer.Reset(max(wait, minSleep))
			select {
			case <-ctx.Done():
				d.interrupted = true
				return d
			case <-p.Stop:
				d.interrupted = true
				return d
			case <-timer.C:
			}
			elapsed = w.since()
		}
		// Pace's wait is from elapsed to the tick's intended time, so the
		// schedule is solved once per tick (a sine's takes a few Newton
		// steps).
		intended := startNS + int64(elapsed+wait)
		w.src.Next(n, intended, &tk)
		rec := w.record(&tk, intended)
		d.bytes += int64(len(rec.Value))
		p.Client.Produce(ctx, rec, w.promise)
		handed := w.since()
		if p.Hooks.Sent != nil {
			p.Hooks.Sent(w.id, intended, startNS+int64(handed))
		}
		d.lastSent = handed
		last = d.lastSent
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
// worker's slab.
func (w *worker) record(tk *tick.Tick, intended int64) *kgo.Record {
	s := w.slab
	if s == nil || s.used == len(s.recs) || cap(s.buf)-len(s.buf) < maxValue {
		if s != nil {
			s.release(&w.p.slabs)
		}
		s = newSlab(&w.p.slabs)
		w.slab = s
	}
	at := len(s.buf)
	s.buf = w.p.enc.Append(s.buf, tk)
	rec := &s.recs[s.used]
	s.used++
	s.pending.Add(1)
	*rec = kgo.Record{
		Topic: w.p.Topic,
		// The key shares the symbol's bytes: franz-go only reads a key,
		// and a string's bytes never change (a map from symbol to key
		// cost ~1% of the run's CPU).
		Key:   unsafe.Slice(unsafe.StringData(tk.Symbol), len(tk.Symbol)),
		Value: s.buf[at:len(s.buf):len(s.buf)],
		// The Kafka timestamp is the event time, so Kafka-side tools see
		// the same clock as the lake.
		Timestamp: time.Unix(0, intended),
		// The promise finds the slab here; franz-go keeps a record's own
		// context and, as Background is never done, never fails it early.
		Context: s,
	}
	return rec
}

// maxValue bounds a tick's record value (JSON is the longest): a slab with
// less room left is retired.
const maxValue = 512

// slab holds the records and JSON values of up to 256 ticks. Slabs are
// reused: once a retired slab's last record is acknowledged (franz-go is
// done with a record when its promise returns) it goes back to the pool,
// so a paced run allocates almost nothing per tick (it used to allocate
// ~300 B per tick, a fifth of the whole process's garbage).
type slab struct {
	context.Context // Background; the records' context, so the promise finds the slab
	recs            [256]kgo.Record
	buf             []byte
	used            int          // records carved
	pending         atomic.Int32 // records not yet acknowledged, plus one until retired
}

func newSlab(pool *sync.Pool) *slab {
	s, ok := pool.Get().(*slab)
	if !ok {
		s = &slab{Context: context.Background(), buf: make([]byte, 0, 64<<10)}
	}
	s.buf, s.used = s.buf[:0], 0
	s.pending.Store(1)
	return s
}

// release drops one reference: a record acknowledged, or the worker's when
// it retires the slab. The last one puts the slab back.
func (s *slab) release(pool *sync.Pool) {
	if s.pending.Add(-1) == 0 {
		pool.Put(s)
	}
}
