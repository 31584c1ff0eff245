package lake

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/stack"
)

// The tests in this file run against the AWS API peer (moto in server mode)
// that `make test` starts with scripts/stack.sh and announces with
// TICKBENCH_LOCAL_STACK=1. Without it they skip; with it, a missing peer
// is a failure.

func localAWS(t *testing.T) aws.Config {
	t.Helper()
	if os.Getenv("TICKBENCH_LOCAL_STACK") == "" {
		t.Skip("needs the local AWS API peer: run `make test`, or `make up` and set TICKBENCH_LOCAL_STACK=1")
	}
	endpoint, region, err := stack.LocalAWS(filepath.Join(testrepo.Root(t), stack.LocalStateDir))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := AWS{Endpoint: endpoint, Region: region, AccessKey: "testing", SecretKey: "testing"}.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestLocalGlueTables creates every format x layout's table through Glue
// from the same definition the DDL prints, reads it back and compares;
// a second EnsureGlue with a changed location updates it in place.
func TestLocalGlueTables(t *testing.T) {
	cl := glue.NewFromConfig(localAWS(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := fmt.Sprintf("tickbench_test_%d", time.Now().UnixNano())
	for _, format := range []string{"json", "jsonl.gz", "parquet", "parquet-zstd"} {
		for _, layout := range sink.Layouts {
			tb := Table{Database: db, Name: TableName(format + "_" + string(layout)), Format: format, Layout: layout,
				Bucket: "tickbench", Prefix: "lake/runs/r1/" + format + "/", Symbols: []string{"AAAA", "BBBB"}}
			created, err := EnsureGlue(ctx, cl, tb)
			if err != nil {
				t.Fatal(err)
			}
			if !created {
				t.Errorf("%s: EnsureGlue of a new table reports an update", tb.Name)
			}
			got, err := GetGlue(ctx, cl, db, tb.Name)
			if err != nil {
				t.Fatal(err)
			}
			lib, in, out := tb.SerDe()
			wantParams := tb.Properties()
			wantParams["EXTERNAL"] = "TRUE"
			if !reflect.DeepEqual(got.Columns, tb.Columns()) || !sameCols(got.PartitionKeys, tb.PartitionKeys()) ||
				got.SerDe != lib || got.Input != in || got.Output != out || got.Location != tb.Location() ||
				!reflect.DeepEqual(got.Parameters, wantParams) {
				t.Errorf("%s read back from Glue differs from its definition:\n got %+v\nwant columns %v partitions %v serde %s %s %s location %s params %v",
					tb.Name, got, tb.Columns(), tb.PartitionKeys(), lib, in, out, tb.Location(), wantParams)
			}
			// The DDL and the Glue table say the same.
			ddl := tb.DDL()
			for _, c := range got.Columns {
				if !strings.Contains(ddl, fmt.Sprintf("`%s` %s", c.Name, c.Type)) {
					t.Errorf("%s: Glue column %s %s not in the DDL", tb.Name, c.Name, c.Type)
				}
			}
			for k, v := range got.Parameters {
				if k != "EXTERNAL" && !strings.Contains(ddl, fmt.Sprintf("'%s' = '%s'", k, v)) {
					t.Errorf("%s: Glue parameter %s=%s not in the DDL", tb.Name, k, v)
				}
			}
		}
	}
	tb := Table{Database: db, Name: TableName("parquet_dt-hour"), Format: "parquet", Layout: sink.LayoutHourly, Bucket: "tickbench", Prefix: "moved/"}
	created, err := EnsureGlue(ctx, cl, tb)
	if err != nil || created {
		t.Fatalf("EnsureGlue of an existing table: created %v, %v; want an update", created, err)
	}
	got, err := GetGlue(ctx, cl, db, tb.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Location != "s3://tickbench/moved/" || got.Parameters["storage.location.template"] != "s3://tickbench/moved/dt=${dt}/hour=${hour}/" {
		t.Errorf("after the update: location %s, template %s", got.Location, got.Parameters["storage.location.template"])
	}
	if _, err := GetGlue(ctx, cl, db, "no_such_table"); err == nil || !strings.Contains(err.Error(), "no_such_table") {
		t.Errorf("GetGlue of a missing table: %v", err)
	}
}

func sameCols(a, b []Column) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

// TestLocalAthenaRunner runs the start / poll / paged results code path.
// The peer does not execute SQL: it answers SUCCEEDED with no rows and 0
// bytes scanned, which is what is checked, with the bill at the minimum.
func TestLocalAthenaRunner(t *testing.T) {
	cl := athena.NewFromConfig(localAWS(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := RunAthena(ctx, cl, AthenaQuery{SQL: "SELECT count(*) FROM ticks_parquet", Database: "tickbench",
		Workgroup: "primary", Output: "s3://tickbench/athena-results/"})
	if err != nil {
		t.Fatal(err)
	}
	if res.ID == "" || res.State != "SUCCEEDED" || res.ScannedByte != 0 {
		t.Errorf("RunAthena = id %q state %s scanned %d; want an id, SUCCEEDED, 0", res.ID, res.State, res.ScannedByte)
	}
	if billed, _ := USEast1.AthenaBill(res.ScannedByte); billed != 10<<20 {
		t.Errorf("a query scanning 0 bytes is billed %d bytes, want the 10 MB minimum", billed)
	}
	if _, err := RunAthena(ctx, cl, AthenaQuery{SQL: "SELECT 1"}); err == nil || !strings.Contains(err.Error(), "workgroup") {
		t.Errorf("RunAthena without a workgroup: %v", err)
	}
}
