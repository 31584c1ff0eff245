package result

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tickbench/tickbench/lake"
)

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
const AdviceObjectBytes = 8 << 20

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
		fmt.Fprintf(w, " %10s %10s", Size(q.Trino.Bytes), vs)
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
		fmt.Fprintf(w, " %10s %10s", fmt.Sprintf("%d GETs", q.MetadataGets), "$"+ScanUSD(q.MetadataUSD))
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
		strategy, 100*a.OverheadShare, a.Objects, Size(a.ObjectBytes), l.Engine.Name, Size(l.Engine.SmallFile))
	fmt.Fprintf(w, "           --flush-records %d --flush-interval %s (objects of ~%s) ", a.FlushRecords, a.FlushInterval, Size(AdviceObjectBytes))
	if a.AtObjectBytes <= l.Engine.SmallFile {
		fmt.Fprintf(w, "would fix it, but this run's ticks make only %s of %s on average landed so: a longer run shows the saving.\n", objectsN(a.AtObjects), Size(a.AtObjectBytes))
		return
	}
	var at []string
	for i, s := range a.AtScans {
		if i < len(names) {
			at = append(at, names[i]+" "+Size(s.Bytes))
		}
	}
	fmt.Fprintf(w, "would make them read %s (modelled on this run's ticks landed so: %s of %s on average).\n",
		strings.Join(at, ", "), objectsN(a.AtObjects), Size(a.AtObjectBytes))
}

func objectsN(n int) string {
	if n == 1 {
		return "1 object"
	}
	return strconv.Itoa(n) + " objects"
}

func ScanUSD(v float64) string { return fmt.Sprintf("%.6f", v) }

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
			fmt.Fprintf(w, " %10s %10s", Size(q.Bytes), "$"+ScanUSD(q.USD))
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
