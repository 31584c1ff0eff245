package sink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Table is a table format's catalog (Apache Iceberg) that landed objects are
// committed to. With a Table an object is durable once its PUT is
// acknowledged but queryable only once a commit adds it to the table, and
// the table, not Kafka, holds the offsets a member resumes from: a commit
// adds files and moves their partitions' offsets in one snapshot.
type Table interface {
	// Offsets returns, for each partition of topic the table holds
	// records of, the offset after the last of them.
	Offsets(ctx context.Context, topic string) (map[int32]int64, error)
	// Commit adds c's files as one snapshot. Batches the table already
	// holds (their records below its offsets: another member or an
	// earlier life committed them) are left out and listed in Left; a
	// batch that overlaps the table's offsets part-way is an error.
	Commit(ctx context.Context, c Commit) (Committed, error)
}

// Commit is what one table commit adds.
type Commit struct {
	Topic, Group string
	Batches      []CommitBatch // by partition, in offset order within one
}

// CommitBatch is one batch's objects and the offsets they cover.
type CommitBatch struct {
	Partition   int32
	Start, Next int64 // the first record's offset and the one after the last
	Files       []Landed
}

// Committed is what a commit did.
type Committed struct {
	Snapshot int64
	// Added counts the files added; Left the indexes of batches left out
	// because the table held them already.
	Added int
	Left  []int
	// Conflicts counts the attempts that lost to another writer's commit
	// and were retried on the table as it then was.
	Conflicts int
	// MetadataGets and MetadataPuts count the metadata requests of the
	// commit (metadata.json, manifest lists, manifests), retries included.
	MetadataGets, MetadataPuts int
}

// TableCommit tells a commit observer which objects became queryable.
type TableCommit struct {
	At       time.Time // when the catalog accepted the commit
	Took     time.Duration
	Snapshot int64
	// Files are the objects added; their Intended times are only valid
	// during the call.
	Files []Landed
}

// CommitObserver hears about every table commit, one call at a time.
type CommitObserver func(TableCommit)

// Commit-policy limits, shared with flag validation.
const (
	MinCommitInterval = 100 * time.Millisecond
	MaxCommitInterval = time.Hour
	MaxCommitFiles    = 100_000
)

// DefaultCommitInterval is the Iceberg Kafka Connect sink's default.
const DefaultCommitInterval = time.Minute

// validateCommit checks the commit policy of a sink with a Table.
func (c Config) validateCommit() error {
	if c.Table == nil {
		return nil
	}
	if _, ok := c.Format.(Parquet); !ok {
		return fmt.Errorf("format %s: a table takes Parquet objects only", c.Format.Name())
	}
	switch {
	case c.CommitInterval < MinCommitInterval || c.CommitInterval > MaxCommitInterval:
		return fmt.Errorf("commit-interval %v: allowed %v..%v", c.CommitInterval, MinCommitInterval, MaxCommitInterval)
	case c.CommitFiles < 0 || c.CommitFiles > MaxCommitFiles:
		return fmt.Errorf("commit-files %d: allowed 0 (off)..%d", c.CommitFiles, MaxCommitFiles)
	case c.Policy.MaxAge > 0:
		// A wall-clock cut differs on a replay, so a replayed batch could
		// overlap a committed one part-way.
		return fmt.Errorf("max-age %v: a table strategy cuts batches by their records only (use 0)", c.Policy.MaxAge)
	}
	return nil
}

// OnCommit sets the observer of table commits; call it before Run.
func (s *Sink) OnCommit(f CommitObserver) { s.onCommit = f }

// committer makes what landed queryable: every CommitInterval since the
// last commit, or as soon as CommitFiles objects wait, it commits every
// batch that landed in order to the table, then hands the offsets to the
// poll loop for Kafka (which only shows progress: the table holds the
// offsets a member resumes from). One commit runs at a time.
type committer struct {
	s  *Sink
	mu sync.Mutex // one commit at a time: the loop's, a revocation's
	// last is when the last commit was tried; fails counts failures in a
	// row and since when the first of them.
	last      time.Time
	fails     int
	failSince time.Time

	marksMu sync.Mutex
	marks   map[int32]kgo.EpochOffset // committed to the table, not yet to Kafka
}

// commitFailFor is how long commits may fail in a row before the sink
// fails: the files are in S3 meanwhile, and commits are retried.
func (s *Sink) commitFailFor() time.Duration { return max(s.cfg.SessionTimeout, s.cfg.UploadTimeout) }

