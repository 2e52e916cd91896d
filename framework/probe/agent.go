package probe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

// Identity says where an agent runs; it comes from the downward API.
type Identity struct {
	Node, Pod, PodIP string
	HostNetwork      bool
}

// Agent serves echo traffic and the control API.
type Agent struct {
	ID     Identity
	Logger *log.Logger
	// EchoPorts are further ports with a TCP and a UDP echo listener each, besides the fixed
	// ones: the NetworkPolicy fixture's pods serve 80 and 81, the ports policies name.
	EchoPorts []int
	// Netserver runs netperf's server on NetserverPort beside the agent (perf image only), for
	// netperf probes from other agents.
	Netserver bool
}

// relayClient opens a new connection for every relayed request: a POST on a kept-alive
// connection that the other side has just closed fails with EOF and is not retried, which
// would show up as a broken agent.
var relayClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// relayMargin is what a relaying agent adds to a probe's timeout for the extra hop.
const relayMargin = 2 * time.Second

// maxProbeTimeout caps what a caller may ask for, so a bad request cannot pin a handler: it
// bounds one repetition and the whole of a repeated probe.
const maxProbeTimeout = 60 * time.Second

// defaultProbeTimeout replaces a TimeoutMS that is not set or above maxProbeTimeout.
const defaultProbeTimeout = 5 * time.Second

// repeatMargin is what a repeated probe's bound adds to Count x (TimeoutMS + IntervalMS) for
// the work between repetitions (dialling, parsing), so that the last repetition keeps its own
// timeout instead of being cut by the whole probe's.
const repeatMargin = 500 * time.Millisecond

// maxRepetitions bounds Count: every repetition is an entry of the result, and a relayed result
// must fit the relay's 1 MiB read. A request above it is answered with Error.
const maxRepetitions = 1000

// repeats says whether p honours Count and IntervalMS; other probes run once whatever they say.
func (p Protocol) repeats() bool { return p == WhoTCP || p == WhoUDP || p == DNS }

// timeout bounds one repetition (the whole probe when it is not repeated).
func (r Request) timeout() time.Duration {
	// Compared in milliseconds first, so that a huge value cannot overflow a Duration.
	if r.TimeoutMS <= 0 || r.TimeoutMS > int(maxProbeTimeout/time.Millisecond) {
		return defaultProbeTimeout
	}
	return time.Duration(r.TimeoutMS) * time.Millisecond
}

// interval is the pause between one repetition's end and the next one's start.
func (r Request) interval() time.Duration {
	return time.Duration(min(max(r.IntervalMS, 0), int(maxProbeTimeout/time.Millisecond))) * time.Millisecond
}

// repetitions is how often the probe runs: Count for protocols that repeat, at least 1, at
// most maxRepetitions.
func (r Request) repetitions() int {
	if !r.Protocol.repeats() {
		return 1
	}
	return min(max(r.Count, 1), maxRepetitions)
}

// Budget is the longest an agent takes to answer r, the bound Agent.Probe puts on it: TimeoutMS
// for a probe that runs once (5 s when it is unset or above 60 s); for a repeated probe (Count > 1
// on who-tcp, who-udp or dns) Count x (TimeoutMS + IntervalMS) plus a 500 ms margin, capped at
// 60 s (the repetitions that do not fit fail as timeouts). When Via is set the relaying agent
// waits relayMargin (2 s) longer than the relayed one, and Budget includes it, so that a caller
// sizing its own deadline from Budget() of the request it sends gets the whole figure.
func (r Request) Budget() time.Duration {
	b := r.timeout()
	if n := r.repetitions(); n > 1 {
		b = min(time.Duration(n)*(r.timeout()+r.interval())+repeatMargin, maxProbeTimeout)
	}
	if r.Via != "" {
		b += relayMargin
	}
	return b
}

