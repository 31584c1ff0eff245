package gen

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickbench/tickbench/tick"
)

// Hooks receive each tick's timings. Sent is called from the producer loop,
// Acked from franz-go's promise goroutine (serially), so each may own a
// histogram without locking. Times are ns since the epoch.
type Hooks struct {
	Sent  func(intended, handed int64)
	Acked func(intended, acked int64, err error)
}

// Producer sends the model's ticks to a topic at the pacer's intended times.
type Producer struct {
	Client *kgo.Client
	Topic  string
	Pacer  Pacer
	Source Source // the synthetic Model, or a CSV replay
	Hooks  Hooks
	// Now is the clock; nil means time.Now. Tests inject their own.
	Now func() time.Time
	// Stop, when closed, ends pacing early; ticks already handed over are
	// still delivered. Canceling Run's ctx instead abandons them.
	Stop <-chan struct{}

	sent, acked, failed atomic.Uint64
	bytes               atomic.Int64
	errOnce             sync.Once
	firstErr            error
	lastSent            atomic.Int64 // elapsed ns at which the latest tick was handed over
}

// Progress is a snapshot that is safe to read while Run is going.
type Progress struct {
	Sent, Acked, Failed uint64
}

// Progress returns the counts so far.
func (p *Producer) Progress() Progress {
	return Progress{Sent: p.sent.Load(), Acked: p.acked.Load(), Failed: p.failed.Load()}
}

// Result is what one producer run did.
type Result struct {
	Start       time.Time // the pacer's zero: tick n is intended at Start + Due(n)
	Sent        uint64
	Acked       uint64
	Failed      uint64
	Bytes       int64         // record values handed over
	LastSent    time.Duration // when the last tick was handed to the client, from Start
	TargetRate  float64
	Achieved    float64 // ticks/s from Start to the last hand-over
	FirstError  error
	Interrupted bool // ctx ended before the pacer did
}

// Run paces, generates and produces until the pacer stops or ctx ends, then
// waits for every outstanding acknowledgement. A run ended by Stop is not
// an error: Result.Interrupted says so and the counts cover what was sent. It is open loop: a tick that
// is overdue is sent at once and keeps its intended time, so a slow broker
// shows up as latency, never as a silently lower rate.
func (p *Producer) Run(ctx context.Context) (Result, error) {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	keys := map[string][]byte{}
	promise := func(r *kgo.Record, err error) {
		at := now().UnixNano()
		if err != nil {
			p.failed.Add(1)
			p.errOnce.Do(func() { p.firstErr = fmt.Errorf("produce to %s: %w", r.Topic, err) })
		} else {
			p.acked.Add(1)
		}
		if p.Hooks.Acked != nil {
			p.Hooks.Acked(r.Timestamp.UnixNano(), at, err)
		}
	}

	unlimited := p.Pacer.Rate(0) == 0
	start := now()
	startNS := start.UnixNano()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var tk tick.Tick
	var n uint64
	interrupted := false
loop:
	for {
		elapsed := now().Sub(start)
		wait, stop := p.Pacer.Pace(elapsed, n)
		if stop {
			break
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				interrupted = true
				break loop
			case <-p.Stop:
				interrupted = true
				break loop
			case <-timer.C:
			}
			continue
		}
		due, _ := p.Pacer.Due(n)
		intended := startNS + int64(due)
		if unlimited {
			// No schedule: the tick is meant to go now (closed loop).
			intended = now().UnixNano()
		}
		p.Source.Next(n, intended, &tk)
		key, ok := keys[tk.Symbol]
		if !ok {
			key = []byte(tk.Symbol)
			keys[tk.Symbol] = key
		}
		rec := &kgo.Record{
			Topic: p.Topic,
			Key:   key,
			Value: tick.AppendJSON(make([]byte, 0, 160), &tk),
			// The Kafka timestamp is the event time, so Kafka-side tools
			// see the same clock as the lake.
			Timestamp: time.Unix(0, intended),
		}
		p.bytes.Add(int64(len(rec.Value)))
		p.Client.Produce(ctx, rec, promise)
		handed := now()
		if p.Hooks.Sent != nil {
			p.Hooks.Sent(intended, handed.UnixNano())
		}
		p.lastSent.Store(int64(handed.Sub(start)))
		n++
		p.sent.Store(n)
		select {
		case <-p.Stop:
			interrupted = true
			break loop
		default:
		}
		if ctx.Err() != nil {
			interrupted = true
			break
		}
	}
	flushErr := p.Client.Flush(ctx)

	res := Result{
		Start:       start,
		Sent:        n,
		Acked:       p.acked.Load(),
		Failed:      p.failed.Load(),
		Bytes:       p.bytes.Load(),
		LastSent:    time.Duration(p.lastSent.Load()),
		TargetRate:  p.Pacer.Rate(0),
		Interrupted: interrupted,
	}
	if n > 1 && res.LastSent > 0 {
		res.Achieved = float64(n-1) / res.LastSent.Seconds()
	} else {
		res.Achieved = float64(n)
	}
	p.errOnce.Do(func() {})
	res.FirstError = p.firstErr
	switch {
	case flushErr != nil:
		return res, fmt.Errorf("flush producer: %w (%d of %d ticks acknowledged)", flushErr, res.Acked, n)
	case res.Failed > 0:
		return res, fmt.Errorf("%d of %d ticks failed: %w", res.Failed, n, res.FirstError)
	}
	return res, nil
}
