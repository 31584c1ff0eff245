package report

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickbench/tickbench/bench"
	"github.com/tickbench/tickbench/bench/result"
)

// realResult runs a short two-strategy workload on the embedded stack, so
// the report is tested on real histograms and series.
func realResult(t *testing.T) *result.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := bench.Default()
	cfg.Rate, cfg.Duration = 1000, 2*time.Second
	cfg.Stack.DataDir, cfg.Out = t.TempDir(), t.TempDir()
	cfg.Policy.Records = 200
	cfg.Strategies = []string{"jsonl", "parquet-zstd"}
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

type element struct {
	name  string
	attrs map[string]string
	text  string
}

// parse reads the page as XML (strict): it must be well-formed, and every
// element is returned with its attributes.
func parse(t *testing.T, page []byte) []element {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = true
	var out []element
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("page is not well-formed: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			e := element{name: tk.Name.Local, attrs: map[string]string{}}
			for _, a := range tk.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
		case xml.CharData:
			if len(out) > 0 {
				out[len(out)-1].text += string(tk)
			}
		}
	}
}

func floats(t *testing.T, s string) []float64 {
	t.Helper()
	var out []float64
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("data value %q: %v", f, err)
		}
		out = append(out, v)
	}
	return out
}

func TestHTMLAndMarkdown(t *testing.T) {
	res := realResult(t)
	var page bytes.Buffer
	if err := HTML(&page, []*result.Result{res}); err != nil {
		t.Fatal(err)
	}
	els := parse(t, page.Bytes())

	charts := map[string]bool{}
	series := map[string][]element{} // chart id -> its series paths and bars
	var chart string
	cells := 0
	for _, e := range els {
		switch {
		case e.name == "script" || e.attrs["src"] != "" || e.attrs["href"] != "":
			t.Fatalf("page is not self-contained: <%s %v>", e.name, e.attrs)
		case e.name == "svg":
			chart = e.attrs["id"]
			charts[chart] = true
		case e.name == "path" && e.attrs["class"] == "series", e.name == "rect" && e.attrs["class"] == "bar":
			series[chart] = append(series[chart], e)
		case e.name == "td":
			cells++
		}
	}
	for _, id := range []string{"latency-e2e", "latency-upload", "rate", "lag", "rss", "goroutines", "open-files", "bytes-per-tick", "cost-put", "cost-storage", "cost-athena", "athena-scan"} {
		if !charts[id] {
			t.Errorf("chart %s missing; have %v", id, charts)
		}
	}
	if cells != 2*15 {
		t.Errorf("summary table has %d cells, want 2 rows of 15", cells)
	}

	for i, s := range res.Strategies {
		// The e2e curve: percentiles rise, and end at the max.
		e2e := series["latency-e2e"][i]
		if e2e.attrs["data-series"] != s.Strategy {
			t.Fatalf("e2e series %d is %q, want %s", i, e2e.attrs["data-series"], s.Strategy)
		}
		xs, ys := floats(t, e2e.attrs["data-x"]), floats(t, e2e.attrs["data-y"])
		if len(xs) < 10 || len(xs) != len(ys) {
			t.Fatalf("%s e2e curve: %d x, %d y", s.Strategy, len(xs), len(ys))
		}
		if ys[len(ys)-1] != float64(s.EndToEnd.Max)/1000 {
			t.Errorf("%s e2e curve ends at %g ms, max is %d µs", s.Strategy, ys[len(ys)-1], s.EndToEnd.Max)
		}
		for j := 1; j < len(ys); j++ {
			if ys[j] < ys[j-1] || xs[j] <= xs[j-1] {
				t.Fatalf("%s e2e curve not monotonic at %d: %v / %v", s.Strategy, j, xs, ys)
			}
		}
		// x = 2 is the 99th percentile.
		for j, x := range xs {
			if x == 2 && ys[j] != float64(s.EndToEnd.P99)/1000 {
				t.Errorf("%s: curve at 99%% is %g ms, p99 is %d µs", s.Strategy, ys[j], s.EndToEnd.P99)
			}
		}
		// Rate: achieved then target per strategy, from the series.
		achieved, target := series["rate"][2*i], series["rate"][2*i+1]
		if got := floats(t, target.attrs["data-y"]); got[0] != res.Workload.Rate {
			t.Errorf("%s target line starts at %v", s.Strategy, got)
		}
		if n := len(floats(t, achieved.attrs["data-y"])); n != len(s.Series) {
			t.Errorf("%s achieved line has %d points, series %d", s.Strategy, n, len(s.Series))
		}
		if rss := floats(t, series["rss"][i].attrs["data-y"]); len(rss) != len(s.Series) || rss[0] != float64(s.Series[0].RSSBytes)/(1<<20) {
			t.Errorf("%s rss line %v, series of %d starting at %d bytes", s.Strategy, rss, len(s.Series), s.Series[0].RSSBytes)
		}
		if _, scan := lakeMeans(s); series["athena-scan"][i].attrs["data-value"] != strconv.FormatFloat(scan, 'g', -1, 64) {
			t.Errorf("%s athena scan bar %v, modelled mean %g", s.Strategy, series["athena-scan"][i].attrs, scan)
		}
		b := series["bytes-per-tick"][i]
		if v, _ := strconv.ParseFloat(b.attrs["data-value"], 64); b.attrs["data-label"] != s.Strategy || v != s.BytesPerTick {
			t.Errorf("bytes/tick bar %v, want %s %g", b.attrs, s.Strategy, s.BytesPerTick)
		}
	}
	if pq, js := res.Strategies[1].BytesPerTick, res.Strategies[0].BytesPerTick; pq >= js {
		t.Errorf("parquet-zstd %g bytes/tick, jsonl %g: compression should show in the bars", pq, js)
	}

	var md bytes.Buffer
	if err := Markdown(&md, []*result.Result{res}); err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Strategies {
		want := "| " + s.Strategy + " | "
		if !strings.Contains(md.String(), want) || !strings.Contains(md.String(), ms(s.EndToEnd.P99)) {
			t.Errorf("markdown lacks the %s row with p99 %s:\n%s", s.Strategy, ms(s.EndToEnd.P99), md.String())
		}
	}
	if !strings.Contains(md.String(), res.RunID) {
		t.Errorf("markdown lacks the run id:\n%s", md.String())
	}
}

