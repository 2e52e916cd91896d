package netpol

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestAgainstNaive compares Evaluate with a second, deliberately naive reading of the rules on
// random universes and random valid policies. The naive reading shares no code with the model:
// it expands every policy into the explicit set of (from, to, port, protocol) tuples its rules
// allow over the universe (ports 79 to 83, TCP, UDP and SCTP), matches labels with its own
// loop and addresses with package net, and then decides each tuple by set membership.
//
// The seeds are fixed, so a failure repeats; it prints the seed, the universe, the policies
// and the traffic.
func TestAgainstNaive(t *testing.T) {
	const cases = 3000
	for seed := uint64(1); seed <= cases; seed++ {
		r := rand.New(rand.NewPCG(seed, 0x6e6574706f6c))
		u := genUniverse(r)
		c := Cluster{Namespaces: u.namespaces}
		for i := range r.IntN(5) {
			p := genPolicy(r, u, i)
			if err := Validate(p); err != nil {
				t.Fatalf("seed %d: the generator made a policy Validate refuses: %v\n%s", seed, err, dump(p))
			}
			c.Policies = append(c.Policies, p)
		}
		n := expand(u, c.Policies)
		for i, from := range u.endpoints {
			for j, to := range u.endpoints {
				if i == j {
					continue // a pod to itself is out of scope
				}
				for _, proto := range protocols {
					for port := int32(minPort); port <= maxPort; port++ {
						tr := Traffic{From: from, To: to, Port: port, Protocol: proto}
						got := c.Evaluate(tr)
						want := n.decide(u, tuple{i, j, port, proto})
						if msg := disagree(got, want); msg != "" {
							t.Fatalf("seed %d: %s -> %s port %d/%s: %s\nmodel: %+v\nnaive: %+v\n%s",
								seed, from.Name(), to.Name(), port, proto, msg, got, want, describe(u, c.Policies))
						}
					}
				}
			}
		}
	}
}

// The universe's ports and protocols: the generator's policies name ports 78 to 85, so the
// edges of ranges fall inside and outside it.
const minPort, maxPort = 79, 83

var protocols = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}

type universe struct {
	namespaces map[string]map[string]string
	endpoints  []Endpoint
}

// tuple is one traffic of the universe by endpoint index.
type tuple struct {
	from, to int
	port     int32
	proto    corev1.Protocol
}

// naive is the expansion: who is isolated, and per tuple the names of the policies whose
// rules allow it.
type naive struct {
	isolatedIn, isolatedEg map[int]bool
	allowIn, allowEg       map[tuple][]string
}

func expand(u universe, policies []networkingv1.NetworkPolicy) naive {
	n := naive{isolatedIn: map[int]bool{}, isolatedEg: map[int]bool{}, allowIn: map[tuple][]string{}, allowEg: map[tuple][]string{}}
	for _, p := range policies {
		name := p.Namespace + "/" + p.Name
		in := len(p.Spec.PolicyTypes) == 0 || slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)
		eg := slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) || (len(p.Spec.PolicyTypes) == 0 && len(p.Spec.Egress) > 0)
		var selected []int
		for i, e := range u.endpoints {
			if e.Pod != nil && e.Pod.Namespace == p.Namespace && labelsMatch(&p.Spec.PodSelector, e.Pod.Labels) {
				selected = append(selected, i)
			}
		}
		// add records that the policy allows every (peer, subject) pair on the ports the
		// rule allows toward the destination.
		add := func(set map[tuple][]string, from, to int, ports []networkingv1.NetworkPolicyPort) {
			for _, pp := range portSet(ports, u.endpoints[to]) {
				k := tuple{from, to, pp.port, pp.proto}
				if !slices.Contains(set[k], name) {
					set[k] = append(set[k], name)
				}
			}
		}
		for _, s := range selected {
			if in {
				n.isolatedIn[s] = true
				for _, rule := range p.Spec.Ingress {
					for _, from := range peerSet(u, p.Namespace, rule.From) {
						add(n.allowIn, from, s, rule.Ports)
					}
				}
			}
			if eg {
				n.isolatedEg[s] = true
				for _, rule := range p.Spec.Egress {
					for _, to := range peerSet(u, p.Namespace, rule.To) {
						add(n.allowEg, s, to, rule.Ports)
					}
				}
			}
		}
	}
	return n
}

