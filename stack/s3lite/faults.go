package s3lite

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// faultState is one Faults setting in force, with its random source and
// token buckets.
type faultState struct {
	f      Faults
	start  time.Time // periodic stalls count from here
	active bool      // anything to inject at all

	mu      sync.Mutex
	rng     *rand.Rand
	buckets map[string]*tokenBucket // by bucket + "/" + first key segment
}

func newFaultState(f Faults, now time.Time) *faultState {
	return &faultState{
		f:       f,
		start:   now,
		active:  f != (Faults{Seed: f.Seed}),
		rng:     rand.New(rand.NewPCG(f.Seed, 0x5eed)),
		buckets: make(map[string]*tokenBucket),
	}
}

// SetFaults replaces the faults in force, reseeding the random draws and
// refilling the PutsPerSecond token buckets. It is safe for concurrent use
// with requests in flight, which finish under the setting they started with.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.faults.Store(newFaultState(f, time.Now()))
	return nil
}

// Stall makes every request, those in flight included, wait until d from
// now before it is handled. A longer stall already running is kept.
func (s *Server) Stall(d time.Duration) {
	until := time.Now().Add(d).UnixNano()
	for {
		cur := s.stallUntil.Load()
		if cur >= until || s.stallUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// Stats counts requests and injected faults since New.
type Stats struct {
	// Requests counts the requests received per operation ("PutObject",
	// "ListObjectsV2", ..., "Unsupported"), including those answered by an
	// injected fault.
	Requests map[string]int64
	// Injected503 and Injected500 count the requests answered 503 SlowDown
	// and 500 InternalError by ErrorRate503 and ErrorRate500.
	Injected503, Injected500 int64
	// Resets counts the connections reset before handling (ResetRate),
	// ResetsAfter those reset after it (ResetAfterRate).
	Resets, ResetsAfter int64
	// Throttled counts writes answered 503 SlowDown by PutsPerSecond.
	Throttled int64
	// Stalled counts requests that waited for a stall, Delayed those that
	// got Latency or Jitter added.
	Stalled, Delayed int64
}

type injectedCounts struct {
	e503, e500, resets, resetsAfter, throttled, stalled, delayed atomic.Int64
}

// Stats returns the counts so far.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:    make(map[string]int64, numOps),
		Injected503: s.injected.e503.Load(),
		Injected500: s.injected.e500.Load(),
		Resets:      s.injected.resets.Load(),
		ResetsAfter: s.injected.resetsAfter.Load(),
		Throttled:   s.injected.throttled.Load(),
		Stalled:     s.injected.stalled.Load(),
		Delayed:     s.injected.delayed.Load(),
	}
	for i := range s.ops {
		if n := s.ops[i].Load(); n > 0 {
			st.Requests[opNames[i]] = n
		}
	}
	return st
}

// verdict is what inject decided for a request; a request that proceeds
// is answered no earlier than its deadline.
type verdict struct {
	kind     uint8
	deadline time.Time // zero: answer at once
}

const (
	proceed    uint8 = iota
	answered         // the fault answered (or dropped) the request
	resetAfter       // handle the request, then reset the connection
)

