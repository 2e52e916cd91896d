package agents

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/netconform/netconform/framework/ipfamily"
)

// An agent's addresses come from status.podIPs, IPv4 first whatever the order there; IP stays
// status.podIP, and the control address brackets an IPv6 one.
func TestAgentIPs(t *testing.T) {
	p := agentPod(PodA, "w1", nil)
	p.Status.PodIP = "10.244.1.5"
	p.Status.PodIPs = []corev1.PodIP{{IP: "fd00:10:244:1::5"}, {IP: "10.244.1.5"}}
	a := agentFrom(PodA, "w1", p)
	if a.IP != "10.244.1.5" || !slices.Equal(a.IPs, []string{"10.244.1.5", "fd00:10:244:1::5"}) {
		t.Errorf("dual: IP %q IPs %v", a.IP, a.IPs)
	}
	if a.IPOf(ipfamily.IPv6) != "fd00:10:244:1::5" || a.IPOf(ipfamily.IPv4) != "10.244.1.5" || a.Addr() != "10.244.1.5:29080" {
		t.Errorf("IPOf %q %q Addr %q", a.IPOf(ipfamily.IPv6), a.IPOf(ipfamily.IPv4), a.Addr())
	}
	// IPv6 only: the control address is bracketed.
	p.Status.PodIP, p.Status.PodIPs = "fd00:10:244:1::5", []corev1.PodIP{{IP: "fd00:10:244:1::5"}}
	if a := agentFrom(PodA, "w1", p); a.Addr() != "[fd00:10:244:1::5]:29080" || a.IPOf(ipfamily.IPv4) != "" || !slices.Equal(a.IPs, []string{"fd00:10:244:1::5"}) {
		t.Errorf("ipv6: Addr %q IPs %v", a.Addr(), a.IPs)
	}
	// An API server that set podIP only: IPs holds it.
	p.Status.PodIP, p.Status.PodIPs = "10.244.1.5", nil
	if a := agentFrom(PodA, "w1", p); !slices.Equal(a.IPs, []string{"10.244.1.5"}) {
		t.Errorf("podIP only: IPs %v", a.IPs)
	}
	// No address yet.
	p.Status.PodIP = ""
	if a := agentFrom(PodA, "w1", p); a.IPs != nil || a.IPOf(ipfamily.IPv4) != "" {
		t.Errorf("no address: IPs %v", a.IPs)
	}
}

// Every Service netconform creates asks for PreferDualStack: both families on a dual-stack
// cluster, no change on a single-stack one.
func TestServicesPreferDualStack(t *testing.T) {
	for _, s := range services("nc") {
		if p := s.Spec.IPFamilyPolicy; p == nil || *p != corev1.IPFamilyPolicyPreferDualStack {
			t.Errorf("%s: ipFamilyPolicy %v", s.Name, p)
		}
	}
}

// Updating a Service keeps what the API server allocated and may not change (the primary
// family, its ClusterIP, node ports), and brings netconform's ipFamilyPolicy: an older
// SingleStack Service is upgraded, never downgraded.
func TestKeepAllocatedFamilies(t *testing.T) {
	single := corev1.IPFamilyPolicySingleStack
	prefer := corev1.IPFamilyPolicyPreferDualStack
	cases := []struct {
		name       string
		cur        corev1.ServiceSpec
		upd        corev1.ServiceSpec
		clusterIPs []string
		families   []corev1.IPFamily
		policy     *corev1.IPFamilyPolicy
	}{
		{"older SingleStack Service upgraded",
			corev1.ServiceSpec{ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"}, IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, IPFamilyPolicy: &single},
			corev1.ServiceSpec{IPFamilyPolicy: &prefer},
			[]string{"10.96.0.10"}, []corev1.IPFamily{corev1.IPv4Protocol}, &prefer},
		{"dual-stack Service kept as it is",
			corev1.ServiceSpec{ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10", "fd00:10:96::a"}, IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}, IPFamilyPolicy: &prefer},
			corev1.ServiceSpec{IPFamilyPolicy: &prefer},
			[]string{"10.96.0.10", "fd00:10:96::a"}, []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}, &prefer},
		{"headless keeps its primary family",
			corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, ClusterIPs: []string{corev1.ClusterIPNone}, IPFamilies: []corev1.IPFamily{corev1.IPv6Protocol}, IPFamilyPolicy: &single},
			corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, IPFamilyPolicy: &prefer},
			nil, []corev1.IPFamily{corev1.IPv6Protocol}, &prefer},
		{"no policy asked: the Service's own stays",
			corev1.ServiceSpec{ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"}, IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, IPFamilyPolicy: &single},
			corev1.ServiceSpec{},
			[]string{"10.96.0.10"}, []corev1.IPFamily{corev1.IPv4Protocol}, &single},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			upd, cur := &corev1.Service{Spec: c.upd}, &corev1.Service{Spec: c.cur}
			keepAllocated(upd, cur)
			s := upd.Spec
			if !slices.Equal(s.ClusterIPs, c.clusterIPs) || !slices.Equal(s.IPFamilies, c.families) || s.IPFamilyPolicy == nil || *s.IPFamilyPolicy != *c.policy {
				t.Errorf("clusterIPs %v families %v policy %v; want %v %v %v", s.ClusterIPs, s.IPFamilies, *s.IPFamilyPolicy, c.clusterIPs, c.families, *c.policy)
			}
		})
	}
}

