package probe

import (
	"bufio"
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseRoutes(t *testing.T) {
	text := `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010012AC	0003	0	0	0	00000000	0	0	0
eth0	000012AC	00000000	0001	0	0	0	0000FFFF	0	0	0
eth0	0002F40A	030012AC	0003	0	0	0	00FFFFFF	0	0	0
`
	routes, err := parseRoutes(bufio.NewScanner(strings.NewReader(text)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{Dst: "0.0.0.0/0", Gateway: "172.18.0.1", Dev: "eth0"},
		{Dst: "172.18.0.0/16", Dev: "eth0"},
		{Dst: "10.244.2.0/24", Gateway: "172.18.0.3", Dev: "eth0"},
	}
	if len(routes) != len(want) {
		t.Fatalf("got %d routes, want %d: %+v", len(routes), len(want), routes)
	}
	for i := range want {
		if routes[i] != want[i] {
			t.Errorf("route %d = %+v, want %+v", i, routes[i], want[i])
		}
	}
	if _, err := parseRoutes(bufio.NewScanner(strings.NewReader("h\neth0 zz 0 0 0 0 0 0\n"))); err == nil {
		t.Error("a malformed line must be an error")
	}
}

func TestParseRoutes6(t *testing.T) {
	// A kind node of a dual-stack cluster: a route to a peer's pod CIDR via the peer, the
	// node network's connected /64, the default route, and what the file also lists but is no
	// route of the main table: loopback, link-local, local addresses and anycast (local
	// table), multicast, the unreachable default on lo.
	text := `fd000010024400010000000000000000 40 00000000000000000000000000000000 00 fdef6d814ec900000000000000000003 00000400 00000001 00000000 00000003     eth0
fdef6d814ec900000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fdef6d814ec900000000000000000001 00000400 00000003 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
fdef6d814ec900000000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000007 00000000 80200001     eth0
fdef6d814ec900000000000000000000 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 00300001     eth0
fe8000000000000000fc00fffe000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001     eth0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`
	routes, err := parseRoutes6(bufio.NewScanner(strings.NewReader(text)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{Dst: "fd00:10:244:1::/64", Gateway: "fdef:6d81:4ec9::3", Dev: "eth0"},
		{Dst: "fdef:6d81:4ec9::/64", Dev: "eth0"},
		{Dst: "::/0", Gateway: "fdef:6d81:4ec9::1", Dev: "eth0"},
	}
	if len(routes) != len(want) {
		t.Fatalf("got %d routes, want %d: %+v", len(routes), len(want), routes)
	}
	for i := range want {
		if routes[i] != want[i] {
			t.Errorf("route %d = %+v, want %+v", i, routes[i], want[i])
		}
	}
	for _, bad := range []string{
		"fd00zz10024400010000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0",
		"fd00 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0",
		"fd000010024400010000000000000000 81 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0",
	} {
		if _, err := parseRoutes6(bufio.NewScanner(strings.NewReader(bad + "\n"))); err == nil {
			t.Errorf("malformed line %q must be an error", bad)
		}
	}
	// IPv6 disabled: no file, no IPv6 route, no error.
	if routes, err := readRoutes6(filepath.Join(t.TempDir(), "ipv6_route")); err != nil || len(routes) != 0 {
		t.Errorf("missing ipv6_route: %+v, %v; want no route and no error", routes, err)
	}
	// This machine's own table reads, and yields IPv6 CIDRs off the loopback device.
	routes, err = readRoutes6("/proc/net/ipv6_route")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if ip, _, err := net.ParseCIDR(r.Dst); err != nil || ip.To4() != nil || r.Dev == "lo" {
			t.Errorf("route %+v from /proc/net/ipv6_route", r)
		}
	}
	t.Logf("IPv6 routes here: %+v", routes)
}

func TestMatchICMPFragNeeded(t *testing.T) {
	dst := net.ParseIP("10.244.2.5").To4()
	req := echoRequest(7, 9, 100)
	inner := make([]byte, ipHeaderLen)
	inner[0] = 0x45
	copy(inner[16:20], dst)
	quoted := append(inner, req[:8]...)
	outerICMP := append([]byte{3, 4, 0, 0, 0, 0, 0x05, 0xaa}, quoted...) // next-hop MTU 1450
	outer := make([]byte, ipHeaderLen)
	outer[0] = 0x45
	copy(outer[12:16], net.ParseIP("172.18.0.3").To4())
	pkt := append(outer, outerICMP...)
	res, done := matchICMP(pkt, nil, dst, 7, 9, 128)
	if !done || res.Outcome != FragNeeded || !strings.Contains(res.Detail, "1450") {
		t.Fatalf("got %+v done=%v, want frag-needed naming MTU 1450", res, done)
	}
	if _, done := matchICMP(pkt, nil, dst, 8, 9, 128); done {
		t.Error("an error quoting another probe's id must not match")
	}
	// An echo reply of the wrong size is not a pass.
	reply := append([]byte{0x45, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}, dst...)
	reply = append(reply, make([]byte, 4)...)
	r := echoRequest(7, 9, 10)
	r[0] = 0
	reply = append(reply, r...)
	res, done = matchICMP(reply, nil, dst, 7, 9, 1000)
	if !done || res.Outcome != WrongAnswer {
		t.Errorf("short reply: got %+v, want wrong-answer", res)
	}
}

// quoted6 is the start of an IPv6 packet from src to dst as an ICMPv6 error quotes it: the
// 40-byte header with next header next, then rest.
func quoted6(src, dst net.IP, next byte, rest []byte) []byte {
	h := make([]byte, ip6HeaderLen)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(rest)))
	h[6], h[7] = next, 64
	copy(h[8:24], src)
	copy(h[24:40], dst)
	return append(h, rest...)
}

