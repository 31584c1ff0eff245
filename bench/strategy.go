package bench

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/tick/wire"
)

// Strategy is one way of landing ticks in S3: an object format, a flush
// policy and a key layout. Strategies are compared over the same ticks.
type Strategy struct {
	Name   string
	Format string // a sink format name
	Policy sink.Policy
	Layout sink.Layout
	// Uploaders is how many PUTs a sink member keeps in flight (0: the
	// sink's default).
	Uploaders int
	// Table is the table format the objects are committed to ("iceberg"),
	// or "" for Hive-style prefixes (queryable once landed: partition
	// projection finds new partitions without a commit).
	Table string
	// CommitInterval, if set, is this table strategy's own (a sweep's
	// variant); otherwise Config's.
	CommitInterval time.Duration
	// Wire is the format of the ticks on Kafka that this strategy's run
	// produces and its sink decodes.
	Wire wire.Format
}

// strategyDefs maps each strategy name to its format, and to a fixed
// record count where the strategy is defined by one (json-per-tick).
var strategyDefs = map[string]struct {
	format    string
	records   int
	uploaders int
	table     string
}{
	// The seed's design: every tick its own S3 object, the baseline. It
	// gets many PUTs in flight, as an S3 client for small objects would.
	"json-per-tick":  {format: "json", records: 1, uploaders: 64},
	"jsonl":          {format: "jsonl"},
	"jsonl.gz":       {format: "jsonl.gz"},
	"parquet-snappy": {format: "parquet"},
	"parquet-zstd":   {format: "parquet-zstd"},
	// Apache Iceberg tables of the same Parquet objects, committed every
	// --commit-interval or --commit-files (docs/iceberg.md).
	"iceberg-parquet-snappy": {format: "parquet", table: "iceberg"},
	"iceberg-parquet-zstd":   {format: "parquet-zstd", table: "iceberg"},
}

// StrategyNames lists the known strategies, sorted.
func StrategyNames() []string {
	var names []string
	for n := range strategyDefs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewStrategy returns the named strategy with policy p (unless the strategy
// fixes its own) and layout l.
func NewStrategy(name string, p sink.Policy, l sink.Layout) (Strategy, error) {
	def, ok := strategyDefs[name]
	if !ok {
		return Strategy{}, fmt.Errorf("strategy %q: allowed %s", name, strings.Join(StrategyNames(), ", "))
	}
	if _, err := sink.FormatByName(def.format); err != nil {
		return Strategy{}, fmt.Errorf("strategy %q: %w", name, err)
	}
	if def.records > 0 {
		p.Records = def.records
	}
	return Strategy{Name: name, Format: def.format, Policy: p, Layout: l, Uploaders: def.uploaders, Table: def.table}, nil
}

// strategies resolves cfg.Strategies ("all" is every strategy), rejecting
// unknown names and repeats.
func (c Config) strategies() ([]Strategy, error) {
	if len(c.Strategies) == 1 && c.Strategies[0] == "all" {
		c.Strategies = StrategyNames()
	}
	if len(c.Strategies) == 0 {
		return nil, fmt.Errorf("strategies: none given; allowed %s", strings.Join(StrategyNames(), ", "))
	}
	seen := map[string]bool{}
	var out []Strategy
	for _, name := range c.Strategies {
		if seen[name] {
			return nil, fmt.Errorf("strategy %q: given twice", name)
		}
		seen[name] = true
		s, err := NewStrategy(name, c.Policy, c.Layout)
		if err != nil {
			return nil, err
		}
		variants := []Strategy{s}
		if s.Table != "" && len(c.CommitIntervals) >= 2 {
			variants = variants[:0]
			for _, d := range c.CommitIntervals {
				v := s
				v.Name, v.CommitInterval = s.Name+"-every-"+d.String(), d
				variants = append(variants, v)
			}
		}
		wires := c.Wires
		if len(wires) == 0 {
			wires = []wire.Format{wire.JSON}
		}
		for _, v := range variants {
			for _, f := range wires {
				w := v
				if w.Wire = f; f != wire.JSON {
					w.Name += "-" + f.String()
				}
				out = append(out, w)
			}
		}
	}
	return out, nil
}
