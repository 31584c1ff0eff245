package bench

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tickbench/tickbench/gen"
)

// Live is a run's state as it happens, for live metrics (--metrics-addr):
// the generator and the sink groups of the phase in progress. Give one to
// Config, ProduceConfig or SinkConfig; WriteMetrics may be called from any
// goroutine at any time (before a phase starts it writes what it has).
type Live struct {
	mu       sync.Mutex
	target   float64
	achieved float64 // last full second, from the sampler
	producer *gen.Producer
	pub      *hist
	groups   map[string]*sinkGroup
	retries  func() int64
}

func (l *Live) setPhase(target float64, prod *gen.Producer, pub *hist, groups map[string]*sinkGroup) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.target, l.achieved, l.producer, l.pub, l.groups = target, 0, prod, pub, groups
}

func (l *Live) setRetries(fn func() int64) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.retries = fn
}

// setRates sets the target and achieved rates of the last full second.
func (l *Live) setRates(target, achieved float64) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.target, l.achieved = target, achieved
}

// WriteMetrics writes the current state in the Prometheus text exposition
// format (version 0.0.4): generator rates and counts, per-strategy landed
// ticks, lag, uploads and errors, S3 retries, and latency summaries
// (quantiles 0.5, 0.9, 0.99, 0.999 over the phase so far, in seconds).
func (l *Live) WriteMetrics(w io.Writer) error {
	l.mu.Lock()
	target, achieved, prod, pub, retries := l.target, l.achieved, l.producer, l.pub, l.retries
	groups := l.groups
	l.mu.Unlock()

	// The sinks are read before the producer: a tick lands only after it
	// was produced, so acked read later is not below landed (unless an
	// acknowledgement is still on its way when its tick has already been
	// fetched, batched and uploaded; the lag gauge stops at 0 then).
	rows := sinkRows(groups)
	bw := bufio.NewWriter(w)
	m := &expo{w: bw}
	var acked uint64
	if prod != nil {
		p := prod.Progress()
		acked = p.Acked
		m.family("tickbench_target_rate", "gauge", "ticks per second the generator is asked for, over the last full second (a rate profile moves it)")
		m.sample("tickbench_target_rate", nil, target)
		m.family("tickbench_achieved_rate", "gauge", "ticks acknowledged by Kafka per second, over the last full second")
		m.sample("tickbench_achieved_rate", nil, achieved)
		m.family("tickbench_produced_ticks_total", "counter", "ticks of the generator's current run: sent (handed to the Kafka client), acked (acks=all), failed")
		m.sample("tickbench_produced_ticks_total", []string{"result", "sent"}, float64(p.Sent))
		m.sample("tickbench_produced_ticks_total", []string{"result", "acked"}, float64(p.Acked))
		m.sample("tickbench_produced_ticks_total", []string{"result", "failed"}, float64(p.Failed))
		if pub != nil {
			m.summary("tickbench_publish_latency_seconds", "intended time -> Kafka acknowledgement", nil, mergeHists(pub))
		}
	}
	if len(rows) > 0 {
		m.sinks(rows, prod != nil, acked)
	}
	if retries != nil {
		m.family("tickbench_s3_retries_total", "counter", "S3 requests the client retried (throttling, errors, resets)")
		m.sample("tickbench_s3_retries_total", nil, float64(retries()))
	}
	if m.err != nil {
		return m.err
	}
	return bw.Flush()
}

// sinkRow is one sink group's figures for a scrape.
type sinkRow struct {
	name   string
	landed int64
	stats  sinkStats
}

func sinkRows(groups map[string]*sinkGroup) []sinkRow {
	var rows []sinkRow
	for _, n := range slices.Sorted(maps.Keys(groups)) {
		st, _, e2e, up, _ := groups[n].totals()
		// Landed is the e2e histogram's count (one value per landed
		// tick) rather than the counter read a moment later, so that
		// one scrape's landed and e2e count agree.
		rows = append(rows, sinkRow{n, e2e.h.TotalCount(), sinkStats{st.Objects, st.Bytes, st.Requests, st.CommitErrors, st.Invalid, e2e, up}})
	}
	return rows
}

