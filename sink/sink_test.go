package sink

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/tick"
)

// base is 2026-11-25 12:59:58 UTC: two seconds before an hour boundary.
var base = time.Date(2026, 11, 25, 12, 59, 58, 0, time.UTC).UnixNano()

func record(partition int32, offset int64, intended int64) *kgo.Record {
	t := tick.Tick{Symbol: "ABCD", Seq: uint64(offset), Intended: intended, Price: 10, Size: 100,
		Bid: 9.99, Ask: 10.01, BidSize: 100, AskSize: 100, Exchange: "XNAS"}
	return &kgo.Record{Topic: "ticks", Partition: partition, Offset: offset, Value: tick.AppendJSON(nil, &t)}
}

func newTestSink(t *testing.T, p Policy) *Sink {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Brokers, cfg.Topic, cfg.Group, cfg.Prefix, cfg.Policy = []string{"x"}, "ticks", "g", "runs/r1/jsonl/", p
	s, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// cut feeds records through one batcher per partition and describes each
// completed batch as "p:start-next", and the open batches the same way.
func cut(p Policy, l Layout, recs []*kgo.Record) (done, open []string) {
	bts := map[int32]*batcher{}
	for _, r := range recs {
		bt := bts[r.Partition]
		if bt == nil {
			bt = newBatcher(r.Partition, p, l, JSONL{}, JSONL{}.NewEncoder)
			bts[r.Partition] = bt
		}
		for _, b := range bt.add(r, nil) {
			done = append(done, fmt.Sprintf("p%d:%d-%d", b.partition, b.start, b.next))
		}
	}
	for _, p := range slices.Sorted(maps.Keys(bts)) {
		if b := bts[p].open; b != nil && !b.empty() {
			open = append(open, fmt.Sprintf("p%d:%d-%d", b.partition, b.start, b.next))
		}
	}
	return done, open
}

func TestBatchBoundaries(t *testing.T) {
	ms := int64(time.Millisecond)
	tests := []struct {
		name     string
		policy   Policy
		recs     []*kgo.Record
		want     []string
		wantOpen string
	}{
		{
			name:   "records",
			policy: Policy{Records: 10, Bytes: 1 << 20, Interval: time.Hour},
			recs: func() (rs []*kgo.Record) {
				for i := range 25 {
					rs = append(rs, record(0, int64(i), base-int64(time.Hour)+int64(i)*ms))
				}
				return rs
			}(),
			want:     []string{"p0:0-10", "p0:10-20"},
			wantOpen: "p0:20-25",
		},
		{
			name:   "event-time interval",
			policy: Policy{Records: 1000, Bytes: 1 << 20, Interval: 100 * time.Millisecond},
			recs: []*kgo.Record{
				record(0, 0, base-10*int64(time.Second)), record(0, 1, base-10*int64(time.Second)+99*ms),
				record(0, 2, base-10*int64(time.Second)+100*ms), record(0, 3, base-10*int64(time.Second)+150*ms),
			},
			want:     []string{"p0:0-2"},
			wantOpen: "p0:2-4",
		},
		{
			name:   "hour boundary",
			policy: Policy{Records: 1000, Bytes: 1 << 20, Interval: time.Hour},
			recs: []*kgo.Record{
				record(0, 0, base), record(0, 1, base+int64(time.Second)), record(0, 2, base+2*int64(time.Second)),
			},
			want:     []string{"p0:0-2"},
			wantOpen: "p0:2-3",
		},
		{
			name:   "bytes",
			policy: Policy{Records: 1000, Bytes: 1024, Interval: time.Hour},
			recs: func() (rs []*kgo.Record) {
				for i := range 20 {
					rs = append(rs, record(0, int64(i), base-int64(time.Hour)))
				}
				return rs
			}(),
			// Each line is about 140 bytes: the 8th reaches 1024.
			want:     []string{"p0:0-8", "p0:8-16"},
			wantOpen: "p0:16-20",
		},
		{
			name:   "partitions are independent",
			policy: Policy{Records: 2, Bytes: 1 << 20, Interval: time.Hour},
			recs: []*kgo.Record{
				record(0, 0, base-int64(time.Hour)), record(1, 0, base-int64(time.Hour)),
				record(0, 1, base-int64(time.Hour)), record(1, 1, base-int64(time.Hour)), record(1, 2, base-int64(time.Hour)),
			},
			want:     []string{"p0:0-2", "p1:0-2"},
			wantOpen: "p1:2-3",
		},
		{
			name:   "invalid record is covered but not encoded",
			policy: Policy{Records: 2, Bytes: 1 << 20, Interval: time.Hour},
			recs: []*kgo.Record{
				record(0, 0, base-int64(time.Hour)),
				{Topic: "ticks", Partition: 0, Offset: 1, Value: []byte("not a tick")},
				record(0, 2, base-int64(time.Hour)),
			},
			want: []string{"p0:0-3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, open := cut(tt.policy, LayoutHourly, tt.recs)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("batches = %v, want %v", got, tt.want)
			}
			if strings.Join(open, " ") != tt.wantOpen {
				t.Fatalf("open batches = %v, want %q", open, tt.wantOpen)
			}
		})
	}
}

