package suites

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netconform/netconform/framework/agents"
)

// The NetworkPolicy scenarios. Each is one check: the policies its steps put in place, the
// cells it probes, and tags for the pass rates. What each cell must show is never written
// here: the model (framework/netpol) computes it from the policies and the fixture.
//
// Namespaces are named by their suffix (x, y, z: labels ns=<suffix>, env=prod for x and y, dev
// for z); pods a, b, c carry pod=<name> and tier (web for a and c, db for b). Named ports: "web"
// is TCP 80 on a, TCP 81 on b, none on c; "uweb" is UDP 80 everywhere.
type policyScenario struct {
	name string
	tags []string
	// cells the scenario probes besides pod to pod: host-network clients, the Service in front
	// of y/b, DNS through the cluster DNS Service.
	hosts, service, dns bool
	steps               func(p *policyPlan) []policyStep
}

// policyStep is the set of policies in place after a step: the runner creates, updates and
// deletes to get there.
type policyStep struct {
	what     string
	policies []networkingv1.NetworkPolicy
}

// policyPlan builds a scenario's policies against the fixture as deployed.
type policyPlan struct {
	fx *agents.PolicyFixture
	// nodeSources are, per host agent in node order, the addresses the fixture's pods saw it
	// come from (its InternalIP, or e.g. a tunnel address toward remote pods).
	nodeSources [][]string
	any         string // every address of the fixture's family: 0.0.0.0/0 or ::/0
}

func (p *policyPlan) ns(sfx string) string { return p.fx.Namespaces[sfx].Name }

// cidr is one pod's address as a one-address CIDR.
func (p *policyPlan) cidr(sfx, name string) string {
	for _, pod := range p.fx.Pods {
		if pod.Suffix == sfx && pod.Name == name {
			return hostCIDR(pod.IP)
		}
	}
	return ""
}

func hostCIDR(ip string) string {
	for _, c := range ip {
		if c == ':' {
			return ip + "/128"
		}
	}
	return ip + "/32"
}

// policy is a NetworkPolicy in the namespace of suffix sfx.
func (p *policyPlan) policy(sfx, name string, pods metav1.LabelSelector, types []networkingv1.PolicyType, in []networkingv1.NetworkPolicyIngressRule, out []networkingv1.NetworkPolicyEgressRule) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "nc-" + name, Namespace: p.ns(sfx)},
		Spec:       networkingv1.NetworkPolicySpec{PodSelector: pods, PolicyTypes: types, Ingress: in, Egress: out},
	}
}

var (
	ingressOnly = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	egressOnly  = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	bothWays    = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
)

// labels is a selector of matchLabels from key, value pairs; none selects everything.
func sel(kv ...string) metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return metav1.LabelSelector{MatchLabels: m}
}

func selector(s metav1.LabelSelector) *metav1.LabelSelector { return &s }

func podPeer(kv ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: selector(sel(kv...))}
}

func nsPeer(kv ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: selector(sel(kv...))}
}

func bothPeer(ns, pods metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: &ns, PodSelector: &pods}
}

func cidrPeer(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

func ingressFrom(peers ...networkingv1.NetworkPolicyPeer) networkingv1.NetworkPolicyIngressRule {
	return networkingv1.NetworkPolicyIngressRule{From: peers}
}

func egressTo(peers ...networkingv1.NetworkPolicyPeer) networkingv1.NetworkPolicyEgressRule {
	return networkingv1.NetworkPolicyEgressRule{To: peers}
}

// port is a numeric port of a protocol ("" leaves the protocol out: TCP by the API's default).
func polPort(proto corev1.Protocol, n int32) networkingv1.NetworkPolicyPort {
	p := intstr.FromInt32(n)
	np := networkingv1.NetworkPolicyPort{Port: &p}
	if proto != "" {
		np.Protocol = &proto
	}
	return np
}

func polPortRange(proto corev1.Protocol, n, end int32) networkingv1.NetworkPolicyPort {
	np := polPort(proto, n)
	np.EndPort = &end
	return np
}

func polNamedPort(proto corev1.Protocol, name string) networkingv1.NetworkPolicyPort {
	p := intstr.FromString(name)
	return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &p}
}

