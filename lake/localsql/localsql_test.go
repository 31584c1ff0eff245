package localsql

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/lake/laketest"
	"github.com/tickbench/tickbench/sink"
)

// start is 2026-11-25 22:30 UTC: the ticks span two days and four hours.
var start = time.Date(2026, 11, 25, 22, 30, 0, 0, time.UTC).UnixNano()

// TestEngineAnswers lands ticks in every format and layout with the sink's
// encoders and checks DuckDB's answers against the ticks themselves.
func TestEngineAnswers(t *testing.T) {
	ticks := laketest.Ticks(t, 3000, 7, start, 3*int64(time.Second)+12345)
	hourStart := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	var wantHour int64
	vol, notional := map[string]float64{}, map[string]float64{}
	for i := range ticks {
		tt := ticks[i].Time()
		if !tt.Before(hourStart) && tt.Before(hourStart.Add(time.Hour)) {
			wantHour++
		}
		if tt.Before(hourStart.Add(time.Hour)) { // the day 2026-11-25
			vol[ticks[i].Symbol] += float64(ticks[i].Size)
			notional[ticks[i].Symbol] += ticks[i].Price * float64(ticks[i].Size)
		}
	}
	for _, format := range []string{"json", "jsonl", "jsonl.gz", "parquet", "parquet-zstd"} {
		for _, layout := range sink.Layouts {
			t.Run(format+"/"+string(layout), func(t *testing.T) {
				dir := t.TempDir()
				laketest.Land(t, dir, laketest.Format(t, format), layout, ticks, 500)
				tb := lake.Table{Database: "tickbench", Name: "ticks_x", Format: format, Layout: layout, Bucket: "b", Prefix: "p/"}
				e, err := Open(context.Background(), tb, dir)
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close()
				one := func(q string) any {
					t.Helper()
					r, err := e.Query(context.Background(), q)
					if err != nil {
						t.Fatal(err)
					}
					if len(r.Rows) != 1 || len(r.Rows[0]) != 1 {
						t.Fatalf("%s: %d rows, want one value", q, len(r.Rows))
					}
					return r.Rows[0][0]
				}
				if n := one("SELECT count(*) FROM ticks"); fmt.Sprint(n) != fmt.Sprint(len(ticks)) {
					t.Errorf("count(*) = %v, want %d", n, len(ticks))
				}
				if n := one("SELECT count(*) FROM tickbench.ticks_x"); fmt.Sprint(n) != fmt.Sprint(len(ticks)) {
					t.Errorf("count(*) of tickbench.ticks_x = %v, want %d", n, len(ticks))
				}
				hourPred := fmt.Sprintf("ts >= %d AND ts < %d", hourStart.UnixNano(), hourStart.Add(time.Hour).UnixNano())
				if tb.Parquet() {
					hourPred = "ts >= TIMESTAMP '2026-11-25 23:00:00' AND ts < TIMESTAMP '2026-11-26 00:00:00'"
				}
				if n := one("SELECT count(*) FROM ticks WHERE " + hourPred); fmt.Sprint(n) != fmt.Sprint(wantHour) {
					t.Errorf("count of one hour = %v, want %d", n, wantHour)
				}
				if layout == sink.LayoutHourly {
					if n := one("SELECT count(*) FROM ticks WHERE dt = '2026-11-25' AND hour = 23"); fmt.Sprint(n) != fmt.Sprint(wantHour) {
						t.Errorf("count of partition dt=2026-11-25/hour=23 = %v, want %d", n, wantHour)
					}
				}
				if layout == sink.LayoutSymbol {
					sym := ticks[0].Symbol
					got := one(fmt.Sprintf("SELECT sum(price * size) / sum(size) FROM ticks WHERE dt = '2026-11-25' AND symbol = '%s'", sym))
					if want := notional[sym] / vol[sym]; math.Abs(got.(float64)-want) > 1e-9*want {
						t.Errorf("VWAP of %s from its partition = %v, want %v", sym, got, want)
					}
				}
			})
		}
	}
}

// TestStandardQueriesAgree runs the standard set, written per table as for
// Athena, over every format and layout: the answers (apart from the type of
// ts) must be the same everywhere, and match the ticks.
func TestStandardQueriesAgree(t *testing.T) {
	ticks := laketest.Ticks(t, 2000, 5, start, 2*int64(time.Second)+777)
	hour := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC)
	sym := ticks[1].Symbol
	qs := lake.StandardQueries(hour, sym)
	var wantCount int64
	var last int
	for i := range ticks {
		tt := time.UnixMicro(ticks[i].Intended / 1000)
		if !tt.Before(hour) && tt.Before(hour.Add(time.Hour)) {
			wantCount++
			if ticks[i].Symbol == sym {
				last = i
			}
		}
	}
	var ref []string
	refName := ""
	for _, format := range []string{"jsonl", "json", "jsonl.gz", "parquet", "parquet-zstd"} {
		for _, layout := range sink.Layouts {
			dir := t.TempDir()
			laketest.Land(t, dir, laketest.Format(t, format), layout, ticks, 700)
			tb := lake.Table{Database: "tickbench", Name: "ticks_y", Format: format, Layout: layout, Bucket: "b", Prefix: "p/"}
			e, err := Open(context.Background(), tb, dir)
			if err != nil {
				t.Fatal(err)
			}
			var answers []string
			for _, q := range qs {
				r, err := e.Query(context.Background(), q.SQL(tb, tb.Name))
				if err != nil {
					t.Fatalf("%s %s %s: %v\n%s", format, layout, q.Name, err, q.SQL(tb, tb.Name))
				}
				for _, row := range r.Rows {
					var cells []string
					for i, c := range r.Columns {
						if c == "ts" || c == "minute" {
							continue
						}
						v := row[i]
						if f, ok := v.(float64); ok {
							v = math.Round(f*1e6) / 1e6
						}
						cells = append(cells, fmt.Sprint(v))
					}
					answers = append(answers, q.Name+": "+fmt.Sprint(cells))
				}
			}
			e.Close()
			name := format + "/" + string(layout)
			if ref == nil {
				ref, refName = answers, name
				if answers[0] != fmt.Sprintf("count-hour: [%d]", wantCount) {
					t.Errorf("%s: %s, want %d ticks in the hour", name, answers[0], wantCount)
				}
				wantLast := fmt.Sprintf("last-trade: [%d %v %d]", ticks[last].Seq, ticks[last].Price, ticks[last].Size)
				found := false
				for _, a := range answers {
					found = found || a == wantLast
				}
				if !found {
					t.Errorf("%s: no answer %q in %v", name, wantLast, answers)
				}
				continue
			}
			if fmt.Sprint(answers) != fmt.Sprint(ref) {
				t.Errorf("%s answers differ from %s's:\n%v\n%v", name, refName, answers, ref)
			}
		}
	}
}
