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
	icmpHeaderLen = 8
)

// probeICMP sends one ICMP echo of size bytes (whole IP packet) to target and waits for the
// reply, a "fragmentation needed" for it, or the deadline. It uses a raw socket (CAP_NET_RAW),
// with IP_PMTUDISC_DO when dontFragment is set.
func probeICMP(ctx context.Context, target string, size int, dontFragment bool) Result {
	dst := net.ParseIP(target).To4()
	if dst == nil {
		return Result{Outcome: Error, Detail: fmt.Sprintf("icmp target %q is not an IPv4 address", target)}
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
	start := time.Now()
	if err := syscall.Sendto(fd, msg, 0, &sa); err != nil {
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
		res, done := matchICMP(buf[:n], from, dst, id, seq, size)
		if done {
			res.RTTMS = float64(time.Since(start).Microseconds()) / 1000
			return res
		}
	}
}

func deadlineOf(ctx context.Context) time.Time {
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return time.Now().Add(5 * time.Second)
}

// echoRequest builds an ICMP echo request with a payload of n bytes.
func echoRequest(id, seq uint16, n int) []byte {
	b := make([]byte, icmpHeaderLen+n)
	b[0] = 8 // echo request
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	for i := icmpHeaderLen; i < len(b); i++ {
		b[i] = byte(i)
	}
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
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
	case 0: // echo reply
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
		if q[0] != 8 || binary.BigEndian.Uint16(q[4:]) != id || binary.BigEndian.Uint16(q[6:]) != seq {
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
