package probe

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
)

// recordingListener remembers the remote address of every connection it accepts: what the
// server saw, to compare with what the client was told.
type recordingListener struct {
	net.Listener
	mu    sync.Mutex
	peers []string
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.peers = append(l.peers, c.RemoteAddr().String())
		l.mu.Unlock()
	}
	return c, err
}

func (l *recordingListener) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.peers...)
}

func listenTCP(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func listenUDP(t *testing.T) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

func TestWhoTCP(t *testing.T) {
	rl := &recordingListener{Listener: listenTCP(t)}
	go serveWhoTCP(rl, "n1/p1")
	a := &Agent{ID: Identity{Node: "client", Pod: "c"}}
	res := a.Probe(context.Background(), Request{Protocol: WhoTCP, Target: rl.Addr().String(), TimeoutMS: 1000, Count: 3, IntervalMS: 50})
	if res.Outcome != OK || len(res.Who) != 3 {
		t.Fatalf("got %s (%s) with %d answers, want ok with 3: %+v", res.Outcome, res.Detail, len(res.Who), res.Who)
	}
	seen := rl.seen()
	ports := map[string]bool{}
	for i, w := range res.Who {
		if w.Outcome != OK || w.Server != "n1/p1" {
			t.Errorf("answer %d: %+v, want ok from n1/p1", i, w)
		}
		// The peer is the address the server accepted the connection from: the client's
		// own address and port, not the server's.
		if i >= len(seen) || w.Peer != seen[i] {
			t.Errorf("answer %d: peer %q, the server accepted %v", i, w.Peer, seen)
		}
		host, port, err := net.SplitHostPort(w.Peer)
		if err != nil || host != "127.0.0.1" || port == strings.TrimPrefix(rl.Addr().String(), "127.0.0.1:") {
			t.Errorf("answer %d: peer %q is not the client's 127.0.0.1:<port>", i, w.Peer)
		}
		ports[port] = true
		if i > 0 && w.AtMS-res.Who[i-1].AtMS < 50 {
			t.Errorf("answer %d sent at %.1f ms, %.1f ms after the previous: want >= the 50 ms interval", i, w.AtMS, w.AtMS-res.Who[i-1].AtMS)
		}
	}
	// Every connection is a new one: a new source port each time.
	if len(ports) != 3 {
		t.Errorf("3 connections came from %d source ports: %+v", len(ports), res.Who)
	}
	if res.From != "client/c" || res.RTTMS < 100 {
		t.Errorf("from %q, rtt %.1f ms: want client/c and the whole probe (>= 2 intervals)", res.From, res.RTTMS)
	}
}

func TestWhoTCPWrongAnswerAndRefused(t *testing.T) {
	l := listenTCP(t)
	go serveStream(l, func(c net.Conn) { c.Write([]byte("220 smtp ready\n")) })
	res := send(context.Background(), Request{Protocol: WhoTCP, Target: l.Addr().String(), TimeoutMS: 1000})
	if res.Outcome != WrongAnswer || len(res.Who) != 1 || !strings.Contains(res.Detail, "not a who answer") {
		t.Errorf("a server that is not a WhoPort: %s (%s) %+v, want wrong-answer", res.Outcome, res.Detail, res.Who)
	}
	res = send(context.Background(), Request{Protocol: WhoTCP, Target: closedPort(t, "tcp"), TimeoutMS: 1000, Count: 2})
	if res.Outcome != Refused || len(res.Who) != 2 || res.Who[1].Outcome != Refused || !strings.Contains(res.Detail, "2 of 2 repetitions unanswered; first: repetition 1") {
		t.Errorf("no listener: %s (%s) %+v, want refused twice", res.Outcome, res.Detail, res.Who)
	}
}

// TestWhoUDPOneFlow: all the datagrams of a who-udp probe leave from one socket, so the
// server sees one source port for all of them.
func TestWhoUDPOneFlow(t *testing.T) {
	pc := listenUDP(t)
	go serveWhoUDP(pc, "n2/p2")
	res := send(context.Background(), Request{Protocol: WhoUDP, Target: pc.LocalAddr().String(), TimeoutMS: 1000, Count: 5, IntervalMS: 20})
	if res.Outcome != OK || len(res.Who) != 5 {
		t.Fatalf("got %s (%s) with %d answers, want ok with 5", res.Outcome, res.Detail, len(res.Who))
	}
	first := res.Who[0].Peer
	if host, port, err := net.SplitHostPort(first); err != nil || host != "127.0.0.1" || port == "0" {
		t.Errorf("peer %q is not 127.0.0.1:<port>", first)
	}
	for i, w := range res.Who {
		if w.Outcome != OK || w.Server != "n2/p2" || w.Peer != first {
			t.Errorf("answer %d: %+v, want ok from n2/p2 with peer %s like the first", i, w, first)
		}
	}
}

// TestWhoUDPLateAnswer: an answer to an earlier datagram that arrives while a later one waits
// is not taken as the later one's.
func TestWhoUDPLateAnswer(t *testing.T) {
	pc := listenUDP(t)
	go func() {
		buf := make([]byte, 512)
		var held string // the sequence of the first datagram, answered late
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			seq := strings.TrimPrefix(string(buf[:n]), whoRequestPrefix)
			if held == "" {
				held = seq
				continue
			}
			late, _ := json.Marshal(whoReply{Server: "late", Peer: addr.String(), Seq: held})
			pc.WriteTo(late, addr)
			now, _ := json.Marshal(whoReply{Server: "on-time", Peer: addr.String(), Seq: seq})
			pc.WriteTo(now, addr)
		}
	}()
	res := send(context.Background(), Request{Protocol: WhoUDP, Target: pc.LocalAddr().String(), TimeoutMS: 300, Count: 2})
	if len(res.Who) != 2 {
		t.Fatalf("%d answers, want 2: %+v", len(res.Who), res)
	}
	if res.Who[0].Outcome != Timeout {
		t.Errorf("first datagram, answered only after its timeout: %+v, want timeout", res.Who[0])
	}
	if w := res.Who[1]; w.Outcome != OK || w.Server != "on-time" || !strings.Contains(w.Detail, "ignored 1 answers to earlier datagrams") {
		t.Errorf("second datagram: %+v, want its own answer (on-time), the late one ignored", w)
	}
	if res.Outcome != Timeout || !strings.Contains(res.Detail, "1 of 2 repetitions unanswered; first: repetition 1") {
		t.Errorf("probe: %s (%s), want timeout naming repetition 1", res.Outcome, res.Detail)
	}
}

