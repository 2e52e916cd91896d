package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"syscall"
	"time"
)

const (
	ipHeaderLen   = 20
	ip6HeaderLen  = 40 // without extension headers
	icmpHeaderLen = 8  // ICMP and ICMPv6 alike
)

// ICMP and ICMPv6 message types (and a code) the probe sends or reads, and the IPv6 next-header
// values it walks through in a quoted packet.
const (
	icmpEchoReply      = 0
	icmpEchoRequest    = 8
	icmp6Unreachable   = 1
	icmp6PacketTooBig  = 2
	icmp6TimeExceeded  = 3
	icmp6EchoRequest   = 128
	icmp6EchoReply     = 129
	icmp6PortUnreach   = 4 // code of icmp6Unreachable
	ipProtoICMPv6      = 58
	ip6ExtHopByHop     = 0
	ip6ExtRouting      = 43
	ip6ExtFragment     = 44
	ip6ExtDestinations = 60
)

// probeICMP sends one ICMP echo of size bytes (whole IP packet) to target and waits for the
// reply, a "fragmentation needed" for it, or the deadline. It uses a raw socket (CAP_NET_RAW),
// with IP_PMTUDISC_DO when dontFragment is set. An IPv6 target gets an ICMPv6 echo (see
// probeICMPv6).
func probeICMP(ctx context.Context, target string, size int, dontFragment bool) Result {
	ip := net.ParseIP(target)
	if ip == nil {
		return Result{Outcome: Error, Detail: fmt.Sprintf("icmp target %q is not an IP address", target)}
	}
	dst := ip.To4()
	if dst == nil {
		return probeICMPv6(ctx, ip, size, dontFragment)
	}
	if size == 0 {
		size = 84
	}
	if size < ipHeaderLen+icmpHeaderLen || size > 65535 {
		return Result{Outcome: Error, Detail: fmt.Sprintf("icmp size %d out of range", size)}
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_ICMP)
	if err != nil {
		return Result{Outcome: Error, Detail: fmt.Sprintf("raw icmp socket (needs CAP_NET_RAW): %v", err)}
	}
	defer syscall.Close(fd)
	pmtu := syscall.IP_PMTUDISC_DONT
	if dontFragment {
		// DO, as applications doing path MTU discovery: DF on the wire, and the kernel refuses
		// locally what exceeds the route's MTU or a path MTU it learned.
		pmtu = syscall.IP_PMTUDISC_DO
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, syscall.IP_MTU_DISCOVER, pmtu); err != nil {
		return Result{Outcome: Error, Detail: fmt.Sprintf("IP_MTU_DISCOVER: %v", err)}
	}
	id := uint16(rand.UintN(1 << 16))
	seq := uint16(rand.UintN(1 << 16))
	msg := echoRequest(id, seq, size-ipHeaderLen-icmpHeaderLen)
	var sa syscall.SockaddrInet4
	copy(sa.Addr[:], dst)
	return exchangeICMP(ctx, fd, &sa, msg, dst, size, func(pkt []byte, from syscall.Sockaddr) (Result, bool) {
		return matchICMP(pkt, from, dst, id, seq, size)
	})
}

// probeICMPv6 is probeICMP toward an IPv6 address: an ICMPv6 echo on a raw AF_INET6 socket.
// size is still the whole packet, 40 bytes of IPv6 header included. dontFragment sets
// IPV6_PMTUDISC_DO: routers never fragment IPv6, and with DO the local stack refuses (EMSGSIZE)
// what exceeds the route's MTU or a path MTU it learned instead of fragmenting it itself.
func probeICMPv6(ctx context.Context, dst net.IP, size int, dontFragment bool) Result {
	if size == 0 {
		size = ip6HeaderLen + icmpHeaderLen + 56 // ping's default payload
	}
	if size < ip6HeaderLen+icmpHeaderLen || size > 65535 {
		return Result{Outcome: Error, Detail: fmt.Sprintf("icmp size %d out of range", size)}
	}
	fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_RAW, syscall.IPPROTO_ICMPV6)
	if err != nil {
		return Result{Outcome: Error, Detail: fmt.Sprintf("raw icmpv6 socket (needs CAP_NET_RAW): %v", err)}
	}
	defer syscall.Close(fd)
	// A raw ICMPv6 socket gets every ICMPv6 message the host receives, neighbour discovery and
	// router advertisements included: let through only what can answer an echo.
	filter := icmp6Filter(icmp6EchoReply, icmp6Unreachable, icmp6PacketTooBig, icmp6TimeExceeded)
	if err := syscall.SetsockoptICMPv6Filter(fd, syscall.IPPROTO_ICMPV6, syscall.ICMPV6_FILTER, filter); err != nil {
		return Result{Outcome: Error, Detail: fmt.Sprintf("ICMP6_FILTER: %v", err)}
	}
	pmtu := syscall.IPV6_PMTUDISC_DONT
	if dontFragment {
		pmtu = syscall.IPV6_PMTUDISC_DO
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_MTU_DISCOVER, pmtu); err != nil {
		return Result{Outcome: Error, Detail: fmt.Sprintf("IPV6_MTU_DISCOVER: %v", err)}
	}
	id := uint16(rand.UintN(1 << 16))
	seq := uint16(rand.UintN(1 << 16))
	msg := echoRequest6(id, seq, size-ip6HeaderLen-icmpHeaderLen)
	var sa syscall.SockaddrInet6
	copy(sa.Addr[:], dst.To16())
	return exchangeICMP(ctx, fd, &sa, msg, dst, size, func(pkt []byte, from syscall.Sockaddr) (Result, bool) {
		return matchICMPv6(pkt, sockaddrIP(from), dst, id, seq, size)
	})
}

