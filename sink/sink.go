// Package sink owns the way from Kafka to S3: a franz-go consumer group,
// one batcher per assigned partition, encoders, object keys and layout, the
// upload, and the offset commit that follows a successful upload.
//
// It runs as a pipeline. The poll loop only fetches, hands each partition's
// records to that partition's goroutine, commits and pauses: decoding and
// encoding run in parallel across partitions (batcher), finished batches
// go to a pool of uploaders, and the ledger moves each partition's commit
// past a batch once it and every earlier one landed. When memory or the
// queue of fetched records is full, fetching pauses: a sink that cannot
// keep up falls behind in Kafka instead of failing.
package sink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tickbench/tickbench/tick/wire"
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
	// UploadTimeout is how long one object's upload may go without
	// progress (no body bytes sent, no answer) before it fails for good;
	// the SDK's retries happen inside it. A slow upload that keeps moving
	// is never cut off. Default 30 s.
	UploadTimeout time.Duration
	// MaxBuffered caps the memory held by batches: the open ones and those
	// cut but not yet uploaded, each counted as its encoders' buffers at
	// their capacity (Encoder.Footprint), rows not yet encoded, and the
	// intended times kept for latency. While the total is past it, no
	// partition takes another record: the largest open batches are cut
	// early until those left open hold at most 7/8 of the cap, and the
	// rest waits for uploads to land. An early flush makes the run
	// at-least-once (it is counted). Not counted: fetched records waiting
	// for their partition (fetching pauses past 2 x FetchMaxBytes of them),
	// the spare encoders' compressor state and Go's garbage. Default 1 GiB.
	MaxBuffered int
	// FetchMaxBytes bounds one fetch response, and so the consumer's
	// memory. Default 4 MiB.
	FetchMaxBytes int32
	// SessionTimeout is how long the group waits for a silent member (one
	// that crashed) before giving its partitions to others. Default 45 s,
	// Kafka's; brokers allow 6 s and up by default. It also bounds how long
	// a member that loses partitions in a rebalance waits for their uploads
	// before it lets them go uncommitted.
	SessionTimeout time.Duration
	// ClientOpts are extra franz-go options (TLS, SASL, logging).
	ClientOpts []kgo.Opt
	// Table, if set, is the table landed objects are committed to (see
	// Table): every CommitInterval (default 60 s) or once CommitFiles
	// objects wait (0: off), whichever comes first.
	Table          Table
	CommitInterval time.Duration
	CommitFiles    int
	// Wire is the format of the record values and, unless it is JSON (the
	// default), the Schema Registry whose ids they carry: each id met is
	// looked up once per sink. A value that is not a tick of the format
	// (a bad frame, an unknown id, another schema, a bad payload) goes to
	// errors/ with the reason; a registry that does not answer stops the
	// sink with an error wrapping wire.ErrUnavailable, and the record is
	// replayed by the next run, never set aside.
	Wire wire.Config
}

// DefaultConfig returns the documented defaults; Brokers, Topic, Group and
// Prefix are left for the caller.
func DefaultConfig() Config {
	return Config{
		Format:         JSONL{},
		Layout:         LayoutHourly,
		Policy:         Policy{Records: 10_000, Bytes: 64 << 20, Interval: time.Minute},
		Uploaders:      8,
		UploadTimeout:  30 * time.Second,
		FetchMaxBytes:  4 << 20,
		MaxBuffered:    1 << 30,
		SessionTimeout: 45 * time.Second,
		CommitInterval: DefaultCommitInterval,
		Wire:           wire.DefaultConfig(),
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
	case c.UploadTimeout < time.Second || c.UploadTimeout > time.Hour:
		return fmt.Errorf("upload-timeout %v: allowed 1s..1h without progress", c.UploadTimeout)
	case c.SessionTimeout < time.Second || c.SessionTimeout > time.Hour:
		return fmt.Errorf("session-timeout %v: allowed 1s..1h (brokers often require 6s..30m)", c.SessionTimeout)
	case c.FetchMaxBytes < 64<<10 || c.FetchMaxBytes > 256<<20:
		return fmt.Errorf("fetch-max-bytes %d: allowed 65536..268435456", c.FetchMaxBytes)
	}
	if err := c.Wire.Validate(); err != nil {
		return err
	}
	return c.validateCommit()
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
	// Stats are the Parquet object's column statistics, for a Table's
	// manifests (nil without a Table or for other formats).
	Stats *FileStats
	// Intended holds each tick's intended time (ns); it is only valid
	// during the Observer call.
	Intended []int64
	Upload   time.Duration
}

