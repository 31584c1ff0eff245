// Package sink owns the way from Kafka to S3: a franz-go consumer group,
// one batcher per assigned partition, encoders, object keys and layout, the
// upload, and the offset commit that follows a successful upload.
package sink

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tickbench/tickbench/tick"
)

// Config is one sink's setup. Start from DefaultConfig.
type Config struct {
	Brokers []string
	Topic   string
	// Group is the consumer group; sinks sharing it share the partitions.
	Group string
	// Prefix is prepended to every key, e.g. "runs/<run id>/jsonl/".
	Prefix string
	Format Format
	Layout Layout
	// Policy cuts batches. Default: 10000 records, 64 MiB, 60 s event time.
	Policy Policy
	// Uploaders is how many objects may be in flight at once. Default 8.
	Uploaders int
	// MaxBuffered caps the memory held by batches: the open ones and those
	// cut but not yet uploaded, each counted as its encoders' buffers at
	// their capacity (Encoder.Footprint), rows not yet encoded, and the
	// intended times kept for latency. Once a record takes the total past
	// it, the sink takes no further record until it has uploaded the batches
	// already cut and, early, the largest open ones, until those left open
	// hold at most 7/8 of the cap. An early flush makes the run
	// at-least-once (it is counted). Not counted: the fetched records of one
	// poll (about FetchMaxBytes per broker, decoded), the spare encoders'
	// compressor state and Go's garbage. Default 1 GiB.
	MaxBuffered int
	// FetchMaxBytes bounds one fetch response, and so the consumer's
	// memory. Default 4 MiB.
	FetchMaxBytes int32
	// SessionTimeout is how long the group waits for a silent member (one
	// that crashed) before giving its partitions to others. Default 45 s,
	// Kafka's; brokers allow 6 s and up by default.
	SessionTimeout time.Duration
	// ClientOpts are extra franz-go options (TLS, SASL, logging).
	ClientOpts []kgo.Opt
}

// DefaultConfig returns the documented defaults; Brokers, Topic, Group and
// Prefix are left for the caller.
func DefaultConfig() Config {
	return Config{
		Format:         JSONL{},
		Layout:         LayoutHourly,
		Policy:         Policy{Records: 10_000, Bytes: 64 << 20, Interval: time.Minute},
		Uploaders:      8,
		FetchMaxBytes:  4 << 20,
		MaxBuffered:    1 << 30,
		SessionTimeout: 45 * time.Second,
	}
}

// Limits of the flush policy, shared with flag validation.
const (
	MaxFlushRecords = 10_000_000
	MaxFlushBytes   = 5 << 30 // S3's single-PUT limit
)

// Validate names the first bad field, its value and the allowed range.
func (c Config) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("brokers: none given")
	case c.Topic == "":
		return errors.New("topic: empty")
	case c.Group == "":
		return errors.New("group: empty")
	case c.Format == nil:
		return errors.New("format: none given")
	case !slices.Contains(Layouts, c.Layout):
		return fmt.Errorf("layout %q: allowed none, dt-hour, dt-symbol", c.Layout)
	case c.Policy.Records < 1 || c.Policy.Records > MaxFlushRecords:
		return fmt.Errorf("flush-records %d: allowed 1..%d", c.Policy.Records, MaxFlushRecords)
	case c.Policy.Bytes < 1024 || c.Policy.Bytes > MaxFlushBytes:
		return fmt.Errorf("flush-bytes %d: allowed 1024..%d", c.Policy.Bytes, MaxFlushBytes)
	case c.Policy.Interval < time.Millisecond || c.Policy.Interval > time.Hour:
		return fmt.Errorf("flush-interval %v: allowed 1ms..1h of event time", c.Policy.Interval)
	case c.Policy.MaxAge < 0 || c.Policy.MaxAge > time.Hour:
		return fmt.Errorf("max-age %v: allowed 0 (off)..1h", c.Policy.MaxAge)
	case c.MaxBuffered < 1<<20:
		return fmt.Errorf("max-buffered %d: allowed >= 1048576 bytes", c.MaxBuffered)
	case c.Uploaders < 1 || c.Uploaders > 256:
		return fmt.Errorf("uploaders %d: allowed 1..256", c.Uploaders)
	case c.SessionTimeout < time.Second || c.SessionTimeout > time.Hour:
		return fmt.Errorf("session-timeout %v: allowed 1s..1h (brokers often require 6s..30m)", c.SessionTimeout)
	case c.FetchMaxBytes < 64<<10 || c.FetchMaxBytes > 256<<20:
		return fmt.Errorf("fetch-max-bytes %d: allowed 65536..268435456", c.FetchMaxBytes)
	}
	return nil
}

