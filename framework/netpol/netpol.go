// Package netpol is an independent model of Kubernetes NetworkPolicy semantics: given a
// cluster's namespaces, its endpoints and its policies, it says whether traffic between two
// endpoints is allowed, following the API reference rather than any implementation. The
// suites take their expected verdicts from it, so a CNI plugin is judged against the API, not
// against another plugin.
//
// The rules are those of the concept page
// (https://kubernetes.io/docs/concepts/services-networking/network-policies/) and of the
// NetworkPolicySpec API reference; comments cite them where a rule is decided.
//
// Traffic from a pod to itself is out of scope: it never leaves the pod's loopback, so no
// implementation applies policies to it; callers leave such pairs out (Evaluate treats them
// like any other pair).
package netpol

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Pod is a pod-network endpoint.
type Pod struct {
	Namespace, Name string
	Labels          map[string]string
	IP              string // its address (one family)
	Node            string
	// Ports are its containers' ports; a policy's named ports resolve against them (Name,
	// ContainerPort, Protocol; an empty protocol is TCP, as the API defaults it).
	Ports []corev1.ContainerPort
}

// Host is a node's own network (a host-network client or server), known by the node and its
// address.
type Host struct{ Node, IP string }

// Endpoint is exactly one of Pod or Host.
type Endpoint struct {
	Pod  *Pod
	Host *Host
}

// Name is "ns/name" for a pod and "host/<node>" for a host, as verdicts and tables print it.
func (e Endpoint) Name() string {
	switch {
	case e.Pod != nil:
		return e.Pod.Namespace + "/" + e.Pod.Name
	case e.Host != nil:
		return "host/" + e.Host.Node
	}
	return ""
}

// Addr is the endpoint's IP address.
func (e Endpoint) Addr() string {
	switch {
	case e.Pod != nil:
		return e.Pod.IP
	case e.Host != nil:
		return e.Host.IP
	}
	return ""
}

// Cluster is what the model decides from: the namespaces with their labels as the cluster
// has them (the caller includes kubernetes.io/metadata.name if the scenario relies on it) and
// the policies. A pod whose namespace is missing from Namespaces is taken to be in a
// namespace without labels.
type Cluster struct {
	Namespaces map[string]map[string]string // namespace name -> its labels
	Policies   []networkingv1.NetworkPolicy
}

// Traffic is one connection attempt: From connects to To's address on Port over Protocol (an
// empty protocol is TCP).
type Traffic struct {
	From, To Endpoint
	Port     int32 // destination port, numeric
	Protocol corev1.Protocol
}

// Direction is the verdict of one side: egress at the source, ingress at the destination.
type Direction struct {
	Isolated bool     // the pod at this end is selected by a policy of this direction
	Allowed  bool     // this direction lets the traffic through
	By       []string // "ns/policy" of the policies whose rules allowed it; empty when not isolated or the node rule allowed it
	Why      string   // one line in words
}

// Verdict is the model's answer for one Traffic: allowed when both directions allow it.
type Verdict struct {
	Allowed         bool
	Ingress, Egress Direction
}

// direction names a side of the traffic; its value is the word verdicts print.
type direction string

const (
	ingress direction = "ingress"
	egress  direction = "egress"
)

// Evaluate decides t. Traffic must pass the egress side of its source and the ingress side of
// its destination ("for a connection from a source pod to a destination pod to be allowed,
// both the egress policy on the source pod and the ingress policy on the destination pod need
// to allow the connection"). Evaluate assumes the policies pass Validate; parts the API server
// would refuse match nothing.
func (c Cluster) Evaluate(t Traffic) Verdict {
	if t.Protocol == "" {
		t.Protocol = corev1.ProtocolTCP
	}
	v := Verdict{Ingress: c.side(ingress, t), Egress: c.side(egress, t)}
	v.Allowed = v.Ingress.Allowed && v.Egress.Allowed
	return v
}

