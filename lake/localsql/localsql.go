// Package localsql runs Athena-style SQL over landed objects on this machine
// with DuckDB (cgo, statically linked). It is a package of its own so that
// only the commands that query link DuckDB.
//
// DuckDB's httpfs extension is not available offline, so the objects are
// first downloaded into a folder (Hive dirs kept), over which a view with
// the table's columns and partition keys is created.
package localsql

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
	"golang.org/x/sync/errgroup"

	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/sink"
)

// Download copies every object under t's prefix into dir, keeping the key
// below the prefix as the path (so dt=.../hour=.../ dirs stay). It returns
// the objects and bytes copied.
func Download(ctx context.Context, cl *s3.Client, t lake.Table, dir string) (objects int, bytes int64, err error) {
	var keys []string
	pages := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: &t.Bucket, Prefix: &t.Prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("list %s: %w", t.Location(), err)
		}
		for _, o := range page.Contents {
			keys = append(keys, *o.Key)
		}
	}
	sizes := make([]int64, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, key := range keys {
		rel := strings.TrimPrefix(key, t.Prefix)
		if rel == "" || strings.Contains(rel, "..") {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(rel))
		g.Go(func() error {
			out, err := cl.GetObject(gctx, &s3.GetObjectInput{Bucket: &t.Bucket, Key: &key})
			if err != nil {
				return fmt.Errorf("get s3://%s/%s: %w", t.Bucket, key, err)
			}
			defer out.Body.Close()
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			n, err := io.Copy(f, out.Body)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("download s3://%s/%s: %w", t.Bucket, key, err)
			}
			sizes[i] = n
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, 0, err
	}
	for _, n := range sizes {
		bytes += n
	}
	return len(keys), bytes, nil
}

// Engine is an in-memory DuckDB with the table as views named ticks,
// <table> and <database>.<table>.
type Engine struct {
	db *sql.DB
}

// Open creates the views over the objects of t that Download put in dir.
// Sessions run in UTC, as Athena does.
func Open(ctx context.Context, t lake.Table, dir string) (*Engine, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	// One connection: views and settings live in it.
	db.SetMaxOpenConns(1)
	e := &Engine{db: db}
	src, err := source(t, dir)
	if err != nil {
		db.Close()
		return nil, err
	}
	for _, stmt := range []string{
		"SET TimeZone = 'UTC'",
		fmt.Sprintf("CREATE SCHEMA IF NOT EXISTS %s", t.Database),
		fmt.Sprintf("CREATE VIEW %s.%s AS %s", t.Database, t.Name, src),
		fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM %s.%s", t.Name, t.Database, t.Name),
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("duckdb: %s: %w", stmt, err)
		}
	}
	if t.Name != "ticks" {
		if _, err := db.ExecContext(ctx, "CREATE VIEW ticks AS SELECT * FROM "+t.Name); err != nil {
			db.Close()
			return nil, fmt.Errorf("duckdb: view ticks: %w", err)
		}
	}
	return e, nil
}

// duckTypes map the table's Hive types to DuckDB's.
var duckTypes = map[string]string{"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "double": "DOUBLE", "timestamp": "TIMESTAMPTZ"}

// source is the SELECT over the files that gives the table's columns in
// the table's order, partition keys last.
func source(t lake.Table, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	var files []string
	err = filepath.WalkDir(abs, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("objects in %s: %w", abs, err)
	}
	if len(files) == 0 {
		return "", fmt.Errorf("no objects of %s downloaded into %s: nothing landed under %s", t.Name, abs, t.Location())
	}
	glob := quote(filepath.ToSlash(abs) + "/**/*")
	var hive []string
	for _, k := range t.PartitionKeys() {
		hive = append(hive, fmt.Sprintf("'%s': %s", k.Name, duckTypes[k.Type]))
	}
	hiveOpts := "hive_partitioning = false"
	if len(hive) > 0 {
		hiveOpts = "hive_partitioning = true, hive_types = {" + strings.Join(hive, ", ") + "}"
	}
	var names []string
	for _, c := range append(t.Columns(), t.PartitionKeys()...) {
		names = append(names, c.Name)
	}
	cols := strings.Join(names, ", ")
	if t.Parquet() {
		return fmt.Sprintf("SELECT %s FROM read_parquet(%s, %s)", cols, glob, hiveOpts), nil
	}
	var types []string
	for _, c := range t.Columns() {
		types = append(types, fmt.Sprintf("'%s': '%s'", c.Name, duckTypes[c.Type]))
	}
	if t.Layout == sink.LayoutSymbol {
		// symbol is a partition key here, but the objects carry it too.
		types = append([]string{"'symbol': 'VARCHAR'"}, types...)
	}
	return fmt.Sprintf("SELECT %s FROM read_json(%s, format = 'newline_delimited', columns = {%s}, %s)",
		cols, glob, strings.Join(types, ", "), hiveOpts), nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Result is a query's answer: column names, then rows of Go values.
type Result struct {
	Columns []string
	Rows    [][]any
	Elapsed time.Duration
}

// Query runs q.
func (e *Engine) Query(ctx context.Context, q string) (Result, error) {
	start := time.Now()
	rows, err := e.db.QueryContext(ctx, q)
	if err != nil {
		return Result{}, fmt.Errorf("duckdb query: %w", err)
	}
	defer rows.Close()
	var res Result
	if res.Columns, err = rows.Columns(); err != nil {
		return Result{}, err
	}
	for rows.Next() {
		vals := make([]any, len(res.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return Result{}, fmt.Errorf("duckdb row: %w", err)
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return Result{}, fmt.Errorf("duckdb query: %w", err)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// Close releases the database.
func (e *Engine) Close() error { return e.db.Close() }