// Landed describes one object acknowledged by the store.
type Landed struct {
	Key         string
	Partition   int32
	StartOffset int64
	Ticks       int
	Bytes       int
	Requests    int // PUT/POST requests it took (parts of a multipart upload)
	Acked       time.Time
	// Intended holds each tick's intended time (ns); it is only valid
	// during the Observer call.
	Intended []int64
	Upload   time.Duration
}

// Observer hears about every landed object, from the sink's own goroutine
// (one call at a time), so it may record into an unlocked histogram.
type Observer func(Landed)

// Sink consumes a topic in a group and lands it in a Store.
type Sink struct {
	cfg      Config
	store    Store
	observer Observer

	mu      sync.Mutex
	batches map[int32]*batch
	// spare holds finished encoders for reuse: their buffers are already
	// sized for a batch and their compressors allocated.
	spareMu sync.Mutex
	spare   []Encoder
	drain   map[int32]int64 // set by Drain: flush a partition once it reaches its target
	// open is the memory of the batches in batches; inflight that of the
	// batches taken from it and not yet uploaded (see MaxBuffered).
	open, inflight int
	peak           atomic.Int64

	consumed, invalid, objects, bytes atomic.Int64
	existed, overwritten, requests    atomic.Int64
	agedFlushes, cappedFlushes        atomic.Int64
	commitErrors                      atomic.Int64
	rejected, errorObjects            atomic.Int64
}

// New validates cfg.
func New(cfg Config, store Store, observer Observer) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if observer == nil {
		observer = func(Landed) {}
	}
	return &Sink{cfg: cfg, store: store, observer: observer, batches: map[int32]*batch{}}, nil
}

// Stats are the sink's counters so far; safe to read at any time.
type Stats struct {
	Consumed, Invalid, Objects, Bytes, CommitErrors int64
	// Requests counts the PUT/POST requests of landed objects.
	Requests int64
	// Existed counts uploads whose key already held the same bytes
	// (If-None-Match answered 412, ETag equal): replays after a crash or a
	// lost commit. Overwritten counts keys that held other bytes (cut by
	// an early flush before a crash) and were replaced.
	Existed, Overwritten int64
	// AgedFlushes and CappedFlushes count batches cut early by MaxAge and
	// by MaxBuffered: any makes the run at-least-once.
	AgedFlushes, CappedFlushes int64
	// Rejected counts the records that are not ticks (Invalid) that landed
	// in ErrorObjects under the prefix's errors/ (replays count again).
	Rejected, ErrorObjects int64
	// PeakBuffered is the most memory the batches held at once, as
	// MaxBuffered counts it.
	PeakBuffered int64
}

// Stats returns the counters so far.
func (s *Sink) Stats() Stats {
	return Stats{Consumed: s.consumed.Load(), Invalid: s.invalid.Load(), Objects: s.objects.Load(),
		Bytes: s.bytes.Load(), Requests: s.requests.Load(), CommitErrors: s.commitErrors.Load(), Existed: s.existed.Load(),
		Overwritten: s.overwritten.Load(), AgedFlushes: s.agedFlushes.Load(), CappedFlushes: s.cappedFlushes.Load(),
		Rejected: s.rejected.Load(), ErrorObjects: s.errorObjects.Load(), PeakBuffered: s.peak.Load()}
}

// Drain tells the sink where the input ends: once a partition's position
// reaches its target offset, its open batch is flushed at once instead of
// waiting for more records. Run keeps going until ctx ends.
func (s *Sink) Drain(targets map[int32]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drain = targets
}

