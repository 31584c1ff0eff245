package iceberg_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/sink/iceberg"
	"github.com/tickbench/tickbench/stack"
	"github.com/tickbench/tickbench/tick"
)

// start is 2026-11-25 12:59:00 UTC: the ticks cross an hour boundary.
var start = time.Date(2026, 11, 25, 12, 59, 0, 0, time.UTC).UnixNano()

// fixture is an embedded stack with a topic of n ticks and an empty table.
type fixture struct {
	st    *stack.Stack
	cat   *iceberg.Catalog
	n     int
	parts int32
}

func newFixture(t *testing.T, parts int32) *fixture {
	t.Helper()
	ctx := context.Background()
	cfg := stack.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "s3")
	cfg.Partitions = parts
	st, err := stack.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cl, err := kgo.NewClient(kgo.SeedBrokers(st.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, parts, 1, nil, "ticks"); err != nil {
		t.Fatal(err)
	}
	cat, err := st.IcebergCatalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, cat: cat, parts: parts}
}

// produce sends n more ticks, seqs continuing from the last.
func (f *fixture) produce(t *testing.T, n int) {
	t.Helper()
	// Round-robin by seq: every partition gets ticks (five symbols could
	// leave one empty by their hash).
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.st.Brokers...), kgo.DefaultProduceTopic("ticks"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	symbols := []string{"AAPL", "MSFT", "NVDA", "AMZN", "GOOG"}
	recs := make([]*kgo.Record, n)
	for j := range n {
		i := f.n + j
		tk := tick.Tick{Symbol: symbols[i%len(symbols)], Seq: uint64(i), Intended: start + int64(i)*int64(50*time.Millisecond),
			Price: 100 + float64(i%100)/10, Size: uint32(1 + i%500), Bid: 99.9, Ask: 100.1, BidSize: 100, AskSize: 200, Exchange: "XNAS"}
		recs[j] = &kgo.Record{Key: []byte(tk.Symbol), Value: tick.AppendJSON(nil, &tk), Partition: int32(i) % f.parts}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	f.n += n
}

func (f *fixture) table(t *testing.T, name string) *iceberg.Table {
	t.Helper()
	tbl, err := iceberg.Open(context.Background(), f.cat, "tickbench", name, "s3://"+f.st.Bucket+"/"+name+"/", sink.LayoutHourly, "zstd")
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func (f *fixture) sinkConfig(tbl *iceberg.Table, name string) sink.Config {
	format, _ := sink.FormatByName("parquet-zstd")
	c := sink.DefaultConfig()
	c.Brokers, c.Topic, c.Group, c.Prefix, c.Format = f.st.Brokers, "ticks", "g-"+name, name+"/data/", format
	c.Policy = sink.Policy{Records: 150, Bytes: 64 << 20, Interval: time.Minute}
	c.Table, c.CommitInterval, c.SessionTimeout = tbl, 200*time.Millisecond, 6*time.Second
	return c
}

// member is a sink member running in the background.
type member struct {
	*sink.Sink
	cancel context.CancelFunc
	done   chan error
}

func startMember(t *testing.T, c sink.Config, store sink.Store) *member {
	t.Helper()
	s, err := sink.New(c, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{Sink: s, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- s.Run(ctx) }()
	t.Cleanup(func() { m.stop(t) })
	return m
}

// waitFor waits up to 60 s for cond, failing early if m ends.
func (m *member) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		select {
		case err := <-m.done:
			m.done <- err
			t.Fatalf("waiting for %s: the member ended: %v", what, err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stats %+v", what, m.Stats())
		}
	}
}

// stop stops m (once) and fails the test if its run failed.
func (m *member) stop(t *testing.T) {
	t.Helper()
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.cancel = nil
	if err := <-m.done; err != nil {
		t.Error(err)
	}
}

// runUntil runs a member, drained at the topic's end, until cond holds.
func runUntil(t *testing.T, c sink.Config, store sink.Store, cond func() bool) *sink.Sink {
	t.Helper()
	m := startMember(t, c, store)
	m.Drain(endOffsets(t, c))
	m.waitFor(t, "the condition", cond)
	m.stop(t)
	return m.Sink
}

// endOffsets are the topic's end offsets: the sink's drain targets.
func endOffsets(t *testing.T, c sink.Config) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), c.Topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// committed reports how many records the table's offsets cover.
func committed(t *testing.T, tbl *iceberg.Table) int64 {
	t.Helper()
	offs, err := tbl.Offsets(context.Background(), "ticks")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, o := range offs {
		n += o
	}
	return n
}

// seqs reads every row of the table through iceberg-go's scan (the
// manifests, the name mapping, the Parquet files) and counts each seq.
func seqs(t *testing.T, f *fixture, name string) map[int64]int {
	t.Helper()
	ctx := context.Background()
	cat := f.cat.Iceberg()
	it, err := cat.LoadTable(ctx, table.Identifier{"tickbench", name})
	if err != nil {
		t.Fatal(err)
	}
	at, err := it.Scan(table.WithSelectedFields("seq")).ToArrowTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	out := map[int64]int{}
	tr := array.NewTableReader(at, 1024)
	defer tr.Release()
	for tr.Next() {
		col := tr.RecordBatch().Column(0).(*array.Int64)
		for i := range col.Len() {
			out[col.Value(i)]++
		}
	}
	return out
}

func checkOnce(t *testing.T, f *fixture, name string) {
	t.Helper()
	got := seqs(t, f, name)
	var dups, missing int
	for i := range f.n {
		switch got[int64(i)] {
		case 0:
			missing++
		case 1:
		default:
			dups++
		}
	}
	if dups > 0 || missing > 0 || len(got) != f.n {
		t.Fatalf("table %s: %d distinct seqs of %d, %d duplicated, %d missing", name, len(got), f.n, dups, missing)
	}
}

func TestCommitsEveryTickOnce(t *testing.T) {
	f := newFixture(t, 3)
	f.produce(t, 3000)
	tbl := f.table(t, "once")
	c := f.sinkConfig(tbl, "once")
	store := sink.S3Store{Client: f.st.S3, Bucket: f.st.Bucket}
	s := runUntil(t, c, store, func() bool { return committed(t, tbl) == int64(f.n) })
	st := s.Stats()
	if st.Commits == 0 || st.CommittedFiles != st.Objects || st.MetadataPuts < 3*st.Commits {
		t.Fatalf("stats %+v: want commits of every object, each with >= 3 metadata PUTs", st)
	}
	in, err := tbl.Info(context.Background(), "ticks")
	if err != nil {
		t.Fatal(err)
	}
	if in.Records != int64(f.n) || int64(len(in.Files)) != st.Objects || in.Snapshots != int(st.Commits) {
		t.Fatalf("table: %d records in %d files, %d snapshots; sink: %d objects in %d commits", in.Records, len(in.Files), in.Snapshots, st.Objects, st.Commits)
	}
	checkOnce(t, f, "once")
}

// Plan lists what a query planner reads: a manifest per commit with the
// range of its files' hours, and each file with its hour, its bounds and a
// split offset per row group.
func TestPlan(t *testing.T) {
	f := newFixture(t, 3)
	f.produce(t, 3000) // 150 s from 12:59: two hours
	tbl := f.table(t, "plan")
	c := f.sinkConfig(tbl, "plan")
	store := sink.S3Store{Client: f.st.S3, Bucket: f.st.Bucket}
	s := runUntil(t, c, store, func() bool { return committed(t, tbl) == int64(f.n) })
	p, err := tbl.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.Snapshot == 0 || p.Metadata.Bytes <= 0 || p.ManifestList.Bytes <= 0 || !strings.HasPrefix(p.Metadata.Key, "plan/metadata/") {
		t.Fatalf("snapshot %d, metadata %+v, manifest list %+v: want a snapshot, objects under plan/metadata/", p.Snapshot, p.Metadata, p.ManifestList)
	}
	if int64(len(p.Manifests)) != s.Stats().Commits || int64(len(p.Files)) != s.Stats().Objects {
		t.Fatalf("%d manifests, %d files; the sink made %d commits of %d objects", len(p.Manifests), len(p.Files), s.Stats().Commits, s.Stats().Objects)
	}
	hour := func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) / time.Hour.Microseconds() }
	var lo, hi int64 = 1 << 62, 0
	var records int64
	for _, pf := range p.Files {
		if h := hour(pf.Lower["ts"]); h != pf.Partition.TS || hour(pf.Upper["ts"]) != h {
			t.Fatalf("%s: partition hour %d, ts bounds in hours %d..%d", pf.Key, pf.Partition.TS, h, hour(pf.Upper["ts"]))
		}
		if len(pf.SplitOffsets) != 1 || pf.SplitOffsets[0] != 4 || string(pf.Lower["symbol"]) > string(pf.Upper["symbol"]) {
			t.Fatalf("%s: split offsets %v, symbol bounds %q..%q: want one row group at 4", pf.Key, pf.SplitOffsets, pf.Lower["symbol"], pf.Upper["symbol"])
		}
		lo, hi = min(lo, pf.Partition.TS), max(hi, pf.Partition.TS)
		records += pf.Records
	}
	if records != int64(f.n) || hi != lo+1 {
		t.Fatalf("files hold %d records in hours %d..%d; want %d in two hours", records, lo, hi, f.n)
	}
	for _, m := range p.Manifests {
		if !m.Bounded || m.Lower.TS < lo || m.Upper.TS > hi || m.Lower.TS > m.Upper.TS || m.Bytes <= 0 {
			t.Fatalf("manifest %+v: want bounds within hours %d..%d", m, lo, hi)
		}
	}
}

