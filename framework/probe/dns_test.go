package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// fakeDNS is a tiny authoritative server for the zone the DNS tests ask, over UDP and TCP (on
// two different ports, so that a query that went over the wrong transport fails).
type fakeDNS struct {
	udp, tcp string // addresses
	mu       sync.Mutex
	asked    map[string]int // "name type" -> queries received
}

func startFakeDNS(t *testing.T) *fakeDNS {
	t.Helper()
	f := &fakeDNS{asked: map[string]int{}}
	pc := listenUDP(t)
	l := listenTCP(t)
	f.udp, f.tcp = pc.LocalAddr().String(), l.Addr().String()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if out := f.answer(buf[:n]); out != nil {
				pc.WriteTo(out, addr)
			}
		}
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for {
					var hdr [2]byte
					if _, err := io.ReadFull(c, hdr[:]); err != nil {
						return
					}
					q := make([]byte, binary.BigEndian.Uint16(hdr[:]))
					if _, err := io.ReadFull(c, q); err != nil {
						return
					}
					out := f.answer(q)
					if out == nil {
						return
					}
					c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(out))))
					c.Write(out)
				}
			}()
		}
	}()
	return f
}

func (f *fakeDNS) count(name string, typ dnsmessage.Type) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked[name+" "+typ.String()]
}