// sinks writes the sink groups' families; with produced, the lag behind
// the acked ticks too.
func (m *expo) sinks(rows []sinkRow, produced bool, acked uint64) {
	m.family("tickbench_landed_ticks_total", "counter", "ticks whose S3 PUT was acknowledged")
	for _, r := range rows {
		m.sample("tickbench_landed_ticks_total", []string{"strategy", r.name}, float64(r.landed))
	}
	if produced {
		m.family("tickbench_lag_ticks", "gauge", "ticks acknowledged by Kafka and not yet landed in S3")
		for _, r := range rows {
			m.sample("tickbench_lag_ticks", []string{"strategy", r.name}, float64(max(int64(acked)-r.landed, 0)))
		}
	}
	m.family("tickbench_s3_uploads_total", "counter", "objects uploaded to S3")
	for _, r := range rows {
		m.sample("tickbench_s3_uploads_total", []string{"strategy", r.name}, float64(r.stats.objects))
	}
	m.family("tickbench_s3_uploaded_bytes_total", "counter", "bytes of the objects uploaded to S3")
	for _, r := range rows {
		m.sample("tickbench_s3_uploaded_bytes_total", []string{"strategy", r.name}, float64(r.stats.bytes))
	}
	m.family("tickbench_s3_put_requests_total", "counter", "S3 PUT/POST requests of landed objects")
	for _, r := range rows {
		m.sample("tickbench_s3_put_requests_total", []string{"strategy", r.name}, float64(r.stats.requests))
	}
	m.family("tickbench_sink_errors_total", "counter", "sink errors: failed offset commits (commit), records that were not ticks (invalid)")
	for _, r := range rows {
		m.sample("tickbench_sink_errors_total", []string{"strategy", r.name, "kind", "commit"}, float64(r.stats.commitErrors))
		m.sample("tickbench_sink_errors_total", []string{"strategy", r.name, "kind", "invalid"}, float64(r.stats.invalid))
	}
	for i, r := range rows {
		m.summaryPart("tickbench_e2e_latency_seconds", "intended time -> the S3 PUT holding the tick acknowledged", i == 0, []string{"strategy", r.name}, r.stats.e2e)
	}
	for i, r := range rows {
		m.summaryPart("tickbench_upload_latency_seconds", "per object: PUT start -> acknowledged", i == 0, []string{"strategy", r.name}, r.stats.upload)
	}
}

type sinkStats struct {
	objects, bytes, requests, commitErrors, invalid int64
	e2e, upload                                     *hist
}

// expo writes the text exposition format.
type expo struct {
	w   *bufio.Writer
	err error
}

func (m *expo) family(name, typ, help string) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
}

// sample writes name{k="v",...} value; labels are key, value pairs.
func (m *expo) sample(name string, labels []string, v float64) {
	if m.err != nil {
		return
	}
	var b strings.Builder
	b.WriteString(name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i := 0; i < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(labels[i] + "=" + strconv.Quote(labels[i+1]))
		}
		b.WriteByte('}')
	}
	_, m.err = fmt.Fprintf(m.w, "%s %s\n", b.String(), strconv.FormatFloat(v, 'g', -1, 64))
}

func (m *expo) summary(name, help string, labels []string, h *hist) {
	m.summaryPart(name, help, true, labels, h)
}

// summaryPart writes one labelled summary of a family (the family header
// first when head is set); values are µs histograms, written in seconds.
func (m *expo) summaryPart(name, help string, head bool, labels []string, h *hist) {
	if head {
		m.family(name, "summary", help+", seconds")
	}
	n := h.h.TotalCount()
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		v := math.NaN() // Prometheus' "no observations yet"
		if n > 0 {
			v = float64(h.h.ValueAtQuantile(q*100)) / 1e6
		}
		m.sample(name, append(slices.Clone(labels), "quantile", strconv.FormatFloat(q, 'g', -1, 64)), v)
	}
	m.sample(name+"_sum", labels, h.h.Mean()*float64(n)/1e6)
	m.sample(name+"_count", labels, float64(n))
}
