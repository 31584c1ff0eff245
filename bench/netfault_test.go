package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickbench/tickbench/stack"
)

var testProxies = stack.NetFaults{Proxies: []string{"kafka-1", "kafka-2", "kafka-3"}, S3Proxy: "s3"}

// TestParseNetFault: each kind's toxics, targets and window, its defaults
// included, as the summary names them.
func TestParseNetFault(t *testing.T) {
	for _, tc := range []struct {
		spec, want string
	}{
		{"latency", "latency 100ms ±50ms downstream on kafka-1,kafka-2,kafka-3,s3 from 6s to 24s"},
		{"latency:20ms:0s/s3@1s-2s", "latency 20ms ±0s downstream on s3 from 1s to 2s"},
		{"bandwidth:64/kafka", "bandwidth 64 KB/s downstream on kafka-1,kafka-2,kafka-3 from 6s to 24s"},
		{"bandwidth", "bandwidth 256 KB/s downstream on kafka-1,kafka-2,kafka-3; bandwidth 256 KB/s upstream on s3 from 6s to 24s"},
		{"reset:1s/kafka-3", "connection reset after 1s upstream on kafka-3 from 6s to 24s"},
		{"slow-close", "slow close 2s downstream on kafka-1,kafka-2,kafka-3,s3 from 6s to 24s"},
		{"blackhole@5s-25s", "black hole upstream on kafka-2; black hole downstream on kafka-2 from 5s to 25s"},
	} {
		f, err := ParseNetFault(tc.spec, testProxies, 30*time.Second)
		if err != nil {
			t.Errorf("%s: %v", tc.spec, err)
			continue
		}
		if got := f.String(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.spec, got, tc.want)
		}
	}
}

// TestParseNetFaultRejects: a bad spec names the value and what is
// allowed.
func TestParseNetFaultRejects(t *testing.T) {
	for spec, want := range map[string]string{
		"jam":                `net fault "jam": kind "jam": allowed latency[:DELAY[:JITTER]]`,
		"latency:fast":       `net fault "latency:fast": latency "fast": allowed a duration 0..1h`,
		"latency:1s:1s:1s":   `net fault "latency:1s:1s:1s": latency takes 2 argument(s), not 3`,
		"bandwidth:0":        `net fault "bandwidth:0": bandwidth "0": allowed 1..10000000 KB/s`,
		"blackhole/kafka-9":  `net fault "blackhole/kafka-9": target "kafka-9": allowed all, kafka, s3, kafka-1, kafka-2, kafka-3`,
		"reset@5s":           `net fault "reset@5s": window "5s": allowed FROM-TO, e.g. 5s-25s`,
		"reset@20s-10s":      `net fault "reset@20s-10s": window 20s-10s: allowed 0 <= from < to <= the duration 30s`,
		"slow-close@0s-1m":   `net fault "slow-close@0s-1m": window 0s-1m0s: allowed 0 <= from < to <= the duration 30s`,
		"blackhole:1s/kafka": `net fault "blackhole:1s/kafka": blackhole takes 0 argument(s), not 1`,
	} {
		_, err := ParseNetFault(spec, testProxies, 30*time.Second)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %s", spec, err, want)
		}
	}
}

// TestNetFaultSchedule runs the embedded pipeline with a fault given to a
// stand-in for toxiproxy's API: the fault's toxics go onto each proxy at
// its window's start and off at its end, the result and the summary name
// it, and a fault the API refuses is reported, not fatal.
func TestNetFaultSchedule(t *testing.T) {
	type call struct {
		at           time.Duration
		method, path string
	}
	var (
		mu    sync.Mutex
		calls []call
	)
	start := time.Now()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, call{time.Since(start), r.Method, r.URL.Path})
		mu.Unlock()
		if strings.Contains(r.URL.Path, "/refuse/") {
			http.Error(w, "proxy refuse not found", http.StatusNotFound)
		}
	}))
	defer api.Close()
	nf := stack.NetFaults{API: api.URL, Proxies: []string{"kafka-1"}, S3Proxy: "s3"}

	cfg := testConfig(t)
	cfg.Duration = 3 * time.Second
	ok, err := ParseNetFault("latency:10ms:0s@1s-2s", nf, cfg.Duration)
	if err != nil {
		t.Fatal(err)
	}
	refused, err := ParseNetFault("reset/s3@1s-2s", stack.NetFaults{Proxies: nf.Proxies, S3Proxy: "refuse"}, cfg.Duration)
	if err != nil {
		t.Fatal(err)
	}
	cfg.NetFaults, cfg.Proxies = []NetFault{ok, refused}, &nf
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start = time.Now()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := checkOnce(t, res, "under a scheduled net fault")

	mu.Lock()
	defer mu.Unlock()
	var adds, removes []call
	for _, c := range calls {
		switch {
		case c.method == http.MethodPost && strings.HasSuffix(c.path, "/toxics") && !strings.Contains(c.path, "refuse"):
			adds = append(adds, c)
		case c.method == http.MethodDelete:
			removes = append(removes, c)
		}
	}
	if len(adds) != 2 || len(removes) != 2 {
		t.Fatalf("toxiproxy calls %+v: want the latency added to and removed from kafka-1 and s3", calls)
	}
	for _, c := range adds {
		if c.at < time.Second {
			t.Errorf("%s %s at %v: before the window's start", c.method, c.path, c.at)
		}
	}
	for _, c := range removes {
		if c.at < 2*time.Second || c.path != "/proxies/"+strings.Split(c.path, "/")[2]+"/toxics/tickbench-latency" {
			t.Errorf("%s %s at %v: want the latency's removal after 2s", c.method, c.path, c.at)
		}
	}
	if len(s.NetFaults) != 2 || s.NetFaults[0].What != ok.String() || s.NetFaults[0].Error != "" || s.NetFaults[0].ToS < 2 {
		t.Fatalf("result net faults %+v; want %s in force to 2s, then the refused one", s.NetFaults, ok)
	}
	if s.NetFaults[1].Error == "" || s.NetFaults[1].FromS != 0 {
		t.Errorf("refused fault recorded as %+v, want its error and no window", s.NetFaults[1])
	}
	var out strings.Builder
	res.PrintSummary(&out)
	for _, want := range []string{"net fault latency:10ms:0s@1s-2s during jsonl (" + ok.String() + "; in force 1.",
		"net fault reset/s3@1s-2s during jsonl: NOT injected: net fault connection reset after 500ms upstream on refuse: toxiproxy POST /proxies/refuse/toxics: 404 Not Found"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
