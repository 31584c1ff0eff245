package dist

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/stack"
)

// latencyOf is the summary of a histogram of values (ns), and the values.
func latencyOf(t *testing.T, values []int64) result.Latency {
	t.Helper()
	h := result.NewHistogram()
	var clamped int64
	for _, ns := range values {
		us := max(ns/1000, result.HistMin)
		if us > result.HistMax {
			us, clamped = result.HistMax, clamped+1
		}
		if err := h.RecordValue(us); err != nil {
			t.Fatal(err)
		}
	}
	l, err := result.Summarize(h, clamped)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// randomLatencies draws n values from 1 µs to past the top (2 h), so
// some are clamped.
func randomLatencies(rng *rand.Rand, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(rng.ExpFloat64() * float64(time.Duration(1+rng.IntN(3))*20*time.Millisecond))
		if rng.IntN(500) == 0 {
			out[i] = int64(2 * time.Hour)
		}
	}
	return out
}

// TestMergeLatenciesIsTheHistogramOfAllValues: adding the histograms of
// several processes gives exactly the histogram of all their values (every
// count, so every percentile, and the encoding itself).
func TestMergeLatenciesIsTheHistogramOfAllValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, parts := range []int{1, 2, 3, 7} {
		var all []int64
		var ls []result.Latency
		for range parts {
			vs := randomLatencies(rng, 1+rng.IntN(5000))
			all = append(all, vs...)
			ls = append(ls, latencyOf(t, vs))
		}
		ls = append(ls, result.Latency{}) // a process that recorded nothing
		got, err := mergeLatencies(ls)
		if err != nil {
			t.Fatal(err)
		}
		want := latencyOf(t, all)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d parts: merged %+v\nall values %+v", parts, got, want)
		}
		if want.Clamped == 0 && parts > 2 {
			t.Fatalf("%d parts: no value clamped; the test means to cover clamping", parts)
		}
	}
	if _, err := mergeLatencies([]result.Latency{{Count: 3}}); err == nil || err.Error() != "a summary of 3 values has no histogram" {
		t.Fatalf("merge of a summary without its histogram: %v", err)
	}
}

// distRun is a run of 3 generator shards and 2 sinks as their result
// files would hold it, with the values behind every histogram.
type distRun struct {
	files                          []*result.Result
	delays, pubs, e2es, uploads    []int64
	sent, consumed, objects, bytes int64
	cpu                            float64
}

func newDistRun(t *testing.T) *distRun {
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	w := result.Workload{Rate: 3000, DurationS: 10, Symbols: 100, Seed: 1, Topic: "ticks", Partitions: 6, Source: "model", StartAt: start, Shards: 3}
	d := &distRun{}
	for i := range 3 {
		delay, pub := randomLatencies(rng, 10_000), randomLatencies(rng, 10_000)
		d.delays, d.pubs = append(d.delays, delay...), append(d.pubs, pub...)
		prod := &result.Producer{TargetRate: 1000, AchievedRate: 1000, RateHeld: true, Workers: 1, Sent: 10_000, Acked: 10_000,
			PublishDelay: latencyOf(t, delay), Publish: latencyOf(t, pub)}
		p := result.Process{Role: result.RoleProduce, Host: "gen" + string(rune('a'+i)), PID: 100 + i, Shard: []string{"0/3", "1/3", "2/3"}[i], Producer: prod,
			CPUSeconds: 1.5, PeakRSSBytes: 50 << 20, Clock: result.Clock{WallStart: start.Add(-time.Second), WallEnd: start.Add(11 * time.Second), Sync: result.ClockSynchronized}}
		d.sent += 10_000
		d.cpu += p.CPUSeconds
		d.files = append(d.files, File("produce", "run1", stackKindExternal, w, p))
	}
	for i, n := range []int64{12_000, 18_000} {
		e2e, up := randomLatencies(rng, int(n)), randomLatencies(rng, int(n/1000))
		d.e2es, d.uploads = append(d.e2es, e2e...), append(d.uploads, up...)
		sr := &result.StrategyResult{Strategy: "jsonl", Format: "jsonl", Layout: "dt-hour", Prefix: "dist/", Bucket: "b", FlushRecords: 1000,
			Semantics: "exactly-once", Members: 1, Consumed: n, MembersConsumed: []int64{n}, Objects: n / 1000, Bytes: n * 150, PutRequests: n / 1000,
			ExistingObjects: int64(i), EndToEnd: latencyOf(t, e2e), Upload: latencyOf(t, up)}
		p := result.Process{Role: result.RoleSink, Host: "sink" + string(rune('a'+i)), PID: 200 + i, Sink: sr, CPUSeconds: 2, PeakRSSBytes: int64(80+i) << 20,
			Clock: result.Clock{WallStart: start.Add(-2 * time.Second), WallEnd: start.Add(15 * time.Second), Sync: result.ClockSynchronized}}
		d.consumed, d.objects, d.bytes = d.consumed+n, d.objects+n/1000, d.bytes+n*150
		d.cpu += p.CPUSeconds
		d.files = append(d.files, File("sink", "g", stackKindExternal, result.Workload{Topic: "ticks"}, p))
	}
	return d
}

var stackKindExternal = stack.Kind{Name: "external", Kafka: "external", S3: "external"}

