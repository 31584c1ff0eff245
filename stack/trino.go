package stack

import (
	"fmt"
	"path/filepath"
)

// Trino is the Trino server that scripts/trino.sh started: its REST URL,
// the catalog of its Hive connector and the S3 endpoint that catalog
// reads, and the catalog of its Iceberg connector (empty when the server
// started without the Iceberg REST catalog).
type Trino struct {
	URL, Catalog, S3Endpoint string
	IcebergCatalog           string
}

// LocalTrino reads the Trino server's state file under dir (normally
// LocalStateDir).
func LocalTrino(dir string) (Trino, error) {
	path := filepath.Join(dir, "trino", "state.env")
	st, err := readState(path)
	if err != nil {
		return Trino{}, fmt.Errorf("local Trino: %w (start it with `make up`)", err)
	}
	tr := Trino{URL: st["TRINO_URL"], Catalog: st["TRINO_CATALOG"], S3Endpoint: st["TRINO_S3_ENDPOINT"], IcebergCatalog: st["TRINO_ICEBERG_CATALOG"]}
	if tr.URL == "" || tr.Catalog == "" || tr.S3Endpoint == "" {
		return Trino{}, fmt.Errorf("local Trino: TRINO_URL, TRINO_CATALOG or TRINO_S3_ENDPOINT missing from %s", path)
	}
	return tr, nil
}
