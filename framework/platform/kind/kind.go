// Package kind is the kind platform: clusters of node containers through the sigs.k8s.io/kind
// library, with kind's default CNI disabled so that netconform installs the networking mode.
package kind

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	kindcmd "sigs.k8s.io/kind/pkg/cmd"

	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/platform"
)

// Defaults for a netconform kind cluster: kind's own subnets per family. The IPv6 pod subnet is
// a /56 because the controller manager gives each node a /64 of it (its default IPv6 node
// mask), as kind's defaults do.
const (
	DefaultWorkers     = 2
	DefaultPodSubnet   = "10.244.0.0/16"
	DefaultSvcSubnet   = "10.96.0.0/16"
	DefaultPodSubnetV6 = "fd00:10:244::/56"
	DefaultSvcSubnetV6 = "fd00:10:96::/112"
	networkEnv         = "KIND_EXPERIMENTAL_DOCKER_NETWORK"
	deleteGracePeriod  = 2 * time.Minute
	// ulaAttempts bounds the IPv6 subnets tried for the cluster's docker network when one
	// overlaps another network's (as kind's own network creation does).
	ulaAttempts = 5
)

// Kind is a kind cluster owned by one netconform run.
type Kind struct {
	name, image, kubeconfig string
	workers                 int
	family                  ipfamily.Family
	// podOverride replaces the default pod subnet of its family (WithPodSubnet).
	podOverride            string
	podSubnets, svcSubnets []string
	network                string
	netcfg                 Network
	provider               *cluster.Provider
	out                    io.Writer
	// mirror, when its Host is set, is the registry mirror the nodes pull through.
	mirror Mirror
	// kubeletPatches are KubeletConfiguration patches after kubeletCgroupV1Patch.
	kubeletPatches []string

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

// WithPodSubnet sets the cluster pod CIDR each node's range is drawn from, in place of the
// default of its family (an IPv4 CIDR on a dual-stack cluster replaces the IPv4 one only).
func WithPodSubnet(cidr string) Option { return func(k *Kind) { k.podOverride = cidr } }

// WithIPFamily makes the cluster IPv4 (the default), IPv6 or dual stack: kind's
// networking.ipFamily, pod and Service subnets of each family, and a docker network with IPv6
// where the cluster needs it.
func WithIPFamily(f ipfamily.Family) Option { return func(k *Kind) { k.family = f } }

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
	// IPv6Subnet is the IPv6 CIDR (a /64) the nodes' IPv6 addresses come from on a cluster
	// with IPv6; "": a unique local /64 derived from the network's name. Docker 20.10 gives a
	// network IPv6 only with a subnet named; IPv4 it always has (Subnet, or one docker picks).
	IPv6Subnet string
}

// WithNetwork makes Create create the cluster's docker network as n says (before kind, which
// then joins it). Delete removes it as it removes kind's own.
func WithNetwork(n Network) Option { return func(k *Kind) { k.netcfg = n } }

// WithKubeletConfig adds fields to every node's KubeletConfiguration (YAML, without kind and
// apiVersion), after netconform's own. The fault test of a kubelet that refuses to start uses it.
func WithKubeletConfig(fields string) Option {
	return func(k *Kind) { k.kubeletPatches = append(k.kubeletPatches, "kind: KubeletConfiguration\n"+fields) }
}

// WithOutput sets where progress goes.
func WithOutput(w io.Writer) Option { return func(k *Kind) { k.out = w } }

// New returns a kind platform for a cluster named name whose kubeconfig goes into artifactsDir.
// The cluster gets a docker network of its own, named after it, so deleting it leaves nothing.
func New(name, artifactsDir string, opts ...Option) *Kind {
	k := &Kind{
		name:       name,
		kubeconfig: filepath.Join(artifactsDir, "kubeconfig"),
		workers:    DefaultWorkers,
		family:     ipfamily.IPv4,
		network:    "netconform-" + name,
		out:        os.Stderr,
	}
	for _, o := range opts {
		o(k)
	}
	if k.family == "" {
		k.family = ipfamily.IPv4
	}
	k.podSubnets, k.svcSubnets = subnets(k.family, k.podOverride)
	k.provider = cluster.NewProvider(cluster.ProviderWithDocker(), cluster.ProviderWithLogger(kindcmd.NewLogger()))
	return k
}

