package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tickbench/tickbench/lake/localsql"
	"github.com/tickbench/tickbench/stack"
)

// runLocalQuery downloads the table's objects from the stack's S3 and runs
// sql over them with DuckDB; the rows go to stdout, a summary to stderr.
func runLocalQuery(ctx context.Context, sql string, tf *tableFlags, sc stack.Config, env environment) error {
	t, _, _, err := tf.resolve()
	if err != nil {
		return err
	}
	sc.Bucket = t.Bucket
	st, err := stack.Start(ctx, sc)
	if err != nil {
		return fmt.Errorf("query: start the stack to read %s: %w", t.Location(), err)
	}
	defer st.Close()
	dir, err := os.MkdirTemp("", "tickbench-query-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	begin := time.Now()
	objects, bytes, err := localsql.Download(ctx, st.S3, t, dir)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	e, err := localsql.Open(ctx, t, dir)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer e.Close()
	res, err := e.Query(ctx, sql)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, strings.Join(res.Columns, "\t"))
	for _, r := range res.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = formatValue(v)
		}
		fmt.Fprintln(env.stdout, strings.Join(cells, "\t"))
	}
	fmt.Fprintf(env.stderr, "local duckdb on %s (%s %s, %s stack): %d rows in %v; %d objects, %d bytes downloaded in %v\n",
		t.Location(), t.Format, t.Layout, st.Kind.Name, len(res.Rows), res.Elapsed.Round(time.Millisecond),
		objects, bytes, (time.Since(begin) - res.Elapsed).Round(time.Millisecond))
	return nil
}

func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.999999")
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}
