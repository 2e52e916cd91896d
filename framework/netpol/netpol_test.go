package netpol

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The examples are those of the concept page
// (https://kubernetes.io/docs/concepts/services-networking/network-policies/), in a small
// cluster: namespaces with labels, pods on two nodes, the nodes' own addresses and an outside
// address.

var namespaces = map[string]map[string]string{
	"default":   {"kubernetes.io/metadata.name": "default"},
	"myproject": {"kubernetes.io/metadata.name": "myproject", "project": "myproject"},
	"other":     {"kubernetes.io/metadata.name": "other", "project": "other"},
	"alice":     {"kubernetes.io/metadata.name": "alice", "user": "alice"},
	"bob":       {"kubernetes.io/metadata.name": "bob", "user": "bob"},
}

// endpoints of the examples, by name. Hosts are the nodes n1 and n2 and outside addresses
// (an outside client is a host on no cluster node, as far as the model knows).
var endpoints = map[string]Endpoint{
	"default/db":       pod("default", "db", "n1", "10.1.0.10", map[string]string{"role": "db"}),
	"default/frontend": pod("default", "frontend", "n2", "10.1.0.11", map[string]string{"role": "frontend"}),
	"default/backend":  pod("default", "backend", "n2", "10.1.0.12", map[string]string{"role": "backend"}),
	"default/web": pod("default", "web", "n1", "10.1.0.13", map[string]string{"app": "web"},
		corev1.ContainerPort{Name: "http", ContainerPort: 8080},
		corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}),
	"default/web2": pod("default", "web2", "n2", "10.1.0.14", map[string]string{"app": "web"},
		corev1.ContainerPort{Name: "http", ContainerPort: 9090, Protocol: corev1.ProtocolTCP}),
	"myproject/any":  pod("myproject", "any", "n1", "10.1.1.5", map[string]string{"app": "x"}),
	"other/frontend": pod("other", "frontend", "n2", "10.1.2.5", map[string]string{"role": "frontend"}),
	"other/inblock":  pod("other", "inblock", "n2", "172.17.3.3", nil),
	"alice/client":   pod("alice", "client", "n1", "10.1.3.1", map[string]string{"role": "client"}),
	"alice/other":    pod("alice", "other", "n1", "10.1.3.2", map[string]string{"role": "x"}),
	"bob/client":     pod("bob", "client", "n2", "10.1.4.1", map[string]string{"role": "client"}),
	"default/client": pod("default", "client", "n2", "10.1.0.20", map[string]string{"role": "client"}),
	"default/v6":     pod("default", "v6", "n2", "fd00:10::6", map[string]string{"role": "frontend"}),
	"host/n1":        {Host: &Host{Node: "n1", IP: "192.168.0.1"}},
	"host/n2":        {Host: &Host{Node: "n2", IP: "192.168.0.2"}},
	"host/in-block":  {Host: &Host{Node: "in-block", IP: "172.17.2.1"}},
	"host/except":    {Host: &Host{Node: "except", IP: "172.17.1.5"}},
	"host/ten":       {Host: &Host{Node: "ten", IP: "10.0.0.5"}},
	"host/ten-1":     {Host: &Host{Node: "ten-1", IP: "10.0.1.5"}},
	"host/v6":        {Host: &Host{Node: "v6", IP: "2001:db8::5"}},
}

func pod(ns, name, node, ip string, labels map[string]string, ports ...corev1.ContainerPort) Endpoint {
	return Endpoint{Pod: &Pod{Namespace: ns, Name: name, Node: node, IP: ip, Labels: labels, Ports: ports}}
}

