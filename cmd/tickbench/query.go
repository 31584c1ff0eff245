package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/athena"

	"github.com/tickbench/tickbench/lake"
	"github.com/tickbench/tickbench/stack"
)

func runQuery(ctx context.Context, args []string, env environment) error {
	fs := newFlagSet("query", env.stderr)
	engine := fs.String("engine", "duckdb", "where to run: duckdb (locally over the objects, downloaded), trino (the local Trino of make up, or --trino-url, reading S3 itself), athena")
	useAthena := fs.Bool("athena", false, "the same as --engine athena")
	trinoURL := fs.String("trino-url", env.getenv("TICKBENCH_TRINO_URL"), "Trino server for --engine trino (env TICKBENCH_TRINO_URL; default: the local one of make up)")
	trinoCatalog := fs.String("trino-catalog", "hive", "Hive connector catalog of --trino-url")
	workgroup := fs.String("workgroup", "primary", "Athena workgroup")
	output := fs.String("output", "", "s3:// location for Athena's result files (default: the workgroup's)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up (and stop the query) after this long")
	tf := addTableFlags(fs, false)
	a := awsFlags(fs, env)
	sc := stack.Default()
	stackName, brokers := stackFlags(fs, &sc, env)
	// The SQL is the one positional argument; flags may come before it.
	sql, rest := splitSQL(args)
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if sql == "" {
		return usageError{fmt.Errorf("no SQL given: tickbench query [flags] \"SELECT count(*) FROM ticks\"")}
	}
	if *timeout <= 0 {
		return usageError{fmt.Errorf("--timeout %v: allowed > 0", *timeout)}
	}
	if *useAthena {
		if *engine != "duckdb" && *engine != "athena" {
			return usageError{fmt.Errorf("--athena and --engine %s: give one", *engine)}
		}
		*engine = "athena"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	// --bucket (a stack flag) picks the bucket only when given.
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "bucket" {
			tf.bucket = sc.Bucket
		}
	})
	switch *engine {
	case "duckdb":
		if err := resolveStack(*stackName, *brokers, &sc, false, env); err != nil {
			return err
		}
		return runLocalQuery(ctx, sql, tf, sc, env)
	case "trino":
		return runTrinoQuery(ctx, sql, tf, *trinoURL, *trinoCatalog, env)
	case "athena":
	default:
		return usageError{fmt.Errorf("--engine %q: allowed duckdb, trino, athena", *engine)}
	}
	if *output != "" && !strings.HasPrefix(*output, "s3://") {
		return usageError{fmt.Errorf("--output %q: allowed an s3://bucket/prefix/ location", *output)}
	}
	cfg, err := a.Config(ctx)
	if err != nil {
		return err
	}
	res, err := lake.RunAthena(ctx, athena.NewFromConfig(cfg), lake.AthenaQuery{SQL: sql, Database: tf.database, Workgroup: *workgroup, Output: *output})
	if err != nil {
		return err
	}
	printRows(env.stdout, res.Rows)
	billed, usd := lake.USEast1.AthenaBill(res.ScannedByte)
	fmt.Fprintf(env.stdout, "athena query %s %s: %d rows, scanned %d bytes, billed %d bytes = $%.6f (%s prices), engine %v\n",
		res.ID, res.State, max(len(res.Rows)-1, 0), res.ScannedByte, billed, usd, lake.USEast1.Region, res.EngineTime)
	return nil
}

// splitSQL takes the first argument that is not a flag or a flag's value
// as the SQL. Flags that take a value are those not boolean.
func splitSQL(args []string) (sql string, rest []string) {
	bools := map[string]bool{"athena": true, "h": true, "help": true}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if i+1 < len(args) && sql == "" {
				sql = args[i+1]
				rest = append(rest, args[i+2:]...)
			}
			return sql, rest
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			rest = append(rest, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && !bools[name] && i+1 < len(args) {
				i++
				rest = append(rest, args[i])
			}
			continue
		}
		if sql == "" {
			sql = a
			continue
		}
		rest = append(rest, a)
	}
	return sql, rest
}

// printRows writes rows tab-separated, the first being the header.
func printRows(w io.Writer, rows [][]string) {
	for _, r := range rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
}
