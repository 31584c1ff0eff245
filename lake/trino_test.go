package lake

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tickbench/tickbench/sink"
)

func TestParseDataSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{{"0B", 0}, {"1597724B", 1597724}, {"1.50kB", 1536}, {"2MB", 2 << 20}, {"1.25GB", 5 << 28}} {
		got, err := ParseDataSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseDataSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "B", "12", "12XB", "1.2.3MB", "-1B"} {
		if _, err := ParseDataSize(bad); err == nil {
			t.Errorf("ParseDataSize(%q): no error", bad)
		}
	}
}

func TestTrinoRow(t *testing.T) {
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(`[9007199254740993, 1.5, "NaN", "AAPL", "2026-11-25 23:00:00.123456", null, true, [1,2]]`), &raw); err != nil {
		t.Fatal(err)
	}
	types := []string{"bigint", "double", "double", "varchar", "timestamp(6)", "integer", "boolean", "array(integer)"}
	got, err := trinoRow(raw, types)
	if err != nil {
		t.Fatal(err)
	}
	// bigint stays exact above 2^53; NaN comes as a string.
	if got[0] != int64(9007199254740993) || got[1] != 1.5 || got[2].(float64) == got[2].(float64) ||
		got[3] != "AAPL" || got[4] != "2026-11-25 23:00:00.123456" || got[5] != nil || got[6] != true || got[7] != "[1,2]" {
		t.Errorf("trinoRow = %#v", got)
	}
	if _, err := trinoRow(raw[:2], types); err == nil {
		t.Error("a row shorter than its columns: no error")
	}
	if _, err := trinoRow([]json.RawMessage{json.RawMessage(`"x"`)}, []string{"bigint"}); err == nil || !strings.Contains(err.Error(), "bigint") {
		t.Errorf("a string in a bigint column: %v", err)
	}
}

func TestTrinoDDL(t *testing.T) {
	tb := Table{Database: "tickbench", Name: "ticks_p", Format: "parquet", Layout: sink.LayoutHourly, Bucket: "b", Prefix: "runs/r/p/"}
	want := `CREATE TABLE hive.tickbench.ticks_p (
  symbol varchar,
  seq bigint,
  ts timestamp(6),
  price double,
  size bigint,
  bid double,
  ask double,
  bid_size bigint,
  ask_size bigint,
  exchange varchar,
  dt varchar,
  hour integer
) WITH (
  format = 'PARQUET',
  external_location = 's3://b/runs/r/p/',
  partitioned_by = ARRAY['dt', 'hour']
)`
	if got := tb.TrinoDDL("hive"); got != want {
		t.Errorf("TrinoDDL:\n%s\nwant\n%s", got, want)
	}
	// JSON through the OpenX SerDe, as on Athena; dt-symbol's symbol is a
	// partition key only; none has no partitions.
	tb = Table{Database: "d", Name: "t", Format: "jsonl.gz", Layout: sink.LayoutSymbol, Bucket: "b"}
	got := tb.TrinoDDL("hive")
	for _, w := range []string{"ts bigint", "format = 'OPENX_JSON'", "partitioned_by = ARRAY['dt', 'symbol']", "dt varchar,\n  symbol varchar\n)"} {
		if !strings.Contains(got, w) {
			t.Errorf("TrinoDDL of jsonl.gz dt-symbol lacks %q:\n%s", w, got)
		}
	}
	if strings.Count(got, "symbol varchar") != 1 {
		t.Errorf("symbol twice:\n%s", got)
	}
	tb.Layout = sink.LayoutNone
	if got := tb.TrinoDDL("hive"); strings.Contains(got, "partitioned_by") {
		t.Errorf("layout none has partitions:\n%s", got)
	}
	for _, f := range []string{"json", "parquet"} {
		for _, l := range sink.Layouts {
			tb := Table{Format: f, Layout: l}
			for _, c := range append(tb.Columns(), tb.PartitionKeys()...) {
				if trinoTypes[c.Type] == "" {
					t.Errorf("%s %s: column %s of type %s has no Trino type", f, l, c.Name, c.Type)
				}
			}
		}
	}
}
