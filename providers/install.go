package providers

import (
	"context"
	"io"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform"
)

// Cluster is what an installer works with: the API, and node access where the platform has it.
type Cluster struct {
	Client *kube.Client
	// Nodes runs commands on nodes without the cluster network (kind); nil where the platform
	// cannot, and then installers that need it say so.
	Nodes platform.NodeRunner
	// Images loads locally built images into the nodes; nil where images come from a registry.
	Images platform.ImageLoader
	// PodSubnet is the cluster pod CIDR each node's range is drawn from: the primary family's
	// on a dual-stack cluster (IPv4 on kind).
	PodSubnet string
	// PodSubnets are the cluster pod CIDRs, one per IP family, IPv4 first; nil where the
	// platform knows PodSubnet only (see AllPodSubnets).
	PodSubnets []string
	// ImageRefs are images given for this run by component name (NAME=REF, as --provider-image takes them);
	// they are already loaded on the nodes. A component without one uses its pinned upstream image.
	ImageRefs map[string]string
	// Out receives progress lines.
	Out io.Writer
}

// AllPodSubnets are the cluster's pod CIDRs of every family: PodSubnets, else PodSubnet alone
// (nil when neither is known).
func (c Cluster) AllPodSubnets() []string {
	switch {
	case len(c.PodSubnets) > 0:
		return c.PodSubnets
	case c.PodSubnet != "":
		return []string{c.PodSubnet}
	}
	return nil
}

// Installer installs a networking mode into a cluster that has none, and returns once the
// provider's own components are ready (nodes and CoreDNS readiness are waited for by the caller).
type Installer interface {
	Install(ctx context.Context, c Cluster) error
}

// Healthy describes what a node looks like when a provider works, for the suites to compare.
type Healthy struct {
	// NodeRoutes: every node has exactly one route to every other node's pod CIDR via that
	// node's address (routed modes).
	NodeRoutes bool
	// Devices that must exist on every node, with the MTU they must carry relative to the
	// pod MTU (the bridge carries the pod MTU).
	Devices []string
	// EncapOverhead is subtracted from the underlay MTU to give the pod MTU.
	EncapOverhead int
	// MTUOnRoutes: the provider keeps devices (pods' eth0, veths) at the underlay MTU and puts
	// the encapsulation's limit on the pods' routes instead.
	MTUOnRoutes bool
	// PolicyOff, when set, says why this configuration does not enforce NetworkPolicy although
	// the provider can (its policy controller switched off by an option).
	PolicyOff string
	// ProviderMTU is the pod MTU the provider's own configuration sets whatever the underlay: an
	// MTU option given to it, or a fixed default of its own (weave's fast datapath: 1376). 0
	// means the pod MTU follows the underlay (minus EncapOverhead).
	ProviderMTU int
}

// PodMTU is the MTU pods must have: the configured MTU when the user set one (--mtu), else the
// provider's own (ProviderMTU), else the underlay MTU (the node's interface toward other nodes)
// minus the encapsulation overhead.
func (h Healthy) PodMTU(underlay, configured int) int {
	switch {
	case configured > 0:
		return configured
	case h.ProviderMTU > 0:
		return h.ProviderMTU
	}
	return underlay - h.EncapOverhead
}
