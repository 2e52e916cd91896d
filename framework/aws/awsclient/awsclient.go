// Package awsclient builds the EC2 and Service Quotas clients netconform's AWS checks use, on
// aws-sdk-go-v2: region and credentials come from the SDK's standard chain (environment,
// shared config and credentials files, SSO, instance role), retries from the SDK's standard
// retryer, and the endpoint can be pointed at a local stand-in for tests.
package awsclient

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	"github.com/aws/smithy-go/logging"
)

// Config says where the clients go. The zero value means real AWS with everything from the
// standard chain.
type Config struct {
	// Region overrides the chain's region (AWS_REGION, the profile's region).
	Region string
	// Endpoint, when set, is the BaseEndpoint of both clients: a local stand-in such as
	// fixtures/ec2stub. Real runs leave it empty so the SDK resolves AWS's endpoints (the SDK
	// also honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_EC2 on its own).
	Endpoint string
	// StaticCredentials uses fixed dummy credentials instead of the chain: only for stand-ins,
	// which do not check signatures.
	StaticCredentials bool
	// MaxAttempts is the standard retryer's attempt limit per call (0: the SDK default, 3).
	MaxAttempts int
	// MaxBackoff caps the retryer's backoff between attempts (0: the SDK default, 20s).
	MaxBackoff time.Duration
	// Logger replaces the SDK's logger (nil: the SDK's, which prints warnings to stderr).
	Logger logging.Logger
}

// Clients are the SDK clients the checks need.
type Clients struct {
	EC2    *ec2.Client
	Quotas *servicequotas.Client
}

// New loads the SDK configuration and builds the clients. It does not call AWS: missing
// credentials show up on the first call.
func New(ctx context.Context, c Config) (Clients, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				if c.MaxAttempts > 0 {
					o.MaxAttempts = c.MaxAttempts
				}
				if c.MaxBackoff > 0 {
					o.MaxBackoff = c.MaxBackoff
				}
			})
		}),
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Logger != nil {
		opts = append(opts, config.WithLogger(c.Logger))
	}
	if c.StaticCredentials {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("stand-in", "stand-in", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return Clients{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return Clients{}, fmt.Errorf("no AWS region: set AWS_REGION, a profile region or --aws-region")
	}
	return Clients{
		EC2: ec2.NewFromConfig(cfg, func(o *ec2.Options) {
			if c.Endpoint != "" {
				o.BaseEndpoint = aws.String(c.Endpoint)
			}
		}),
		Quotas: servicequotas.NewFromConfig(cfg, func(o *servicequotas.Options) {
			if c.Endpoint != "" {
				o.BaseEndpoint = aws.String(c.Endpoint)
			}
		}),
	}, nil
}
