package sink

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/tickbench/tickbench/tick"
	"github.com/tickbench/tickbench/tick/wire"
)

// TestSinkWire: a sink of each framed wire format lands every good tick
// and sets each bad value aside in errors/ with its reason, losing none.
func TestSinkWire(t *testing.T) {
	reg := srfake.New()
	t.Cleanup(reg.Close)
	for _, f := range []wire.Format{wire.Avro, wire.Protobuf} {
		t.Run(f.String(), func(t *testing.T) {
			brokers := testCluster(t, 2)
			wc := wire.Config{Format: f, Registry: reg.URL()}
			enc, err := wire.NewEncoder(t.Context(), wc, "ticks")
			if err != nil {
				t.Fatal(err)
			}
			const n = 500
			var vals [][]byte
			for i := range n {
				tk := tick.Tick{Symbol: []string{"ABCD", "XY"}[i%2], Seq: uint64(i), Intended: base + int64(i)*int64(time.Millisecond),
					Price: 10, Size: uint32(i), Bid: 9.99, Ask: 10.01, BidSize: 100, AskSize: 100, Exchange: "XNAS"}
				vals = append(vals, enc.Append(nil, &tk))
			}
			good := vals[0]
			unknown := bytes.Clone(good)
			binary.BigEndian.PutUint32(unknown[1:5], 123456)
			bad := []struct {
				value  []byte
				reason string
			}{
				{append([]byte{7}, good[1:]...), "magic byte 0x07, want 0x00"},
				{good[:4], "truncated frame: 4 bytes"},
				{unknown, "schema id 123456: not in the registry"},
				{good[:len(good)-2], "truncated"},
				{[]byte(`{"symbol":"ABCD"}`), "magic byte 0x7b"},
			}
			// The bad values first: the batch that covers them is cut once it
			// holds 100 ticks, and lands with its errors/ object.
			var all [][]byte
			for _, b := range bad {
				all = append(all, b.value)
			}
			produceValues(t, brokers, "ticks", append(all, vals...))

			cfg := DefaultConfig()
			cfg.Brokers, cfg.Topic, cfg.Group, cfg.Prefix, cfg.Wire = brokers, "ticks", "g", "runs/r/jsonl/", wc
			cfg.Policy.Records = 100
			store := &memStore{objects: map[string][]byte{}}
			if err := runUntilLanded(t, cfg, store, n); err != nil {
				t.Fatal(err)
			}
			seen := map[uint64]bool{}
			var rejects []Reject
			for key, body := range store.objects {
				if strings.Contains(key, ErrorsDir) {
					sc := bufio.NewScanner(bytes.NewReader(body))
					for sc.Scan() {
						var r Reject
						if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
							t.Fatal(err)
						}
						rejects = append(rejects, r)
					}
					continue
				}
				if err := ReadTicks(JSONL{}, body, func(tk *tick.Tick) error {
					if seen[tk.Seq] {
						t.Fatalf("seq %d twice", tk.Seq)
					}
					seen[tk.Seq] = true
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			if len(seen) != n {
				t.Fatalf("%d of %d ticks landed", len(seen), n)
			}
			if len(rejects) != len(bad) {
				t.Fatalf("%d rejects in errors/, want %d: %+v", len(rejects), len(bad), rejects)
			}
			for _, b := range bad {
				found := false
				for _, r := range rejects {
					if bytes.Equal(r.Value, b.value) {
						found = true
						if !strings.Contains(r.Reason, b.reason) {
							t.Errorf("%x set aside for %q, want %q", b.value, r.Reason, b.reason)
						}
					}
				}
				if !found {
					t.Errorf("%x (%s) not in errors/", b.value, b.reason)
				}
			}
		})
	}
}

// TestSinkWireRegistryDown: a registry that does not answer stops the
// sink with an error saying so, and nothing is landed or set aside: the
// records wait in Kafka for a replay.
func TestSinkWireRegistryDown(t *testing.T) {
	reg := srfake.New()
	brokers := testCluster(t, 1)
	wc := wire.Config{Format: wire.Avro, Registry: reg.URL(), Timeout: time.Second}
	enc, err := wire.NewEncoder(t.Context(), wc, "ticks")
	if err != nil {
		t.Fatal(err)
	}
	reg.Close()
	tk := tick.Tick{Symbol: "ABCD", Intended: base, Price: 10, Bid: 9.99, Ask: 10.01, Exchange: "XNAS"}
	produceValues(t, brokers, "ticks", [][]byte{enc.Append(nil, &tk)})
	cfg := DefaultConfig()
	cfg.Brokers, cfg.Topic, cfg.Group, cfg.Prefix, cfg.Wire = brokers, "ticks", "g", "runs/r/jsonl/", wc
	store := &memStore{objects: map[string][]byte{}}
	err = runUntilLanded(t, cfg, store, 1)
	if !errors.Is(err, wire.ErrUnavailable) || !strings.Contains(err.Error(), "partition 0 offset 0") {
		t.Fatalf("Run = %v, want it to stop on the unavailable registry", err)
	}
	if len(store.objects) != 0 {
		t.Fatalf("objects landed: %v", store.objects)
	}
}

// produceValues writes raw record values to topic, in order, to one
// partition.
func produceValues(t *testing.T, brokers []string, topic string, vals [][]byte) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, v := range vals {
		recs = append(recs, &kgo.Record{Value: v})
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}
