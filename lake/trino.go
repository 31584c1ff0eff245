package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Trino is a client of one Trino server's REST protocol (POST
// /v1/statement, then follow nextUri): Athena engine v3 is built on Trino,
// so a local Trino over the same objects measures what Athena's readers
// take from S3. It needs no driver: the protocol is JSON over HTTP.
type Trino struct {
	// URL is the server, e.g. http://127.0.0.1:8080.
	URL string
	// User is sent as X-Trino-User; default "tickbench".
	User string
	// Catalog and Schema are the session's defaults; may be empty.
	Catalog, Schema string
	// HTTP is the client; default http.DefaultClient.
	HTTP *http.Client
}

// TrinoResult is one statement's answer.
type TrinoResult struct {
	ID      string
	Columns []string
	Types   []string
	// Rows hold int64 for integer types, float64 for real and double,
	// bool, nil for NULL and the protocol's string for everything else
	// (varchar, timestamp(6) as "2026-11-25 23:00:00.123456", ...).
	Rows [][]any
	// PhysicalInputBytes is what the readers took from storage
	// (queryStats.physicalInputDataSize): the bytes Athena bills.
	PhysicalInputBytes int64
	Elapsed            time.Duration
}

// trinoResponse is the part of a QueryResults document the client reads.
type trinoResponse struct {
	ID      string `json:"id"`
	NextURI string `json:"nextUri"`
	Columns []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"columns"`
	Data  [][]json.RawMessage `json:"data"`
	Stats struct {
		State string `json:"state"`
	} `json:"stats"`
	Error *struct {
		Message   string `json:"message"`
		ErrorName string `json:"errorName"`
	} `json:"error"`
}

// Query runs one statement and returns all its rows and its physical input
// bytes. A cancelled ctx cancels the query on the server.
func (c *Trino) Query(ctx context.Context, sql string) (TrinoResult, error) {
	begin := time.Now()
	var res TrinoResult
	req, err := c.request(ctx, http.MethodPost, strings.TrimSuffix(c.URL, "/")+"/v1/statement", strings.NewReader(sql))
	if err != nil {
		return res, err
	}
	page, err := c.do(req)
	for err == nil {
		if res.ID == "" {
			res.ID = page.ID
		}
		if page.Error != nil {
			return res, fmt.Errorf("trino query %s: %s: %s", page.ID, page.Error.ErrorName, page.Error.Message)
		}
		if res.Columns == nil && page.Columns != nil {
			for _, col := range page.Columns {
				res.Columns = append(res.Columns, col.Name)
				res.Types = append(res.Types, col.Type)
			}
		}
		for _, raw := range page.Data {
			row, err := trinoRow(raw, res.Types)
			if err != nil {
				return res, fmt.Errorf("trino query %s: %w", page.ID, err)
			}
			res.Rows = append(res.Rows, row)
		}
		if page.NextURI == "" {
			break
		}
		next := page.NextURI
		if req, err = c.request(ctx, http.MethodGet, next, nil); err != nil {
			break
		}
		if page, err = c.do(req); err != nil && ctx.Err() != nil {
			c.cancel(next)
		}
	}
	if err != nil {
		return res, fmt.Errorf("trino query %s: %w", res.ID, err)
	}
	if res.PhysicalInputBytes, err = c.physicalInput(ctx, res.ID); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(begin)
	return res, nil
}

func (c *Trino) request(ctx context.Context, method, url string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, fmt.Errorf("trino: %w", err)
	}
	user := c.User
	if user == "" {
		user = "tickbench"
	}
	req.Header.Set("X-Trino-User", user)
	// Without it, timestamps come back rounded to milliseconds.
	req.Header.Set("X-Trino-Client-Capabilities", "PARAMETRIC_DATETIME")
	req.Header.Set("X-Trino-Time-Zone", "UTC")
	if c.Catalog != "" {
		req.Header.Set("X-Trino-Catalog", c.Catalog)
	}
	if c.Schema != "" {
		req.Header.Set("X-Trino-Schema", c.Schema)
	}
	return req, nil
}

func (c *Trino) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// do sends req and decodes a QueryResults page, retrying what the protocol
// says to retry (503 Service Unavailable: the server is busy).
func (c *Trino) do(req *http.Request) (*trinoResponse, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.client().Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", req.URL, err)
		}
		if resp.StatusCode == http.StatusServiceUnavailable && attempt < 20 && req.Method == http.MethodGet {
			select {
			case <-req.Context().Done():
				return nil, req.Context().Err()
			case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s %s: HTTP %d: %s", req.Method, req.URL, resp.StatusCode, bytes.TrimSpace(body))
		}
		var page trinoResponse
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, fmt.Errorf("decode %s: %w", req.URL, err)
		}
		return &page, nil
	}
}

// cancel asks the server to stop the query whose next page is at next.
func (c *Trino) cancel(next string) {
	ctx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if req, err := c.request(ctx, http.MethodDelete, next, nil); err == nil {
		if resp, err := c.client().Do(req); err == nil {
			resp.Body.Close()
		}
	}
}

// physicalInput reads the finished query's physical input bytes from its
// query info.
func (c *Trino) physicalInput(ctx context.Context, id string) (int64, error) {
	req, err := c.request(ctx, http.MethodGet, strings.TrimSuffix(c.URL, "/")+"/v1/query/"+id, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return 0, fmt.Errorf("trino query info %s: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return 0, fmt.Errorf("trino query info %s: HTTP %d: %s", id, resp.StatusCode, bytes.TrimSpace(b))
	}
	var info struct {
		QueryStats struct {
			PhysicalInputDataSize string `json:"physicalInputDataSize"`
		} `json:"queryStats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return 0, fmt.Errorf("trino query info %s: %w", id, err)
	}
	n, err := ParseDataSize(info.QueryStats.PhysicalInputDataSize)
	if err != nil {
		return 0, fmt.Errorf("trino query info %s: physicalInputDataSize: %w", id, err)
	}
	return n, nil
}

