// Package iceberg owns the Apache Iceberg table a sink commits to: the
// tick schema and the partition spec of each layout, the catalogs (SQL on
// SQLite for the embedded stack, REST for the local one, Glue on AWS), the
// commit that adds landed Parquet objects and moves the Kafka offsets in the
// snapshot's summary, and reading the table back (its offsets, files and
// snapshots). It implements sink.Table with github.com/apache/iceberg-go.
package iceberg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/utils"
	"github.com/aws/aws-sdk-go-v2/aws"

	_ "github.com/apache/iceberg-go/io/gocloud/s3" // s3:// locations

	"github.com/tickbench/tickbench/sink"
)

// Field IDs of the tick schema; partition fields start at 1000.
const (
	idSymbol = iota + 1
	idSeq
	idTS
	idPrice
	idSize
	idBid
	idAsk
	idBidSize
	idAskSize
	idExchange
)

// Schema is the tick table's Iceberg schema, named as the Parquet columns of
// the sink (which carry no field IDs: the table's name mapping maps them).
// ts is timestamptz (microseconds, UTC), as the Parquet objects store it.
func Schema() *iceberg.Schema {
	f := func(id int, name string, t iceberg.Type) iceberg.NestedField {
		return iceberg.NestedField{ID: id, Name: name, Type: t, Required: true}
	}
	return iceberg.NewSchema(0,
		f(idSymbol, "symbol", iceberg.PrimitiveTypes.String),
		f(idSeq, "seq", iceberg.PrimitiveTypes.Int64),
		f(idTS, "ts", iceberg.PrimitiveTypes.TimestampTz),
		f(idPrice, "price", iceberg.PrimitiveTypes.Float64),
		f(idSize, "size", iceberg.PrimitiveTypes.Int64),
		f(idBid, "bid", iceberg.PrimitiveTypes.Float64),
		f(idAsk, "ask", iceberg.PrimitiveTypes.Float64),
		f(idBidSize, "bid_size", iceberg.PrimitiveTypes.Int64),
		f(idAskSize, "ask_size", iceberg.PrimitiveTypes.Int64),
		f(idExchange, "exchange", iceberg.PrimitiveTypes.String),
	)
}

// Spec is the partition spec of a layout: hour(ts) for dt-hour (the hour
// holds the day; Iceberg rejects day and hour of one column together),
// day(ts) and symbol for dt-symbol, none for none. The sink's objects of a
// layout never straddle its partitions.
func Spec(l sink.Layout) (iceberg.PartitionSpec, error) {
	switch l {
	case sink.LayoutNone:
		return *iceberg.UnpartitionedSpec, nil
	case sink.LayoutHourly:
		return iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{idTS}, FieldID: 1000, Name: "ts_hour", Transform: iceberg.HourTransform{}}), nil
	case sink.LayoutSymbol:
		return iceberg.NewPartitionSpec(
			iceberg.PartitionField{SourceIDs: []int{idTS}, FieldID: 1000, Name: "ts_day", Transform: iceberg.DayTransform{}},
			iceberg.PartitionField{SourceIDs: []int{idSymbol}, FieldID: 1001, Name: "symbol", Transform: iceberg.IdentityTransform{}},
		), nil
	}
	return iceberg.PartitionSpec{}, fmt.Errorf("layout %q: allowed %v", l, sink.Layouts)
}

// OffsetsKey is the snapshot-summary property holding, as JSON
// {"partition": next offset}, how far the table holds each partition of
// topic. Every commit writes the whole map, so the newest snapshot that has
// the key has every partition's offset.
func OffsetsKey(topic string) string { return "tickbench.kafka.offsets." + topic }

// GroupKey names the consumer group of the member that committed.
const GroupKey = "tickbench.kafka.group"

// maxAttempts bounds the attempts of one commit that lose to other writers.
const maxAttempts = 50

// Table is one Iceberg table of ticks, committed to by one sink member (a
// Table is safe for one commit at a time; members have a Table each).
type Table struct {
	cat            catalog.Catalog
	id             table.Identifier
	spec           iceberg.PartitionSpec
	bucket         string // of the location: data files are s3://bucket/<object key>
	location, kind string
	// aws carries the HTTP client that counts metadata requests; the
	// catalog's FileIO takes it from the context.
	aws *aws.Config
	// serverWrites: the catalog server writes metadata.json itself (REST),
	// one PUT per commit that the client does not see.
	serverWrites bool

	mu  sync.Mutex
	cur *table.Table // as of this member's last commit; nil: load it
}

