// Package laketest writes landed objects for the lake tests: the sink's own
// encoders and key layout, into a local folder laid out like the bucket.
package laketest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/tick"
)

// Object is one object Land wrote.
type Object struct {
	Key, Path string
	Ticks     []int // indexes into the ticks given to Land, in order
}

// Format returns the named sink format or fails the test.
func Format(t testing.TB, name string) sink.Format {
	t.Helper()
	f, err := sink.FormatByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Ticks returns n ticks of the default model (symbols of them), one every
// step nanoseconds from start (ns since the epoch).
func Ticks(t testing.TB, n, symbols int, start, step int64) []tick.Tick {
	t.Helper()
	cfg := gen.DefaultModelConfig()
	cfg.Symbols = symbols
	m, err := gen.NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]tick.Tick, n)
	for i := range out {
		m.Next(uint64(i), start+int64(i)*step, &out[i])
	}
	return out
}

// Batching is how the producer spreads ticks over Kafka partitions and
// how the sink cuts each partition's ticks into batches.
type Batching struct {
	// Partitions the ticks are keyed over by symbol, as the producer's
	// Kafka partitioner does (murmur2); 0 or 1 puts them all in one.
	Partitions int
	// Records ends a batch at this many ticks; Bytes when its encoded
	// objects reach this size. 0 is no limit.
	Records, Bytes int
}

// Land writes ticks in format under dir with layout l, as the sink does:
// batches of perObject consecutive ticks, each split into one object per
// layout folder. It returns the objects: their paths relative to dir
// (slash separated, like keys below the prefix) and the ticks in each.
func Land(t testing.TB, dir string, f sink.Format, l sink.Layout, ticks []tick.Tick, perObject int) []Object {
	t.Helper()
	var objs []Object
	LandFunc(t, f, l, ticks, Batching{Records: perObject}, func(o Object, body []byte) {
		o.Path = filepath.Join(dir, filepath.FromSlash(o.Key))
		if err := os.MkdirAll(filepath.Dir(o.Path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(o.Path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	})
	return objs
}

// LandFunc lands ticks in format f with layout l as the sink does, without
// Kafka: each partition's ticks in batches cut by b and where the layout's
// period (hour or day) changes, each batch one object per layout folder,
// keyed by the partition and the offset of its first tick. put gets each
// object (Path empty) and its body, partition by partition.
func LandFunc(t testing.TB, f sink.Format, l sink.Layout, ticks []tick.Tick, b Batching, put func(o Object, body []byte)) {
	t.Helper()
	parts := max(b.Partitions, 1)
	byPart := make([][]int, parts)
	partitioner := kgo.StickyKeyPartitioner(nil).ForTopic("ticks")
	for i := range ticks {
		p := 0
		if parts > 1 {
			p = partitioner.Partition(&kgo.Record{Key: []byte(ticks[i].Symbol)}, parts)
		}
		byPart[p] = append(byPart[p], i)
	}
	type object struct {
		enc   sink.Encoder
		ticks []int
	}
	for p, idx := range byPart {
		var dirs []string
		objects := map[string]*object{}
		count, size := 0, 0
		var period int64
		flush := func() {
			for _, d := range dirs {
				o := objects[d]
				body, err := o.enc.Finish()
				if err != nil {
					t.Fatal(err)
				}
				// Offsets within the partition: its ticks in order.
				offset, _ := slices.BinarySearch(idx, o.ticks[0])
				put(Object{Key: sink.ObjectKey("", d, "ticks", int32(p), int64(offset), f.Ext()), Ticks: o.ticks}, body)
			}
			dirs, objects, count, size = nil, map[string]*object{}, 0, 0
		}
		for _, i := range idx {
			if count > 0 && periodOf(l, &ticks[i]) != period {
				flush()
			}
			if count == 0 {
				period = periodOf(l, &ticks[i])
			}
			d := l.Dir(&ticks[i])
			o := objects[d]
			if o == nil {
				o = &object{enc: f.NewEncoder()}
				objects[d] = o
				dirs = append(dirs, d)
			}
			before := o.enc.Len()
			if err := o.enc.Append(&ticks[i]); err != nil {
				t.Fatal(err)
			}
			o.ticks = append(o.ticks, i)
			count++
			size += o.enc.Len() - before
			if (b.Records > 0 && count >= b.Records) || (b.Bytes > 0 && size >= b.Bytes) {
				flush()
			}
		}
		if count > 0 {
			flush()
		}
	}
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
