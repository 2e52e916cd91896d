package suites

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/framework/results"
)

// clusterDomain is the cluster's DNS domain as kubeadm (and so kind and kops) sets it.
const clusterDomain = "cluster.local"

// dnsQueries is how many queries the latency check sends from every node.
const dnsQueries = 100

// The records the cluster DNS must serve for Services and pods, and what a pod's resolver is
// given: asked from a pod on every node, against the cluster DNS Service.
var _ = ginkgo.Describe("dns-records", ginkgo.Label("dns", "records"), func() {
	// query asks, from PodA on every node, one question with an expectation.
	query := func(ctx context.Context, req probe.Request, want func(node string, r probe.Result) (bool, string, string)) {
		dnsIP := clusterDNSIP(ctx)
		if req.QType != probe.QuerySystem {
			req.Target = hostPort(dnsIP, 53)
		}
		var pairs []agents.Pair
		for _, node := range env.Fleet.Nodes() {
			pairs = append(pairs, agents.Pair{From: agentOrMissing(agents.PodA, node), To: req.Name, Req: req})
		}
		var obs []results.Observation
		for _, o := range env.Fleet.RunAll(ctx, pairs, env.ProbeConcurrency) {
			ob := results.Observation{From: o.From.Node, To: o.To, Protocol: "dns/" + orDash(req.QType), RTTMS: o.Result.RTTMS, Attempts: o.Result.Attempts, Detail: o.Result.Detail}
			if o.Result.Outcome == probe.AgentUnreachable {
				ob.Observed = string(o.Result.Outcome)
			} else {
				ob.OK, ob.Expected, ob.Observed = want(o.From.Node, o.Result)
			}
			obs = append(obs, ob)
		}
		verdict(obs, noNodes)
	}
	svcName := func(name string) string { return name + "." + env.Fleet.Namespace + ".svc." + clusterDomain }
	addresses := func(expected []string) func(string, probe.Result) (bool, string, string) {
		sort.Strings(expected)
		return func(_ string, r probe.Result) (bool, string, string) {
			want := strings.Join(expected, ",")
			if r.Outcome != probe.OK {
				return false, want, string(r.Outcome)
			}
			got := append([]string{}, r.Addresses...)
			sort.Strings(got)
			return slices.Equal(got, expected), want, orDash(strings.Join(got, ","))
		}
	}
	records := func(expected []string) func(string, probe.Result) (bool, string, string) {
		for i := range expected {
			expected[i] = strings.TrimSuffix(expected[i], ".")
		}
		sort.Strings(expected)
		return func(_ string, r probe.Result) (bool, string, string) {
			want := strings.Join(expected, ",")
			if r.Outcome != probe.OK {
				return false, want, string(r.Outcome)
			}
			var got []string
			for _, rec := range r.Records {
				got = append(got, strings.ReplaceAll(rec, ".:", ":"))
			}
			for i := range got {
				got[i] = strings.TrimSuffix(got[i], ".")
			}
			sort.Strings(got)
			return slices.Equal(got, expected), want, orDash(strings.Join(got, ","))
		}
	}

	ginkgo.It("a Service's A record is its ClusterIP", ginkgo.Label("a-record"), func(ctx ginkgo.SpecContext) {
		svc := fixture(env.Fleet.Fixtures.Probe, "probe")
		query(ctx, probe.Request{Protocol: probe.DNS, QType: probe.QueryA, Name: svcName(agents.ServiceName)}, addresses(ofFamily(svc.ClusterIPs, ipfamily.IPv4)))
	}, within(time.Minute))

	ginkgo.It("a Service's AAAA records are its IPv6 ClusterIPs (none for an IPv4-only Service)", ginkgo.Label("aaaa-record"), func(ctx ginkgo.SpecContext) {
		svc := fixture(env.Fleet.Fixtures.Probe, "probe")
		query(ctx, probe.Request{Protocol: probe.DNS, QType: probe.QueryAAAA, Name: svcName(agents.ServiceName)}, addresses(ofFamily(svc.ClusterIPs, ipfamily.IPv6)))
	}, within(time.Minute))

	ginkgo.It("SRV records name each named port of a Service", ginkgo.Label("srv-record"), func(ctx ginkgo.SpecContext) {
		name := svcName(agents.ServiceName)
		query(ctx, probe.Request{Protocol: probe.DNS, QType: probe.QuerySRV, Name: "_" + agents.PortUDPEcho + "._udp." + name},
			records([]string{fmt.Sprintf("%s:%d", name, probe.UDPEchoPort)}))
	}, within(time.Minute))

	perFamily(func(f inFamily) {
		ginkgo.It(f.name("a headless Service resolves to its pods' IPs"), f.label(), ginkgo.Label("headless"), f.spec(func(ctx ginkgo.SpecContext) {
			fixture(env.Fleet.Fixtures.Headless, "headless")
			var ips []string
			for _, a := range headlessPods() {
				ips = append(ips, a.IP)
			}
			query(ctx, probe.Request{Protocol: probe.DNS, QType: addressQuery(f.fam), Name: svcName(agents.HeadlessService)}, addresses(ips))
		}), within(time.Minute))

		ginkgo.It(f.name("a pod's hostname.subdomain record resolves to the pod"), f.label(), ginkgo.Label("pod-record"), f.spec(func(ctx ginkgo.SpecContext) {
			solo := env.Fleet.Fixtures.Solo
			if !solo.Ready {
				ginkgo.Fail("the solo pod is not Ready: " + solo.Unavailable())
			}
			query(ctx, probe.Request{Protocol: probe.DNS, QType: addressQuery(f.fam), Name: agents.SoloHostname + "." + svcName(agents.HeadlessService)}, addresses(nonEmpty(solo.IP)))
		}), within(time.Minute))

		ginkgo.It(f.name("a Service's ClusterIP resolves back to its name"), f.label(), ginkgo.Label("ptr-record"), f.spec(func(ctx ginkgo.SpecContext) {
			svc := fixture(env.Fleet.Fixtures.Probe, "probe")
			query(ctx, probe.Request{Protocol: probe.DNS, QType: probe.QueryPTR, Name: svc.ClusterIP}, records([]string{svcName(agents.ServiceName)}))
		}), within(time.Minute))
	})

	ginkgo.It("a headless Service's SRV records name each of its pods", ginkgo.Label("headless", "srv-record"), func(ctx ginkgo.SpecContext) {
		fx := env.Fleet.Fixtures
		fixture(fx.Headless, "headless")
		name := svcName(agents.HeadlessService)
		var want []string
		for _, a := range headlessPods() {
			// A pod with a hostname and the Service as subdomain is named by them; others by
			// each of their addresses (one per family), dashed.
			if a.Role == agents.Solo {
				want = append(want, fmt.Sprintf("%s.%s:%d", agents.SoloHostname, name, probe.TCPEchoPort))
				continue
			}
			for _, ip := range a.IPs {
				want = append(want, fmt.Sprintf("%s.%s:%d", strings.NewReplacer(".", "-", ":", "-").Replace(ip), name, probe.TCPEchoPort))
			}
		}
		query(ctx, probe.Request{Protocol: probe.DNS, QType: probe.QuerySRV, Name: "_" + agents.PortTCPEcho + "._tcp." + name}, records(want))
	}, within(time.Minute))

	ginkgo.It("a name that does not exist is answered as such, not left to time out", ginkgo.Label("nxdomain"), func(ctx ginkgo.SpecContext) {
		query(ctx, probe.Request{Protocol: probe.DNS, QType: probe.QueryA, Name: svcName("netconform-no-such-service")}, func(_ string, r probe.Result) (bool, string, string) {
			return r.Outcome == probe.WrongAnswer, "no such host", string(r.Outcome) + " " + strings.Join(r.Addresses, ",")
		})
	}, within(time.Minute))

	ginkgo.It("a pod's resolver gets the cluster search path and ndots:5", ginkgo.Label("resolv-conf"), func(ctx ginkgo.SpecContext) {
		wantSearch := []string{env.Fleet.Namespace + ".svc." + clusterDomain, "svc." + clusterDomain, clusterDomain}
		want := "search " + strings.Join(wantSearch, " ") + " ...; options ndots:5"
		var obs []results.Observation
		for _, node := range env.Fleet.Nodes() {
			a := agentOrMissing(agents.PodA, node)
			ob := results.Observation{From: node, To: "resolv.conf", Expected: want}
			if !a.Ready {
				ob.Observed, ob.Detail = string(probe.AgentUnreachable), a.Unavailable()
				obs = append(obs, ob)
				continue
			}
			info, err := env.Fleet.Info(ctx, a)
			if err != nil {
				ob.Observed, ob.Detail = string(probe.AgentUnreachable), err.Error()
				obs = append(obs, ob)
				continue
			}
			search, ndots := resolvConf(info.ResolvConf)
			ob.Observed = fmt.Sprintf("search %s; options ndots:%s", strings.Join(search, " "), orDash(ndots))
			ob.OK = len(search) >= len(wantSearch) && slices.Equal(search[:len(wantSearch)], wantSearch) && ndots == "5"
			obs = append(obs, ob)
		}
		verdict(obs, noNodes)
	}, within(time.Minute))

	ginkgo.It("a Service's short name resolves through the search path", ginkgo.Label("search-path"), func(ctx ginkgo.SpecContext) {
		// The system resolver asks for both record types: every family's ClusterIP.
		svc := fixture(env.Fleet.Fixtures.Probe, "probe")
		query(ctx, probe.Request{Protocol: probe.DNS, QType: probe.QuerySystem, Name: agents.ServiceName}, addresses(append([]string(nil), svc.ClusterIPs...)))
	}, within(time.Minute))

	ginkgo.It("every node's pods get answers to 100 queries in a row (p50 and p99 measured)", ginkgo.Label("dns-latency"), func(ctx ginkgo.SpecContext) {
		name := svcName(agents.ServiceName)
		query(ctx, probe.Request{Protocol: probe.DNS, QType: probe.QueryA, Name: name, Count: dnsQueries, TimeoutMS: 1000},
			func(node string, r probe.Result) (bool, string, string) {
				want := fmt.Sprintf("%d of %d answered", dnsQueries, dnsQueries)
				if len(r.RTTsMS) == 0 {
					return false, want, string(r.Outcome)
				}
				p50, p99 := percentile(r.RTTsMS, 50), percentile(r.RTTsMS, 99)
				measure(node+"_dns_p50", p50, "ms")
				measure(node+"_dns_p99", p99, "ms")
				return r.Lost == 0 && len(r.RTTsMS) == dnsQueries, want,
					fmt.Sprintf("%d of %d answered; p50 %.2f ms, p99 %.2f ms", len(r.RTTsMS)-r.Lost, dnsQueries, p50, p99)
			})
	}, within(2*time.Minute))
})