func sel(kv ...string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{}
	for i := 0; i+1 < len(kv); i += 2 {
		if s.MatchLabels == nil {
			s.MatchLabels = map[string]string{}
		}
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

func proto(p corev1.Protocol) *corev1.Protocol { return &p }

func numPort(p corev1.Protocol, n int32) networkingv1.NetworkPolicyPort {
	port := intstr.FromInt32(n)
	return networkingv1.NetworkPolicyPort{Protocol: proto(p), Port: &port}
}

func policy(ns, name string, spec networkingv1.NetworkPolicySpec) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

var (
	ingressOnly = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	egressOnly  = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	both        = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
)

// flow is one expectation: from, to, port "6379/TCP", allowed.
type flow struct {
	from, to, port string
	allowed        bool
}

// expect evaluates every flow in a cluster of the example namespaces and the policies, and
// fails on each verdict that differs; every policy must pass Validate first.
func expect(t *testing.T, policies []networkingv1.NetworkPolicy, flows []flow) {
	t.Helper()
	for _, p := range policies {
		if err := Validate(p); err != nil {
			t.Fatalf("example policy: %v", err)
		}
	}
	c := Cluster{Namespaces: namespaces, Policies: policies}
	for _, f := range flows {
		v := c.Evaluate(traffic(t, f.from, f.to, f.port))
		if v.Allowed != f.allowed || v.Allowed != (v.Ingress.Allowed && v.Egress.Allowed) {
			t.Errorf("%s -> %s %s: allowed %v, want %v (ingress: %s; egress: %s)", f.from, f.to, f.port, v.Allowed, f.allowed, v.Ingress.Why, v.Egress.Why)
		}
	}
}

func traffic(t *testing.T, from, to, port string) Traffic {
	t.Helper()
	f, ok := endpoints[from]
	g, ok2 := endpoints[to]
	if !ok || !ok2 {
		t.Fatalf("no endpoint %q or %q", from, to)
	}
	num, pr, _ := strings.Cut(port, "/")
	n := intstr.Parse(num)
	if n.Type != intstr.Int {
		t.Fatalf("port %q", port)
	}
	return Traffic{From: f, To: g, Port: n.IntVal, Protocol: corev1.Protocol(pr)}
}

// TestConceptExample is the concept page's test-network-policy: db pods of default take TCP
// 6379 from 172.17.0.0/16 except 172.17.1.0/24, from any pod of namespaces labelled
// project=myproject and from pods labelled role=frontend of default, and may reach
// 10.0.0.0/24 on TCP 5978 only.
func TestConceptExample(t *testing.T) {
	np := policy("default", "test-network-policy", networkingv1.NetworkPolicySpec{
		PodSelector: *sel("role", "db"),
		PolicyTypes: both,
		Ingress: []networkingv1.NetworkPolicyIngressRule{{
			From: []networkingv1.NetworkPolicyPeer{
				{IPBlock: &networkingv1.IPBlock{CIDR: "172.17.0.0/16", Except: []string{"172.17.1.0/24"}}},
				{NamespaceSelector: sel("project", "myproject")},
				{PodSelector: sel("role", "frontend")},
			},
			Ports: []networkingv1.NetworkPolicyPort{numPort(corev1.ProtocolTCP, 6379)},
		}},
		Egress: []networkingv1.NetworkPolicyEgressRule{{
			To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/24"}}},
			Ports: []networkingv1.NetworkPolicyPort{numPort(corev1.ProtocolTCP, 5978)},
		}},
	})
	expect(t, []networkingv1.NetworkPolicy{np}, []flow{
		{"default/frontend", "default/db", "6379/TCP", true},
		{"default/frontend", "default/db", "6380/TCP", false},
		{"default/frontend", "default/db", "6379/UDP", false},
		{"default/frontend", "default/db", "6379/SCTP", false},
		{"default/backend", "default/db", "6379/TCP", false},
		{"myproject/any", "default/db", "6379/TCP", true},
		{"other/frontend", "default/db", "6379/TCP", false}, // podSelector alone: the policy's namespace
		{"other/inblock", "default/db", "6379/TCP", true},   // ipBlock matches pods by address
		{"host/in-block", "default/db", "6379/TCP", true},
		{"host/except", "default/db", "6379/TCP", false},
		{"host/n2", "default/db", "6379/TCP", false},
		{"host/n1", "default/db", "6379/TCP", true}, // the pod's own node
		{"host/n1", "default/db", "22/TCP", true},
		{"default/db", "host/ten", "5978/TCP", true},
		{"default/db", "host/ten", "5979/TCP", false},
		{"default/db", "host/ten", "5978/UDP", false},
		{"default/db", "host/ten-1", "5978/TCP", false},
		{"default/db", "default/frontend", "5978/TCP", false},
		{"default/db", "host/n1", "5978/TCP", false}, // no node exception for egress
		// Pods the policy does not select are not isolated.
		{"default/frontend", "default/backend", "6379/TCP", true},
		{"default/backend", "host/ten-1", "80/UDP", true},
		{"host/except", "default/frontend", "80/TCP", true},
	})
}

// TestPeersAndVersusOr is the concept page's "Behavior of to and from selectors": one peer
// with namespaceSelector and podSelector is their AND; two peers are an OR, and the
// podSelector alone means the policy's namespace.
func TestPeersAndVersusOr(t *testing.T) {
	spec := func(peers ...networkingv1.NetworkPolicyPeer) networkingv1.NetworkPolicySpec {
		return networkingv1.NetworkPolicySpec{
			PodSelector: *sel("role", "db"),
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: peers}},
		}
	}
	and := policy("default", "and", spec(networkingv1.NetworkPolicyPeer{NamespaceSelector: sel("user", "alice"), PodSelector: sel("role", "client")}))
	or := policy("default", "or", spec(networkingv1.NetworkPolicyPeer{NamespaceSelector: sel("user", "alice")}, networkingv1.NetworkPolicyPeer{PodSelector: sel("role", "client")}))
	expect(t, []networkingv1.NetworkPolicy{and}, []flow{
		{"alice/client", "default/db", "80/TCP", true},
		{"alice/other", "default/db", "80/TCP", false},
		{"bob/client", "default/db", "80/TCP", false},
		{"default/client", "default/db", "80/TCP", false},
	})
	expect(t, []networkingv1.NetworkPolicy{or}, []flow{
		{"alice/client", "default/db", "80/TCP", true},
		{"alice/other", "default/db", "80/TCP", true},
		{"bob/client", "default/db", "80/TCP", false},
		{"default/client", "default/db", "80/TCP", true},
	})
}