// failAfter lets its table's first commits through and fails the rest, as
// a member whose catalog went away (or that crashed) would.
type failAfter struct {
	sink.Table
	left atomic.Int32
}

func (f *failAfter) Commit(ctx context.Context, c sink.Commit) (sink.Committed, error) {
	if f.left.Add(-1) < 0 {
		return sink.Committed{}, errors.New("catalog unreachable")
	}
	return f.Table.Commit(ctx, c)
}

// A member commits the first half and lands the second without committing
// it; the next member starts from the table's offsets, lands the second
// half again into the same keys (finding the same bytes there) and
// commits it once.
func TestResumesFromTableOffsets(t *testing.T) {
	f := newFixture(t, 3)
	f.produce(t, 1500)
	tbl := f.table(t, "resume")
	store := sink.S3Store{Client: f.st.S3, Bucket: f.st.Bucket}
	ft := &failAfter{Table: tbl}
	ft.left.Store(1 << 20)
	c1 := f.sinkConfig(tbl, "resume")
	c1.Table = ft
	m1 := startMember(t, c1, store)
	m1.Drain(endOffsets(t, c1))
	m1.waitFor(t, "the first half committed", func() bool { return committed(t, tbl) == 1500 })
	ft.left.Store(0)
	f.produce(t, 1500)
	m1.Drain(endOffsets(t, c1))
	m1.waitFor(t, "the second half landed, not committed", func() bool {
		st := m1.Stats()
		return st.Consumed == 3000 && st.CommitFailures > 0 && st.Objects > st.CommittedFiles
	})
	m1.stop(t)
	if n := committed(t, tbl); n != 1500 {
		t.Fatalf("first member: table holds %d records, want 1500", n)
	}
	second := runUntil(t, f.sinkConfig(tbl, "resume"), store, func() bool { return committed(t, tbl) == int64(f.n) })
	st := second.Stats()
	if st.Consumed != 1500 || st.Existed == 0 {
		t.Fatalf("second member: consumed %d (want 1500: from the table's offsets), found %d objects landed already (want > 0)", st.Consumed, st.Existed)
	}
	checkOnce(t, f, "resume")
}

