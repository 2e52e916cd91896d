package kubenet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

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
// them on the nodes. kube-proxy stays.
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
		if c.Out != nil {
			fmt.Fprintf(c.Out, "kubenet: node %s podCIDR %s, MTU %d\n", n.Name, n.PodCIDR, mtu)
		}
		conf, err := Conflist(n.PodCIDR, mtu)
		if err != nil {
			return err
		}
		if _, err := c.Nodes.RunOnNode(ctx, n.Name, []string{"tee", ConfigPath}, bytes.NewReader(conf)); err != nil {
			return fmt.Errorf("kubenet: write CNI config: %w", err)
		}
		for _, peer := range nodes {
			if peer.Name == n.Name {
				continue
			}
			if _, err := c.Nodes.RunOnNode(ctx, n.Name, RouteCommand(peer), nil); err != nil {
				return fmt.Errorf("kubenet: route to %s: %w", peer.Name, err)
			}
		}
		for _, argv := range MasqueradeCommands(c.PodSubnet) {
			if _, err := c.Nodes.RunOnNode(ctx, n.Name, argv, nil); err != nil && !strings.Contains(err.Error(), "already exists") {
				return fmt.Errorf("kubenet: masquerade rules: %w", err)
			}
		}
	}
	return nil
}

// RouteCommand is the route a node needs to reach peer's pods.
func RouteCommand(peer kube.Node) []string {
	return []string{"ip", "route", "replace", peer.PodCIDR, "via", peer.InternalIP}
}

// MasqueradeCommands masquerade pod traffic leaving the cluster pod CIDR (kubenet's
// non-masquerade CIDR), in a chain of our own so it can be found and removed.
func MasqueradeCommands(podSubnet string) [][]string {
	return [][]string{
		{"iptables", "-t", "nat", "-N", MasqChain},
		{"iptables", "-t", "nat", "-F", MasqChain},
		{"iptables", "-t", "nat", "-A", MasqChain, "-d", podSubnet, "-j", "RETURN"},
		{"iptables", "-t", "nat", "-A", MasqChain, "-j", "MASQUERADE"},
		{"sh", "-c", "iptables -t nat -C POSTROUTING -s " + podSubnet + " -j " + MasqChain + " 2>/dev/null || iptables -t nat -A POSTROUTING -s " + podSubnet + " -j " + MasqChain},
	}
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

// Conflist renders the node's CNI configuration.
func Conflist(podCIDR string, mtu int) ([]byte, error) {
	if podCIDR == "" {
		return nil, errors.New("kubenet: node has no podCIDR")
	}
	if mtu < 576 || mtu > 65535 {
		return nil, fmt.Errorf("kubenet: MTU %d out of range", mtu)
	}
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "netconform-kubenet",
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": Bridge, "isGateway": true, "ipMasq": false, "hairpinMode": true, "mtu": mtu,
				"ipam": map[string]any{
					"type":   "host-local",
					"ranges": [][]map[string]string{{{"subnet": podCIDR}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}