func TestMatchICMPv6(t *testing.T) {
	self := net.ParseIP("fd00:10:244:1::5")
	dst := net.ParseIP("fd00:10:244:2::7")
	router := net.ParseIP("fdef:6d81:4ec9::3")
	const id, seq, size = 7, 9, 1500
	req := echoRequest6(id, seq, size-ip6HeaderLen-icmpHeaderLen)
	// An error message of type typ and code, bytes 4..8 rest4, quoting our request (as much as
	// fits in the minimum MTU, as RFC 4443 has it).
	errorMsg := func(typ, code byte, rest4 uint32, quote []byte) []byte {
		b := []byte{typ, code, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[4:], rest4)
		return append(b, quote[:min(len(quote), 1280-ip6HeaderLen-icmpHeaderLen)]...)
	}
	ours := quoted6(self, dst, ipProtoICMPv6, req)
	reply := echoMessage(icmp6EchoReply, id, seq, size-ip6HeaderLen-icmpHeaderLen)
	// Locally fragmented (IPV6_PMTUDISC_DONT): the first fragment quotes a fragment header,
	// offset 0 and more fragments, before the ICMPv6 header.
	fragHdr := []byte{ipProtoICMPv6, 0, 0, 1, 0, 0, 0, 42}
	firstFrag := quoted6(self, dst, ip6ExtFragment, append(fragHdr, req[:1000]...))
	laterFrag := quoted6(self, dst, ip6ExtFragment, append([]byte{ipProtoICMPv6, 0, 0x05, 0xa9, 0, 0, 0, 42}, req[:100]...))
	cases := []struct {
		name      string
		pkt       []byte
		src       net.IP
		done      bool
		want      Outcome
		detailHas string
	}{
		{name: "echo reply", pkt: reply, src: dst, done: true, want: OK},
		{name: "echo reply of another size", pkt: reply[:100], src: dst, done: true, want: WrongAnswer, detailHas: "reply has 140"},
		{name: "echo reply from another host", pkt: reply, src: router},
		{name: "echo reply with a foreign id", pkt: echoMessage(icmp6EchoReply, id+1, seq, 10), src: dst},
		{name: "echo reply with a foreign sequence", pkt: echoMessage(icmp6EchoReply, id, seq+1, 10), src: dst},
		{name: "our own request (loopback)", pkt: req, src: dst},
		{name: "packet too big", pkt: errorMsg(icmp6PacketTooBig, 0, 1450, ours), src: router, done: true, want: FragNeeded, detailHas: "next-hop MTU 1450"},
		{name: "packet too big for another probe", pkt: errorMsg(icmp6PacketTooBig, 0, 1450, quoted6(self, dst, ipProtoICMPv6, echoRequest6(id+1, seq, 100))), src: router},
		{name: "packet too big for another destination", pkt: errorMsg(icmp6PacketTooBig, 0, 1450, quoted6(self, router, ipProtoICMPv6, req)), src: router},
		{name: "no route", pkt: errorMsg(icmp6Unreachable, 0, 0, ours), src: router, done: true, want: Unreachable, detailHas: "type 1 code 0 from fdef:6d81:4ec9::3"},
		{name: "address unreachable", pkt: errorMsg(icmp6Unreachable, 3, 0, ours), src: self, done: true, want: Unreachable, detailHas: "type 1 code 3"},
		{name: "port unreachable", pkt: errorMsg(icmp6Unreachable, icmp6PortUnreach, 0, ours), src: dst, done: true, want: Refused},
		{name: "hop limit exceeded", pkt: errorMsg(icmp6TimeExceeded, 0, 0, ours), src: router, done: true, want: Unreachable, detailHas: "type 3 code 0"},
		{name: "unreachable quoting a first fragment", pkt: errorMsg(icmp6Unreachable, 3, 0, firstFrag), src: router, done: true, want: Unreachable},
		{name: "unreachable quoting a later fragment", pkt: errorMsg(icmp6Unreachable, 3, 0, laterFrag), src: router},
		{name: "unreachable quoting a UDP datagram", pkt: errorMsg(icmp6Unreachable, 3, 0, quoted6(self, dst, syscall.IPPROTO_UDP, req)), src: router},
		{name: "unreachable quoting an IPv4 packet", pkt: errorMsg(icmp6Unreachable, 3, 0, append([]byte{0x45}, ours[1:]...)), src: router},
		{name: "neighbour solicitation", pkt: append([]byte{135, 0, 0, 0, 0, 0, 0, 0}, dst...), src: dst},
		{name: "short packet", pkt: reply[:7], src: dst},
		{name: "empty packet", pkt: nil, src: dst},
		{name: "truncated quote", pkt: errorMsg(icmp6PacketTooBig, 0, 1450, ours[:ip6HeaderLen+4]), src: router},
		{name: "quote without its IPv6 header", pkt: errorMsg(icmp6PacketTooBig, 0, 1450, ours[:30]), src: router},
	}
	for _, c := range cases {
		res, done := matchICMPv6(c.pkt, c.src, dst, id, seq, size)
		if done != c.done || res.Outcome != c.want || !strings.Contains(res.Detail, c.detailHas) {
			t.Errorf("%s: got %+v done=%v, want %q done=%v with %q in the detail", c.name, res, done, c.want, c.done, c.detailHas)
		}
	}
}