// The concept page's default policies, in namespace default.
var (
	denyIngress  = policy("default", "default-deny-ingress", networkingv1.NetworkPolicySpec{PolicyTypes: ingressOnly})
	allowIngress = policy("default", "allow-all-ingress", networkingv1.NetworkPolicySpec{
		PolicyTypes: ingressOnly, Ingress: []networkingv1.NetworkPolicyIngressRule{{}}})
	denyEgress  = policy("default", "default-deny-egress", networkingv1.NetworkPolicySpec{PolicyTypes: egressOnly})
	allowEgress = policy("default", "allow-all-egress", networkingv1.NetworkPolicySpec{
		PolicyTypes: egressOnly, Egress: []networkingv1.NetworkPolicyEgressRule{{}}})
	denyAll = policy("default", "default-deny-all", networkingv1.NetworkPolicySpec{PolicyTypes: both})
)

func TestDefaultDenyIngress(t *testing.T) {
	expect(t, []networkingv1.NetworkPolicy{denyIngress}, []flow{
		{"default/frontend", "default/db", "80/TCP", false},
		{"alice/client", "default/db", "53/UDP", false},
		{"host/n2", "default/db", "80/TCP", false},     // another node
		{"host/n1", "default/db", "80/TCP", true},      // the pod's own node
		{"host/n1", "default/db", "53/UDP", true},      // any port and protocol
		{"default/db", "alice/client", "80/TCP", true}, // egress is not isolated
		{"default/db", "host/ten", "80/TCP", true},
		{"alice/client", "bob/client", "80/TCP", true}, // other namespaces are not isolated
	})
}

func TestAllowAllIngress(t *testing.T) {
	flows := []flow{
		{"default/frontend", "default/db", "80/TCP", true},
		{"alice/client", "default/db", "53/UDP", true},
		{"host/n2", "default/db", "9/SCTP", true},
		{"host/v6", "default/v6", "80/TCP", true},
	}
	expect(t, []networkingv1.NetworkPolicy{allowIngress}, flows)
	// With a default deny beside it: the rules of all policies add up.
	expect(t, []networkingv1.NetworkPolicy{denyIngress, allowIngress}, flows)
}