// peerSet is the endpoints (by index) a list of peers of a policy in ns names.
func peerSet(u universe, ns string, peers []networkingv1.NetworkPolicyPeer) []int {
	var out []int
	for i, e := range u.endpoints {
		if len(peers) == 0 {
			out = append(out, i)
			continue
		}
		for _, p := range peers {
			var ok bool
			switch {
			case p.IPBlock != nil:
				ok = inCIDR(p.IPBlock.CIDR, e.Addr())
				for _, ex := range p.IPBlock.Except {
					ok = ok && !inCIDR(ex, e.Addr())
				}
			case e.Pod == nil:
				ok = false
			case p.NamespaceSelector != nil && p.PodSelector != nil:
				ok = labelsMatch(p.NamespaceSelector, u.namespaces[e.Pod.Namespace]) && labelsMatch(p.PodSelector, e.Pod.Labels)
			case p.NamespaceSelector != nil:
				ok = labelsMatch(p.NamespaceSelector, u.namespaces[e.Pod.Namespace])
			case p.PodSelector != nil:
				ok = e.Pod.Namespace == ns && labelsMatch(p.PodSelector, e.Pod.Labels)
			}
			if ok {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

type portProto struct {
	port  int32
	proto corev1.Protocol
}

// portSet lists the universe's (port, protocol) pairs a rule's ports allow toward dst.
func portSet(ports []networkingv1.NetworkPolicyPort, dst Endpoint) []portProto {
	var out []portProto
	for _, proto := range protocols {
		for port := int32(minPort); port <= maxPort; port++ {
			if len(ports) == 0 {
				out = append(out, portProto{port, proto})
				continue
			}
			for _, p := range ports {
				want := corev1.ProtocolTCP
				if p.Protocol != nil {
					want = *p.Protocol
				}
				if want != proto {
					continue
				}
				var ok bool
				switch {
				case p.Port == nil:
					ok = true
				case p.Port.Type == intstr.String:
					ok = dst.Pod != nil && slices.ContainsFunc(dst.Pod.Ports, func(cp corev1.ContainerPort) bool {
						cpProto := cp.Protocol
						if cpProto == "" {
							cpProto = corev1.ProtocolTCP
						}
						return cp.Name == p.Port.StrVal && cpProto == proto && cp.ContainerPort == port
					})
				case p.EndPort != nil:
					ok = p.Port.IntVal <= port && port <= *p.EndPort
				default:
					ok = p.Port.IntVal == port
				}
				if ok {
					out = append(out, portProto{port, proto})
					break
				}
			}
		}
	}
	return out
}

// labelsMatch is a label selector read by hand: every matchLabels pair present, and every
// expression true (NotIn and DoesNotExist hold for an absent key).
func labelsMatch(s *metav1.LabelSelector, l map[string]string) bool {
	for k, v := range s.MatchLabels {
		if got, ok := l[k]; !ok || got != v {
			return false
		}
	}
	for _, e := range s.MatchExpressions {
		v, has := l[e.Key]
		in := has && slices.Contains(e.Values, v)
		switch e.Operator {
		case metav1.LabelSelectorOpIn:
			if !in {
				return false
			}
		case metav1.LabelSelectorOpNotIn:
			if in {
				return false
			}
		case metav1.LabelSelectorOpExists:
			if !has {
				return false
			}
		case metav1.LabelSelectorOpDoesNotExist:
			if has {
				return false
			}
		}
	}
	return true
}

func inCIDR(cidr, addr string) bool {
	_, n, err := net.ParseCIDR(cidr)
	return err == nil && n.Contains(net.ParseIP(addr))
}

// side is the naive verdict of one direction.
type side struct {
	Isolated, Allowed bool
	By                []string
}

type naiveVerdict struct {
	Allowed         bool
	Ingress, Egress side
}

func (n naive) decide(u universe, k tuple) naiveVerdict {
	from, to := u.endpoints[k.from], u.endpoints[k.to]
	var v naiveVerdict
	if from.Pod != nil && n.isolatedEg[k.from] {
		v.Egress = side{Isolated: true, By: n.allowEg[k]}
		v.Egress.Allowed = len(v.Egress.By) > 0
	} else {
		v.Egress.Allowed = true
	}
	switch {
	case to.Pod == nil || !n.isolatedIn[k.to]:
		v.Ingress.Allowed = true
	case from.Host != nil && from.Host.Node == to.Pod.Node:
		v.Ingress = side{Isolated: true, Allowed: true}
	default:
		v.Ingress = side{Isolated: true, By: n.allowIn[k]}
		v.Ingress.Allowed = len(v.Ingress.By) > 0
	}
	v.Allowed = v.Ingress.Allowed && v.Egress.Allowed
	return v
}

// disagree says how the model's verdict differs from the naive one, or "".
func disagree(got Verdict, want naiveVerdict) string {
	var diffs []string
	check := func(name string, g Direction, w side) {
		if g.Isolated != w.Isolated || g.Allowed != w.Allowed || !slices.Equal(g.By, w.By) {
			diffs = append(diffs, fmt.Sprintf("%s differs", name))
		}
	}
	if got.Allowed != want.Allowed {
		diffs = append(diffs, fmt.Sprintf("allowed %v, naive %v", got.Allowed, want.Allowed))
	}
	check("ingress", got.Ingress, want.Ingress)
	check("egress", got.Egress, want.Egress)
	return strings.Join(diffs, "; ")
}

// Vocabularies of the generator, small so that selectors often match.
var (
	nsNames    = []string{"a", "b", "c"}
	nsKeys     = []string{"env", "team", "kubernetes.io/metadata.name"}
	podKeys    = []string{"app", "tier"}
	values     = []string{"x", "y", "a", "b"}
	portNames  = []string{"http", "dns", "metrics"}
	nodes      = []string{"n1", "n2", "ext"}
	policyType = [][]networkingv1.PolicyType{nil, {}, ingressOnly, egressOnly, both,
		{networkingv1.PolicyTypeEgress, networkingv1.PolicyTypeIngress}} // {} is unset too
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func genUniverse(r *rand.Rand) universe {
	u := universe{namespaces: map[string]map[string]string{}}
	namespaces := nsNames[:1+r.IntN(len(nsNames))]
	for _, ns := range namespaces {
		if r.IntN(8) == 0 {
			continue // a namespace the caller did not describe: no labels
		}
		l := map[string]string{}
		for _, k := range nsKeys {
			if r.IntN(2) == 0 {
				l[k] = pick(r, values)
			}
		}
		if _, ok := l["kubernetes.io/metadata.name"]; ok {
			l["kubernetes.io/metadata.name"] = ns // as the API server sets it
		}
		u.namespaces[ns] = l
	}
	// IPv4, IPv6 or both in one universe: blocks of one family never match the other.
	family := r.IntN(3)
	addr := func(v4, v6 string, i int) string {
		if family == 0 || (family == 2 && r.IntN(2) == 0) {
			return fmt.Sprintf(v4, r.IntN(2), i)
		}
		return fmt.Sprintf(v6, r.IntN(2), i)
	}
	for i := range 1 + r.IntN(5) {
		p := &Pod{Namespace: pick(r, namespaces), Name: fmt.Sprintf("p%d", i), Node: pick(r, nodes[:2]),
			IP: addr("10.0.%d.%d", "fd00:0:0:%x::%x", 10+i), Labels: map[string]string{}}
		for _, k := range podKeys {
			if r.IntN(2) == 0 {
				p.Labels[k] = pick(r, values)
			}
		}
		for _, name := range portNames {
			if r.IntN(2) == 0 {
				p.Ports = append(p.Ports, corev1.ContainerPort{Name: name, ContainerPort: minPort + r.Int32N(maxPort-minPort+1),
					Protocol: pick(r, []corev1.Protocol{"", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP})})
			}
		}
		u.endpoints = append(u.endpoints, Endpoint{Pod: p})
	}
	for i, node := range nodes {
		if r.IntN(2) == 0 {
			u.endpoints = append(u.endpoints, Endpoint{Host: &Host{Node: node, IP: addr("192.168.%d.%d", "fd01:0:0:%x::%x", 1+i)}})
		}
	}
	return u
}

func genPolicy(r *rand.Rand, u universe, i int) networkingv1.NetworkPolicy {
	spec := networkingv1.NetworkPolicySpec{PodSelector: *genSelector(r, podKeys), PolicyTypes: pick(r, policyType)}
	switch r.IntN(4) {
	case 0: // no ingress rules
	case 1:
		spec.Ingress = []networkingv1.NetworkPolicyIngressRule{}
	default:
		for range 1 + r.IntN(2) {
			spec.Ingress = append(spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: genPeers(r, u), Ports: genPorts(r)})
		}
	}
	switch r.IntN(4) {
	case 0:
	case 1:
		spec.Egress = []networkingv1.NetworkPolicyEgressRule{}
	default:
		for range 1 + r.IntN(2) {
			spec.Egress = append(spec.Egress, networkingv1.NetworkPolicyEgressRule{To: genPeers(r, u), Ports: genPorts(r)})
		}
	}
	return policy(pick(r, nsNames), fmt.Sprintf("np%d", i), spec)
}

// genSelector is empty a quarter of the time, else some matchLabels and some expressions.
func genSelector(r *rand.Rand, keys []string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{}
	if r.IntN(4) == 0 {
		return s
	}
	for _, k := range keys {
		if r.IntN(3) == 0 {
			if s.MatchLabels == nil {
				s.MatchLabels = map[string]string{}
			}
			s.MatchLabels[k] = pick(r, values)
		}
	}
	for range r.IntN(3) {
		e := metav1.LabelSelectorRequirement{Key: pick(r, keys)}
		switch r.IntN(4) {
		case 0:
			e.Operator = metav1.LabelSelectorOpIn
		case 1:
			e.Operator = metav1.LabelSelectorOpNotIn
		case 2:
			e.Operator = metav1.LabelSelectorOpExists
		case 3:
			e.Operator = metav1.LabelSelectorOpDoesNotExist
		}
		if e.Operator == metav1.LabelSelectorOpIn || e.Operator == metav1.LabelSelectorOpNotIn {
			for _, v := range values {
				if r.IntN(2) == 0 || len(e.Values) == 0 && v == values[len(values)-1] {
					e.Values = append(e.Values, v)
				}
			}
		}
		s.MatchExpressions = append(s.MatchExpressions, e)
	}
	return s
}

// genPeers is nil a quarter of the time (every peer), else one to three peers of every kind.
func genPeers(r *rand.Rand, u universe) []networkingv1.NetworkPolicyPeer {
	var peers []networkingv1.NetworkPolicyPeer
	for range r.IntN(4) {
		var p networkingv1.NetworkPolicyPeer
		switch r.IntN(4) {
		case 0:
			p.PodSelector = genSelector(r, podKeys)
		case 1:
			p.NamespaceSelector = genSelector(r, nsKeys)
		case 2:
			p.PodSelector, p.NamespaceSelector = genSelector(r, podKeys), genSelector(r, nsKeys)
		case 3:
			p.IPBlock = genBlock(r, u)
		}
		peers = append(peers, p)
	}
	return peers
}

// genBlock is a CIDR around one endpoint's address (or everything of its family), with
// excepts around other addresses inside it.
func genBlock(r *rand.Rand, u universe) *networkingv1.IPBlock {
	a := netip.MustParseAddr(pick(r, u.endpoints).Addr())
	bits := pick(r, []int{0, 8, 16, 24, 28, 32})
	if a.Is6() {
		bits = pick(r, []int{0, 16, 48, 64, 120, 128})
	}
	cidr := netip.PrefixFrom(a, bits).Masked()
	b := &networkingv1.IPBlock{CIDR: cidr.String()}
	for range r.IntN(3) {
		ex := netip.MustParseAddr(pick(r, u.endpoints).Addr())
		if !cidr.Contains(ex) || bits == ex.BitLen() {
			continue
		}
		exBits := bits + 1 + r.IntN(ex.BitLen()-bits)
		b.Except = append(b.Except, netip.PrefixFrom(ex, exBits).Masked().String())
	}
	return b
}

// genPorts is nil a third of the time (every port), else one or two ports: any protocol or
// TCP by default, no port, a number, a range or a name (one no pod has, sometimes).
func genPorts(r *rand.Rand) []networkingv1.NetworkPolicyPort {
	var ports []networkingv1.NetworkPolicyPort
	for range r.IntN(3) {
		var p networkingv1.NetworkPolicyPort
		if r.IntN(3) > 0 {
			p.Protocol = proto(pick(r, protocols))
		}
		switch r.IntN(4) {
		case 0:
		case 1:
			n := intstr.FromInt32(78 + r.Int32N(7))
			p.Port = &n
		case 2:
			n := intstr.FromInt32(78 + r.Int32N(7))
			end := n.IntVal + r.Int32N(85-n.IntVal+1)
			p.Port, p.EndPort = &n, &end
		case 3:
			n := intstr.FromString(pick(r, append([]string{"none"}, portNames...)))
			p.Port = &n
		}
		ports = append(ports, p)
	}
	return ports
}

// describe prints a failing case: the namespaces, the endpoints and the policies as JSON.
func describe(u universe, policies []networkingv1.NetworkPolicy) string {
	var b strings.Builder
	fmt.Fprintf(&b, "namespaces: %s\n", dump(u.namespaces))
	for _, e := range u.endpoints {
		if e.Pod != nil {
			fmt.Fprintf(&b, "pod %s ip %s node %s labels %v ports %s\n", e.Name(), e.Pod.IP, e.Pod.Node, e.Pod.Labels, dump(e.Pod.Ports))
		} else {
			fmt.Fprintf(&b, "host %s ip %s\n", e.Host.Node, e.Host.IP)
		}
	}
	for _, p := range policies {
		fmt.Fprintf(&b, "policy %s/%s: %s\n", p.Namespace, p.Name, dump(p.Spec))
	}
	return b.String()
}

func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v (%v)", v, err)
	}
	return string(b)
}
