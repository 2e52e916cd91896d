package probe

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Links lists the namespace's interfaces with MTU, addresses and kind.
func Links() ([]Link, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	links := make([]Link, 0, len(ifs))
	for _, i := range ifs {
		l := Link{Name: i.Name, MTU: i.MTU, Up: i.Flags&net.FlagUp != 0, Kind: linkKind(i.Name)}
		if addrs, err := i.Addrs(); err == nil {
			for _, a := range addrs {
				l.Addrs = append(l.Addrs, a.String())
			}
		}
		links = append(links, l)
	}
	sort.Slice(links, func(a, b int) bool { return links[a].Name < links[b].Name })
	return links, nil
}

// linkKind reads the device type sysfs shows for this namespace's link.
func linkKind(name string) string {
	if _, err := os.Stat("/sys/class/net/" + name + "/bridge"); err == nil {
		return "bridge"
	}
	b, err := os.ReadFile("/sys/class/net/" + name + "/uevent")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "DEVTYPE="); ok {
				return v
			}
		}
	}
	// veth has no DEVTYPE; its peer index tells it apart from a physical device.
	if _, err := os.Stat("/sys/class/net/" + name + "/device"); err != nil {
		if ifl, err := os.ReadFile("/sys/class/net/" + name + "/iflink"); err == nil {
			if idx, err := os.ReadFile("/sys/class/net/" + name + "/ifindex"); err == nil && strings.TrimSpace(string(ifl)) != strings.TrimSpace(string(idx)) {
				return "veth"
			}
		}
	}
	return ""
}

// readRoutes parses /proc/net/route (the IPv4 main table).
func readRoutes(path string) ([]Route, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read routes: %w", err)
	}
	defer f.Close()
	return parseRoutes(bufio.NewScanner(f))
}

func parseRoutes(sc *bufio.Scanner) ([]Route, error) {
	var routes []Route
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		dst, err1 := hexIP(f[1])
		gw, err2 := hexIP(f[2])
		mask, err3 := hexIP(f[7])
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("bad route line %q", sc.Text())
		}
		ones, _ := net.IPMask(mask.To4()).Size()
		r := Route{Dst: fmt.Sprintf("%s/%d", dst, ones), Dev: f[0]}
		if !gw.Equal(net.IPv4zero) {
			r.Gateway = gw.String()
		}
		routes = append(routes, r)
	}
	return routes, sc.Err()
}

// hexIP decodes /proc/net/route's little-endian hex addresses.
func hexIP(s string) (net.IP, error) {
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return nil, err
	}
	ip := make(net.IP, 4)
	binary.LittleEndian.PutUint32(ip, uint32(v))
	return ip, nil
}

// Route flags of /proc/net/ipv6_route (include/uapi/linux/ipv6_route.h, route.h) that mark an
// entry as none of the main table's routes: the file lists every table and cached clones.
const (
	rtfAnycast = 0x00100000 // local table: an anycast address of this host
	rtfCache   = 0x01000000 // a cached clone of a route
	rtfLocal   = 0x80000000 // local table: an address of this host
)

// readRoutes6 parses /proc/net/ipv6_route: its routes of the main table, without the
// loopback device's, multicast and link-local (fe80::/10) ones. A missing file (IPv6 disabled)
// is no IPv6 route, not an error.
func readRoutes6(path string) ([]Route, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read IPv6 routes: %w", err)
	}
	defer f.Close()
	return parseRoutes6(bufio.NewScanner(f))
}

// parseRoutes6 reads ipv6_route lines: destination (32 hex digits) and its prefix length (hex),
// source and its prefix length, next hop, metric, reference count, use count, flags, device.
// It has no table column: entries of the local table are told apart by their flags.
func parseRoutes6(sc *bufio.Scanner) ([]Route, error) {
	var routes []Route
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		dst, err1 := hexIP6(f[0])
		ones, err2 := strconv.ParseUint(f[1], 16, 8)
		gw, err3 := hexIP6(f[4])
		flags, err4 := strconv.ParseUint(f[8], 16, 32)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || ones > 128 {
			return nil, fmt.Errorf("bad IPv6 route line %q", sc.Text())
		}
		if f[9] == "lo" || flags&(rtfLocal|rtfAnycast|rtfCache) != 0 || dst.IsMulticast() || (dst.IsLinkLocalUnicast() && ones >= 10) {
			continue
		}
		r := Route{Dst: fmt.Sprintf("%s/%d", dst, ones), Dev: f[9]}
		if !gw.Equal(net.IPv6unspecified) {
			r.Gateway = gw.String()
		}
		routes = append(routes, r)
	}
	return routes, sc.Err()
}

// hexIP6 decodes ipv6_route's addresses: 32 hex digits in network order.
func hexIP6(s string) (net.IP, error) {
	if len(s) != 2*net.IPv6len {
		return nil, fmt.Errorf("IPv6 address %q is not %d hex digits", s, 2*net.IPv6len)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return net.IP(b), nil
}

// PathMTU asks the kernel for the MTU it uses toward ip: a connected UDP socket's IP_MTU, or
// IPV6_MTU toward an IPv6 address. Nothing is sent.
func PathMTU(ip string) (int, error) {
	dst := net.ParseIP(ip)
	if dst == nil {
		return 0, fmt.Errorf("path MTU: %q is not an IP address", ip)
	}
	family, level, opt := syscall.AF_INET, syscall.IPPROTO_IP, syscall.IP_MTU
	var sa syscall.Sockaddr
	if v4 := dst.To4(); v4 != nil {
		a := &syscall.SockaddrInet4{Port: 9}
		copy(a.Addr[:], v4)
		sa = a
	} else {
		family, level, opt = syscall.AF_INET6, syscall.IPPROTO_IPV6, syscall.IPV6_MTU
		a := &syscall.SockaddrInet6{Port: 9}
		copy(a.Addr[:], dst.To16())
		sa = a
	}
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return 0, fmt.Errorf("path MTU: %w", err)
	}
	defer syscall.Close(fd)
	if err := syscall.Connect(fd, sa); err != nil {
		return 0, fmt.Errorf("path MTU toward %s: %w", ip, err)
	}
	mtu, err := syscall.GetsockoptInt(fd, level, opt)
	if err != nil {
		return 0, fmt.Errorf("path MTU toward %s: %w", ip, err)
	}
	return mtu, nil
}

// maxResolvConf caps Info.ResolvConf; a pod's resolv.conf is a few lines.
const maxResolvConf = 4 << 10

// readResolvConf is the resolver configuration at path, trimmed and cut at maxResolvConf bytes;
// "" when it cannot be read (a missing file is what Info then shows: the agent has none).
func readResolvConf(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxResolvConf))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// sctpSupport says whether the kernel opens an SCTP socket: "" when it does, else the error. A
// kernel without SCTP (no CONFIG_IP_SCTP, or the module absent or not loadable: socket() asks the
// kernel to load it) answers EPROTONOSUPPORT, "protocol not supported"; so does the machine these
// tests were written on (a Firecracker VM, kernel 6.18 booted with nomodule and no
// /proc/sys/net/sctp). A seccomp profile that forbids the socket would answer EPERM or EACCES.
func sctpSupport() string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, syscall.IPPROTO_SCTP)
	if err != nil {
		return err.Error()
	}
	syscall.Close(fd)
	return ""
}
