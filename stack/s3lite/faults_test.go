package s3lite

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// With retries off, about ErrorRate503 of 1,000 requests get 503 SlowDown,
// exactly as many as Stats counts, and the same number for the same seed.
func TestErrorRates(t *testing.T) {
	for _, tc := range []struct {
		name   string
		f      Faults
		code   string
		status int
		count  func(Stats) int64
	}{
		{"503", Faults{Seed: 1, ErrorRate503: 0.2}, "SlowDown", 503, func(s Stats) int64 { return s.Injected503 }},
		{"500", Faults{Seed: 2, ErrorRate500: 0.1}, "InternalError", 500, func(s Stats) int64 { return s.Injected500 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func() int64 {
				env := start(t, Config{})
				if err := env.srv.SetFaults(tc.f); err != nil {
					t.Fatal(err)
				}
				var failed int64
				for range 1000 {
					_, err := env.c.GetBucketLocation(env.ctx, &s3.GetBucketLocationInput{Bucket: aws.String(testBucket)})
					switch {
					case err == nil:
					case errCode(err) == tc.code && errStatus(err) == tc.status:
						failed++
					default:
						t.Fatalf("unexpected error: %v", err)
					}
				}
				if got := tc.count(env.srv.Stats()); got != failed {
					t.Errorf("Stats counts %d injected, the client saw %d", got, failed)
				}
				return failed
			}
			failed := run()
			rate := tc.f.ErrorRate503 + tc.f.ErrorRate500
			// 4 standard deviations of a binomial(1000, rate).
			if tol := 4 * math.Sqrt(1000*rate*(1-rate)); math.Abs(float64(failed)-1000*rate) > tol {
				t.Errorf("%d of 1000 failed, want %v ± %.0f", failed, 1000*rate, tol)
			}
			if again := run(); again != failed {
				t.Errorf("same seed, %d then %d failures", failed, again)
			}
		})
	}
}

func TestSDKRetriesThrough503(t *testing.T) {
	env := start(t, Config{}, func(o *s3.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 10
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
	if err := env.srv.SetFaults(Faults{Seed: 3, ErrorRate503: 0.3}); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		env.put(t, fmt.Sprintf("k%d", i), "v")
	}
	if s := env.srv.Stats(); s.Injected503 == 0 || s.Requests["PutObject"] != 50+s.Injected503 {
		t.Errorf("stats %+v: want some 503s and one PUT per success or 503", s)
	}
}

func TestReset(t *testing.T) {
	env := start(t, Config{})
	if err := env.srv.SetFaults(Faults{ResetRate: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader("v")})
	if err == nil || !isConnError(err) {
		t.Fatalf("want a connection error and no HTTP answer, got %v (status %d)", err, errStatus(err))
	}
	if _, err := os.Stat(filepath.Join(env.dir, testBucket, "k")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a request reset before handling was carried out")
	}
	if s := env.srv.Stats(); s.Resets != 1 {
		t.Errorf("Resets = %d", s.Resets)
	}
}

// isConnError reports an error of the connection, not an HTTP answer: a
// reset, or a connection closed under a write or before a response.
func isConnError(err error) bool {
	var oe *net.OpError
	return errStatus(err) == 0 && (errors.As(err, &oe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF))
}

// ResetAfterRate: the write lands, the client hears nothing, and its retry
// with If-None-Match gets 412: what an exactly-once sink must handle.
func TestResetAfter(t *testing.T) {
	env := start(t, Config{})
	if err := env.srv.SetFaults(Faults{ResetAfterRate: 1}); err != nil {
		t.Fatal(err)
	}
	put := func() error {
		_, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader("v"), IfNoneMatch: aws.String("*")})
		return err
	}
	if err := put(); err == nil || !isConnError(err) {
		t.Fatalf("want a connection error, got %v", err)
	}
	if err := env.srv.SetFaults(Faults{}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, put(), "PreconditionFailed", 412)
	if got := env.get(t, "k"); got != "v" {
		t.Errorf("k = %q", got)
	}
	if s := env.srv.Stats(); s.ResetsAfter != 1 {
		t.Errorf("ResetsAfter = %d", s.ResetsAfter)
	}
}