// run commits on the policy until ctx ends.
func (c *committer) run(ctx context.Context) {
	c.mu.Lock()
	c.last = time.Now()
	c.mu.Unlock()
	tick := time.NewTicker(min(c.s.cfg.CommitInterval/4, 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !c.due() {
			continue
		}
		if err := c.commit(ctx); err != nil && ctx.Err() == nil && c.failingFor() >= c.s.commitFailFor() {
			c.s.fail(fmt.Errorf("table commits failed for %v: %w", c.s.commitFailFor(), err))
			return
		}
	}
}

// due reports whether a commit is due: something landed, and the interval
// passed since the last commit (after a failure, the backoff), or enough
// objects wait.
func (c *committer) due() bool {
	files, since := c.s.ledger.ready()
	if since.IsZero() {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	wait := c.s.cfg.CommitInterval
	if c.fails > 0 {
		wait = backoff(c.fails)
	}
	return time.Since(c.last) >= wait || (c.s.cfg.CommitFiles > 0 && files >= c.s.cfg.CommitFiles)
}

// failingFor is how long commits have failed in a row (0: the last one
// succeeded).
func (c *committer) failingFor() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fails == 0 {
		return 0
	}
	return time.Since(c.failSince)
}

// backoff is the wait before the nth retry of a failed commit.
func backoff(n int) time.Duration {
	return min(100*time.Millisecond<<min(n, 10), 5*time.Second)
}

// commit commits every batch that landed in order so far.
func (c *committer) commit(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, since := c.s.ledger.ready()
	bs, marks := c.s.ledger.takeReady()
	if len(bs) == 0 {
		return nil
	}
	c.last = time.Now()
	cm := Commit{Topic: c.s.cfg.Topic, Group: c.s.cfg.Group, Batches: make([]CommitBatch, len(bs))}
	for i, b := range bs {
		cm.Batches[i] = CommitBatch{Partition: b.partition, Start: b.start, Next: b.next, Files: b.landed}
	}
	began := time.Now()
	res, err := c.s.cfg.Table.Commit(ctx, cm)
	c.s.commitConflicts.Add(int64(res.Conflicts))
	c.s.metaGets.Add(int64(res.MetadataGets))
	c.s.metaPuts.Add(int64(res.MetadataPuts))
	if err != nil {
		c.s.commitFailures.Add(1)
		if c.fails == 0 {
			c.failSince = time.Now()
		}
		c.fails++
		c.s.ledger.giveBack(bs, since)
		return fmt.Errorf("commit %d batches: %w", len(bs), err)
	}
	c.fails = 0
	at := time.Now()
	c.s.commits.Add(1)
	c.s.committedFiles.Add(int64(res.Added))
	c.s.leftBatches.Add(int64(len(res.Left)))
	left := map[int]bool{}
	for _, i := range res.Left {
		left[i] = true
	}
	tc := TableCommit{At: at, Took: at.Sub(began), Snapshot: res.Snapshot}
	for i, b := range bs {
		if !left[i] {
			tc.Files = append(tc.Files, b.landed...)
		}
	}
	if c.s.onCommit != nil {
		c.s.onCommit(tc)
	}
	for _, b := range bs {
		b.releaseTimes()
	}
	c.marksMu.Lock()
	if c.marks == nil {
		c.marks = map[int32]kgo.EpochOffset{}
	}
	for p, m := range marks {
		c.marks[p] = m
	}
	c.marksMu.Unlock()
	c.s.wakeLoop()
	return nil
}

// takeMarks returns the offsets committed to the table since the last call.
func (c *committer) takeMarks() map[int32]kgo.EpochOffset {
	c.marksMu.Lock()
	defer c.marksMu.Unlock()
	m := c.marks
	c.marks = nil
	return m
}

// tableOffsets starts each newly assigned partition where the table's
// records of it end, instead of at the group's committed offset (which
// trails the table: it is committed after it).
func (s *Sink) tableOffsets(ctx context.Context, assigned map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	offs, err := s.cfg.Table.Offsets(ctx, s.cfg.Topic)
	if err != nil {
		return nil, fmt.Errorf("table offsets of %s: %w", s.cfg.Topic, err)
	}
	for p := range assigned[s.cfg.Topic] {
		if o, ok := offs[p]; ok {
			assigned[s.cfg.Topic][p] = kgo.NewOffset().At(o).WithEpoch(-1)
		}
	}
	return assigned, nil
}

// ErrOverlap reports a batch whose records the table holds only in part:
// its boundaries differ from those of the batch committed before, which
// deterministic cuts rule out.
var ErrOverlap = errors.New("batch overlaps the table's offsets part-way")