// Two members in one group commit to one table, often: an attempt that
// loses to the other's commit is retried on the table as it then is.
func TestTwoMembersOneTable(t *testing.T) {
	f := newFixture(t, 4)
	name := "two"
	store := sink.S3Store{Client: f.st.S3, Bucket: f.st.Bucket}
	var ms []*member
	for range 2 {
		c := f.sinkConfig(f.table(t, name), name)
		c.Policy.Records, c.CommitFiles = 50, 1
		ms = append(ms, startMember(t, c, store))
	}
	probe := f.table(t, name)
	waitAssigned(t, f, "g-"+name, 2)
	f.produce(t, 6000)
	for _, m := range ms {
		m.Drain(endOffsets(t, f.sinkConfig(probe, name)))
	}
	ms[0].waitFor(t, "every tick committed", func() bool { return committed(t, probe) == int64(f.n) })
	var commits, conflicts [2]int64
	for i, m := range ms {
		m.stop(t)
		commits[i], conflicts[i] = m.Stats().Commits, m.Stats().CommitConflicts
	}
	t.Logf("commits %v, conflicts %v", commits, conflicts)
	if commits[0] == 0 || commits[1] == 0 {
		t.Fatalf("commits %v: want both members to commit", commits)
	}
	checkOnce(t, f, name)
}

// waitAssigned waits until every one of n members of group has partitions.
func waitAssigned(t *testing.T, f *fixture, group string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.st.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		gs, err := adm.DescribeGroups(context.Background(), group)
		if err == nil {
			g := gs[group]
			with := 0
			for _, m := range g.Members {
				if ca, ok := m.Assigned.AsConsumer(); ok && len(ca.Topics) > 0 {
					with++
				}
			}
			if g.State == "Stable" && with == n {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("group %s: %d members did not all get partitions", group, n)
}

func ExampleOffsetsKey() {
	fmt.Println(iceberg.OffsetsKey("ticks"))
	// Output: tickbench.kafka.offsets.ticks
}

// s3Objects reads and writes objects of the fixture's bucket.
type s3Objects struct{ f *fixture }

func (o s3Objects) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := o.f.st.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &o.f.st.Bucket, Key: &key})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (o s3Objects) Put(ctx context.Context, key string, body []byte) error {
	_, err := sink.S3Store{Client: o.f.st.S3, Bucket: o.f.st.Bucket}.Put(ctx, key, body, "application/vnd.apache.parquet", false)
	return err
}

