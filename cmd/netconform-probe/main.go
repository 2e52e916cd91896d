// Command netconform-probe is the probe agent netconform runs on every node, once in the pod
// network and once in the host network (see package probe).
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netconform/netconform/framework/probe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := log.New(os.Stderr, "netconform-probe: ", log.LstdFlags)
	a := &probe.Agent{ID: probe.IdentityFromEnv(), Logger: logger}
	// ECHO_PORTS (comma-separated) adds TCP and UDP echo listeners: the NetworkPolicy fixture's
	// pods set it in their manifest.
	for _, f := range strings.FieldsFunc(os.Getenv("ECHO_PORTS"), func(r rune) bool { return r == ',' }) {
		port, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || port < 1 || port > 65535 {
			logger.Fatalf("ECHO_PORTS: %q is not a port", f)
		}
		a.EchoPorts = append(a.EchoPorts, port)
	}
	// An agent whose image has netperf's server (the perf image) runs it beside itself, so
	// that every agent of a fleet deployed from that image can be measured against; the
	// default image has none. NETSERVER=0 turns it off.
	if _, err := exec.LookPath("netserver"); err == nil && os.Getenv("NETSERVER") != "0" {
		a.Netserver = true
	}
	logger.Printf("serving on node %q pod %q (host network %v)", a.ID.Node, a.ID.Pod, a.ID.HostNetwork)
	// "loop" also probes peers, a Service and DNS continuously (netconform switch).
	if len(os.Args) > 1 && os.Args[1] == "loop" {
		cfg := probe.LoopConfig{Self: a.ID.PodIP}
		fs := flag.NewFlagSet("loop", flag.ExitOnError)
		fs.StringVar(&cfg.Peers, "peers", "", "headless Service name whose addresses are the peer pods")
		fs.StringVar(&cfg.PeersFile, "peers-file", "", "file of peer pod IPs, one a line (instead of --peers)")
		fs.DurationVar(&cfg.PeerRefresh, "peer-refresh", 2*time.Second, "how often the peers are resolved again")
		fs.StringVar(&cfg.Service, "service", "", "host:port of a TCP echo Service")
		fs.StringVar(&cfg.DNSName, "dns-name", "", "name to look up")
		fs.DurationVar(&cfg.Interval, "interval", 100*time.Millisecond, "time between attempts on each path")
		fs.DurationVar(&cfg.Timeout, "timeout", time.Second, "timeout of one attempt")
		_ = fs.Parse(os.Args[2:])
		go probe.Loop(ctx, cfg, os.Stdout)
	}
	if err := a.Serve(ctx); err != nil {
		logger.Fatal(err)
	}
}
