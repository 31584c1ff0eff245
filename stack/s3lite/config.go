package s3lite

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config configures a Server. Every field but Dir has a default, used when the
// field is left at its zero value.
type Config struct {
	// Dir holds the buckets as directories and the objects as plain files:
	// object "a/b/c.jsonl" of bucket "ticks" is the file Dir/ticks/a/b/c.jsonl.
	// Temporary files and multipart parts live in Dir/.tmp, which no bucket
	// name can reach. Required; created if missing. One Server per Dir: two
	// servers sharing a Dir would remove each other's temporary files.
	Dir string

	// Region is what HeadBucket (x-amz-bucket-region) and GetBucketLocation
	// report. Default "us-east-1".
	Region string

	// MinPartSize is the smallest size CompleteMultipartUpload accepts for
	// every part but the last. Default 5 MiB, S3's own limit; tests lower it.
	// Range 1 B to 5 GiB.
	MinPartSize int64

	// AccessKey, when set, is the only access key id accepted: a request
	// whose Authorization header (or presigned X-Amz-Credential) names
	// another gets 403 InvalidAccessKeyId, an unsigned one 403 AccessDenied.
	// Signatures are NOT verified (no SigV4 check), so SecretKey is only
	// required alongside AccessKey, to keep the pair a client is given in one
	// place. Default: both empty, any credentials accepted.
	AccessKey, SecretKey string

	// ListCacheNames bounds the directory entries ListObjectsV2 keeps in
	// memory between pages (about 60 bytes each), so that paging through a
	// directory of many objects reads it once, not once per page; see
	// dirCache. Default 2,000,000; -1 disables the cache. Range -1 up.
	ListCacheNames int

	// Faults to inject from the start. SetFaults changes them at run time.
	// Default: none.
	Faults Faults
}

// Faults describes the misbehaviour a Server injects. The zero value injects
// nothing and costs nothing per request.
//
// Each request draws one random number: it is answered 503 SlowDown with
// probability ErrorRate503, 500 InternalError with ErrorRate500, has its
// connection reset with ResetRate, or is carried out and then reset with
// ResetAfterRate. Stalls and latency apply to every request first, and the
// PutsPerSecond limit to the writes that got through.
type Faults struct {
	// Seed seeds the random draws, so that the sequence of injected faults is
	// reproducible (up to the order in which concurrent requests arrive).
	Seed uint64

	// ErrorRate503 is the share of requests answered 503 SlowDown, which
	// SDKs retry as throttling. Range 0 to 1.
	ErrorRate503 float64

	// ErrorRate500 is the share of requests answered 500 InternalError.
	// Range 0 to 1.
	ErrorRate500 float64

	// ResetRate is the share of requests whose TCP connection is reset
	// without an answer, before they take effect. Range 0 to 1.
	ResetRate float64

	// ResetAfterRate is the share of requests that take effect and are then
	// answered by a connection reset: the client cannot tell that its write
	// landed, and a retry with If-None-Match: * gets 412. Range 0 to 1.
	ResetAfterRate float64

	// Latency is the time every request takes from its arrival (headers
	// read) to its answer, plus a uniformly random extra in [0, Jitter): the
	// server does the work and then waits out the rest, so that a client
	// sees Latency plus its own and the network's share, not Latency plus
	// s3lite's file I/O. Work that takes longer is not cut short. Injected
	// errors and resets come after the whole delay. Both at least 0.
	// Default 0.
	Latency, Jitter time.Duration

	// StallEvery and StallFor make periodic stalls: in every period of
	// StallEvery, counted from New or SetFaults, requests arriving in the
	// first StallFor wait until StallFor has passed. Both zero (the default)
	// for none; otherwise 0 < StallFor < StallEvery. Server.Stall starts a
	// one-off stall.
	StallEvery, StallFor time.Duration

	// PutsPerSecond limits object writes (PUT, POST and DELETE, multipart
	// steps included) per bucket and first key segment, like S3's per-prefix
	// limit (3,500/s): keys "dt=2024-01-01/hour=00/a" and
	// "dt=2024-01-01/hour=01/b" share the limit of "dt=2024-01-01/", and
	// keys without "/" share the bucket's. Writes beyond it get 503
	// SlowDown. At least 0; 0 (the default) for no limit.
	PutsPerSecond float64

	// PutBurst is the capacity of each token bucket: how many writes may
	// arrive at once after a quiet spell. Default one second's worth,
	// PutsPerSecond rounded up. At least 0.
	PutBurst int
}

