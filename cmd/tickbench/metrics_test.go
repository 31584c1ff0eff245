package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the run and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? ([-+0-9.eE]+|NaN|[+-]Inf)$`)
	typeRE   = regexp.MustCompile(`^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary|histogram|untyped)$`)
)

type scraped map[string]float64 // `name{labels}` -> value

// parseExposition checks the Prometheus text format strictly: every sample
// line is well-formed and belongs to a family declared by HELP and TYPE.
func parseExposition(t *testing.T, body string) scraped {
	t.Helper()
	out := scraped{}
	types := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "# HELP "):
		case strings.HasPrefix(l, "# TYPE "):
			m := typeRE.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("bad TYPE line %q", l)
			}
			types[m[1]] = m[2]
		default:
			m := sampleRE.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("bad sample line %q", l)
			}
			fam := m[1]
			if types[fam] == "" {
				fam = strings.TrimSuffix(strings.TrimSuffix(fam, "_sum"), "_count")
			}
			if types[fam] == "" {
				t.Fatalf("sample %q before its # TYPE", l)
			}
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				t.Fatalf("value of %q: %v", l, err)
			}
			out[m[1]+m[2]] = v
		}
	}
	return out
}

func scrape(t *testing.T, url string) scraped {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("scrape %s: %v %d %q", url, err, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return parseExposition(t, string(b))
}

// TestMetricsDuringBench scrapes --metrics-addr while a run is going and
// checks the figures against each other and against the run's result.
func TestMetricsDuringBench(t *testing.T) {
	dir := t.TempDir()
	var out, errb syncBuffer
	env := environment{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"bench", "--rate", "1000", "--duration", "4s", "--quiet", "--flush-records", "200",
			"--metrics-addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "s3"), "--out", dir}, env)
	}()
	deadline := time.Now().Add(60 * time.Second)
	addrRE := regexp.MustCompile(`metrics    (http://127\.0\.0\.1:\d+/metrics)`)
	var url string
	var m scraped
	for time.Now().Before(deadline) {
		if url == "" {
			if a := addrRE.FindStringSubmatch(errb.String()); a != nil {
				url = a[1]
			}
		} else if m = scrape(t, url); m[`tickbench_landed_ticks_total{strategy="jsonl"}`] > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run ended (%v) before the metrics showed landed ticks; stderr:\n%s", err, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if m[`tickbench_landed_ticks_total{strategy="jsonl"}`] == 0 {
		t.Fatalf("no landed ticks in the metrics before the deadline: %v", m)
	}
	if m["tickbench_target_rate"] != 1000 {
		t.Errorf("target rate %v", m["tickbench_target_rate"])
	}
	acked, landed := m[`tickbench_produced_ticks_total{result="acked"}`], m[`tickbench_landed_ticks_total{strategy="jsonl"}`]
	if acked < landed || m[`tickbench_lag_ticks{strategy="jsonl"}`] < 0 || m[`tickbench_s3_uploads_total{strategy="jsonl"}`] < 1 {
		t.Errorf("acked %v, landed %v, lag %v, uploads %v", acked, landed, m[`tickbench_lag_ticks{strategy="jsonl"}`], m[`tickbench_s3_uploads_total{strategy="jsonl"}`])
	}
	prev := 0.0
	for _, q := range []string{"0.5", "0.9", "0.99", "0.999"} {
		v := m[fmt.Sprintf(`tickbench_e2e_latency_seconds{strategy="jsonl",quantile="%s"}`, q)]
		if v <= 0 || v < prev || v > 60 {
			t.Errorf("e2e quantile %s = %v s (previous %v)", q, v, prev)
		}
		prev = v
	}
	if m[`tickbench_e2e_latency_seconds_count{strategy="jsonl"}`] != landed {
		t.Errorf("e2e count %v, landed %v", m[`tickbench_e2e_latency_seconds_count{strategy="jsonl"}`], landed)
	}
	for _, k := range []string{"tickbench_s3_retries_total", `tickbench_sink_errors_total{strategy="jsonl",kind="commit"}`, `tickbench_publish_latency_seconds_count`} {
		if _, ok := m[k]; !ok {
			t.Errorf("metrics lack %s", k)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(url); err == nil {
		t.Errorf("metrics server still answers after the run")
	}
}

func TestMetricsAddrRejected(t *testing.T) {
	env, _, _ := testEnv()
	err := run(context.Background(), []string{"bench", "--metrics-addr", "nonsense", "--duration", "1s"}, env)
	if err == nil || !strings.Contains(err.Error(), `--metrics-addr "nonsense"`) {
		t.Fatalf("err %v", err)
	}
}
