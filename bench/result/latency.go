package result

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histograms record microseconds from 1 µs to 1 h at 3 significant digits.
// An hour, not a minute: a run that cannot hold its rate falls further
// behind every second, and that lag must be recorded, not clipped.
const (
	HistMin    = 1
	HistMax    = int64(time.Hour / time.Microsecond)
	HistDigits = 3
)

// NewHistogram returns an empty histogram of those bounds.
func NewHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(HistMin, HistMax, HistDigits) }

// Summarize is the Latency of histogram h, which clamped values were
// recorded at its top.
func Summarize(h *hdrhistogram.Histogram, clamped int64) (Latency, error) {
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return Latency{}, fmt.Errorf("encode histogram: %w", err)
	}
	l := Latency{Unit: "us", Count: h.TotalCount(), Clamped: clamped, HDR: string(enc)}
	if l.Count > 0 {
		l.Min, l.Mean, l.Max = h.Min(), h.Mean(), h.Max()
		l.P50, l.P90, l.P95 = h.ValueAtQuantile(50), h.ValueAtQuantile(90), h.ValueAtQuantile(95)
		l.P99, l.P999 = h.ValueAtQuantile(99), h.ValueAtQuantile(99.9)
	}
	return l, nil
}

// Latency is a histogram's summary in a result file, with the histogram
// itself in HdrHistogram's compressed V2 encoding (base64, as Encode
// writes it), so any
// percentile can be recomputed and runs can be merged later.
type Latency struct {
	Unit    string  `json:"unit"` // always "us"
	Count   int64   `json:"count"`
	Min     int64   `json:"min"`
	Mean    float64 `json:"mean"`
	P50     int64   `json:"p50"`
	P90     int64   `json:"p90"`
	P95     int64   `json:"p95"`
	P99     int64   `json:"p99"`
	P999    int64   `json:"p99_9"`
	Max     int64   `json:"max"`
	Clamped int64   `json:"clamped,omitempty"` // values above 1 h, recorded as 1 h
	HDR     string  `json:"hdr"`
}

// DecodeHistogram returns the histogram stored in a Latency.
func (l Latency) DecodeHistogram() (*hdrhistogram.Histogram, error) {
	return hdrhistogram.Decode([]byte(l.HDR))
}
