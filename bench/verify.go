package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/tickbench/tickbench/bench/result"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/tick"
)

// verifyBytes bounds the bytes of the objects verify reads at once.
const verifyBytes = 256 << 20

// sentSeqs is which seqs a generator run sent: worker i of k sends seqs i,
// i+k, i+2k, ..., and sent the first sentSeqs[i] of them. A run stopped
// early (Ctrl-C, a failing ceiling step) leaves its workers at different
// counts, so what it sent is not 0..n-1.
type sentSeqs []uint64

// allSeqs is a run that sent 0..n-1.
func allSeqs(n uint64) sentSeqs { return sentSeqs{n} }

func (s sentSeqs) total() (n uint64) {
	for _, c := range s {
		n += c
	}
	return n
}

func (s sentSeqs) has(seq uint64) bool {
	k := uint64(len(s))
	return k > 0 && seq/k < s[seq%k]
}

// limit is one past the highest seq sent.
func (s sentSeqs) limit() (hi uint64) {
	k := uint64(len(s))
	for i, c := range s {
		if c > 0 {
			hi = max(hi, uint64(i)+(c-1)*k+1)
		}
	}
	return hi
}

// verify reads every object under prefix back in format f and checks that
// the ticks sent each appear exactly once. seq is unique in a run, so it
// alone identifies a (symbol, seq) pair. With only (a table's files), it
// reads those, counts the others as orphans, and fails if one is missing.
func verify(ctx context.Context, cl *s3.Client, bucket, prefix string, f sink.Format, sent sentSeqs, only map[string]bool) (result.Verify, error) {
	l, err := listLanded(ctx, cl, bucket, prefix, only)
	if err != nil {
		return result.Verify{}, err
	}
	rejects, err := readRejects(ctx, cl, bucket, l.errKeys)
	if err != nil {
		return result.Verify{}, err
	}
	v := result.Verify{Objects: int64(len(l.keys)), RejectObjects: int64(len(l.errKeys)), Orphans: l.orphans, OrphanBytes: l.orphanBytes}
	rejectDups := 0
	seenRejects := map[[2]int64]bool{}
	for _, r := range rejects {
		k := [2]int64{int64(r.Partition), r.Offset}
		if seenRejects[k] {
			rejectDups++
			continue
		}
		seenRejects[k] = true
		v.Rejects++
	}
	if err := readLanded(ctx, cl, bucket, l, f, sent, &v); err != nil {
		return v, err
	}
	produced := sent.total()
	v.Missing = int64(produced) - v.Unique
	switch {
	case v.Missing > 0:
		v.Problem = fmt.Sprintf("%d of %d ticks missing", v.Missing, produced)
	case v.Duplicates > 0:
		v.Problem = fmt.Sprintf("%d duplicate ticks", v.Duplicates)
	case v.Foreign > 0:
		v.Problem = fmt.Sprintf("%d ticks from outside this run", v.Foreign)
	case rejectDups > 0:
		v.Problem = fmt.Sprintf("%d records in errors/ twice", rejectDups)
	case v.BadObjects > 0:
		v.Problem = fmt.Sprintf("%d objects do not decode as %s", v.BadObjects, f.Name())
	}
	v.OK = v.Problem == ""
	return v, nil
}

// landed is what a prefix holds: the objects to read (keys, with their
// sizes), the errors/ objects, and the orphans a table's files leave out.
type landed struct {
	keys, errKeys        []string
	sizes                map[string]int64
	orphans, orphanBytes int64
}

// listLanded lists prefix; with only, the objects not in it are orphans,
// and one of only missing is an error.
func listLanded(ctx context.Context, cl *s3.Client, bucket, prefix string, only map[string]bool) (landed, error) {
	l := landed{sizes: map[string]int64{}}
	pages := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return l, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			if strings.HasPrefix(*o.Key, prefix+sink.ErrorsDir) {
				l.errKeys = append(l.errKeys, *o.Key)
				continue
			}
			if only != nil && !only[*o.Key] {
				l.orphans++
				l.orphanBytes += aws.ToInt64(o.Size)
				continue
			}
			l.keys = append(l.keys, *o.Key)
			if o.Size != nil {
				l.sizes[*o.Key] = *o.Size
			}
		}
	}
	if only != nil && len(l.keys) != len(only) {
		return l, fmt.Errorf("table: %d data files, %d of them under s3://%s/%s", len(only), len(l.keys), bucket, prefix)
	}
	return l, nil
}

// readLanded reads every object of l and counts its ticks into v: landed,
// unique, duplicated, foreign to the run, and objects that do not decode.
// Many GETs at once for small objects (one per tick takes a request's
// latency each), a bounded number of bytes at once for large ones.
func readLanded(ctx context.Context, cl *s3.Client, bucket string, l landed, f sink.Format, sent sentSeqs, v *result.Verify) error {
	seen := make([]uint64, (sent.limit()+63)/64)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(64)
	budget := semaphore.NewWeighted(verifyBytes)
	for _, key := range l.keys {
		weight := min(max(l.sizes[key], 64<<10), verifyBytes)
		if err := budget.Acquire(gctx, weight); err != nil {
			break // a read failed; g.Wait returns its error
		}
		g.Go(func() error {
			defer budget.Release(weight)
			out, err := cl.GetObject(gctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
			if err != nil {
				return fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
			}
			body, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil {
				return fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
			}
			var seqs []uint64
			var bad int64
			if err := sink.ReadTicks(f, body, func(t *tick.Tick) error {
				seqs = append(seqs, t.Seq)
				return nil
			}); err != nil {
				// An object that does not decode counts as bad, not fatal:
				// the result says so and verification fails.
				bad++
			}
			mu.Lock()
			defer mu.Unlock()
			v.BadObjects += bad
			for _, s := range seqs {
				v.Landed++
				if s >= sent.limit() || !sent.has(s) {
					v.Foreign++
					continue
				}
				w, bit := s/64, uint64(1)<<(s%64)
				if seen[w]&bit != 0 {
					v.Duplicates++
					continue
				}
				seen[w] |= bit
				v.Unique++
			}
			return nil
		})
	}
	return g.Wait()
}

// readRejects reads the errors/ objects: every line must be a sink.Reject
// with a reason.
func readRejects(ctx context.Context, cl *s3.Client, bucket string, keys []string) ([]sink.Reject, error) {
	var out []sink.Reject
	for _, key := range keys {
		o, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
		}
		body, err := io.ReadAll(o.Body)
		o.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
		}
		for line := range bytes.Lines(body) {
			var r sink.Reject
			if err := json.Unmarshal(line, &r); err != nil || r.Reason == "" {
				return nil, fmt.Errorf("s3://%s/%s: line %.80q is not a reject with a reason (%v)", bucket, key, line, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// VerifyLanded reads back what a strategy landed under prefix and checks
// that ticks 0..expect-1 are there, each exactly once: the check of a run
// whose producers were separate processes, against the ticks they
// acknowledged.
func VerifyLanded(ctx context.Context, cl *s3.Client, bucket, prefix, strategy string, expect uint64) (result.Verify, error) {
	s, err := NewStrategy(strategy, sink.Policy{}, "")
	if err != nil {
		return result.Verify{}, err
	}
	f, err := sink.FormatByName(s.Format)
	if err != nil {
		return result.Verify{}, err
	}
	return verify(ctx, cl, bucket, prefix, f, allSeqs(expect), nil)
}