// exchangeICMP sends msg to sa on the raw socket fd and reads until match says a packet answers
// it, or the deadline.
func exchangeICMP(ctx context.Context, fd int, sa syscall.Sockaddr, msg []byte, dst net.IP, size int, match func([]byte, syscall.Sockaddr) (Result, bool)) Result {
	start := time.Now()
	if err := syscall.Sendto(fd, msg, 0, sa); err != nil {
		if errors.Is(err, syscall.EMSGSIZE) {
			return Result{Outcome: MessageTooLong, Detail: fmt.Sprintf("local stack refused %d bytes with DF: %v", size, err)}
		}
		return failure(err)
	}
	buf := make([]byte, 65536)
	for {
		left := time.Until(deadlineOf(ctx))
		if left <= 0 {
			return Result{Outcome: Timeout, Detail: fmt.Sprintf("no echo reply of %d bytes from %s", size, dst)}
		}
		tv := syscall.NsecToTimeval(min(left, 200*time.Millisecond).Nanoseconds())
		_ = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
		n, from, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				continue
			}
			if errors.Is(err, syscall.EMSGSIZE) {
				return Result{Outcome: FragNeeded, Detail: fmt.Sprintf("kernel reported EMSGSIZE for %d bytes: %v", size, err)}
			}
			return failure(err)
		}
		res, done := match(buf[:n], from)
		if done {
			res.RTTMS = float64(time.Since(start).Microseconds()) / 1000
			return res
		}
	}
}

// icmp6Filter is an ICMP6_FILTER that passes the given ICMPv6 types and blocks the others: a
// set bit blocks its type (glibc's ICMP6_FILTER_SETBLOCKALL, then ICMP6_FILTER_SETPASS).
func icmp6Filter(pass ...uint8) *syscall.ICMPv6Filter {
	var f syscall.ICMPv6Filter
	for i := range f.Data {
		f.Data[i] = ^uint32(0)
	}
	for _, t := range pass {
		f.Data[t>>5] &^= 1 << (t & 31)
	}
	return &f
}

// sockaddrIP is the address of a sockaddr Recvfrom returned; nil for another kind.
func sockaddrIP(sa syscall.Sockaddr) net.IP {
	switch a := sa.(type) {
	case *syscall.SockaddrInet6:
		return net.IP(a.Addr[:])
	case *syscall.SockaddrInet4:
		return net.IP(a.Addr[:])
	}
	return nil
}

func deadlineOf(ctx context.Context) time.Time {
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return time.Now().Add(5 * time.Second)
}

// echoMessage is an ICMP or ICMPv6 echo message of type typ with a payload of n bytes and its
// checksum left 0.
func echoMessage(typ byte, id, seq uint16, n int) []byte {
	b := make([]byte, icmpHeaderLen+n)
	b[0] = typ
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	for i := icmpHeaderLen; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}

// echoRequest builds an ICMP echo request with a payload of n bytes.
func echoRequest(id, seq uint16, n int) []byte {
	b := echoMessage(icmpEchoRequest, id, seq, n)
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
}

