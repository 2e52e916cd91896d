package agents

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/netconform/netconform/framework/ipfamily"
)

// Fixtures beyond the per-node agents: Services of every kind Kubernetes offers over the probe
// agents, one pod pinned to a node (a single endpoint whose place is known), and a one-replica
// Deployment whose pod a check may replace. Deploy creates them with the agents; Discover
// finds them again (check against a cluster that kept its agents).
const (
	// AffinityService: ClusterIP, sessionAffinity ClientIP, over every pod agent (PodA, PodB).
	AffinityService = "probe-affinity"
	// LocalService: NodePort with externalTrafficPolicy Local and internalTrafficPolicy Local,
	// over the solo pod only: one endpoint, on Fixtures.SoloNode.
	LocalService = "probe-local"
	// EmptyService: ClusterIP and NodePort whose selector matches no pod (no endpoints).
	EmptyService = "probe-empty"
	// HeadlessService: clusterIP None over the PodA agents and the solo pod; the solo pod's
	// subdomain, so it has a hostname.subdomain record.
	HeadlessService = "probe-headless"
	// SoloPod is a pod agent pinned to one node (hostname SoloHostname).
	SoloPod      = "probe-solo"
	SoloHostname = "solo"
	// FlowDeployment is a one-replica Deployment of the pod agent, behind FlowService
	// (ClusterIP and NodePort): the backend a conntrack check replaces under a flow.
	FlowDeployment = "probe-flow"
	FlowService    = "probe-flow"
	// Solo and Flow are the roles of those pods (RoleLabel).
	Solo = "probe-solo"
	Flow = "probe-flow"
	// External is the role of the agent outside the cluster (Fleet.External).
	External = "external"
)

// Port names every fixture Service uses (a Service carries those of them it serves).
const (
	PortTCPEcho = "tcp-echo"
	PortUDPEcho = "udp-echo"
	PortWhoTCP  = "who-tcp"
	PortWhoUDP  = "who-udp"
)

// ServiceAddr is one fixture Service as the API server has it.
type ServiceAddr struct {
	Name      string
	ClusterIP string // "None" for a headless Service; "" when the Service is missing
	// ClusterIPs are every family's ClusterIP (spec.clusterIPs), ClusterIP first.
	ClusterIPs []string
	// Ports and NodePorts by port name (PortTCPEcho, ...); NodePorts only for NodePort Services.
	Ports     map[string]int32
	NodePorts map[string]int32
	// Missing says why the Service could not be read ("" when it was).
	Missing string
}

// ClusterIPOf is the Service's ClusterIP of address family f, "" when it has none (a headless
// or missing Service, or a single-stack cluster's other family).
func (s ServiceAddr) ClusterIPOf(f ipfamily.Family) string {
	return ipfamily.Pick(s.allClusterIPs(), f)
}

// allClusterIPs are the Service's cluster IPs of every family, ClusterIP first; none for a
// headless or missing Service.
func (s ServiceAddr) allClusterIPs() []string {
	if s.Missing != "" || s.ClusterIP == "" || s.ClusterIP == corev1.ClusterIPNone {
		return nil
	}
	out := []string{s.ClusterIP}
	for _, ip := range s.ClusterIPs {
		if ip != s.ClusterIP && ip != corev1.ClusterIPNone && ip != "" {
			out = append(out, ip)
		}
	}
	return out
}

// Fixtures is what Deploy created besides the agents.
type Fixtures struct {
	Probe    ServiceAddr // the Service in front of all pod agents (ServiceName), NodePort
	Affinity ServiceAddr
	Local    ServiceAddr
	Empty    ServiceAddr
	Headless ServiceAddr
	Flow     ServiceAddr
	// SoloNode is the node the solo pod is pinned to: the last node in name order that is not
	// a control-plane node (the only node when there is one).
	SoloNode string
	// Solo and FlowBackend are the pods behind LocalService and FlowService (Ready or why not).
	Solo, FlowBackend Agent
}
