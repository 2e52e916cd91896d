package suites

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/framework/results"
)

// CoreDNS as kubeadm deploys it.
const (
	CoreDNSNamespace  = "kube-system"
	CoreDNSDeployment = "coredns"
	CoreDNSSelector   = "k8s-app=kube-dns"
	kubeDNSService    = "kube-dns"
)

var _ = ginkgo.Describe("dns", ginkgo.Label("dns"), func() {
	ginkgo.It("CoreDNS is not Ready before networking is installed", ginkgo.Label("startup"), func() {
		in := env.Install
		if in == nil {
			ginkgo.Skip("not-applicable: netconform did not install networking in this run")
		}
		if in.CoreDNSTotalBefore == 0 {
			ginkgo.Fail("no CoreDNS pods existed before networking was installed: cannot tell whether they waited for the network")
		}
		observe([]results.Observation{{To: "coredns", Expected: "0 Ready", Observed: fmt.Sprintf("%d of %d Ready", in.CoreDNSReadyBefore, in.CoreDNSTotalBefore),
			OK: in.CoreDNSReadyBefore == 0, Detail: strings.Join(in.CoreDNSNotReadyWhy, "; ")}})
		if in.CoreDNSReadyBefore > 0 {
			ginkgo.Fail(fmt.Sprintf("%d of %d CoreDNS replicas were Ready before any networking was installed: the cluster already had pod networking", in.CoreDNSReadyBefore, in.CoreDNSTotalBefore))
		}
	})

	ginkgo.It("every CoreDNS replica is Ready", ginkgo.Label("startup"), func(ctx ginkgo.SpecContext) {
		if in := env.Install; in != nil {
			if in.CoreDNSReadyError != "" {
				ginkgo.Fail("CoreDNS did not become Ready after networking was installed: " + in.CoreDNSReadyError)
			}
			measure("coredns_ready_after_install", in.CoreDNSReadyAfter.Seconds(), "s")
		}
		ready, total, notReady, err := env.Client.PodsReady(ctx, CoreDNSNamespace, CoreDNSSelector)
		if err != nil {
			ginkgo.Fail(err.Error())
		}
		observe([]results.Observation{{To: "coredns", Expected: "all Ready", Observed: fmt.Sprintf("%d of %d Ready", ready, total), OK: total > 0 && ready == total,
			Detail: strings.Join(notReady, "; ")}})
		if total == 0 {
			ginkgo.Fail("no CoreDNS pods (" + CoreDNSSelector + ") in " + CoreDNSNamespace)
		}
		if ready != total {
			ginkgo.Fail(fmt.Sprintf("%d of %d CoreDNS replicas Ready; not Ready: %s", ready, total, strings.Join(notReady, ", ")))
		}
	}, within(time.Minute))

	ginkgo.It("cluster names resolve over UDP from every node", ginkgo.Label("resolve", "udp"), func(ctx ginkgo.SpecContext) {
		resolveFromEveryNode(ctx, false)
	}, within(2*time.Minute))

	ginkgo.It("cluster names resolve over TCP from every node", ginkgo.Label("resolve", "tcp"), func(ctx ginkgo.SpecContext) {
		resolveFromEveryNode(ctx, true)
	}, within(2*time.Minute))
})

// resolveFromEveryNode asks the cluster DNS, from a pod on every node, for the kubernetes
// Service and the probe Service, and compares the answers with their ClusterIPs.
func resolveFromEveryNode(ctx context.Context, overTCP bool) {
	dnsIP, names := dnsExpectations(ctx)
	var pairs []labeledPair
	var want []string
	for _, node := range env.Fleet.Nodes() {
		from := agentOrMissing(agents.PodA, node)
		for _, n := range names {
			pairs = append(pairs, labeledPair{Pair: agents.Pair{From: from, To: n.name,
				Req: probe.Request{Protocol: probe.DNS, Target: hostPort(dnsIP, 53), Name: n.name, DNSOverTCP: overTCP}}})
			want = append(want, n.ip)
		}
	}
	proto := "dns/udp"
	if overTCP {
		proto = "dns/tcp"
	}
	obs := make([]results.Observation, len(pairs))
	for i, o := range env.Fleet.RunAll(ctx, pairsOf(pairs), env.ProbeConcurrency) {
		obs[i] = results.Observation{From: o.From.Node, To: o.To, Protocol: proto, Expected: want[i], Detail: o.Result.Detail, RTTMS: o.Result.RTTMS, Attempts: o.Result.Attempts}
		switch {
		case o.Result.Outcome != probe.OK:
			obs[i].Observed = string(o.Result.Outcome)
		case !slices.Contains(o.Result.Addresses, want[i]):
			obs[i].Observed = strings.Join(o.Result.Addresses, ",")
			obs[i].Detail = "wrong address"
		default:
			obs[i].Observed, obs[i].OK = want[i], true
		}
	}
	verdict(obs, noNodes)
}

type nameIP struct{ name, ip string }

// dnsExpectations reads the cluster DNS Service address and the names to resolve with their
// expected answers.
func dnsExpectations(ctx context.Context) (string, []nameIP) {
	cctx, cancel := context.WithTimeout(ctx, env.Client.Timeouts.APICall)
	defer cancel()
	dnsIP := clusterDNSIP(ctx)
	api, err := env.Client.CoreV1().Services("default").Get(cctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		ginkgo.Fail("kubernetes Service: " + err.Error())
	}
	return dnsIP, []nameIP{
		{"kubernetes.default.svc." + clusterDomain, api.Spec.ClusterIP},
		{agents.ServiceName + "." + env.Fleet.Namespace + ".svc." + clusterDomain, env.Fleet.ClusterIP},
	}
}

func pairsOf(lp []labeledPair) []agents.Pair {
	out := make([]agents.Pair, len(lp))
	for i, p := range lp {
		out[i] = p.Pair
	}
	return out
}