// Observer hears about every landed object, one call at a time (the sink
// serializes them), so it may record into an unlocked histogram. It is
// called once every object of a batch landed, before the batch's commit.
type Observer func(Landed)

// Sink consumes a topic in a group and lands it in a Store.
type Sink struct {
	cfg      Config
	store    Store
	observer Observer
	obsMu    sync.Mutex
	registry *wire.Registry // nil for JSON

	mu     sync.Mutex
	parts  map[int32]*part // the partitions this member owns and has seen records of
	owned  map[int32]bool  // assigned to this member
	drain  map[int32]int64 // set by Drain: flush a partition once it reaches its target
	ledger *ledger
	jobs   chan job
	wake   chan struct{} // the poll loop should look again (commit, resume)
	cancel context.CancelCauseFunc
	failed atomic.Pointer[error] // the first upload that failed for good

	// spare holds finished encoders for reuse: their buffers are already
	// sized for a batch and their compressors allocated.
	spareMu sync.Mutex
	spare   []Encoder

	// Memory (see MaxBuffered): open batches, batches cut and not yet
	// done, and fetched records waiting for their partition's goroutine.
	open, inflight, queued atomic.Int64
	peak                   atomic.Int64
	relieveMu              sync.Mutex
	admitMu                sync.Mutex // near the cap, one partition takes a record at a time
	freedMu                sync.Mutex
	freedCh                chan struct{} // closed when memory is given back

	consumed, invalid, objects, bytes atomic.Int64
	existed, overwritten, requests    atomic.Int64
	agedFlushes, cappedFlushes        atomic.Int64
	commitErrors                      atomic.Int64
	rejected, errorObjects            atomic.Int64
	pauses                            atomic.Int64
	rebalances                        atomic.Int64 // partitions revoked or lost before leaving
	leaving                           atomic.Bool

	// With a Table: its committer, observer and counters.
	committer                                       *committer
	onCommit                                        CommitObserver
	commits, commitConflicts, commitFailures        atomic.Int64
	committedFiles, leftBatches, metaGets, metaPuts atomic.Int64
}

