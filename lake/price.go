// Package lake owns the landed table seen from the query side: its schema
// and catalog definition, the query engines, and the price model of
// storing and scanning it.
package lake

import "fmt"

// Prices are the AWS list prices tickbench computes costs with. They are
// kept in one place with their source and date; override them for other
// regions or negotiated rates.
type Prices struct {
	Region string `json:"region"`
	// Source and AsOf say where the numbers come from and when they were
	// read.
	Source string `json:"source"`
	AsOf   string `json:"as_of"`
	// S3 Standard requests, USD per 1,000.
	S3PutPer1000 float64 `json:"s3_put_per_1000"`
	S3GetPer1000 float64 `json:"s3_get_per_1000"`
	// S3 Standard storage, USD per GB-month (first 50 TB tier).
	S3StoragePerGBMonth float64 `json:"s3_storage_per_gb_month"`
	// Athena SQL, USD per TB scanned; each query is billed at least
	// AthenaMinBytes, rounded up to whole MB.
	AthenaPerTB    float64 `json:"athena_per_tb"`
	AthenaMinBytes int64   `json:"athena_min_bytes"`
}

// USEast1 is the default price table.
var USEast1 = Prices{
	Region:              "us-east-1",
	Source:              "aws.amazon.com/s3/pricing and aws.amazon.com/athena/pricing (S3 Standard, Athena SQL)",
	AsOf:                "2026-11",
	S3PutPer1000:        0.005,
	S3GetPer1000:        0.0004,
	S3StoragePerGBMonth: 0.023,
	AthenaPerTB:         5.0,
	AthenaMinBytes:      10 << 20,
}

// PutCost is the USD cost of n PUT (or COPY/POST/LIST) requests.
func (p Prices) PutCost(n float64) float64 { return n / 1000 * p.S3PutPer1000 }

// AthenaBill returns the billed bytes and USD cost of a query that scanned
// scanned bytes: at least the minimum, rounded up to the next MB.
func (p Prices) AthenaBill(scanned int64) (billed int64, usd float64) {
	const mb = 1 << 20
	billed = max(p.AthenaMinBytes, (scanned+mb-1)/mb*mb)
	return billed, float64(billed) / (1 << 40) * p.AthenaPerTB
}

// Validate rejects negative or missing prices.
func (p Prices) Validate() error {
	for name, v := range map[string]float64{"s3-put-per-1000": p.S3PutPer1000, "s3-get-per-1000": p.S3GetPer1000,
		"s3-storage-per-gb-month": p.S3StoragePerGBMonth, "athena-per-tb": p.AthenaPerTB} {
		if !(v >= 0) {
			return fmt.Errorf("price %s %v: allowed >= 0", name, v)
		}
	}
	if p.AthenaMinBytes < 0 {
		return fmt.Errorf("price athena-min-bytes %d: allowed >= 0", p.AthenaMinBytes)
	}
	return nil
}