// side decides one direction of t: the subject is the pod whose policies apply (the
// destination for ingress, the source for egress) and the peer is the other end.
func (c Cluster) side(d direction, t Traffic) Direction {
	subject, peer := t.To, t.From
	if d == egress {
		subject, peer = t.From, t.To
	}
	if subject.Pod == nil {
		// Policies select pods; a host-network endpoint is never selected. The concept page
		// leaves hostNetwork pods undefined and says the common implementation treats their
		// traffic as the node's, which is what a Host is.
		return Direction{Allowed: true, Why: fmt.Sprintf("%s is host network; no policy applies", subject.Name())}
	}
	// A policy selects pods of its own namespace by its podSelector.
	var isolating []*networkingv1.NetworkPolicy
	for i := range c.Policies {
		p := &c.Policies[i]
		if hasType(p.Spec, d) && p.Namespace == subject.Pod.Namespace && selects(&p.Spec.PodSelector, subject.Pod.Labels) {
			isolating = append(isolating, p)
		}
	}
	if len(isolating) == 0 {
		return Direction{Allowed: true, Why: fmt.Sprintf("not isolated for %s", d)}
	}
	names := make([]string, len(isolating))
	for i, p := range isolating {
		names[i] = policyName(p)
	}
	by := strings.Join(names, ", ")
	// NetworkPolicySpec.ingress: traffic is allowed "if the traffic source is the pod's local
	// node". The spec names no such exception for egress.
	if d == ingress && peer.Host != nil && peer.Host.Node != "" && peer.Host.Node == subject.Pod.Node {
		return Direction{Isolated: true, Allowed: true, Why: fmt.Sprintf("isolated for ingress by %s; from the pod's own node %s", by, peer.Host.Node)}
	}
	// Rules of every selecting policy are combined additively (a union).
	var allowedBy []string
	for i, p := range isolating {
		if c.allows(p, d, peer, t.To, t.Port, t.Protocol) {
			allowedBy = append(allowedBy, names[i])
		}
	}
	if len(allowedBy) == 0 {
		return Direction{Isolated: true, Why: fmt.Sprintf("isolated for %s by %s; no rule allows %s port %d/%s", d, by, peer.Name(), t.Port, t.Protocol)}
	}
	return Direction{Isolated: true, Allowed: true, By: allowedBy,
		Why: fmt.Sprintf("isolated for %s by %s; allowed by %s", d, by, strings.Join(allowedBy, ", "))}
}

// policyName is "ns/name", as verdicts print a policy.
func policyName(p *networkingv1.NetworkPolicy) string { return p.Namespace + "/" + p.Name }

// hasType says whether the policy's effective policyTypes include d. NetworkPolicySpec
// .policyTypes: when unset, every policy affects ingress and those with an egress section
// affect egress too.
func hasType(s networkingv1.NetworkPolicySpec, d direction) bool {
	if len(s.PolicyTypes) == 0 {
		return d == ingress || len(s.Egress) > 0
	}
	want := networkingv1.PolicyTypeIngress
	if d == egress {
		want = networkingv1.PolicyTypeEgress
	}
	for _, t := range s.PolicyTypes {
		if t == want {
			return true
		}
	}
	return false
}

// allows says whether some rule of direction d in p matches the peer and the destination
// port. A rule matches when it matches both its peers and its ports; an empty peer list
// matches every peer and an empty port list every port and protocol. An empty rule list
// allows nothing: the policy only isolates.
func (c Cluster) allows(p *networkingv1.NetworkPolicy, d direction, peer, dst Endpoint, port int32, proto corev1.Protocol) bool {
	match := func(peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) bool {
		return c.anyPeer(p.Namespace, peers, peer) && anyPort(ports, dst, port, proto)
	}
	if d == ingress {
		for _, r := range p.Spec.Ingress {
			if match(r.From, r.Ports) {
				return true
			}
		}
		return false
	}
	for _, r := range p.Spec.Egress {
		if match(r.To, r.Ports) {
			return true
		}
	}
	return false
}

