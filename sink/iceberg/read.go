package iceberg

import (
	"context"
	"fmt"
	"strings"
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
