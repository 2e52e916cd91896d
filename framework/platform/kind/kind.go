// Package kind is the kind platform: clusters of node containers through the sigs.k8s.io/kind
// library, with kind's default CNI disabled so that netconform installs the networking mode.
package kind

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	kindcmd "sigs.k8s.io/kind/pkg/cmd"

	"github.com/netconform/netconform/framework/platform"
)

// Defaults for a netconform kind cluster.
const (
	DefaultWorkers    = 2
	DefaultPodSubnet  = "10.244.0.0/16"
	DefaultSvcSubnet  = "10.96.0.0/16"
	networkEnv        = "KIND_EXPERIMENTAL_DOCKER_NETWORK"
	deleteGracePeriod = 2 * time.Minute
)

// Kind is a kind cluster owned by one netconform run.
type Kind struct {
	name, image, kubeconfig string
	workers                 int
	podSubnet, svcSubnet    string
	network                 string
	netcfg                  Network
	provider                *cluster.Provider
	out                     io.Writer

	mu      sync.Mutex
	deleted bool
}

var (
	_ platform.Platform    = (*Kind)(nil)
	_ platform.NodeRunner  = (*Kind)(nil)
	_ platform.ImageLoader = (*Kind)(nil)
)

// Option configures a Kind platform.
type Option func(*Kind)

// WithWorkers sets the number of worker nodes (besides one control plane).
func WithWorkers(n int) Option { return func(k *Kind) { k.workers = n } }

// WithNodeImage sets the node image.
func WithNodeImage(image string) Option { return func(k *Kind) { k.image = image } }

// WithPodSubnet sets the cluster pod CIDR each node's /24 is drawn from.
func WithPodSubnet(cidr string) Option { return func(k *Kind) { k.podSubnet = cidr } }

// Network is how netconform creates the cluster's docker network itself instead of leaving it
// to kind, which copies the default bridge's MTU and lets docker pick the subnet. The zero value
// leaves it to kind.
type Network struct {
	// MTU of the nodes' interfaces (9001 stands for an AWS VPC's jumbo frames); 0: docker's.
	MTU int
	// Subnet is the IPv4 CIDR the nodes' addresses come from; "": docker picks one.
	Subnet string
	// Gateway is the bridge's address in Subnet; "": docker's choice (the first address).
	Gateway string
	// Reserved are addresses in Subnet docker must not give to a node (an AWS subnet reserves
	// its first four and its last).
	Reserved []string
}

// WithNetwork makes Create create the cluster's docker network as n says (before kind, which
// then joins it). Delete removes it as it removes kind's own.
func WithNetwork(n Network) Option { return func(k *Kind) { k.netcfg = n } }

// WithOutput sets where progress goes.
func WithOutput(w io.Writer) Option { return func(k *Kind) { k.out = w } }

// New returns a kind platform for a cluster named name whose kubeconfig goes into artifactsDir.
// The cluster gets a docker network of its own, named after it, so deleting it leaves nothing.
func New(name, artifactsDir string, opts ...Option) *Kind {
	k := &Kind{
		name:       name,
		kubeconfig: filepath.Join(artifactsDir, "kubeconfig"),
		workers:    DefaultWorkers,
		podSubnet:  DefaultPodSubnet,
		svcSubnet:  DefaultSvcSubnet,
		network:    "netconform-" + name,
		out:        os.Stderr,
	}
	for _, o := range opts {
		o(k)
	}
	k.provider = cluster.NewProvider(cluster.ProviderWithDocker(), cluster.ProviderWithLogger(kindcmd.NewLogger()))
	return k
}

// Name implements platform.Platform.
func (k *Kind) Name() string { return "kind" }

// ClusterName is the kind cluster's name.
func (k *Kind) ClusterName() string { return k.name }

// KubeconfigPath implements platform.Platform.
func (k *Kind) KubeconfigPath() string { return k.kubeconfig }

// PodSubnet is the cluster pod CIDR.
func (k *Kind) PodSubnet() string { return k.podSubnet }

