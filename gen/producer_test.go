package gen

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/tick"
)

// cluster starts an in-process broker with topic "ticks" and a producer
// client on it.
func cluster(t *testing.T) (*kfake.Cluster, *kgo.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "ticks"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return c, cl
}

// consume reads n ticks from the topic, failing on a record that is not a
// tick, has a key other than its symbol, or a Kafka timestamp other than
// its intended time.
func consume(t *testing.T, c *kfake.Cluster, n int) []tick.Tick {
	t.Helper()
	return consumeWith(t, c, n, tick.DecodeJSON)
}

// consumeWith is consume with a decoder of the wire format.
func consumeWith(t *testing.T, c *kfake.Cluster, n int, decode func([]byte, *tick.Tick) error) []tick.Tick {
	t.Helper()
	consumer, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("ticks"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []tick.Tick
	for len(out) < n {
		fs := consumer.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("after %d records: %v", len(out), err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var tk tick.Tick
			if err := decode(r.Value, &tk); err != nil {
				t.Fatalf("record %d: %v", r.Offset, err)
			}
			if string(r.Key) != tk.Symbol {
				t.Fatalf("key %q, symbol %q", r.Key, tk.Symbol)
			}
			if r.Timestamp.UnixMilli() != time.Unix(0, tk.Intended).UnixMilli() {
				t.Fatalf("kafka timestamp %v != intended %v", r.Timestamp, time.Unix(0, tk.Intended))
			}
			out = append(out, tk)
		})
	}
	return out
}

// TestProducerOpenLoop: a generator that finds itself behind schedule sends
// the overdue ticks at once and keeps their intended times; every tick
// reaches Kafka keyed by symbol.
func TestProducerOpenLoop(t *testing.T) {
	c, cl := cluster(t)
	model, err := NewModel(DefaultModelConfig())
	if err != nil {
		t.Fatal(err)
	}

	// The clock jumps 300 ms right after the run starts: ticks due in
	// [0, 300 ms) are all overdue at once.
	var calls atomic.Int64
	jump := 300 * time.Millisecond
	now := func() time.Time {
		if calls.Add(1) == 1 {
			return time.Now()
		}
		return time.Now().Add(jump)
	}
	var lateHanded atomic.Int64
	const rate, n = 1000, 500
	p := &Producer{
		Client: cl, Topic: "ticks", Source: model, Now: now,
		Pacer: Constant{PerSecond: rate, Duration: n * time.Second / rate},
		Hooks: Hooks{Sent: func(_ int, intended, handed int64) {
			if handed-intended > int64(100*time.Millisecond) {
				lateHanded.Add(1)
			}
		}},
	}
	res, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != n || res.Acked != n || res.Interrupted || res.Workers != 1 {
		t.Fatalf("result %+v, want %d sent and acked by 1 worker", res, n)
	}
	if lateHanded.Load() < 150 {
		t.Fatalf("only %d ticks were handed over >100ms late; the clock jump should make ~200 overdue", lateHanded.Load())
	}
	seen := make([]bool, n)
	for _, tk := range consume(t, c, n) {
		wantIntended := res.Start.UnixNano() + int64(tk.Seq)*int64(time.Second)/rate
		if tk.Intended != wantIntended {
			t.Fatalf("seq %d intended %d, want start + seq/rate = %d", tk.Seq, tk.Intended, wantIntended)
		}
		if seen[tk.Seq] {
			t.Fatalf("seq %d twice", tk.Seq)
		}
		seen[tk.Seq] = true
	}
}

