package kubenet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/providers"
)

// Names of what kubenet owns on a node; the switch suite looks for them as leftovers.
const (
	Bridge     = "cbr0"
	ConfigPath = "/etc/cni/net.d/10-netconform-kubenet.conflist"
	MasqChain  = "NETCONFORM-KUBENET-MASQ"
)

// Installer sets kubenet up the way kops means it: each node's pods on a bridge with host-local
// IPAM over the node's podCIDR, and one route per other node's podCIDR via that node. On AWS the
// cloud route controller writes those routes into the VPC route table; on kind netconform writes
// them on the nodes. kube-proxy stays. On an IPv6 or dual-stack cluster every family gets the
// same: a host-local range per podCIDR (node.spec.podCIDRs), a route per peer's podCIDR of each
// family via the peer's InternalIP of that family, and masquerading with ip6tables for IPv6.
type Installer struct {
	// MTU of the bridge and pods; 0 means the underlay MTU (routed: no overhead).
	MTU int
}

var _ providers.Installer = Installer{}

// Healthy is what a kubenet node looks like.
func Healthy() providers.Healthy {
	return providers.Healthy{NodeRoutes: true, Devices: []string{Bridge}, EncapOverhead: 0}
}

// Install implements providers.Installer.
func (in Installer) Install(ctx context.Context, c providers.Cluster) error {
	if c.Nodes == nil {
		return errors.New("kubenet: this platform cannot program node routes (on AWS the route controller does; use --platform kind)")
	}
	nodes, err := c.Client.WaitPodCIDRs(ctx)
	if err != nil {
		return fmt.Errorf("kubenet: %w", err)
	}
	for _, n := range nodes {
		mtu := in.MTU
		if mtu == 0 {
			if mtu, err = underlayMTU(ctx, c, n, nodes); err != nil {
				return err
			}
		}
		cidrs := n.AllPodCIDRs()
		if c.Out != nil {
			fmt.Fprintf(c.Out, "kubenet: node %s podCIDR %s, MTU %d\n", n.Name, strings.Join(cidrs, ","), mtu)
		}
		conf, err := Conflist(cidrs, mtu)
		if err != nil {
			return fmt.Errorf("kubenet: node %s: %w", n.Name, err)
		}
		if _, err := c.Nodes.RunOnNode(ctx, n.Name, []string{"tee", ConfigPath}, bytes.NewReader(conf)); err != nil {
			return fmt.Errorf("kubenet: write CNI config: %w", err)
		}
		for _, peer := range nodes {
			if peer.Name == n.Name {
				continue
			}
			routes, err := RouteCommands(peer)
			if err != nil {
				return fmt.Errorf("kubenet: routes on %s: %w", n.Name, err)
			}
			for _, argv := range routes {
				if _, err := c.Nodes.RunOnNode(ctx, n.Name, argv, nil); err != nil {
					return fmt.Errorf("kubenet: route to %s: %w", peer.Name, err)
				}
			}
		}
		for _, subnet := range c.AllPodSubnets() {
			argvs, err := MasqueradeCommands(subnet)
			if err != nil {
				return fmt.Errorf("kubenet: masquerade rules: %w", err)
			}
			for _, argv := range argvs {
				if _, err := c.Nodes.RunOnNode(ctx, n.Name, argv, nil); err != nil && !strings.Contains(err.Error(), "already exists") {
					return fmt.Errorf("kubenet: masquerade rules for %s: %w", subnet, err)
				}
			}
		}
	}
	return nil
}

// RouteCommand is the route a node needs to reach peer's pods of the primary family (PodCIDR via
// InternalIP).
func RouteCommand(peer kube.Node) []string {
	return routeCommand(peer.PodCIDR, peer.InternalIP)
}

// routeCommand routes dst via gw. ip takes the family from dst, so an IPv6 route needs no -6
// (and the command keeps one shape, which Owned's routes mirror).
func routeCommand(dst, gw string) []string {
	return []string{"ip", "route", "replace", dst, "via", gw}
}

// RouteCommands are the routes a node needs to reach peer's pods: one per podCIDR of the peer
// (one per family on a dual-stack cluster), via the peer's InternalIP of the same family. A
// peer without an InternalIP of a podCIDR's family cannot be routed to.
func RouteCommands(peer kube.Node) ([][]string, error) {
	var out [][]string
	for _, cidr := range peer.AllPodCIDRs() {
		f, ok := ipfamily.OfCIDR(cidr)
		if !ok {
			return nil, fmt.Errorf("node %s: podCIDR %q is not a CIDR", peer.Name, cidr)
		}
		via := peer.InternalIPOf(f)
		if via == "" {
			return nil, fmt.Errorf("node %s has no %s InternalIP to route its podCIDR %s via", peer.Name, f.Title(), cidr)
		}
		out = append(out, routeCommand(cidr, via))
	}
	return out, nil
}

