package stack

import "testing"

// TestFaultString: the words a run's summary uses for each fault.
func TestFaultString(t *testing.T) {
	for _, tc := range []struct {
		f    Fault
		want string
	}{
		{Fault{Toxic{Type: "latency", Stream: "downstream", Attributes: map[string]int64{"latency": 100, "jitter": 50}}, []string{"kafka-1", "s3"}},
			"latency 100ms ±50ms downstream on kafka-1,s3"},
		{Fault{Toxic{Type: "bandwidth", Stream: "upstream", Attributes: map[string]int64{"rate": 256}}, []string{"s3"}},
			"bandwidth 256 KB/s upstream on s3"},
		{Fault{Toxic{Type: "reset_peer", Stream: "upstream", Toxicity: 0.5, Attributes: map[string]int64{"timeout": 500}}, []string{"kafka-2"}},
			"connection reset after 500ms on 50% of connections upstream on kafka-2"},
		{Fault{Toxic{Type: "timeout", Stream: "upstream", Attributes: map[string]int64{"timeout": 0}}, []string{"kafka-2"}},
			"black hole upstream on kafka-2"},
		{Fault{Toxic{Type: "timeout", Stream: "downstream", Attributes: map[string]int64{"timeout": 20000}}, []string{"kafka-2"}},
			"black hole, closed after 20s downstream on kafka-2"},
		{Fault{Toxic{Type: "slow_close", Stream: "downstream", Attributes: map[string]int64{"delay": 2000}}, []string{"kafka-3"}},
			"slow close 2s downstream on kafka-3"},
		{Fault{Toxic{Type: "slicer", Stream: "downstream", Attributes: map[string]int64{"average_size": 64, "delay": 10}}, []string{"s3"}},
			"slicer average_size=64 delay=10 downstream on s3"},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}
