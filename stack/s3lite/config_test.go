package s3lite

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := Config{Dir: "x"}
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		want string // "" for valid; else words the error must hold
	}{
		{"defaults", func(*Config) {}, ""},
		{"no dir", func(c *Config) { c.Dir = "" }, "Dir"},
		{"min part", func(c *Config) { c.MinPartSize = -1 }, "MinPartSize -1 out of range: want 1 to 5368709120"},
		{"min part big", func(c *Config) { c.MinPartSize = 6 << 30 }, "MinPartSize"},
		{"list cache", func(c *Config) { c.ListCacheNames = -2 }, "ListCacheNames -2 out of range"},
		{"list cache off", func(c *Config) { c.ListCacheNames = -1 }, ""},
		{"key alone", func(c *Config) { c.AccessKey = "a" }, "AccessKey and SecretKey"},
		{"rate", func(c *Config) { c.Faults.ErrorRate503 = 1.5 }, "ErrorRate503 1.5 out of range: want 0 to 1"},
		{"NaN", func(c *Config) { c.Faults.ResetRate = math.NaN() }, "ResetRate NaN"},
		{"sum", func(c *Config) { c.Faults.ErrorRate500, c.Faults.ResetAfterRate = 0.6, 0.6 }, "add up to 1.2"},
		{"latency", func(c *Config) { c.Faults.Latency = -time.Second }, "Latency -1s"},
		{"stall half", func(c *Config) { c.Faults.StallFor = time.Second }, "StallFor 1s with StallEvery 0s"},
		{"stall long", func(c *Config) { c.Faults.StallFor, c.Faults.StallEvery = time.Second, time.Second }, "0 < StallFor < StallEvery"},
		{"stall ok", func(c *Config) { c.Faults.StallFor, c.Faults.StallEvery = time.Second, time.Minute }, ""},
		{"puts", func(c *Config) { c.Faults.PutsPerSecond = -1 }, "PutsPerSecond -1"},
		{"puts inf", func(c *Config) { c.Faults.PutsPerSecond = math.Inf(1) }, "PutsPerSecond +Inf"},
		{"burst", func(c *Config) { c.Faults.PutBurst = -1 }, "PutBurst -1"},
		{"all faults", func(c *Config) {
			c.Faults = Faults{Seed: 1, ErrorRate503: 0.25, ErrorRate500: 0.25, ResetRate: 0.25, ResetAfterRate: 0.25, Latency: 1, Jitter: 1, PutsPerSecond: 3500, PutBurst: 10}
		}, ""},
	} {
		cfg := ok
		tc.cfg(&cfg)
		err := cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error holding %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New accepted a config without Dir")
	}
	srv, err := New(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetFaults(Faults{ErrorRate500: 2}); err == nil {
		t.Error("SetFaults accepted ErrorRate500 2")
	}
}
