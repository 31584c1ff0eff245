package lake

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/tickbench/tickbench/sink"
)

// Column is one column of the table in Athena (Hive DDL) types.
type Column struct {
	Name string
	Type string
}

// Table is the catalog definition of one strategy's landed objects.
type Table struct {
	Database string
	Name     string
	// Format is a sink format name (json, jsonl, jsonl.gz, parquet,
	// parquet-zstd); it decides the SerDe and the type of ts.
	Format string
	Layout sink.Layout
	// Bucket and Prefix locate the objects: s3://Bucket/Prefix, where
	// Prefix ends in a slash (bench: <prefix>runs/<run>/<strategy>/).
	Bucket, Prefix string
	// Symbols enumerate the symbol partition values of the dt-symbol
	// layout (partition projection of type enum); none makes the
	// projection "injected", so every query must name its symbol.
	Symbols []string
	// FirstDay is the first dt of the projection range (yyyy-MM-dd);
	// default 2020-01-01.
	FirstDay string
}

// Parquet reports whether the table's objects are Parquet.
func (t Table) Parquet() bool { return strings.HasPrefix(t.Format, "parquet") }

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,254}$`)

// Validate checks the names and the format and layout.
func (t Table) Validate() error {
	if !identRE.MatchString(t.Database) {
		return fmt.Errorf("database %q: allowed lower-case letters, digits and _, starting with a letter or _", t.Database)
	}
	if !identRE.MatchString(t.Name) {
		return fmt.Errorf("table %q: allowed lower-case letters, digits and _, starting with a letter or _", t.Name)
	}
	if _, err := sink.FormatByName(t.Format); err != nil {
		return fmt.Errorf("table format: %w", err)
	}
	if _, err := sink.ParseLayout(string(t.Layout)); err != nil {
		return fmt.Errorf("table layout: %w", err)
	}
	if t.Bucket == "" {
		return fmt.Errorf("table bucket: empty")
	}
	if t.Prefix != "" && !strings.HasSuffix(t.Prefix, "/") {
		return fmt.Errorf("table prefix %q: must end in /", t.Prefix)
	}
	for _, s := range t.Symbols {
		if s == "" || strings.ContainsAny(s, ",/=' ") {
			return fmt.Errorf("table symbol %q: allowed non-empty, without , / = ' or space", s)
		}
	}
	return nil
}

// Location is the table's S3 location, ending in a slash.
func (t Table) Location() string { return "s3://" + t.Bucket + "/" + t.Prefix }

// Columns are the data columns, named as the objects' fields. ts is
// TIMESTAMP in Parquet (TIMESTAMP(MICROS, UTC)) and the JSON's integer
// nanoseconds (BIGINT) otherwise. In the dt-symbol layout symbol is a
// partition key instead: Athena forbids a name in both lists.
func (t Table) Columns() []Column {
	ts := "bigint"
	if t.Parquet() {
		ts = "timestamp"
	}
	cols := []Column{
		{"symbol", "string"}, {"seq", "bigint"}, {"ts", ts}, {"price", "double"}, {"size", "bigint"},
		{"bid", "double"}, {"ask", "double"}, {"bid_size", "bigint"}, {"ask_size", "bigint"}, {"exchange", "string"},
	}
	if t.Layout == sink.LayoutSymbol {
		cols = cols[1:]
	}
	return cols
}

// PartitionKeys are the Hive partition columns of the layout.
func (t Table) PartitionKeys() []Column {
	switch t.Layout {
	case sink.LayoutHourly:
		return []Column{{"dt", "string"}, {"hour", "int"}}
	case sink.LayoutSymbol:
		return []Column{{"dt", "string"}, {"symbol", "string"}}
	}
	return nil
}

// SerDe returns the serialization library and the input and output formats.
func (t Table) SerDe() (lib, input, output string) {
	if t.Parquet() {
		return "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
			"org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
			"org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	}
	// Hadoop's text input format reads .gz objects decompressed.
	return "org.openx.data.jsonserde.JsonSerDe",
		"org.apache.hadoop.mapred.TextInputFormat",
		"org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
}

// Properties are the TBLPROPERTIES: the classification, and partition
// projection for partitioned layouts so that no crawler or MSCK REPAIR is
// needed.
func (t Table) Properties() map[string]string {
	p := map[string]string{"classification": "json"}
	if t.Parquet() {
		p["classification"] = "parquet"
	}
	if strings.HasSuffix(t.Format, ".gz") {
		p["compressionType"] = "gzip"
	}
	if t.Layout == sink.LayoutNone {
		return p
	}
	first := t.FirstDay
	if first == "" {
		first = "2020-01-01"
	}
	p["projection.enabled"] = "true"
	p["projection.dt.type"] = "date"
	p["projection.dt.format"] = "yyyy-MM-dd"
	p["projection.dt.range"] = first + ",NOW+1DAYS"
	p["projection.dt.interval"] = "1"
	p["projection.dt.interval.unit"] = "DAYS"
	switch t.Layout {
	case sink.LayoutHourly:
		p["projection.hour.type"] = "integer"
		p["projection.hour.range"] = "0,23"
		p["projection.hour.digits"] = "2"
		p["storage.location.template"] = t.Location() + "dt=${dt}/hour=${hour}/"
	case sink.LayoutSymbol:
		if len(t.Symbols) > 0 {
			p["projection.symbol.type"] = "enum"
			p["projection.symbol.values"] = strings.Join(t.Symbols, ",")
		} else {
			p["projection.symbol.type"] = "injected"
		}
		p["storage.location.template"] = t.Location() + "dt=${dt}/symbol=${symbol}/"
	}
	return p
}

// DDL is Athena's CREATE EXTERNAL TABLE statement for t.
func (t Table) DDL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS `%s`.`%s` (\n", t.Database, t.Name)
	writeCols(&b, t.Columns())
	b.WriteString(")\n")
	if pk := t.PartitionKeys(); len(pk) > 0 {
		b.WriteString("PARTITIONED BY (\n")
		writeCols(&b, pk)
		b.WriteString(")\n")
	}
	lib, in, out := t.SerDe()
	fmt.Fprintf(&b, "ROW FORMAT SERDE '%s'\n", lib)
	if !t.Parquet() {
		// Malformed lines fail the query rather than reading as NULLs.
		b.WriteString("WITH SERDEPROPERTIES ('ignore.malformed.json' = 'false')\n")
	}
	fmt.Fprintf(&b, "STORED AS INPUTFORMAT '%s'\nOUTPUTFORMAT '%s'\n", in, out)
	fmt.Fprintf(&b, "LOCATION '%s'\n", t.Location())
	b.WriteString("TBLPROPERTIES (\n")
	props := t.Properties()
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		sep := ","
		if i == len(keys)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  '%s' = '%s'%s\n", k, props[k], sep)
	}
	b.WriteString(")")
	return b.String()
}

func writeCols(b *strings.Builder, cols []Column) {
	for i, c := range cols {
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "  `%s` %s%s\n", c.Name, c.Type, sep)
	}
}

// TableName is the default table name of a strategy: ticks_ and the name
// with every character other than a letter or digit replaced by _.
func TableName(strategy string) string {
	b := []byte("ticks_" + strings.ToLower(strategy))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}
