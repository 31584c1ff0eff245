package report

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Charts are inline SVG built here: no script, no network, and every data
// element carries its series name and values (data-*) so tests and readers
// can check what is drawn.

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

func color(i int) string { return palette[i%len(palette)] }

// tick is an axis mark at a position in data units.
type tick struct {
	at    float64
	label string
}

// line is one series of a line chart.
type line struct {
	name   string
	dashed bool
	xs, ys []float64
	color  string
}

const (
	chartW, chartH         = 720, 320
	padL, padR, padT, padB = 70, 160, 30, 45
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
	legendX                = chartW - padR + 12
	fontAttrs              = `font-family="sans-serif" font-size="11"`
)

// niceTicks returns about n round ticks from 0 to at least hi.
func niceTicks(hi float64, n int, format func(float64) string) (top float64, ticks []tick) {
	if !(hi > 0) {
		hi = 1
	}
	raw := hi / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	for v := 0.0; ; v += step {
		ticks = append(ticks, tick{v, format(v)})
		if v >= hi {
			return v, ticks
		}
	}
}

// lineChart draws lines over x ticks (the x range is that of xTicks) and a
// y axis from 0.
func lineChart(id, title, xLabel, yLabel string, lines []line, xTicks []tick, yFormat func(float64) string) string {
	xlo, xhi := xTicks[0].at, xTicks[len(xTicks)-1].at
	ymax := 0.0
	for _, l := range lines {
		for _, y := range l.ys {
			ymax = max(ymax, y)
		}
	}
	ytop, yTicks := niceTicks(ymax*1.05, 5, yFormat)
	px := func(x float64) float64 { return padL + (x-xlo)/(xhi-xlo)*plotW }
	py := func(y float64) float64 { return padT + plotH - y/ytop*plotH }
	var b strings.Builder
	open(&b, id, title)
	axes(&b, xTicks, yTicks, px, py, xLabel, yLabel)
	for i, l := range lines {
		var d, xs, ys strings.Builder
		for j := range l.xs {
			cmd := "L"
			if j == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f,%.1f ", cmd, px(l.xs[j]), py(l.ys[j]))
			fmt.Fprintf(&xs, "%g ", l.xs[j])
			fmt.Fprintf(&ys, "%g ", l.ys[j])
		}
		dash := ""
		if l.dashed {
			dash = ` stroke-dasharray="6,4"`
		}
		c := l.color
		if c == "" {
			c = color(i)
		}
		fmt.Fprintf(&b, `<path class="series" data-series="%s" data-x="%s" data-y="%s" d="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n",
			esc(l.name), strings.TrimSpace(xs.String()), strings.TrimSpace(ys.String()), strings.TrimSpace(d.String()), c, dash)
		ly := padT + 14*i
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/><text x="%d" y="%d" %s>%s</text>`+"\n",
			legendX, ly, legendX+18, ly, c, dash, legendX+22, ly+4, fontAttrs, esc(l.name))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// bar is one bar of a bar chart.
type bar struct {
	label string
	value float64
	text  string // the value as shown
}

// barChart draws one vertical bar per label.
func barChart(id, title, yLabel string, bars []bar, yFormat func(float64) string) string {
	ymax := 0.0
	for _, br := range bars {
		ymax = max(ymax, br.value)
	}
	ytop, yTicks := niceTicks(ymax*1.1, 5, yFormat)
	py := func(y float64) float64 { return padT + plotH - y/ytop*plotH }
	slot := float64(plotW) / float64(max(len(bars), 1))
	px := func(x float64) float64 { return padL + x*slot }
	var b strings.Builder
	open(&b, id, title)
	var xTicks []tick
	for i, br := range bars {
		xTicks = append(xTicks, tick{float64(i) + 0.5, br.label})
	}
	axes(&b, xTicks, yTicks, px, py, "", yLabel)
	for i, br := range bars {
		x, y := px(float64(i))+slot*0.15, py(br.value)
		fmt.Fprintf(&b, `<rect class="bar" data-label="%s" data-value="%g" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n",
			esc(br.label), br.value, x, y, slot*0.7, padT+plotH-y, color(i))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" %s>%s</text>`+"\n", x+slot*0.35, y-4, fontAttrs, esc(br.text))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func open(b *strings.Builder, id, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="%s" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`+"\n",
		esc(id), chartW, chartH, chartW, chartH)
	fmt.Fprintf(b, `<title>%s</title><text x="%d" y="18" font-family="sans-serif" font-size="14" font-weight="bold">%s</text>`+"\n", esc(title), padL, esc(title))
}

func axes(b *strings.Builder, xTicks, yTicks []tick, px, py func(float64) float64, xLabel, yLabel string) {
	x0, y0 := float64(padL), float64(padT+plotH)
	fmt.Fprintf(b, `<g class="axes" stroke="#888"><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%d"/></g>`+"\n",
		x0, y0, x0+plotW, y0, x0, y0, x0, padT)
	for _, t := range xTicks {
		x := px(t.at)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/><text class="xtick" x="%.1f" y="%.1f" text-anchor="middle" %s>%s</text>`+"\n",
			x, y0, x, y0+4, x, y0+16, fontAttrs, esc(t.label))
	}
	for _, t := range yTicks {
		y := py(t.at)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/><text class="ytick" x="%.1f" y="%.1f" text-anchor="end" %s>%s</text>`+"\n",
			x0+1, y, x0+plotW, y, x0-6, y+4, fontAttrs, esc(t.label))
	}
	if xLabel != "" {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" %s>%s</text>`+"\n", x0+plotW/2, chartH-6, fontAttrs, esc(xLabel))
	}
	fmt.Fprintf(b, `<text transform="translate(14,%.1f) rotate(-90)" text-anchor="middle" %s>%s</text>`+"\n", float64(padT+plotH/2), fontAttrs, esc(yLabel))
}

func esc(s string) string { return html.EscapeString(s) }