func TestICMP6Filter(t *testing.T) {
	f := icmp6Filter(icmp6EchoReply, icmp6Unreachable, icmp6PacketTooBig, icmp6TimeExceeded)
	blocked := func(typ int) bool { return f.Data[typ>>5]&(1<<(typ&31)) != 0 } // Linux's icmpv6_filter
	for typ := 0; typ < 256; typ++ {
		pass := typ == 1 || typ == 2 || typ == 3 || typ == 129
		if blocked(typ) == pass {
			t.Errorf("type %d: blocked %v", typ, blocked(typ))
		}
	}
}

func TestEchoRequest6(t *testing.T) {
	b := echoRequest6(0x1234, 0x5678, 56)
	if len(b) != 64 || b[0] != 128 || b[1] != 0 || b[2] != 0 || b[3] != 0 || binary.BigEndian.Uint16(b[4:]) != 0x1234 || binary.BigEndian.Uint16(b[6:]) != 0x5678 {
		t.Errorf("echo request %x", b[:8])
	}
	// The IPv4 request is what it was: type 8 with its checksum.
	if b := echoRequest(1, 2, 3); b[0] != 8 || checksum(b) != 0 {
		t.Errorf("IPv4 echo request %x", b)
	}
}

func TestChecksum(t *testing.T) {
	b := echoRequest(1, 2, 33)
	if checksum(b) != 0 {
		t.Errorf("checksum over a packet with its checksum must be 0, got %#x", checksum(b))
	}
	binary.BigEndian.PutUint16(b[2:], 0)
	if checksum(b) == 0 {
		t.Error("checksum of a packet without its checksum is not 0")
	}
}