// TestReplayRewritesSameObjects is the exactly-once property: a sink that
// restarts from a committed offset cuts the same batches, so it writes the
// same keys with the same bytes.
func TestReplayRewritesSameObjects(t *testing.T) {
	p := Policy{Records: 7, Bytes: 1 << 20, Interval: 50 * time.Millisecond}
	var recs []*kgo.Record
	for i := range 100 {
		recs = append(recs, record(3, int64(i), base-int64(time.Hour)+int64(i)*int64(3*time.Millisecond)))
	}
	objects := func(from int) map[string][]byte {
		bt := newBatcher(3, p, LayoutHourly, JSONL{}, JSONL{}.NewEncoder)
		var ready []*batch
		for _, r := range recs[from:] {
			ready = bt.add(r, ready)
		}
		out := map[string][]byte{}
		for _, b := range ready {
			for _, o := range b.objects {
				body, _ := o.enc.Finish()
				out[ObjectKey("runs/r1/jsonl/", o.dir, "ticks", b.partition, o.start, "jsonl")] = body
			}
		}
		return out
	}
	first := objects(0)
	// Restart at the start of the second object, as if its commit was the
	// last to land before a crash.
	var restart int64 = -1
	for k := range first {
		var off int64
		fmt.Sscanf(k[strings.LastIndex(k, "+")+1:], "%020d", &off)
		if off > 0 && (restart < 0 || off < restart) {
			restart = off
		}
	}
	replay := objects(int(restart))
	if len(replay) == 0 {
		t.Fatal("replay produced no objects")
	}
	for k, body := range replay {
		orig, ok := first[k]
		if !ok {
			t.Fatalf("replay wrote a key the first run did not: %s", k)
		}
		if !bytes.Equal(orig, body) {
			t.Fatalf("replay wrote different bytes under %s", k)
		}
	}
}

func TestObjectKey(t *testing.T) {
	at := time.Date(2026, 3, 7, 9, 15, 0, 0, time.FixedZone("EST", -5*3600)) // 14:15 UTC
	tk := tick.Tick{Symbol: "ABCD", Intended: at.UnixNano()}
	for _, tt := range []struct {
		layout Layout
		want   string
	}{
		{LayoutHourly, "runs/r1/jsonl/dt=2026-03-07/hour=14/ticks+4+00000000000000001234.jsonl"},
		{LayoutSymbol, "runs/r1/jsonl/dt=2026-03-07/symbol=ABCD/ticks+4+00000000000000001234.jsonl"},
		{LayoutNone, "runs/r1/jsonl/ticks+4+00000000000000001234.jsonl"},
	} {
		if got := ObjectKey("runs/r1/jsonl/", tt.layout.Dir(&tk), "ticks", 4, 1234, "jsonl"); got != tt.want {
			t.Errorf("%s: ObjectKey = %q, want %q", tt.layout, got, tt.want)
		}
	}
}

func TestPeriodOf(t *testing.T) {
	h := int64(time.Hour)
	for _, tt := range []struct{ ns, want int64 }{{0, 0}, {h - 1, 0}, {h, 1}, {-1, -1}, {-h, -1}, {-h - 1, -2}} {
		if got := periodOf(tt.ns, time.Hour); got != tt.want {
			t.Errorf("periodOf(%d, 1h) = %d, want %d", tt.ns, got, tt.want)
		}
	}
	if got := periodOf(5*h, 0); got != 0 {
		t.Errorf("periodOf with no period = %d, want 0", got)
	}
}