// anyPeer says whether e matches one of peers (items are ORed; none matches all) of a policy
// in namespace ns.
func (c Cluster) anyPeer(ns string, peers []networkingv1.NetworkPolicyPeer, e Endpoint) bool {
	if len(peers) == 0 {
		return true
	}
	for i := range peers {
		if c.peerMatches(ns, &peers[i], e) {
			return true
		}
	}
	return false
}

// peerMatches reads one NetworkPolicyPeer of a policy in namespace ns.
func (c Cluster) peerMatches(ns string, peer *networkingv1.NetworkPolicyPeer, e Endpoint) bool {
	if peer.IPBlock != nil {
		// ipBlock matches by address, whatever the endpoint is (pods and hosts alike).
		return inBlock(peer.IPBlock, e.Addr())
	}
	// Selectors select pods; a host is never one of them.
	if e.Pod == nil {
		return false
	}
	switch {
	case peer.NamespaceSelector != nil:
		// NetworkPolicyPeer: with both set, the pods matching podSelector in the namespaces
		// matching namespaceSelector; with namespaceSelector alone, all their pods.
		if !selects(peer.NamespaceSelector, c.Namespaces[e.Pod.Namespace]) {
			return false
		}
		return peer.PodSelector == nil || selects(peer.PodSelector, e.Pod.Labels)
	case peer.PodSelector != nil:
		// podSelector alone: pods of the policy's own namespace.
		return e.Pod.Namespace == ns && selects(peer.PodSelector, e.Pod.Labels)
	}
	return false // an empty peer, which the API refuses
}

// selects reads a label selector as the API does (matchLabels and matchExpressions ANDed, an
// empty selector matching everything); one the API would refuse matches nothing.
func selects(sel *metav1.LabelSelector, set map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(set))
}

// inBlock says whether addr is inside b's cidr and outside every except. Addresses and CIDRs
// of different families never contain each other.
func inBlock(b *networkingv1.IPBlock, addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	if !contains(b.CIDR, a) {
		return false
	}
	for _, ex := range b.Except {
		if contains(ex, a) {
			return false
		}
	}
	return true
}

// contains reads cidr as the API server stores it: bits beyond the prefix length are ignored
// (servers without StrictIPCIDRValidation accept "10.0.0.1/8" and mean 10.0.0.0/8).
func contains(cidr string, a netip.Addr) bool {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return false
	}
	return p.Masked().Contains(a)
}

// anyPort says whether traffic to dst on port/proto matches one of ports (items are ORed;
// none matches every port and protocol).
func anyPort(ports []networkingv1.NetworkPolicyPort, dst Endpoint, port int32, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for i := range ports {
		if portMatches(&ports[i], dst, port, proto) {
			return true
		}
	}
	return false
}

// portMatches reads one NetworkPolicyPort: its protocol defaults to TCP; no port is every port
// of that protocol; a number with endPort is the inclusive range; a name is resolved against
// the destination pod's container ports (in both directions the port is the destination's).
func portMatches(p *networkingv1.NetworkPolicyPort, dst Endpoint, port int32, proto corev1.Protocol) bool {
	if orTCP(p.Protocol) != proto {
		return false
	}
	if p.Port == nil {
		return true
	}
	if p.Port.Type == intstr.Int {
		lo, hi := p.Port.IntVal, p.Port.IntVal
		if p.EndPort != nil {
			hi = *p.EndPort
		}
		return lo <= port && port <= hi
	}
	// A named port needs a pod to name it; a host has no container ports.
	if dst.Pod == nil {
		return false
	}
	for _, cp := range dst.Pod.Ports {
		if cp.Name == p.Port.StrVal && cp.ContainerPort == port && orTCPValue(cp.Protocol) == proto {
			return true
		}
	}
	return false
}

// orTCP is a policy port's protocol with the API's default.
func orTCP(p *corev1.Protocol) corev1.Protocol {
	if p == nil {
		return corev1.ProtocolTCP
	}
	return orTCPValue(*p)
}

// orTCPValue is a protocol with the API's default for an empty one.
func orTCPValue(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}