// Serve runs every listener until ctx ends.
func (a *Agent) Serve(ctx context.Context) error {
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	listen := func(what string, port int) (net.Listener, error) {
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			return nil, fmt.Errorf("listen %s: %w", what, err)
		}
		closers = append(closers, l)
		return l, nil
	}
	listenPacket := func(what string, port int) (net.PacketConn, error) {
		pc, err := net.ListenPacket("udp", fmt.Sprintf(":%d", port))
		if err != nil {
			return nil, fmt.Errorf("listen %s: %w", what, err)
		}
		closers = append(closers, pc)
		return pc, nil
	}
	tcp, err := listen("tcp echo", TCPEchoPort)
	if err != nil {
		return err
	}
	bulk, err := listen("bulk", BulkPort)
	if err != nil {
		closeAll()
		return err
	}
	whoTCP, err := listen("who tcp", WhoPort)
	if err != nil {
		closeAll()
		return err
	}
	udp, err := listenPacket("udp echo", UDPEchoPort)
	if err != nil {
		closeAll()
		return err
	}
	whoUDP, err := listenPacket("who udp", WhoPort)
	if err != nil {
		closeAll()
		return err
	}
	errc := make(chan error, 7+2*len(a.EchoPorts))
	for _, port := range a.EchoPorts {
		l, err := listen(fmt.Sprintf("tcp echo %d", port), port)
		if err != nil {
			closeAll()
			return err
		}
		pc, err := listenPacket(fmt.Sprintf("udp echo %d", port), port)
		if err != nil {
			closeAll()
			return err
		}
		go func() { errc <- serveStream(l, echoConn) }()
		go func() { errc <- serveUDPEcho(pc) }()
	}
	srv := &http.Server{
		Addr:              fmt.Sprintf(":%d", ControlPort),
		Handler:           a.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { errc <- serveStream(tcp, echoConn) }()
	go func() { errc <- serveStream(bulk, sinkConn) }()
	go func() { errc <- serveWhoTCP(whoTCP, a.name()) }()
	go func() { errc <- serveUDPEcho(udp) }()
	go func() { errc <- serveWhoUDP(whoUDP, a.name()) }()
	go func() { errc <- srv.ListenAndServe() }()
	if a.Netserver {
		// Foreground (-D) so that it ends with the agent, and an exit of its own ends the agent:
		// a perf agent without its server would refuse every test and look like a network fault.
		go func() { errc <- runNetserver(ctx) }()
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	closeAll()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Handler is the control API.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /info", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if via := q.Get("via"); via != "" {
			q.Del("via")
			relayInfo(r.Context(), w, via, q.Encode())
			return
		}
		info, err := a.Info()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if to := q.Get("mtuTo"); to != "" {
			info.PathMTUTo = to
			if info.PathMTU, err = PathMTU(to); err != nil {
				info.PathMTUError = err.Error()
			}
		}
		writeJSON(w, info)
	})
	mux.HandleFunc("POST /probe", func(w http.ResponseWriter, r *http.Request) {
		var req Request
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
			http.Error(w, "bad probe request: "+err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, a.Probe(r.Context(), req))
	})
	mux.HandleFunc("POST /probes", func(w http.ResponseWriter, r *http.Request) {
		var b Batch
		if err := json.NewDecoder(io.LimitReader(r.Body, maxBatchBody)).Decode(&b); err != nil {
			http.Error(w, "bad probe batch: "+err.Error(), http.StatusBadRequest)
			return
		}
		if len(b.Requests) > MaxBatch {
			http.Error(w, fmt.Sprintf("bad probe batch: %d requests, at most %d", len(b.Requests), MaxBatch), http.StatusBadRequest)
			return
		}
		writeJSON(w, a.ProbeBatch(r.Context(), b))
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Info reports the agent's links and routes (IPv4, then IPv6), its resolver configuration and whether its kernel
// has SCTP.
func (a *Agent) Info() (Info, error) {
	links, err := Links()
	if err != nil {
		return Info{}, err
	}
	routes, err := readRoutes("/proc/net/route")
	if err != nil {
		return Info{}, err
	}
	routes6, err := readRoutes6("/proc/net/ipv6_route")
	if err != nil {
		return Info{}, err
	}
	routes = append(routes, routes6...)
	return Info{Node: a.ID.Node, Pod: a.ID.Pod, PodIP: a.ID.PodIP, HostNetwork: a.ID.HostNetwork, Links: links, Routes: routes,
		ResolvConf: readResolvConf("/etc/resolv.conf"), SCTP: sctpSupport()}, nil
}

// Probe sends one probe, or relays it when Via is set. Both are bounded by req.Budget(): the
// relayed agent gets the request without Via, so it bounds the probe by the same figure without
// relayMargin, and a probe that times out there is reported as a timeout, not as the relay's.
func (a *Agent) Probe(ctx context.Context, req Request) Result {
	ctx, cancel := context.WithTimeout(ctx, req.Budget())
	defer cancel()
	if req.Via != "" {
		return relay(ctx, req)
	}
	res := send(ctx, req)
	res.From = a.name()
	return res
}

// name is the agent as probes report it, "node/pod".
func (a *Agent) name() string { return a.ID.Node + "/" + a.ID.Pod }

func send(ctx context.Context, req Request) Result {
	start := time.Now()
	if req.Protocol.repeats() && req.Count > maxRepetitions {
		return Result{Outcome: Error, Detail: fmt.Sprintf("count %d is above the agent's limit of %d", req.Count, maxRepetitions)}
	}
	var res Result
	switch req.Protocol {
	case TCP:
		res = probeTCP(ctx, req.Target)
	case UDP:
		res = probeUDP(ctx, req.Target)
	case ICMP:
		res = probeICMP(ctx, req.Target, req.Size, req.DontFragment)
	case DNS:
		res = probeDNS(ctx, req)
	case Bulk:
		res = probeBulk(ctx, req.Target, req.Size)
	case HTTP:
		res = probeHTTP(ctx, req.Target)
	case WhoTCP:
		res = probeWhoTCP(ctx, req)
	case WhoUDP:
		res = probeWhoUDP(ctx, req)
	case Netperf:
		res = probeNetperf(ctx, req)
	default:
		return Result{Outcome: Error, Detail: fmt.Sprintf("unknown protocol %q", req.Protocol)}
	}
	if res.RTTMS == 0 {
		res.RTTMS = float64(time.Since(start).Microseconds()) / 1000
	}
	return res
}

// relayInfo fetches another agent's /info (a host agent asking the pod agent of its node).
func relayInfo(ctx context.Context, w http.ResponseWriter, via, query string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url := "http://" + via + "/info"
	if query != "" {
		url += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := relayClient.Do(req)
	if err != nil {
		http.Error(w, fmt.Sprintf("relay to %s: %v", via, err), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, io.LimitReader(resp.Body, 1<<20))
}

func relay(ctx context.Context, req Request) Result {
	via := req.Via
	req.Via = ""
	body, _ := json.Marshal(req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+via+"/probe", bytes.NewReader(body))
	if err != nil {
		return Result{Outcome: Error, Detail: err.Error()}
	}
	resp, err := relayClient.Do(hreq)
	if err != nil {
		return Result{Outcome: AgentUnreachable, Detail: fmt.Sprintf("relay to %s: %v", via, err)}
	}
	defer resp.Body.Close()
	var res Result
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&res); err != nil {
		return Result{Outcome: AgentUnreachable, Detail: fmt.Sprintf("relay to %s: decode: %v", via, err)}
	}
	return res
}

// classify maps a network error to an outcome.
func classify(err error) Outcome {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Timeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case errors.Is(err, syscall.ECONNRESET):
		return Reset
	case errors.Is(err, syscall.EMSGSIZE):
		return MessageTooLong
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return Unreachable
	}
	return Error
}

func failure(err error) Result { return Result{Outcome: classify(err), Detail: err.Error()} }

func token() string { return fmt.Sprintf("netconform-%d", time.Now().UnixNano()) }

// dial connects and gives the connection the probe's deadline.
func dial(ctx context.Context, network, target string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, target)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	return c, nil
}

func probeTCP(ctx context.Context, target string) Result {
	c, err := dial(ctx, "tcp", target)
	if err != nil {
		return failure(err)
	}
	defer c.Close()
	msg := token()
	if _, err := fmt.Fprintln(c, msg); err != nil {
		return failure(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return failure(err)
	}
	if strings.TrimSpace(line) != msg {
		return Result{Outcome: WrongAnswer, Detail: fmt.Sprintf("sent %q, got %q", msg, line)}
	}
	return Result{Outcome: OK}
}

func probeUDP(ctx context.Context, target string) Result {
	c, err := dial(ctx, "udp", target)
	if err != nil {
		return failure(err)
	}
	defer c.Close()
	msg := token()
	if _, err := c.Write([]byte(msg)); err != nil {
		return failure(err)
	}
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil {
		return failure(err)
	}
	if string(buf[:n]) != msg {
		return Result{Outcome: WrongAnswer, Detail: fmt.Sprintf("sent %q, got %q", msg, buf[:n])}
	}
	return Result{Outcome: OK}
}

func probeBulk(ctx context.Context, target string, size int) Result {
	if size <= 0 {
		size = 4 << 20
	}
	start := time.Now()
	c, err := dial(ctx, "tcp", target)
	if err != nil {
		return failure(err)
	}
	defer c.Close()
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], uint64(size))
	if _, err := c.Write(hdr[:]); err != nil {
		return failure(err)
	}
	chunk := bytes.Repeat([]byte{0x5a}, 64<<10)
	for left := size; left > 0; {
		n := min(left, len(chunk))
		if _, err := c.Write(chunk[:n]); err != nil {
			return Result{Outcome: classify(err), Detail: fmt.Sprintf("after %d of %d bytes: %v", size-left, size, err)}
		}
		left -= n
	}
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return Result{Outcome: classify(err), Detail: fmt.Sprintf("waiting for acknowledgement of %d bytes: %v", size, err)}
	}
	got := int64(binary.BigEndian.Uint64(hdr[:]))
	res := Result{Outcome: OK, Bytes: got, RTTMS: float64(time.Since(start).Microseconds()) / 1000}
	if got != int64(size) {
		res.Outcome, res.Detail = WrongAnswer, fmt.Sprintf("sent %d bytes, peer acknowledged %d", size, got)
	}
	return res
}

