package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/lake/laketest"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/sink/iceberg"
	"github.com/tickbench/tickbench/stack"
	"github.com/tickbench/tickbench/tick"
)

// icebergSet is one set of Iceberg tables the model is checked on: ticks
// of three hours across midnight, landed as the sink lands them and
// committed perCommit objects at a time, in event-time order, as a sink
// committing on an interval would.
type icebergSet struct {
	name             string
	ticks, symbols   int
	batching         laketest.Batching
	perCommit        int
	codec, formatArg string
}

var icebergStart = time.Date(2026, 11, 25, 22, 30, 0, 0, time.UTC)

func icebergSets() []icebergSet {
	var sets []icebergSet
	for _, codec := range []string{"zstd", "snappy"} {
		format := "parquet-" + codec
		if codec == "snappy" {
			format = "parquet"
		}
		sets = append(sets,
			// Many small files, many commits: 2,000-record flushes of 6
			// partitions, a commit per 4 objects.
			icebergSet{name: "2k-records/commit-4", ticks: 60_000, symbols: 20, codec: codec, formatArg: format,
				batching: laketest.Batching{Partitions: 6, Records: 2_000}, perCommit: 4},
			// Few large files: 64 MiB flushes of one partition (objects of
			// 10-30 MB, a row group per 128 Ki rows), two commits.
			icebergSet{name: "64MiB/commit-half", ticks: 3_000_000, symbols: 8, codec: codec, formatArg: format,
				batching: laketest.Batching{Partitions: 1, Bytes: 64 << 20}, perCommit: -2})
	}
	return sets
}