// dataSizeUnits are Airlift's DataSize units (powers of 1024).
var dataSizeUnits = map[string]float64{"B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40, "PB": 1 << 50}

// ParseDataSize reads an Airlift DataSize ("1597724B", "1.52MB"). Sizes
// in whole bytes are exact; others are as precise as written.
func ParseDataSize(s string) (int64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return 0, fmt.Errorf("data size %q: want a number and a unit (B, kB, MB, GB, TB, PB)", s)
	}
	unit, ok := dataSizeUnits[s[i:]]
	if !ok {
		return 0, fmt.Errorf("data size %q: unit %q, allowed B, kB, MB, GB, TB, PB", s, s[i:])
	}
	if unit == 1 {
		return strconv.ParseInt(s[:i], 10, 64)
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("data size %q: %w", s, err)
	}
	return int64(v*unit + 0.5), nil
}

// trinoRow converts one row of JSON values by the columns' types.
func trinoRow(raw []json.RawMessage, types []string) ([]any, error) {
	if len(raw) != len(types) {
		return nil, fmt.Errorf("a row of %d values for %d columns", len(raw), len(types))
	}
	row := make([]any, len(raw))
	for i, v := range raw {
		if string(v) == "null" {
			continue
		}
		typ := types[i]
		switch typ {
		case "bigint", "integer", "smallint", "tinyint":
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("column %d (%s): %s: %w", i, typ, v, err)
			}
			row[i] = n
		case "double", "real":
			// NaN and the infinities come as strings.
			var s string
			if json.Unmarshal(v, &s) == nil {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return nil, fmt.Errorf("column %d (%s): %s: %w", i, typ, v, err)
				}
				row[i] = f
				continue
			}
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				return nil, fmt.Errorf("column %d (%s): %s: %w", i, typ, v, err)
			}
			row[i] = f
		case "boolean":
			row[i] = string(v) == "true"
		default:
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				// Arrays, maps and rows stay as their JSON.
				row[i] = string(v)
				continue
			}
			row[i] = s
		}
	}
	return row, nil
}

// trinoTypes map the table's Hive types to Trino's. Timestamps are read
// at microseconds (hive.timestamp-precision=MICROSECONDS on the catalog).
var trinoTypes = map[string]string{"string": "varchar", "bigint": "bigint", "int": "integer", "double": "double", "timestamp": "timestamp(6)"}

// TrinoDDL is t's CREATE TABLE in Trino's Hive connector as
// catalog.database.name: DDL's columns, partition keys (last, as Hive
// wants them) and location, in Trino's syntax; JSON through the OpenX
// SerDe as on Athena.
func (t Table) TrinoDDL(catalog string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s.%s.%s (\n", catalog, t.Database, t.Name)
	cols := append(t.Columns(), t.PartitionKeys()...)
	for i, c := range cols {
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  %s %s%s\n", c.Name, trinoTypes[c.Type], sep)
	}
	format := "OPENX_JSON"
	if t.Parquet() {
		format = "PARQUET"
	}
	fmt.Fprintf(&b, ") WITH (\n  format = '%s',\n  external_location = '%s'", format, t.Location())
	if pk := t.PartitionKeys(); len(pk) > 0 {
		var names []string
		for _, k := range pk {
			names = append(names, "'"+k.Name+"'")
		}
		fmt.Fprintf(&b, ",\n  partitioned_by = ARRAY[%s]", strings.Join(names, ", "))
	}
	b.WriteString("\n)")
	return b.String()
}

// EnsureTrino (re)creates t in catalog from its definition and registers
// its partitions: Trino has no partition projection, so the partitions
// are the dt=/hour=/symbol= folders under the location now. Dropping the
// external table first keeps its definition current; its objects stay.
func EnsureTrino(ctx context.Context, c *Trino, catalog string, t Table) error {
	if err := t.Validate(); err != nil {
		return err
	}
	stmts := []string{
		fmt.Sprintf("CREATE SCHEMA IF NOT EXISTS %s.%s", catalog, t.Database),
		fmt.Sprintf("DROP TABLE IF EXISTS %s.%s.%s", catalog, t.Database, t.Name),
		t.TrinoDDL(catalog),
	}
	if len(t.PartitionKeys()) > 0 {
		stmts = append(stmts, fmt.Sprintf("CALL %s.system.sync_partition_metadata(schema_name => '%s', table_name => '%s', mode => 'FULL')",
			catalog, t.Database, t.Name))
	}
	for _, s := range stmts {
		if _, err := c.Query(ctx, s); err != nil {
			return fmt.Errorf("trino table %s.%s: %w", t.Database, t.Name, err)
		}
	}
	return nil
}