// Run consumes until ctx ends or an upload fails for good. Batches not yet
// uploaded when it returns are not committed: whoever owns the partition
// next replays them into the same keys.
func (s *Sink) Run(ctx context.Context) error {
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(s.cfg.Brokers...),
		kgo.ConsumerGroup(s.cfg.Group),
		kgo.ConsumeTopics(s.cfg.Topic),
		kgo.DisableAutoCommit(),
		// Rebalances wait until a poll's uploads are committed, so a
		// commit never crosses an ownership change.
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsRevoked(s.forget),
		kgo.OnPartitionsLost(s.forget),
		kgo.FetchMaxBytes(s.cfg.FetchMaxBytes),
		kgo.FetchMaxPartitionBytes(min(s.cfg.FetchMaxBytes, 1<<20)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(s.cfg.SessionTimeout),
		kgo.HeartbeatInterval(min(3*time.Second, s.cfg.SessionTimeout/3)),
	}, s.cfg.ClientOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("sink consumer: %w", err)
	}
	defer cl.Close()

	for {
		pollCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fetches := cl.PollRecords(pollCtx, 50_000)
		cancel()
		if ctx.Err() != nil {
			cl.AllowRebalance()
			return nil
		}
		var fetchErr error
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				fetchErr = errors.Join(fetchErr, fmt.Errorf("fetch %s[%d]: %w", topic, p, err))
			}
		})
		if fetchErr != nil && errors.Is(fetchErr, kgo.ErrClientClosed) {
			return fetchErr
		}
		ready, err := s.land(ctx, cl, fetches)
		if err == nil {
			ready = append(ready, s.drained()...)
			ready = append(ready, s.early(time.Now())...)
			err = s.flush(ctx, cl, ready)
		}
		cl.AllowRebalance()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// land batches every fetched record and returns the batches that are full.
// Whenever a record takes the batches' memory past MaxBuffered, it uploads
// what is ready (and, early, the largest open batches) before it takes the
// next record: back-pressure rather than growth.
func (s *Sink) land(ctx context.Context, cl *kgo.Client, fetches kgo.Fetches) ([]*batch, error) {
	var ready []*batch
	for it := fetches.RecordIter(); !it.Done(); {
		r := it.Next()
		s.mu.Lock()
		ready = s.addRecord(r, ready)
		over := s.open+s.inflight > s.cfg.MaxBuffered
		if over {
			ready = append(ready, s.relieve()...)
		}
		s.mu.Unlock()
		if over {
			if err := s.flush(ctx, cl, ready); err != nil {
				return nil, err
			}
			ready = nil
		}
	}
	return ready, nil
}

// relieve cuts the largest open batches (ties: the lowest partition) until
// the open ones hold at most 7/8 of MaxBuffered, so that the next records
// do not cut again at once. Call it with s.mu held.
func (s *Sink) relieve() []*batch {
	var cut []*batch
	for s.open > s.cfg.MaxBuffered-s.cfg.MaxBuffered/8 {
		var largest *batch
		for _, b := range s.batches {
			if largest == nil || b.mem > largest.mem || (b.mem == largest.mem && b.partition < largest.partition) {
				largest = b
			}
		}
		if largest == nil || largest.mem == 0 {
			break
		}
		cut = append(cut, s.take(largest.partition))
		s.cappedFlushes.Add(1)
	}
	return cut
}

// take removes a partition's open batch for upload; its memory counts as
// in flight until flush is done with it. Call it with s.mu held.
func (s *Sink) take(p int32) *batch {
	b := s.batches[p]
	delete(s.batches, p)
	s.open -= b.mem
	s.inflight += b.mem
	return b
}

// addRecord puts one record into its partition's batch, appending to ready
// any batch it completes. Boundaries depend on the records alone.
func (s *Sink) addRecord(r *kgo.Record, ready []*batch) []*batch {
	s.consumed.Add(1)
	b := s.batches[r.Partition]
	if b == nil {
		b = newBatch(r.Partition, r.Offset)
		s.batches[r.Partition] = b
	}
	var t tick.Tick
	if err := tick.DecodeJSON(r.Value, &t); err != nil {
		s.invalid.Add(1)
		s.grow(b, func() { b.skip(r, err) })
		return ready
	}
	if !b.fits(s.cfg.Policy, s.cfg.Layout, &t) {
		ready = append(ready, s.take(r.Partition))
		b = newBatch(r.Partition, r.Offset)
		s.batches[r.Partition] = b
	}
	var err error
	s.grow(b, func() { err = b.add(s.encoder, s.cfg.Layout, &t, r.Offset, r.LeaderEpoch) })
	if err != nil {
		// Encoders fail only on ticks they cannot represent; count it like
		// an invalid record rather than stop the pipeline.
		s.invalid.Add(1)
		s.grow(b, func() { b.skip(r, fmt.Errorf("encode as %s: %w", s.cfg.Format.Name(), err)) })
		return ready
	}
	if b.full(s.cfg.Policy) {
		ready = append(ready, s.take(r.Partition))
	}
	return ready
}

