package suites

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/probe"
)

// nodeState is what one node's agents report: the host network namespace and one pod's.
type nodeState struct {
	Node     kube.Node
	Host     probe.Info
	HostErr  error
	Pod      probe.Info
	PodErr   error
	Underlay *probe.Link // the host link that carries the node's InternalIP
}

// collectNodeState asks every node's host and pod agent for their links and routes.
func collectNodeState(ctx context.Context) ([]nodeState, error) {
	nodes, err := env.Client.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	states := make([]nodeState, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		states[i].Node = n
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &states[i]
			if h := env.Fleet.AgentOrMissing(agents.Host, n.Name); h.Ready {
				s.Host, s.HostErr = env.Fleet.Info(ctx, h)
			} else {
				s.HostErr = errors.New(h.Unavailable())
			}
			if p := env.Fleet.AgentOrMissing(agents.PodA, n.Name); p.Ready {
				s.Pod, s.PodErr = env.Fleet.InfoWithPathMTU(ctx, p, remotePodIP(n.Name))
			} else {
				s.PodErr = errors.New(p.Unavailable())
			}
			if s.HostErr == nil {
				s.Underlay = linkWithIP(s.Host.Links, n.InternalIP)
			}
		}()
	}
	wg.Wait()
	return states, nil
}

// remotePodIP is a pod agent's address on another node, to ask for the path MTU toward pods
// across nodes; empty on a single-node cluster.
func remotePodIP(node string) string {
	for _, other := range env.Fleet.Nodes() {
		if other == node {
			continue
		}
		if b, ok := env.Fleet.Agent(agents.PodB, other); ok && b.IP != "" {
			return b.IP
		}
	}
	return ""
}

// linkWithIP finds the link that has ip among its addresses.
func linkWithIP(links []probe.Link, ip string) *probe.Link {
	for i, l := range links {
		for _, a := range l.Addrs {
			if strings.Split(a, "/")[0] == ip {
				return &links[i]
			}
		}
	}
	return nil
}

// podLink is the pod's interface toward the network (not loopback).
func podLink(links []probe.Link) *probe.Link {
	for i, l := range links {
		if l.Name == "eth0" {
			return &links[i]
		}
	}
	for i, l := range links {
		if l.Name != "lo" && l.Up {
			return &links[i]
		}
	}
	return nil
}

// clusterPodSubnet returns the cluster pod CIDR of address family fam: the run's (--pod-subnet,
// then the platform's of every family), else kube-proxy's clusterCIDR (a comma-separated list
// on a dual-stack cluster).
func clusterPodSubnet(ctx context.Context, fam ipfamily.Family) *net.IPNet {
	cidrs := append([]string{env.PodSubnet}, env.PodSubnets...)
	cidr := ipfamily.Pick(cidrs, fam)
	if cidr == "" {
		fromProxy, err := env.Client.KubeProxyClusterCIDR(ctx)
		if err != nil {
			ginkgo.Fail("cluster pod CIDR unknown (pass --pod-subnet): " + err.Error())
		}
		if cidr = ipfamily.Pick(strings.Split(fromProxy, ","), fam); cidr == "" {
			ginkgo.Fail(fmt.Sprintf("the cluster has no %s pod CIDR (kube-proxy's clusterCIDR is %q)", fam.Title(), fromProxy))
		}
	}
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		ginkgo.Fail(fmt.Sprintf("cluster pod CIDR %q: %v", cidr, err))
	}
	return n
}
