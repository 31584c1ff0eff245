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

// LakeReport is the query side of one strategy's landing: the modelled
// Athena scan of each standard query, and the local engine's answers
// checked against what was produced.
type LakeReport struct {
	Table  string    `json:"table"` // default Glue table name (tickbench catalog)
	Hour   time.Time `json:"hour"`  // the hour of the hour queries; its day for the day queries
	Symbol string    `json:"symbol"`
	// Engine is the reader the scans model (schema v1.2; Trino's reader
	// settings).
	Engine lake.Engine `json:"engine"`
	// Queries are the standard set: SQL as run locally (and on Athena),
	// and the modelled scan and bill.
	Queries []LakeQuery `json:"queries"`
	Local   LakeLocal   `json:"local"`
	Problem string      `json:"problem,omitempty"` // the model could not be computed
	// Trino names the engine the queries also ran on (v1.2), measuring
	// what its readers took from S3; empty when none was up.
	Trino string `json:"trino,omitempty"`
	// Advice is set when per-object overhead is most of what the standard
	// queries read (v1.2).
	Advice *LakeAdvice `json:"advice,omitempty"`
}

// LakeQuery is one standard query on one strategy's table.
type LakeQuery struct {
	lake.Scan
	SQL string `json:"sql"`
	// Trino is the query as Trino ran it (v1.2); nil when it did not.
	Trino *LakeTrino `json:"trino,omitempty"`
}

// LakeTrino is one standard query run on Trino over the landed objects.
type LakeTrino struct {
	ID string `json:"query_id,omitempty"`
	// Bytes is its physical input: what its readers took from S3, which
	// Athena bills.
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
	// Problem is a failed query, or an answer other than the produced
	// ticks give (checked when the local check could compute them).
	Problem string `json:"problem,omitempty"`
}

// LakeAdvice is a flush size for a strategy whose standard queries read
// mostly per-object overhead (small Parquet objects are read whole), and
// what those queries would read at that size: this run's ticks landed
// again at it, in memory, and the scans modelled over them.
type LakeAdvice struct {
	// OverheadShare is (bytes - chunk bytes) / bytes over the standard
	// queries, as modelled.
	OverheadShare float64 `json:"overhead_share"`
	Objects       int     `json:"objects"`      // objects landed
	ObjectBytes   int64   `json:"object_bytes"` // their mean size
	FlushRecords  int     `json:"flush_records"`
	// FlushInterval is the event time a partition takes to reach
	// FlushRecords at this run's rate (at most an hour).
	FlushInterval string `json:"flush_interval"`
	// AtObjects and AtObjectBytes are the objects this run's ticks make
	// at FlushRecords; AtScans the standard queries modelled over them.
	AtObjects     int         `json:"at_objects"`
	AtObjectBytes int64       `json:"at_object_bytes"`
	AtScans       []lake.Scan `json:"at_scans"`
}

// adviceObjectBytes is the object size the advice aims at: well above the
// 3 MiB up to which Trino reads a Parquet object whole, so that queries
// read only their columns, and large enough that the 48 KiB footer read
// is under 1% of it.
const adviceObjectBytes = 8 << 20

