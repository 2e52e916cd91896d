package suites

import (
	"context"
	"fmt"
	"time"

	"github.com/onsi/ginkgo/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers/catalog"
)

// Policy timing: providers program a policy asynchronously (iptables, BPF maps), so the spec
// waits for each expected state (within the PolicyTakesEffect bound), and fails naming the pairs
// that never reached it.
const (
	policyPoll  = time.Second
	policyDeny  = "netconform-deny-b"
	policyAllow = "netconform-allow-a-to-b"
)

var _ = ginkgo.Describe("policy", ginkgo.Label("policy"), func() {
	ginkgo.It("a deny-all ingress policy isolates the pods it selects, and an allow rule admits the pods it names", ginkgo.Label("networkpolicy", "tcp"), func(ctx ginkgo.SpecContext) {
		if env.Healthy.PolicyOff != "" {
			ginkgo.Skip("not-applicable: " + env.Healthy.PolicyOff)
		}
		if why := policyNotExpected(env.Provider); why != "" {
			ginkgo.Skip(why)
		}
		toB := podPairs(probe.TCP, func(dst agents.Agent) probe.Request {
			return probe.Request{Protocol: probe.TCP, Target: hostPort(dst.IP, probe.TCPEchoPort)}
		})
		// probe-a to probe-a on every other node: pods the policies do not select stay reachable.
		var toA []labeledPair
		for _, src := range env.Fleet.Nodes() {
			from := agentOrMissing(agents.PodA, src)
			for _, dst := range env.Fleet.Nodes() {
				if dst != src {
					to := agentOrMissing(agents.PodA, dst)
					toA = append(toA, labeledPair{Pair: agents.Pair{From: from, To: dst + " probe-a", Req: probe.Request{Protocol: probe.TCP, Target: hostPort(to.IP, probe.TCPEchoPort)}}, toAgent: &to})
				}
			}
		}
		// Each step's observations are recorded; the spec fails at the first step whose pairs
		// did not reach the state the policies in place call for.
		step := func(what string, pairs []labeledPair, wantOK bool, wait time.Duration) {
			obs, took := waitForOutcome(ctx, pairs, wantOK, wait)
			for i := range obs {
				obs[i].Detail = what + ": " + obs[i].Detail
			}
			if wait > 0 && !hasBad(obs) {
				measure(what+": in effect within", took.Seconds(), "s")
			}
			observe(obs)
			failOnBad(obs)
		}
		// Connectivity itself is not retried: it must work before any policy.
		step("before any policy", toB, true, 0)

		np := env.Client.NetworkingV1().NetworkPolicies(env.Fleet.Namespace)
		ginkgo.DeferCleanup(func(ctx context.Context) {
			for _, name := range []string{policyDeny, policyAllow} {
				if err := np.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					ginkgo.GinkgoWriter.Printf("delete NetworkPolicy %s: %v\n", name, err)
				}
			}
		}, within(env.Client.Timeouts.APICall))

		selectB := metav1.LabelSelector{MatchLabels: map[string]string{agents.RoleLabel: agents.PodB}}
		createPolicy(ctx, &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: policyDeny},
			Spec:       networkingv1.NetworkPolicySpec{PodSelector: selectB, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
		})
		step("deny-all ingress to probe-b", toB, false, env.Client.Timeouts.PolicyTakesEffect)
		step("deny-all ingress to probe-b, probe-a not selected", toA, true, 0)

		port := intstr.FromInt32(int32(probe.TCPEchoPort))
		tcp := corev1.ProtocolTCP
		createPolicy(ctx, &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: policyAllow},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: selectB,
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{agents.RoleLabel: agents.PodA}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}},
				}},
			},
		})
		step("probe-a allowed into probe-b", toB, true, env.Client.Timeouts.PolicyTakesEffect)

		// Deleting the policies must give the traffic they blocked back (UDP: the allow rule
		// admitted TCP only), and before this spec ends: a spec after it must not meet
		// enforcement the provider has not removed yet (one took 1-2 s in measurements).
		for _, name := range []string{policyDeny, policyAllow} {
			dctx, cancel := context.WithTimeout(ctx, env.Client.Timeouts.APICall)
			err := np.Delete(dctx, name, metav1.DeleteOptions{})
			cancel()
			if err != nil && !apierrors.IsNotFound(err) {
				ginkgo.Fail(fmt.Sprintf("delete NetworkPolicy %s: %v", name, err))
			}
		}
		udpToB := podPairs(probe.UDP, func(dst agents.Agent) probe.Request {
			return probe.Request{Protocol: probe.UDP, Target: hostPort(dst.IP, probe.UDPEchoPort)}
		})
		step("policies deleted: UDP into probe-b back", udpToB, true, env.Client.Timeouts.PolicyTakesEffect)
	}, within(5*time.Minute))
})

// policyNotExpected says why NetworkPolicy is not checked with the provider, or "" when the
// provider enforces it (as the catalog says).
func policyNotExpected(provider string) string {
	if provider == "" {
		return "not-applicable: the provider is not known (pass --provider): whether it enforces NetworkPolicy is not known"
	}
	p, err := catalog.Lookup(provider)
	if err != nil {
		return fmt.Sprintf("not-applicable: provider %q is not in the catalog: whether it enforces NetworkPolicy is not known", provider)
	}
	if !p.Descriptor().EnforcesNetworkPolicy {
		return fmt.Sprintf("not-applicable: %s does not enforce NetworkPolicy", provider)
	}
	return ""
}

func createPolicy(ctx context.Context, p *networkingv1.NetworkPolicy) {
	cctx, cancel := context.WithTimeout(ctx, env.Client.Timeouts.APICall)
	defer cancel()
	if _, err := env.Client.NetworkingV1().NetworkPolicies(env.Fleet.Namespace).Create(cctx, p, metav1.CreateOptions{}); err != nil {
		ginkgo.Fail(fmt.Sprintf("create NetworkPolicy %s: %v", p.Name, err))
	}
}

func hasBad(obs []results.Observation) bool {
	for _, o := range obs {
		if !o.OK {
			return true
		}
	}
	return false
}

// blocked are the outcomes of a probe that a policy stopped: the agent was asked and its
// packets went unanswered or were rejected. An agent that could not be asked proves nothing.
func blocked(o probe.Outcome) bool {
	return o == probe.Timeout || o == probe.Refused || o == probe.Reset || o == probe.Unreachable
}

// waitForOutcome probes the pairs until every one is ok (wantOK) or blocked, for at most wait
// (0: once), and returns the last round's observations marked against that expectation, with
// how long it took.
func waitForOutcome(ctx ginkgo.SpecContext, pairs []labeledPair, wantOK bool, wait time.Duration) ([]results.Observation, time.Duration) {
	start := time.Now()
	for {
		obs := runPairs(ctx, pairs)
		done := true
		for i := range obs {
			if !wantOK {
				obs[i].Expected = "blocked (timeout or refused)"
				obs[i].OK = blocked(probe.Outcome(obs[i].Observed))
			}
			done = done && obs[i].OK
		}
		took := time.Since(start)
		if done || took >= wait || ctx.Err() != nil {
			return obs, took
		}
		select {
		case <-ctx.Done():
			return obs, took
		case <-time.After(policyPoll):
		}
	}
}