func TestWhoUDPRefused(t *testing.T) {
	res := send(context.Background(), Request{Protocol: WhoUDP, Target: closedPort(t, "udp"), TimeoutMS: 1000, Count: 2})
	if res.Outcome != Refused || len(res.Who) != 2 {
		t.Fatalf("no listener: %s (%s) %+v, want refused", res.Outcome, res.Detail, res.Who)
	}
	for i, w := range res.Who {
		if w.Outcome != Refused {
			t.Errorf("repetition %d: %+v, want refused", i+1, w)
		}
	}
}

// TestWhoUDPRepetitionsOutlastTimeout: a repeated probe is bounded by its Budget, not by one
// TimeoutMS; the server ignores the first datagram, so the first repetition times out and the
// others, sent after TimeoutMS, must still run.
func TestWhoUDPRepetitionsOutlastTimeout(t *testing.T) {
	pc := listenUDP(t)
	go func() {
		buf := make([]byte, 512)
		for first := true; ; first = false {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if first {
				continue
			}
			b, _ := json.Marshal(whoReply{Server: "s", Peer: addr.String(), Seq: strings.TrimPrefix(string(buf[:n]), whoRequestPrefix)})
			pc.WriteTo(b, addr)
		}
	}()
	a := &Agent{}
	res := a.Probe(context.Background(), Request{Protocol: WhoUDP, Target: pc.LocalAddr().String(), TimeoutMS: 300, Count: 3, IntervalMS: 10})
	if len(res.Who) != 3 || res.Who[0].Outcome != Timeout || res.Who[1].Outcome != OK || res.Who[2].Outcome != OK {
		t.Fatalf("got %s (%s) %+v, want timeout, ok, ok", res.Outcome, res.Detail, res.Who)
	}
	if res.Who[1].AtMS < 300 || res.RTTMS < 300 {
		t.Errorf("second repetition sent at %.1f ms, probe took %.1f ms: want after the first's 300 ms timeout", res.Who[1].AtMS, res.RTTMS)
	}
}

func TestWhoCountLimit(t *testing.T) {
	res := send(context.Background(), Request{Protocol: WhoUDP, Target: "127.0.0.1:1", Count: maxRepetitions + 1})
	if res.Outcome != Error || !strings.Contains(res.Detail, "limit") {
		t.Errorf("count above the limit: %s (%s), want error", res.Outcome, res.Detail)
	}
}

// closedPort is 127.0.0.1:<a port nothing listens on>: one the kernel just gave out and that
// was closed again.
func closedPort(t *testing.T, network string) string {
	t.Helper()
	var addr string
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = pc.LocalAddr().String()
		pc.Close()
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = l.Addr().String()
		l.Close()
	}
	return addr
}