// echoRequest6 builds an ICMPv6 echo request with a payload of n bytes. Its checksum stays 0:
// the ICMPv6 checksum covers a pseudo-header with the source address the kernel picks, and the
// kernel computes it on every raw ICMPv6 socket (RFC 3542 3.1; Linux sets IPV6_CHECKSUM at
// offset 2 for them and refuses to turn it off).
func echoRequest6(id, seq uint16, n int) []byte {
	return echoMessage(icmp6EchoRequest, id, seq, n)
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// matchICMP reads one packet from a raw ICMP socket (IP header included) and says whether it
// answers our probe: an echo reply from dst with our id and sequence, or an error message
// (fragmentation needed, unreachable) that quotes our request.
func matchICMP(pkt []byte, from syscall.Sockaddr, dst net.IP, id, seq uint16, size int) (Result, bool) {
	if len(pkt) < ipHeaderLen {
		return Result{}, false
	}
	ihl := int(pkt[0]&0x0f) * 4
	if len(pkt) < ihl+icmpHeaderLen {
		return Result{}, false
	}
	icmp := pkt[ihl:]
	typ, code := icmp[0], icmp[1]
	src := net.IP(pkt[12:16])
	switch typ {
	case icmpEchoReply:
		if src.Equal(dst) && binary.BigEndian.Uint16(icmp[4:]) == id && binary.BigEndian.Uint16(icmp[6:]) == seq {
			if got := len(pkt); got != size {
				return Result{Outcome: WrongAnswer, Detail: fmt.Sprintf("sent %d bytes, reply has %d", size, got)}, true
			}
			return Result{Outcome: OK}, true
		}
	case 3, 11: // destination unreachable, time exceeded: the quoted datagram must be ours
		inner := icmp[icmpHeaderLen:]
		if len(inner) < ipHeaderLen {
			return Result{}, false
		}
		innerIHL := int(inner[0]&0x0f) * 4
		if len(inner) < innerIHL+icmpHeaderLen || !net.IP(inner[16:20]).Equal(dst) {
			return Result{}, false
		}
		q := inner[innerIHL:]
		if q[0] != icmpEchoRequest || binary.BigEndian.Uint16(q[4:]) != id || binary.BigEndian.Uint16(q[6:]) != seq {
			return Result{}, false
		}
		if typ == 3 && code == 4 {
			mtu := binary.BigEndian.Uint16(icmp[6:])
			return Result{Outcome: FragNeeded, Detail: fmt.Sprintf("fragmentation needed from %s, next-hop MTU %d", src, mtu)}, true
		}
		if typ == 3 && code == 3 {
			return Result{Outcome: Refused, Detail: fmt.Sprintf("port unreachable from %s", src)}, true
		}
		return Result{Outcome: Unreachable, Detail: fmt.Sprintf("icmp type %d code %d from %s", typ, code, src)}, true
	}
	return Result{}, false
}

// matchICMPv6 reads one packet from a raw ICMPv6 socket, which delivers the ICMPv6 message
// without the IPv6 header (src is the sender, from recvfrom), and says whether it answers our
// probe: an echo reply from dst with our id and sequence, or an error message that quotes our
// request. A Packet Too Big is reported as IPv4's "fragmentation needed" is, with the MTU it
// names; an unreachable or time exceeded as Unreachable, a port unreachable as Refused.
func matchICMPv6(pkt []byte, src, dst net.IP, id, seq uint16, size int) (Result, bool) {
	if len(pkt) < icmpHeaderLen {
		return Result{}, false
	}
	typ, code := pkt[0], pkt[1]
	switch typ {
	case icmp6EchoReply:
		if src.Equal(dst) && binary.BigEndian.Uint16(pkt[4:]) == id && binary.BigEndian.Uint16(pkt[6:]) == seq {
			if got := ip6HeaderLen + len(pkt); got != size {
				return Result{Outcome: WrongAnswer, Detail: fmt.Sprintf("sent %d bytes, reply has %d", size, got)}, true
			}
			return Result{Outcome: OK}, true
		}
	case icmp6Unreachable, icmp6PacketTooBig, icmp6TimeExceeded:
		if !quotesEcho6(pkt[icmpHeaderLen:], dst, id, seq) {
			return Result{}, false
		}
		switch {
		case typ == icmp6PacketTooBig:
			mtu := binary.BigEndian.Uint32(pkt[4:])
			return Result{Outcome: FragNeeded, Detail: fmt.Sprintf("packet too big from %s, next-hop MTU %d", src, mtu)}, true
		case typ == icmp6Unreachable && code == icmp6PortUnreach:
			return Result{Outcome: Refused, Detail: fmt.Sprintf("port unreachable from %s", src)}, true
		}
		return Result{Outcome: Unreachable, Detail: fmt.Sprintf("icmpv6 type %d code %d from %s", typ, code, src)}, true
	}
	return Result{}, false
}

// quotesEcho6 says whether the invoking packet an ICMPv6 error quotes is our echo request to
// dst: its IPv6 header names dst, and past any extension headers (a fragment header when the
// kernel fragmented it; only the first fragment holds the ICMPv6 header) comes an echo request
// with our id and sequence.
func quotesEcho6(inner []byte, dst net.IP, id, seq uint16) bool {
	if len(inner) < ip6HeaderLen || inner[0]>>4 != 6 || !net.IP(inner[24:40]).Equal(dst) {
		return false
	}
	next, off := inner[6], ip6HeaderLen
	for next != ipProtoICMPv6 {
		switch next {
		case ip6ExtHopByHop, ip6ExtRouting, ip6ExtDestinations:
			if len(inner) < off+2 {
				return false
			}
			next, off = inner[off], off+(int(inner[off+1])+1)*8
		case ip6ExtFragment:
			if len(inner) < off+8 || binary.BigEndian.Uint16(inner[off+2:])>>3 != 0 {
				return false
			}
			next, off = inner[off], off+8
		default:
			return false
		}
	}
	if len(inner) < off+icmpHeaderLen {
		return false
	}
	q := inner[off:]
	return q[0] == icmp6EchoRequest && binary.BigEndian.Uint16(q[4:]) == id && binary.BigEndian.Uint16(q[6:]) == seq
}
