package batching

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/tick"
)

func ticks(t *testing.T, n, symbols int, start time.Time, step time.Duration) []tick.Tick {
	t.Helper()
	cfg := gen.DefaultModelConfig()
	cfg.Symbols = symbols
	m, err := gen.NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]tick.Tick, n)
	for i := range out {
		m.Next(uint64(i), start.Add(time.Duration(i)*step).UnixNano(), &out[i])
	}
	return out
}

func TestLand(t *testing.T) {
	// 1000 ticks over 100 minutes, crossing two hours.
	ts := ticks(t, 1000, 10, time.Date(2026, 11, 25, 22, 30, 0, 0, time.UTC), 6*time.Second)
	f, err := sink.FormatByName("jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		l       sink.Layout
		p       Policy
		objects int
	}{
		// one partition: 300 ticks in hour 22, 600 in 23, 100 in 00
		{"records, cut at the hour", sink.LayoutHourly, Policy{Records: 400}, 1 + 2 + 1},
		{"no period", sink.LayoutNone, Policy{Records: 400}, 3},
		{"bytes", sink.LayoutNone, Policy{Bytes: 50_000}, 0},
	} {
		var got []Object
		seen := map[int]bool{}
		err := Land(f, c.l, ts, c.p, func(o Object, body []byte) error {
			if n := strings.Count(string(body), "\n"); n != len(o.Ticks) {
				t.Errorf("%s: %s holds %d lines for %d ticks", c.name, o.Key, n, len(o.Ticks))
			}
			if c.p.Bytes > 0 && len(body) >= c.p.Bytes+200 {
				t.Errorf("%s: %s of %d bytes, past the %d-byte flush by more than a tick", c.name, o.Key, len(body), c.p.Bytes)
			}
			for _, i := range o.Ticks {
				seen[i] = true
			}
			got = append(got, o)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != len(ts) {
			t.Errorf("%s: %d of %d ticks landed", c.name, len(seen), len(ts))
		}
		if c.objects > 0 && len(got) != c.objects {
			t.Errorf("%s: %d objects, want %d", c.name, len(got), c.objects)
		}
	}
	// Six partitions: every symbol in one, offsets counting within it.
	part := map[string]string{}
	err = Land(f, sink.LayoutNone, ts, Policy{Partitions: 6, Records: 50}, func(o Object, body []byte) error {
		p := strings.Split(o.Key, "+")[1]
		for _, i := range o.Ticks {
			if q, ok := part[ts[i].Symbol]; ok && q != p {
				t.Errorf("symbol %s in partitions %s and %s", ts[i].Symbol, q, p)
			}
			part[ts[i].Symbol] = p
		}
		return nil
	})
	if err != nil || len(part) != 10 {
		t.Errorf("six partitions: %v, %d symbols landed", err, len(part))
	}
}

// TestLandAssigned: ticks land in the partitions and the order given, each
// partition's offsets counting from 0.
func TestLandAssigned(t *testing.T) {
	ts := ticks(t, 9, 3, time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC), time.Second)
	f, err := sink.FormatByName("jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	err = Land(f, sink.LayoutNone, ts, Policy{Assign: []int{2, 0, 2, 0, 2, 0, 2, 0, 2}, Records: 2}, func(o Object, body []byte) error {
		keys = append(keys, o.Key+" "+strings.Trim(strings.ReplaceAll(fmt.Sprint(o.Ticks), " ", ","), "[]"))
		return nil
	})
	want := []string{
		"ticks+0+00000000000000000000.jsonl 1,3", "ticks+0+00000000000000000002.jsonl 5,7",
		"ticks+2+00000000000000000000.jsonl 0,2", "ticks+2+00000000000000000002.jsonl 4,6", "ticks+2+00000000000000000004.jsonl 8",
	}
	if err != nil || !slices.Equal(keys, want) {
		t.Errorf("Land = %v, %v; want %v", keys, err, want)
	}
	if err := Land(f, sink.LayoutNone, ts, Policy{Assign: []int{1}}, func(Object, []byte) error { return nil }); err == nil {
		t.Error("one assignment for nine ticks: no error")
	}
}
