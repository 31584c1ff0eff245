package iceberg

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
)

// File is one data file of the table's current snapshot.
type File struct {
	Key     string // the object's key in the table's bucket
	Path    string // s3://bucket/key
	Bytes   int64
	Records int64
}

// Info is the table as of its current snapshot.
type Info struct {
	Snapshots int
	Files     []File
	// Records is the files' record count; Offsets the topic's.
	Records int64
	Offsets map[int32]int64
	// MetadataLocation is the current metadata.json.
	MetadataLocation string
}

// Info reads the table fresh from the catalog, with its current snapshot's
// data files (the manifest list and manifests are read).
func (t *Table) Info(ctx context.Context, topic string) (Info, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ctx = t.ctx(ctx, nil)
	t.cur = nil
	tbl, err := t.load(ctx)
	if err != nil {
		return Info{}, err
	}
	in := Info{Snapshots: len(tbl.Metadata().Snapshots()), MetadataLocation: tbl.MetadataLocation()}
	if in.Offsets, err = offsetsOf(tbl, topic); err != nil {
		return Info{}, err
	}
	if tbl.CurrentSnapshot() == nil {
		return in, nil
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return Info{}, fmt.Errorf("plan files of %s: %w", t.Name(), err)
	}
	for _, task := range tasks {
		f := task.File
		path := f.FilePath()
		_, key, ok := strings.Cut(strings.TrimPrefix(path, "s3://"), "/")
		if !ok || !strings.HasPrefix(path, "s3://") {
			return Info{}, fmt.Errorf("data file %q: not an s3:// path", path)
		}
		in.Files = append(in.Files, File{Key: key, Path: path, Bytes: f.FileSizeBytes(), Records: f.Count()})
		in.Records += f.Count()
	}
	return in, nil
}

// Partition is a partition tuple of the tick table's spec (see Spec): TS is
// hour(ts) or day(ts), in hours or days since the epoch, Symbol
// identity(symbol); a field the spec lacks is zero.
type Partition struct {
	TS     int64
	Symbol string
}

// Object is a metadata object: its key in the table's bucket and size.
type Object struct {
	Key   string
	Bytes int64
}

// Manifest is one manifest of the current snapshot as the manifest list
// describes it: its object and, when the list gives them (Bounded), the
// range of its files' partition values.
type Manifest struct {
	Object
	Lower, Upper Partition
	Bounded      bool
}

// PlanFile is one data file as its manifest entry describes it.
type PlanFile struct {
	File
	Partition Partition
	// Lower and Upper are the column bounds by column name, in Iceberg's
	// single-value binary form.
	Lower, Upper map[string][]byte
	SplitOffsets []int64
}

// Plan is the table's current snapshot as a query's planning reads it:
// metadata.json, the manifest list, the manifests and their data files.
type Plan struct {
	// Snapshot is the current snapshot's id (0: the table has none).
	Snapshot               int64
	Metadata, ManifestList Object
	Manifests              []Manifest
	Files                  []PlanFile
}

// Plan reads the table fresh from the catalog, then its current snapshot's
// manifest list and manifests (every data file, none pruned).
func (t *Table) Plan(ctx context.Context) (Plan, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ctx = t.ctx(ctx, nil)
	t.cur = nil
	tbl, err := t.load(ctx)
	if err != nil {
		return Plan{}, err
	}
	fio, err := tbl.FS(ctx)
	if err != nil {
		return Plan{}, fmt.Errorf("table %s: %w", t.Name(), err)
	}
	var p Plan
	if p.Metadata, err = t.object(fio, tbl.MetadataLocation(), -1); err != nil {
		return Plan{}, err
	}
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		return p, nil
	}
	p.Snapshot = snap.SnapshotID
	if p.ManifestList, err = t.object(fio, snap.ManifestList, -1); err != nil {
		return Plan{}, err
	}
	manifests, err := snap.Manifests(fio)
	if err != nil {
		return Plan{}, fmt.Errorf("manifest list of %s: %w", t.Name(), err)
	}
	names := map[int]string{}
	for _, f := range Schema().Fields() {
		names[f.ID] = f.Name
	}
	for _, mf := range manifests {
		obj, err := t.object(fio, mf.FilePath(), mf.Length())
		if err != nil {
			return Plan{}, err
		}
		m := Manifest{Object: obj}
		if m.Lower, m.Upper, m.Bounded, err = t.summaryRange(mf.Partitions()); err != nil {
			return Plan{}, fmt.Errorf("manifest %s: %w", mf.FilePath(), err)
		}
		p.Manifests = append(p.Manifests, m)
		for e, err := range mf.Entries(fio, true) {
			if err != nil {
				return Plan{}, fmt.Errorf("manifest %s: %w", mf.FilePath(), err)
			}
			df := e.DataFile()
			key, ok := t.key(df.FilePath())
			if !ok {
				return Plan{}, fmt.Errorf("data file %q: not in s3://%s/", df.FilePath(), t.bucket)
			}
			pf := PlanFile{File: File{Key: key, Path: df.FilePath(), Bytes: df.FileSizeBytes(), Records: df.Count()},
				Lower: map[string][]byte{}, Upper: map[string][]byte{}, SplitOffsets: df.SplitOffsets()}
			for id, v := range df.LowerBoundValues() {
				pf.Lower[names[id]] = v
			}
			for id, v := range df.UpperBoundValues() {
				pf.Upper[names[id]] = v
			}
			if pf.Partition, err = t.partitionOf(df.Partition()); err != nil {
				return Plan{}, fmt.Errorf("data file %s: %w", df.FilePath(), err)
			}
			p.Files = append(p.Files, pf)
		}
	}
	return p, nil
}

