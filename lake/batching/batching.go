// Package batching lands ticks as the sink would, without Kafka or S3:
// keyed over partitions by symbol as the producer's partitioner does, cut
// into batches by a flush policy and the layout's period, one object per
// layout folder, encoded with the sink's own encoders. It writes nothing:
// tests land objects with it, and the scan model prices flush policies
// that were not run on the ticks of one that was.
package batching

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/tick"
)

// Policy is how the producer spreads ticks over Kafka partitions and how
// the sink cuts each partition's ticks into batches.
type Policy struct {
	// Partitions the ticks are keyed over by symbol, as the producer's
	// Kafka partitioner does (murmur2); 0 or 1 puts them all in one.
	Partitions int
	// Assign, if set, is the partition of each tick instead (as a run
	// landed them); a partition's ticks are landed in the order given.
	Assign []int
	// Records ends a batch at this many ticks; Bytes when its encoded
	// objects reach this size. 0 is no limit.
	Records, Bytes int
}

// Object is one object of a landing.
type Object struct {
	Key   string // below the prefix: layout dirs and {topic}+{partition}+{offset}.{ext}
	Ticks []int  // indexes into the ticks landed, in order
}

// Land encodes ticks in format f with layout l as the sink would land
// them under p, partition by partition, and hands each object to put.
// Batches end where p says and where the layout's period (hour or day)
// changes; keys carry the partition and the offset of the object's first
// tick within it, topic "ticks".
func Land(f sink.Format, l sink.Layout, ticks []tick.Tick, p Policy, put func(o Object, body []byte) error) error {
	if p.Assign != nil && len(p.Assign) != len(ticks) {
		return fmt.Errorf("batching: %d partition assignments for %d ticks", len(p.Assign), len(ticks))
	}
	parts := max(p.Partitions, 1)
	for _, n := range p.Assign {
		if n < 0 || n >= 1<<20 {
			return fmt.Errorf("batching: partition %d: allowed 0..%d", n, 1<<20-1)
		}
		parts = max(parts, n+1)
	}
	byPart := make([][]int, parts)
	partitioner := kgo.StickyKeyPartitioner(nil).ForTopic("ticks")
	for i := range ticks {
		n := 0
		switch {
		case p.Assign != nil:
			n = p.Assign[i]
		case parts > 1:
			n = partitioner.Partition(&kgo.Record{Key: []byte(ticks[i].Symbol)}, parts)
		}
		byPart[n] = append(byPart[n], i)
	}
	type object struct {
		enc    sink.Encoder
		offset int // of its first tick in the partition
		ticks  []int
	}
	for part, idx := range byPart {
		var dirs []string
		objects := map[string]*object{}
		count, size := 0, 0
		var period int64
		flush := func() error {
			for _, d := range dirs {
				o := objects[d]
				body, err := o.enc.Finish()
				if err != nil {
					return fmt.Errorf("encode %s: %w", f.Name(), err)
				}
				if err := put(Object{Key: sink.ObjectKey("", d, "ticks", int32(part), int64(o.offset), f.Ext()), Ticks: o.ticks}, body); err != nil {
					return err
				}
			}
			dirs, objects, count, size = nil, map[string]*object{}, 0, 0
			return nil
		}
		for offset, i := range idx {
			if count > 0 && periodOf(l, &ticks[i]) != period {
				if err := flush(); err != nil {
					return err
				}
			}
			if count == 0 {
				period = periodOf(l, &ticks[i])
			}
			d := l.Dir(&ticks[i])
			o := objects[d]
			if o == nil {
				o = &object{enc: f.NewEncoder(), offset: offset}
				objects[d] = o
				dirs = append(dirs, d)
			}
			before := o.enc.Len()
			if err := o.enc.Append(&ticks[i]); err != nil {
				return fmt.Errorf("encode %s: %w", f.Name(), err)
			}
			o.ticks = append(o.ticks, i)
			count++
			size += o.enc.Len() - before
			if (p.Records > 0 && count >= p.Records) || (p.Bytes > 0 && size >= p.Bytes) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if count > 0 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// periodOf numbers the event-time period an object may not cross: its
// hour (dt-hour) or day (dt-symbol); none has one period.
func periodOf(l sink.Layout, t *tick.Tick) int64 {
	switch l {
	case sink.LayoutHourly:
		return t.Intended / int64(time.Hour)
	case sink.LayoutSymbol:
		return t.Intended / int64(24*time.Hour)
	}
	return 0
}
