package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/stack"
)

// runTrinoQuery runs sql on Trino over the table's objects where they lie
// in S3: it (re)creates the table from its definition, registers its
// partitions, points the view ticks at it, and prints the rows, then the
// bytes Trino's readers took from S3 and the Athena bill they would make.
func runTrinoQuery(ctx context.Context, sql string, tf *tableFlags, url, catalog string, env environment) error {
	t, res, _, err := tf.resolve()
	if err != nil {
		return err
	}
	if url == "" {
		local, err := stack.LocalTrino(stack.LocalStateDir)
		if err != nil {
			return fmt.Errorf("query --engine trino: %w, or give --trino-url", err)
		}
		// The local Trino reads the local S3 server only.
		if res != nil && res.Stack.Name != "local" {
			return usageError{fmt.Errorf("query --engine trino: the run of %s landed on the %s stack's S3; the local Trino reads %s (bench with --stack local, or give --trino-url)",
				t.Location(), res.Stack.Name, local.S3Endpoint)}
		}
		url, catalog = local.URL, local.Catalog
	}
	c := &lake.Trino{URL: url, Catalog: catalog, Schema: t.Database}
	begin := time.Now()
	if err := lake.EnsureTrino(ctx, c, catalog, t); err != nil {
		return fmt.Errorf("query --engine trino: %w", err)
	}
	if t.Name != "ticks" {
		view := fmt.Sprintf("CREATE OR REPLACE VIEW %s.%s.ticks AS SELECT * FROM %s.%s.%s", catalog, t.Database, catalog, t.Database, t.Name)
		if _, err := c.Query(ctx, view); err != nil {
			return fmt.Errorf("query --engine trino: view ticks: %w", err)
		}
	}
	setup := time.Since(begin)
	r, err := c.Query(ctx, sql)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, strings.Join(r.Columns, "\t"))
	for _, row := range r.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = formatValue(v)
		}
		fmt.Fprintln(env.stdout, strings.Join(cells, "\t"))
	}
	billed, usd := lake.USEast1.AthenaBill(r.PhysicalInputBytes)
	fmt.Fprintf(env.stdout, "trino query %s on %s (%s %s): %d rows, read %d bytes from S3 (physical input), billed as %d bytes = $%.6f (%s prices), in %v\n",
		r.ID, t.Location(), t.Format, t.Layout, len(r.Rows), r.PhysicalInputBytes, billed, usd, lake.USEast1.Region, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(env.stderr, "table %s.%s.%s (re)created and its partitions registered in %v\n", catalog, t.Database, t.Name, setup.Round(time.Millisecond))
	return nil
}