func (s *Server) inject(w http.ResponseWriter, r *http.Request, req request) verdict {
	ctx := r.Context()
	if s.waitStall(ctx) {
		s.injected.stalled.Add(1)
	}
	fs := s.faults.Load()
	if !fs.active {
		return verdict{}
	}
	f := &fs.f
	if f.StallEvery > 0 {
		phase := time.Since(fs.start) % f.StallEvery
		if phase < f.StallFor {
			s.injected.stalled.Add(1)
			s.sleep(ctx, f.StallFor-phase)
		}
	}

	fs.mu.Lock()
	delay := f.Latency
	if f.Jitter > 0 {
		delay += time.Duration(fs.rng.Int64N(int64(f.Jitter)))
	}
	u := fs.rng.Float64()
	fs.mu.Unlock()
	var deadline time.Time
	if delay > 0 {
		s.injected.delayed.Add(1)
		deadline = time.Now().Add(delay)
	}
	// An answer the fault gives itself needs no work: wait it all out.
	fail := func() {
		if delay > 0 {
			s.sleepUntil(ctx, deadline)
		}
	}

	switch {
	case u < f.ErrorRate503:
		s.injected.e503.Add(1)
		fail()
		writeError(w, r, errSlowDown())
		return verdict{kind: answered}
	case u < f.ErrorRate503+f.ErrorRate500:
		s.injected.e500.Add(1)
		fail()
		writeError(w, r, newError(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again. (injected)"))
		return verdict{kind: answered}
	case u < f.ErrorRate503+f.ErrorRate500+f.ResetRate:
		s.injected.resets.Add(1)
		fail()
		resetConn(w)
		return verdict{kind: answered}
	}
	if f.PutsPerSecond > 0 && req.op.isWrite() && !fs.take(throttleKey(req.bucket, req.key), time.Now()) {
		s.injected.throttled.Add(1)
		fail()
		writeError(w, r, errSlowDown())
		return verdict{kind: answered}
	}
	if u < f.ErrorRate503+f.ErrorRate500+f.ResetRate+f.ResetAfterRate {
		s.injected.resetsAfter.Add(1)
		return verdict{kind: resetAfter, deadline: deadline}
	}
	return verdict{kind: proceed, deadline: deadline}
}

// sleepUntil waits for t, or less when the request is gone or the server
// closed. Go's timers wake up to 1 ms late on Linux (the runtime's
// epoll_wait counts whole milliseconds), which would add about 0.5 ms to
// every injected latency: it sleeps to 1 ms before t and yields the rest.
func (s *Server) sleepUntil(ctx context.Context, t time.Time) {
	if t.IsZero() {
		return // no latency injected; time.Until would saturate
	}
	if d := time.Until(t) - time.Millisecond; d > 0 && s.sleep(ctx, d) {
		return
	}
	for time.Now().Before(t) {
		select {
		case <-ctx.Done():
			return
		case <-s.closed:
			return
		default:
			runtime.Gosched()
		}
	}
}

// delayedWriter holds a response back until its deadline: the first
// WriteHeader or Write waits, so the request's work is done inside the
// injected latency rather than added to it.
type delayedWriter struct {
	http.ResponseWriter
	s        *Server
	ctx      context.Context
	deadline time.Time
	waited   bool
}

func (d *delayedWriter) wait() {
	if !d.waited {
		d.waited = true
		d.s.sleepUntil(d.ctx, d.deadline)
	}
}

func (d *delayedWriter) WriteHeader(code int) { d.wait(); d.ResponseWriter.WriteHeader(code) }

func (d *delayedWriter) Write(p []byte) (int, error) { d.wait(); return d.ResponseWriter.Write(p) }

// ReadFrom keeps the underlying writer's sendfile path for GET bodies.
func (d *delayedWriter) ReadFrom(r io.Reader) (int64, error) {
	d.wait()
	return io.Copy(d.ResponseWriter, r)
}

// Unwrap lets http.ResponseController reach the connection (resets).
func (d *delayedWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// waitStall waits out the window Stall opened, which may grow meanwhile.
func (s *Server) waitStall(ctx context.Context) (waited bool) {
	for {
		d := time.Until(time.Unix(0, s.stallUntil.Load()))
		if d <= 0 || s.sleep(ctx, d) {
			return waited
		}
		waited = true
	}
}

// sleep waits d, or less when the request is gone or the server closed, in
// which case it reports true.
func (s *Server) sleep(ctx context.Context, d time.Duration) (cut bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return false
	case <-ctx.Done():
	case <-s.closed:
	}
	return true
}

// resetConn drops the connection without an answer, with a TCP RST.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // makes net/http drop the connection
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// throttleKey is the prefix PutsPerSecond limits: bucket and first key
// segment.
func throttleKey(bucket, key string) string {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return bucket + "/" + key[:i+1]
	}
	return bucket + "/"
}

func (fs *faultState) take(prefix string, now time.Time) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	b := fs.buckets[prefix]
	if b == nil {
		burst := float64(fs.f.PutBurst)
		if burst == 0 {
			burst = math.Ceil(fs.f.PutsPerSecond)
		}
		b = &tokenBucket{rate: fs.f.PutsPerSecond, burst: burst, tokens: burst, last: now}
		fs.buckets[prefix] = b
	}
	return b.take(now)
}

// tokenBucket holds up to burst tokens, refilled at rate per second; each
// write takes one.
type tokenBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (b *tokenBucket) take(now time.Time) bool {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.burst, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
