package main

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLakeCommandsRejectBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"catalog", "--prefix", "p/", "--strategy", "jsonl"}, "give one of --ddl or --glue"},
		{[]string{"catalog", "--ddl", "--prefix", "p/"}, "--prefix \"p/\": needs --strategy"},
		{[]string{"catalog", "--ddl", "--prefix", "p/", "--strategy", "csv"}, `strategy "csv": allowed`},
		{[]string{"catalog", "--ddl", "--prefix", "p/", "--strategy", "jsonl", "--layout", "daily"}, `layout "daily": allowed`},
		{[]string{"catalog", "--ddl", "--prefix", "p", "--strategy", "jsonl"}, `prefix "p": must end in /`},
		{[]string{"catalog", "--ddl", "--results", dir}, "no result files in " + dir},
		{[]string{"catalog", "--ddl", "--result", filepath.Join(dir, "nope.json")}, "no such file"},
		{[]string{"query", "--results", dir}, "no SQL given"},
		{[]string{"query", "--athena", "--output", "bucket/x", "SELECT 1"}, `--output "bucket/x": allowed an s3://`},
		{[]string{"query", "--results", dir, "SELECT 1"}, "no result files"},
		{[]string{"query", "--engine", "presto", "SELECT 1"}, `--engine "presto": allowed duckdb, trino, athena`},
		{[]string{"query", "--athena", "--engine", "trino", "SELECT 1"}, "--athena and --engine trino: give one"},
		{[]string{"query", "--engine", "trino", "--results", dir, "SELECT 1"}, "no result files"},
	} {
		env, _, _ := testEnv()
		err := run(context.Background(), c.args, env)
		var u usageError
		if err == nil || !errors.As(err, &u) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want a usage error containing %q", c.args, err, c.want)
		}
	}
}

func TestCatalogDDLFromPrefix(t *testing.T) {
	env, out, _ := testEnv()
	if err := run(context.Background(), []string{"catalog", "--ddl", "--prefix", "lake/", "--strategy", "parquet-zstd",
		"--layout", "dt-symbol", "--symbols", "2", "--bucket", "bkt", "--table", "t1"}, env); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CREATE EXTERNAL TABLE IF NOT EXISTS `tickbench`.`t1`", "`ts` timestamp", "PARTITIONED BY",
		"LOCATION 's3://bkt/lake/'", "'projection.symbol.values' = 'FYYB,GKQQ'", "ParquetHiveSerDe"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("DDL lacks %q:\n%s", want, out)
		}
	}
}

func TestSplitSQL(t *testing.T) {
	sql, rest := splitSQL([]string{"--athena", "--workgroup", "w", "SELECT 1", "--output=s3://b/", "-timeout", "1m"})
	if sql != "SELECT 1" || !reflect.DeepEqual(rest, []string{"--athena", "--workgroup", "w", "--output=s3://b/", "-timeout", "1m"}) {
		t.Errorf("splitSQL = %q %q", sql, rest)
	}
	if sql, _ := splitSQL([]string{"--", "-1"}); sql != "-1" {
		t.Errorf("SQL after -- = %q", sql)
	}
}
