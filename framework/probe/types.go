// Package probe is netconform's probe agent and its wire types: a small server that runs on every
// node (in the pod network and in the host network), answers echo traffic, reports its network
// state and sends probes on request. The harness reaches agents through the API server's pod
// proxy, and reaches a pod-network agent through the host agent of the same node, so that asking
// a question never depends on the pod network between nodes that is under test.
package probe

import "github.com/netconform/netconform/framework/perf"

// Ports the agent listens on. The same numbers serve pod and host agents: host agents run with
// hostNetwork, so the numbers must not collide with anything a node runs.
const (
	ControlPort = 29080 // HTTP: /healthz, /info, /probe
	TCPEchoPort = 29081 // TCP echo
	UDPEchoPort = 29082 // UDP echo
	BulkPort    = 29083 // TCP sink: reads a length-prefixed stream and acknowledges its size
	// WhoPort answers, over TCP and over UDP, with the address the request came from and the
	// answering agent's name (see WhoAnswer): source IPs, backends behind a Service, flows.
	WhoPort = 29084
	// HostPortWho is the hostPort on every node that maps to the second pod agent's WhoPort.
	HostPortWho = 29085
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
	// WhoTCP connects to a WhoPort (Count connections, one after another) and reads who answered
	// and which address it saw; WhoUDP sends Count datagrams from one socket (one flow, the
	// same 5-tuple throughout) IntervalMS apart, each answered by a WhoPort.
	WhoTCP Protocol = "who-tcp"
	WhoUDP Protocol = "who-udp"
	// Netperf runs one netperf test (Test) for Seconds against the netserver at Target
	// (host:port); the agent must run the perf image (scripts/probe-image.sh --perf). Result.Perf holds
	// the figures, Detail netperf's output when it failed.
	Netperf Protocol = "netperf"
)

// DNS query types a dns probe may ask for (Request.QType). "" is A and AAAA through
// LookupHost against Target. A name that exists without a record of the type asked (NODATA, e.g.
// AAAA of an IPv4-only Service) answers an A or AAAA query with OK, no Addresses and a Detail
// saying so; a name that does not exist (NXDOMAIN) answers every type with WrongAnswer.
const (
	QueryA    = "A"
	QueryAAAA = "AAAA"
	QuerySRV  = "SRV"
	QueryPTR  = "PTR"
	// QuerySystem resolves Name with the agent's own resolver configuration (its resolv.conf:
	// search path and ndots), not against Target; Target may be empty.
	QuerySystem = "system"
)

// Request asks an agent to send one probe.
type Request struct {
	Protocol Protocol `json:"protocol"`
	// Target is host:port for tcp, udp, bulk and http, an IPv4 or IPv6 address for icmp (an
	// ICMPv6 echo for IPv6), the server host:port for dns.
	Target string `json:"target"`
	// TimeoutMS bounds the whole probe.
	TimeoutMS int `json:"timeoutMS"`
	// Size: for icmp the IP packet size in bytes, header included (20 bytes for IPv4, 40 for
	// IPv6, so Size = MTU tests a full-size frame in either family); for bulk the number of bytes
	// to send.
	Size int `json:"size,omitempty"`
	// DontFragment sets DF on icmp probes; for IPv6, which routers never fragment, it keeps the
	// sender's stack from fragmenting (IPV6_PMTUDISC_DO): it refuses what exceeds the path MTU.
	DontFragment bool `json:"dontFragment,omitempty"`
	// Name and DNSOverTCP for dns probes.
	Name       string `json:"name,omitempty"`
	DNSOverTCP bool   `json:"dnsOverTCP,omitempty"`
	// QType is the dns query type (Query*); "" means A and AAAA.
	QType string `json:"qtype,omitempty"`
	// Count repeats a who-tcp, who-udp or dns probe (1 when 0); IntervalMS spaces the
	// repetitions. TimeoutMS then bounds each repetition, and the whole probe takes at most
	// Count x (TimeoutMS + IntervalMS), capped by the agent.
	Count      int `json:"count,omitempty"`
	IntervalMS int `json:"intervalMS,omitempty"`
	// Test and Seconds for netperf probes (perf.Test names); TimeoutMS must exceed Seconds.
	Test    string `json:"test,omitempty"`
	Seconds int    `json:"seconds,omitempty"`
	// DataPort fixes the netserver's data port of a netperf probe (0: netperf's choice), for a
	// netserver behind a Service that forwards only the ports it names.
	DataPort int `json:"dataPort,omitempty"`
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
	FragNeeded       Outcome = "frag-needed"       // ICMP fragmentation needed or ICMPv6 packet too big came back
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
	// Who is what each repetition of a who-tcp or who-udp probe got, in order (one entry per
	// repetition, answered or not). Outcome is OK when every repetition was answered, else
	// the outcome of the first that was not.
	Who []WhoAnswer `json:"who,omitempty"`
	// Records answered by an SRV (target:port) or PTR (name) dns probe; names come without
	// the trailing root dot.
	Records []string `json:"records,omitempty"`
	// Perf is what a netperf probe measured.
	Perf *perf.Sample `json:"perf,omitempty"`
	// RTTsMS are the round trips of each query of a dns probe (one without Count), answered
	// or not (a lost one counts its timeout); Lost of them got no answer or not the right one
	// (an error, NXDOMAIN). Outcome is OK when none was lost.
	RTTsMS []float64 `json:"rttsMS,omitempty"`
	Lost   int       `json:"lost,omitempty"`
}

// WhoAnswer is one answer of a WhoPort, or why there was none.
type WhoAnswer struct {
	// Outcome of this repetition; the fields below are set when it is OK.
	Outcome Outcome `json:"outcome"`
	// Server is the answering agent, "node/pod".
	Server string `json:"server,omitempty"`
	// Peer is the address the server saw the request come from, "ip:port".
	Peer   string `json:"peer,omitempty"`
	Detail string `json:"detail,omitempty"`
	// AtMS is when the repetition was sent, in milliseconds since the probe started.
	AtMS float64 `json:"atMS"`
}

// Link is a network interface as the agent sees it.
type Link struct {
	Name  string   `json:"name"`
	MTU   int      `json:"mtu"`
	Kind  string   `json:"kind,omitempty"` // bridge, vxlan, veth, ... when known
	Addrs []string `json:"addrs,omitempty"`
	Up    bool     `json:"up"`
}

// Route is a route of the main table, IPv4 or IPv6 (Info lists the IPv4 ones first). IPv6
// routes leave out the loopback device's, multicast and link-local (fe80::/10) ones.
type Route struct {
	Dst     string `json:"dst"` // CIDR, e.g. 10.244.1.0/24 or fd00:10:244:1::/64
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
	// PathMTU is the MTU the kernel uses toward PathMTUTo (asked for with ?mtuTo=IP, IPv4 or
	// IPv6): the lowest of the outgoing link's MTU, the route's mtu and any path MTU it learned. Providers
	// (Healthy.MTUOnRoutes) keep pods' eth0 at 1500 and put the tunnel's limit on the route.
	PathMTUTo    string `json:"pathMTUTo,omitempty"`
	PathMTU      int    `json:"pathMTU,omitempty"`
	PathMTUError string `json:"pathMTUError,omitempty"`
	// ResolvConf is the agent's /etc/resolv.conf as it reads it (the search path and ndots
	// its pod got).
	ResolvConf string `json:"resolvConf,omitempty"`
	// SCTP says whether the agent's kernel can open an SCTP socket: "" when it can, else the
	// error (e.g. "protocol not supported": the kernel lacks CONFIG_IP_SCTP).
	SCTP string `json:"sctp,omitempty"`
}