func probeHTTP(ctx context.Context, target string) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+target+"/healthz", nil)
	if err != nil {
		return Result{Outcome: Error, Detail: err.Error()}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return failure(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Result{Outcome: WrongAnswer, Detail: resp.Status}
	}
	return Result{Outcome: OK}
}

func serveStream(l net.Listener, handle func(net.Conn)) error {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(2 * time.Minute))
			handle(c)
		}()
	}
}

func echoConn(c net.Conn) { io.Copy(c, c) }

// sinkConn reads an 8-byte length and that many bytes, then acknowledges what it read.
func sinkConn(c net.Conn) {
	var hdr [8]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	want := int64(binary.BigEndian.Uint64(hdr[:]))
	n, _ := io.CopyN(io.Discard, c, want)
	binary.BigEndian.PutUint64(hdr[:], uint64(n))
	c.Write(hdr[:])
}

func serveUDPEcho(pc net.PacketConn) error {
	buf := make([]byte, 65535)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		pc.WriteTo(buf[:n], addr)
	}
}

// IdentityFromEnv reads the downward-API environment the DaemonSets set.
func IdentityFromEnv() Identity {
	return Identity{
		Node:        os.Getenv("NODE_NAME"),
		Pod:         os.Getenv("POD_NAME"),
		PodIP:       os.Getenv("POD_IP"),
		HostNetwork: os.Getenv("HOST_NETWORK") == "true",
	}
}