// masqTool is the iptables command of a family: ip6tables for IPv6, with the same chain name.
func masqTool(f ipfamily.Family) string {
	if f == ipfamily.IPv6 {
		return "ip6tables"
	}
	return "iptables"
}

// MasqueradeCommands masquerade pod traffic leaving the cluster pod CIDR podSubnet (kubenet's
// non-masquerade CIDR), in a chain of our own so it can be found and removed: with iptables for
// an IPv4 subnet, ip6tables for an IPv6 one (the same chain name in each).
func MasqueradeCommands(podSubnet string) ([][]string, error) {
	f, ok := ipfamily.OfCIDR(podSubnet)
	if !ok {
		return nil, fmt.Errorf("cluster pod subnet %q is not a CIDR", podSubnet)
	}
	x := masqTool(f)
	return [][]string{
		{x, "-t", "nat", "-N", MasqChain},
		{x, "-t", "nat", "-F", MasqChain},
		{x, "-t", "nat", "-A", MasqChain, "-d", podSubnet, "-j", "RETURN"},
		{x, "-t", "nat", "-A", MasqChain, "-j", "MASQUERADE"},
		{"sh", "-c", x + " -t nat -C POSTROUTING -s " + podSubnet + " -j " + MasqChain + " 2>/dev/null || " + x + " -t nat -A POSTROUTING -s " + podSubnet + " -j " + MasqChain},
	}, nil
}

// underlayMTU reads the MTU of the node's interface toward its peers.
func underlayMTU(ctx context.Context, c providers.Cluster, n kube.Node, nodes []kube.Node) (int, error) {
	target := n.InternalIP
	for _, p := range nodes {
		if p.Name != n.Name {
			target = p.InternalIP
			break
		}
	}
	out, err := c.Nodes.RunOnNode(ctx, n.Name, []string{"ip", "-o", "route", "get", target}, nil)
	if err != nil {
		return 0, fmt.Errorf("kubenet: route toward peers on %s: %w", n.Name, err)
	}
	dev := fieldAfter(string(out), "dev")
	if dev == "" {
		return 0, fmt.Errorf("kubenet: no device in %q", out)
	}
	out, err = c.Nodes.RunOnNode(ctx, n.Name, []string{"cat", "/sys/class/net/" + dev + "/mtu"}, nil)
	if err != nil {
		return 0, fmt.Errorf("kubenet: MTU of %s on %s: %w", dev, n.Name, err)
	}
	mtu, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return 0, fmt.Errorf("kubenet: MTU of %s on %s: %w", dev, n.Name, err)
	}
	return mtu, nil
}

func fieldAfter(s, key string) string {
	f := strings.Fields(s)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == key {
			return f[i+1]
		}
	}
	return ""
}

// Conflist renders the node's CNI configuration for its podCIDRs (one per family; IPv4 first
// on a dual-stack cluster): host-local gets one range set per podCIDR, so each pod gets an
// address of every family, and a default route per family.
func Conflist(podCIDRs []string, mtu int) ([]byte, error) {
	if len(podCIDRs) == 0 {
		return nil, errors.New("kubenet: node has no podCIDR")
	}
	if mtu < 576 || mtu > 65535 {
		return nil, fmt.Errorf("kubenet: MTU %d out of range", mtu)
	}
	var ranges [][]map[string]string
	var routes []map[string]string
	seen := map[ipfamily.Family]bool{}
	for _, cidr := range podCIDRs {
		f, ok := ipfamily.OfCIDR(cidr)
		if !ok {
			return nil, fmt.Errorf("kubenet: podCIDR %q is not a CIDR", cidr)
		}
		if seen[f] {
			return nil, fmt.Errorf("kubenet: two %s podCIDRs (%s): want one per family", f.Title(), strings.Join(podCIDRs, ", "))
		}
		seen[f] = true
		ranges = append(ranges, []map[string]string{{"subnet": cidr}})
		dst := "0.0.0.0/0"
		if f == ipfamily.IPv6 {
			dst = "::/0"
		}
		routes = append(routes, map[string]string{"dst": dst})
	}
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "netconform-kubenet",
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": Bridge, "isGateway": true, "ipMasq": false, "hairpinMode": true, "mtu": mtu,
				"ipam": map[string]any{
					"type":   "host-local",
					"ranges": ranges,
					"routes": routes,
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}
