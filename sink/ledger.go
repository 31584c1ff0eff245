package sink

import (
	"sync"

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
}

// partLedger is one partition's ledger for one ownership.
type partLedger struct {
	pending   []*batch        // cut, in offset order, not yet committable
	mark      kgo.EpochOffset // the offset after the last committable batch
	committed int64           // the mark last handed to commit; -1 none
	failed    bool            // an upload failed: nothing more commits
	idle      chan struct{}   // closed (and replaced) when pending empties
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
// nobody's) and whether b is done, landed or not.
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
	if l.parts[b.partition] != pl {
		return false, true
	}
	before := pl.mark
	for len(pl.pending) > 0 && !pl.failed {
		head := pl.pending[0]
		if head.left > 0 || head.failed {
			break
		}
		pl.mark = kgo.EpochOffset{Epoch: head.epoch, Offset: head.next}
		pl.pending = pl.pending[1:]
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
	return !b.failed, true
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
// finish later land nothing for this member.
func (l *ledger) drop(ps []int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range ps {
		if pl := l.parts[p]; pl != nil && pl.idle != nil {
			close(pl.idle)
		}
		delete(l.parts, p)
	}
}