const (
	defaultRegion         = "us-east-1"
	defaultMinPartSize    = 5 << 20
	defaultListCacheNames = 2_000_000
	maxObjectSize         = 5 << 30 // S3's limit for one PUT and for one part
)

// Validate reports the first field whose value is out of range, naming the
// value and the allowed range.
func (c Config) Validate() error {
	if c.Dir == "" {
		return errors.New("s3lite: Dir is empty: a directory to keep the buckets in is required")
	}
	if c.MinPartSize < 0 || c.MinPartSize > maxObjectSize {
		return fmt.Errorf("s3lite: MinPartSize %d out of range: want 1 to %d bytes (0 means %d)", c.MinPartSize, int64(maxObjectSize), defaultMinPartSize)
	}
	if c.ListCacheNames < -1 {
		return fmt.Errorf("s3lite: ListCacheNames %d out of range: want -1 (no cache) or more (0 means %d)", c.ListCacheNames, defaultListCacheNames)
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		return errors.New("s3lite: AccessKey and SecretKey must be set together (or both left empty to accept any credentials)")
	}
	return c.Faults.Validate()
}

// Validate reports the first field whose value is out of range, naming the
// value and the allowed range.
func (f Faults) Validate() error {
	rates := []struct {
		name string
		v    float64
	}{{"ErrorRate503", f.ErrorRate503}, {"ErrorRate500", f.ErrorRate500}, {"ResetRate", f.ResetRate}, {"ResetAfterRate", f.ResetAfterRate}}
	sum := 0.0
	for _, r := range rates {
		if !(r.v >= 0 && r.v <= 1) { // also rejects NaN
			return fmt.Errorf("s3lite: Faults.%s %v out of range: want 0 to 1", r.name, r.v)
		}
		sum += r.v
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("s3lite: Faults error and reset rates add up to %v: want at most 1", sum)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Latency", f.Latency}, {"Jitter", f.Jitter}, {"StallEvery", f.StallEvery}, {"StallFor", f.StallFor}} {
		if d.v < 0 {
			return fmt.Errorf("s3lite: Faults.%s %v out of range: want at least 0", d.name, d.v)
		}
	}
	if (f.StallEvery == 0) != (f.StallFor == 0) || f.StallFor > 0 && f.StallFor >= f.StallEvery {
		return fmt.Errorf("s3lite: Faults.StallFor %v with StallEvery %v: want both 0, or 0 < StallFor < StallEvery", f.StallFor, f.StallEvery)
	}
	if !(f.PutsPerSecond >= 0) || math.IsInf(f.PutsPerSecond, 0) {
		return fmt.Errorf("s3lite: Faults.PutsPerSecond %v out of range: want a finite rate at least 0 (0 means no limit)", f.PutsPerSecond)
	}
	if f.PutBurst < 0 {
		return fmt.Errorf("s3lite: Faults.PutBurst %d out of range: want at least 0 (0 means PutsPerSecond rounded up)", f.PutBurst)
	}
	return nil
}

// withDefaults fills the zero fields with their defaults.
func (c Config) withDefaults() Config {
	if c.Region == "" {
		c.Region = defaultRegion
	}
	if c.MinPartSize == 0 {
		c.MinPartSize = defaultMinPartSize
	}
	if c.ListCacheNames == 0 {
		c.ListCacheNames = defaultListCacheNames
	}
	return c
}
