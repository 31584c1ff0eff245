package sink

import (
	"time"

	"github.com/tickbench/tickbench/tick"
)

// Policy decides batch boundaries. Records, Bytes and Interval are functions
// of the records alone, so a replay cuts exactly the same batches.
type Policy struct {
	Records  int           // flush at this many ticks
	Bytes    int           // flush when the encoded object reaches this size
	Interval time.Duration // a tick this much later (event time) than the batch's first starts a new batch
}

// batch is the open object of one Kafka partition.
type batch struct {
	partition int32
	start     int64 // offset of the first record
	next      int64 // offset after the last record
	epoch     int32 // leader epoch of the last record, for the commit
	first     int64 // event time of the first tick, ns
	hour      int64 // UTC hour since the epoch: an object never spans two
	count     int
	invalid   int
	intended  []int64
	enc       Encoder
}

func newBatch(partition int32, start int64, enc Encoder) *batch {
	return &batch{partition: partition, start: start, next: start, enc: enc}
}

// fits reports whether t may join the batch without crossing an event-time
// boundary: the interval, or the hour (an object lives in one dt=/hour=
// folder).
func (b *batch) fits(p Policy, t *tick.Tick) bool {
	if b.count == 0 {
		return true
	}
	if p.Interval > 0 && t.Intended-b.first >= int64(p.Interval) {
		return false
	}
	return hourOf(t.Intended) == b.hour
}

func (b *batch) add(t *tick.Tick, offset int64, epoch int32) error {
	if b.count == 0 {
		b.first = t.Intended
		b.hour = hourOf(t.Intended)
	}
	if err := b.enc.Append(t); err != nil {
		return err
	}
	b.count++
	b.intended = append(b.intended, t.Intended)
	b.next = offset + 1
	b.epoch = epoch
	return nil
}

// skip accounts for a record that is not a tick: it is covered by the
// batch's offsets (so committed with it) but not encoded.
func (b *batch) skip(offset int64, epoch int32) {
	b.invalid++
	b.next = offset + 1
	b.epoch = epoch
}

func (b *batch) full(p Policy) bool {
	return (p.Records > 0 && b.count >= p.Records) || (p.Bytes > 0 && b.enc.Len() >= p.Bytes)
}

func (b *batch) empty() bool { return b.next == b.start }

// hourOf is the UTC hour of a ns Unix time; Unix time has no leap seconds,
// so integer division is exact.
func hourOf(ns int64) int64 {
	const hour = int64(time.Hour)
	if ns < 0 {
		return (ns - hour + 1) / hour
	}
	return ns / hour
}
