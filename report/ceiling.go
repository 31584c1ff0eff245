package report

import (
	"cmp"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tickbench/tickbench/bench/result"
)

// ceilings reports whether every result is a ceiling search's.
func ceilings(results []*result.Result) bool {
	for _, r := range results {
		if r.Ceiling == nil {
			return false
		}
	}
	return len(results) > 0
}

// search is one strategy's search of one result, its steps by rate.
type search struct {
	label string
	run   *result.Result
	s     result.CeilingSearch
	steps []result.CeilingStep
}

func searches(results []*result.Result) []search {
	var out []search
	for _, r := range results {
		for _, s := range r.Ceiling.Searches {
			label := s.Strategy
			if len(results) > 1 {
				label = r.RunID + " " + s.Strategy
			}
			steps := slices.Clone(s.Steps)
			slices.SortStableFunc(steps, func(a, b result.CeilingStep) int { return cmp.Compare(a.Rate, b.Rate) })
			out = append(out, search{label, r, s, steps})
		}
	}
	return out
}

// ceilingHTML is the page of ceiling searches: the saturation curve (e2e
// p50 and p99 against the offered rate of each step, the SLO and the
// answer marked: the knee is the answer), achieved and landed against
// offered, and the resources that saturate (upload p99, process CPU).
func ceilingHTML(w io.Writer, results []*result.Result) error {
	ss := searches(results)
	p := page{Title: "tickbench ceiling", Runs: results}
	p.Columns = []string{"strategy", "ceiling ticks/s", "resolution", "failed at", "steps", "search s", "saturated first"}
	steps := htmlTable{ID: "steps", Columns: []string{"strategy", "offered/s", "achieved/s", "landed/s", "lag trend/s", "e2e p50 ms", "e2e p99 ms", "upload p99 ms", "cpu process / machine", "verdict"}}
	hiRate, hiMS := 0.0, 0.0
	for _, s := range ss {
		upper := "-"
		if s.s.Upper > 0 {
			upper = fmtNum(s.s.Upper)
		}
		p.Rows = append(p.Rows, []string{s.label, s.s.Answer(), fmtNum(s.s.Resolution), upper, fmt.Sprint(len(s.steps)),
			fmt.Sprintf("%.0f", s.s.ElapsedS), s.s.Saturated})
		for _, st := range s.steps {
			verdict := st.Verdict
			if len(st.Reasons) > 0 {
				verdict += ": " + strings.Join(st.Reasons, "; ")
			}
			steps.Rows = append(steps.Rows, []string{s.label, fmtNum(st.Rate), fmtNum(st.Producer.AchievedRate), fmtNum(st.LandedRate),
				fmt.Sprintf("%+.0f ± %.0f", st.LagSlope, st.LagSlopeErr), ms(st.EndToEnd.P50), ms(st.EndToEnd.P99), ms(st.Upload.P99),
				fmt.Sprintf("%.0f%% / %.0f%%", 100*st.CPUUtil, 100*st.MachineCPUUtil), verdict})
			hiRate, hiMS = max(hiRate, st.Rate), max(hiMS, float64(st.EndToEnd.P99)/1000)
		}
	}
	p.Tables = []htmlTable{steps}
	if hiRate == 0 {
		p.Notes = append(p.Notes, "no step ran: nothing to draw")
		return pageTemplate.Execute(w, p)
	}
	_, xt := niceTicks(hiRate, 6, fmtNum)
	at := func(get func(result.CeilingStep) float64) func(search) ([]float64, []float64) {
		return func(s search) (xs, ys []float64) {
			for _, st := range s.steps {
				if st.Verdict != result.VerdictCut {
					xs, ys = append(xs, st.Rate), append(ys, get(st))
				}
			}
			return xs, ys
		}
	}
	curve := func(lines []line, name string, i int, dashed bool, pts func(search) ([]float64, []float64), s search) []line {
		xs, ys := pts(s)
		return append(lines, line{name: s.label + " " + name, xs: xs, ys: ys, color: color(i), dashed: dashed})
	}
	var lat, rates, uploads, cpus []line
	for i, s := range ss {
		lat = curve(lat, "e2e p99", i, false, at(func(st result.CeilingStep) float64 { return float64(st.EndToEnd.P99) / 1000 }), s)
		lat = curve(lat, "e2e p50", i, true, at(func(st result.CeilingStep) float64 { return float64(st.EndToEnd.P50) / 1000 }), s)
		if s.s.Rate > 0 {
			lat = append(lat, line{name: s.label + " answer", xs: []float64{s.s.Rate, s.s.Rate},
				ys: []float64{0, hiMS}, color: color(i), dashed: true})
		}
		rates = curve(rates, "achieved", i, false, at(func(st result.CeilingStep) float64 { return st.Producer.AchievedRate }), s)
		rates = curve(rates, "landed", i, true, at(func(st result.CeilingStep) float64 { return st.LandedRate }), s)
		uploads = curve(uploads, "upload p99", i, false, at(func(st result.CeilingStep) float64 { return float64(st.Upload.P99) / 1000 }), s)
		cpus = curve(cpus, "process", i, false, at(func(st result.CeilingStep) float64 { return 100 * st.CPUUtil }), s)
		cpus = curve(cpus, "machine", i, true, at(func(st result.CeilingStep) float64 { return 100 * st.MachineCPUUtil }), s)
	}
	top := 0.0 // the latency axis stops at 5 times the SLO's largest e2e bound
	for _, r := range results {
		for _, t := range sloBounds(r.Ceiling.SLO) {
			lat = append(lat, line{name: "slo " + t, xs: []float64{0, xt[len(xt)-1].at}, ys: []float64{sloMS(t), sloMS(t)}, color: "#888", dashed: true})
			top = max(top, 5*sloMS(t))
		}
	}
	latTitle := "Saturation: e2e latency vs offered rate (knee = answer)"
	if top > 0 && hiMS > top {
		for i := range lat {
			for j := range lat[i].ys {
				lat[i].ys[j] = min(lat[i].ys[j], top)
			}
		}
		latTitle += ", clipped at " + fmtNum(top) + " ms"
	}
	rates = append(rates, line{name: "offered", xs: []float64{0, xt[len(xt)-1].at}, ys: []float64{0, xt[len(xt)-1].at}, color: "#888", dashed: true})
	const x = "offered rate (ticks/s) of each step"
	p.Charts = append(p.Charts,
		template.HTML(lineChart("saturation", latTitle, x, "ms", lat, xt, fmtNum)),
		template.HTML(lineChart("achieved", "Achieved (producer) and landed (sink) against offered rate", x, "ticks/s", rates, xt, fmtNum)),
		template.HTML(lineChart("upload", "S3 upload p99 per object against offered rate", x, "ms", uploads, xt, fmtNum)),
		template.HTML(lineChart("cpu", "CPU, share of all cores: the process (solid) and the machine (dashed)", x, "%", cpus, xt, fmtNum)))
	p.Notes = append(p.Notes, "A step passes when the producer holds its rate within 1%, the lag's least-squares slope over the step's second half "+
		"stays under 1% of the rate (or within twice its standard error, or the lag within what open batches hold), the SLO holds, and every tick landed once. "+
		"Steps marked slo kept up but missed the SLO (below the first pass: batches fill slowly at low rates).")
	return pageTemplate.Execute(w, p)
}

// sloBounds are the e2e terms of an SLO, which the latency chart draws.
func sloBounds(slo string) []string {
	var out []string
	for _, t := range strings.Split(slo, ",") {
		if strings.HasPrefix(t, "e2e-") {
			out = append(out, t)
		}
	}
	return out
}

func sloMS(term string) float64 {
	_, bound, _ := strings.Cut(term, "<")
	d, _ := time.ParseDuration(bound)
	return float64(d) / float64(time.Millisecond)
}

// ceilingMarkdown is the answers table for a pull-request comment.
func ceilingMarkdown(w io.Writer, results []*result.Result) error {
	var b strings.Builder
	b.WriteString("### tickbench ceiling\n\n| strategy | ceiling | saturated first |\n| --- | --- | --- |\n")
	for _, s := range searches(results) {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", s.label, strings.ReplaceAll(s.s.Answer(), "|", `\|`), s.s.Saturated)
	}
	for _, r := range results {
		fmt.Fprintf(&b, "\n`%s`: stack %s, slo %s, steps of %gs, resolution %s\n", r.RunID, r.Stack.Name, r.Ceiling.SLO, r.Ceiling.StepS, r.Ceiling.Resolution)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