// New validates cfg.
func New(cfg Config, store Store, observer Observer) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if observer == nil {
		observer = func(Landed) {}
	}
	s := &Sink{cfg: cfg, store: store, observer: observer, parts: map[int32]*part{}, owned: map[int32]bool{},
		ledger: newLedger(), wake: make(chan struct{}, 1), freedCh: make(chan struct{})}
	if cfg.Table != nil {
		s.ledger.keep = true
		s.committer = &committer{s: s}
	}
	if cfg.Wire.Format.Framed() {
		var err error
		if s.registry, err = wire.NewRegistry(cfg.Wire); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Stats are the sink's counters so far; safe to read at any time.
type Stats struct {
	Consumed, Invalid, Objects, Bytes, CommitErrors int64
	// Requests counts the PUT/POST requests of successful uploads.
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
	// Pauses counts the times fetching paused because memory or the queue
	// of fetched records was full: the sink was behind its input.
	Pauses int64
	// Rebalances counts the times the member gave up or lost partitions
	// while it ran (not when it left the group at its end).
	Rebalances int64
	// With a Table: commits that succeeded, attempts that lost to another
	// writer's commit (retried), commits that failed (retried later),
	// files committed, batches left out because the table held them
	// already, and the commits' metadata GETs and PUTs.
	Commits, CommitConflicts, CommitFailures int64
	CommittedFiles, LeftBatches              int64
	MetadataGets, MetadataPuts               int64
}

// Stats returns the counters so far.
func (s *Sink) Stats() Stats {
	return Stats{Consumed: s.consumed.Load(), Invalid: s.invalid.Load(), Objects: s.objects.Load(),
		Bytes: s.bytes.Load(), Requests: s.requests.Load(), CommitErrors: s.commitErrors.Load(), Existed: s.existed.Load(),
		Overwritten: s.overwritten.Load(), AgedFlushes: s.agedFlushes.Load(), CappedFlushes: s.cappedFlushes.Load(),
		Rejected: s.rejected.Load(), ErrorObjects: s.errorObjects.Load(), PeakBuffered: s.peak.Load(), Pauses: s.pauses.Load(), Rebalances: s.rebalances.Load(),
		Commits: s.commits.Load(), CommitConflicts: s.commitConflicts.Load(), CommitFailures: s.commitFailures.Load(),
		CommittedFiles: s.committedFiles.Load(), LeftBatches: s.leftBatches.Load(),
		MetadataGets: s.metaGets.Load(), MetadataPuts: s.metaPuts.Load()}
}

// Drain tells the sink where the input ends: once a partition's position
// reaches its target offset, its open batch is flushed at once instead of
// waiting for more records. Run keeps going until ctx ends.
func (s *Sink) Drain(targets map[int32]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drain = targets
	for _, w := range s.parts {
		w.poke()
	}
}

// drainTarget is partition p's drain target, if Drain set one.
func (s *Sink) drainTarget(p int32) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.drain[p]
	return t, ok
}

// Run consumes until ctx ends or an upload fails for good. Batches not yet
// uploaded when it returns are not committed: whoever owns the partition
// next replays them into the same keys.
func (s *Sink) Run(ctx context.Context) error {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.cancel = cancel
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(s.cfg.Brokers...),
		kgo.ConsumerGroup(s.cfg.Group),
		kgo.ConsumeTopics(s.cfg.Topic),
		kgo.DisableAutoCommit(),
		// Rebalances wait until a poll's records are routed and its commit
		// sent, so a commit never crosses an ownership change.
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(s.assigned),
		kgo.OnPartitionsRevoked(s.revoked),
		kgo.OnPartitionsLost(s.lost),
		kgo.FetchMaxBytes(s.cfg.FetchMaxBytes),
		kgo.FetchMaxPartitionBytes(min(s.cfg.FetchMaxBytes, 1<<20)),
		// A resumed topic joins the next fetch after the one in flight,
		// which waits this long when there is nothing new.
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(s.cfg.SessionTimeout),
		kgo.HeartbeatInterval(min(3*time.Second, s.cfg.SessionTimeout/3)),
		kgo.WithPools(&fetchPool{}),
	}, s.cfg.ClientOpts...)
	if s.cfg.Table != nil {
		opts = append(opts, kgo.AdjustFetchOffsetsFn(s.tableOffsets))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("sink consumer: %w", err)
	}

	s.jobs = make(chan job, s.cfg.Uploaders)
	var committing sync.WaitGroup
	commitCtx, stopCommits := context.WithCancel(runCtx)
	defer committing.Wait()
	defer stopCommits()
	if s.committer != nil {
		committing.Go(func() { s.committer.run(commitCtx) })
	}
	var uploaders sync.WaitGroup
	for range s.cfg.Uploaders {
		uploaders.Go(func() {
			for j := range s.jobs {
				s.upload(runCtx, j)
			}
		})
	}
	defer func() {
		// Partition goroutines first: they are the ones that send jobs.
		s.mu.Lock()
		all := slices.Collect(maps.Values(s.parts))
		clear(s.parts)
		s.mu.Unlock()
		stopParts(all)
		// Then leave the group: the revocation waits (bounded) for the
		// uploads in flight and commits what landed, and the partitions go
		// to other members at once, not after the session timeout.
		s.leaving.Store(true)
		cl.Close()
		close(s.jobs)
		uploaders.Wait()
	}()

	paused := false
	for {
		fetches := s.poll(runCtx, cl)
		if runCtx.Err() != nil {
			cl.AllowRebalance()
			break
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
		s.route(runCtx, cl, fetches)
		s.commit(runCtx, cl)
		paused = s.pace(cl, paused)
		cl.AllowRebalance()
	}
	if err := s.failed.Load(); err != nil && ctx.Err() == nil {
		return *err
	}
	return nil
}