func TestStall(t *testing.T) {
	env := start(t, Config{})
	head := func() {
		if _, err := env.c.HeadBucket(env.ctx, &s3.HeadBucketInput{Bucket: aws.String(testBucket)}); err != nil {
			t.Error(err)
		}
	}
	const d = 300 * time.Millisecond
	env.srv.Stall(d)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if took := timed(head); took < d-50*time.Millisecond {
				t.Errorf("request during a %v stall took %v", d, took)
			}
		})
	}
	wg.Wait()
	if took := timed(head); took > d/2 {
		t.Errorf("request after the stall took %v", took)
	}
	if s := env.srv.Stats(); s.Stalled != 3 {
		t.Errorf("Stalled = %d, want 3", s.Stalled)
	}

	// Close ends a stall early, so a server can shut down.
	env.srv.Stall(time.Hour)
	done := make(chan struct{})
	go func() { head(); close(done) }()
	time.Sleep(50 * time.Millisecond) // let the request start waiting
	env.srv.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the stall")
	}
}

func TestPeriodicStallAndLatency(t *testing.T) {
	env := start(t, Config{})
	head := func() {
		if _, err := env.c.HeadBucket(env.ctx, &s3.HeadBucketInput{Bucket: aws.String(testBucket)}); err != nil {
			t.Error(err)
		}
	}
	// A stall window opens at SetFaults: the first request waits it out.
	if err := env.srv.SetFaults(Faults{StallEvery: time.Hour, StallFor: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if took := timed(head); took < 150*time.Millisecond {
		t.Errorf("request in a periodic stall took %v", took)
	}
	if took := timed(head); took > 100*time.Millisecond {
		t.Errorf("request after the window took %v", took)
	}
	if err := env.srv.SetFaults(Faults{Latency: 100 * time.Millisecond, Jitter: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if took := timed(head); took < 100*time.Millisecond {
			t.Errorf("request with 100 ms latency took %v", took)
		}
	}
	if s := env.srv.Stats(); s.Delayed != 3 || s.Stalled != 1 {
		t.Errorf("Delayed %d, Stalled %d; want 3, 1", s.Delayed, s.Stalled)
	}
}

func TestPutsPerSecond(t *testing.T) {
	env := start(t, Config{})
	const rate = 20
	if err := env.srv.SetFaults(Faults{PutsPerSecond: rate}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	ok, throttled := 0, 0
	for i := range 60 {
		_, err := env.c.PutObject(env.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(fmt.Sprintf("p/%d", i)), Body: strings.NewReader("v")})
		switch {
		case err == nil:
			ok++
		case errCode(err) == "SlowDown" && errStatus(err) == 503:
			throttled++
		default:
			t.Fatal(err)
		}
	}
	el := time.Since(t0).Seconds()
	if maxOK := rate + int(el*rate) + 1; ok < rate || ok > maxOK {
		t.Errorf("%d of 60 PUTs in %.2fs got through, want %d to %d", ok, el, rate, maxOK)
	}
	if s := env.srv.Stats(); int(s.Throttled) != throttled || throttled == 0 {
		t.Errorf("Throttled = %d, client saw %d", s.Throttled, throttled)
	}
	// Another prefix has its own budget; reads are not limited.
	env.put(t, "q/1", "v")
	for range 30 {
		env.get(t, "q/1")
	}
}

func TestTokenBucket(t *testing.T) {
	t0 := time.Unix(0, 0)
	b := &tokenBucket{rate: 10, burst: 2, tokens: 2, last: t0}
	for i, step := range []struct {
		at   time.Duration
		want bool
	}{
		{0, true}, {0, true}, {0, false}, // burst of 2
		{50 * time.Millisecond, false}, // half a token
		{100 * time.Millisecond, true}, // one token after 100 ms
		{100 * time.Millisecond, false},
		{time.Hour, true}, {time.Hour, true}, {time.Hour, false}, // refill caps at burst
	} {
		if got := b.take(t0.Add(step.at)); got != step.want {
			t.Errorf("step %d at %v: take = %v, want %v", i, step.at, got, step.want)
		}
	}
	for _, tc := range []struct{ bucket, key, want string }{
		{"b", "dt=2024-01-01/hour=00/x", "b/dt=2024-01-01/"},
		{"b", "flat", "b/"},
		{"b", "", "b/"},
	} {
		if got := throttleKey(tc.bucket, tc.key); got != tc.want {
			t.Errorf("throttleKey(%q, %q) = %q, want %q", tc.bucket, tc.key, got, tc.want)
		}
	}
}