// headlessPods are the Ready pods the headless Service selects: every node's PodA and the solo
// pod (a Service publishes only Ready endpoints).
func headlessPods() []agents.Agent {
	var out []agents.Agent
	for _, node := range env.Fleet.Nodes() {
		if a, ok := env.Fleet.Agent(agents.PodA, node); ok && a.Ready && a.IP != "" {
			out = append(out, a)
		}
	}
	if s := env.Fleet.Fixtures.Solo; s.Ready && s.IP != "" {
		out = append(out, s)
	}
	return out
}

// clusterDNSIP is the cluster DNS Service's address, or the spec fails.
func clusterDNSIP(ctx context.Context) string {
	cctx, cancel := context.WithTimeout(ctx, env.Client.Timeouts.APICall)
	defer cancel()
	dns, err := env.Client.CoreV1().Services(CoreDNSNamespace).Get(cctx, kubeDNSService, metav1.GetOptions{})
	if err != nil {
		ginkgo.Fail("cluster DNS Service: " + err.Error())
	}
	return dns.Spec.ClusterIP
}

// resolvConf reads the search path and ndots of a resolv.conf.
func resolvConf(text string) (search []string, ndots string) {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "search":
			search = f[1:]
		case "options":
			for _, o := range f[1:] {
				if v, ok := strings.CutPrefix(o, "ndots:"); ok {
					ndots = v
				}
			}
		}
	}
	return search, ndots
}

// percentile of a sample (nearest rank).
func percentile(sample []float64, p float64) float64 {
	s := append([]float64{}, sample...)
	sort.Float64s(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// ofFamily keeps the addresses of family fam of a list.
func ofFamily(ips []string, fam ipfamily.Family) []string {
	var out []string
	for _, ip := range ips {
		if f, ok := ipfamily.OfAddr(ip); ok && f == fam {
			out = append(out, ip)
		}
	}
	return out
}

// addressQuery is the DNS record type of a family's addresses: A or AAAA.
func addressQuery(fam ipfamily.Family) string {
	if fam == ipfamily.IPv6 {
		return probe.QueryAAAA
	}
	return probe.QueryA
}

// nonEmpty is ip as a list, empty when ip is "" (an agent without an address of the family
// expects no record; the query then shows whether there is one).
func nonEmpty(ip string) []string {
	if ip == "" {
		return nil
	}
	return []string{ip}
}
