package lake

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tickbench/tickbench/sink"
)

// parsedDDL is the structure of a CREATE EXTERNAL TABLE statement, read
// back by a parser that knows nothing of Table.
type parsedDDL struct {
	db, table        string
	cols, parts      [][2]string
	serde, in, out   string
	location         string
	props            map[string]string
	serdeProps       map[string]string
	hasPartitionedBy bool
}

var (
	headRE  = regexp.MustCompile("(?s)^CREATE EXTERNAL TABLE IF NOT EXISTS `([a-z0-9_]+)`\\.`([a-z0-9_]+)` \\((.*?)\\)\n(.*)$")
	colRE   = regexp.MustCompile("^`([a-z_][a-z0-9_]*)` ([a-z]+(?:\\(\\d+(?:,\\d+)?\\))?)$")
	partRE  = regexp.MustCompile("(?s)^PARTITIONED BY \\((.*?)\\)\n(.*)$")
	serdeRE = regexp.MustCompile("(?s)^ROW FORMAT SERDE '([^']+)'\n(?:WITH SERDEPROPERTIES \\(([^)]*)\\)\n)?STORED AS INPUTFORMAT '([^']+)'\nOUTPUTFORMAT '([^']+)'\nLOCATION '([^']+)'\nTBLPROPERTIES \\((.*)\\)$")
	kvRE    = regexp.MustCompile(`^'([^']+)' = '([^']*)'$`)
)

func parseDDL(t *testing.T, ddl string) parsedDDL {
	t.Helper()
	m := headRE.FindStringSubmatch(ddl)
	if m == nil {
		t.Fatalf("DDL does not start with CREATE EXTERNAL TABLE `db`.`table` (...):\n%s", ddl)
	}
	p := parsedDDL{db: m[1], table: m[2], cols: parseCols(t, m[3])}
	rest := m[4]
	if pm := partRE.FindStringSubmatch(rest); pm != nil {
		p.hasPartitionedBy = true
		p.parts = parseCols(t, pm[1])
		rest = pm[2]
	}
	sm := serdeRE.FindStringSubmatch(rest)
	if sm == nil {
		t.Fatalf("DDL clauses after the columns do not parse:\n%s", rest)
	}
	p.serde, p.in, p.out, p.location = sm[1], sm[3], sm[4], sm[5]
	p.serdeProps = parseKVs(t, sm[2])
	p.props = parseKVs(t, sm[6])
	return p
}