// TestAgentLoopback runs a real agent and probes it over loopback.
func TestAgentLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &Agent{ID: Identity{Node: "n1", Pod: "p1"}}
	errc := make(chan error, 1)
	go func() { errc <- a.Serve(ctx) }()
	waitListening(t, "127.0.0.1:29080")
	cases := []struct {
		req  Request
		want Outcome
	}{
		{Request{Protocol: TCP, Target: "127.0.0.1:29081"}, OK},
		{Request{Protocol: UDP, Target: "127.0.0.1:29082"}, OK},
		{Request{Protocol: Bulk, Target: "127.0.0.1:29083", Size: 3 << 20}, OK},
		{Request{Protocol: HTTP, Target: "127.0.0.1:29080"}, OK},
		{Request{Protocol: TCP, Target: "127.0.0.1:1"}, Refused},
		{Request{Protocol: TCP, Target: "127.0.0.1:29081", Via: "127.0.0.1:29080"}, OK},
		{Request{Protocol: TCP, Target: "127.0.0.1:29081", Via: "127.0.0.1:1"}, AgentUnreachable},
		{Request{Protocol: "smtp", Target: "x"}, Error},
		{Request{Protocol: WhoTCP, Target: "127.0.0.1:29084", Count: 2}, OK},
		{Request{Protocol: WhoUDP, Target: "127.0.0.1:29084", Count: 3}, OK},
		{Request{Protocol: WhoUDP, Target: "127.0.0.1:29084", Count: 3, Via: "127.0.0.1:29080"}, OK},
	}
	for _, c := range cases {
		c.req.TimeoutMS = 3000
		got := a.Probe(ctx, c.req)
		if got.Outcome != c.want {
			t.Errorf("%+v: outcome %s (%s), want %s", c.req, got.Outcome, got.Detail, c.want)
		}
		// The agent's WhoPort names it, over TCP and UDP, directly and through a relay.
		for _, w := range got.Who {
			if w.Server != "n1/p1" {
				t.Errorf("%+v: answered by %q, want n1/p1", c.req, w.Server)
			}
		}
		if c.req.Protocol == WhoTCP || c.req.Protocol == WhoUDP {
			if len(got.Who) != c.req.Count {
				t.Errorf("%+v: %d answers, want %d", c.req, len(got.Who), c.req.Count)
			}
		}
	}
	// A relayed repeated probe may outlast TimeoutMS + relayMargin (3 x 1.2 s > 1.2 s + 2 s): the
	// relay waits for its Budget and reports the repetitions' timeouts, not its own.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	got := a.Probe(ctx, Request{Protocol: WhoUDP, Target: silent.LocalAddr().String(), TimeoutMS: 1200, Count: 3, Via: "127.0.0.1:29080"})
	if got.Outcome != Timeout || len(got.Who) != 3 || got.Who[2].Outcome != Timeout || got.Who[2].AtMS < 2400 {
		t.Errorf("relayed who-udp to a silent port: %s (%s) %+v, want three timeouts", got.Outcome, got.Detail, got.Who)
	}
	if os.Geteuid() == 0 {
		got := a.Probe(ctx, Request{Protocol: ICMP, Target: "127.0.0.1", Size: 1400, DontFragment: true, TimeoutMS: 2000})
		if got.Outcome != OK {
			t.Errorf("icmp to loopback: %s (%s)", got.Outcome, got.Detail)
		}
		// ICMPv6: the kernel answers only an echo whose checksum it computed right.
		if ipv6Loopback() {
			for _, size := range []int{0, 48, 1400, 9000} {
				got := a.Probe(ctx, Request{Protocol: ICMP, Target: "::1", Size: size, DontFragment: true, TimeoutMS: 2000})
				if got.Outcome != OK {
					t.Errorf("icmpv6 of %d bytes to loopback: %s (%s)", size, got.Outcome, got.Detail)
				}
			}
		}
	}
	info, err := a.Info()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range info.Links {
		found = found || (l.Name == "lo" && l.MTU > 0)
	}
	if !found {
		t.Errorf("info lists no loopback link with an MTU: %+v", info.Links)
	}
	if want := readResolvConf("/etc/resolv.conf"); info.ResolvConf != want {
		t.Errorf("info resolv.conf %q, want the file's %q", info.ResolvConf, want)
	}
	if info.SCTP != sctpSupport() {
		t.Errorf("info sctp %q, want %q", info.SCTP, sctpSupport())
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("agent did not stop within 5 s of cancel")
	}
}