// Open creates the table (and its namespace) at location, or loads it if it
// exists. location is s3://bucket/prefix, the folder the sink's objects land
// under; metadata goes to its metadata/.
func Open(ctx context.Context, c *Catalog, namespace, name, location string, layout sink.Layout, codec string) (*Table, error) {
	spec, err := Spec(layout)
	if err != nil {
		return nil, err
	}
	bucket, _, ok := strings.Cut(strings.TrimPrefix(location, "s3://"), "/")
	if !strings.HasPrefix(location, "s3://") || !ok || bucket == "" {
		return nil, fmt.Errorf("table location %q: want s3://bucket/prefix/", location)
	}
	t := &Table{cat: c.cat, id: table.Identifier{namespace, name}, spec: spec, bucket: bucket, aws: c.aws, serverWrites: c.rest,
		location: strings.TrimSuffix(location, "/"), kind: c.Kind}
	ctx = t.ctx(ctx, nil)
	ns := table.Identifier{namespace}
	if ok, err := c.cat.CheckNamespaceExists(ctx, ns); err != nil {
		return nil, fmt.Errorf("namespace %s: %w", namespace, err)
	} else if !ok {
		if err := c.cat.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
			return nil, fmt.Errorf("create namespace %s: %w", namespace, err)
		}
	}
	tbl, err := c.cat.LoadTable(ctx, t.id)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		tbl, err = c.cat.CreateTable(ctx, t.id, Schema(),
			catalog.WithLocation(strings.TrimSuffix(location, "/")),
			catalog.WithPartitionSpec(&spec),
			catalog.WithProperties(iceberg.Properties{
				"format-version": "2",
				// Conflicts come back to Commit, which counts them and
				// checks the offsets again on the table as it then is.
				table.CommitNumRetriesKey:         "0",
				"write.parquet.compression-codec": codec,
			}))
		if errors.Is(err, catalog.ErrTableAlreadyExists) { // another member was first
			tbl, err = c.cat.LoadTable(ctx, t.id)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("table %s.%s: %w", namespace, name, err)
	}
	t.cur = tbl
	return t, nil
}

// Load opens an existing table (namespace.name) with its own partition
// spec and location.
func Load(ctx context.Context, c *Catalog, namespace, name string) (*Table, error) {
	t := &Table{cat: c.cat, id: table.Identifier{namespace, name}, aws: c.aws, serverWrites: c.rest, kind: c.Kind}
	tbl, err := c.cat.LoadTable(t.ctx(ctx, nil), t.id)
	if err != nil {
		return nil, fmt.Errorf("table %s.%s: %w", namespace, name, err)
	}
	t.location = strings.TrimSuffix(tbl.Location(), "/")
	bucket, _, ok := strings.Cut(strings.TrimPrefix(t.location, "s3://"), "/")
	if !strings.HasPrefix(t.location, "s3://") || !ok || bucket == "" {
		return nil, fmt.Errorf("table %s.%s: location %q is not s3://bucket/prefix", namespace, name, tbl.Location())
	}
	t.bucket, t.spec, t.cur = bucket, tbl.Spec(), tbl
	return t, nil
}

// Layout is the layout whose partition spec the table has (see Spec).
func (t *Table) Layout() (sink.Layout, error) {
	for _, l := range sink.Layouts {
		if s, err := Spec(l); err == nil && sameFields(s, t.spec) {
			return l, nil
		}
	}
	return "", fmt.Errorf("table %s: partition spec %s is none of tickbench's layouts %v", t.Name(), t.spec, sink.Layouts)
}

// sameFields compares two specs by their fields' sources, transforms and
// names: a catalog may give the spec another id.
func sameFields(a, b iceberg.PartitionSpec) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.NumFields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Transform.String() != fb.Transform.String() || !slices.Equal(fa.SourceIDs, fb.SourceIDs) {
			return false
		}
	}
	return true
}

// Codec is the Parquet codec the table's files are written with.
func (t *Table) Codec() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur == nil {
		return ""
	}
	return t.cur.Properties()["write.parquet.compression-codec"]
}

// Name is namespace.table.
func (t *Table) Name() string { return strings.Join(t.id, ".") }

// Location is the table's folder, s3://bucket/prefix.
func (t *Table) Location() string { return t.location }

// Catalog is the kind of catalog the table is in: sql, rest or glue.
func (t *Table) Catalog() string { return t.kind }

// counts are the S3 requests of one call, by the HTTP client of t.aws.
type counts struct{ gets, puts atomic.Int64 }

type countsKey struct{}