// grow runs a change to the open batch b and counts what it adds to the
// batches' memory. Call it with s.mu held.
func (s *Sink) grow(b *batch, change func()) {
	before := b.mem
	change()
	s.open += b.mem - before
	if held := int64(s.open + s.inflight); held > s.peak.Load() {
		s.peak.Store(held)
	}
}

// encoder returns a spare encoder or a new one.
func (s *Sink) encoder() Encoder {
	s.spareMu.Lock()
	defer s.spareMu.Unlock()
	if n := len(s.spare); n > 0 {
		e := s.spare[n-1]
		s.spare = s.spare[:n-1]
		return e
	}
	return s.cfg.Format.NewEncoder()
}

// release keeps a finished (reset) encoder for the next batch.
func (s *Sink) release(e Encoder) {
	s.spareMu.Lock()
	defer s.spareMu.Unlock()
	// As many as can be in flight: more would only hold memory.
	if len(s.spare) < s.cfg.Uploaders {
		s.spare = append(s.spare, e)
	}
}

// drained returns the open batches of partitions that reached their drain
// target: there is nothing more to wait for.
func (s *Sink) drained() []*batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ready []*batch
	for p, b := range s.batches {
		if target, ok := s.drain[p]; ok && !b.empty() && b.next >= target {
			ready = append(ready, s.take(p))
		}
	}
	return ready
}

// early returns the batches older than MaxAge: flushed before their policy
// says so (MaxBuffered's early flushes are land's).
func (s *Sink) early(now time.Time) []*batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ready []*batch
	if s.cfg.Policy.MaxAge <= 0 {
		return nil
	}
	for p, b := range s.batches {
		if !b.empty() && now.Sub(b.opened) >= s.cfg.Policy.MaxAge {
			ready = append(ready, s.take(p))
			s.agedFlushes.Add(1)
		}
	}
	return ready
}

// forget drops the open batches of partitions this member no longer owns;
// they were never committed, so the next owner replays them.
func (s *Sink) forget(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range lost[s.cfg.Topic] {
		if b := s.batches[p]; b != nil {
			s.open -= b.mem
			delete(s.batches, p)
		}
	}
}

