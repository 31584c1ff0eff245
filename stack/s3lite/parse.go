package s3lite

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseFaults reads a fault plan written as comma-separated key=value pairs,
// e.g. "503=0.05,reset=0.01,latency=50ms,stall-every=10s,stall-for=1s". Keys:
// 503, 500, reset, reset-after (shares 0..1), latency, jitter, stall-every,
// stall-for (durations), puts-per-second, seed. The result is validated.
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	if strings.TrimSpace(spec) == "" {
		return f, nil
	}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return Faults{}, fmt.Errorf("s3 faults %q: want key=value", kv)
		}
		share := func(dst *float64) error {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || !(x >= 0 && x <= 1) {
				return fmt.Errorf("s3 faults %s=%s: allowed a share 0..1", k, v)
			}
			*dst = x
			return nil
		}
		dur := func(dst *time.Duration) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("s3 faults %s=%s: allowed a duration >= 0, e.g. 50ms", k, v)
			}
			*dst = d
			return nil
		}
		var err error
		switch k {
		case "503":
			err = share(&f.ErrorRate503)
		case "500":
			err = share(&f.ErrorRate500)
		case "reset":
			err = share(&f.ResetRate)
		case "reset-after":
			err = share(&f.ResetAfterRate)
		case "latency":
			err = dur(&f.Latency)
		case "jitter":
			err = dur(&f.Jitter)
		case "stall-every":
			err = dur(&f.StallEvery)
		case "stall-for":
			err = dur(&f.StallFor)
		case "puts-per-second":
			if f.PutsPerSecond, err = strconv.ParseFloat(v, 64); err != nil || f.PutsPerSecond < 0 {
				err = fmt.Errorf("s3 faults puts-per-second=%s: allowed a number >= 0", v)
			}
		case "seed":
			if f.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
				err = fmt.Errorf("s3 faults seed=%s: allowed a whole number >= 0", v)
			}
		default:
			err = fmt.Errorf("s3 faults key %q: allowed 503, 500, reset, reset-after, latency, jitter, stall-every, stall-for, puts-per-second, seed", k)
		}
		if err != nil {
			return Faults{}, err
		}
	}
	if err := f.Validate(); err != nil {
		return Faults{}, fmt.Errorf("s3 faults %q: %w", spec, err)
	}
	return f, nil
}
