package lake

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AWS says how to reach the Glue and Athena APIs: the default chain
// (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_GLUE, ...) unless Endpoint or
// keys are given, as for a local AWS API peer.
type AWS struct {
	Region               string
	Endpoint             string
	AccessKey, SecretKey string
}

// Config loads the SDK configuration.
func (a AWS) Config(ctx context.Context) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if a.Region != "" {
		opts = append(opts, config.WithRegion(a.Region))
	}
	if a.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(a.AccessKey, a.SecretKey, "")))
	}
	if a.Endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(a.Endpoint))
	}
	c, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return c, nil
}
