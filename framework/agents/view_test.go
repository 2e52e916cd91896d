package agents

import (
	"testing"

	"github.com/netconform/netconform/framework/ipfamily"
)

// A family's view gives every agent, fixture and Service that family's address, keeps asking
// agents at the address they were deployed with, and leaves the fleet it came from as it was.
func TestFleetIn(t *testing.T) {
	podA := Agent{Role: PodA, Node: "w1", Pod: "a", IP: "10.244.1.2", IPs: []string{"10.244.1.2", "fd00:10:244:1::2"}, Ready: true}
	host := Agent{Role: Host, Node: "w1", Pod: "h", IP: "172.18.0.3", IPs: []string{"172.18.0.3"}, HostNetwork: true, Ready: true}
	ext := Agent{Role: External, IP: "172.18.0.9", IPs: []string{"172.18.0.9", "fdef::9"}, Control: "172.18.0.9:29080", Ready: true}
	f := &Fleet{
		Agents:     map[string]map[string]Agent{PodA: {"w1": podA}, Host: {"w1": host}},
		ClusterIP:  "10.96.0.20",
		ClusterIPs: []string{"10.96.0.20", "fd00:10:96::20"},
		Fixtures: Fixtures{
			Probe:    ServiceAddr{Name: "probe", ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20", "fd00:10:96::20"}},
			Headless: ServiceAddr{Name: "probe-headless", ClusterIP: "None", ClusterIPs: []string{"None"}},
			Solo:     Agent{Role: Solo, Node: "w1", IP: "10.244.1.4", IPs: []string{"10.244.1.4", "fd00:10:244:1::4"}, Ready: true},
		},
		External: &ext,
	}
	v := f.In(ipfamily.IPv6)
	a := v.Agents[PodA]["w1"]
	if a.IP != "fd00:10:244:1::2" || a.Addr() != "10.244.1.2:29080" {
		t.Errorf("pod agent in IPv6: IP %q, asked at %q (want its IPv4 control address)", a.IP, a.Addr())
	}
	if h := v.Agents[Host]["w1"]; h.IP != "" {
		t.Errorf("host agent without IPv6: IP %q, want empty", h.IP)
	}
	if v.ClusterIP != "fd00:10:96::20" || v.Fixtures.Probe.ClusterIP != "fd00:10:96::20" {
		t.Errorf("ClusterIP %q, probe fixture %q", v.ClusterIP, v.Fixtures.Probe.ClusterIP)
	}
	if v.Fixtures.Headless.ClusterIP != "None" {
		t.Errorf("headless ClusterIP %q, want None", v.Fixtures.Headless.ClusterIP)
	}
	if v.Fixtures.Solo.IP != "fd00:10:244:1::4" || v.External.IP != "fdef::9" || v.External.Control != "172.18.0.9:29080" {
		t.Errorf("solo %q, external %q at %q", v.Fixtures.Solo.IP, v.External.IP, v.External.Control)
	}
	// The fleet the view came from is unchanged.
	if f.Agents[PodA]["w1"].IP != "10.244.1.2" || f.External.IP != "172.18.0.9" || f.ClusterIP != "10.96.0.20" {
		t.Errorf("view changed its fleet: %+v", f.Agents[PodA]["w1"])
	}
	// IPv4 of a dual fleet is the fleet's own addresses.
	if v4 := f.In(ipfamily.IPv4); v4.Agents[PodA]["w1"].IP != "10.244.1.2" || v4.ClusterIP != "10.96.0.20" {
		t.Errorf("IPv4 view: %q %q", v4.Agents[PodA]["w1"].IP, v4.ClusterIP)
	}
}
