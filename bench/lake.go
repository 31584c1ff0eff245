package bench

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/lake/batching"
	"github.com/tickbench/tickbench/lake/localsql"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/sink/iceberg"
	"github.com/tickbench/tickbench/stack"
	"github.com/tickbench/tickbench/tick"
)

// DefaultLakeLocalMaxObjects is above what the local check downloads by
// default: json-per-tick at high rates lands too many objects to fetch
// and read in reasonable time.
const DefaultLakeLocalMaxObjects = 20_000

// icebergLake is a table strategy's Iceberg table as the lake step reads
// it: its name in the catalog (namespace.table) and its current snapshot.
type icebergLake struct {
	name  string
	table lake.IcebergTable
}

// lakeReport models and checks one strategy's table: t's objects under its
// prefix, or with ice the Iceberg table's data files (t then names where
// they landed, for the local check). It fails only when S3 does; a query
// engine's failure is the report's problem.
func lakeReport(ctx context.Context, cl *s3.Client, t lake.Table, ice *icebergLake, f sink.Format, v result.Verify, produced uint64,
	started time.Time, symbol string, prices lake.Prices, localMax int, trino *stack.Trino) (*result.LakeReport, error) {
	rep := &result.LakeReport{Table: t.Name, Hour: started.UTC().Truncate(time.Hour), Symbol: symbol, Engine: lake.TrinoDefaults}
	objects, err := lakeObjects(ctx, cl, t, ice, rep)
	if err != nil {
		return nil, err
	}
	rep.Local.Skipped = localSkipped(localMax, v, len(objects))
	local := rep.Local.Skipped == ""
	var dir string
	var want *expected
	begin := time.Now()
	if local {
		if dir, err = os.MkdirTemp("", "tickbench-lake-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if _, _, err := localsql.Download(ctx, cl, t, dir, nil); err != nil {
			return nil, fmt.Errorf("lake: %w", err)
		}
		// The hour with the most ticks makes the queries' answers large
		// enough to mean something; the symbol stays the model's first, so
		// that every strategy answers the same queries.
		if want, err = expectTicks(dir, f, t.Layout); err != nil {
			rep.Local.Problem = err.Error()
			local = false
		} else {
			rep.Hour = want.busiestHour
			if rep.Symbol == "" { // a CSV source: symbols not known ahead
				rep.Symbol = want.busiestSymbol
			}
		}
	}
	queries := lake.StandardQueries(rep.Hour, rep.Symbol)
	for _, q := range queries {
		var s lake.Scan
		var err error
		sql := q.SQL(t, t.Name)
		if ice != nil {
			s, err = lake.IcebergScanBytes(ice.table, q, rep.Engine, prices)
			sql = q.IcebergSQL(ice.name)
		} else {
			s, err = lake.ScanBytes(t, q, objects, rep.Engine, prices)
		}
		if err != nil {
			rep.Problem = err.Error()
			break
		}
		rep.Queries = append(rep.Queries, result.LakeQuery{Scan: s, SQL: sql})
	}
	var wanted *answers
	if local {
		a := want.answers(rep.Hour, rep.Symbol, t.Parquet())
		wanted = &a
	}
	// Trino plans a split per object: past the local check's limit it
	// would take longer than the run.
	if trino != nil && len(rep.Queries) == len(queries) && len(objects) <= localMax {
		runTrino(ctx, trino, t, ice, queries, wanted, rep)
	}
	if !local {
		return rep, nil
	}
	rep.Local.Ran = true
	rep.Local.Problem = checkLocal(ctx, t, dir, queries, *wanted, produced, &rep.Local)
	rep.Local.OK = rep.Local.Problem == ""
	rep.Local.Seconds = time.Since(begin).Seconds()
	if t.Parquet() && ice == nil && rep.Problem == "" {
		var err error
		if rep.Advice, err = adviseFlush(t, f, objects, want, queries, rep, prices); err != nil {
			rep.Problem = "advice: " + err.Error()
		}
	}
	return rep, nil
}

// lakeObjects are the objects the queries read: an Iceberg table's data
// files (its name and engine on rep), or every object under t's prefix.
func lakeObjects(ctx context.Context, cl *s3.Client, t lake.Table, ice *icebergLake, rep *result.LakeReport) ([]lake.Object, error) {
	var objects []lake.Object
	if ice != nil {
		rep.Table = ice.name
		// The Iceberg connector reads no page indexes (IcebergScanBytes).
		rep.Engine.ColumnIndex = false
		for _, f := range ice.table.Files {
			objects = append(objects, f.Object)
		}
		return objects, nil
	}
	pages := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: &t.Bucket, Prefix: &t.Prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("lake: list %s: %w", t.Location(), err)
		}
		for _, o := range page.Contents {
			objects = append(objects, lake.Object{Key: strings.TrimPrefix(*o.Key, t.Prefix), Size: *o.Size,
				ReadAt: s3ReaderAt{ctx: ctx, cl: cl, bucket: t.Bucket, key: *o.Key}})
		}
	}
	return objects, nil
}