func TestDefaultDenyEgress(t *testing.T) {
	expect(t, []networkingv1.NetworkPolicy{denyEgress}, []flow{
		{"default/db", "default/frontend", "80/TCP", false},
		{"default/db", "alice/client", "53/UDP", false},
		{"default/db", "host/n1", "80/TCP", false}, // its own node too: no node exception for egress
		{"default/db", "host/ten", "80/TCP", false},
		{"alice/client", "default/db", "80/TCP", true}, // ingress is not isolated
		{"host/n2", "default/db", "80/TCP", true},
	})
}

func TestAllowAllEgress(t *testing.T) {
	flows := []flow{
		{"default/db", "default/frontend", "80/TCP", true},
		{"default/db", "host/ten", "53/UDP", true},
		{"default/v6", "host/v6", "9/SCTP", true},
	}
	expect(t, []networkingv1.NetworkPolicy{allowEgress}, flows)
	expect(t, []networkingv1.NetworkPolicy{denyEgress, allowEgress}, flows)
}

func TestDefaultDenyAll(t *testing.T) {
	expect(t, []networkingv1.NetworkPolicy{denyAll}, []flow{
		{"default/db", "default/frontend", "80/TCP", false},
		{"default/db", "alice/client", "80/TCP", false},
		{"alice/client", "default/db", "80/TCP", false},
		{"host/n1", "default/db", "80/TCP", true},
		{"host/n2", "default/db", "80/TCP", false},
		{"default/db", "host/n1", "80/TCP", false},
		{"alice/client", "bob/client", "80/TCP", true},
	})
	// Both sides are reported: db to frontend fails egress at db and ingress at frontend.
	c := Cluster{Namespaces: namespaces, Policies: []networkingv1.NetworkPolicy{denyAll}}
	v := c.Evaluate(traffic(t, "default/db", "default/frontend", "80/TCP"))
	if v.Ingress.Allowed || v.Egress.Allowed || !v.Ingress.Isolated || !v.Egress.Isolated {
		t.Errorf("deny all: %+v", v)
	}
}

// TestEndPort is the concept page's endPort example: egress to 10.0.0.0/24 on TCP ports 32000
// to 32768 inclusive.
func TestEndPort(t *testing.T) {
	port := numPort(corev1.ProtocolTCP, 32000)
	end := int32(32768)
	port.EndPort = &end
	np := policy("default", "multi-port-egress", networkingv1.NetworkPolicySpec{
		PodSelector: *sel("role", "db"),
		PolicyTypes: egressOnly,
		Egress: []networkingv1.NetworkPolicyEgressRule{{
			To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/24"}}},
			Ports: []networkingv1.NetworkPolicyPort{port},
		}},
	})
	expect(t, []networkingv1.NetworkPolicy{np}, []flow{
		{"default/db", "host/ten", "31999/TCP", false},
		{"default/db", "host/ten", "32000/TCP", true},
		{"default/db", "host/ten", "32500/TCP", true},
		{"default/db", "host/ten", "32768/TCP", true},
		{"default/db", "host/ten", "32769/TCP", false},
		{"default/db", "host/ten", "32000/UDP", false},
		{"default/db", "host/ten-1", "32000/TCP", false},
	})
}

