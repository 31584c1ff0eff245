package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/tickbench/tickbench/lake"
)

func runCatalog(ctx context.Context, args []string, env environment) error {
	fs := newFlagSet("catalog", env.stderr)
	ddl := fs.Bool("ddl", false, "print Athena's CREATE EXTERNAL TABLE statement")
	useGlue := fs.Bool("glue", false, "create or update the database and table through the Glue API")
	tf := addTableFlags(fs, true)
	a := awsFlags(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ddl == *useGlue {
		return usageError{fmt.Errorf("give one of --ddl or --glue")}
	}
	t, _, _, err := tf.resolve()
	if err != nil {
		return err
	}
	if *ddl {
		fmt.Fprintln(env.stdout, t.DDL()+";")
		return nil
	}
	cfg, err := a.Config(ctx)
	if err != nil {
		return err
	}
	created, err := lake.EnsureGlue(ctx, glue.NewFromConfig(cfg), t)
	if err != nil {
		return err
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	fmt.Fprintf(env.stdout, "glue table %s.%s %s: %s, %s, %s\n", t.Database, t.Name, verb, t.Format, t.Layout, t.Location())
	return nil
}

// awsFlags configure the Glue and Athena clients.
func awsFlags(fs interface {
	StringVar(*string, string, string, string)
}, env environment) *lake.AWS {
	a := &lake.AWS{Region: env.getenv("AWS_REGION")}
	if a.Region == "" {
		a.Region = "us-east-1"
	}
	fs.StringVar(&a.Region, "aws-region", a.Region, "AWS region of Glue and Athena (env AWS_REGION)")
	fs.StringVar(&a.Endpoint, "aws-endpoint", env.getenv("TICKBENCH_AWS_ENDPOINT"), "endpoint of the Glue and Athena APIs, e.g. a local AWS API peer (env TICKBENCH_AWS_ENDPOINT); default AWS")
	return a
}