// localSkipped says why the local SQL check does not run, "" if it does.
func localSkipped(localMax int, v result.Verify, objects int) string {
	switch {
	case localMax <= 0:
		return "turned off (--lake-local-max 0)"
	case !v.OK:
		return "the landing did not verify, so its ticks are not known to be the produced ones"
	case objects > localMax:
		return fmt.Sprintf("%d objects, over --lake-local-max %d", objects, localMax)
	case v.Orphans > 0:
		// It reads every object under the prefix, the table's or not.
		return fmt.Sprintf("%d orphans under the prefix besides the table's files", v.Orphans)
	}
	return ""
}

// runTrino runs the standard queries on Trino over the table's objects,
// (re)creating the table in its Hive catalog first, or with ice on the
// Iceberg table in its Iceberg catalog, and keeps what Trino read. A
// failure is the query's problem, never the run's.
func runTrino(ctx context.Context, tr *stack.Trino, t lake.Table, ice *icebergLake, queries []lake.Query, want *answers, rep *result.LakeReport) {
	rep.Trino = rep.Engine.Name
	c := &lake.Trino{URL: tr.URL}
	sql := func(q lake.Query) string { return q.SQL(t, tr.Catalog+"."+t.Database+"."+t.Name) }
	var setup error
	switch {
	case ice == nil:
		setup = lake.EnsureTrino(ctx, c, tr.Catalog, t)
	case tr.IcebergCatalog == "":
		setup = errors.New("the Trino server has no Iceberg catalog")
	default:
		sql = func(q lake.Query) string { return q.IcebergSQL(tr.IcebergCatalog + "." + ice.name) }
	}
	for i, q := range queries {
		lt := &result.LakeTrino{}
		rep.Queries[i].Trino = lt
		if setup != nil {
			lt.Problem = setup.Error()
			continue
		}
		r, err := c.Query(ctx, sql(q))
		lt.ID, lt.Bytes, lt.Seconds = r.ID, r.PhysicalInputBytes, r.Elapsed.Seconds()
		switch {
		case err != nil:
			lt.Problem = err.Error()
		case want != nil:
			lt.Problem = checkAnswer(q, r.Rows, *want)
		}
	}
}