func TestNoResults(t *testing.T) {
	if err := HTML(io.Discard, nil); err == nil || !strings.Contains(err.Error(), "no results") {
		t.Fatalf("HTML(nil) = %v", err)
	}
	bad := &result.Result{Strategies: []result.StrategyResult{{Strategy: "jsonl"}}}
	bad.Strategies[0].EndToEnd.HDR = "not a histogram"
	if err := HTML(io.Discard, []*result.Result{bad}); err == nil || !strings.Contains(err.Error(), "decode histogram of jsonl") {
		t.Fatalf("HTML(bad histogram) = %v", err)
	}
}

// TestHTMLProcesses: a merged result's page lists its processes and what
// its clocks assert, and says why it has no per-second series.
func TestHTMLProcesses(t *testing.T) {
	res := realResult(t)
	res.Role = result.RoleMerged
	res.Strategies = res.Strategies[:1]
	res.Strategies[0].Series = nil
	sr := res.Strategies[0]
	res.Processes = []result.Process{
		{Role: result.RoleProduce, Host: "gen-a", PID: 11, Shard: "0/2", Producer: &sr.Producer, CPUSeconds: 1.25, Clock: result.Clock{Sync: result.ClockSynchronized}},
		{Role: result.RoleSink, Host: "sink-b", PID: 12, Sink: &sr, CPUSeconds: 2, PeakRSSBytes: 3 << 20, Clock: result.Clock{Sync: result.ClockUnsynchronized}},
	}
	res.Clocks = &result.Clocks{Hosts: 2, Note: "2 hosts, sink-b not synchronized: end-to-end across hosts is not asserted"}
	var b bytes.Buffer
	if err := HTML(&b, []*result.Result{res}); err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	inProcs := false
	for _, e := range parse(t, b.Bytes()) {
		switch {
		case e.name == "table":
			inProcs = e.attrs["id"] == "processes"
		case inProcs && e.name == "tr":
			rows = append(rows, nil)
		case inProcs && e.name == "td":
			rows[len(rows)-1] = append(rows[len(rows)-1], strings.TrimSpace(e.text))
		}
	}
	if len(rows) != 3 || len(rows[1]) != 10 || rows[1][2] != "gen-a" || rows[1][4] != "0/2" || rows[2][1] != "sink" || rows[2][8] != "3.0" || rows[2][9] != "unsynchronized" {
		t.Fatalf("process table rows %q", rows)
	}
	for _, want := range []string{"clocks: 2 hosts, sink-b not synchronized", "a merge of processes keeps their totals"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
