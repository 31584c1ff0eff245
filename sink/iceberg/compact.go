package iceberg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/tick"
)

// Objects reads and writes the table's data objects by key.
type Objects interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, body []byte) error
}

// Compaction is what Compact did to one partition.
type Compaction struct {
	// Partition is the partition compacted, e.g. ts_hour=2026-12-07T15.
	Partition string
	// FilesBefore and BytesBefore were replaced by FilesAfter and
	// BytesAfter; Records is the rows they hold (the same before and
	// after).
	FilesBefore, FilesAfter int
	BytesBefore, BytesAfter int64
	Records                 int64
	// Gets and Puts are the data objects read and written; MetadataGets
	// and MetadataPuts the commit's metadata requests.
	Gets, Puts                 int
	MetadataGets, MetadataPuts int
	Snapshot                   int64
	Conflicts                  int
}

// Rewrite says how Compact writes a partition's ticks again.
type Rewrite struct {
	// Partition names the partition (e.g. "ts_hour=2026-12-07T15"); empty:
	// the one with the most files.
	Partition string
	// Target is the size the new files are cut at, in bytes.
	Target int64
	// SortBySymbol orders each new file's ticks by (symbol, ts, seq), as
	// Iceberg's sort strategy with that sort order does, so that its row
	// groups hold few symbols each and a query on one symbol skips the
	// rest by their statistics. It holds a file's ticks in memory (about
	// 90 bytes each); without it the ticks keep the old files' order
	// (Iceberg's bin-pack strategy).
	SortBySymbol bool
}

// ErrNothingToCompact reports a partition with fewer than two files.
var ErrNothingToCompact = errors.New("nothing to compact")

// Compact rewrites the data files of one partition of the current snapshot
// into files of about rw.Target bytes each, in format, and replaces them in
// one snapshot. The old objects stay in S3 for the
// snapshots that hold them, as Iceberg keeps them until snapshots expire.
// A commit that loses to a sink's append is retried on the table as it then
// is.
func (t *Table) Compact(ctx context.Context, objs Objects, format sink.Format, rw Rewrite) (c Compaction, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n counts
	ctx = t.ctx(ctx, &n)
	defer func() { c.MetadataGets, c.MetadataPuts = int(n.gets.Load()), int(n.puts.Load()) }()
	t.cur = nil
	tbl, err := t.load(ctx)
	if err != nil {
		return c, err
	}
	old, name, err := t.partitionFiles(ctx, tbl, rw.Partition)
	if err != nil {
		return c, err
	}
	c.Partition, c.FilesBefore = name, len(old)
	if len(old) < 2 {
		return c, fmt.Errorf("partition %s of %s has %d data files: %w", name, t.Name(), len(old), ErrNothingToCompact)
	}
	added, err := t.rewrite(ctx, objs, format, old, rw, &c)
	if err != nil {
		return c, err
	}
	props := iceberg.Properties{"tickbench.compaction": fmt.Sprintf("%s: %d files into %d", name, len(old), len(added))}
	for attempt := 1; ; attempt++ {
		tx := tbl.NewTransaction()
		if err := tx.ReplaceDataFilesWithDataFiles(ctx, old, added, props); err != nil {
			return c, fmt.Errorf("replace %d files of %s: %w", len(old), t.Name(), err)
		}
		next, err := tx.Commit(ctx)
		if err == nil {
			t.cur, c.Snapshot = next, next.CurrentSnapshot().SnapshotID
			if t.serverWrites {
				n.puts.Add(1) // the catalog server's metadata.json
			}
			return c, nil
		}
		if !errors.Is(err, table.ErrCommitFailed) || attempt == maxAttempts {
			return c, fmt.Errorf("commit the compaction of %s (attempt %d): %w", t.Name(), attempt, err)
		}
		c.Conflicts++
		if tbl, err = t.cat.LoadTable(ctx, t.id); err != nil {
			return c, fmt.Errorf("reload %s: %w", t.Name(), err)
		}
	}
}

// partitionFiles returns the data files of the named partition, or of the
// one with the most files, sorted by key, and the partition's name.
func (t *Table) partitionFiles(ctx context.Context, tbl *table.Table, want string) ([]iceberg.DataFile, string, error) {
	if tbl.CurrentSnapshot() == nil {
		return nil, "", fmt.Errorf("table %s has no snapshot: %w", t.Name(), ErrNothingToCompact)
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("plan files of %s: %w", t.Name(), err)
	}
	byPart := map[string][]iceberg.DataFile{}
	for _, task := range tasks {
		name := t.partitionName(task.File.Partition())
		byPart[name] = append(byPart[name], task.File)
	}
	if want == "" {
		names := slices.Sorted(maps.Keys(byPart))
		want = slices.MaxFunc(names, func(a, b string) int { return cmp.Compare(len(byPart[a]), len(byPart[b])) })
	} else if _, ok := byPart[want]; !ok {
		return nil, "", fmt.Errorf("partition %q: allowed %s", want, strings.Join(slices.Sorted(maps.Keys(byPart)), ", "))
	}
	files := byPart[want]
	slices.SortFunc(files, func(a, b iceberg.DataFile) int { return cmp.Compare(a.FilePath(), b.FilePath()) })
	return files, want, nil
}