// TestLocalTrinoIcebergScanModel lands Iceberg tables of both codecs,
// with many small files in many commits and with few large files, in
// every layout's partition spec, on the local stack's REST catalog; runs
// the standard queries on Trino's Iceberg connector, each on a table of
// its own (the same data files, committed again) so that its planning
// reads cold metadata; and checks the model against Trino's physical
// input bytes (within 10%: it has been exact), the answers against the
// ticks produced, and, when the S3 server keeps an access log
// (TICKBENCH_S3_ACCESS_LOG=1 at `make up`), the metadata GETs against the
// requests the server saw. It logs the table docs/iceberg.md shows.
func TestLocalTrinoIcebergScanModel(t *testing.T) {
	cfg := localConfig(t)
	if cfg.Stack.IcebergREST == "" {
		t.Fatal("the local stack has no Iceberg REST catalog (.tickbench/run/iceberg/state.env): `make up` starts it")
	}
	dir := filepath.Join(testrepo.Root(t), stack.LocalStateDir)
	tr, err := stack.LocalTrino(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tr.IcebergCatalog == "" {
		t.Fatal("the local Trino has no Iceberg catalog: restart the stack (make down up)")
	}
	accessLog := s3AccessLog(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	st, err := stack.Start(ctx, cfg.Stack)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, err := st.IcebergCatalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	const ns = "tickbench_model"
	base := "iceberg-model/" + run + "/"
	var created []table.Identifier
	t.Cleanup(func() {
		for _, id := range created {
			_ = cat.Iceberg().DropTable(context.Background(), id)
		}
		laketest.DeletePrefix(t, st.S3, st.Bucket, base)
	})
	trino := &lake.Trino{URL: tr.URL}
	var bytesTable, metaTable, hiveTable strings.Builder
	bytesTable.WriteString("| set | codec | layout | files (sizes) | commits | count-hour | vwap-day | last-trade | ohlc-minute |\n| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	metaTable.WriteString("| set | codec | layout | count-hour | vwap-day | last-trade | ohlc-minute |\n| --- | --- | --- | ---: | ---: | ---: | ---: |\n")
	hiveTable.WriteString(metaTable.String())
	pairs, exact, metaPairs, metaExact := 0, 0, 0, 0
	for _, set := range icebergSets() {
		format := laketest.Format(t, set.formatArg)
		step := 3 * int64(time.Hour) / int64(set.ticks)
		ticks := laketest.Ticks(t, set.ticks, set.symbols, icebergStart.UnixNano(), step)
		hour := icebergStart.Add(90 * time.Minute).Truncate(time.Hour)
		queries := lake.StandardQueries(hour, ticks[0].Symbol)
		want := (&expected{ticks: ticks}).answers(hour, ticks[0].Symbol, true)
		for _, layout := range sink.Layouts {
			name := fmt.Sprintf("%s %s %s", set.name, set.codec, layout)
			setDir := fmt.Sprintf("%s%s-%s-%s/", base, strings.NewReplacer("/", "-").Replace(set.name), set.codec, layout)
			files, commits := landForIceberg(t, ctx, st, format, layout, ticks, set, setDir+"data/")
			fmt.Fprintf(&bytesTable, "| %s | %s | %s | %s | %d |", set.name, set.codec, layout, files.sizes, len(commits))
			fmt.Fprintf(&metaTable, "| %s | %s | %s |", set.name, set.codec, layout)
			fmt.Fprintf(&hiveTable, "| %s | %s | %s |", set.name, set.codec, layout)
			// The same objects as a Hive-style table, for comparison.
			hive := lake.Table{Database: "d", Name: "t", Format: format.Name(), Layout: layout, Bucket: st.Bucket, Prefix: setDir + "data/"}
			var hiveObjects []lake.Object
			for key, body := range files.bodies {
				hiveObjects = append(hiveObjects, lake.Object{Key: strings.TrimPrefix(key, hive.Prefix), Size: int64(len(body)), ReadAt: bytes.NewReader(body)})
			}
			for _, q := range queries {
				tname := lake.TableName("m_" + run + "_" + setDir[len(base):len(setDir)-1] + "_" + q.Name)
				tbl, err := iceberg.Open(ctx, cat, ns, tname, "s3://"+st.Bucket+"/"+setDir+q.Name+"/", layout, set.codec)
				if err != nil {
					t.Fatal(err)
				}
				created = append(created, table.Identifier{ns, tname})
				var next int64
				for _, c := range commits {
					n := 0
					for _, f := range c {
						n += f.Ticks
					}
					if _, err := tbl.Commit(ctx, sink.Commit{Topic: "ticks", Group: "model", Batches: []sink.CommitBatch{{Start: next, Next: next + int64(n), Files: c}}}); err != nil {
						t.Fatalf("%s: commit: %v", name, err)
					}
					next += int64(n)
				}
				plan, err := tbl.Plan(ctx)
				if err != nil {
					t.Fatal(err)
				}
				model, err := lake.IcebergScanBytes(icebergScanTable(plan, layout, files.read), q, lake.TrinoDefaults, lake.USEast1)
				if err != nil {
					t.Fatalf("%s %s: model: %v", name, q.Name, err)
				}
				mark := accessLog.mark(t)
				got, err := trino.Query(ctx, q.IcebergSQL(tr.IcebergCatalog+"."+ns+"."+tname))
				if err != nil {
					t.Fatalf("%s %s: %v", name, q.Name, err)
				}
				if p := checkAnswer(q, got.Rows, want); p != "" {
					t.Errorf("%s: Trino's answer: %s", name, p)
				}
				measured := got.PhysicalInputBytes
				pairs++
				cell := fmt.Sprintf(" %s =", laketest.Thousands(measured))
				switch {
				case model.Bytes == measured:
					exact++
				case math.Abs(float64(model.Bytes-measured)) <= 0.1*float64(measured):
					cell = fmt.Sprintf(" %s (model %+.2f%%)", laketest.Thousands(measured), 100*float64(model.Bytes-measured)/float64(measured))
				default:
					cell = fmt.Sprintf(" %s (model %s) FAIL", laketest.Thousands(measured), laketest.Thousands(model.Bytes))
					t.Errorf("%s %s: Trino read %d bytes, the model says %d (%d of %d files, %d row groups)", name, q.Name, measured, model.Bytes, model.ObjectsRead, model.Objects, model.RowGroups)
				}
				bytesTable.WriteString(cell + " |")
				h, err := lake.ScanBytes(hive, q, hiveObjects, lake.TrinoDefaults, lake.USEast1)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&hiveTable, " %s |", laketest.Thousands(h.Bytes))
				if !accessLog.on() {
					fmt.Fprintf(&metaTable, " %d (%s) |", model.MetadataGets, result.Size(model.MetadataBytes))
					continue
				}
				gets := accessLog.since(t, mark, setDir+q.Name+"/metadata/")
				metaPairs++
				cell = fmt.Sprintf(" %d (%s) =", gets.n, result.Size(model.MetadataBytes))
				if gets.n == model.MetadataGets {
					metaExact++
				} else {
					cell = fmt.Sprintf(" %d (model %d) FAIL", gets.n, model.MetadataGets)
					t.Errorf("%s %s: %d metadata GETs on the server (%v), the model says %d", name, q.Name, gets.n, gets.lines, model.MetadataGets)
				}
				metaTable.WriteString(cell + " |")
			}
			bytesTable.WriteString("\n")
			metaTable.WriteString("\n")
			hiveTable.WriteString("\n")
		}
	}
	t.Logf("model vs Trino %s (Iceberg connector) physical input bytes (= : the model is exact), %d of %d pairs exact:\n%s", lake.TrinoDefaults.Name, exact, pairs, bytesTable.String())
	t.Logf("the same objects as a Hive-style table, modelled (TestLocalTrinoScanModel checks that model), bytes:\n%s", hiveTable.String())
	if accessLog.on() {
		t.Logf("metadata GETs (bytes) the S3 server saw per query (= : the model says the same), %d of %d exact:\n%s", metaExact, metaPairs, metaTable.String())
	} else {
		t.Logf("metadata GETs (bytes) the model counts per query (not measured: start the stack with TICKBENCH_S3_ACCESS_LOG=1):\n%s", metaTable.String())
	}
}

// icebergFiles are a set's data files: their bytes by key, for the model,
// and their sizes, for the table.
type icebergFiles struct {
	bodies map[string][]byte
	sizes  string
}

func (f icebergFiles) read(key string) io.ReaderAt { return bytes.NewReader(f.bodies[key]) }

// landForIceberg lands ticks as the sink would under prefix and groups the
// objects, in the order of their first tick's time, into commits of
// set.perCommit (-n: n commits).
func landForIceberg(t *testing.T, ctx context.Context, st *stack.Stack, f sink.Format, l sink.Layout, ticks []tick.Tick, set icebergSet, prefix string) (icebergFiles, [][]sink.Landed) {
	t.Helper()
	files := icebergFiles{bodies: map[string][]byte{}}
	var landed []sink.Landed
	var first []int64
	lo, hi := math.MaxInt, 0
	laketest.LandFunc(t, f, l, ticks, set.batching, func(o laketest.Object, body []byte) {
		key := prefix + o.Key
		if _, err := st.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &st.Bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
		stats, err := sink.ReadFileStats(body)
		if err != nil {
			t.Fatal(err)
		}
		files.bodies[key] = body
		landed = append(landed, sink.Landed{Key: key, Ticks: len(o.Ticks), Bytes: len(body), Stats: stats})
		first = append(first, ticks[o.Ticks[0]].Intended)
		lo, hi = min(lo, len(body)), max(hi, len(body))
	})
	order := make([]int, len(landed))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(first[a] - first[b]) })
	per := set.perCommit
	if per < 0 {
		per = (len(landed) - per - 1) / -per
	}
	var commits [][]sink.Landed
	for i, j := range order {
		if i%per == 0 {
			commits = append(commits, nil)
		}
		commits[len(commits)-1] = append(commits[len(commits)-1], landed[j])
	}
	files.sizes = fmt.Sprintf("%d (%s–%s)", len(landed), result.Size(int64(lo)), result.Size(int64(hi)))
	return files, commits
}

