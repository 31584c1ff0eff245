#!/usr/bin/env bash
# End-to-end check of the local Iceberg stack: pyiceberg creates a table in
# the REST catalog of scripts/iceberg.sh (ts timestamptz, symbol, price, seq;
# partitioned by hour(ts)) and appends ROWS rows to the S3 server of
# scripts/s3.sh; Trino's Iceberg catalog counts them (and reports the bytes it
# read from S3), and scripts/check_iceberg.py counts them again by scanning
# with pyarrow. Fails unless all three agree.
#
# Usage: scripts/iceberg-smoke.sh [ROWS]   (default 1000; needs `make up`)
# Each run writes a new table smoke.ticks_<random>, left in the catalog.
set -euo pipefail

TB_NAME=iceberg-smoke # prefix of log() lines
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROWS="${1:-1000}"
[[ "$ROWS" =~ ^[1-9][0-9]*$ ]] || die "ROWS=$ROWS: want a positive integer"
ICEBERG_URL="$(read_state "$TB_RUN/iceberg/state.env" ICEBERG_REST_URL)"
TRINO_URL="$(read_state "$TB_RUN/trino/state.env" TRINO_URL)"
TRINO_CATALOG="$(read_state "$TB_RUN/trino/state.env" TRINO_ICEBERG_CATALOG)"
[[ -n "$ICEBERG_URL" ]] || die "the Iceberg REST catalog is not up (make up, or scripts/iceberg.sh up)"
[[ -n "$TRINO_URL" && -n "$TRINO_CATALOG" ]] || die "Trino with its Iceberg catalog is not up (make up LAKE=trino)"
[[ "$(read_state "$TB_RUN/trino/state.env" TRINO_ICEBERG_REST_URL)" == "$ICEBERG_URL" ]] ||
  die "Trino uses another Iceberg REST catalog than $ICEBERG_URL (the catalog was restarted): make up restarts Trino on it"
PY="$(bash "$TB_ROOT/scripts/pyenv.sh" pyiceberg)"
TABLE="smoke.ticks_$(random_alnum 8 | tr '[:upper:]' '[:lower:]')"

log "writing $ROWS rows to $TABLE through $ICEBERG_URL"
"$PY" - "$ICEBERG_URL" "$TABLE" "$ROWS" <<'PY'
import datetime, sys
import pyarrow as pa
from pyiceberg.catalog import load_catalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import HourTransform
from pyiceberg.types import DoubleType, LongType, NestedField, StringType, TimestamptzType

uri, table, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
# Only the URI: the catalog hands out the S3 endpoint and keys.
catalog = load_catalog("smoke", type="rest", uri=uri)
catalog.create_namespace_if_not_exists(table.split(".")[0])
schema = Schema(
    NestedField(1, "ts", TimestamptzType(), required=False),
    NestedField(2, "symbol", StringType(), required=False),
    NestedField(3, "price", DoubleType(), required=False),
    NestedField(4, "seq", LongType(), required=False),
)
spec = PartitionSpec(PartitionField(source_id=1, field_id=1000, transform=HourTransform(), name="ts_hour"))
t = catalog.create_table(table, schema=schema, partition_spec=spec)
start = datetime.datetime(2026, 1, 2, 9, 30, tzinfo=datetime.timezone.utc)
step = datetime.timedelta(hours=2) / n  # two hours: two or three partitions
rows = pa.table({
    "ts": pa.array([start + i * step for i in range(n)], pa.timestamp("us", tz="UTC")),
    "symbol": pa.array([("AAPL", "MSFT", "GOOG")[i % 3] for i in range(n)]),
    "price": pa.array([100.0 + i / 100 for i in range(n)]),
    "seq": pa.array(range(n), pa.int64()),
})
t.append(rows, snapshot_properties={"tickbench.smoke-rows": str(n)})
PY

log "counting through Trino ($TRINO_URL, catalog $TRINO_CATALOG)"
trino_out="$(python3 - "$TRINO_URL" "$TRINO_CATALOG.$TABLE" <<'PY'
import json, sys, time, urllib.request

url, table = sys.argv[1], sys.argv[2]
headers = {"X-Trino-User": "tickbench", "X-Trino-Client-Capabilities": "PARAMETRIC_DATETIME", "X-Trino-Time-Zone": "UTC"}

def call(method, u, body=None):
    req = urllib.request.Request(u, data=body, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)

sql = f"SELECT count(*), count(DISTINCT seq), min(ts), max(ts) FROM {table}"
page = call("POST", url + "/v1/statement", sql.encode())
qid, rows = page["id"], []
while True:
    rows += page.get("data", [])
    if "error" in page:
        sys.exit(f"trino: {page['error'].get('message')}")
    if "nextUri" not in page:
        break
    time.sleep(0.05)
    page = call("GET", page["nextUri"])
stats = call("GET", f"{url}/v1/query/{qid}")["queryStats"]
print(json.dumps({"query": sql, "id": qid, "row": rows[0], "physicalInputDataSize": stats.get("physicalInputDataSize"),
                  "physicalInputPositions": stats.get("physicalInputPositions")}))
PY
)"
echo "$trino_out"

log "counting with scripts/check_iceberg.py"
check_out="$("$PY" "$TB_ROOT/scripts/check_iceberg.py" --uri "$ICEBERG_URL" --table "$TABLE")"

python3 - "$ROWS" "$trino_out" "$check_out" <<'PY'
import json, sys
want, trino, check = int(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
got = {"trino count(*)": trino["row"][0], "trino count(DISTINCT seq)": trino["row"][1],
       "check_iceberg rows": check["rows"], "check_iceberg distinct": check["distinct"],
       "snapshot total-records": int(check["current"]["summary"]["total-records"])}
bad = {k: v for k, v in got.items() if v != want}
print(f"rows {want}: " + ", ".join(f"{k} {v}" for k, v in got.items()))
print(f"data files {check['data_files']} ({check['data_bytes']} bytes), schema {check['schema']}, spec {check['partition_spec']}")
print(f"Trino read {trino['physicalInputDataSize']} from S3 ({trino['physicalInputPositions']} positions), ts {trino['row'][2]} .. {trino['row'][3]}")
if bad:
    sys.exit(f"mismatch: {bad}")
PY
log "ok: $TABLE"