// flush uploads the objects of ready batches (up to Uploaders at once),
// then commits, per partition, the offset after the last batch that landed
// whole with every earlier one.
func (s *Sink) flush(ctx context.Context, cl *kgo.Client, ready []*batch) error {
	if len(ready) == 0 {
		return nil
	}
	// Whatever happens to them, these batches hold no memory once done.
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, b := range ready {
			s.inflight -= b.mem
		}
	}()
	type job struct {
		b   *batch
		o   *object // nil: the batch's errors object
		res Landed
		err error
	}
	var jobs []*job
	for _, b := range ready {
		for _, dir := range b.order {
			jobs = append(jobs, &job{b: b, o: b.objects[dir]})
		}
		if len(b.rejects) > 0 {
			jobs = append(jobs, &job{b: b})
		}
	}
	// Rebalances wait for this flush (BlockRebalanceOnPoll): retrying an
	// upload past the session timeout would hold the whole group, so the
	// flush gives up then and its batches stay uncommitted for a replay.
	upCtx, cancel := context.WithTimeout(ctx, s.cfg.SessionTimeout)
	defer cancel()
	sem := make(chan struct{}, s.cfg.Uploaders)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if j.o != nil {
				j.res, j.err = s.upload(upCtx, j.b, j.o)
			} else {
				j.res, j.err = s.uploadRejects(upCtx, j.b)
			}
			if j.err != nil && ctx.Err() == nil && upCtx.Err() != nil {
				j.err = fmt.Errorf("gave up after the session timeout (%v): %w", s.cfg.SessionTimeout, j.err)
			}
		}()
	}
	wg.Wait()

	failed := map[*batch]error{}
	for _, j := range jobs {
		if j.err != nil && failed[j.b] == nil {
			failed[j.b] = j.err
		}
	}
	commit := map[int32]kgo.EpochOffset{}
	blocked := map[int32]bool{}
	landed := map[*batch]bool{}
	var firstErr error
	for _, b := range ready {
		if err := failed[b]; err != nil || blocked[b.partition] {
			blocked[b.partition] = true
			firstErr = cmpErr(firstErr, err)
			continue
		}
		landed[b] = true
		commit[b.partition] = kgo.EpochOffset{Epoch: b.epoch, Offset: b.next}
	}
	for _, j := range jobs {
		if !landed[j.b] {
			continue
		}
		s.requests.Add(int64(j.res.Requests))
		if j.o == nil {
			s.rejected.Add(int64(j.b.invalid))
			s.errorObjects.Add(1)
			continue
		}
		// Counted before the observer hears of it, so that a reader of
		// Stats never sees ticks landed in an object not yet counted.
		s.objects.Add(1)
		s.bytes.Add(int64(j.res.Bytes))
		j.res.Intended = j.o.intended
		s.observer(j.res)
	}
	if len(commit) > 0 {
		cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{s.cfg.Topic: commit},
			func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
				if err == nil {
					err = commitRespErr(resp)
				}
				if err != nil {
					// The objects are in S3; a replay rewrites the same keys.
					s.commitErrors.Add(1)
				}
			})
	}
	return firstErr
}

func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

func commitRespErr(resp *kmsg.OffsetCommitResponse) error {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return fmt.Errorf("commit %s[%d]: error code %d", t.Topic, p.Partition, p.ErrorCode)
			}
		}
	}
	return nil
}

func (s *Sink) upload(ctx context.Context, b *batch, o *object) (Landed, error) {
	body, err := o.enc.Finish()
	s.release(o.enc) // Finish left it reset; body is ours
	if err != nil {
		return Landed{}, fmt.Errorf("encode %s[%d]@%d: %w", s.cfg.Topic, b.partition, o.start, err)
	}
	key := ObjectKey(s.cfg.Prefix, o.dir, s.cfg.Topic, b.partition, o.start, s.cfg.Format.Ext())
	began := time.Now()
	requests, err := s.put(ctx, key, body, s.cfg.Format.ContentType())
	if err != nil {
		return Landed{}, err
	}
	acked := time.Now()
	return Landed{
		Key: key, Partition: b.partition, StartOffset: o.start, Ticks: o.count,
		Bytes: len(body), Requests: requests, Acked: acked, Upload: acked.Sub(began),
	}, nil
}

// uploadRejects lands the batch's records that are not ticks under
// errors/, keyed by the batch's first offset like a data object, so a
// replay rewrites the same key with the same bytes.
func (s *Sink) uploadRejects(ctx context.Context, b *batch) (Landed, error) {
	key := ErrorKey(s.cfg.Prefix, s.cfg.Topic, b.partition, b.start)
	requests, err := s.put(ctx, key, b.rejects, "application/x-ndjson")
	if err != nil {
		return Landed{}, err
	}
	return Landed{Key: key, Partition: b.partition, StartOffset: b.start, Bytes: len(b.rejects), Requests: requests}, nil
}

// put writes body under key once. Deterministic boundaries mean an
// existing key normally holds exactly these bytes, written by an attempt
// that crashed before its commit: keep it. Only an early (wall-clock or
// memory) cut before a crash leaves other bytes there; those are replaced.
func (s *Sink) put(ctx context.Context, key string, body []byte, contentType string) (int, error) {
	requests, err := s.store.Put(ctx, key, body, contentType, true)
	switch {
	case errors.Is(err, ErrExists):
		same, err := s.store.Same(ctx, key, body)
		if err != nil {
			return requests, err
		}
		if same {
			s.existed.Add(1)
			return requests, nil
		}
		n, err := s.store.Put(ctx, key, body, contentType, false)
		requests += n
		if err != nil {
			return requests, err
		}
		s.overwritten.Add(1)
	case err != nil:
		return requests, err
	}
	return requests, nil
}
