// Package existing is the platform of a cluster that is already there: netconform reaches it
// through a kubeconfig, creates nothing and deletes nothing but its probe agents.
package existing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"

	kindnodes "sigs.k8s.io/kind/pkg/cluster/nodes"

	"github.com/netconform/netconform/framework/platform"
	"github.com/netconform/netconform/framework/platform/kind"
)

var _ platform.Platform = (*Cluster)(nil)

// Cluster is an existing cluster behind a kubeconfig.
type Cluster struct {
	kubeconfig string
}

// New returns the cluster the kubeconfig points at.
func New(kubeconfig string) *Cluster { return &Cluster{kubeconfig: kubeconfig} }

func (c *Cluster) Name() string { return "existing" }

// Existing marks a platform whose cluster outlives the run: Down never deletes it.
func (c *Cluster) Existing() {}

// Create only checks that the kubeconfig can be read; whether the API server answers is the
// engine's first API call.
func (c *Cluster) Create(context.Context) error {
	if _, err := os.Stat(c.kubeconfig); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	return nil
}

func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// Delete deletes nothing: the cluster is not netconform's.
func (c *Cluster) Delete(context.Context) error { return nil }

// KindCluster is an existing kind cluster: netconform can reach its nodes through docker, so
// it loads the probe image itself and the evidence bundle gets each node's own state.
type KindCluster struct {
	*Cluster
	k   *kind.Kind
	out io.Writer
}

var (
	_ platform.NodeRunner  = (*KindCluster)(nil)
	_ platform.ImageLoader = (*KindCluster)(nil)
)

// OnKind returns the existing kind cluster name behind kubeconfig.
func OnKind(kubeconfig, name, artifacts string, out io.Writer) *KindCluster {
	return &KindCluster{Cluster: New(kubeconfig), k: kind.New(name, artifacts), out: out}
}

// Create checks the kubeconfig and that kind has a cluster of that name.
func (c *KindCluster) Create(ctx context.Context) error {
	if err := c.Cluster.Create(ctx); err != nil {
		return err
	}
	nodes, err := c.k.Nodes()
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		n := c.k.ClusterName()
		return fmt.Errorf("--kind-cluster %s: kind has no cluster of that name (its nodes are the containers named %s-control-plane, %s-worker, ...)", n, n, n)
	}
	return nil
}

func (c *KindCluster) RunOnNode(ctx context.Context, node string, argv []string, stdin io.Reader) ([]byte, error) {
	return c.k.RunOnNode(ctx, node, argv, stdin)
}

func (c *KindCluster) LoadImageArchive(ctx context.Context, archive string) error {
	return c.k.LoadImageArchive(ctx, archive)
}

// LoadImage loads an image from this machine's docker into every node, unless every node has
// it already: the same image (its ID, the digest of its config) under the same reference, as an
// earlier check on the cluster left it. An image this machine's docker does not have is not an
// error here: the nodes may pull it, and if they cannot, the agents' wait says so naming the
// nodes.
func (c *KindCluster) LoadImage(ctx context.Context, image string) error {
	inspect := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", image)
	b, err := inspect.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("docker image inspect %s: %w", image, ctx.Err())
		}
		fmt.Fprintf(c.out, "image %s is not in this machine's docker (%s): not loading it; the nodes must pull it\n", image, strings.TrimSpace(string(b)))
		return nil
	}
	nodes, err := c.k.Nodes()
	if err != nil {
		return err
	}
	if c.onEveryNode(ctx, nodes, image, strings.TrimSpace(string(b))) {
		fmt.Fprintf(c.out, "image %s is on all %d nodes of kind cluster %s already: not loading it again\n", image, len(nodes), c.k.ClusterName())
		return nil
	}
	if err := c.k.LoadImage(ctx, image); err != nil {
		return fmt.Errorf("load image %s into kind cluster %s: %w", image, c.k.ClusterName(), err)
	}
	fmt.Fprintf(c.out, "loaded image %s into %d nodes of kind cluster %s\n", image, len(nodes), c.k.ClusterName())
	return nil
}

// onEveryNode reports whether every node's containerd has image with that ID (asked of all
// nodes at once); any doubt (no answer, another ID) is a no, and the image is loaded.
func (c *KindCluster) onEveryNode(ctx context.Context, nodes []kindnodes.Node, image, id string) bool {
	if id == "" || len(nodes) == 0 {
		return false
	}
	has := make([]bool, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			err := n.CommandContext(ctx, "crictl", "inspecti", "-o", "json", image).SetStdout(&out).Run()
			has[i] = err == nil && imageID(out.Bytes()) == id
		}()
	}
	wg.Wait()
	return !slices.Contains(has, false)
}

// imageID is the image ID in crictl inspecti's JSON answer, "" when there is none.
func imageID(crictlJSON []byte) string {
	var v struct {
		Status struct {
			ID string `json:"id"`
		} `json:"status"`
	}
	if json.Unmarshal(crictlJSON, &v) != nil {
		return ""
	}
	return v.Status.ID
}