// adviseFlush advises a flush size when per-object overhead is most of
// what the model says the standard queries read and the objects are
// smaller than the size aimed at: this run's ticks are landed again at
// that size, in memory, in the partitions and order they had, and the
// queries modelled over those objects.
func adviseFlush(t lake.Table, f sink.Format, objects []lake.Object, want *expected, queries []lake.Query, rep *result.LakeReport, prices lake.Prices) (*result.LakeAdvice, error) {
	var read, chunks, landed int64
	for _, q := range rep.Queries {
		read += q.Bytes
		chunks += q.ChunkBytes
	}
	for _, o := range objects {
		landed += o.Size
	}
	if read == 0 || len(objects) == 0 || 2*(read-chunks) <= read || landed/int64(len(objects)) >= result.AdviceObjectBytes {
		return nil, nil
	}
	a := &result.LakeAdvice{OverheadShare: float64(read-chunks) / float64(read), Objects: len(objects), ObjectBytes: landed / int64(len(objects))}
	a.FlushRecords = min(roundUp2(int(math.Ceil(result.AdviceObjectBytes*float64(len(want.ticks))/float64(landed)))), sink.MaxFlushRecords)
	// A partition's rate of ticks in event time sets the interval that
	// lets a batch reach FlushRecords.
	parts := map[int]bool{}
	first, last := want.ticks[0].Intended, want.ticks[0].Intended
	for i := range want.ticks {
		parts[want.parts[i]] = true
		first, last = min(first, want.ticks[i].Intended), max(last, want.ticks[i].Intended)
	}
	interval := time.Hour
	if span := time.Duration(last - first); span > 0 {
		perPart := float64(len(want.ticks)) / float64(len(parts)) / span.Seconds()
		interval = min(time.Hour, (time.Duration(float64(a.FlushRecords)/perPart*float64(time.Second)) + time.Minute - 1).Truncate(time.Minute))
	}
	a.FlushInterval = strings.TrimSuffix(strings.TrimSuffix(interval.String(), "0s"), "0m")
	var at []lake.Object
	err := batching.Land(f, t.Layout, want.ticks, batching.Policy{Assign: want.parts, Records: a.FlushRecords}, func(o batching.Object, body []byte) error {
		at = append(at, lake.Object{Key: o.Key, Size: int64(len(body)), ReadAt: bytes.NewReader(body)})
		a.AtObjectBytes += int64(len(body))
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.AtObjects = len(at)
	a.AtObjectBytes /= int64(max(len(at), 1))
	for _, q := range queries {
		s, err := lake.ScanBytes(t, q, at, rep.Engine, prices)
		if err != nil {
			return nil, err
		}
		a.AtScans = append(a.AtScans, s)
	}
	return a, nil
}

// roundUp2 rounds n up to two significant digits.
func roundUp2(n int) int {
	p := 1
	for n/p >= 100 {
		p *= 10
	}
	return (n + p - 1) / p * p
}

// checkLocal runs count(*) and the standard set in DuckDB and compares.
func checkLocal(ctx context.Context, t lake.Table, dir string, queries []lake.Query, want answers, produced uint64, out *result.LakeLocal) string {
	e, err := localsql.Open(ctx, t, dir)
	if err != nil {
		return err.Error()
	}
	defer e.Close()
	r, err := e.Query(ctx, "SELECT count(*) FROM ticks")
	if err != nil {
		return err.Error()
	}
	out.Count = toInt(r.Rows[0][0])
	if out.Count != int64(produced) {
		return fmt.Sprintf("SELECT count(*) FROM ticks = %d, produced %d", out.Count, produced)
	}
	for _, q := range queries {
		r, err := e.Query(ctx, q.SQL(t, t.Name))
		if err != nil {
			return fmt.Sprintf("%s: %v", q.Name, err)
		}
		switch {
		case q.Name == "count-hour" && len(r.Rows) == 1:
			out.Hour = toInt(r.Rows[0][0])
		case q.Name == "vwap-day":
			out.Symbols = len(r.Rows)
		}
		if p := checkAnswer(q, r.Rows, want); p != "" {
			return p
		}
	}
	return ""
}

// checkAnswer compares a standard query's rows, from any engine, with the
// answer the produced ticks give; "" when they agree.
func checkAnswer(q lake.Query, rows [][]any, want answers) string {
	switch q.Name {
	case "count-hour":
		if len(rows) != 1 || toInt(rows[0][0]) != want.countHour {
			return fmt.Sprintf("count-hour = %v, produced %d ticks in that hour", rows, want.countHour)
		}
	case "vwap-day":
		if len(rows) != len(want.vwap) {
			return fmt.Sprintf("vwap-day: %d symbols, produced %d", len(rows), len(want.vwap))
		}
		for _, row := range rows {
			sym, _ := row[0].(string)
			got, _ := row[1].(float64)
			w, ok := want.vwap[sym]
			if !ok || math.Abs(got-w) > 1e-9*math.Abs(w) {
				return fmt.Sprintf("vwap-day of %s = %v, produced ticks give %v", sym, got, w)
			}
		}
	case "last-trade":
		if want.lastSeq < 0 && len(rows) != 0 {
			return fmt.Sprintf("last-trade: %v, produced no tick of %s in the hour", rows, q.Pred.Symbol)
		}
		if want.lastSeq >= 0 && (len(rows) != 1 || toInt(rows[0][0]) != want.lastSeq) {
			return fmt.Sprintf("last-trade: %v, produced ticks give seq %d", rows, want.lastSeq)
		}
	case "ohlc-minute":
		if len(rows) != want.minutes {
			return fmt.Sprintf("ohlc-minute: %d minutes, produced ticks span %d", len(rows), want.minutes)
		}
	}
	return ""
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case uint64:
		return int64(x)
	case interface{ Int64() int64 }: // *big.Int of DuckDB's HUGEINT
		return x.Int64()
	}
	return -1
}

// expected holds the ticks decoded from the downloaded objects, in
// partition and sequence order (the order Kafka gave the sink), with
// their partitions.
type expected struct {
	ticks         []tick.Tick
	parts         []int
	busiestHour   time.Time
	busiestSymbol string
}

type answers struct {
	countHour int64
	vwap      map[string]float64
	lastSeq   int64 // -1: no tick of the symbol in the hour
	minutes   int
}

func expectTicks(dir string, f sink.Format, l sink.Layout) (*expected, error) {
	e := &expected{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		// Keys end in {topic}+{partition}+{offset}.{ext}; topic names
		// cannot hold a +.
		part := -1
		if fields := strings.Split(filepath.Base(path), "+"); len(fields) == 3 {
			part, _ = strconv.Atoi(fields[1])
		}
		return sink.ReadTicks(f, body, func(t *tick.Tick) error {
			e.ticks = append(e.ticks, *t)
			e.parts = append(e.parts, max(part, 0))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("decode the landed objects: %w", err)
	}
	order := make([]int, len(e.ticks))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(e.parts[a], e.parts[b]); c != 0 {
			return c
		}
		return cmp.Compare(e.ticks[a].Seq, e.ticks[b].Seq)
	})
	ticks, parts := make([]tick.Tick, len(order)), make([]int, len(order))
	for i, j := range order {
		ticks[i], parts[i] = e.ticks[j], e.parts[j]
	}
	e.ticks, e.parts = ticks, parts
	if len(e.ticks) == 0 {
		return nil, errors.New("no ticks landed")
	}
	hours := map[time.Time]int{}
	for i := range e.ticks {
		hours[e.ticks[i].Time().UTC().Truncate(time.Hour)]++
	}
	for h, n := range hours {
		if n > hours[e.busiestHour] || (n == hours[e.busiestHour] && h.Before(e.busiestHour)) {
			e.busiestHour = h
		}
	}
	syms := map[string]int{}
	for i := range e.ticks {
		if e.ticks[i].Time().UTC().Truncate(time.Hour).Equal(e.busiestHour) {
			syms[e.ticks[i].Symbol]++
		}
	}
	for s, n := range syms {
		if n > syms[e.busiestSymbol] || (n == syms[e.busiestSymbol] && s < e.busiestSymbol) {
			e.busiestSymbol = s
		}
	}
	return e, nil
}

// answers computes the standard queries' answers from the ticks. ts is
// ordered at microseconds when micros (Parquet stores them), otherwise at
// nanoseconds as the JSON carries it.
func (e *expected) answers(hour time.Time, symbol string, micros bool) answers {
	a := answers{vwap: map[string]float64{}}
	day := hour.Truncate(24 * time.Hour)
	notional, volume := map[string]float64{}, map[string]float64{}
	var last *tick.Tick
	ts := func(t *tick.Tick) int64 {
		if micros {
			return t.Intended / 1000
		}
		return t.Intended
	}
	minutes := map[int64]bool{}
	for i := range e.ticks {
		t := &e.ticks[i]
		us := time.UnixMicro(t.Intended / 1000)
		if us.Before(day) || !us.Before(day.Add(24*time.Hour)) {
			continue
		}
		notional[t.Symbol] += t.Price * float64(t.Size)
		volume[t.Symbol] += float64(t.Size)
		if t.Symbol == symbol {
			minutes[us.Unix()/60] = true
		}
		if us.Before(hour) || !us.Before(hour.Add(time.Hour)) {
			continue
		}
		a.countHour++
		if t.Symbol == symbol && (last == nil || ts(t) > ts(last) || (ts(t) == ts(last) && t.Seq > last.Seq)) {
			last = t
		}
	}
	for s, v := range volume {
		a.vwap[s] = notional[s] / v
	}
	a.lastSeq = -1
	if last != nil {
		a.lastSeq = int64(last.Seq)
	}
	a.minutes = len(minutes)
	return a
}

// s3ReaderAt reads an object's bytes with ranged GETs.
type s3ReaderAt struct {
	ctx         context.Context
	cl          *s3.Client
	bucket, key string
}

func (r s3ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	rng := fmt.Sprintf("bytes=%d-%d", off, off+int64(len(p))-1)
	out, err := r.cl.GetObject(r.ctx, &s3.GetObjectInput{Bucket: &r.bucket, Key: &r.key, Range: &rng})
	if err != nil {
		return 0, fmt.Errorf("get s3://%s/%s %s: %w", r.bucket, r.key, rng, err)
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

// lakeSymbol is the symbol the queries name when the local check does not
// pick one: the model's first.
func lakeSymbol(cfg Config) string {
	if cfg.Source == "model" || cfg.Source == "" {
		return gen.Symbol(0)
	}
	return ""
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// lake reports the query side of strategy s, landed under prefix and, for
// a table strategy, committed to tbl.
func (r *runner) lake(ctx context.Context, s Strategy, tbl *iceberg.Table, prefix string, f sink.Format, v result.Verify, produced uint64) (*result.LakeReport, error) {
	t := lake.Table{Database: "tickbench", Name: lake.TableName(s.Name), Format: f.Name(), Layout: s.Layout, Bucket: r.st.Bucket, Prefix: prefix}
	var ice *icebergLake
	switch {
	case s.Table != "" && tbl == nil:
		return nil, nil // this process did not open the table
	case tbl != nil:
		p, err := tbl.Plan(ctx)
		if err != nil {
			return nil, fmt.Errorf("lake: %w", err)
		}
		ice = &icebergLake{name: tbl.Name(), table: icebergScanTable(p, s.Layout, func(key string) io.ReaderAt {
			return s3ReaderAt{ctx: ctx, cl: r.st.S3, bucket: r.st.Bucket, key: key}
		})}
	}
	return lakeReport(ctx, r.st.S3, t, ice, f, v, produced, time.Now(), lakeSymbol(r.cfg), r.prices, r.cfg.LakeLocalMax, r.cfg.LakeTrino)
}
