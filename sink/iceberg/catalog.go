package iceberg

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/glue"
	"github.com/apache/iceberg-go/catalog/rest"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// S3 is where a catalog's FileIO writes and reads: an S3-compatible server
// (Endpoint set: path-style, static keys) or AWS S3 (Endpoint empty: the
// default credential chain of the AWS config given).
type S3 struct {
	Endpoint, Region, AccessKey, SecretKey string
	// Transport, if set, carries the FileIO's requests (e.g. one that
	// trusts the CA of an https:// Endpoint); nil: Go's default.
	Transport http.RoundTripper
}

// props are the FileIO properties of s.
func (s S3) props() iceberg.Properties {
	p := iceberg.Properties{iceio.S3Region: s.Region}
	if s.Endpoint != "" {
		p[iceio.S3EndpointURL] = s.Endpoint
		p[iceio.S3ForceVirtualAddressing] = "false"
		p[iceio.S3AccessKeyID] = s.AccessKey
		p[iceio.S3SecretAccessKey] = s.SecretKey
	}
	return p
}

// Catalog is an Iceberg catalog the sink's tables live in.
type Catalog struct {
	// Kind is sql, rest or glue.
	Kind string
	cat  catalog.Catalog
	aws  *aws.Config
	rest bool // the catalog server writes metadata.json
	db   *sql.DB
}

// awsConfig is the AWS config of the catalog's FileIO: base's, with an HTTP
// client that counts each call's requests (see Table.ctx).
func awsConfig(base aws.Config, s S3) *aws.Config {
	cfg := base.Copy()
	if s.Region != "" {
		cfg.Region = s.Region
	}
	if s.Endpoint != "" {
		cfg.Credentials = credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, "")
	}
	next := http.DefaultTransport
	if c, ok := cfg.HTTPClient.(*http.Client); ok && c.Transport != nil {
		next = c.Transport
	}
	if s.Transport != nil {
		next = s.Transport
	}
	cfg.HTTPClient = &http.Client{Transport: countingTransport{next: next}}
	return &cfg
}

// OpenSQL opens (creating it if new) Iceberg's SQL catalog on the SQLite
// database at path (":memory:" keeps it in the process), over s.
func OpenSQL(ctx context.Context, path, warehouse string, s S3) (*Catalog, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_busy_timeout=5000&cache=shared"
	db, err := sql.Open(sqliteshim.ShimName, dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite catalog %s: %w", path, err)
	}
	props := s.props()
	props["warehouse"] = warehouse
	cat, err := sqlcat.NewCatalog("tickbench", db, sqlcat.SQLite, props)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite catalog %s: %w", path, err)
	}
	if err := cat.CreateSQLTables(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite catalog %s: create tables: %w", path, err)
	}
	return &Catalog{Kind: "sql", cat: cat, aws: awsConfig(aws.Config{}, s), db: db}, nil
}

// OpenREST connects to an Iceberg REST catalog at uri, over s.
func OpenREST(ctx context.Context, uri, warehouse string, s S3) (*Catalog, error) {
	opts := []rest.Option{rest.WithAdditionalProps(s.props())}
	if warehouse != "" {
		opts = append(opts, rest.WithWarehouseLocation(warehouse))
	}
	cat, err := rest.NewCatalog(ctx, "tickbench", uri, opts...)
	if err != nil {
		return nil, fmt.Errorf("iceberg REST catalog %s: %w", uri, err)
	}
	return &Catalog{Kind: "rest", cat: cat, aws: awsConfig(aws.Config{}, s), rest: true}, nil
}

// OpenGlue uses the AWS Glue Data Catalog of cfg's account and region (its
// endpoint, if cfg sets BaseEndpoint: an AWS API peer), over s. Glue holds
// each table as Athena reads an Iceberg table: table_type ICEBERG and the
// current metadata_location.
func OpenGlue(cfg aws.Config, s S3) (*Catalog, error) {
	if s.Region == "" {
		s.Region = cfg.Region
	}
	counted := awsConfig(cfg, s)
	cat, err := glue.NewCatalog(glue.WithAwsConfig(*counted), glue.WithAwsProperties(glue.AwsProperties(s.props())))
	if err != nil {
		return nil, fmt.Errorf("glue catalog: %w", err)
	}
	return &Catalog{Kind: "glue", cat: cat, aws: counted}, nil
}

// Close releases the catalog's connections.
func (c *Catalog) Close() error {
	if cl, ok := c.cat.(interface{ Close() error }); ok {
		if err := cl.Close(); err != nil {
			return err
		}
	}
	if c.db != nil {
		return c.db.Close()
	}
	return nil
}

// Iceberg is the iceberg-go catalog underneath, for reading tables.
func (c *Catalog) Iceberg() catalog.Catalog { return c.cat }
