// Package result owns what a run leaves behind: the result file's schema
// (SchemaVersion; docs/results.md documents every field), reading it back
// (ReadResult, LoadResults from files or S3) and writing it with its
// companions (HdrHistogram .hgrm and .hlog files, the Go benchmark lines
// benchstat compares), and the summaries the commands print from it: the
// run's summary, the ceiling search's lines and table, the lake's scans.
// It knows nothing of how a run is done: package bench runs them and fills
// a Result in.
package result
