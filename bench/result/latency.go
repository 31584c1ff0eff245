package result

import "github.com/HdrHistogram/hdrhistogram-go"

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
