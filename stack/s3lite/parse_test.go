package s3lite

import (
	"strings"
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults("503=0.05, reset=0.01,latency=50ms,jitter=5ms,stall-every=10s,stall-for=1s,puts-per-second=3500,seed=7")
	if err != nil {
		t.Fatal(err)
	}
	want := Faults{Seed: 7, ErrorRate503: 0.05, ResetRate: 0.01, Latency: 50 * time.Millisecond, Jitter: 5 * time.Millisecond,
		StallEvery: 10 * time.Second, StallFor: time.Second, PutsPerSecond: 3500}
	if f != want {
		t.Fatalf("ParseFaults = %+v, want %+v", f, want)
	}
	if f, err := ParseFaults(""); err != nil || f != (Faults{}) {
		t.Fatalf("empty spec: %+v, %v", f, err)
	}
	for spec, msg := range map[string]string{
		"503=2":                       "503=2: allowed a share 0..1",
		"latency=soon":                "latency=soon: allowed a duration",
		"teapot=0.1":                  `key "teapot": allowed 503, 500`,
		"503":                         `"503": want key=value`,
		"stall-every=1s,stall-for=2s": "stall",
	} {
		if _, err := ParseFaults(spec); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseFaults(%q) = %v, want %q", spec, err, msg)
		}
	}
}
