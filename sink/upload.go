package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// job is one upload: a data object of a batch, or (o nil) the batch's
// errors object.
type job struct {
	b *batch
	o *object
}

// ErrStalled is the cause of an upload given up because it made no
// progress for Config.UploadTimeout.
var ErrStalled = errors.New("no upload progress")

// errAbandoned marks the uploads of a batch never sent: its partition was
// revoked or the sink stopped first.
var errAbandoned = errors.New("abandoned")

// upload lands one job and tells the ledger. An upload that fails for good
// ends the sink's run (its batch stays uncommitted for a replay); one that
// fails because the run is ending does not.
func (s *Sink) upload(ctx context.Context, j job) {
	var res Landed
	var err error
	if j.o != nil {
		res, err = s.uploadObject(ctx, j.b, j.o)
	} else {
		res, err = s.uploadRejects(ctx, j.b)
	}
	var data *Landed
	switch {
	case err == nil:
		s.requests.Add(int64(res.Requests))
		if j.o != nil {
			res.Intended = j.o.intended
			data = &res
		}
	case ctx.Err() == nil:
		s.fail(err)
	}
	landed, done := s.ledger.finish(j.b, 1, data, err)
	if landed {
		s.landed(j.b)
	}
	if done {
		s.ledger.advance(j.b)
		s.freed(int64(j.b.mem))
	}
}

// landed counts a batch whose objects all landed and tells the observer,
// one object at a time.
func (s *Sink) landed(b *batch) {
	s.obsMu.Lock()
	defer s.obsMu.Unlock()
	if len(b.rejects) > 0 {
		s.rejected.Add(int64(b.invalid))
		s.errorObjects.Add(1)
	}
	for _, l := range b.landed {
		// Counted before the observer hears of it, so that a reader of
		// Stats never sees ticks landed in an object not yet counted.
		s.objects.Add(1)
		s.bytes.Add(int64(l.Bytes))
		s.observer(l)
		if s.committer == nil {
			putTimes(l.Intended) // only valid during the call
		} // else kept for the table commit's observer
	}
}

func (s *Sink) uploadObject(ctx context.Context, b *batch, o *object) (Landed, error) {
	body, err := o.enc.Finish()
	s.releaseEncoder(o.enc) // Finish left it reset; body is ours
	if err != nil {
		return Landed{}, fmt.Errorf("encode %s[%d]@%d: %w", s.cfg.Topic, b.partition, o.start, err)
	}
	key := ObjectKey(s.cfg.Prefix, o.dir, s.cfg.Topic, b.partition, o.start, s.cfg.Format.Ext())
	began := time.Now()
	requests, err := s.put(ctx, key, body, s.cfg.Format.ContentType())
	if err != nil {
		return Landed{}, err
	}
	acked := time.Now()
	l := Landed{
		Key: key, Partition: b.partition, StartOffset: o.start, Ticks: o.count,
		Bytes: len(body), Requests: requests, Acked: acked, Upload: acked.Sub(began),
	}
	if s.cfg.Table != nil {
		if l.Stats, err = ReadFileStats(body); err != nil {
			return Landed{}, fmt.Errorf("statistics of %s: %w", key, err)
		}
	}
	return l, nil
}

// uploadRejects lands the batch's records that are not ticks under
// errors/, keyed by the batch's first offset like a data object, so a
// replay rewrites the same key with the same bytes.
func (s *Sink) uploadRejects(ctx context.Context, b *batch) (Landed, error) {
	key := ErrorKey(s.cfg.Prefix, s.cfg.Topic, b.partition, b.start)
	requests, err := s.put(ctx, key, b.rejects, "application/x-ndjson")
	if err != nil {
		return Landed{}, err
	}
	return Landed{Key: key, Partition: b.partition, StartOffset: b.start, Bytes: len(b.rejects), Requests: requests}, nil
}

// put writes body under key once, giving up only when its requests made no
// progress for UploadTimeout. Deterministic boundaries mean an existing key
// normally holds exactly these bytes, written by an attempt that crashed
// before its commit: keep it. Only an early (wall-clock or memory) cut
// before a crash leaves other bytes there; those are replaced.
func (s *Sink) put(ctx context.Context, key string, body []byte, contentType string) (int, error) {
	ctx, done := watchProgress(ctx, s.cfg.UploadTimeout)
	defer done()
	requests, err := s.putOnce(ctx, key, body, contentType)
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, ErrStalled) {
		err = fmt.Errorf("%w (gave up: %w)", err, cause)
	}
	return requests, err
}

func (s *Sink) putOnce(ctx context.Context, key string, body []byte, contentType string) (int, error) {
	requests, err := s.store.Put(ctx, key, body, contentType, true)
	switch {
	case errors.Is(err, ErrExists):
		same, err := s.store.Same(ctx, key, body)
		if err != nil {
			return requests, err
		}
		if same {
			s.existed.Add(1)
			return requests, nil
		}
		n, err := s.store.Put(ctx, key, body, contentType, false)
		requests += n
		if err != nil {
			return requests, err
		}
		s.overwritten.Add(1)
	case err != nil:
		return requests, err
	}
	return requests, nil
}

// progressKey carries, in an upload's context, the function a Store calls
// whenever the upload moves (body bytes read for sending).
type progressKey struct{}

// progressed tells ctx's watchdog, if any, that the upload moved.
func progressed(ctx context.Context) {
	if f, ok := ctx.Value(progressKey{}).(func()); ok {
		f()
	}
}

// watchProgress returns a context canceled with ErrStalled once nobody
// called progressed on it for timeout, and a function that ends the watch.
func watchProgress(ctx context.Context, timeout time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	ctx = context.WithValue(ctx, progressKey{}, func() { last.Store(time.Now().UnixNano()) })
	stop := make(chan struct{})
	go func() {
		t := time.NewTimer(timeout)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			idle := time.Since(time.Unix(0, last.Load()))
			if idle >= timeout {
				cancel(fmt.Errorf("%w for %v", ErrStalled, timeout))
				return
			}
			t.Reset(timeout - idle)
		}
	}()
	return ctx, func() { close(stop); cancel(nil) }
}

// progressReader reports every read of an upload's body as progress.
type progressReader struct {
	r   io.ReadSeeker
	ctx context.Context
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		progressed(p.ctx)
	}
	return n, err
}

func (p *progressReader) Seek(off int64, whence int) (int64, error) { return p.r.Seek(off, whence) }
