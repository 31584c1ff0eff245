package sink

import (
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/tick"
)

// Policy decides batch boundaries. Records, Bytes and Interval are functions
// of the records alone, so a replay cuts exactly the same batches.
type Policy struct {
	Records  int           // flush at this many ticks
	Bytes    int           // flush when the batch's encoded objects reach this size
	Interval time.Duration // a tick this much later (event time) than the batch's first starts a new batch
	// MaxAge, if set, flushes a batch this long (wall clock) after its
	// first record arrived, so an idle partition's ticks do not wait for
	// more. Wall-clock cuts differ on a replay: the sink is then
	// at-least-once.
	MaxAge time.Duration
}

// batch is the open batch of one Kafka partition: the records from start
// to next, landing as one object per layout folder (one, unless the layout
// splits by symbol). It is committed only when all its objects landed.
type batch struct {
	partition int32
	start     int64 // offset of the first record
	next      int64 // offset after the last record
	epoch     int32 // leader epoch of the last record, for the commit
	first     int64 // event time of the first tick, ns
	count     int
	invalid   int
	rejects   []byte             // JSON lines of the records that are not ticks (Reject)
	objects   map[string]*object // by layout folder
	order     []string           // folders in order of first appearance
	size      int                // encoded bytes of all objects
	mem       int                // memory held: encoders' Footprint, intended times, rejects
	opened    time.Time          // wall clock when the first record arrived

	// Set once the batch is cut, under the ledger's lock.
	owner  *partLedger // the ledger of the ownership it was cut under
	left   int         // uploads not yet finished
	failed bool        // an upload failed: never committed
	landed []Landed    // one per data object, in order, once uploaded
}

// object is one S3 object of a batch.
type object struct {
	dir      string
	start    int64 // offset of its first record: the key
	count    int
	intended []int64
	enc      Encoder
}

// timesPool keeps the intended-time slices of landed objects for the next
// objects: grown by appending, one object's took twice its ticks x 8 bytes
// (a sixth of the bytes the sink allocated at 200,000 ticks/s).
var timesPool sync.Pool // *[]int64

// maxPooledTimes bounds what the pool keeps: an object of a million ticks
// is rare, and its 8 MB should go back to the heap.
const maxPooledTimes = 1 << 20

func getTimes() []int64 {
	if p, ok := timesPool.Get().(*[]int64); ok {
		return (*p)[:0]
	}
	return nil
}

// putTimes takes back a slice nobody reads any more.
func putTimes(t []int64) {
	if c := cap(t); c > 0 && c <= maxPooledTimes {
		timesPool.Put(&t)
	}
}

func newBatch(partition int32, start int64) *batch {
	return &batch{partition: partition, start: start, next: start, objects: map[string]*object{}, opened: time.Now()}
}

// fits reports whether t may join the batch without crossing an event-time
// boundary: the interval, or the layout's period (an object lives in one
// dt= folder).
func (b *batch) fits(p Policy, l Layout, t *tick.Tick) bool {
	if b.count == 0 {
		return true
	}
	if p.Interval > 0 && t.Intended-b.first >= int64(p.Interval) {
		return false
	}
	return periodOf(t.Intended, l.period()) == periodOf(b.first, l.period())
}

// add encodes t into the object of its layout folder dir.
func (b *batch) add(newEnc func() Encoder, dir string, t *tick.Tick, offset int64, epoch int32) error {
	slowdown(1)
	o := b.objects[dir]
	if o == nil {
		o = &object{dir: dir, start: offset, enc: newEnc(), intended: getTimes()}
		b.objects[dir] = o
		b.order = append(b.order, dir)
		b.mem += o.mem()
	}
	before, mem := o.enc.Len(), o.mem()
	if err := o.enc.Append(t); err != nil {
		if o.count == 0 {
			delete(b.objects, dir)
			b.order = b.order[:len(b.order)-1]
			b.mem -= mem
		}
		return err
	}
	if b.count == 0 {
		b.first = t.Intended
	}
	b.size += o.enc.Len() - before
	o.count++
	o.intended = append(o.intended, t.Intended)
	b.mem += o.mem() - mem
	b.count++
	b.next = offset + 1
	b.epoch = epoch
	return nil
}

// skip accounts for a record that is not a tick: it is covered by the
// batch's offsets (so committed with it) but not encoded; it goes to the
// batch's errors object with the reason.
func (b *batch) skip(r *kgo.Record, reason error) {
	b.invalid++
	before := cap(b.rejects)
	b.rejects = appendReject(b.rejects, r, reason)
	b.mem += cap(b.rejects) - before
	b.next = r.Offset + 1
	b.epoch = r.LeaderEpoch
}

// objectOverhead is an object's own struct and map entry.
const objectOverhead = 256

// mem is the memory the object holds.
func (o *object) mem() int { return o.enc.Footprint() + 8*cap(o.intended) + objectOverhead }

func (b *batch) full(p Policy) bool {
	return (p.Records > 0 && b.count >= p.Records) || (p.Bytes > 0 && b.size >= p.Bytes)
}

func (b *batch) empty() bool { return b.next == b.start }

// periodOf numbers the period of a ns Unix time (0 when there is none).
// Unix time has no leap seconds, so integer division is exact.
func periodOf(ns int64, period time.Duration) int64 {
	if period <= 0 {
		return 0
	}
	p := int64(period)
	if ns < 0 {
		return (ns - p + 1) / p
	}
	return ns / p
}

// releaseTimes gives the landed objects' intended times back to the pool
// once nobody reads them any more.
func (b *batch) releaseTimes() {
	for i := range b.landed {
		putTimes(b.landed[i].Intended)
		b.landed[i].Intended = nil
	}
}