// TestNamedPort: a named port is resolved against the destination pod's container ports, by
// name, number and protocol, for each destination on its own; a host has none.
func TestNamedPort(t *testing.T) {
	http, dns := intstr.FromString("http"), intstr.FromString("dns")
	ports := []networkingv1.NetworkPolicyPort{{Port: &http}, {Protocol: proto(corev1.ProtocolUDP), Port: &dns}}
	in := policy("default", "named-in", networkingv1.NetworkPolicySpec{
		PodSelector: *sel("app", "web"),
		Ingress:     []networkingv1.NetworkPolicyIngressRule{{Ports: ports}},
	})
	expect(t, []networkingv1.NetworkPolicy{in}, []flow{
		{"default/frontend", "default/web", "8080/TCP", true},
		{"default/frontend", "default/web", "80/TCP", false},
		{"default/frontend", "default/web", "8080/UDP", false},
		{"default/frontend", "default/web", "53/UDP", true},
		{"default/frontend", "default/web", "53/TCP", false}, // the entry's dns is UDP
		{"default/frontend", "default/web2", "9090/TCP", true},
		{"default/frontend", "default/web2", "8080/TCP", false}, // web2's http is 9090
	})
	// The entry's protocol (TCP by default) must be the container port's too.
	tcpDNS := policy("default", "tcp-dns", networkingv1.NetworkPolicySpec{
		PodSelector: *sel("app", "web"),
		Ingress:     []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Port: &dns}}}},
	})
	expect(t, []networkingv1.NetworkPolicy{tcpDNS}, []flow{
		{"default/frontend", "default/web", "53/TCP", false},
		{"default/frontend", "default/web", "53/UDP", false},
	})
	out := policy("default", "named-out", networkingv1.NetworkPolicySpec{
		PodSelector: *sel("role", "db"),
		PolicyTypes: egressOnly,
		Egress:      []networkingv1.NetworkPolicyEgressRule{{Ports: ports}},
	})
	expect(t, []networkingv1.NetworkPolicy{out}, []flow{
		{"default/db", "default/web", "8080/TCP", true},
		{"default/db", "default/web2", "9090/TCP", true},
		{"default/db", "default/web2", "8080/TCP", false},
		{"default/db", "default/web", "53/UDP", true},
		{"default/db", "host/ten", "8080/TCP", false}, // a host has no named ports
		{"default/db", "default/frontend", "8080/TCP", false},
	})
}

// TestImpliedTypes: without policyTypes a policy affects ingress, and egress too when it has
// egress rules; with policyTypes it affects what they say, whatever rules it has.
func TestImpliedTypes(t *testing.T) {
	toFrontend := []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{PodSelector: sel("role", "frontend")}}}}
	implied := policy("default", "implied", networkingv1.NetworkPolicySpec{PodSelector: *sel("role", "db"), Egress: toFrontend})
	expect(t, []networkingv1.NetworkPolicy{implied}, []flow{
		{"default/db", "default/frontend", "80/TCP", true},
		{"default/db", "default/backend", "80/TCP", false},  // egress implied by the egress rules
		{"default/frontend", "default/db", "80/TCP", false}, // ingress always, and it has no ingress rule
	})
	ingressOnlyImplied := policy("default", "ingress-implied", networkingv1.NetworkPolicySpec{PodSelector: *sel("role", "db")})
	expect(t, []networkingv1.NetworkPolicy{ingressOnlyImplied}, []flow{
		{"default/db", "default/backend", "80/TCP", true},
		{"default/frontend", "default/db", "80/TCP", false},
	})
	// policyTypes [Ingress] with egress rules: the egress rules are inert.
	ingressTyped := policy("default", "ingress-typed", networkingv1.NetworkPolicySpec{PodSelector: *sel("role", "db"), PolicyTypes: ingressOnly, Egress: toFrontend})
	expect(t, []networkingv1.NetworkPolicy{ingressTyped}, []flow{
		{"default/db", "default/backend", "80/TCP", true},
		{"default/frontend", "default/db", "80/TCP", false},
	})
	// policyTypes [Egress] without ingress: ingress is not isolated.
	egressTyped := policy("default", "egress-typed", networkingv1.NetworkPolicySpec{PodSelector: *sel("role", "db"), PolicyTypes: egressOnly, Egress: toFrontend})
	expect(t, []networkingv1.NetworkPolicy{egressTyped}, []flow{
		{"default/db", "default/frontend", "80/TCP", true},
		{"default/db", "default/backend", "80/TCP", false},
		{"default/backend", "default/db", "80/TCP", true},
	})
}

// TestSelectsNoPods: a policy whose podSelector matches no pod isolates nothing, and a policy
// selects only pods of its own namespace.
func TestSelectsNoPods(t *testing.T) {
	none := policy("default", "none", networkingv1.NetworkPolicySpec{PodSelector: *sel("role", "nothing"), PolicyTypes: both})
	elsewhere := policy("bob", "deny-all", networkingv1.NetworkPolicySpec{PodSelector: *sel("role", "db"), PolicyTypes: both})
	expect(t, []networkingv1.NetworkPolicy{none, elsewhere}, []flow{
		{"default/frontend", "default/db", "80/TCP", true},
		{"default/db", "default/frontend", "80/TCP", true},
		{"default/db", "host/ten", "80/UDP", true},
	})
}