// ctx carries the counting AWS config, and n (if not nil) to count into.
func (t *Table) ctx(ctx context.Context, n *counts) context.Context {
	if t.aws != nil {
		ctx = utils.WithAwsConfig(ctx, t.aws)
	}
	if n != nil {
		ctx = context.WithValue(ctx, countsKey{}, n)
	}
	return ctx
}

// countingTransport counts the S3 requests of a call whose context carries
// counts: GET and HEAD as GETs, PUT and POST as PUTs (S3's price tiers).
type countingTransport struct{ next http.RoundTripper }

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	// Requests of JSON-protocol APIs (Glue) name their operation in
	// X-Amz-Target; S3's never do.
	if n, ok := r.Context().Value(countsKey{}).(*counts); ok && r.Header.Get("X-Amz-Target") == "" {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			n.gets.Add(1)
		case http.MethodPut, http.MethodPost:
			n.puts.Add(1)
		}
	}
	return c.next.RoundTrip(r)
}

// load returns the table as this member last saw it, loading it when unknown.
func (t *Table) load(ctx context.Context) (*table.Table, error) {
	if t.cur != nil {
		return t.cur, nil
	}
	tbl, err := t.cat.LoadTable(ctx, t.id)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", t.Name(), err)
	}
	t.cur = tbl
	return tbl, nil
}

// Offsets implements sink.Table: the table's offsets of topic, read fresh.
func (t *Table) Offsets(ctx context.Context, topic string) (map[int32]int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cur = nil
	tbl, err := t.load(t.ctx(ctx, nil))
	if err != nil {
		return nil, err
	}
	return offsetsOf(tbl, topic)
}

// offsetsOf reads topic's offsets from the newest snapshot of tbl's
// history that has them (a compaction's snapshot has none).
func offsetsOf(tbl *table.Table, topic string) (map[int32]int64, error) {
	key := OffsetsKey(topic)
	for s := tbl.CurrentSnapshot(); s != nil; {
		if s.Summary != nil {
			if v, ok := s.Summary.Properties[key]; ok {
				return parseOffsets(v)
			}
		}
		if s.ParentSnapshotID == nil {
			break
		}
		s = tbl.SnapshotByID(*s.ParentSnapshotID)
	}
	return map[int32]int64{}, nil
}

func parseOffsets(v string) (map[int32]int64, error) {
	var raw map[string]int64
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return nil, fmt.Errorf("offsets %q: %w", v, err)
	}
	out := make(map[int32]int64, len(raw))
	for k, o := range raw {
		p, err := strconv.ParseInt(k, 10, 32)
		if err != nil || p < 0 || o < 0 {
			return nil, fmt.Errorf("offsets %q: partition %q offset %d: want non-negative integers", v, k, o)
		}
		out[int32(p)] = o
	}
	return out, nil
}

func formatOffsets(offs map[int32]int64) string {
	raw := make(map[string]int64, len(offs))
	for p, o := range offs {
		raw[strconv.Itoa(int(p))] = o
	}
	b, _ := json.Marshal(raw) // keys sorted: the same map, the same bytes
	return string(b)
}

// Commit implements sink.Table. A commit that loses to another writer's
// (the catalog refuses its base snapshot) is retried on the table as it
// then is, with its batches checked against the offsets again, so a batch
// another member committed meanwhile is left out rather than added twice.
func (t *Table) Commit(ctx context.Context, c sink.Commit) (res sink.Committed, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n counts
	ctx = t.ctx(ctx, &n)
	serverPuts := 0 // the REST catalog's server writes metadata.json
	defer func() {
		res.MetadataGets, res.MetadataPuts = int(n.gets.Load()), int(n.puts.Load())+serverPuts
	}()
	for attempt := 1; ; attempt++ {
		tbl, err := t.load(ctx)
		if err != nil {
			return res, err
		}
		offs, err := offsetsOf(tbl, c.Topic)
		if err != nil {
			return res, err
		}
		files, left, err := t.plan(c, offs)
		if err != nil {
			return res, err
		}
		res.Left = left
		if len(files) == 0 {
			return res, nil
		}
		props := iceberg.Properties{OffsetsKey(c.Topic): formatOffsets(offs), GroupKey: c.Group}
		tx := tbl.NewTransaction()
		if err := tx.AddDataFiles(ctx, files, props, table.WithoutDuplicateCheck()); err != nil {
			return res, fmt.Errorf("add %d files to %s: %w", len(files), t.Name(), err)
		}
		next, err := tx.Commit(ctx)
		if err == nil {
			t.cur = next
			res.Snapshot, res.Added = next.CurrentSnapshot().SnapshotID, len(files)
			if t.serverWrites {
				serverPuts++ // n counts the client's side only
			}
			return res, nil
		}
		t.cur = nil
		if !errors.Is(err, table.ErrCommitFailed) || attempt == maxAttempts {
			return res, fmt.Errorf("commit to %s (attempt %d): %w", t.Name(), attempt, err)
		}
		res.Conflicts++
		wait := time.Duration(rand.Int64N(int64(50*time.Millisecond) << min(attempt, 5)))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return res, context.Cause(ctx)
		}
	}
}

