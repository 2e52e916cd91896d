package netpol

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ingressPolicy is a policy in default with one ingress rule of the given peers and ports.
func ingressPolicy(peers []networkingv1.NetworkPolicyPeer, ports ...networkingv1.NetworkPolicyPort) networkingv1.NetworkPolicy {
	return policy("default", "p", networkingv1.NetworkPolicySpec{
		Ingress: []networkingv1.NetworkPolicyIngressRule{{From: peers, Ports: ports}},
	})
}

func block(cidr string, except ...string) []networkingv1.NetworkPolicyPeer {
	return []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}}
}

func endPort(p networkingv1.NetworkPolicyPort, end int32) networkingv1.NetworkPolicyPort {
	p.EndPort = &end
	return p
}

func TestValidateAccepts(t *testing.T) {
	named := intstr.FromString("http")
	ok := []networkingv1.NetworkPolicy{
		denyAll, allowIngress, allowEgress,
		ingressPolicy(block("172.17.0.0/16", "172.17.1.0/24", "172.17.2.4/32")),
		ingressPolicy(block("2001:db8::/32", "2001:db8:1::/48")),
		ingressPolicy(block("0.0.0.0/0")),
		ingressPolicy([]networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("user", "alice"), PodSelector: sel("role", "client")}}),
		ingressPolicy([]networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}),
		ingressPolicy(nil, endPort(numPort(corev1.ProtocolTCP, 32000), 32768)),
		ingressPolicy(nil, endPort(numPort(corev1.ProtocolSCTP, 80), 80)),
		ingressPolicy(nil, networkingv1.NetworkPolicyPort{Port: &named}),
		ingressPolicy(nil, networkingv1.NetworkPolicyPort{Protocol: proto(corev1.ProtocolUDP)}),
		policy("default", "p", networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "a", Operator: metav1.LabelSelectorOpIn, Values: []string{"x", "y"}},
				{Key: "b", Operator: metav1.LabelSelectorOpDoesNotExist},
			}}}),
	}
	for _, p := range ok {
		if err := Validate(p); err != nil {
			t.Errorf("%+v: %v", p.Spec, err)
		}
	}
}

func TestValidateRefuses(t *testing.T) {
	named := intstr.FromString("http")
	badName := intstr.FromString("HTTP_port")
	noPort := networkingv1.NetworkPolicyPort{}
	cases := map[string]networkingv1.NetworkPolicy{
		"spec.ingress[0].ports[0].endPort: Invalid value: 80: may not be specified when `port` is non-numeric": ingressPolicy(nil,
			endPort(networkingv1.NetworkPolicyPort{Port: &named}, 80)),
		"spec.ingress[0].ports[0].endPort: Invalid value: 80: may not be specified when `port` is not specified": ingressPolicy(nil,
			endPort(noPort, 80)),
		"spec.ingress[0].ports[0].endPort: Invalid value: 79: must be greater than or equal to `port`": ingressPolicy(nil,
			endPort(numPort(corev1.ProtocolTCP, 80), 79)),
		"spec.ingress[0].ports[0].endPort: Invalid value: 70000: must be between 1 and 65535, inclusive": ingressPolicy(nil,
			endPort(numPort(corev1.ProtocolTCP, 80), 70000)),
		"spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive": ingressPolicy(nil,
			numPort(corev1.ProtocolTCP, 0)),
		`spec.ingress[0].ports[0].port: Invalid value: "HTTP_port"`: ingressPolicy(nil,
			networkingv1.NetworkPolicyPort{Port: &badName}),
		`spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP"`: ingressPolicy(nil,
			numPort("ICMP", 80)),
		"spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer": ingressPolicy([]networkingv1.NetworkPolicyPeer{{
			IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}, PodSelector: &metav1.LabelSelector{}}}),
		"spec.ingress[0].from[0]: Required value: must specify a peer":                                       ingressPolicy([]networkingv1.NetworkPolicyPeer{{}}),
		`spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0/8": must be a valid CIDR`:              ingressPolicy(block("10.0.0/8")),
		`spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.1": must be a valid CIDR`:              ingressPolicy(block("10.0.0.1")),
		`spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "010.0.0.0/8": must be a valid CIDR`:           ingressPolicy(block("010.0.0.0/8")),
		`spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.1/8": must not have bits set`:          ingressPolicy(block("10.0.0.1/8")),
		`spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "::ffff:10.0.0.0/104": must not have an IPv4`:  ingressPolicy(block("::ffff:10.0.0.0/104")),
		"spec.ingress[0].from[0].ipBlock.cidr: Required value":                                               ingressPolicy(block("")),
		`spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/16": must be a strict subset`:   ingressPolicy(block("10.0.0.0/16", "10.1.0.0/16")),
		`spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.0.0.0/8": must be a strict subset`:    ingressPolicy(block("10.0.0.0/16", "10.0.0.0/8")),
		`spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.0.0.0/16": must be a strict subset`:   ingressPolicy(block("10.0.0.0/16", "10.0.0.0/16")),
		`spec.ingress[0].from[0].ipBlock.except[1]: Invalid value: "2001:db8::/64": must be a strict subset`: ingressPolicy(block("10.0.0.0/16", "10.0.1.0/24", "2001:db8::/64")),
		`spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.0.1.0/33": must be a valid CIDR`:      ingressPolicy(block("10.0.0.0/16", "10.0.1.0/33")),
		`spec.ingress[0].from[0].podSelector.matchExpressions[0].values: Required value`: ingressPolicy([]networkingv1.NetworkPolicyPeer{{
			PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: metav1.LabelSelectorOpIn}}}}}),
		`spec.ingress[0].from[0].namespaceSelector.matchLabels: Invalid value: "not a value"`: ingressPolicy([]networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: sel("user", "not a value")}}),
		`spec.podSelector.matchExpressions[0].operator: Invalid value: "Near"`: policy("default", "p", networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Near", Values: []string{"x"}}}}}),
		`spec.egress[1].to[0].ipBlock.cidr: Invalid value: "nonsense"`: policy("default", "p", networkingv1.NetworkPolicySpec{
			Egress: []networkingv1.NetworkPolicyEgressRule{{}, {To: block("nonsense")}}}),
		`spec.policyTypes[0]: Unsupported value: "Both"`: policy("default", "p", networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Both"}}),
		"spec.policyTypes: Invalid value": policy("default", "p", networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{"Ingress", "Egress", "Ingress"}}),
	}
	for want, p := range cases {
		err := Validate(p)
		if err == nil || !strings.HasPrefix(err.Error(), "network policy default/p: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q, got %v", want, err)
		}
	}
}

// TestValidateEvery: every problem of a policy is reported, not only the first.
func TestValidateEvery(t *testing.T) {
	p := ingressPolicy(block("10.0.0.0/33", "10.0.0.0/8"), endPort(networkingv1.NetworkPolicyPort{}, 9))
	err := Validate(p)
	for _, want := range []string{"ipBlock.cidr", "ports[0].endPort"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %s in %v", want, err)
		}
	}
}
