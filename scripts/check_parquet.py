"""Read a tickbench Parquet object with pyarrow, an independent reader, and
check what other engines (Athena/Trino, DuckDB, Spark) rely on: the row
count, the column types (ts as timestamp[us, tz=UTC], never ns), min/max
statistics on every column chunk, and dictionary-encoded symbols.

Usage: check_parquet.py FILE EXPECTED_ROWS [--expect-jsonl JSONL]

With --expect-jsonl, every row must also equal the same line of JSONL (the
ticks as tickbench's JSON lines), with ts compared at microsecond precision.
Prints the schema; exits 1 naming each failed check.
"""

import argparse
import datetime
import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq

UTC_TS_US = pa.timestamp("us", tz="UTC")
WANT_TYPES = {
    "symbol": (pa.string(),),
    "seq": (pa.int64(),),
    "ts": (UTC_TS_US,),
    "price": (pa.float64(),),
    "size": (pa.int32(), pa.int64()),
    "bid": (pa.float64(),),
    "ask": (pa.float64(),),
    "bid_size": (pa.int32(), pa.int64()),
    "ask_size": (pa.int32(), pa.int64()),
    "exchange": (pa.string(),),
}
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def check(path, expected_rows, jsonl):
    problems = []
    pf = pq.ParquetFile(path)
    meta = pf.metadata
    schema = pf.schema_arrow
    print(f"{path}: {meta.num_rows} rows in {meta.num_row_groups} row groups, created by {meta.created_by}")
    print(schema)

    if meta.num_rows != expected_rows:
        problems.append(f"footer has {meta.num_rows} rows, want {expected_rows}")
    names = schema.names
    if names != list(WANT_TYPES):
        problems.append(f"columns {names}, want {list(WANT_TYPES)}")
    for name, allowed in WANT_TYPES.items():
        if name in names and schema.field(name).type not in allowed:
            want = " or ".join(str(t) for t in allowed)
            problems.append(f"column {name}: type {schema.field(name).type}, want {want}")

    for rg in range(meta.num_row_groups):
        group = meta.row_group(rg)
        for c in range(group.num_columns):
            col = group.column(c)
            # Athena and Spark find chunks by path (parquet-go issue #602).
            if c < len(names) and col.path_in_schema != names[c]:
                problems.append(f"row group {rg} column {c}: path_in_schema {col.path_in_schema!r}, want {names[c]!r}")
            stats = col.statistics
            if stats is None or not stats.has_min_max:
                problems.append(f"row group {rg} column {col.path_in_schema}: no min/max statistics")
            if col.path_in_schema == "symbol" and "RLE_DICTIONARY" not in col.encodings:
                problems.append(f"row group {rg} column symbol: encodings {col.encodings}, want RLE_DICTIONARY")

    table = pf.read()
    if table.num_rows != expected_rows:
        problems.append(f"read {table.num_rows} rows, want {expected_rows}")
    if jsonl is not None:
        problems += compare(table, jsonl)
    return problems


def compare(table, jsonl):
    """Row i of table against line i of jsonl; reports the first few diffs."""
    problems = []
    with open(jsonl, encoding="utf-8") as f:
        want = [json.loads(line) for line in f]
    if len(want) != table.num_rows:
        return [f"{jsonl} has {len(want)} ticks, the file {table.num_rows} rows"]
    cols = {name: table.column(name).to_pylist() for name in table.column_names}
    for i, w in enumerate(want):
        for name in WANT_TYPES:
            got = cols[name][i]
            if name == "ts":
                got = (got - EPOCH) // datetime.timedelta(microseconds=1)
                exp = w["ts"] // 1000
            else:
                exp = w[name]
            if got != exp:
                problems.append(f"row {i + 1} column {name}: {got!r}, want {exp!r}")
                if len(problems) >= 10:
                    return problems
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("expected_rows", type=int)
    ap.add_argument("--expect-jsonl", metavar="JSONL")
    args = ap.parse_args()
    problems = check(args.file, args.expected_rows, args.expect_jsonl)
    for p in problems:
        print(f"FAIL {args.file}: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"OK {args.file}: pyarrow {pa.__version__} read {args.expected_rows} rows")


if __name__ == "__main__":
    main()
