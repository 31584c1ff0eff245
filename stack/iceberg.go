package stack

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/tickbench/tickbench/sink/iceberg"
)

// IcebergCatalogFile is the embedded stack's SQL catalog, beside the
// embedded S3 server's data directory.
const IcebergCatalogFile = "iceberg-catalog.db"

// IcebergWarehouse is where tables without a location of their own go.
func (st *Stack) IcebergWarehouse() string { return "s3://" + st.Bucket + "/iceberg" }

// IcebergCatalog returns the stack's Iceberg catalog, opening it on first
// use: the REST catalog of the local stack (Config.IcebergREST), AWS Glue
// with AWS, or else Iceberg's SQL catalog on a SQLite file beside the
// embedded S3 server's data (kept, like the objects, between runs). The
// stack closes it.
func (st *Stack) IcebergCatalog(ctx context.Context) (*iceberg.Catalog, error) {
	st.catalogMu.Lock()
	defer st.catalogMu.Unlock()
	if st.catalog != nil {
		return st.catalog, nil
	}
	s3 := iceberg.S3{Endpoint: st.S3Endpoint, Region: st.Region, AccessKey: st.AccessKey, SecretKey: st.SecretKey}
	var err error
	if st.S3CA != "" {
		if s3.Transport, err = S3Transport(st.S3CA); err != nil {
			return nil, err
		}
	}
	var cat *iceberg.Catalog
	switch {
	case st.icebergREST != "":
		cat, err = iceberg.OpenREST(ctx, st.icebergREST, st.IcebergWarehouse(), s3)
	case st.aws && st.S3Endpoint == "":
		awsCfg, lerr := config.LoadDefaultConfig(ctx, config.WithRegion(st.Region))
		if lerr != nil {
			return nil, fmt.Errorf("aws config for glue: %w", lerr)
		}
		cat, err = iceberg.OpenGlue(awsCfg, s3)
	case st.DataDir != "":
		cat, err = iceberg.OpenSQL(ctx, filepath.Join(filepath.Dir(st.DataDir), IcebergCatalogFile), st.IcebergWarehouse(), s3)
	default:
		return nil, fmt.Errorf("iceberg catalog: none for S3 at %s: the local stack's REST catalog needs `make up` (stack local), AWS uses Glue", st.endpointName())
	}
	if err != nil {
		return nil, err
	}
	st.catalog = cat
	st.closers = append(st.closers, cat.Close)
	return cat, nil
}