// answer builds the response to one query, or nil to drop it.
//
//	v4.test      A 192.0.2.10, no AAAA
//	v6.test      AAAA 2001:db8::6, no A
//	dual.test    both
//	flaky.test   A 192.0.2.20, the second query for it dropped
//	_who._udp.svc.test  SRV a.svc.test:29084, b.svc.test:29085
//	192.0.2.10   PTR solo.svc.test
//	anything else NXDOMAIN
func (f *fakeDNS) answer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	name := strings.ToLower(q.Name.String())
	f.mu.Lock()
	f.asked[name+" "+q.Type.String()]++
	nth := f.asked[name+" "+q.Type.String()]
	f.mu.Unlock()
	if name == "flaky.test." && nth == 2 {
		return nil
	}
	rr := dnsmessage.ResourceHeader{Name: q.Name, Type: q.Type, Class: dnsmessage.ClassINET, TTL: 5}
	var answers []func(b *dnsmessage.Builder) error
	a := func(ip [4]byte) {
		answers = append(answers, func(b *dnsmessage.Builder) error { return b.AResource(rr, dnsmessage.AResource{A: ip}) })
	}
	aaaa := func(s string) {
		var ip [16]byte
		copy(ip[:], net.ParseIP(s).To16())
		answers = append(answers, func(b *dnsmessage.Builder) error { return b.AAAAResource(rr, dnsmessage.AAAAResource{AAAA: ip}) })
	}
	exists := true
	switch {
	case name == "v4.test." && q.Type == dnsmessage.TypeA:
		a([4]byte{192, 0, 2, 10})
	case name == "v6.test." && q.Type == dnsmessage.TypeAAAA:
		aaaa("2001:db8::6")
	case name == "dual.test." && q.Type == dnsmessage.TypeA:
		a([4]byte{192, 0, 2, 11})
	case name == "dual.test." && q.Type == dnsmessage.TypeAAAA:
		aaaa("2001:db8::11")
	case name == "flaky.test." && q.Type == dnsmessage.TypeA:
		a([4]byte{192, 0, 2, 20})
	case name == "_who._udp.svc.test." && q.Type == dnsmessage.TypeSRV:
		for i, target := range []string{"a.svc.test.", "b.svc.test."} {
			srv := dnsmessage.SRVResource{Priority: 10, Weight: 50, Port: uint16(29084 + i), Target: dnsmessage.MustNewName(target)}
			answers = append(answers, func(b *dnsmessage.Builder) error { return b.SRVResource(rr, srv) })
		}
	case name == "10.2.0.192.in-addr.arpa." && q.Type == dnsmessage.TypePTR:
		answers = append(answers, func(b *dnsmessage.Builder) error {
			return b.PTRResource(rr, dnsmessage.PTRResource{PTR: dnsmessage.MustNewName("solo.svc.test.")})
		})
	case name == "v4.test.", name == "v6.test.", name == "flaky.test.", name == "_who._udp.svc.test.", name == "10.2.0.192.in-addr.arpa.":
		// The name exists without records of this type: NOERROR and no answer (NODATA).
	default:
		exists = false
	}
	rcode := dnsmessage.RCodeSuccess
	if !exists {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RCode: rcode})
	if err := errors.Join(b.StartQuestions(), b.Question(q), b.StartAnswers()); err != nil {
		return nil
	}
	for _, add := range answers {
		if err := add(&b); err != nil {
			return nil
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}

func TestDNSQueryTypes(t *testing.T) {
	f := startFakeDNS(t)
	cases := []struct {
		name      string
		req       Request
		want      Outcome
		addresses []string
		records   []string
		detail    string
	}{
		{"A and AAAA", Request{Name: "dual.test."}, OK, []string{"192.0.2.11", "2001:db8::11"}, nil, ""},
		{"A", Request{QType: QueryA, Name: "v4.test."}, OK, []string{"192.0.2.10"}, nil, ""},
		{"AAAA", Request{QType: QueryAAAA, Name: "dual.test."}, OK, []string{"2001:db8::11"}, nil, ""},
		// NODATA: the name exists, without a record of the type asked.
		{"AAAA of an IPv4-only name", Request{QType: QueryAAAA, Name: "v4.test."}, OK, nil, nil, "no AAAA record for v4.test. (NODATA): it has 1 A"},
		{"A of an IPv6-only name", Request{QType: QueryA, Name: "v6.test."}, OK, nil, nil, "no A record for v6.test. (NODATA): it has 1 AAAA"},
		// NXDOMAIN stays a wrong answer, for either family.
		{"AAAA of no such name", Request{QType: QueryAAAA, Name: "nx.test."}, WrongAnswer, nil, nil, "no such host"},
		{"A of no such name", Request{QType: QueryA, Name: "nx.test."}, WrongAnswer, nil, nil, "no such host"},
		{"no such name", Request{Name: "nx.test."}, WrongAnswer, nil, nil, "no such host"},
		// The detail names the server asked, not the agent's own nameserver.
		{"no such name, on the server asked", Request{QType: QueryA, Name: "nx.test."}, WrongAnswer, nil, nil, "on " + f.udp + ": no such host"},
		{"SRV", Request{QType: QuerySRV, Name: "_who._udp.svc.test."}, OK, nil, []string{"a.svc.test:29084", "b.svc.test:29085"}, ""},
		{"SRV of no such name", Request{QType: QuerySRV, Name: "_x._tcp.nx.test."}, WrongAnswer, nil, nil, "no such host"},
		{"PTR", Request{QType: QueryPTR, Name: "192.0.2.10"}, OK, nil, []string{"solo.svc.test"}, ""},
		{"PTR of a name", Request{QType: QueryPTR, Name: "v4.test."}, Error, nil, nil, "must be an IP address"},
		{"unknown type", Request{QType: "MX", Name: "v4.test."}, Error, nil, nil, `unknown dns query type "MX"`},
	}
	for _, c := range cases {
		c.req.Protocol, c.req.Target, c.req.TimeoutMS = DNS, f.udp, 2000
		got := send(context.Background(), c.req)
		slices.Sort(got.Addresses)
		slices.Sort(got.Records) // SRV answers of one priority come in a random order
		if got.Outcome != c.want || !slices.Equal(got.Addresses, c.addresses) || !slices.Equal(got.Records, c.records) || !strings.Contains(got.Detail, c.detail) {
			t.Errorf("%s: got %s %v %v (%s), want %s %v %v (%s)", c.name, got.Outcome, got.Addresses, got.Records, got.Detail, c.want, c.addresses, c.records, c.detail)
		}
	}
	if n := f.count("v4.test.", dnsmessage.TypeA); n < 2 {
		t.Errorf("the server got %d A queries for v4.test., want at least 2 (A, and after the AAAA NODATA)", n)
	}
}

// TestDNSOverTCP: DNSOverTCP applies to every query type; the server's TCP port has no UDP
// listener, so a query sent over UDP would fail.
func TestDNSOverTCP(t *testing.T) {
	f := startFakeDNS(t)
	for _, req := range []Request{
		{QType: QueryA, Name: "v4.test."},
		{QType: QueryAAAA, Name: "v4.test."},
		{QType: QuerySRV, Name: "_who._udp.svc.test."},
		{QType: QueryPTR, Name: "192.0.2.10"},
	} {
		req.Protocol, req.Target, req.TimeoutMS, req.DNSOverTCP = DNS, f.tcp, 2000, true
		if got := send(context.Background(), req); got.Outcome != OK {
			t.Errorf("%s %s over TCP: %s (%s)", req.QType, req.Name, got.Outcome, got.Detail)
		}
	}
}

func TestDNSRepeated(t *testing.T) {
	f := startFakeDNS(t)
	got := send(context.Background(), Request{Protocol: DNS, Target: f.udp, QType: QueryA, Name: "v4.test.", TimeoutMS: 1000, Count: 3, IntervalMS: 20})
	if got.Outcome != OK || got.Lost != 0 || len(got.RTTsMS) != 3 || !slices.Equal(got.Addresses, []string{"192.0.2.10"}) || f.count("v4.test.", dnsmessage.TypeA) != 3 {
		t.Errorf("3 answered queries: %+v (server got %d)", got, f.count("v4.test.", dnsmessage.TypeA))
	}
	// The server drops the second query for flaky.test.: one of three lost, after its timeout.
	a := &Agent{}
	got = a.Probe(context.Background(), Request{Protocol: DNS, Target: f.udp, QType: QueryA, Name: "flaky.test.", TimeoutMS: 300, Count: 3})
	if got.Outcome != Timeout || got.Lost != 1 || len(got.RTTsMS) != 3 || !strings.HasPrefix(got.Detail, "1 of 3 queries lost; first: query 2: ") {
		t.Fatalf("one query dropped: %s lost %d rtts %v (%s), want timeout, 1 of 3 lost", got.Outcome, got.Lost, got.RTTsMS, got.Detail)
	}
	if got.RTTsMS[1] < 290 || got.RTTsMS[0] > 250 || got.RTTsMS[2] > 250 {
		t.Errorf("rtts %v: want the lost query's ~300 ms timeout between two quick answers", got.RTTsMS)
	}
	if !slices.Equal(got.Addresses, []string{"192.0.2.20"}) {
		t.Errorf("addresses %v, want the first answer's", got.Addresses)
	}
	// A single query keeps the detail of its failure as it was.
	got = send(context.Background(), Request{Protocol: DNS, Target: f.udp, Name: "nx.test.", TimeoutMS: 1000})
	if got.Outcome != WrongAnswer || got.Lost != 1 || len(got.RTTsMS) != 1 || strings.Contains(got.Detail, "queries lost") {
		t.Errorf("single NXDOMAIN: %+v", got)
	}
}

// TestDNSSystem resolves with the agent's own configuration: Target is ignored, and localhost
// comes from /etc/hosts through the Go resolver.
func TestDNSSystem(t *testing.T) {
	got := send(context.Background(), Request{Protocol: DNS, QType: QuerySystem, Target: "127.0.0.1:1", Name: "localhost", TimeoutMS: 2000})
	if got.Outcome != OK || !slices.Contains(got.Addresses, "127.0.0.1") {
		t.Errorf("system lookup of localhost: %+v", got)
	}
	if got := send(context.Background(), Request{Protocol: DNS, QType: QueryA, Name: "v4.test.", TimeoutMS: 2000}); got.Outcome != Error || !strings.Contains(got.Detail, "without a server") {
		t.Errorf("an A query without Target: %+v, want error", got)
	}
}
