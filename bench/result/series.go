package result

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Sample is one interval (about a second) of a strategy's run: what the
// generator achieved against its target, what landed, how far the sink was
// behind, and the end-to-end and upload p99 of what landed in the interval.
type Sample struct {
	T            float64 `json:"t_s"`           // end of the interval, seconds since the generator started
	TargetRate   float64 `json:"target_rate"`   // ticks/s the pacer scheduled in the interval; 0 once the generator has stopped
	AchievedRate float64 `json:"achieved_rate"` // ticks acknowledged by Kafka in the interval, per second
	LandedRate   float64 `json:"landed_rate"`   // ticks whose S3 PUT was acknowledged in the interval, per second
	Lag          int64   `json:"lag"`           // ticks acknowledged by Kafka and not yet landed, at T
	E2EP99       int64   `json:"e2e_p99_us"`    // of ticks landed in the interval; 0 if none
	UploadP99    int64   `json:"upload_p99_us"` // of objects uploaded in the interval; 0 if none
	// RSSBytes, Goroutines and OpenFiles are the process's at T (schema
	// v1.5; 0 where the system does not tell): what a soak watches for
	// growth.
	RSSBytes   int64 `json:"rss_bytes,omitempty"`
	Goroutines int   `json:"goroutines,omitempty"`
	OpenFiles  int   `json:"open_files,omitempty"`
	// HeapLiveBytes is the Go heap the last garbage collection kept
	// (runtime/metrics /gc/heap/live:bytes): what the process holds,
	// without the pages the runtime has not yet returned to the system,
	// which RSS still counts (schema v1.5).
	HeapLiveBytes int64 `json:"heap_live_bytes,omitempty"`
}

// Interval histograms are kept for the .hlog files, one per second.
type Intervals struct {
	E2E, Upload, Publish []IntervalHist
}

// IntervalHist is an interval histogram kept in HdrHistogram's compressed
// encoding with its interval's times. A histogram of 1 µs..1 h at 3 digits
// takes ~190 KB whatever it holds, its encoding a few hundred bytes: kept
// whole, three a second held ~34 MB after a minute (and raised the heap's
// goal twice that), ~0.3 GB after ten.
type IntervalHist struct {
	startMs, endMs int64
	enc            []byte
}

// KeepInterval encodes h, with the times of its interval.
func KeepInterval(h *hdrhistogram.Histogram, start, end time.Time) (IntervalHist, error) {
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return IntervalHist{}, fmt.Errorf("encode interval histogram: %w", err)
	}
	return IntervalHist{startMs: start.UnixMilli(), endMs: end.UnixMilli(), enc: enc}, nil
}

// histogram decodes the interval's histogram, its times set.
func (iv IntervalHist) histogram() (*hdrhistogram.Histogram, error) {
	h, err := hdrhistogram.Decode(iv.enc)
	if err != nil {
		return nil, fmt.Errorf("decode interval histogram: %w", err)
	}
	h.SetStartTimeMs(iv.startMs)
	h.SetEndTimeMs(iv.endMs)
	return h, nil
}