// partitionName writes a partition's values as name=value pairs: hours and
// days as times (2026-12-07T15, 2026-12-07), other values as they are; ""
// for an unpartitioned table.
func (t *Table) partitionName(values map[int]any) string {
	var parts []string
	for _, f := range t.spec.Fields() {
		v := values[f.FieldID]
		s := fmt.Sprint(v)
		switch f.Transform.(type) {
		case iceberg.HourTransform:
			if h, ok := v.(int32); ok {
				s = time.Unix(int64(h)*3600, 0).UTC().Format("2006-01-02T15")
			}
		case iceberg.DayTransform:
			if d, ok := v.(iceberg.Date); ok {
				s = time.Unix(int64(d)*86400, 0).UTC().Format("2006-01-02")
			}
		}
		parts = append(parts, f.Name+"="+s)
	}
	return strings.Join(parts, "/")
}

// rewrite reads old and writes their ticks, in the order of old or sorted
// by symbol, into new objects of about rw.Target bytes beside the first of
// them.
func (t *Table) rewrite(ctx context.Context, objs Objects, format sink.Format, old []iceberg.DataFile, rw Rewrite, c *Compaction) ([]iceberg.DataFile, error) {
	first, ok := strings.CutPrefix(old[0].FilePath(), "s3://"+t.bucket+"/")
	if !ok {
		return nil, fmt.Errorf("data file %s: not in bucket %s", old[0].FilePath(), t.bucket)
	}
	dir, stamp := path.Dir(first), strconv.FormatInt(time.Now().UnixMilli(), 10)
	var added []iceberg.DataFile
	enc := format.NewEncoder()
	flush := func() error {
		body, err := enc.Finish()
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		key := fmt.Sprintf("%s/compacted-%s-%04d.%s", dir, stamp, len(added), format.Ext())
		if err := objs.Put(ctx, key, body); err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		c.Puts++
		stats, err := sink.ReadFileStats(body)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		df, err := t.dataFile(sink.Landed{Key: key, Bytes: len(body), Stats: stats})
		if err != nil {
			return err
		}
		added = append(added, df)
		c.FilesAfter++
		c.BytesAfter += int64(len(body))
		return nil
	}
	// Sorted, a file's ticks are gathered first: as many as the old files
	// hold in rw.Target bytes.
	var held []tick.Tick
	perFile := 0
	if rw.SortBySymbol {
		var rows, size int64
		for _, f := range old {
			rows, size = rows+f.Count(), size+f.FileSizeBytes()
		}
		perFile = int(max(1, rw.Target*rows/max(size, 1)))
		held = make([]tick.Tick, 0, min(perFile, int(rows)))
	}
	rows := 0
	add := func(tk *tick.Tick) error {
		rows++
		if err := enc.Append(tk); err != nil {
			return err
		}
		if !rw.SortBySymbol && int64(enc.Len()) >= rw.Target {
			rows = 0
			return flush()
		}
		return nil
	}
	writeHeld := func() error {
		slices.SortFunc(held, func(a, b tick.Tick) int {
			return cmp.Or(strings.Compare(a.Symbol, b.Symbol), cmp.Compare(a.Intended, b.Intended), cmp.Compare(a.Seq, b.Seq))
		})
		for i := range held {
			if err := add(&held[i]); err != nil {
				return err
			}
		}
		held = held[:0]
		rows = 0
		return flush()
	}
	for _, f := range old {
		key := strings.TrimPrefix(f.FilePath(), "s3://"+t.bucket+"/")
		body, err := objs.Get(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", key, err)
		}
		c.Gets++
		c.BytesBefore += int64(len(body))
		err = sink.ReadTicks(format, body, func(tk *tick.Tick) error {
			c.Records++
			if !rw.SortBySymbol {
				return add(tk)
			}
			if held = append(held, *tk); len(held) >= perFile {
				return writeHeld()
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("rewrite %s: %w", key, err)
		}
	}
	if len(held) > 0 {
		if err := writeHeld(); err != nil {
			return nil, err
		}
	}
	if rows > 0 {
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return added, nil
}
