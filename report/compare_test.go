package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/compare"
)

// latency is a histogram of n values of us µs.
func latency(t *testing.T, us int64, n int) result.Latency {
	t.Helper()
	h := hdrhistogram.New(1, 60_000_000, 3)
	for range n {
		if err := h.RecordValue(us); err != nil {
			t.Fatal(err)
		}
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return result.Latency{HDR: string(b)}
}

func run(t *testing.T, rev string, e2eUS int64) *result.Result {
	r := &result.Result{RunID: rev + "-run", Strategies: []result.StrategyResult{{Strategy: "jsonl",
		EndToEnd: latency(t, e2eUS, 100), Upload: latency(t, 1000, 10)}}}
	r.Workload.Rate = 2000
	r.Machine.Tickbench = rev
	return r
}

// TestCompareReport: base and new curves share one chart per latency and
// workload, each merged over its runs (base dashed); the verdict table
// marks the regression.
func TestCompareReport(t *testing.T) {
	c := Comparison{
		Base: []*result.Result{run(t, "aaa", 10_000), run(t, "aaa", 10_000)},
		New:  []*result.Result{run(t, "bbb", 20_000), run(t, "bbb", 20_000)},
	}
	b, n := compare.Samples{}, compare.Samples{}
	for i := range 5 {
		b["Tickbench/strategy=jsonl/rate=2000"] = map[string][]float64{"e2e-p50-us": append(b["Tickbench/strategy=jsonl/rate=2000"]["e2e-p50-us"], 10_000+float64(i))}
		n["Tickbench/strategy=jsonl/rate=2000"] = map[string][]float64{"e2e-p50-us": append(n["Tickbench/strategy=jsonl/rate=2000"]["e2e-p50-us"], 20_000+float64(i))}
	}
	c.Verdicts = compare.Compare(b, n, compare.DefaultOptions())

	var page bytes.Buffer
	if err := CompareHTML(&page, c); err != nil {
		t.Fatal(err)
	}
	var chart string
	curves := map[string][]element{}
	regressed := 0
	for _, e := range parse(t, page.Bytes()) {
		switch {
		case e.name == "svg":
			chart = e.attrs["id"]
		case e.name == "path" && e.attrs["class"] == "series":
			curves[chart] = append(curves[chart], e)
		case e.name == "tr" && e.attrs["class"] == "regressed":
			regressed++
		}
	}
	if regressed != 1 {
		t.Errorf("%d rows marked regressed, want 1", regressed)
	}
	e2e := curves["latency-e2e-2000"]
	if len(e2e) != 2 || len(curves["latency-upload-2000"]) != 2 {
		t.Fatalf("charts %v: want latency-e2e-2000 and latency-upload-2000 with a base and a new curve each", curves)
	}
	for i, want := range []struct {
		name   string
		ms     float64
		dashed bool
	}{{"base jsonl", 10, true}, {"new jsonl", 20, false}} {
		ys := floats(t, e2e[i].attrs["data-y"])
		if e2e[i].attrs["data-series"] != want.name || ys[len(ys)-1] < want.ms*0.99 || ys[len(ys)-1] > want.ms*1.01 ||
			(e2e[i].attrs["stroke-dasharray"] != "") != want.dashed {
			t.Errorf("curve %d: %v, want %s ending at %g ms, dashed %v", i, e2e[i].attrs, want.name, want.ms, want.dashed)
		}
	}

	var md bytes.Buffer
	if err := CompareMarkdown(&md, c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"- base: 2 runs of tickbench aaa", "- new: 2 runs of tickbench bbb", "| e2e-p50-us | 10002 | 20002 | +100.0% |", "**REGRESSED**", "1 regression(s)"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if err := CompareMarkdown(&md, Comparison{New: c.New}); err == nil || !strings.Contains(err.Error(), "needs base and new") {
		t.Errorf("no base: %v", err)
	}
}