func oneStep(what string, ps ...networkingv1.NetworkPolicy) []policyStep {
	return []policyStep{{what: what, policies: ps}}
}

const (
	tcp  = corev1.ProtocolTCP
	udp  = corev1.ProtocolUDP
	none = corev1.Protocol("")
)

// policyScenarios are the scenarios, in the order they run.
var policyScenarios = []policyScenario{
	{name: "default deny ingress in a namespace", tags: []string{"ingress"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("deny-all ingress in x", p.policy("x", "deny-in", sel(), ingressOnly, nil, nil))
	}},
	{name: "default deny egress in a namespace", tags: []string{"egress"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("deny-all egress in x", p.policy("x", "deny-out", sel(), egressOnly, nil, nil))
	}},
	{name: "default deny in both directions", tags: []string{"ingress", "egress"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("deny-all both ways in x", p.policy("x", "deny-both", sel(), bothWays, nil, nil))
	}},
	{name: "an empty ingress rule admits everything, whatever else isolates the pods", tags: []string{"ingress"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("deny-all and allow-all ingress in x",
			p.policy("x", "deny-in", sel(), ingressOnly, nil, nil),
			p.policy("x", "allow-in", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{{}}, nil))
	}},
	{name: "ingress from the same namespace only", tags: []string{"ingress", "namespaces"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits x", p.policy("x", "same-ns", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(podPeer())}, nil))
	}},
	{name: "ingress to one pod from pods with a label", tags: []string{"ingress"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x/a admits tier=db of x", p.policy("x", "a-from-db", sel("pod", "a"), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(podPeer("tier", "db"))}, nil))
	}},
	{name: "ingress from namespaces with a label", tags: []string{"ingress", "namespaces"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits env=prod namespaces", p.policy("x", "from-prod", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(nsPeer("env", "prod"))}, nil))
	}},
	{name: "ingress from pods with a label in every namespace", tags: []string{"ingress", "namespaces"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits pod=a of any namespace", p.policy("x", "from-any-a", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(bothPeer(sel(), sel("pod", "a")))}, nil))
	}},
	{name: "namespace and pod selectors in one peer select both (AND)", tags: []string{"ingress", "namespaces"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits pod=b of ns=y", p.policy("x", "and", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(bothPeer(sel("ns", "y"), sel("pod", "b")))}, nil))
	}},
	{name: "namespace and pod selectors as two peers select either (OR)", tags: []string{"ingress", "namespaces"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits ns=y, and pod=b of x", p.policy("x", "or", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(nsPeer("ns", "y"), podPeer("pod", "b"))}, nil))
	}},
	{name: "selectors with match expressions", tags: []string{"ingress", "namespaces"}, steps: func(p *policyPlan) []policyStep {
		nsSel := metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpIn, Values: []string{"prod"}}}}
		podSel := metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "pod", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"c"}}}}
		target := metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpExists}}}
		return oneStep("x admits pod not in (c) of env in (prod)", p.policy("x", "exprs", target, ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(bothPeer(nsSel, podSel))}, nil))
	}},
	{name: "a namespace selected by its kubernetes.io/metadata.name label", tags: []string{"ingress", "namespaces"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits namespace z by name", p.policy("x", "by-name", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(nsPeer("kubernetes.io/metadata.name", p.ns("z")))}, nil))
	}},
	{name: "ingress from an ipBlock of one pod's address", tags: []string{"ingress", "ipblock"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits y/b's address", p.policy("x", "from-ip", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(cidrPeer(p.cidr("y", "b")))}, nil))
	}},
	{name: "ingress from an ipBlock with except", tags: []string{"ingress", "ipblock"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits every address but y/b's and z/a's", p.policy("x", "except", sel(), ingressOnly,
			[]networkingv1.NetworkPolicyIngressRule{ingressFrom(cidrPeer(p.any, p.cidr("y", "b"), p.cidr("z", "a")))}, nil))
	}},
	{name: "egress to an ipBlock with except", tags: []string{"egress", "ipblock"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x reaches every address but z's pods", p.policy("x", "out-except", sel(), egressOnly, nil,
			[]networkingv1.NetworkPolicyEgressRule{egressTo(cidrPeer(p.any, p.cidr("z", "a"), p.cidr("z", "b"), p.cidr("z", "c")))}))
	}},
	{name: "ingress from a node's address", tags: []string{"ingress", "ipblock", "host"}, hosts: true, steps: func(p *policyPlan) []policyStep {
		var peers []networkingv1.NetworkPolicyPeer
		for _, ip := range p.nodeSources[0] {
			peers = append(peers, cidrPeer(hostCIDR(ip)))
		}
		return oneStep("x admits the addresses the first node is seen from", p.policy("x", "from-node", sel(), ingressOnly,
			[]networkingv1.NetworkPolicyIngressRule{ingressFrom(peers...)}, nil))
	}},
	{name: "ingress on one port from anyone", tags: []string{"ingress", "ports"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits TCP 80", p.policy("x", "tcp-80", sel(), ingressOnly,
			[]networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{polPort(tcp, agents.PolicyPortA)}}}, nil))
	}},
	{name: "a port without a protocol is TCP", tags: []string{"ingress", "ports"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits port 81, protocol left out", p.policy("x", "port-81", sel(), ingressOnly,
			[]networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{polPort(none, agents.PolicyPortB)}}}, nil))
	}},
	{name: "ingress over UDP only", tags: []string{"ingress", "ports"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits UDP 80 and 81", p.policy("x", "udp", sel(), ingressOnly,
			[]networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{polPort(udp, agents.PolicyPortA), polPort(udp, agents.PolicyPortB)}}}, nil))
	}},
	{name: "a named port resolves on each destination pod", tags: []string{"ingress", "ports"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits TCP port web", p.policy("x", "named", sel(), ingressOnly,
			[]networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{polNamedPort(tcp, "web")}}}, nil))
	}},
	{name: "a named UDP port", tags: []string{"ingress", "ports"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits UDP port uweb", p.policy("x", "named-udp", sel(), ingressOnly,
			[]networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{polNamedPort(udp, "uweb")}}}, nil))
	}},
	{name: "a port range with endPort", tags: []string{"ingress", "ports"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits TCP 80-81", p.policy("x", "range", sel(), ingressOnly,
			[]networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{polPortRange(tcp, agents.PolicyPortA, agents.PolicyPortB)}}}, nil))
	}},
	{name: "a port range that starts above a port leaves it out", tags: []string{"ingress", "ports"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits TCP 81-90", p.policy("x", "range-81", sel(), ingressOnly,
			[]networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{polPortRange(tcp, agents.PolicyPortB, 90)}}}, nil))
	}},
	{name: "rules pair their peers with their own ports", tags: []string{"ingress", "ports", "namespaces"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x admits ns=y on TCP 80 and ns=z on UDP 81", p.policy("x", "per-rule", sel(), ingressOnly,
			[]networkingv1.NetworkPolicyIngressRule{
				{From: []networkingv1.NetworkPolicyPeer{nsPeer("ns", "y")}, Ports: []networkingv1.NetworkPolicyPort{polPort(tcp, agents.PolicyPortA)}},
				{From: []networkingv1.NetworkPolicyPeer{nsPeer("ns", "z")}, Ports: []networkingv1.NetworkPolicyPort{polPort(udp, agents.PolicyPortB)}},
			}, nil))
	}},
	{name: "egress on one port", tags: []string{"egress", "ports"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x sends to TCP 81 only", p.policy("x", "out-81", sel(), egressOnly, nil,
			[]networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{polPort(tcp, agents.PolicyPortB)}}}))
	}},
	{name: "egress to one namespace", tags: []string{"egress", "namespaces"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x sends to ns=y only", p.policy("x", "out-y", sel(), egressOnly, nil,
			[]networkingv1.NetworkPolicyEgressRule{egressTo(nsPeer("ns", "y"))}))
	}},
	{name: "egress denied with DNS allowed", tags: []string{"egress", "namespaces", "ports"}, dns: true, steps: func(p *policyPlan) []policyStep {
		return oneStep("x sends DNS to CoreDNS only", p.policy("x", "dns-only", sel(), egressOnly, nil,
			[]networkingv1.NetworkPolicyEgressRule{{
				To:    []networkingv1.NetworkPolicyPeer{bothPeer(sel("kubernetes.io/metadata.name", CoreDNSNamespace), sel("k8s-app", "kube-dns"))},
				Ports: []networkingv1.NetworkPolicyPort{polPort(udp, 53), polPort(tcp, 53)},
			}}))
	}},
	{name: "egress of the source and ingress of the destination must both allow", tags: []string{"ingress", "egress", "namespaces"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x sends to ns=y only; y admits ns in (y, z) only",
			p.policy("x", "out-y", sel(), egressOnly, nil, []networkingv1.NetworkPolicyEgressRule{egressTo(nsPeer("ns", "y"))}),
			p.policy("y", "in-yz", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "ns", Operator: metav1.LabelSelectorOpIn, Values: []string{"y", "z"}}}}})}, nil))
	}},
	{name: "several policies on one pod admit the union of their rules", tags: []string{"ingress", "namespaces"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x/a admits pod=b of x, and ns=z",
			p.policy("x", "a-from-b", sel("pod", "a"), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(podPeer("pod", "b"))}, nil),
			p.policy("x", "a-from-z", sel("pod", "a"), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(nsPeer("ns", "z"))}, nil))
	}},
	{name: "without policyTypes, egress rules isolate egress too", tags: []string{"ingress", "egress"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("x: egress to ns=y, policyTypes left out", p.policy("x", "implied", sel(), nil, nil,
			[]networkingv1.NetworkPolicyEgressRule{egressTo(nsPeer("ns", "y"))}))
	}},
	{name: "a policy that selects no pod changes nothing", tags: []string{"ingress"}, steps: func(p *policyPlan) []policyStep {
		return oneStep("deny-all for pod=none in x", p.policy("x", "nobody", sel("pod", "none"), bothWays, nil, nil))
	}},
	{name: "a policy updated in place", tags: []string{"update", "ingress", "namespaces"}, steps: func(p *policyPlan) []policyStep {
		return []policyStep{
			{what: "x admits ns=y", policies: []networkingv1.NetworkPolicy{p.policy("x", "moving", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(nsPeer("ns", "y"))}, nil)}},
			{what: "updated: x admits ns=z", policies: []networkingv1.NetworkPolicy{p.policy("x", "moving", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(nsPeer("ns", "z"))}, nil)}},
		}
	}},
	{name: "a policy added next to another", tags: []string{"update", "ingress"}, steps: func(p *policyPlan) []policyStep {
		deny := p.policy("x", "deny-in", sel(), ingressOnly, nil, nil)
		return []policyStep{
			{what: "deny-all ingress in x", policies: []networkingv1.NetworkPolicy{deny}},
			{what: "added: x admits pod=c of any namespace", policies: []networkingv1.NetworkPolicy{deny,
				p.policy("x", "from-c", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(bothPeer(sel(), sel("pod", "c")))}, nil)}},
		}
	}},
	{name: "a policy deleted gives the traffic back", tags: []string{"update", "egress"}, steps: func(p *policyPlan) []policyStep {
		return []policyStep{
			{what: "deny-all egress in y", policies: []networkingv1.NetworkPolicy{p.policy("y", "deny-out", sel(), egressOnly, nil, nil)}},
			{what: "deleted"},
		}
	}},
	{name: "a policy on a Service's backend holds through the ClusterIP", tags: []string{"service", "ingress", "namespaces"}, service: true, steps: func(p *policyPlan) []policyStep {
		return oneStep("y/b admits ns=x only", p.policy("y", "svc-backend", sel("pod", "b"), ingressOnly, []networkingv1.NetworkPolicyIngressRule{ingressFrom(nsPeer("ns", "x"))}, nil))
	}},
	{name: "host-network clients: the pod's own node is always admitted", tags: []string{"host", "ingress"}, hosts: true, steps: func(p *policyPlan) []policyStep {
		return oneStep("deny-all ingress in x", p.policy("x", "deny-in", sel(), ingressOnly, nil, nil))
	}},
}