// plan turns the batches the table does not hold yet into data files and
// moves offs past them; left lists the batches it holds already.
func (t *Table) plan(c sink.Commit, offs map[int32]int64) (files []iceberg.DataFile, left []int, err error) {
	for i, b := range c.Batches {
		if next, ok := offs[b.Partition]; ok {
			if b.Next <= next {
				left = append(left, i)
				continue
			}
			if b.Start < next {
				return nil, nil, fmt.Errorf("%s[%d] offsets %d..%d, table at %d: %w", c.Topic, b.Partition, b.Start, b.Next, next, sink.ErrOverlap)
			}
		}
		for _, l := range b.Files {
			df, err := t.dataFile(l)
			if err != nil {
				return nil, nil, err
			}
			files = append(files, df)
		}
		offs[b.Partition] = b.Next
	}
	return files, left, nil
}

// dataFile describes one landed Parquet object for the manifest: its
// partition (from its ts and symbol bounds: an object never straddles one),
// counts, sizes and bounds by field ID.
func (t *Table) dataFile(l sink.Landed) (iceberg.DataFile, error) {
	if l.Stats == nil {
		return nil, fmt.Errorf("%s: no Parquet statistics", l.Key)
	}
	ids := map[string]int{}
	for _, f := range Schema().Fields() {
		ids[f.Name] = f.ID
	}
	sizes, values, nulls := map[int]int64{}, map[int]int64{}, map[int]int64{}
	lower, upper := map[int][]byte{}, map[int][]byte{}
	for _, c := range l.Stats.Columns {
		id, ok := ids[c.Name]
		if !ok {
			return nil, fmt.Errorf("%s: column %q is not in the tick schema", l.Key, c.Name)
		}
		sizes[id], values[id], nulls[id] = c.Bytes, c.Values, c.Nulls
		if c.Min != nil && c.Max != nil {
			lower[id], upper[id] = c.Min, c.Max
		}
	}
	part, types, err := t.partition(l.Key, lower, upper)
	if err != nil {
		return nil, err
	}
	b, err := iceberg.NewDataFileBuilder(t.spec, iceberg.EntryContentData, "s3://"+t.bucket+"/"+l.Key, iceberg.ParquetFile,
		part, types, nil, l.Stats.Rows, int64(l.Bytes))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Key, err)
	}
	b.ColumnSizes(sizes).ValueCounts(values).NullValueCounts(nulls).LowerBoundValues(lower).UpperBoundValues(upper)
	if len(l.Stats.RowGroupOffsets) > 0 {
		b.SplitOffsets(slices.Clone(l.Stats.RowGroupOffsets))
	}
	return b.Build(), nil
}

// partition computes an object's partition values from its bounds.
func (t *Table) partition(key string, lower, upper map[int][]byte) (map[int]any, map[int]string, error) {
	if t.spec.NumFields() == 0 {
		return nil, nil, nil
	}
	sc := Schema()
	part, types := map[int]any{}, map[int]string{}
	for _, f := range t.spec.Fields() {
		src, _ := sc.FindFieldByID(f.SourceID())
		lo, err := iceberg.LiteralFromBytes(src.Type, lower[src.ID])
		if err != nil {
			return nil, nil, fmt.Errorf("%s: lower bound of %s: %w", key, src.Name, err)
		}
		hi, err := iceberg.LiteralFromBytes(src.Type, upper[src.ID])
		if err != nil {
			return nil, nil, fmt.Errorf("%s: upper bound of %s: %w", key, src.Name, err)
		}
		a := f.Transform.Apply(iceberg.Optional[iceberg.Literal]{Valid: true, Val: lo})
		z := f.Transform.Apply(iceberg.Optional[iceberg.Literal]{Valid: true, Val: hi})
		if !a.Valid || !z.Valid || !a.Val.Equals(z.Val) {
			return nil, nil, fmt.Errorf("%s: spans more than one %s partition", key, f.Name)
		}
		part[f.FieldID] = a.Val.Any()
		if _, ok := f.Transform.ResultType(src.Type).(iceberg.DateType); ok {
			types[f.FieldID] = "date"
		}
	}
	return part, types, nil
}