func parseCols(t *testing.T, s string) [][2]string {
	var out [][2]string
	for _, item := range strings.Split(strings.TrimSpace(s), ",\n") {
		m := colRE.FindStringSubmatch(strings.TrimSpace(item))
		if m == nil {
			t.Fatalf("column %q does not parse as `name` type", item)
		}
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

func parseKVs(t *testing.T, s string) map[string]string {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out
	}
	for _, item := range strings.Split(strings.TrimSpace(s), ",\n") {
		item = strings.TrimSpace(item)
		if !strings.Contains(s, "\n") { // one-line list
			item = strings.TrimSpace(s)
		}
		m := kvRE.FindStringSubmatch(item)
		if m == nil {
			t.Fatalf("property %q does not parse as 'key' = 'value'", item)
		}
		if _, dup := out[m[1]]; dup {
			t.Fatalf("property %q given twice", m[1])
		}
		out[m[1]] = m[2]
	}
	return out
}

// athenaTypes are the Hive DDL types Athena accepts for these columns.
var athenaTypes = map[string]bool{"boolean": true, "tinyint": true, "smallint": true, "int": true, "bigint": true,
	"double": true, "float": true, "string": true, "timestamp": true, "date": true}

func TestDDLStructure(t *testing.T) {
	for _, format := range []string{"json", "jsonl", "jsonl.gz", "parquet", "parquet-zstd"} {
		for _, layout := range sink.Layouts {
			t.Run(format+"/"+string(layout), func(t *testing.T) {
				tb := Table{Database: "tickbench", Name: "ticks_x", Format: format, Layout: layout,
					Bucket: "bkt", Prefix: "lake/runs/r1/jsonl/", Symbols: []string{"AAAA", "BBBB"}}
				if err := tb.Validate(); err != nil {
					t.Fatal(err)
				}
				p := parseDDL(t, tb.DDL())
				if p.db != "tickbench" || p.table != "ticks_x" {
					t.Errorf("name %s.%s, want tickbench.ticks_x", p.db, p.table)
				}
				if p.location != "s3://bkt/lake/runs/r1/jsonl/" {
					t.Errorf("LOCATION %q", p.location)
				}
				names := map[string]string{}
				for _, c := range append(append([][2]string{}, p.cols...), p.parts...) {
					if !athenaTypes[c[1]] {
						t.Errorf("column %s has type %q, unknown to Athena", c[0], c[1])
					}
					if _, dup := names[c[0]]; dup {
						t.Errorf("column %s both a data column and a partition key", c[0])
					}
					names[c[0]] = c[1]
				}
				parquet := strings.HasPrefix(format, "parquet")
				wantTS := map[bool]string{true: "timestamp", false: "bigint"}[parquet]
				for name, typ := range map[string]string{"seq": "bigint", "ts": wantTS, "price": "double", "size": "bigint",
					"bid": "double", "ask": "double", "bid_size": "bigint", "ask_size": "bigint", "exchange": "string", "symbol": "string"} {
					if names[name] != typ {
						t.Errorf("column %s: type %q, want %q", name, names[name], typ)
					}
				}
				if parquet {
					if !strings.Contains(p.serde, "ParquetHiveSerDe") || !strings.Contains(p.in, "MapredParquetInputFormat") {
						t.Errorf("Parquet table with SerDe %s, input %s", p.serde, p.in)
					}
				} else {
					if p.serde != "org.openx.data.jsonserde.JsonSerDe" || p.in != "org.apache.hadoop.mapred.TextInputFormat" {
						t.Errorf("JSON table with SerDe %s, input %s", p.serde, p.in)
					}
				}
				switch layout {
				case sink.LayoutNone:
					if p.hasPartitionedBy {
						t.Errorf("layout none is partitioned by %v", p.parts)
					}
					if _, ok := p.props["projection.enabled"]; ok {
						t.Errorf("layout none has partition projection")
					}
				case sink.LayoutHourly:
					wantParts(t, p.parts, [][2]string{{"dt", "string"}, {"hour", "int"}})
					wantProps(t, p.props, map[string]string{"projection.enabled": "true", "projection.dt.type": "date",
						"projection.dt.format": "yyyy-MM-dd", "projection.hour.type": "integer", "projection.hour.range": "0,23",
						"projection.hour.digits": "2", "storage.location.template": p.location + "dt=${dt}/hour=${hour}/"})
				case sink.LayoutSymbol:
					wantParts(t, p.parts, [][2]string{{"dt", "string"}, {"symbol", "string"}})
					wantProps(t, p.props, map[string]string{"projection.enabled": "true", "projection.dt.type": "date",
						"projection.symbol.type": "enum", "projection.symbol.values": "AAAA,BBBB",
						"storage.location.template": p.location + "dt=${dt}/symbol=${symbol}/"})
				}
				// Every projected key is a partition key and vice versa.
				for k := range p.props {
					if rest, ok := strings.CutPrefix(k, "projection."); ok && rest != "enabled" {
						col, _, _ := strings.Cut(rest, ".")
						found := false
						for _, pk := range p.parts {
							found = found || pk[0] == col
						}
						if !found {
							t.Errorf("property %s projects %q, not a partition key", k, col)
						}
					}
				}
				// The template's dirs are exactly what the sink writes.
				if tpl := p.props["storage.location.template"]; tpl != "" {
					dir := strings.NewReplacer("${dt}", "2026-11-25", "${hour}", "07", "${symbol}", "AAAA").Replace(tpl)
					if !strings.HasSuffix(dir, sinkDir(layout)) {
						t.Errorf("template %s gives %s, the sink writes ...%s", tpl, dir, sinkDir(layout))
					}
				}
			})
		}
	}
}

func sinkDir(l sink.Layout) string {
	if l == sink.LayoutHourly {
		return "dt=2026-11-25/hour=07/"
	}
	return "dt=2026-11-25/symbol=AAAA/"
}

func wantParts(t *testing.T, got, want [][2]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("partition keys %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("partition key %d: %v, want %v", i, got[i], want[i])
		}
	}
}

func wantProps(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("TBLPROPERTIES %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestTableValidate(t *testing.T) {
	ok := Table{Database: "d", Name: "t", Format: "jsonl", Layout: sink.LayoutHourly, Bucket: "b", Prefix: "p/"}
	for _, c := range []struct {
		mod  func(*Table)
		want string
	}{
		{func(t *Table) { t.Database = "Bad-Name" }, `database "Bad-Name"`},
		{func(t *Table) { t.Name = "" }, `table ""`},
		{func(t *Table) { t.Format = "csv" }, `csv`},
		{func(t *Table) { t.Layout = "daily" }, `layout "daily"`},
		{func(t *Table) { t.Prefix = "p" }, `prefix "p": must end in /`},
		{func(t *Table) { t.Symbols = []string{"A,B"} }, `symbol "A,B"`},
	} {
		tb := ok
		c.mod(&tb)
		err := tb.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate = %v, want an error containing %s", err, c.want)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid table: %v", err)
	}
}
