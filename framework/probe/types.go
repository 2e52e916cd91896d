// Package probe is netconform's probe agent and its wire types: a small server that runs on every
// node (in the pod network and in the host network), answers echo traffic, reports its network
// state and sends probes on request. The harness reaches agents through the API server's pod
// proxy, and reaches a pod-network agent through the host agent of the same node, so that asking
// a question never depends on the pod network between nodes that is under test.
package probe

// Ports the agent listens on. The same numbers serve pod and host agents: host agents run with
// hostNetwork, so the numbers must not collide with anything a node runs.
const (
	ControlPort = 29080 // HTTP: /healthz, /info, /probe
	TCPEchoPort = 29081 // TCP echo
	UDPEchoPort = 29082 // UDP echo
	BulkPort    = 29083 // TCP sink: reads a length-prefixed stream and acknowledges its size
)

// Protocol names a kind of probe.
type Protocol string

// Probe kinds.
const (
	TCP  Protocol = "tcp"  // connect and echo a message
	UDP  Protocol = "udp"  // send a datagram and wait for its echo
	ICMP Protocol = "icmp" // ICMP echo, optionally of an exact size with the don't-fragment bit
	DNS  Protocol = "dns"  // resolve a name against a server over UDP or TCP
	Bulk Protocol = "bulk" // send Size bytes over TCP and wait for the acknowledgement
	HTTP Protocol = "http" // GET a URL's status (reach another agent's /healthz)
)

// Request asks an agent to send one probe.
type Request struct {
	Protocol Protocol `json:"protocol"`
	// Target is host:port for tcp, udp, bulk and http, an IP for icmp, the server host:port for dns.
	Target string `json:"target"`
	// TimeoutMS bounds the whole probe.
	TimeoutMS int `json:"timeoutMS"`
	// Size: for icmp the IP packet size in bytes (so Size = MTU tests a full-size frame); for bulk
	// the number of bytes to send.
	Size int `json:"size,omitempty"`
	// DontFragment sets DF on icmp probes.
	DontFragment bool `json:"dontFragment,omitempty"`
	// Name and DNSOverTCP for dns probes.
	Name       string `json:"name,omitempty"`
	DNSOverTCP bool   `json:"dnsOverTCP,omitempty"`
	// Via, when set, is another agent (host:port of its control port) that should send the probe
	// instead: a host agent relays to the pod agent of its own node.
	Via string `json:"via,omitempty"`
}

// Outcome classifies a probe's result: more than ok or not, because a refused oversized packet
// and a silently lost one are different verdicts.
type Outcome string

// Outcomes.
const (
	OK               Outcome = "ok"
	Timeout          Outcome = "timeout"           // nothing came back in time
	Refused          Outcome = "refused"           // connection refused or port unreachable
	Reset            Outcome = "reset"             // the connection was reset (e.g. its listener went away mid-handshake)
	FragNeeded       Outcome = "frag-needed"       // ICMP fragmentation needed came back
	MessageTooLong   Outcome = "message-too-long"  // the local stack refused to send (EMSGSIZE)
	WrongAnswer      Outcome = "wrong-answer"      // an answer that does not match what was sent
	Unreachable      Outcome = "unreachable"       // no route or host unreachable
	Error            Outcome = "error"             // anything else, see Detail
	AgentUnreachable Outcome = "agent-unreachable" // the relaying agent could not reach the probing one
)

// Result is what a probe observed.
type Result struct {
	Outcome Outcome `json:"outcome"`
	// RTTMS is the round trip (or whole transfer) time in milliseconds.
	RTTMS float64 `json:"rttMS"`
	// Addresses answered by a dns probe.
	Addresses []string `json:"addresses,omitempty"`
	// Bytes acknowledged by a bulk probe.
	Bytes int64 `json:"bytes,omitempty"`
	// Detail is the error text or other evidence.
	Detail string `json:"detail,omitempty"`
	// From is the agent that sent the probe (node/pod name).
	From string `json:"from,omitempty"`
	// Attempts is how often the harness asked for this probe (transport retries only).
	Attempts int `json:"attempts,omitempty"`
}

// Link is a network interface as the agent sees it.
type Link struct {
	Name  string   `json:"name"`
	MTU   int      `json:"mtu"`
	Kind  string   `json:"kind,omitempty"` // bridge, vxlan, veth, ... when known
	Addrs []string `json:"addrs,omitempty"`
	Up    bool     `json:"up"`
}

// Route is an IPv4 route of the main table.
type Route struct {
	Dst     string `json:"dst"` // CIDR
	Gateway string `json:"gateway,omitempty"`
	Dev     string `json:"dev"`
}

// Info is an agent's view of its network namespace.
type Info struct {
	Node        string  `json:"node"`
	Pod         string  `json:"pod"`
	PodIP       string  `json:"podIP"`
	HostNetwork bool    `json:"hostNetwork"`
	Links       []Link  `json:"links"`
	Routes      []Route `json:"routes"`
	// PathMTU is the MTU the kernel uses toward PathMTUTo (asked for with ?mtuTo=IP): the
	// lowest of the outgoing link's MTU, the route's mtu and any path MTU it learned. Providers
	// (Healthy.MTUOnRoutes) keep pods' eth0 at 1500 and put the tunnel's limit on the route.
	PathMTUTo    string `json:"pathMTUTo,omitempty"`
	PathMTU      int    `json:"pathMTU,omitempty"`
	PathMTUError string `json:"pathMTUError,omitempty"`
}