// fail ends the run with err, the first upload that failed for good.
func (s *Sink) fail(err error) {
	s.failed.CompareAndSwap(nil, &err)
	s.cancel(err)
}

// poll fetches for up to 200 ms, returning early when a commit is ready
// or a paused fetch may resume.
func (s *Sink) poll(ctx context.Context, cl *kgo.Client) kgo.Fetches {
	pollCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	go func() {
		select {
		case <-s.wake:
			cancel()
		case <-s.ledger.changed:
			cancel()
		case <-pollCtx.Done():
		}
	}()
	return cl.PollRecords(pollCtx, 50_000)
}

// route hands each partition's records to its goroutine, starting one for
// a partition seen for the first time.
func (s *Sink) route(ctx context.Context, cl *kgo.Client, fetches kgo.Fetches) {
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 {
			return
		}
		s.mu.Lock()
		w := s.parts[fp.Partition]
		if w == nil && s.owned[fp.Partition] {
			w = newPart(s, fp.Partition)
			s.parts[fp.Partition] = w
			go w.run(ctx)
		}
		s.mu.Unlock()
		// A partition not owned (franz-go returns none after its
		// revocation) is not taken: whoever owns it replays it.
		if w != nil {
			w.push(fp.Records)
		}
	})
}

// commit sends the commit marks that moved. It runs on the poll loop,
// before AllowRebalance, so every partition it commits is still owned.
func (s *Sink) commit(ctx context.Context, cl *kgo.Client) {
	var marks map[int32]kgo.EpochOffset
	if s.committer != nil {
		marks = s.committer.takeMarks()
	} else {
		marks = s.ledger.marks()
	}
	if len(marks) == 0 {
		return
	}
	cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{s.cfg.Topic: marks},
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

// pace pauses fetching while the fetched records waiting for their
// partitions pass 2 x FetchMaxBytes, or the batches' memory passes
// MaxBuffered, and resumes it below half that queue and 7/8 of the cap.
// Records then wait in Kafka, where the lag shows them.
func (s *Sink) pace(cl *kgo.Client, paused bool) bool {
	limit := 2 * int64(s.cfg.FetchMaxBytes)
	held := s.open.Load() + s.inflight.Load()
	capB := int64(s.cfg.MaxBuffered)
	switch {
	case !paused && (s.queued.Load() > limit || held > capB):
		cl.PauseFetchTopics(s.cfg.Topic)
		s.pauses.Add(1)
		return true
	case paused && s.queued.Load() <= limit/2 && held <= capB-capB/8:
		cl.ResumeFetchTopics(s.cfg.Topic)
		return false
	}
	return paused
}

// assigned notes the partitions this member now owns.
func (s *Sink) assigned(_ context.Context, _ *kgo.Client, got map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range got[s.cfg.Topic] {
		s.owned[p] = true
	}
}

// revoked hands partitions over in a rebalance: their goroutines stop
// (open batches are dropped, uncommitted), uploads already under way get
// up to the session timeout to land, and what landed in order is
// committed before the next owner starts. Uploads still running then are
// abandoned uncommitted: the next owner rewrites the same keys.
func (s *Sink) revoked(ctx context.Context, cl *kgo.Client, lost map[string][]int32) {
	ps := s.release(lost[s.cfg.Topic])
	s.countRebalance(ps)
	deadline := time.NewTimer(s.cfg.SessionTimeout)
	defer deadline.Stop()
	for _, p := range ps {
		select {
		case <-s.ledger.settled(p):
		case <-deadline.C:
		case <-ctx.Done():
		}
	}
	if s.committer != nil {
		// What landed goes into the table before the next owner starts
		// from the table's offsets; a commit that fails leaves it to the
		// next owner's replay.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.SessionTimeout)
		_ = s.committer.commit(cctx)
		cancel()
	}
	s.commit(ctx, cl)
	s.ledger.drop(ps)
}

// lost drops partitions taken away without a rebalance (the member was
// fenced): nothing of theirs may be committed any more.
func (s *Sink) lost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	ps := s.release(lost[s.cfg.Topic])
	s.countRebalance(ps)
	s.ledger.drop(ps)
}

