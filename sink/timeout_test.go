package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/tick"
)

// memStore keeps objects in memory; stall makes every Put wait for its
// context, like an S3 endpoint that stopped answering.
type memStore struct {
	mu      sync.Mutex
	objects map[string][]byte
	stall   bool
}

func (m *memStore) Put(ctx context.Context, key string, body []byte, _ string, ifAbsent bool) (int, error) {
	if m.stall {
		<-ctx.Done()
		return 1, fmt.Errorf("upload %s: %w", key, ctx.Err())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key]; ok && ifAbsent {
		return 1, ErrExists
	}
	m.objects[key] = bytes.Clone(body)
	return 1, nil
}

func (m *memStore) Same(_ context.Context, key string, body []byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Equal(m.objects[key], body), nil
}

// produceTicks writes n valid ticks (plus extra raw values) to topic.
func produceTicks(t *testing.T, brokers []string, topic string, n int, extra ...[]byte) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Value: record(0, int64(i), base+int64(i)*int64(time.Millisecond)).Value})
	}
	for _, v := range extra {
		recs = append(recs, &kgo.Record{Value: v})
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func testCluster(t *testing.T, partitions int) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(partitions), kfake.SeedTopics(int32(partitions), "ticks"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// runUntilLanded runs a sink until want ticks landed or it fails.
func runUntilLanded(t *testing.T, cfg Config, store Store, want int64) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var landed int64
	s, err := New(cfg, store, func(l Landed) {
		if landed += int64(l.Ticks); landed >= want {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run(ctx)
	if landed < want && err == nil {
		t.Fatalf("sink stopped with %d of %d ticks landed: %+v", landed, want, s.Stats())
	}
	return err
}

// TestUploadGivesUpWithoutProgress: an S3 that never answers fails the
// upload once it made no progress for UploadTimeout; the batch is not
// committed, and the next member replays it in full.
func TestUploadGivesUpWithoutProgress(t *testing.T) {
	brokers := testCluster(t, 1)
	const n = 300
	produceTicks(t, brokers, "ticks", n)
	cfg := DefaultConfig()
	cfg.Brokers, cfg.Topic, cfg.Group, cfg.Prefix = brokers, "ticks", "g", "runs/r/jsonl/"
	cfg.Policy.Records = 100
	cfg.SessionTimeout = 6 * time.Second // the smallest brokers (and kfake) accept
	cfg.UploadTimeout = 3 * time.Second

	stalled := &memStore{objects: map[string][]byte{}, stall: true}
	began := time.Now()
	err := runUntilLanded(t, cfg, stalled, n)
	took := time.Since(began)
	if err == nil || !strings.Contains(err.Error(), "gave up: no upload progress for 3s") || !errors.Is(err, ErrStalled) {
		t.Fatalf("Run = %v, want it to give up after 3 s without progress", err)
	}
	// Bounded by the timeout, plus polling and the client's close.
	if took < cfg.UploadTimeout || took > 20*time.Second {
		t.Fatalf("gave up after %v", took)
	}

	t.Logf("first member: %v after %v", err, took)
	store := &memStore{objects: map[string][]byte{}}
	if err := runUntilLanded(t, cfg, store, n); err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, body := range store.objects {
		got += bytes.Count(body, []byte("\n"))
	}
	if got != n {
		t.Fatalf("replay landed %d ticks in %d objects, want all %d: the stalled batches were committed", got, len(store.objects), n)
	}
}

// zombieStore holds the first Put of each partition until release is
// closed, then writes it even if its caller gave up: the uploads of a
// member that died mid-flight, landing after the partition's next owner
// rewrote the same keys. Later Puts land at once, so the batches after a
// held one land but cannot be committed.
type zombieStore struct {
	*memStore
	release chan struct{}
	mu      sync.Mutex
	held    map[int32]int // Puts waiting, by partition
}

func (z *zombieStore) Put(ctx context.Context, key string, body []byte, ct string, ifAbsent bool) (int, error) {
	var p int32
	fmt.Sscanf(key[strings.Index(key, "ticks+")+len("ticks+"):], "%d+", &p)
	z.mu.Lock()
	first := z.held[p] == 0
	z.held[p]++
	z.mu.Unlock()
	if first {
		<-z.release
	}
	return z.memStore.Put(context.WithoutCancel(ctx), key, body, ct, ifAbsent)
}

// partitionsHeld counts the partitions with an upload held and a later
// one landed.
func (z *zombieStore) partitionsHeld() int {
	z.mu.Lock()
	defer z.mu.Unlock()
	n := 0
	for _, puts := range z.held {
		if puts > 1 {
			n++
		}
	}
	return n
}

// TestKillDuringInflightUploads: a member dies while uploads of several
// partitions are in flight. The next owner replays from the last commit;
// the dead member's uploads land late on the same keys. Every tick is in
// the store exactly once.
func TestKillDuringInflightUploads(t *testing.T) {
	const partitions, n = 6, 6000
	brokers := spreadTicks(t, partitions, n)

	cfg := DefaultConfig()
	cfg.Brokers, cfg.Topic, cfg.Group, cfg.Prefix = brokers, "ticks", "g", "runs/r/jsonl/"
	cfg.Policy.Records = 100
	cfg.SessionTimeout = 6 * time.Second
	shared := &memStore{objects: map[string][]byte{}}
	zombie := &zombieStore{memStore: shared, release: make(chan struct{}), held: map[int32]int{}}

	// The first member lands a few batches, then every upload hangs.
	first, err := New(cfg, zombie, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, kill := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for zombie.partitionsHeld() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("uploads in flight on %d partitions after 30 s, want 3", zombie.partitionsHeld())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Its uploads ignore the end of its context, like requests already on
	// the wire: it stays in the group until the next member's rebalance
	// revokes its partitions, waits the session timeout for them, and
	// abandons them uncommitted.
	kill()
	shared.mu.Lock()
	t.Logf("killed with uploads in flight on %d partitions; %d objects landed before", zombie.partitionsHeld(), len(shared.objects))
	shared.mu.Unlock()

	targets := map[int32]int64{}
	for p := range int32(partitions) {
		targets[p] = n / partitions
	}
	cfg2 := cfg
	next, err := New(cfg2, shared, nil)
	if err != nil {
		t.Fatal(err)
	}
	next.Drain(targets)
	ctx2, stop := context.WithTimeout(t.Context(), 60*time.Second)
	defer stop()
	go func() {
		for ctx2.Err() == nil && next.Stats().Objects < n/100 {
			time.Sleep(20 * time.Millisecond)
		}
		stop()
	}()
	if err := next.Run(ctx2); err != nil {
		t.Fatal(err)
	}
	close(zombie.release) // the dead member's uploads land now, late
	if err := <-done; err != nil {
		t.Fatalf("killed member: %v", err)
	}

	shared.mu.Lock()
	defer shared.mu.Unlock()
	eachOnce(t, shared.objects, n)
}

// spreadTicks starts a cluster whose topic "ticks" holds n ticks, seq i in
// partition i mod partitions, an hour before base (one dt= folder).
func spreadTicks(t *testing.T, partitions, n int) []string {
	t.Helper()
	brokers := testCluster(t, partitions)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic("ticks"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		r := record(int32(i%partitions), int64(i), base-int64(time.Hour)+int64(i)*int64(time.Microsecond))
		recs[i] = &kgo.Record{Partition: r.Partition, Value: r.Value}
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return brokers
}

// eachOnce checks that the JSON-lines objects hold ticks 0..n-1, each once.
func eachOnce(t *testing.T, objects map[string][]byte, n int) {
	t.Helper()
	seen := make([]int, n)
	for key, body := range objects {
		if err := ReadTicks(JSONL{}, body, func(tk *tick.Tick) error {
			if tk.Seq >= uint64(n) {
				return fmt.Errorf("seq %d out of range", tk.Seq)
			}
			seen[tk.Seq]++
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	for seq, c := range seen {
		if c != 1 {
			t.Fatalf("tick %d is in the store %d times", seq, c)
		}
	}
}