// Config is the kind cluster configuration netconform creates.
func (k *Kind) Config() *v1alpha4.Cluster {
	cfg := &v1alpha4.Cluster{
		Networking: v1alpha4.Networking{
			DisableDefaultCNI: true,
			PodSubnet:         k.podSubnet,
			ServiceSubnet:     k.svcSubnet,
			KubeProxyMode:     v1alpha4.IPTablesProxyMode,
		},
		Nodes: []v1alpha4.Node{{Role: v1alpha4.ControlPlaneRole, Image: k.image}},
	}
	for i := 0; i < k.workers; i++ {
		cfg.Nodes = append(cfg.Nodes, v1alpha4.Node{Role: v1alpha4.WorkerRole, Image: k.image})
	}
	v1alpha4.SetDefaultsCluster(cfg)
	return cfg
}

// Create implements platform.Platform. kind's Create takes no context: when ctx ends first,
// the cluster is deleted underneath it (which makes it fail fast) and again once it returns,
// so an interrupt during creation leaves nothing behind.
func (k *Kind) Create(ctx context.Context) error {
	if k.image == "" {
		return errors.New("kind: no node image given")
	}
	if err := os.MkdirAll(filepath.Dir(k.kubeconfig), 0o755); err != nil {
		return fmt.Errorf("kind: artifacts directory: %w", err)
	}
	// kind reads the network name from its environment only; netconform runs one cluster per
	// process, so setting it here affects nothing else.
	if err := os.Setenv(networkEnv, k.network); err != nil {
		return fmt.Errorf("kind: set %s: %w", networkEnv, err)
	}
	if k.netcfg.MTU != 0 || k.netcfg.Subnet != "" {
		if err := k.createNetwork(ctx); err != nil {
			// The network may exist half made; Delete (which the caller runs after a failed
			// Create) removes it.
			return err
		}
	}
	done := make(chan error, 1)
	go func() {
		done <- k.provider.Create(k.name,
			cluster.CreateWithV1Alpha4Config(k.Config()),
			cluster.CreateWithNodeImage(k.image),
			cluster.CreateWithKubeconfigPath(k.kubeconfig),
			cluster.CreateWithRetain(false),
			cluster.CreateWithWaitForReady(0),
			cluster.CreateWithDisplayUsage(false),
			cluster.CreateWithDisplaySalutation(false),
		)
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("kind: create cluster %s: %w", k.name, err)
		}
		return nil
	case <-ctx.Done():
		fmt.Fprintf(k.out, "interrupted: deleting kind cluster %s while it is being created\n", k.name)
		_ = k.deleteNow()
		select {
		case <-done:
		case <-time.After(deleteGracePeriod):
		}
		return fmt.Errorf("kind: create cluster %s: %w", k.name, ctx.Err())
	}
}

// Delete implements platform.Platform. It does not take ctx's cancellation as a reason to stop:
// it runs when the run was interrupted, and has its own deadline.
func (k *Kind) Delete(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.deleted = true
	return k.deleteLocked()
}

func (k *Kind) deleteNow() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.deleteLocked()
}

