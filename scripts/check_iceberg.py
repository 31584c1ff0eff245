"""Read an Iceberg table through its REST catalog with pyiceberg and pyarrow,
a client independent of the writer's, and print what tests compare with what
they wrote, as one JSON object:

  rows           rows read by scanning the data files (not the summaries)
  distinct       distinct (symbol, seq) pairs among them, or null without
                 those columns
  manifest_rows  the data files' record counts from the manifests
  data_files, data_bytes, delete_files   of the current snapshot's scan
  schema         column -> Iceberg type (the sink's ts should be timestamptz)
  partition_spec the current spec, e.g. ["hour(ts)"]
  format_version
  current        the current snapshot: id, sequence number, summary (or null)
  snapshots      every snapshot, oldest first: id, parent, sequence number,
                 timestamp_ms, and its summary with every property (the
                 writer's own, e.g. Kafka offsets, included)

Usage: check_iceberg.py --uri URI --table NS.NAME [--s3-endpoint URL] [--s3-region R]

Run it with the venv of `scripts/pyenv.sh pyiceberg`. The catalog of
scripts/iceberg.sh hands out the S3 endpoint and keys itself; for another
catalog, --s3-endpoint (default $S3_ENDPOINT), --s3-region (default
$S3_REGION) and the keys in $S3_ACCESS_KEY / $S3_SECRET_KEY (environment
only, so they never show in ps) become catalog properties, path-style.
Exits 1 with a message on stderr if the table cannot be loaded or read.
"""

import argparse
import json
import os
import sys

import pyarrow as pa
from pyiceberg.catalog import load_catalog


def catalog_properties(args):
    props = {"type": "rest", "uri": args.uri}
    if args.s3_endpoint:
        props["s3.endpoint"] = args.s3_endpoint
        props["s3.path-style-access"] = "true"
    if args.s3_region:
        props["s3.region"] = args.s3_region
    key, secret = os.environ.get("S3_ACCESS_KEY"), os.environ.get("S3_SECRET_KEY")
    if key and secret:
        props["s3.access-key-id"] = key
        props["s3.secret-access-key"] = secret
    return props


def summary(snapshot):
    s = snapshot.summary
    if s is None:
        return {}
    return {"operation": s.operation.value, **s.additional_properties}


def snapshot_info(snapshot):
    return {
        "snapshot_id": snapshot.snapshot_id,
        "parent_snapshot_id": snapshot.parent_snapshot_id,
        "sequence_number": snapshot.sequence_number,
        "timestamp_ms": snapshot.timestamp_ms,
        "summary": summary(snapshot),
    }


def scan_counts(table, names):
    """Rows, and distinct (symbol, seq) pairs if both columns exist, read
    batch by batch from the data files with only the columns needed."""
    pair = "symbol" in names and "seq" in names
    cols = ("symbol", "seq") if pair else (names[0],)
    rows = 0
    seen = []
    for batch in table.scan(selected_fields=cols).to_arrow_batch_reader():
        rows += batch.num_rows
        if pair and batch.num_rows:
            # Deduplicate each batch so only distinct pairs stay in memory.
            seen.append(pa.Table.from_batches([batch]).group_by(["symbol", "seq"]).aggregate([]))
    if not pair:
        return rows, None
    if not seen:
        return rows, 0
    return rows, pa.concat_tables(seen).group_by(["symbol", "seq"]).aggregate([]).num_rows


def check(args):
    catalog = load_catalog("check", **catalog_properties(args))
    table = catalog.load_table(args.table)
    meta = table.metadata
    schema = table.schema()
    names = [f.name for f in schema.fields]
    current = table.current_snapshot()

    tasks = list(table.scan().plan_files()) if current is not None else []
    if current is None:
        rows, distinct = 0, (0 if "symbol" in names and "seq" in names else None)
    else:
        rows, distinct = scan_counts(table, names)
    snapshots = sorted(meta.snapshots, key=lambda s: (s.sequence_number or 0, s.timestamp_ms))
    spec = table.spec()
    return {
        "table": args.table,
        "location": meta.location,
        "format_version": meta.format_version,
        "schema": {f.name: str(f.field_type) for f in schema.fields},
        "partition_spec": [f"{f.transform}({schema.find_column_name(f.source_id)})" for f in spec.fields],
        "rows": rows,
        "distinct": distinct,
        "manifest_rows": sum(t.file.record_count for t in tasks),
        "data_files": len(tasks),
        "data_bytes": sum(t.file.file_size_in_bytes for t in tasks),
        "delete_files": sum(len(t.delete_files) for t in tasks),
        "current": None if current is None else snapshot_info(current),
        "snapshots": [snapshot_info(s) for s in snapshots],
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--uri", required=True, help="the REST catalog's URI, e.g. $ICEBERG_REST_URL")
    p.add_argument("--table", required=True, help="NAMESPACE.NAME")
    p.add_argument("--s3-endpoint", default=os.environ.get("S3_ENDPOINT"))
    p.add_argument("--s3-region", default=os.environ.get("S3_REGION"))
    args = p.parse_args()
    try:
        out = check(args)
    except Exception as e:  # one line for the test's log, not a traceback
        print(f"check_iceberg: {args.table} at {args.uri}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
