package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench/result"
)

// TestRunLakeReport runs jsonl and parquet-snappy over the same ticks and
// checks the query side: every standard query modelled for both, the local
// SQL check run and passed (its answers compared with the produced ticks),
// Parquet scanning less than JSON lines for the same queries, and the table
// printed.
func TestRunLakeReport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := testConfig(t)
	cfg.Strategies = []string{"jsonl", "parquet-snappy"}
	cfg.Mode = result.ModeParallel
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*result.LakeReport{}
	for _, s := range res.Strategies {
		l := s.Lake
		if l == nil || l.Problem != "" || len(l.Queries) != 4 {
			t.Fatalf("%s: lake report %+v, want 4 modelled queries", s.Strategy, l)
		}
		if !l.Local.Ran || !l.Local.OK || l.Local.Count != int64(s.Producer.Acked) || l.Local.Hour <= 0 || l.Local.Symbols != cfg.Model.Symbols {
			t.Fatalf("%s: local check %+v, want ok with count %d and %d VWAPs", s.Strategy, l.Local, s.Producer.Acked, cfg.Model.Symbols)
		}
		for _, q := range l.Queries {
			if q.Bytes <= 0 || q.BilledBytes < 10<<20 || q.USD <= 0 || !strings.Contains(q.SQL, "FROM "+l.Table+" WHERE") {
				t.Errorf("%s %s: %+v", s.Strategy, q.Query, q)
			}
		}
		byName[s.Strategy] = l
	}
	j, p := byName["jsonl"], byName["parquet-snappy"]
	for i := range j.Queries {
		// JSON objects count whole: a scan is some of the landed bytes
		// (all of them unless the 2 s run crossed an hour).
		if j.Queries[i].Bytes > res.Strategies[0].Bytes {
			t.Errorf("jsonl %s scans %d bytes, more than the %d landed", j.Queries[i].Query, j.Queries[i].Bytes, res.Strategies[0].Bytes)
		}
		if !(p.Queries[i].Bytes*2 < j.Queries[i].Bytes) {
			t.Errorf("%s: parquet scans %d bytes, jsonl %d: want under half", p.Queries[i].Query, p.Queries[i].Bytes, j.Queries[i].Bytes)
		}
	}
	// Parquet objects of 500 ticks are read whole: the advice is to flush
	// more, priced on the run's ticks landed again.
	if j.Advice != nil {
		t.Errorf("jsonl: advice %+v, want none (JSON objects are read whole at any size)", j.Advice)
	}
	if a := p.Advice; a == nil || a.OverheadShare <= 0.5 || a.FlushRecords <= 500 || len(a.AtScans) != 4 || a.AtObjects == 0 || a.AtObjects >= a.Objects {
		t.Errorf("parquet-snappy: advice %+v, want one with the 4 queries modelled on fewer, larger objects", a)
	}
	var out bytes.Buffer
	res.PrintSummary(&out)
	for _, want := range []string{"athena scan", "count-hour", "ohlc-minute", "yes (count 4000, 100 VWAPs", "advice     parquet-snappy: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

func TestConfigRejectsNegativeLakeMax(t *testing.T) {
	cfg := Default()
	cfg.LakeLocalMax = -1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "lake-local-max -1") {
		t.Errorf("Validate = %v", err)
	}
}
