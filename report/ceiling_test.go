package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/tickbench/tickbench/bench/result"
)

// ceilingResult is a search of two strategies whose steps ran out of
// order (doubling, then bisecting), one cut by the bound.
func ceilingResult() *result.Result {
	step := func(rate, achieved, p50ms, p99ms, cpu float64, verdict string) result.CeilingStep {
		return result.CeilingStep{Rate: rate, Producer: result.Producer{AchievedRate: achieved}, LandedRate: achieved,
			EndToEnd: result.Latency{P50: int64(p50ms * 1000), P99: int64(p99ms * 1000)}, Upload: result.Latency{P99: 20_000},
			CPUUtil: cpu, Verdict: verdict, Verify: result.Verify{OK: true}}
	}
	return &result.Result{RunID: "r1", Name: "ceiling", Verified: true, Ceiling: &result.Ceiling{SLO: "e2e-p99<2s", StepS: 15, StartRate: 10_000, Resolution: "5%",
		Searches: []result.CeilingSearch{
			{Strategy: "jsonl", Rate: 60_000, Upper: 80_000, Resolution: 3000, Complete: true, Saturated: "cpu: the process used 95% of its cores at 80,000/s",
				Steps: []result.CeilingStep{step(10_000, 10_000, 3000, 6000, 0.1, result.VerdictSLO), step(20_000, 20_000, 1500, 3000, 0.2, result.VerdictSLO),
					step(40_000, 40_000, 700, 1500, 0.4, result.VerdictPass), step(80_000, 70_000, 4000, 25_000, 0.95, result.VerdictFail),
					step(60_000, 60_000, 500, 1100, 0.7, result.VerdictPass)}},
			{Strategy: "parquet-zstd", Rate: 20_000, Stopped: "max-duration: the last step was cut short",
				Steps: []result.CeilingStep{step(10_000, 10_000, 3000, 1900, 0.1, result.VerdictPass), step(20_000, 20_000, 1500, 1800, 0.2, result.VerdictPass),
					step(40_000, 30_000, 700, 900, 0.4, result.VerdictCut)}},
		}}}
}

func TestCeilingHTML(t *testing.T) {
	res := ceilingResult()
	var page bytes.Buffer
	if err := HTML(&page, []*result.Result{res}); err != nil {
		t.Fatal(err)
	}
	series := map[string]map[string]element{} // chart id -> series name -> path
	var chart string
	var cells []string
	for _, e := range parse(t, page.Bytes()) {
		switch {
		case e.name == "svg":
			chart = e.attrs["id"]
			series[chart] = map[string]element{}
		case e.name == "path" && e.attrs["class"] == "series":
			series[chart][e.attrs["data-series"]] = e
		case e.name == "td":
			cells = append(cells, e.text)
		}
	}
	for _, id := range []string{"saturation", "achieved", "upload", "cpu"} {
		if series[id] == nil {
			t.Fatalf("chart %s missing", id)
		}
	}
	// The curve runs along the offered rate, in order, without the cut step.
	p99 := series["saturation"]["jsonl e2e p99"]
	if xs, ys := floats(t, p99.attrs["data-x"]), floats(t, p99.attrs["data-y"]); !slices.Equal(xs, []float64{10_000, 20_000, 40_000, 60_000, 80_000}) ||
		!slices.Equal(ys, []float64{6000, 3000, 1500, 1100, 10_000}) { // clipped at 5 x the slo
		t.Errorf("jsonl p99 curve x %v y %v", xs, ys)
	}
	if xs := floats(t, series["saturation"]["parquet-zstd e2e p50"].attrs["data-x"]); !slices.Equal(xs, []float64{10_000, 20_000}) {
		t.Errorf("parquet-zstd p50 curve x %v: the cut step must not be drawn", xs)
	}
	if xs := floats(t, series["saturation"]["jsonl answer"].attrs["data-x"]); !slices.Equal(xs, []float64{60_000, 60_000}) {
		t.Errorf("answer marker at %v", xs)
	}
	if ys := floats(t, series["saturation"]["slo e2e-p99<2s"].attrs["data-y"]); !slices.Equal(ys, []float64{2000, 2000}) {
		t.Errorf("slo line at %v ms", ys)
	}
	if ys := floats(t, series["achieved"]["jsonl achieved"].attrs["data-y"]); ys[4] != 70_000 {
		t.Errorf("achieved at 80,000/s offered: %v", ys)
	}
	if ys := floats(t, series["cpu"]["jsonl process"].attrs["data-y"]); ys[4] != 95 {
		t.Errorf("cpu at 80,000/s offered: %v %%", ys)
	}
	text := strings.Join(cells, "|")
	for _, want := range []string{"60,000 ticks/s (resolution 3,000/s: passed at 60,000/s, failed at 80,000/s)", "cpu: the process used 95%",
		"at least 20,000 ticks/s (none failed)  [INCOMPLETE, max-duration: the last step was cut short]"} {
		if !strings.Contains(text, want) {
			t.Errorf("tables lack %q:\n%s", want, text)
		}
	}
	if got := strings.Count(text, "jsonl|"); got != 1+5 {
		t.Errorf("%d rows of jsonl (answer + steps), want 6", got)
	}

	var md bytes.Buffer
	if err := Markdown(&md, []*result.Result{res}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| jsonl | 60,000 ticks/s") || !strings.Contains(md.String(), "| parquet-zstd | at least 20,000") {
		t.Errorf("markdown:\n%s", md.String())
	}
}