// TestProducerWorkersSplitTheStream: k workers together send exactly the
// ticks one generator would, each once, at the intended times the pacer
// gives, for every pacer shape; every worker sends its share and reports
// its own index to Sent.
func TestProducerWorkersSplitTheStream(t *testing.T) {
	cfg := DefaultModelConfig()
	cfg.Symbols = 7 // short walk chunks: workers cross many of them
	pacers := []Pacer{
		Constant{PerSecond: 20_000, Duration: 100 * time.Millisecond},
		Ramp{From: 0, To: 40_000, Duration: 100 * time.Millisecond},
		NewSteps(Step{10_000, 50 * time.Millisecond}, Step{0, 20 * time.Millisecond}, Step{30_000, 30 * time.Millisecond}),
		Sine{Mean: 20_000, Amplitude: 20_000, Period: 40 * time.Millisecond, Duration: 100 * time.Millisecond},
		Burst{Base: 5_000, Spike: 50_000, For: 10 * time.Millisecond, Every: 30 * time.Millisecond, Duration: 100 * time.Millisecond},
		Unlimited{Count: 2000},
	}
	for _, workers := range []int{1, 2, 3, 7} {
		for _, pacer := range pacers {
			t.Run(fmt.Sprintf("%T/workers=%d", pacer, workers), func(t *testing.T) {
				c, cl := cluster(t)
				model, err := NewModel(cfg)
				if err != nil {
					t.Fatal(err)
				}
				perWorker := make([]atomic.Int64, workers)
				p := &Producer{Client: cl, Topic: "ticks", Source: model, Pacer: pacer, Workers: workers,
					Hooks: Hooks{Sent: func(w int, _, _ int64) { perWorker[w].Add(1) }}}
				res, err := p.Run(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				var want uint64
				if s, ok := pacer.(Shape); ok {
					want = Total(s)
				} else {
					want = pacer.(Unlimited).Count
				}
				if res.Sent != want || res.Acked != want || res.Workers != workers || p.Progress().Sent != want {
					t.Fatalf("result %+v, progress %+v: want %d ticks sent and acked by %d workers", res, p.Progress(), want, workers)
				}
				for w := range perWorker {
					share := (int64(want) - int64(w) + int64(workers) - 1) / int64(workers)
					if got := perWorker[w].Load(); got != share {
						t.Errorf("worker %d sent %d ticks, want its share %d", w, got, share)
					}
				}
				single, err := NewModel(cfg)
				if err != nil {
					t.Fatal(err)
				}
				got := consume(t, c, int(want))
				bySeq := make([]*tick.Tick, want)
				for i := range got {
					tk := &got[i]
					if tk.Seq >= want || bySeq[tk.Seq] != nil {
						t.Fatalf("seq %d out of range or twice", tk.Seq)
					}
					bySeq[tk.Seq] = tk
				}
				for seq, tk := range bySeq {
					if due, ok := pacer.Due(uint64(seq)); ok && pacer.Peak() > 0 && tk.Intended != res.Start.UnixNano()+int64(due) {
						t.Fatalf("seq %d intended %d, want start + Due = %d", seq, tk.Intended, res.Start.UnixNano()+int64(due))
					}
					var ref tick.Tick
					single.Next(uint64(seq), tk.Intended, &ref)
					if *tk != ref {
						t.Fatalf("seq %d: workers sent %+v, one generator gives %+v", seq, *tk, ref)
					}
				}
			})
		}
	}
}

// TestProducerShardsUnionIsTheStream: N shards, each a Producer of its own
// (as separate processes would run them) with a shared start, together
// send exactly the ticks one generator sends, tick for tick, at the same
// intended times, each shard its share, for several N and worker counts.
func TestProducerShardsUnionIsTheStream(t *testing.T) {
	cfg := DefaultModelConfig()
	cfg.Symbols = 7
	pacer := Ramp{From: 1000, To: 20_000, Duration: 200 * time.Millisecond}
	want := Total(pacer)
	// A start an hour ago makes every tick overdue, so the shards send at
	// once and each tick's intended time is start + Due(n) exactly.
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	single, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ shards, workers int }{{1, 1}, {2, 1}, {3, 2}, {5, 3}} {
		t.Run(fmt.Sprintf("shards=%d/workers=%d", tt.shards, tt.workers), func(t *testing.T) {
			c, cl := cluster(t)
			var sent uint64
			for i := range tt.shards {
				model, err := NewModel(cfg)
				if err != nil {
					t.Fatal(err)
				}
				p := &Producer{Client: cl, Topic: "ticks", Source: model, Pacer: pacer, Workers: tt.workers,
					Shard: Shard{Index: i, Count: tt.shards}, Start: start}
				res, err := p.Run(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				share := (want - uint64(i) + uint64(tt.shards) - 1) / uint64(tt.shards)
				if res.Sent != share || res.Acked != share || !res.Start.Equal(start) {
					t.Fatalf("shard %d/%d: result %+v, want %d ticks sent and acked from start %v", i, tt.shards, res, share, start)
				}
				sent += res.Sent
			}
			got := consume(t, c, int(sent))
			seen := make([]bool, want)
			for _, tk := range got {
				if tk.Seq >= want || seen[tk.Seq] {
					t.Fatalf("seq %d out of range 0..%d or twice", tk.Seq, want-1)
				}
				seen[tk.Seq] = true
				due, _ := pacer.Due(tk.Seq)
				var ref tick.Tick
				single.Next(tk.Seq, start.UnixNano()+int64(due), &ref)
				if tk != ref {
					t.Fatalf("seq %d: the shards sent %+v, one generator gives %+v", tk.Seq, tk, ref)
				}
			}
			if sent != want {
				t.Fatalf("shards sent %d ticks together, one generator sends %d", sent, want)
			}
		})
	}
}

// TestProducerWaitsForStart: nothing is handed over before a future start,
// and the schedule counts from it.
func TestProducerWaitsForStart(t *testing.T) {
	_, cl := cluster(t)
	model, err := NewModel(DefaultModelConfig())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(300 * time.Millisecond)
	var early atomic.Int64
	p := &Producer{Client: cl, Topic: "ticks", Source: model, Pacer: Constant{PerSecond: 1000, Duration: time.Second}, Start: start,
		Shard: Shard{Index: 1, Count: 2},
		Hooks: Hooks{Sent: func(_ int, intended, handed int64) {
			if handed < start.UnixNano() || intended < start.UnixNano() {
				early.Add(1)
			}
		}}}
	res, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if early.Load() > 0 || res.Sent != 500 || !res.Start.Equal(start) {
		t.Fatalf("%d ticks before the start; result %+v, want 500 sent (every other of 1000) from %v", early.Load(), res, start)
	}
}

func TestParseShard(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"0/1", "0/1"}, {"2/3", "2/3"}, {"1023/1024", "1023/1024"},
		{"3/3", "shard 3/3: allowed i/N with 1 <= N <= 1024 and 0 <= i < N"},
		{"0/0", `shard "0/0": allowed i/N with 1 <= N <= 1024 and 0 <= i < N`},
		{"-1/2", "shard -1/2: allowed i/N with 1 <= N <= 1024 and 0 <= i < N"},
		{"0/1025", "shard 0/1025: allowed i/N with 1 <= N <= 1024 and 0 <= i < N"},
		{"1", `shard "1": not i/N (e.g. 0/3: the first of 3 shards)`},
		{"a/3", `shard "a/3": not i/N (e.g. 0/3: the first of 3 shards)`},
	} {
		s, err := ParseShard(tt.in)
		got := s.String()
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("ParseShard(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestProducerRejectsWorkers(t *testing.T) {
	p := &Producer{Workers: MaxWorkers + 1, Pacer: Unlimited{Count: 1}}
	if _, err := p.Run(context.Background()); err == nil || err.Error() != "producer workers 1025: allowed 0 (automatic) or 1..1024" {
		t.Fatalf("Run with %d workers: %v", p.Workers, err)
	}
}

func TestProducerAutomaticWorkers(t *testing.T) {
	for _, tt := range []struct {
		pacer Pacer
		want  int
	}{
		{Constant{PerSecond: 1000, Duration: time.Second}, 1},
		{Constant{PerSecond: OneWorkerRate, Duration: time.Second}, 1},
		{Constant{PerSecond: OneWorkerRate + 1, Duration: time.Second}, 0},
		{Ramp{From: 1000, To: 2 * OneWorkerRate, Duration: time.Second}, 0},
		{Unlimited{Count: 10}, 0},
	} {
		want := tt.want
		if want == 0 {
			want = runtime.GOMAXPROCS(0)
		}
		if got := (&Producer{Pacer: tt.pacer}).WorkerCount(); got != want {
			t.Errorf("%v: %d workers, want %d", tt.pacer, got, want)
		}
	}
}

// BenchmarkProducer is the whole generator path, model to franz-go client,
// against an in-process broker (which shares the CPU), unlimited, with 1
// and 2 workers; ticks/s counts acknowledged ticks.
func BenchmarkProducer(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "ticks"))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			opts, err := DefaultClientConfig().Options()
			if err != nil {
				b.Fatal(err)
			}
			cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(c.ListenAddrs()...))...)
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			model, err := NewModel(DefaultModelConfig())
			if err != nil {
				b.Fatal(err)
			}
			p := &Producer{Client: cl, Topic: "ticks", Source: model, Pacer: Unlimited{Count: uint64(b.N)}, Workers: workers}
			b.ReportAllocs()
			b.ResetTimer()
			res, err := p.Run(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(res.Acked)/b.Elapsed().Seconds(), "ticks/s")
		})
	}
}

func TestElapsedSince(t *testing.T) {
	// A start parsed from a flag has no monotonic reading: the wall clock
	// places it once, the monotonic clock measures from there.
	start := time.Unix(0, time.Now().Add(-2*time.Second).UnixNano())
	since := elapsedSince(start, nil)
	if d := since(); d < 2*time.Second || d > 3*time.Second {
		t.Fatalf("since a start 2 s ago = %v", d)
	}
	a := since()
	if b := since(); b < a {
		t.Fatalf("the clock went back: %v then %v", a, b)
	}
	fake := start.Add(1500 * time.Millisecond)
	if d := elapsedSince(start, func() time.Time { return fake })(); d != 1500*time.Millisecond {
		t.Fatalf("with an injected clock: %v, want 1.5s", d)
	}
}
