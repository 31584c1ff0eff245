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
				laketest.Land(t, dir, format, layout, ticks, 500)
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
