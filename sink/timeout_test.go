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
