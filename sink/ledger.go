package sink

import (
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ledger keeps, for every partition this member owns, the batches cut and
// not yet committable, in offset order. Uploads finish in any order; the
// offset to commit moves past a batch only once it and every earlier batch
// of its partition landed whole. A partition's ledger lives for one
// ownership: when the partition is revoked its ledger is dropped, and
// uploads that finish later no longer count.
type ledger struct {
	mu    sync.Mutex
	parts map[int32]*partLedger
	// changed is signalled (without blocking) when a commit mark moves.
	changed chan struct{}
	// keep (with a Table) keeps the batches the marks moved past, in
	// order, until a table commit takes them; readyFiles counts their
	// data objects and readySince is when the oldest of them was kept.
	keep       bool
	readyFiles int
	readySince time.Time
}

// partLedger is one partition's ledger for one ownership.
type partLedger struct {
	pending   []*batch        // cut, in offset order, not yet committable
	mark      kgo.EpochOffset // the offset after the last committable batch
	committed int64           // the mark last handed to commit; -1 none
	failed    bool            // an upload failed: nothing more commits
	idle      chan struct{}   // closed (and replaced) when pending empties
	ready     []*batch        // landed, in order, not yet in a table commit (keep)
}

func newLedger() *ledger {
	return &ledger{parts: map[int32]*partLedger{}, changed: make(chan struct{}, 1)}
}

// own starts the ledger of a newly owned partition.
func (l *ledger) own(p int32) *partLedger {
	l.mu.Lock()
	defer l.mu.Unlock()
	pl := &partLedger{committed: -1, mark: kgo.EpochOffset{Epoch: -1, Offset: -1}}
	l.parts[p] = pl
	return pl
}

// cut records b, about to be uploaded in jobs uploads. False means the
// partition is no longer owned under that ledger: do not upload.
func (l *ledger) cut(pl *partLedger, b *batch, jobs int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.parts[b.partition] != pl {
		return false
	}
	b.owner, b.left = pl, jobs
	pl.pending = append(pl.pending, b)
	return true
}

// finish records that n of b's uploads ended, the data object's result
// with them when res is not nil, err if one failed. It reports whether b
// just landed whole (false once its ownership ended: the result is then
// nobody's) and whether b is done, landed or not. Once b is done, and the
// observer heard of it, advance moves the commit mark.
func (l *ledger) finish(b *batch, n int, res *Landed, err error) (landed, done bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b.left -= n
	if res != nil {
		b.landed = append(b.landed, *res)
	}
	if err != nil {
		b.failed = true
	}
	if b.left > 0 {
		return false, false
	}
	pl := b.owner
	if b.failed {
		pl.failed = true
	}
	return !b.failed && l.parts[b.partition] == pl, true
}

// advance moves the commit mark of b's partition past every batch that
// landed whole in order (keeping them for a table commit with a Table),
// after b is done. It runs after the observer heard of b, so a table commit
// never takes a batch whose landing is still being observed.
func (l *ledger) advance(b *batch) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pl := b.owner
	if l.parts[b.partition] != pl {
		return
	}
	before := pl.mark
	for len(pl.pending) > 0 && !pl.failed {
		head := pl.pending[0]
		if head.left > 0 || head.failed {
			break
		}
		pl.mark = kgo.EpochOffset{Epoch: head.epoch, Offset: head.next}
		pl.pending[0] = nil // the backing array must not keep a landed batch alive
		pl.pending = pl.pending[1:]
		if l.keep {
			if !l.hasReadyLocked() {
				l.readySince = time.Now()
			}
			pl.ready = append(pl.ready, head)
			l.readyFiles += len(head.landed)
		}
	}
	if pl.mark != before {
		select {
		case l.changed <- struct{}{}:
		default:
		}
	}
	if pl.idle != nil && l.settledLocked(pl) {
		close(pl.idle)
		pl.idle = nil
	}
}

// settledLocked: nothing of pl is still uploading.
func (l *ledger) settledLocked(pl *partLedger) bool {
	for _, b := range pl.pending {
		if b.left > 0 {
			return false
		}
	}
	return true
}

// marks returns the commit marks that moved since the last call, for
// partitions still owned.
func (l *ledger) marks() map[int32]kgo.EpochOffset {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out map[int32]kgo.EpochOffset
	for p, pl := range l.parts {
		if pl.mark.Offset > pl.committed {
			if out == nil {
				out = map[int32]kgo.EpochOffset{}
			}
			out[p] = pl.mark
			pl.committed = pl.mark.Offset
		}
	}
	return out
}

// settled returns a channel closed once no upload of partition p is
// still running (closed at once if none is, or p is not owned).
func (l *ledger) settled(p int32) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	pl := l.parts[p]
	if pl == nil || l.settledLocked(pl) {
		c := make(chan struct{})
		close(c)
		return c
	}
	if pl.idle == nil {
		pl.idle = make(chan struct{})
	}
	return pl.idle
}

// drop ends the ownership of partitions: uploads of their batches that
// finish later land nothing for this member, and batches kept for a table
// commit are let go (the next owner replays them into the same keys).
func (l *ledger) drop(ps []int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range ps {
		pl := l.parts[p]
		if pl == nil {
			continue
		}
		if pl.idle != nil {
			close(pl.idle)
		}
		for _, b := range pl.ready {
			l.readyFiles -= len(b.landed)
			b.releaseTimes()
		}
		delete(l.parts, p)
	}
}

// hasReadyLocked: some owned partition has batches kept for a commit.
func (l *ledger) hasReadyLocked() bool {
	for _, pl := range l.parts {
		if len(pl.ready) > 0 {
			return true
		}
	}
	return false
}

// ready reports how many data objects wait for a table commit and since
// when the oldest of them waits (zero time: none waits).
func (l *ledger) ready() (files int, since time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.hasReadyLocked() {
		return 0, time.Time{}
	}
	return l.readyFiles, l.readySince
}

// takeReady hands over every batch kept for a table commit, by partition
// and in offset order within one, with the commit mark each partition
// reaches once they are in the table.
func (l *ledger) takeReady() ([]*batch, map[int32]kgo.EpochOffset) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*batch
	marks := map[int32]kgo.EpochOffset{}
	ps := make([]int32, 0, len(l.parts))
	for p, pl := range l.parts {
		if len(pl.ready) > 0 {
			ps = append(ps, p)
		}
	}
	slices.Sort(ps)
	for _, p := range ps {
		pl := l.parts[p]
		last := pl.ready[len(pl.ready)-1]
		marks[p] = kgo.EpochOffset{Epoch: last.epoch, Offset: last.next}
		out = append(out, pl.ready...)
		pl.ready = nil
	}
	l.readyFiles = 0
	return out, marks
}

// giveBack returns batches a failed table commit took, ahead of any kept
// since, for partitions still owned; the rest are let go. since is when the
// oldest of them was kept.
func (l *ledger) giveBack(bs []*batch, since time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(bs) > 0 {
		l.readySince = since
	}
	byPart := map[int32][]*batch{}
	for _, b := range bs {
		if pl := l.parts[b.partition]; pl != nil && pl == b.owner {
			byPart[b.partition] = append(byPart[b.partition], b)
			l.readyFiles += len(b.landed)
		} else {
			b.releaseTimes()
		}
	}
	for p, back := range byPart {
		pl := l.parts[p]
		pl.ready = append(back, pl.ready...)
	}
}