func TestClassify(t *testing.T) {
	if classify(syscall.EMSGSIZE) != MessageTooLong || classify(syscall.ECONNREFUSED) != Refused || classify(context.DeadlineExceeded) != Timeout || classify(syscall.ECONNRESET) != Reset {
		t.Error("classify maps errors wrongly")
	}
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 50; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not listening", addr)
}

func TestPathMTU(t *testing.T) {
	mtu, err := PathMTU("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var lo int
	if links, err := Links(); err == nil {
		for _, l := range links {
			if l.Name == "lo" {
				lo = l.MTU
			}
		}
	}
	// An IPv4 packet is at most 65535 bytes, whatever the link allows.
	if mtu <= 0 || (lo > 0 && mtu != min(lo, 65535)) {
		t.Errorf("path MTU toward loopback = %d, loopback MTU %d", mtu, lo)
	}
	if _, err := PathMTU("not-an-ip"); err == nil {
		t.Error("a bad address must be an error")
	}
	// IPV6_MTU toward ::1: the link's MTU, capped where an IPv6 packet ends (65535 bytes of
	// payload after the 40-byte header).
	mtu, err = PathMTU("::1")
	if err != nil {
		if !ipv6Loopback() {
			t.Skipf("no IPv6 loopback here: %v", err)
		}
		t.Fatal(err)
	}
	if mtu <= 0 || (lo > 0 && mtu != min(lo, 65535+40)) {
		t.Errorf("path MTU toward ::1 = %d, loopback MTU %d", mtu, lo)
	}
}

// ipv6Loopback says whether this namespace has ::1 (IPv6 not disabled).
func ipv6Loopback() bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(net.IPv6loopback) {
			return true
		}
	}
	return false
}

func TestReadResolvConf(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "resolv.conf")
	text := "search ns.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
	if err := os.WriteFile(f, []byte("\n"+text+"\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readResolvConf(f); got != strings.TrimSpace(text) {
		t.Errorf("resolv.conf read as %q", got)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("# padding\n", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readResolvConf(big); len(got) > maxResolvConf || len(got) < maxResolvConf-len("# padding\n") {
		t.Errorf("a 10000-byte file is read as %d bytes, want it cut at %d", len(got), maxResolvConf)
	}
	if got := readResolvConf(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("a missing file is read as %q", got)
	}
}

// TestSCTPSupport compares with the kernel's own answer: SCTP is there when the kernel shows
// /proc/sys/net/sctp (built in or loaded). A kernel that can still load the module on demand
// would have the module's directory appear, so the answer is read after the probe.
func TestSCTPSupport(t *testing.T) {
	got := sctpSupport()
	_, err := os.Stat("/proc/sys/net/sctp")
	has := err == nil
	if has != (got == "") {
		t.Errorf("sctpSupport() = %q, but /proc/sys/net/sctp exists: %v", got, has)
	}
	if !has && got != syscall.EPROTONOSUPPORT.Error() {
		t.Logf("kernel without SCTP answers %q (expected %q unless a seccomp profile refuses it)", got, syscall.EPROTONOSUPPORT.Error())
	}
	t.Logf("sctp: %q", got)
}