// committedTable is a table of 3,000 ticks over two hours, every one
// committed by a sink, with the sink's config and store.
func committedTable(t *testing.T, name string) (*fixture, *iceberg.Table, sink.Config, sink.S3Store) {
	t.Helper()
	f := newFixture(t, 3)
	f.produce(t, 3000)
	tbl := f.table(t, name)
	c := f.sinkConfig(tbl, name)
	store := sink.S3Store{Client: f.st.S3, Bucket: f.st.Bucket}
	runUntil(t, c, store, func() bool { return committed(t, tbl) == int64(f.n) })
	return f, tbl, c, store
}

// Compaction folds a partition's small files into one, in one snapshot:
// the same ticks once each, the offsets still found (behind the
// compaction's snapshot, which has none), and the next commit goes on.
func TestCompactPartition(t *testing.T) {
	ctx := context.Background()
	f, tbl, c, store := committedTable(t, "compact")
	before, err := tbl.Info(ctx, "ticks")
	if err != nil {
		t.Fatal(err)
	}
	res, err := tbl.Compact(ctx, s3Objects{f}, c.Format, iceberg.Rewrite{Target: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	after, err := tbl.Info(ctx, "ticks")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v; files %d -> %d", res, len(before.Files), len(after.Files))
	if res.FilesAfter != 1 || res.FilesBefore < 2 || res.Gets != res.FilesBefore || res.Puts != 1 || res.MetadataPuts < 3 ||
		len(after.Files) != len(before.Files)-res.FilesBefore+1 || after.Snapshots != before.Snapshots+1 || !strings.HasPrefix(res.Partition, "ts_hour=2026-11-25T1") {
		t.Fatalf("compaction %+v: files %d -> %d, snapshots %d -> %d", res, len(before.Files), len(after.Files), before.Snapshots, after.Snapshots)
	}
	if n := committed(t, tbl); n != int64(f.n) {
		t.Fatalf("offsets after the compaction cover %d records, want %d", n, f.n)
	}
	checkOnce(t, f, "compact")
	if _, err := tbl.Compact(ctx, s3Objects{f}, c.Format, iceberg.Rewrite{Partition: res.Partition, Target: 64 << 20}); !errors.Is(err, iceberg.ErrNothingToCompact) {
		t.Errorf("compacting it again: %v, want ErrNothingToCompact", err)
	}
	// The sink goes on appending after the compaction.
	f.produce(t, 600)
	runUntil(t, c, store, func() bool { return committed(t, tbl) == int64(f.n) })
	checkOnce(t, f, "compact")
}

// Sorted by symbol, each new file holds its ticks in (symbol, ts) order,
// the partition's ticks are all there once, and the files are cut at
// about the target.
func TestCompactSortedBySymbol(t *testing.T) {
	ctx := context.Background()
	f, tbl, c, _ := committedTable(t, "sorted")
	res, err := tbl.Compact(ctx, s3Objects{f}, c.Format, iceberg.Rewrite{Target: 16 << 10, SortBySymbol: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesAfter < 2 || res.FilesAfter >= res.FilesBefore {
		t.Fatalf("compaction %+v: want the partition's files cut at 16 KiB into a few", res)
	}
	info, err := tbl.Info(ctx, "ticks")
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	for _, file := range info.Files {
		if !strings.Contains(file.Key, "/compacted-") {
			continue
		}
		body, err := s3Objects{f}.Get(ctx, file.Key)
		if err != nil {
			t.Fatal(err)
		}
		var prev tick.Tick
		n := 0
		err = sink.ReadTicks(c.Format, body, func(tk *tick.Tick) error {
			if n > 0 && (tk.Symbol < prev.Symbol || tk.Symbol == prev.Symbol && tk.Intended < prev.Intended) {
				return fmt.Errorf("tick %d (%s at %d) after %s at %d", n, tk.Symbol, tk.Intended, prev.Symbol, prev.Intended)
			}
			prev, n = *tk, n+1
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", file.Key, err)
		}
		rows += int64(n)
	}
	if rows != res.Records {
		t.Fatalf("compacted files hold %d ticks, the compaction read %d", rows, res.Records)
	}
	checkOnce(t, f, "sorted")
}

// A loaded table names the layout it was created with, from its spec alone.
func TestLayoutOfLoadedTable(t *testing.T) {
	f := newFixture(t, 1)
	for _, l := range sink.Layouts {
		name := "layout_" + strings.ReplaceAll(string(l), "-", "_")
		if _, err := iceberg.Open(context.Background(), f.cat, "tickbench", name, "s3://"+f.st.Bucket+"/"+name+"/", l, "zstd"); err != nil {
			t.Fatal(err)
		}
		tbl, err := iceberg.Load(context.Background(), f.cat, "tickbench", name)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := tbl.Layout(); err != nil || got != l {
			t.Errorf("Layout() of a %s table = %q, %v", l, got, err)
		}
	}
}
