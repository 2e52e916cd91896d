package awsclient

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func isolate(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_EC2": ""} {
		t.Setenv(k, v)
	}
}

func TestNoRegionIsAnError(t *testing.T) {
	isolate(t)
	if _, err := New(context.Background(), Config{}); err == nil || !strings.Contains(err.Error(), "no AWS region") {
		t.Errorf("got %v, want a missing region error", err)
	}
}

func TestEndpointAndRegion(t *testing.T) {
	isolate(t)
	c, err := New(context.Background(), Config{Region: "eu-west-1", Endpoint: "http://127.0.0.1:9", StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(c.EC2.Options().BaseEndpoint); got != "http://127.0.0.1:9" {
		t.Errorf("EC2 BaseEndpoint = %q", got)
	}
	if got := aws.ToString(c.Quotas.Options().BaseEndpoint); got != "http://127.0.0.1:9" {
		t.Errorf("Service Quotas BaseEndpoint = %q", got)
	}
	if c.EC2.Options().Region != "eu-west-1" {
		t.Errorf("region = %q", c.EC2.Options().Region)
	}
	// Without an endpoint the SDK resolves AWS's own.
	c, err = New(context.Background(), Config{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if c.EC2.Options().BaseEndpoint != nil {
		t.Errorf("BaseEndpoint set without an endpoint: %q", aws.ToString(c.EC2.Options().BaseEndpoint))
	}
}