// countRebalance counts partitions given up while the member runs.
func (s *Sink) countRebalance(ps []int32) {
	if len(ps) > 0 && !s.leaving.Load() {
		s.rebalances.Add(1)
	}
}

// release stops the goroutines of partitions no longer owned and returns
// the partitions.
func (s *Sink) release(ps []int32) []int32 {
	s.mu.Lock()
	var stopping []*part
	for _, p := range ps {
		delete(s.owned, p)
		if w := s.parts[p]; w != nil {
			stopping = append(stopping, w)
			delete(s.parts, p)
		}
	}
	s.mu.Unlock()
	stopParts(stopping)
	return ps
}

// stopParts stops partition goroutines and waits for them.
func stopParts(ws []*part) {
	for _, w := range ws {
		w.stop()
	}
}

// wakeLoop has the poll loop look again at once.
func (s *Sink) wakeLoop() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// hold counts memory of open batches (delta may be negative) and the peak.
func (s *Sink) hold(delta int64) {
	if delta == 0 {
		return
	}
	held := s.open.Add(delta) + s.inflight.Load()
	for {
		peak := s.peak.Load()
		if held <= peak || s.peak.CompareAndSwap(peak, held) {
			return
		}
	}
}

// freed gives back memory of batches that are done and wakes whoever waits
// for it.
func (s *Sink) freed(n int64) {
	s.inflight.Add(-n)
	s.freedMu.Lock()
	close(s.freedCh)
	s.freedCh = make(chan struct{})
	s.freedMu.Unlock()
	s.wakeLoop()
}

// memoryFreed returns a channel closed the next time memory is given back.
func (s *Sink) memoryFreed() <-chan struct{} {
	s.freedMu.Lock()
	defer s.freedMu.Unlock()
	return s.freedCh
}

// near reports whether the batches hold more than 7/8 of MaxBuffered.
func (s *Sink) near() bool {
	return s.open.Load()+s.inflight.Load() > int64(s.cfg.MaxBuffered-s.cfg.MaxBuffered/8)
}

// over reports whether the batches hold more than MaxBuffered.
func (s *Sink) over() bool {
	return s.open.Load()+s.inflight.Load() > int64(s.cfg.MaxBuffered)
}

// relieve asks the partitions with the largest open batches (ties: the
// lowest partition) to cut them early, until those left open would hold at
// most 7/8 of MaxBuffered, so that the next records do not cut again at
// once.
func (s *Sink) relieve() {
	s.relieveMu.Lock()
	defer s.relieveMu.Unlock()
	s.mu.Lock()
	ws := make([]*part, 0, len(s.parts))
	for _, w := range s.parts {
		ws = append(ws, w)
	}
	s.mu.Unlock()
	slices.SortFunc(ws, func(a, b *part) int {
		if c := cmp.Compare(b.openMem.Load(), a.openMem.Load()); c != 0 {
			return c
		}
		return cmp.Compare(a.partition, b.partition)
	})
	open := s.open.Load()
	for _, w := range ws {
		if open <= int64(s.cfg.MaxBuffered-s.cfg.MaxBuffered/8) {
			break
		}
		m := w.openMem.Load()
		if m == 0 {
			break
		}
		if w.cutEarly.CompareAndSwap(false, true) {
			w.poke()
		}
		open -= m
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

// releaseEncoder keeps a finished (reset) encoder for the next batch.
func (s *Sink) releaseEncoder(e Encoder) {
	s.spareMu.Lock()
	defer s.spareMu.Unlock()
	// As many as can be in flight: more would only hold memory.
	if len(s.spare) < s.cfg.Uploaders {
		s.spare = append(s.spare, e)
	}
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