// TestMerge: the merge of 3 shards and 2 sinks sums the counts, adds the
// histograms (equal to the histograms of all values), keeps every
// process's row, and reads back through its file.
func TestMerge(t *testing.T) {
	d := newDistRun(t)
	m, err := Merge(d.files)
	if err != nil {
		t.Fatal(err)
	}
	if m.Role != result.RoleMerged || m.Mode != result.ModeDistributed || len(m.Processes) != 5 || len(m.Strategies) != 1 || m.Verified {
		t.Fatalf("merged: role %q mode %q, %d processes, %d strategies, verified %v", m.Role, m.Mode, len(m.Processes), len(m.Strategies), m.Verified)
	}
	s := m.Strategies[0]
	p := s.Producer
	if p.Sent != uint64(d.sent) || p.Acked != uint64(d.sent) || p.TargetRate != 3000 || !p.RateHeld || p.Workers != 3 {
		t.Fatalf("merged producer %+v: want %d sent and acked at 3000/s by 3 workers", p, d.sent)
	}
	if s.Consumed != d.consumed || s.Objects != d.objects || s.Bytes != d.bytes || s.Members != 2 || s.ExistingObjects != 1 ||
		!reflect.DeepEqual(s.MembersConsumed, []int64{12_000, 18_000}) {
		t.Fatalf("merged sinks %+v", s)
	}
	if want := d.cpu / float64(d.sent) * 1e6; s.CPUSecondsPerMillion != want || s.PeakRSSBytes != 81<<20 {
		t.Fatalf("cpu %v s/M, peak %d: want %v and the largest process's %d", s.CPUSecondsPerMillion, s.PeakRSSBytes, want, 81<<20)
	}
	for _, h := range []struct {
		name   string
		got    result.Latency
		values []int64
	}{{"publish delay", p.PublishDelay, d.delays}, {"publish", p.Publish, d.pubs}, {"e2e", s.EndToEnd, d.e2es}, {"upload", s.Upload, d.uploads}} {
		if want := latencyOf(t, h.values); !reflect.DeepEqual(h.got, want) {
			t.Errorf("%s: merged %+v, histogram of all values %+v", h.name, h.got, want)
		}
	}
	if n, err := m.Expected(); err != nil || n != uint64(d.sent) {
		t.Fatalf("expected %d, %v: want %d", n, err, d.sent)
	}
	var out bytes.Buffer
	m.PrintSummary(&out)
	for _, want := range []string{"process", "gena", "1/3", "sinkb", "18,000", "synchronized"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}

	path := filepath.Join(t.TempDir(), "merged.json")
	if err := m.Save(context.Background(), path, nil); err != nil {
		t.Fatal(err)
	}
	back, err := result.LoadResults(context.Background(), nil, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	if err := back[0].SetVerify("dist/", result.Verify{OK: true}); err != nil || !back[0].Verified {
		t.Fatalf("set verify: %v, verified %v", err, back[0].Verified)
	}
	if err := back[0].SetVerify("other/", result.Verify{OK: true}); err == nil {
		t.Fatal("set verify of a prefix no sink landed under: no error")
	}
}

func TestMergeRejects(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(d *distRun) []*result.Result
		want string
	}{
		{"missing shard", func(d *distRun) []*result.Result { return append(d.files[:1:1], d.files[2:]...) }, "merge: shards 1/3 missing"},
		{"shard twice", func(d *distRun) []*result.Result { return append(d.files, d.files[0]) }, "merge: shard 0/3 twice"},
		{"other workload", func(d *distRun) []*result.Result { d.files[1].Workload.Seed = 2; return d.files }, "not one run"},
		{"no producer", func(d *distRun) []*result.Result { return d.files[3:] }, "no producer's result"},
		{"a bench result", func(d *distRun) []*result.Result { d.files[0].Role = ""; return d.files }, `role "" is not a process's result`},
	} {
		_, err := Merge(tt.edit(newDistRun(t)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestCheckClocks(t *testing.T) {
	row := func(host, sync string, maxErr int64, stepped float64) result.Process {
		return result.Process{Host: host, PID: 1, Clock: result.Clock{Sync: sync, MaxErrorUS: maxErr, SteppedS: stepped}}
	}
	for _, tt := range []struct {
		rows  []result.Process
		bound int64
		note  string
	}{
		{[]result.Process{row("a", result.ClockUnsynchronized, 16e6, 0), row("a", result.ClockUnsynchronized, 16e6, 0)}, 0,
			"one host: intended and acknowledged times come from one clock"},
		{[]result.Process{row("a", result.ClockSynchronized, 5000, 0), row("b", result.ClockSynchronized, 20000, 0), row("b", result.ClockSynchronized, 1000, 0), row("c", result.ClockSynchronized, 10000, 0)}, 30000,
			"3 hosts, all synchronized: end-to-end across hosts is within ±30.0 ms"},
		{[]result.Process{row("a", result.ClockSynchronized, 5000, 0), row("b", result.ClockUnknown, 0, 0)}, 0,
			"2 hosts, b not synchronized: end-to-end across hosts is not asserted"},
		{[]result.Process{row("a", result.ClockSynchronized, 5000, 0.25), row("b", result.ClockSynchronized, 5000, 0)}, 10000,
			"2 hosts, all synchronized: end-to-end across hosts is within ±10.0 ms; wall clock stepped during the run: a pid 1 by 0.250s"},
	} {
		c := checkClocks(tt.rows)
		if c.SkewBoundUS != tt.bound || c.Note != tt.note {
			t.Errorf("bound %d, note %q: want %d, %q", c.SkewBoundUS, c.Note, tt.bound, tt.note)
		}
	}
}