// LakeLocal is the local engine's check. Expected answers come from the
// ticks decoded from the same objects, which verification proved to be
// exactly the produced ticks; the check needs that proof and is skipped
// without it.
type LakeLocal struct {
	Ran     bool    `json:"ran"`
	Skipped string  `json:"skipped,omitempty"` // why it did not run
	OK      bool    `json:"ok"`
	Problem string  `json:"problem,omitempty"`
	Count   int64   `json:"count"`      // SELECT count(*) FROM ticks
	Hour    int64   `json:"count_hour"` // count-hour's answer
	Symbols int     `json:"vwap_symbols"`
	Seconds float64 `json:"seconds"` // download, load and queries
}

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
func lakeReport(ctx context.Context, cl *s3.Client, t lake.Table, ice *icebergLake, f sink.Format, v Verify, produced uint64,
	started time.Time, symbol string, prices lake.Prices, localMax int, trino *stack.Trino) (*LakeReport, error) {
	rep := &LakeReport{Table: t.Name, Hour: started.UTC().Truncate(time.Hour), Symbol: symbol, Engine: lake.TrinoDefaults}
	var objects []lake.Object
	if ice != nil {
		rep.Table = ice.name
		// The Iceberg connector reads no page indexes (IcebergScanBytes).
		rep.Engine.ColumnIndex = false
		for _, f := range ice.table.Files {
			objects = append(objects, f.Object)
		}
	} else {
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
	}

	local := localMax > 0 && v.OK && len(objects) <= localMax && v.Orphans == 0
	var dir string
	var want *expected
	switch {
	case localMax <= 0:
		rep.Local.Skipped = "turned off (--lake-local-max 0)"
	case !v.OK:
		rep.Local.Skipped = "the landing did not verify, so its ticks are not known to be the produced ones"
	case len(objects) > localMax:
		rep.Local.Skipped = fmt.Sprintf("%d objects, over --lake-local-max %d", len(objects), localMax)
	case v.Orphans > 0:
		// It reads every object under the prefix, the table's or not.
		rep.Local.Skipped = fmt.Sprintf("%d orphans under the prefix besides the table's files", v.Orphans)
	}
	begin := time.Now()
	if local {
		var err error
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
		rep.Queries = append(rep.Queries, LakeQuery{Scan: s, SQL: sql})
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

// runTrino runs the standard queries on Trino over the table's objects,
// (re)creating the table in its Hive catalog first, or with ice on the
// Iceberg table in its Iceberg catalog, and keeps what Trino read. A
// failure is the query's problem, never the run's.
func runTrino(ctx context.Context, tr *stack.Trino, t lake.Table, ice *icebergLake, queries []lake.Query, want *answers, rep *LakeReport) {
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
		lt := &LakeTrino{}
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
func adviseFlush(t lake.Table, f sink.Format, objects []lake.Object, want *expected, queries []lake.Query, rep *LakeReport, prices lake.Prices) (*LakeAdvice, error) {
	var read, chunks, landed int64
	for _, q := range rep.Queries {
		read += q.Bytes
		chunks += q.ChunkBytes
	}
	for _, o := range objects {
		landed += o.Size
	}
	if read == 0 || len(objects) == 0 || 2*(read-chunks) <= read || landed/int64(len(objects)) >= adviceObjectBytes {
		return nil, nil
	}
	a := &LakeAdvice{OverheadShare: float64(read-chunks) / float64(read), Objects: len(objects), ObjectBytes: landed / int64(len(objects))}
	a.FlushRecords = min(roundUp2(int(math.Ceil(adviceObjectBytes*float64(len(want.ticks))/float64(landed)))), sink.MaxFlushRecords)
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
func checkLocal(ctx context.Context, t lake.Table, dir string, queries []lake.Query, want answers, produced uint64, out *LakeLocal) string {
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

// printLake writes the side-by-side table of modelled Athena scans: per
// strategy, each standard query's bytes and billed dollars; under it, when
// Trino ran the queries, the bytes Trino read and how the model compares;
// then the advice on flush sizes.
func (r *Result) printLake(w io.Writer) {
	var names []string
	for _, s := range r.Strategies {
		if s.Lake != nil {
			for _, q := range s.Lake.Queries {
				if !slices.Contains(names, q.Query) {
					names = append(names, q.Query)
				}
			}
		}
	}
	if len(names) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%-15s", "athena scan")
	for _, n := range names {
		fmt.Fprintf(w, " %21s", n)
	}
	fmt.Fprintf(w, "  %s\n", "local SQL check")
	trino, metadata := "", false
	for _, s := range r.Strategies {
		if s.Lake == nil {
			continue
		}
		fmt.Fprintf(w, "%-15s", s.Strategy)
		byName := map[string]LakeQuery{}
		for _, q := range s.Lake.Queries {
			byName[q.Query] = q
		}
		for _, n := range names {
			q, ok := byName[n]
			if !ok {
				fmt.Fprintf(w, " %21s", "-")
				continue
			}
			fmt.Fprintf(w, " %10s %10s", size(q.Bytes), "$"+usdScan(q.USD))
		}
		check := "yes"
		switch {
		case s.Lake.Problem != "":
			check = "MODEL FAILED: " + s.Lake.Problem
		case !s.Lake.Local.Ran:
			check = "skipped: " + s.Lake.Local.Skipped
			if s.Lake.Local.Problem != "" {
				check = "NO: " + s.Lake.Local.Problem
			}
		case !s.Lake.Local.OK:
			check = "NO: " + s.Lake.Local.Problem
		default:
			check = fmt.Sprintf("yes (count %d, %d VWAPs, %.1fs)", s.Lake.Local.Count, s.Lake.Local.Symbols, s.Lake.Local.Seconds)
		}
		fmt.Fprintf(w, "  %s\n", check)
		if s.Lake.Trino != "" {
			trino = s.Lake.Trino
			printTrinoRow(w, s.Lake, names, byName)
		}
		if printMetadataRow(w, names, byName) {
			metadata = true
		}
	}
	for _, s := range r.Strategies {
		if s.Lake != nil {
			fmt.Fprintf(w, "(modelled DataScannedInBytes and bill: min 10 MB, whole MB, $%g/TB %s; hour %s, symbol %s)\n",
				r.Prices.AthenaPerTB, r.Prices.Region, s.Lake.Hour.Format("2006-01-02T15Z"), s.Lake.Symbol)
			break
		}
	}
	if trino != "" {
		fmt.Fprintf(w, "(%s: the bytes Trino read from S3 for the same queries, and the model against them)\n", trino)
	}
	if metadata {
		fmt.Fprintf(w, "(metadata: the GETs and HEADs of a query's planning on an Iceberg table's metadata.json, manifest list and manifests, and their S3 price: not scanned bytes)\n")
	}
	for _, s := range r.Strategies {
		if s.Lake != nil && s.Lake.Advice != nil {
			printAdvice(w, s.Strategy, s.Lake, names)
		}
	}
}

// printTrinoRow writes, under a strategy's row, what Trino read for each
// query: "exact" where the model says the same, otherwise the model's
// difference.
func printTrinoRow(w io.Writer, l *LakeReport, names []string, byName map[string]LakeQuery) {
	fmt.Fprintf(w, "%-15s", "  "+l.Trino)
	var problems []string
	for _, n := range names {
		q, ok := byName[n]
		if !ok || q.Trino == nil {
			fmt.Fprintf(w, " %21s", "-")
			continue
		}
		if q.Trino.Problem != "" {
			problems = append(problems, n+": "+q.Trino.Problem)
		}
		vs := "exact"
		if q.Bytes != q.Trino.Bytes {
			vs = "model " + signedPercent(q.Bytes, q.Trino.Bytes)
		}
		fmt.Fprintf(w, " %10s %10s", size(q.Trino.Bytes), vs)
	}
	if len(problems) > 0 {
		fmt.Fprintf(w, "  NO: %s\n", strings.Join(problems, "; "))
		return
	}
	fmt.Fprintf(w, "  answers as produced\n")
}

// printMetadataRow writes, under a strategy's rows, the metadata requests
// of each query's planning, when its table has metadata objects (Iceberg);
// it reports whether it wrote one.
func printMetadataRow(w io.Writer, names []string, byName map[string]LakeQuery) bool {
	has := false
	for _, q := range byName {
		has = has || q.MetadataGets > 0
	}
	if !has {
		return false
	}
	fmt.Fprintf(w, "%-15s", "  metadata")
	for _, n := range names {
		q, ok := byName[n]
		if !ok {
			fmt.Fprintf(w, " %21s", "-")
			continue
		}
		fmt.Fprintf(w, " %10s %10s", fmt.Sprintf("%d GETs", q.MetadataGets), "$"+usdScan(q.MetadataUSD))
	}
	fmt.Fprintln(w)
	return true
}

func signedPercent(model, measured int64) string {
	if measured == 0 {
		return "+inf%"
	}
	return fmt.Sprintf("%+.0f%%", 100*float64(model-measured)/float64(measured))
}

// printAdvice says what a flush size would change for a strategy whose
// queries read mostly per-object overhead.
func printAdvice(w io.Writer, strategy string, l *LakeReport, names []string) {
	a := l.Advice
	fmt.Fprintf(w, "advice     %s: %.0f%% of what its standard queries read is per-object overhead: its %d objects average %s, and %s reads a Parquet object up to %s whole.\n",
		strategy, 100*a.OverheadShare, a.Objects, size(a.ObjectBytes), l.Engine.Name, size(l.Engine.SmallFile))
	fmt.Fprintf(w, "           --flush-records %d --flush-interval %s (objects of ~%s) ", a.FlushRecords, a.FlushInterval, size(adviceObjectBytes))
	if a.AtObjectBytes <= l.Engine.SmallFile {
		fmt.Fprintf(w, "would fix it, but this run's ticks make only %s of %s on average landed so: a longer run shows the saving.\n", objectsN(a.AtObjects), size(a.AtObjectBytes))
		return
	}
	var at []string
	for i, s := range a.AtScans {
		if i < len(names) {
			at = append(at, names[i]+" "+size(s.Bytes))
		}
	}
	fmt.Fprintf(w, "would make them read %s (modelled on this run's ticks landed so: %s of %s on average).\n",
		strings.Join(at, ", "), objectsN(a.AtObjects), size(a.AtObjectBytes))
}

func objectsN(n int) string {
	if n == 1 {
		return "1 object"
	}
	return strconv.Itoa(n) + " objects"
}

func usdScan(v float64) string { return fmt.Sprintf("%.6f", v) }

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
func (r *runner) lake(ctx context.Context, s Strategy, tbl *iceberg.Table, prefix string, f sink.Format, v Verify, produced uint64) (*LakeReport, error) {
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