// Discover reads every family's ClusterIP: Fleet.ClusterIPs and ServiceAddr.ClusterIPOf.
func TestDiscoverClusterIPs(t *testing.T) {
	prefer := corev1.IPFamilyPolicyPreferDualStack
	svc := func(name string, ips ...string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "nc"}, Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: ips[0], ClusterIPs: ips, IPFamilyPolicy: &prefer}}
	}
	objs := []runtime.Object{node("w1", true), svc(ServiceName, "10.96.0.10", "fd00:10:96::a"), svc(AffinityService, "10.96.0.11"),
		svc(HeadlessService, corev1.ClusterIPNone)}
	c, _ := bareClient(objs...)
	f, err := Discover(context.Background(), c, "nc")
	if err != nil {
		t.Fatal(err)
	}
	if f.ClusterIP != "10.96.0.10" || !slices.Equal(f.ClusterIPs, []string{"10.96.0.10", "fd00:10:96::a"}) {
		t.Errorf("probe Service: ClusterIP %q ClusterIPs %v", f.ClusterIP, f.ClusterIPs)
	}
	fx := f.Fixtures
	if fx.Probe.ClusterIPOf(ipfamily.IPv6) != "fd00:10:96::a" || fx.Affinity.ClusterIPOf(ipfamily.IPv6) != "" || fx.Affinity.ClusterIPOf(ipfamily.IPv4) != "10.96.0.11" {
		t.Errorf("ClusterIPOf: probe %+v affinity %+v", fx.Probe, fx.Affinity)
	}
	if fx.Headless.ClusterIPOf(ipfamily.IPv4) != "" || fx.Empty.ClusterIPOf(ipfamily.IPv4) != "" {
		t.Errorf("headless or missing Services have no ClusterIP: %+v %+v", fx.Headless, fx.Empty)
	}
	if got := (ServiceAddr{ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10", "fd00:10:96::a"}}).allClusterIPs(); !slices.Equal(got, []string{"10.96.0.10", "fd00:10:96::a"}) {
		t.Errorf("allClusterIPs %v", got)
	}
}

// A kept agents namespace from before --ip-family: apply updates its SingleStack probe Service
// in place, to PreferDualStack, with its ClusterIP and family.
func TestApplyUpgradesSingleStackService(t *testing.T) {
	ctx := context.Background()
	single := corev1.IPFamilyPolicySingleStack
	old := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: "nc"}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
		IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, IPFamilyPolicy: &single, Selector: podAgentsSelector(),
		Ports: servicePorts(PortTCPEcho, PortUDPEcho)}}
	c, _ := bareClient(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "nc"}}, node("w1", true), old)
	if _, err := apply(ctx, c, "nc", "img"); err != nil {
		t.Fatal(err)
	}
	p, err := c.CoreV1().Services("nc").Get(ctx, ServiceName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Spec
	if s.IPFamilyPolicy == nil || *s.IPFamilyPolicy != corev1.IPFamilyPolicyPreferDualStack || s.ClusterIP != "10.96.0.10" ||
		!slices.Equal(s.ClusterIPs, []string{"10.96.0.10"}) || !slices.Equal(s.IPFamilies, []corev1.IPFamily{corev1.IPv4Protocol}) {
		t.Errorf("updated Service %+v", s)
	}
}