// Name implements platform.Platform.
func (k *Kind) Name() string { return "kind" }

// ClusterName is the kind cluster's name.
func (k *Kind) ClusterName() string { return k.name }

// KubeconfigPath implements platform.Platform.
func (k *Kind) KubeconfigPath() string { return k.kubeconfig }

// subnets are the cluster's pod and Service CIDRs for family f, IPv4 first: kind's defaults,
// with podOverride in place of the pod CIDR of its family.
func subnets(f ipfamily.Family, podOverride string) (pod, svc []string) {
	for _, a := range f.Stacks() {
		p, s := DefaultPodSubnet, DefaultSvcSubnet
		if a == ipfamily.IPv6 {
			p, s = DefaultPodSubnetV6, DefaultSvcSubnetV6
		}
		if of, ok := ipfamily.OfCIDR(podOverride); ok && of == a {
			p = podOverride
		}
		pod, svc = append(pod, p), append(svc, s)
	}
	return pod, svc
}

// IPFamily is the cluster's IP family.
func (k *Kind) IPFamily() ipfamily.Family { return k.family }

// PodSubnet is the cluster pod CIDR of the primary family: the IPv4 one on an IPv4 or dual-stack
// cluster (what the suites compare nodes' IPv4 routes with), the IPv6 one on an IPv6 cluster.
func (k *Kind) PodSubnet() string { return k.podSubnets[0] }

// PodSubnets are the cluster pod CIDRs, one per family, IPv4 first.
func (k *Kind) PodSubnets() []string { return append([]string(nil), k.podSubnets...) }

// ServiceSubnets are the cluster Service CIDRs, one per family, IPv4 first.
func (k *Kind) ServiceSubnets() []string { return append([]string(nil), k.svcSubnets...) }

// Config is the kind cluster configuration netconform creates. kind takes a dual-stack
// cluster's subnets comma-separated, primary family first; it then gives kubelet both node
// addresses (node-ip) in that order and kubeadm both subnets.
func (k *Kind) Config() *v1alpha4.Cluster {
	cfg := &v1alpha4.Cluster{
		Networking: v1alpha4.Networking{
			IPFamily:          v1alpha4.ClusterIPFamily(k.family),
			DisableDefaultCNI: true,
			PodSubnet:         strings.Join(k.podSubnets, ","),
			ServiceSubnet:     strings.Join(k.svcSubnets, ","),
			KubeProxyMode:     v1alpha4.IPTablesProxyMode,
		},
		Nodes: []v1alpha4.Node{{Role: v1alpha4.ControlPlaneRole, Image: k.image}},
	}
	for i := 0; i < k.workers; i++ {
		cfg.Nodes = append(cfg.Nodes, v1alpha4.Node{Role: v1alpha4.WorkerRole, Image: k.image})
	}
	if k.mirror.Host != "" {
		cfg.ContainerdConfigPatches = containerdPatches()
	}
	cfg.KubeadmConfigPatches = append(cfg.KubeadmConfigPatches, kubeletCgroupV1Patch)
	cfg.KubeadmConfigPatches = append(cfg.KubeadmConfigPatches, k.kubeletPatches...)
	v1alpha4.SetDefaultsCluster(cfg)
	return cfg
}