// TestOwnNode: an isolated pod takes any traffic from its own node's network and nothing from
// another node's; the verdict says which.
func TestOwnNode(t *testing.T) {
	c := Cluster{Namespaces: namespaces, Policies: []networkingv1.NetworkPolicy{denyIngress, allowEgress}}
	v := c.Evaluate(traffic(t, "host/n1", "default/db", "80/TCP"))
	want := Direction{Isolated: true, Allowed: true, Why: "isolated for ingress by default/default-deny-ingress; from the pod's own node n1"}
	if !v.Allowed || !equal(v.Ingress, want) {
		t.Errorf("own node: %+v", v)
	}
	v = c.Evaluate(traffic(t, "host/n2", "default/db", "80/TCP"))
	want = Direction{Isolated: true, Why: "isolated for ingress by default/default-deny-ingress; no rule allows host/n2 port 80/TCP"}
	if v.Allowed || !equal(v.Ingress, want) {
		t.Errorf("other node: %+v", v)
	}
	if v.Egress.Isolated || !v.Egress.Allowed || v.Egress.Why != "host/n2 is host network; no policy applies" {
		t.Errorf("a host is never isolated: %+v", v.Egress)
	}
	// Egress from the pod to its node, allowed by allow-all-egress, names the policy.
	v = c.Evaluate(traffic(t, "default/db", "host/n1", "80/TCP"))
	want = Direction{Isolated: true, Allowed: true, By: []string{"default/allow-all-egress"},
		Why: "isolated for egress by default/allow-all-egress; allowed by default/allow-all-egress"}
	if !v.Allowed || !equal(v.Egress, want) {
		t.Errorf("egress to the node: %+v", v)
	}
	// A pod (not a host) on the same node gets no exception.
	v = c.Evaluate(traffic(t, "default/web", "default/db", "80/TCP"))
	if v.Allowed {
		t.Errorf("pod on the same node: %+v", v)
	}
}

// TestHostsAndSelectors: selectors select pods, never hosts, even the empty namespaceSelector
// that selects every namespace; ipBlocks match hosts and pods by address, in either family.
func TestHostsAndSelectors(t *testing.T) {
	allNamespaces := []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}
	np := policy("default", "all-namespaces", networkingv1.NetworkPolicySpec{
		PodSelector: *sel("role", "db"),
		PolicyTypes: both,
		Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: allNamespaces}},
		Egress:      []networkingv1.NetworkPolicyEgressRule{{To: allNamespaces}},
	})
	expect(t, []networkingv1.NetworkPolicy{np}, []flow{
		{"alice/client", "default/db", "80/TCP", true},
		{"default/frontend", "default/db", "80/TCP", true},
		{"host/n2", "default/db", "80/TCP", false},
		{"host/ten", "default/db", "80/TCP", false},
		{"default/db", "bob/client", "80/TCP", true},
		{"default/db", "host/n2", "80/TCP", false},
		{"default/db", "host/ten", "80/TCP", false},
	})
	anywhere := []networkingv1.NetworkPolicyPeer{
		{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}},
		{IPBlock: &networkingv1.IPBlock{CIDR: "2001:db8::/32"}},
	}
	blocks := policy("default", "blocks", networkingv1.NetworkPolicySpec{
		PodSelector: *sel("role", "frontend"),
		PolicyTypes: both,
		Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: anywhere}},
		Egress:      []networkingv1.NetworkPolicyEgressRule{{To: anywhere}},
	})
	expect(t, []networkingv1.NetworkPolicy{blocks}, []flow{
		{"host/ten", "default/frontend", "80/TCP", true},
		{"alice/client", "default/frontend", "80/TCP", true},
		{"default/frontend", "host/ten", "80/TCP", true},
		{"default/v6", "host/v6", "80/TCP", true}, // 2001:db8::/32
		{"host/v6", "default/v6", "80/TCP", true},
		{"default/frontend", "default/v6", "80/TCP", false}, // fd00:10::6 is in neither
	})
}

