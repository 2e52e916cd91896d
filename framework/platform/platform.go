// Package platform defines what netconform asks of a place that runs clusters (kind, AWS
// through kops, an existing cluster). Platforms and suites never import each other: only a
// kubeconfig path and an artifacts directory cross between them.
package platform

import (
	"context"
	"io"
)

// Platform is a cluster's lifecycle: create it, say where its kubeconfig is, delete it.
type Platform interface {
	// Name is the platform's name as users type it (kind, aws, existing).
	Name() string
	// Create brings the cluster up (without pod networking) and writes its kubeconfig.
	Create(ctx context.Context) error
	// KubeconfigPath is where Create wrote the kubeconfig.
	KubeconfigPath() string
	// Delete removes everything Create made. It is safe to call more than once and after a
	// failed or interrupted Create.
	Delete(ctx context.Context) error
}

// NodeRunner is implemented by platforms that can run commands on nodes directly (kind runs
// them in the node containers), without going through the cluster's own network.
type NodeRunner interface {
	// RunOnNode runs argv on the named node with stdin and returns its combined output.
	RunOnNode(ctx context.Context, node string, argv []string, stdin io.Reader) ([]byte, error)
}

// ImageLoader is implemented by platforms that can load locally built images into every node
// (there is no registry to pull them from).
type ImageLoader interface {
	// LoadImageArchive imports a docker-save archive into every node.
	LoadImageArchive(ctx context.Context, archive string) error
	// LoadImage saves a local docker image and imports it into every node.
	LoadImage(ctx context.Context, image string) error
}