// kubeletCgroupV1Patch lets the kubelet start on a cgroup v1 host. The nodes are containers and
// share the host's cgroup version; from Kubernetes 1.35 the kubelet refuses cgroup v1 unless
// failCgroupV1 is false (1.33 and 1.34 default to false, so this changes nothing there, nor on a
// cgroup v2 host). Without apiVersion the patch matches whichever version kind's kubeadm config
// uses.
const kubeletCgroupV1Patch = `kind: KubeletConfiguration
failCgroupV1: false
`

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
	if k.ownsNetwork() {
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
			// Kept on failure long enough to read why the kubelet did not start; the caller's
			// Delete, which follows a failed Create, removes the nodes.
			cluster.CreateWithRetain(true),
			cluster.CreateWithWaitForReady(0),
			cluster.CreateWithDisplayUsage(false),
			cluster.CreateWithDisplaySalutation(false),
		)
	}()
	select {
	case err := <-done:
		if err != nil {
			if node, why := k.kubeletFailure(ctx); why != "" {
				return fmt.Errorf("kind: create cluster %s: the kubelet on %s did not start: %s (%w)", k.name, node, why, err)
			}
			return fmt.Errorf("kind: create cluster %s: %w", k.name, err)
		}
		if k.mirror.Host != "" {
			return k.writeMirrorConfig(ctx)
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

// kubeletFailure reads, from the nodes' journals, the error a kubelet gave up with (a version
// that refuses this host, a bad configuration): kubeadm only reports that the kubelet never
// became healthy, four minutes later. "" when no node has such a line.
func (k *Kind) kubeletFailure(ctx context.Context) (node, why string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	ns, err := k.Nodes()
	if err != nil {
		return "", ""
	}
	for _, n := range ns {
		out, err := k.RunOnNode(ctx, n.String(), []string{"journalctl", "-u", "kubelet", "--no-pager", "-o", "cat"}, nil)
		if err != nil {
			continue
		}
		if why := kubeletError(string(out)); why != "" {
			return n.String(), why
		}
	}
	return "", ""
}

// kubeletError is the last fatal error in a kubelet's log: the err="..." of its "command failed"
// line (klog's structured form), else the text after "failed to run Kubelet: ".
func kubeletError(log string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		if strings.Contains(l, `"command failed"`) {
			if _, after, ok := strings.Cut(l, ` err="`); ok {
				msg := strings.TrimSuffix(strings.TrimSpace(after), `"`)
				return strings.ReplaceAll(msg, `\"`, `"`)
			}
			return strings.TrimSpace(l)
		}
		if _, after, ok := strings.Cut(l, "failed to run Kubelet: "); ok {
			return strings.TrimSpace(after)
		}
	}
	return ""
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

// ownsNetwork says whether netconform creates the cluster's docker network itself rather than
// leave it to kind: when WithNetwork asked for an MTU or a subnet, and on a cluster with IPv6.
// kind gives its networks IPv6 when docker can, but falls back to IPv4 without a word when it
// cannot, and the cluster would then fail later with a less clear reason ("failed to get IPv6
// address for node"); netconform asks docker for IPv6 and says so when docker refuses.
func (k *Kind) ownsNetwork() bool {
	return k.netcfg.MTU != 0 || k.netcfg.Subnet != "" || k.family.Has(ipfamily.IPv6)
}

// createNetwork creates the cluster's docker network as k.netcfg and the cluster's family say,
// unless it exists (from an earlier, interrupted Create of the same cluster: kind would join it
// as it is; a cluster with IPv6 needs it to have IPv6).
func (k *Kind) createNetwork(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ipv6 := k.family.Has(ipfamily.IPv6)
	if out, err := exec.CommandContext(ctx, "docker", "network", "inspect", "-f", "{{.EnableIPv6}}", k.network).Output(); err == nil {
		if ipv6 && strings.TrimSpace(string(out)) != "true" {
			return fmt.Errorf("kind: docker network %s exists without IPv6, which the cluster needs (IP family %s): remove it (docker network rm %s) and run again", k.network, k.family, k.network)
		}
		return nil
	}
	n := k.netcfg
	if n.MTU == 0 {
		// A network netconform makes only for IPv6 gets the MTU kind would have given it.
		n.MTU = bridgeMTU(ctx)
	}
	attempts := 1
	if ipv6 && n.IPv6Subnet == "" {
		attempts = ulaAttempts
	}
	var err error
	for attempt := range attempts {
		v6 := ""
		if ipv6 {
			if v6 = n.IPv6Subnet; v6 == "" {
				if v6 = ulaSubnet(k.network, attempt); overlapsAny(v6, k.podSubnets, k.svcSubnets) {
					continue
				}
			}
		}
		args := networkArgs(k.network, n, v6)
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, "docker", args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err = cmd.Run(); err == nil {
			return nil
		}
		msg := string(bytes.TrimSpace(out.Bytes()))
		err = fmt.Errorf("kind: docker %s: %w: %s", strings.Join(args, " "), err, msg)
		if ipv6 && !poolOverlap(msg) {
			return fmt.Errorf("%w (IP family %s needs IPv6 on docker's networks: the kernel's IPv6 and, for docker's NAT, ip6tables)", err, k.family)
		}
		if !poolOverlap(msg) {
			return err
		}
	}
	if err == nil {
		return fmt.Errorf("kind: no IPv6 subnet for docker network %s clear of the cluster's subnets", k.network)
	}
	return err
}

// poolOverlap tells docker's answer to a subnet another network has.
func poolOverlap(msg string) bool {
	return strings.Contains(msg, "Pool overlaps") || strings.Contains(msg, "overlapping")
}

// networkArgs are docker's arguments that create network name as n describes, with IPv6 from
// ipv6Subnet when it is not "". Docker matches --gateway and --aux-address to the --subnet that
// holds them, so n's IPv4 ones stay with n.Subnet beside the IPv6 subnet; without n.Subnet
// docker picks the IPv4 subnet from its pools as it always does.
func networkArgs(name string, n Network, ipv6Subnet string) []string {
	args := []string{"network", "create", "--driver", "bridge"}
	if n.MTU != 0 {
		args = append(args, "--opt", fmt.Sprintf("com.docker.network.driver.mtu=%d", n.MTU))
	}
	if n.Subnet != "" {
		args = append(args, "--subnet", n.Subnet)
	}
	if n.Gateway != "" {
		args = append(args, "--gateway", n.Gateway)
	}
	for i, a := range n.Reserved {
		args = append(args, "--aux-address", fmt.Sprintf("reserved%d=%s", i, a))
	}
	if ipv6Subnet != "" {
		args = append(args, "--ipv6", "--subnet", ipv6Subnet)
	}
	return append(args, name)
}

// ulaSubnet is a unique local IPv6 /64 (RFC 4193: fd00::/8 and a 40-bit global ID) derived
// from the network's name and the attempt, so that clusters of different runs get different
// subnets and an attempt that overlaps another network's can be followed by another.
func ulaSubnet(name string, attempt int) string {
	h := sha256.Sum256([]byte(name + "/" + strconv.Itoa(attempt)))
	var a [16]byte
	a[0] = 0xfd
	copy(a[1:6], h[:5])
	return netip.PrefixFrom(netip.AddrFrom16(a), 64).String()
}

// overlapsAny says whether cidr overlaps one of the cluster's own subnets (the nodes' addresses
// must not fall into the pod or Service ranges).
func overlapsAny(cidr string, lists ...[]string) bool {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return false
	}
	for _, l := range lists {
		for _, s := range l {
			if q, err := netip.ParsePrefix(s); err == nil && p.Overlaps(q) {
				return true
			}
		}
	}
	return false
}

// bridgeMTU is the MTU of docker's default bridge, which kind copies into the networks it
// creates; 0 (docker's default) when it cannot be read.
func bridgeMTU(ctx context.Context) int {
	out, err := exec.CommandContext(ctx, "docker", "network", "inspect", "bridge", "-f", `{{ index .Options "com.docker.network.driver.mtu" }}`).Output()
	if err != nil {
		return 0
	}
	mtu, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return 0
	}
	return mtu
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
