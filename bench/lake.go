package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tickbench/tickbench/gen"
	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/lake/localsql"
	"github.com/tickbench/tickbench/sink"
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
}

// LakeQuery is one standard query on one strategy's table.
type LakeQuery struct {
	lake.Scan
	SQL string `json:"sql"`
}

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

// lakeReport models and checks one strategy's table. It fails only when S3
// does; a query engine's failure is the report's problem.
func lakeReport(ctx context.Context, cl *s3.Client, t lake.Table, f sink.Format, v Verify, produced uint64,
	started time.Time, symbol string, prices lake.Prices, localMax int) (*LakeReport, error) {
	rep := &LakeReport{Table: t.Name, Hour: started.UTC().Truncate(time.Hour), Symbol: symbol, Engine: lake.TrinoDefaults}
	var objects []lake.Object
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

	local := localMax > 0 && v.OK && len(objects) <= localMax
	var dir string
	var want *expected
	switch {
	case localMax <= 0:
		rep.Local.Skipped = "turned off (--lake-local-max 0)"
	case !v.OK:
		rep.Local.Skipped = "the landing did not verify, so its ticks are not known to be the produced ones"
	case len(objects) > localMax:
		rep.Local.Skipped = fmt.Sprintf("%d objects, over --lake-local-max %d", len(objects), localMax)
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
		s, err := lake.ScanBytes(t, q, objects, rep.Engine, prices)
		if err != nil {
			rep.Problem = err.Error()
			break
		}
		rep.Queries = append(rep.Queries, LakeQuery{Scan: s, SQL: q.SQL(t, t.Name)})
	}
	if !local {
		return rep, nil
	}
	rep.Local.Ran = true
	rep.Local.Problem = checkLocal(ctx, t, dir, queries, want.answers(rep.Hour, rep.Symbol, t.Parquet()), produced, &rep.Local)
	rep.Local.OK = rep.Local.Problem == ""
	rep.Local.Seconds = time.Since(begin).Seconds()
	return rep, nil
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
		switch q.Name {
		case "count-hour":
			out.Hour = toInt(r.Rows[0][0])
			if out.Hour != want.countHour {
				return fmt.Sprintf("count-hour = %d, produced %d ticks in that hour", out.Hour, want.countHour)
			}
		case "vwap-day":
			out.Symbols = len(r.Rows)
			if len(r.Rows) != len(want.vwap) {
				return fmt.Sprintf("vwap-day: %d symbols, produced %d", len(r.Rows), len(want.vwap))
			}
			for _, row := range r.Rows {
				sym, _ := row[0].(string)
				got, _ := row[1].(float64)
				w, ok := want.vwap[sym]
				if !ok || math.Abs(got-w) > 1e-9*math.Abs(w) {
					return fmt.Sprintf("vwap-day of %s = %v, produced ticks give %v", sym, got, w)
				}
			}
		case "last-trade":
			if want.lastSeq < 0 && len(r.Rows) != 0 {
				return fmt.Sprintf("last-trade: %v, produced no tick of %s in the hour", r.Rows, q.Pred.Symbol)
			}
			if want.lastSeq >= 0 && (len(r.Rows) != 1 || toInt(r.Rows[0][0]) != want.lastSeq) {
				return fmt.Sprintf("last-trade: %v, produced ticks give seq %d", r.Rows, want.lastSeq)
			}
		case "ohlc-minute":
			if len(r.Rows) != want.minutes {
				return fmt.Sprintf("ohlc-minute: %d minutes, produced ticks span %d", len(r.Rows), want.minutes)
			}
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

// expected holds the ticks decoded from the downloaded objects, reduced
// to what the standard queries need.
type expected struct {
	ticks         []tick.Tick
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
		return sink.ReadTicks(f, body, func(t *tick.Tick) error {
			e.ticks = append(e.ticks, *t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("decode the landed objects: %w", err)
	}
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
// strategy, each standard query's bytes and billed dollars.
func (r *Result) printLake(w io.Writer) {
	var names []string
	for _, s := range r.Strategies {
		if s.Lake != nil {
			for _, q := range s.Lake.Queries {
				if !contains(names, q.Query) {
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
	}
	for _, s := range r.Strategies {
		if s.Lake != nil {
			fmt.Fprintf(w, "(modelled DataScannedInBytes and bill: min 10 MB, whole MB, $%g/TB %s; hour %s, symbol %s)\n",
				r.Prices.AthenaPerTB, r.Prices.Region, s.Lake.Hour.Format("2006-01-02T15Z"), s.Lake.Symbol)
			break
		}
	}
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

// lake reports the query side of strategy s, landed under prefix.
func (r *runner) lake(ctx context.Context, s Strategy, prefix string, f sink.Format, v Verify, produced uint64) (*LakeReport, error) {
	t := lake.Table{Database: "tickbench", Name: lake.TableName(s.Name), Format: f.Name(), Layout: s.Layout, Bucket: r.st.Bucket, Prefix: prefix}
	return lakeReport(ctx, r.st.S3, t, f, v, produced, time.Now(), lakeSymbol(r.cfg), r.prices, r.cfg.LakeLocalMax)
}
