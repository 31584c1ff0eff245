package result

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// writeHlog writes interval histograms as an HdrHistogram interval log
// (.hlog): timestamps in seconds from the first interval's start, values in
// µs (so the Interval_Max column, which the format divides by 10^6, is in
// seconds).
func writeHlog(w *bufio.Writer, ivs []IntervalHist) error {
	lw := hdrhistogram.NewHistogramLogWriter(w)
	base := ivs[0].startMs
	lw.SetBaseTime(base)
	for _, err := range []error{lw.OutputLogFormatVersion(), lw.OutputStartTime(base), lw.OutputBaseTime(base), lw.OutputLegend()} {
		if err != nil {
			return err
		}
	}
	for _, iv := range ivs {
		h, err := iv.histogram()
		if err != nil {
			return err
		}
		if err := lw.OutputIntervalHistogram(h); err != nil {
			return err
		}
	}
	return nil
}

func writeWith(path string, fn func(*bufio.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := fn(w); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeHgrm prints the percentile distribution in HdrHistogram's .hgrm
// format (values in µs), which HdrHistogram's plotter reads.
func writeHgrm(w *bufio.Writer, l Latency) error {
	h, err := l.DecodeHistogram()
	if err != nil {
		return err
	}
	_, err = h.PercentilesPrint(w, 5, 1)
	return err
}

func benchNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// lakeMeans are the mean modelled Athena bill and bytes scanned of the
// strategy's standard queries (package bench, lake.go), when they were modelled.
func lakeMeans(s StrategyResult) (usd, scan float64, ok bool) {
	if s.Lake == nil || s.Lake.Problem != "" || len(s.Lake.Queries) == 0 {
		return 0, 0, false
	}
	for _, q := range s.Lake.Queries {
		usd += q.USD
		scan += float64(q.Bytes)
	}
	n := float64(len(s.Lake.Queries))
	return usd / n, scan / n, true
}

// putsPerMillion is S3 PUT requests per million ticks landed: the request
// cost of a strategy, independent of the machine and the run's length.
func putsPerMillion(s StrategyResult) float64 {
	if s.Producer.Acked == 0 {
		return 0
	}
	return float64(s.PutRequests) / float64(s.Producer.Acked) * 1e6
}

// landedRate is ticks acknowledged per second from the generator's start
// to the last landed: the pipeline's throughput when the generator is not
// paced (--rate max). The generator's time is what its achieved rate took.
// With a backlog the sinks started when the generator had finished, so it
// is their own pace: ticks over the drain.
func landedRate(s StrategyResult, backlog bool) float64 {
	p := s.Producer
	switch {
	case p.Acked == 0 || p.AchievedRate <= 0:
		return 0
	case backlog:
		if s.DrainS <= 0 {
			return 0
		}
		return float64(p.Acked) / s.DrainS
	}
	return float64(p.Acked) / (float64(p.Sent-1)/p.AchievedRate + s.DrainS)
}

// rateRatio is the achieved rate as a fraction of the target.
func rateRatio(p Producer) float64 {
	if p.TargetRate == 0 {
		return 0
	}
	return p.AchievedRate / p.TargetRate
}

// Better says which way each benchmark-line unit improves: +1 higher is
// better, -1 lower is better. Every unit WriteBenchmarkLines writes is here
// (TestUnitsHaveDirection), so `tickbench compare` can tell a regression
// from an improvement.
var Better = map[string]int{
	"ticks/s":        +1,
	"landed-ticks/s": +1,
	// instructions/tick is not written here: scripts/regress.sh adds it
	// from perf stat or callgrind, counted over the whole process.
	"instructions/tick": -1,
	"achieved/target":   +1,
	"e2e-p50-us":        -1,
	"e2e-p99-us":        -1,
	"e2e-p99.9-us":      -1,
	"e2e-max-us":        -1,
	"queryable-p99-us":  -1,
	"files/h":           -1,
	"usd/day-metadata":  -1,
	"publish-p99-us":    -1,
	"upload-p50-us":     -1,
	"upload-p99-us":     -1,
	"bytes/tick":        -1,
	"objects":           -1,
	"usd/day-put":       -1,
	"puts/Mtick":        -1,
	"cpu-s/Mtick":       -1,
	"user-cpu-s/Mtick":  -1,
	"peak-rss-B":        -1,
	"usd/query":         -1,
	"scan-B/query":      -1,
}

// GatherBenchmarkLines appends the benchmark lines of others to set and
// removes others, so that set holds one line per run per benchmark:
// benchstat and compare then see every run as a sample.
func GatherBenchmarkLines(set string, others ...string) error {
	f, err := os.OpenFile(set, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("gather benchmark lines: %w", err)
	}
	for _, o := range others {
		b, err := os.ReadFile(o)
		if err != nil {
			f.Close()
			return fmt.Errorf("gather benchmark lines: %w", err)
		}
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if strings.HasPrefix(l, "Benchmark") {
				if _, err := f.WriteString(l); err != nil {
					f.Close()
					return fmt.Errorf("gather benchmark lines into %s: %w", set, err)
				}
			}
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("gather benchmark lines into %s: %w", set, err)
	}
	for _, o := range others {
		if err := os.Remove(o); err != nil {
			return fmt.Errorf("gather benchmark lines: %w", err)
		}
	}
	return nil
}

// WriteFiles writes every output of a run into dir, named
// <UTC start>-<name>: the JSON result, Go benchmark-format lines (.bench.txt,
// for benchstat) and an HdrHistogram percentile distribution (.hgrm) per
// histogram, and an HdrHistogram interval log (.hlog, one interval a
// second) per histogram of a run made in this process. It returns the
// paths, JSON first.
func (r *Result) WriteFiles(dir string) ([]string, error) {
	jsonPath, err := r.WriteFile(dir)
	if err != nil {
		return nil, err
	}
	return r.WriteCompanions(jsonPath)
}

// WriteCompanions writes the files that go beside a result's JSON at
// jsonPath (.bench.txt, .hgrm, .hlog, as WriteFiles names them) and
// returns every path, the JSON's first.
func (r *Result) WriteCompanions(jsonPath string) ([]string, error) {
	base := strings.TrimSuffix(jsonPath, ".json")
	paths := []string{jsonPath}
	benchPath := base + ".bench.txt"
	if err := writeWith(benchPath, r.WriteBenchmarkLines); err != nil {
		return nil, err
	}
	paths = append(paths, benchPath)
	for _, s := range r.Strategies {
		hgrms := []struct {
			name string
			l    Latency
		}{{"e2e", s.EndToEnd}, {"upload", s.Upload}, {"publish", s.Producer.Publish}}
		if s.Table != nil {
			hgrms = append(hgrms, struct {
				name string
				l    Latency
			}{"queryable", s.Queryable})
		}
		for _, h := range hgrms {
			p := fmt.Sprintf("%s-%s-%s.hgrm", base, s.Strategy, h.name)
			if err := writeWith(p, func(w *bufio.Writer) error { return writeHgrm(w, h.l) }); err != nil {
				return nil, err
			}
			paths = append(paths, p)
		}
		for _, h := range []struct {
			name string
			ivs  []IntervalHist
		}{{"e2e", s.Intervals.E2E}, {"upload", s.Intervals.Upload}, {"publish", s.Intervals.Publish}} {
			if len(h.ivs) == 0 {
				continue // a result read back from JSON: the intervals were not kept
			}
			p := fmt.Sprintf("%s-%s-%s.hlog", base, s.Strategy, h.name)
			if err := writeWith(p, func(w *bufio.Writer) error { return writeHlog(w, h.ivs) }); err != nil {
				return nil, err
			}
			paths = append(paths, p)
		}
	}
	return paths, nil
}

// WriteBenchmarkLines writes the result in the Go benchmark format, one line
// per strategy with custom units, so `benchstat old.bench.txt new.bench.txt`
// compares any metric across runs.
func (r *Result) WriteBenchmarkLines(w *bufio.Writer) error {
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: tickbench\n", r.Machine.GOOS, r.Machine.GOARCH)
	fmt.Fprintf(w, "stack: %s\nmode: %s\n", r.Stack.Name, r.Mode)
	for _, s := range r.Strategies {
		p := s.Producer
		backlog := ""
		if r.Workload.Backlog {
			backlog = "/backlog=true"
		}
		fmt.Fprintf(w, "BenchmarkTickbench/strategy=%s/rate=%s%s 1", s.Strategy, benchNum(r.Workload.Rate), backlog)
		for _, m := range []struct {
			v    float64
			unit string
		}{
			{p.AchievedRate, "ticks/s"},
			{landedRate(s, r.Workload.Backlog), "landed-ticks/s"},
			{float64(s.EndToEnd.P50), "e2e-p50-us"},
			{float64(s.EndToEnd.P99), "e2e-p99-us"},
			{float64(s.EndToEnd.P999), "e2e-p99.9-us"},
			{float64(s.EndToEnd.Max), "e2e-max-us"},
			{float64(p.Publish.P99), "publish-p99-us"},
			{float64(s.Upload.P50), "upload-p50-us"},
			{float64(s.Upload.P99), "upload-p99-us"},
			{s.BytesPerTick, "bytes/tick"},
			{float64(s.Objects), "objects"},
			{s.PutCostPerDayUSD, "usd/day-put"},
			{putsPerMillion(s), "puts/Mtick"},
			{rateRatio(p), "achieved/target"},
			{s.CPUSecondsPerMillion, "cpu-s/Mtick"},
			{s.UserCPUSecondsPerMillion, "user-cpu-s/Mtick"},
			{float64(s.PeakRSSBytes), "peak-rss-B"},
		} {
			fmt.Fprintf(w, " %s %s", benchNum(m.v), m.unit)
		}
		if usd, scan, ok := lakeMeans(s); ok {
			fmt.Fprintf(w, " %s usd/query %s scan-B/query", benchNum(usd), benchNum(scan))
		}
		if t := s.Table; t != nil {
			fmt.Fprintf(w, " %s queryable-p99-us %s files/h %s usd/day-metadata", benchNum(float64(s.Queryable.P99)),
				benchNum(t.FilesPerHour), benchNum(t.MetadataCostPerDayUSD))
		}
		fmt.Fprintln(w)
	}
	return nil
}