func (k *Kind) deleteLocked() error {
	var errs []error
	// An agent outside the cluster that a killed run left on the cluster's network would keep
	// docker from removing the network: it goes first.
	ectx, ecancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ecancel()
	if err := removeExternalAgents(ectx, k.network); err != nil {
		errs = append(errs, err)
	}
	if err := k.provider.Delete(k.name, k.kubeconfig); err != nil {
		errs = append(errs, fmt.Errorf("kind: delete cluster %s: %w", k.name, err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := removeNetwork(ctx, k.network); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// externalLabel marks the containers of agents outside the cluster (agents.ExternalLabel; the
// platform does not import the agents for one label).
const externalLabel = "netconform.io/external"

// externalListArgs is docker's command line that lists the external agents' containers on
// network, running or not.
func externalListArgs(network string) []string {
	return []string{"ps", "-aq", "--filter", "network=" + network, "--filter", "label=" + externalLabel}
}

// removeExternalAgents removes every external agent's container attached to network; none is
// fine, and so is a network that does not exist.
func removeExternalAgents(ctx context.Context, network string) error {
	var out, stderr bytes.Buffer
	list := exec.CommandContext(ctx, "docker", externalListArgs(network)...)
	list.Stdout, list.Stderr = &out, &stderr
	if err := list.Run(); err != nil {
		return fmt.Errorf("kind: list external agents on docker network %s: %w: %s", network, err, bytes.TrimSpace(stderr.Bytes()))
	}
	ids := strings.Fields(out.String())
	if len(ids) == 0 {
		return nil
	}
	stderr.Reset()
	rm := exec.CommandContext(ctx, "docker", append([]string{"rm", "-f"}, ids...)...)
	rm.Stderr = &stderr
	if err := rm.Run(); err != nil {
		return fmt.Errorf("kind: remove external agents %s on docker network %s: %w: %s", strings.Join(ids, " "), network, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}

// NetworkName is the cluster's docker network.
func (k *Kind) NetworkName() string { return k.network }

// createNetwork creates the cluster's docker network as k.netcfg says, unless it exists (from an
// earlier, interrupted Create of the same cluster: kind would join it as it is).
func (k *Kind) createNetwork(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "docker", "network", "inspect", k.network).Run(); err == nil {
		return nil
	}
	args := k.networkArgs()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kind: docker %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// networkArgs are docker's arguments that create the network k.netcfg describes.
func (k *Kind) networkArgs() []string {
	args := []string{"network", "create", "--driver", "bridge"}
	if k.netcfg.MTU != 0 {
		args = append(args, "--opt", fmt.Sprintf("com.docker.network.driver.mtu=%d", k.netcfg.MTU))
	}
	if k.netcfg.Subnet != "" {
		args = append(args, "--subnet", k.netcfg.Subnet)
	}
	if k.netcfg.Gateway != "" {
		args = append(args, "--gateway", k.netcfg.Gateway)
	}
	for i, a := range k.netcfg.Reserved {
		args = append(args, "--aux-address", fmt.Sprintf("reserved%d=%s", i, a))
	}
	return append(args, k.network)
}

// removeNetwork removes the cluster's docker network; one that is already gone is fine.
func removeNetwork(ctx context.Context, name string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", "network", "rm", name)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if bytes.Contains(out.Bytes(), []byte("not found")) || bytes.Contains(out.Bytes(), []byte("No such network")) {
			return nil
		}
		return fmt.Errorf("kind: remove docker network %s: %w: %s", name, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// Nodes lists the cluster's node containers.
func (k *Kind) Nodes() ([]nodes.Node, error) {
	ns, err := k.provider.ListNodes(k.name)
	if err != nil {
		return nil, fmt.Errorf("kind: list nodes of %s: %w", k.name, err)
	}
	return ns, nil
}

func (k *Kind) node(name string) (nodes.Node, error) {
	ns, err := k.Nodes()
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		if n.String() == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("kind: no node %q in cluster %s", name, k.name)
}

// RunOnNode implements platform.NodeRunner with docker exec into the node container, which does
// not depend on the cluster's network.
func (k *Kind) RunOnNode(ctx context.Context, node string, argv []string, stdin io.Reader) ([]byte, error) {
	if len(argv) == 0 {
		return nil, errors.New("kind: empty command")
	}
	n, err := k.node(node)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	cmd := n.CommandContext(ctx, argv[0], argv[1:]...).SetStdout(&out).SetStderr(&out)
	if stdin != nil {
		cmd.SetStdin(stdin)
	}
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("on node %s: %q: %w: %s", node, argv, err, bytes.TrimSpace(out.Bytes()))
	}
	return out.Bytes(), nil
}

// LoadImageArchive implements platform.ImageLoader: it imports a docker-save archive into every
// node's containerd.
func (k *Kind) LoadImageArchive(ctx context.Context, archive string) error {
	ns, err := k.Nodes()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ns))
	for i, n := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := os.Open(archive)
			if err != nil {
				errs[i] = err
				return
			}
			defer f.Close()
			if err := nodeutils.LoadImageArchive(n, f); err != nil {
				errs[i] = fmt.Errorf("kind: load %s into %s: %w", filepath.Base(archive), n, err)
			}
		}()
	}
	// The node side of kind's import takes no context: the deadline ends the wait for it
	// rather than hang (the run cannot go on without the image anyway).
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return errors.Join(errs...)
	case <-ctx.Done():
		return fmt.Errorf("kind: load %s: %w", filepath.Base(archive), ctx.Err())
	}
}

// LoadImage saves a local docker image and loads it into every node.
func (k *Kind) LoadImage(ctx context.Context, image string) error {
	dir, err := os.MkdirTemp("", "netconform-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	archive := filepath.Join(dir, "image.tar")
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", "save", "-o", archive, image)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kind: docker save %s: %w: %s", image, err, bytes.TrimSpace(out.Bytes()))
	}
	return k.LoadImageArchive(ctx, archive)
}