// TestUnion: the rules of every policy selecting a pod add up, and the verdict names each
// policy whose rules allowed the traffic, in the cluster's order.
func TestUnion(t *testing.T) {
	a := policy("default", "a", networkingv1.NetworkPolicySpec{PodSelector: *sel("role", "db"),
		Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{numPort(corev1.ProtocolTCP, 80)}}}})
	b := policy("default", "b", networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: sel("role", "frontend")}}}}})
	c := Cluster{Namespaces: namespaces, Policies: []networkingv1.NetworkPolicy{a, b}}
	cases := map[string][]string{
		"default/frontend 80/TCP": {"default/a", "default/b"},
		"default/frontend 81/TCP": {"default/b"},
		"default/backend 80/TCP":  {"default/a"},
		"default/backend 81/TCP":  nil,
	}
	for k, want := range cases {
		from, port, _ := strings.Cut(k, " ")
		v := c.Evaluate(traffic(t, from, "default/db", port))
		if !slices.Equal(v.Ingress.By, want) || v.Allowed != (want != nil) || !v.Ingress.Isolated {
			t.Errorf("%s: %+v, want by %v", k, v.Ingress, want)
		}
	}
	// A port entry without a protocol is TCP only.
	for _, port := range []string{"80/UDP", "80/SCTP"} {
		if v := c.Evaluate(traffic(t, "default/backend", "default/db", port)); v.Allowed {
			t.Errorf("%s: %+v", port, v)
		}
	}
	// An empty protocol is TCP.
	tr := traffic(t, "default/backend", "default/db", "80/TCP")
	tr.Protocol = ""
	if v := c.Evaluate(tr); !v.Allowed {
		t.Errorf("empty protocol: %+v", v)
	}
}

// TestExpressions: matchExpressions, ANDed with matchLabels, in the policy's podSelector and in
// a peer's selectors; NotIn and DoesNotExist hold for a pod without the key.
func TestExpressions(t *testing.T) {
	req := func(key string, op metav1.LabelSelectorOperator, values ...string) metav1.LabelSelectorRequirement {
		return metav1.LabelSelectorRequirement{Key: key, Operator: op, Values: values}
	}
	np := policy("default", "expressions", networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			req("role", metav1.LabelSelectorOpIn, "db", "backend")}},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
			{PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				req("role", metav1.LabelSelectorOpNotIn, "frontend", "db")}}},
			{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels:      map[string]string{"user": "alice"},
				MatchExpressions: []metav1.LabelSelectorRequirement{req("project", metav1.LabelSelectorOpDoesNotExist)}},
				PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{req("role", metav1.LabelSelectorOpExists)}}},
		}}},
	})
	expect(t, []networkingv1.NetworkPolicy{np}, []flow{
		{"default/frontend", "default/db", "80/TCP", false},     // NotIn frontend
		{"default/web", "default/db", "80/TCP", true},           // no role: NotIn holds
		{"default/db", "default/backend", "80/TCP", false},      // NotIn db
		{"default/backend", "default/db", "80/TCP", true},       // backend is neither
		{"alice/client", "default/db", "80/TCP", true},          // alice, no project label, has a role
		{"bob/client", "default/db", "80/TCP", false},           // not alice
		{"myproject/any", "default/db", "80/TCP", false},        // has a project label and no role
		{"default/backend", "default/frontend", "80/TCP", true}, // frontend is not selected (In)
	})
}

func equal(a, b Direction) bool {
	return a.Isolated == b.Isolated && a.Allowed == b.Allowed && slices.Equal(a.By, b.By) && a.Why == b.Why
}

func TestEndpointNames(t *testing.T) {
	for k, e := range endpoints {
		if e.Name() != k {
			t.Errorf("endpoint %q is named %q", k, e.Name())
		}
	}
	if n, a := endpoints["default/db"].Name(), endpoints["default/db"].Addr(); n != "default/db" || a != "10.1.0.10" {
		t.Errorf("pod: %q %q", n, a)
	}
	if n, a := endpoints["host/n1"].Name(), endpoints["host/n1"].Addr(); n != "host/n1" || a != "192.168.0.1" {
		t.Errorf("host: %q %q", n, a)
	}
}
