package suites

import (
	"fmt"
	"net"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/netconform/netconform/framework/results"
)

// DefaultRouteQuota is AWS's current default for routes per route table (the kops guide's 50
// is the old default).
const DefaultRouteQuota = 500

var _ = ginkgo.Describe("routes", ginkgo.Label("routes"), func() {
	ginkgo.BeforeEach(func() {
		if env.Platform == "aws" {
			ginkgo.Skip("not-applicable: on aws the pod CIDR routes are in the VPC's route table, not on the nodes (the aws/route-table checks measure them)")
		}
		if !env.Healthy.NodeRoutes {
			ginkgo.Skip(fmt.Sprintf("not-applicable: %s does not program one route per node pod CIDR", orUnknown(env.Provider)))
		}
	})

	perFamily(func(f inFamily) {
		ginkgo.It(f.name("every node has exactly one route to every other node's pod CIDR via that node"), f.label(), ginkgo.Label("node-routes"), func(ctx ginkgo.SpecContext) {
			states, err := collectNodeState(ctx)
			if err != nil {
				ginkgo.Fail(err.Error())
			}
			var obs []results.Observation
			total := 0
			for _, s := range states {
				if s.HostErr != nil {
					obs = append(obs, results.Observation{From: s.Node.Name, To: "routes", Observed: "unknown", Detail: s.HostErr.Error()})
					continue
				}
				for _, peer := range states {
					if peer.Node.Name == s.Node.Name {
						continue
					}
					podCIDR, via := peer.Node.PodCIDROf(f.fam), peer.Node.InternalIPOf(f.fam)
					o := results.Observation{From: s.Node.Name, To: peer.Node.Name, Protocol: "route",
						Expected: fmt.Sprintf("%s via %s", orDash(podCIDR), orDash(via))}
					if podCIDR == "" || via == "" {
						o.Observed = fmt.Sprintf("node %s has no %s pod CIDR or InternalIP (pod CIDRs %v, InternalIPs %v)", peer.Node.Name, f.fam.Title(), peer.Node.PodCIDRs, peer.Node.InternalIPs)
						obs = append(obs, o)
						continue
					}
					var found []string
					for _, r := range s.Host.Routes {
						if sameCIDR(r.Dst, podCIDR) {
							found = append(found, fmt.Sprintf("%s via %s dev %s", r.Dst, orDash(r.Gateway), r.Dev))
							if sameIP(r.Gateway, via) {
								o.OK = true
							}
						}
					}
					total += len(found)
					switch {
					case len(found) == 0:
						o.Observed, o.OK = "missing", false
					case len(found) > 1:
						o.Observed, o.OK = fmt.Sprintf("%d routes: %v", len(found), found), false
					default:
						o.Observed = found[0]
					}
					obs = append(obs, o)
				}
			}
			if len(obs) == 0 {
				ginkgo.Skip(singleNode)
			}
			measure(f.metric("node_pod_cidr_routes"), float64(total), "")
			verdict(obs, singleNode)
		}, within(2*time.Minute))

		ginkgo.It(f.name("no route to a pod CIDR that no node owns"), f.label(), ginkgo.Label("stale-routes"), func(ctx ginkgo.SpecContext) {
			subnet := clusterPodSubnet(ctx, f.fam)
			states, err := collectNodeState(ctx)
			if err != nil {
				ginkgo.Fail(err.Error())
			}
			owned := map[string]string{}
			for _, s := range states {
				if _, n, err := net.ParseCIDR(s.Node.PodCIDROf(f.fam)); err == nil {
					owned[n.String()] = s.Node.Name
				}
			}
			var obs []results.Observation
			for _, s := range states {
				if s.HostErr != nil {
					obs = append(obs, results.Observation{From: s.Node.Name, To: "routes", Observed: "unknown", Detail: s.HostErr.Error()})
					continue
				}
				for _, r := range s.Host.Routes {
					ip, n, err := net.ParseCIDR(r.Dst)
					if err != nil || !subnet.Contains(ip) {
						continue
					}
					if _, ok := owned[n.String()]; ok {
						continue
					}
					obs = append(obs, results.Observation{From: s.Node.Name, To: r.Dst, Protocol: "route", Expected: "no route",
						Observed: fmt.Sprintf("%s via %s dev %s", r.Dst, orDash(r.Gateway), r.Dev), Detail: "stale: no node owns this pod CIDR"})
				}
			}
			// "No stale route" is an observation only where a route table was actually read.
			if read := tablesRead(states); len(obs) == 0 && read > 0 {
				obs = append(obs, results.Observation{From: "cluster", To: subnet.String(), Protocol: "route", Expected: "no route", Observed: "none", OK: true,
					Detail: fmt.Sprintf("route tables of %d nodes read", read)})
			}
			verdict(obs, "environment: the cluster has no node to read routes on")
		}, within(2*time.Minute))
	})

	ginkgo.It("the cluster's routes fit the route-table quota", ginkgo.Label("route-quota"), func(ctx ginkgo.SpecContext) {
		nodes, err := env.Client.Nodes(ctx)
		if err != nil {
			ginkgo.Fail(err.Error())
		}
		quota := env.RouteQuota
		if quota <= 0 {
			quota = DefaultRouteQuota
		}
		// One route per node pod CIDR in a single table: how the cloud route controller
		// programs for a routed mode (the table's local and gateway routes come on top on AWS).
		need := len(nodes)
		measure("routes_needed", float64(need), "")
		measure("route_quota", float64(quota), "")
		measure("headroom_nodes", float64(quota-need), "")
		o := results.Observation{From: "cluster", To: "route table", Protocol: "route-quota", Expected: fmt.Sprintf("<= %d", quota),
			Observed: fmt.Sprint(need), OK: need <= quota}
		observe([]results.Observation{o})
		if need > quota {
			ginkgo.Fail(fmt.Sprintf("%s needs %d routes in one table; quota %d", orUnknown(env.Provider), need, quota))
		}
	}, within(time.Minute))
})

// tablesRead counts the nodes whose routes the host agents returned.
func tablesRead(states []nodeState) int {
	n := 0
	for _, s := range states {
		if s.HostErr == nil {
			n++
		}
	}
	return n
}

func sameCIDR(a, b string) bool {
	_, na, err1 := net.ParseCIDR(a)
	_, nb, err2 := net.ParseCIDR(b)
	return err1 == nil && err2 == nil && na.String() == nb.String()
}

// sameIP compares two addresses as addresses (an IPv6 next hop may be written in full).
func sameIP(a, b string) bool {
	x, y := net.ParseIP(a), net.ParseIP(b)
	return x != nil && x.Equal(y)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "the networking mode"
	}
	return s
}
