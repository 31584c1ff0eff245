package iceberg_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsglue "github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/tickbench/tickbench/internal/testrepo"
	"github.com/tickbench/tickbench/sink"
	"github.com/tickbench/tickbench/sink/iceberg"
	"github.com/tickbench/tickbench/stack"
	"github.com/tickbench/tickbench/tick"
)

// TestLocalGlueTable commits to an Iceberg table in the Glue catalog of the
// local AWS API peer (moto), its objects on the local S3 server: Glue then
// holds the table as Athena reads an Iceberg table (table_type ICEBERG, the
// current metadata_location), and the commit's offsets read back.
func TestLocalGlueTable(t *testing.T) {
	if os.Getenv("TICKBENCH_LOCAL_STACK") == "" {
		t.Skip("needs the local stack's S3 server and AWS API peer: run `make test`, or `make up` and set TICKBENCH_LOCAL_STACK=1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(testrepo.Root(t), stack.LocalStateDir)
	sc, err := stack.Local(dir)
	if err != nil {
		t.Fatal(err)
	}
	endpoint, region, err := stack.LocalAWS(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := stack.Start(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := aws.Config{Region: region, BaseEndpoint: aws.String(endpoint), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	cat, err := iceberg.OpenGlue(cfg, iceberg.S3{Endpoint: st.S3Endpoint, Region: st.Region, AccessKey: st.AccessKey, SecretKey: st.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	name := "glue_" + time.Now().UTC().Format("150405")
	loc := "s3://" + st.Bucket + "/glue-test/" + name
	tbl, err := iceberg.Open(ctx, cat, "tickbench", name, loc, sink.LayoutHourly, "zstd")
	if err != nil {
		t.Fatal(err)
	}

	format, _ := sink.FormatByName("parquet-zstd")
	enc := format.NewEncoder()
	at := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC).UnixNano()
	for i := range 100 {
		tk := tick.Tick{Symbol: "AAPL", Seq: uint64(i), Intended: at + int64(i)*int64(time.Millisecond), Price: 100, Size: 1, Bid: 99, Ask: 101, BidSize: 1, AskSize: 1, Exchange: "XNAS"}
		if err := enc.Append(&tk); err != nil {
			t.Fatal(err)
		}
	}
	body, err := enc.Finish()
	if err != nil {
		t.Fatal(err)
	}
	key := "glue-test/" + name + "/data/dt=2026-12-07/hour=15/ticks+0+00000000000000000000.parquet"
	if _, err := (sink.S3Store{Client: st.S3, Bucket: st.Bucket}).Put(ctx, key, body, "application/vnd.apache.parquet", false); err != nil {
		t.Fatal(err)
	}
	stats, err := sink.ReadFileStats(body)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tbl.Commit(ctx, sink.Commit{Topic: "ticks", Group: "g", Batches: []sink.CommitBatch{{Partition: 0, Start: 0, Next: 100,
		Files: []sink.Landed{{Key: key, Bytes: len(body), Ticks: 100, Stats: stats}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 1 || res.MetadataPuts < 3 {
		t.Fatalf("commit %+v: want 1 file added with >= 3 metadata PUTs (Glue's API calls not counted as S3's)", res)
	}
	in, err := tbl.Info(ctx, "ticks")
	if err != nil {
		t.Fatal(err)
	}
	if in.Records != 100 || in.Offsets[0] != 100 {
		t.Fatalf("table: %d records, offsets %v; want 100, partition 0 at 100", in.Records, in.Offsets)
	}
	gt, err := awsglue.NewFromConfig(cfg).GetTable(ctx, &awsglue.GetTableInput{DatabaseName: aws.String("tickbench"), Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	p := gt.Table.Parameters
	if p["table_type"] != "ICEBERG" || p["metadata_location"] != in.MetadataLocation {
		t.Fatalf("glue table parameters %v: want table_type ICEBERG and metadata_location %s", p, in.MetadataLocation)
	}
	t.Logf("glue table tickbench.%s: %v", name, p)
}