// TestSymbolLayout: one batch becomes one object per symbol, each keyed by
// the offset of its own first record.
func TestSymbolLayout(t *testing.T) {
	bt := newBatcher(0, Policy{Records: 6, Bytes: 1 << 20, Interval: time.Hour}, LayoutSymbol, JSONL{}, JSONL{}.NewEncoder)
	var ready []*batch
	for i, sym := range []string{"AAAA", "BBBB", "AAAA", "CCCC", "BBBB", "AAAA"} {
		r := record(0, int64(10+i), base-int64(time.Hour))
		var tk tick.Tick
		if err := tick.DecodeJSON(r.Value, &tk); err != nil {
			t.Fatal(err)
		}
		tk.Symbol = sym
		r.Value = tick.AppendJSON(nil, &tk)
		ready = bt.add(r, ready)
	}
	if len(ready) != 1 {
		t.Fatalf("%d batches, want 1", len(ready))
	}
	got := map[string]int{}
	for _, o := range ready[0].objects {
		got[ObjectKey("", o.dir, "ticks", 0, o.start, "jsonl")] = o.count
	}
	want := map[string]int{
		"dt=2026-11-25/symbol=AAAA/ticks+0+00000000000000000010.jsonl": 3,
		"dt=2026-11-25/symbol=BBBB/ticks+0+00000000000000000011.jsonl": 2,
		"dt=2026-11-25/symbol=CCCC/ticks+0+00000000000000000013.jsonl": 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("objects %v, want %v", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Brokers, ok.Topic, ok.Group = []string{"x"}, "t", "g"
	tests := []struct {
		name    string
		mut     func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"zero records", func(c *Config) { c.Policy.Records = 0 }, "flush-records 0: allowed 1..10000000"},
		{"tiny bytes", func(c *Config) { c.Policy.Bytes = 10 }, "flush-bytes 10: allowed 1024..5368709120"},
		{"zero interval", func(c *Config) { c.Policy.Interval = 0 }, "flush-interval 0s: allowed 1ms..1h"},
		{"no brokers", func(c *Config) { c.Brokers = nil }, "brokers: none given"},
		{"no uploaders", func(c *Config) { c.Uploaders = 0 }, "uploaders 0: allowed 1..256"},
		{"no topic", func(c *Config) { c.Topic = "" }, "topic: empty"},
		{"no group", func(c *Config) { c.Group = "" }, "group: empty"},
		{"no format", func(c *Config) { c.Format = nil }, "format: none given"},
		{"layout", func(c *Config) { c.Layout = "daily" }, `layout "daily": allowed none, dt-hour, dt-symbol`},
		{"max-age", func(c *Config) { c.Policy.MaxAge = 2 * time.Hour }, "max-age 2h0m0s: allowed 0 (off)..1h"},
		{"max-buffered", func(c *Config) { c.MaxBuffered = 1 }, "max-buffered 1: allowed >= 1048576 bytes"},
		{"session-timeout", func(c *Config) { c.SessionTimeout = time.Millisecond }, "session-timeout 1ms: allowed 1s..1h"},
		{"fetch-max-bytes", func(c *Config) { c.FetchMaxBytes = 1 }, "fetch-max-bytes 1: allowed 65536..268435456"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mut(&c)
			err := c.Validate()
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestEarlyFlushes: past the memory cap the largest batches are asked to
// cut first until the rest hold at most 7/8 of it; a partition cuts its
// open batch early when asked, at its drain target, and past MaxAge.
func TestEarlyFlushes(t *testing.T) {
	s := newTestSink(t, Policy{Records: 1000, Bytes: 1 << 20, Interval: time.Hour})
	parts := map[int32]*part{}
	for p, n := range map[int32]int{0: 300, 1: 100, 2: 200} {
		w := newPart(s, p)
		for i := range n {
			w.bt.add(record(p, int64(i), base-int64(time.Hour)), nil)
		}
		w.openMem.Store(int64(w.bt.mem()))
		s.hold(int64(w.bt.mem()))
		parts[p], s.parts[p] = w, w
	}
	m0, m1, m2 := parts[0].bt.mem(), parts[1].bt.mem(), parts[2].bt.mem()
	if s.open.Load() != int64(m0+m1+m2) || !(m0 > m2 && m2 > m1) {
		t.Fatalf("open %d, batches %d %d %d: want their sum, largest first 0 then 2", s.open.Load(), m0, m1, m2)
	}
	// Cutting 0 leaves m1+m2 > 7/8 of the cap; cutting 2 too leaves m1.
	s.cfg.MaxBuffered = m1 + m2
	s.relieve()
	var asked []int32
	for p, w := range parts {
		if w.cutEarly.Load() {
			asked = append(asked, p)
		}
	}
	slices.Sort(asked)
	if fmt.Sprint(asked) != "[0 2]" {
		t.Fatalf("memory cap asked partitions %v to cut, want [0 2] (largest first)", asked)
	}
	if b := parts[0].early(); b == nil || b.next != 300 || s.Stats().CappedFlushes != 1 {
		t.Fatalf("asked partition 0 cut %v (capped %d), want its batch of 300", b, s.Stats().CappedFlushes)
	}
	if b := parts[1].early(); b != nil {
		t.Fatalf("partition 1 cut early without a reason: %d records", b.count)
	}

	s.Drain(map[int32]int64{1: 100})
	if b := parts[1].early(); b == nil || b.next != 100 {
		t.Fatalf("partition 1 at its drain target cut %v, want its batch", b)
	}

	s.cfg.Policy.MaxAge = time.Minute
	w := parts[2]
	w.cutEarly.Store(false)
	if b := w.early(); b != nil {
		t.Fatalf("fresh batch cut by age")
	}
	w.bt.open.opened = time.Now().Add(-2 * time.Minute)
	if b := w.early(); b == nil || s.Stats().AgedFlushes != 1 {
		t.Fatalf("aged batch not cut (aged %d)", s.Stats().AgedFlushes)
	}
}
