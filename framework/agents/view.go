package agents

import (
	"maps"

	"github.com/netconform/netconform/framework/ipfamily"
)

// In is the fleet as seen in one address family: every agent's IP (the fixtures' and the
// external agent's too) is its address of family fam and every Service's ClusterIP its
// ClusterIP of fam, so that a check written against IP and ClusterIP probes that family. An
// agent or Service without an address of fam gets "" (a check then names it rather than probing
// the other family). Agents keep being asked at the address they were deployed with:
// a broken family must fail its probes, not make its agents unreachable.
//
// The view shares the receiver's client and bookkeeping; it is for probing, not for changing
// the fleet (ReplaceFlowBackend on a view updates the view only).
func (f *Fleet) In(fam ipfamily.Family) *Fleet {
	v := *f
	v.Agents = make(map[string]map[string]Agent, len(f.Agents))
	for role, byNode := range f.Agents {
		m := make(map[string]Agent, len(byNode))
		for node, a := range byNode {
			m[node] = a.in(fam)
		}
		v.Agents[role] = m
	}
	v.ClusterIP = ServiceAddr{ClusterIP: f.ClusterIP, ClusterIPs: f.ClusterIPs}.In(fam).ClusterIP
	fx := f.Fixtures
	for _, s := range []*ServiceAddr{&fx.Probe, &fx.Affinity, &fx.Local, &fx.Empty, &fx.Headless, &fx.Flow} {
		*s = s.In(fam)
	}
	fx.Solo, fx.FlowBackend = fx.Solo.in(fam), fx.FlowBackend.in(fam)
	v.Fixtures = fx
	if f.External != nil {
		ext := f.External.in(fam)
		v.External = &ext
	}
	v.NotReadyNodes = maps.Clone(f.NotReadyNodes)
	return &v
}

// in is the agent with IP set to its address of family fam; it is still asked at the address
// it was deployed with (controlIP).
func (a Agent) in(fam ipfamily.Family) Agent {
	if a.controlIP == "" {
		a.controlIP = a.IP
	}
	a.IP = a.IPOf(fam)
	return a
}

// In is the Service with ClusterIP set to its ClusterIP of family fam; a headless or missing
// Service stays as it is.
func (s ServiceAddr) In(fam ipfamily.Family) ServiceAddr {
	if ips := s.allClusterIPs(); len(ips) > 0 {
		s.ClusterIP = ipfamily.Pick(ips, fam)
	}
	return s
}
