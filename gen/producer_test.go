package gen

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/tick"
)

// TestProducerOpenLoop: a generator that finds itself behind schedule sends
// the overdue ticks at once and keeps their intended times; every tick
// reaches Kafka keyed by symbol.
func TestProducerOpenLoop(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "ticks"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
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
		Hooks: Hooks{Sent: func(intended, handed int64) {
			if handed-intended > int64(100*time.Millisecond) {
				lateHanded.Add(1)
			}
		}},
	}
	res, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != n || res.Acked != n || res.Interrupted {
		t.Fatalf("result %+v, want %d sent and acked", res, n)
	}
	if lateHanded.Load() < 150 {
		t.Fatalf("only %d ticks were handed over >100ms late; the clock jump should make ~200 overdue", lateHanded.Load())
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("ticks"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := make([]bool, n)
	for got := 0; got < n; {
		fs := consumer.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("after %d records: %v", got, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var tk tick.Tick
			if err := tick.DecodeJSON(r.Value, &tk); err != nil {
				t.Fatalf("record %d: %v", r.Offset, err)
			}
			if string(r.Key) != tk.Symbol {
				t.Fatalf("key %q, symbol %q", r.Key, tk.Symbol)
			}
			wantIntended := res.Start.UnixNano() + int64(tk.Seq)*int64(time.Second)/rate
			if tk.Intended != wantIntended {
				t.Fatalf("seq %d intended %d, want start + seq/rate = %d", tk.Seq, tk.Intended, wantIntended)
			}
			if r.Timestamp.UnixMilli() != time.Unix(0, tk.Intended).UnixMilli() {
				t.Fatalf("kafka timestamp %v != intended %v", r.Timestamp, time.Unix(0, tk.Intended))
			}
			if seen[tk.Seq] {
				t.Fatalf("seq %d twice", tk.Seq)
			}
			seen[tk.Seq] = true
			got++
		})
	}
}