// accessLog is the S3 server's access log (scripts/s3.sh with
// TICKBENCH_S3_ACCESS_LOG=1), read from a mark on; path is empty when the
// server keeps none.
type accessLog struct{ path string }

func s3AccessLog(t *testing.T, dir string) accessLog {
	b, err := os.ReadFile(filepath.Join(dir, "s3", "state.env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "S3_ACCESS_LOG="); ok {
			return accessLog{path: v}
		}
	}
	return accessLog{}
}

func (a accessLog) on() bool { return a.path != "" }

// mark is the log's length now; the server writes a request's line once it
// answered it.
func (a accessLog) mark(t *testing.T) int64 {
	if !a.on() {
		return 0
	}
	fi, err := os.Stat(a.path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

type accessGets struct {
	n     int
	lines []string // operation and key of each
}

// since counts the GET and HEAD requests on keys under prefix logged after
// mark.
func (a accessLog) since(t *testing.T, mark int64, prefix string) accessGets {
	f, err := os.Open(a.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(mark, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var g accessGets
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		// owner bucket [time zone] ip requester id operation key ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 9 {
			continue
		}
		op, key := fields[7], fields[8]
		if (op != "s3_GetObject" && op != "s3_HeadObject") || !strings.HasPrefix(key, prefix) {
			continue
		}
		g.n++
		g.lines = append(g.lines, strings.TrimPrefix(op, "s3_")+" "+key[len(prefix):])
	}
	return g
}