// key is the object key of an s3:// path in the table's bucket.
func (t *Table) key(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "s3://"+t.bucket+"/")
	return rest, ok && rest != ""
}

// object describes the metadata object at path, asking the store for its
// size when size < 0.
func (t *Table) object(fio iceio.IO, path string, size int64) (Object, error) {
	key, ok := t.key(path)
	if !ok {
		return Object{}, fmt.Errorf("metadata object %q: not in s3://%s/", path, t.bucket)
	}
	if size < 0 {
		st, ok := fio.(iceio.StatIO)
		if !ok {
			return Object{}, fmt.Errorf("metadata object %s: the table's FileIO cannot stat", path)
		}
		fi, err := st.Stat(path)
		if err != nil {
			return Object{}, fmt.Errorf("stat %s: %w", path, err)
		}
		size = fi.Size()
	}
	return Object{Key: key, Bytes: size}, nil
}

// partitionOf reads a data file's partition values (by field ID).
func (t *Table) partitionOf(vals map[int]any) (Partition, error) {
	var p Partition
	for _, f := range t.spec.Fields() {
		v, ok := vals[f.FieldID]
		if !ok {
			return p, fmt.Errorf("no value for partition field %s", f.Name)
		}
		if err := p.set(f, v); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (p *Partition) set(f iceberg.PartitionField, v any) error {
	if f.SourceID() == idSymbol {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("partition field %s: %v (%T), want a string", f.Name, v, v)
		}
		p.Symbol = s
		return nil
	}
	switch n := v.(type) {
	case int32:
		p.TS = int64(n)
	case int64:
		p.TS = n
	case iceberg.Date:
		p.TS = int64(n)
	default:
		return fmt.Errorf("partition field %s: %v (%T), want hours or days", f.Name, v, v)
	}
	return nil
}

// summaryRange reads a manifest's partition field summaries (bounds in
// Iceberg's single-value binary form: 4-byte ints for hours and days);
// bounded is false when some field has none.
func (t *Table) summaryRange(sums []iceberg.FieldSummary) (lo, hi Partition, bounded bool, err error) {
	if t.spec.NumFields() == 0 || len(sums) != t.spec.NumFields() {
		return lo, hi, false, nil
	}
	for i, f := range t.spec.Fields() {
		s := sums[i]
		if s.LowerBound == nil || s.UpperBound == nil {
			return Partition{}, Partition{}, false, nil
		}
		for _, b := range []struct {
			raw []byte
			p   *Partition
		}{{*s.LowerBound, &lo}, {*s.UpperBound, &hi}} {
			var v any = string(b.raw)
			if f.SourceID() != idSymbol {
				if len(b.raw) != 4 {
					return lo, hi, false, fmt.Errorf("partition field %s: bound of %d bytes, want 4", f.Name, len(b.raw))
				}
				v = int32(binary.LittleEndian.Uint32(b.raw))
			}
			if err := b.p.set(f, v); err != nil {
				return lo, hi, false, err
			}
		}
	}
	return lo, hi, true, nil
}
