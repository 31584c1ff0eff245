package result

import (
	"fmt"
	"io"
	"slices"
)

// TableReport is what a table strategy's commits did (schema v1.4).
type TableReport struct {
	Format   string `json:"format"`  // "iceberg"
	Catalog  string `json:"catalog"` // "sql" (embedded), "rest" (local), "glue" (AWS)
	Name     string `json:"name"`    // namespace.table
	Location string `json:"location"`
	// CommitInterval and CommitFiles are the commit policy.
	CommitInterval string `json:"commit_interval"`
	CommitFiles    int    `json:"commit_files,omitempty"`
	// Commits succeeded; CommitConflicts lost to another member's commit
	// and were retried; CommitFailures failed and were tried again later.
	Commits         int64 `json:"commits"`
	CommitConflicts int64 `json:"commit_conflicts"`
	CommitFailures  int64 `json:"commit_failures"`
	// LeftBatches were committed by another member (or an earlier life)
	// first and left out of this member's commit.
	LeftBatches int64 `json:"left_batches"`
	// Snapshots and Files are the table's at the end; FilesPerHour is
	// the data files per hour of event time.
	Snapshots    int     `json:"snapshots"`
	Files        int     `json:"files"`
	FilesPerHour float64 `json:"files_per_hour"`
	// MetadataGets and MetadataPuts are the commits' requests for
	// metadata.json, manifest lists and manifests, and their price per
	// day at the workload's rate.
	MetadataGets          int64   `json:"metadata_gets"`
	MetadataPuts          int64   `json:"metadata_puts"`
	MetadataCostPerDayUSD float64 `json:"metadata_cost_per_day_usd"`
	// Orphans are objects under the data prefix that no snapshot holds
	// (landed, never committed), with their bytes.
	Orphans     int64 `json:"orphans"`
	OrphanBytes int64 `json:"orphan_bytes"`
}

// printTables writes, when a table strategy ran, when each strategy's ticks
// became queryable and what the table strategies' commits did.
func (r *Result) printTables(w io.Writer) {
	if !slices.ContainsFunc(r.Strategies, func(s StrategyResult) bool { return s.Table != nil }) {
		return
	}
	nw := 22
	for _, s := range r.Strategies {
		nw = max(nw, len(s.Strategy))
	}
	fmt.Fprintf(w, "\n%-*s %9s %9s %9s %8s %9s %9s %7s %9s %11s %10s %9s\n", nw, "queryable", "p50", "p99", "max",
		"commits", "conflicts", "snapshots", "files", "files/h", "meta GET/PUT", "meta $/day", "orphans")
	for _, s := range r.Strategies {
		q := s.Queryable
		if s.Table == nil {
			fmt.Fprintf(w, "%-*s %9s %9s %9s %8s %9s %9s %7s %9s %11s %10s %9s\n", nw, s.Strategy, Millis(q.P50), Millis(q.P99), Millis(q.Max),
				"-", "-", "-", Thousands(float64(s.Objects)), "-", "-", "-", "-")
			continue
		}
		t := s.Table
		fmt.Fprintf(w, "%-*s %9s %9s %9s %8d %9d %9d %7d %9s %11s %10s %9s\n", nw, s.Strategy, Millis(q.P50), Millis(q.P99), Millis(q.Max),
			t.Commits, t.CommitConflicts, t.Snapshots, t.Files, Thousands(t.FilesPerHour), fmt.Sprintf("%d/%d", t.MetadataGets, t.MetadataPuts),
			usd(t.MetadataCostPerDayUSD), fmt.Sprintf("%d (%s)", t.Orphans, Size(t.OrphanBytes)))
	}
	fmt.Fprintln(w, "(queryable = intended time -> the table commit holding the tick, ms; Hive-style prefixes are queryable once landed, with partition projection: there it is e2e)")
	for _, s := range r.Strategies {
		if t := s.Table; t != nil {
			fmt.Fprintf(w, "table %s: %s in the %s catalog at %s, commit every %s", s.Strategy, t.Name, t.Catalog, t.Location, t.CommitInterval)
			if t.CommitFiles > 0 {
				fmt.Fprintf(w, " or %d files", t.CommitFiles)
			}
			fmt.Fprintln(w)
		}
	}
}
