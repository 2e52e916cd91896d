// Command netconform-probe is the probe agent netconform runs on every node, once in the pod
// network and once in the host network (see package probe).
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/netconform/netconform/framework/probe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := log.New(os.Stderr, "netconform-probe: ", log.LstdFlags)
	a := &probe.Agent{ID: probe.IdentityFromEnv(), Logger: logger}
	logger.Printf("serving on node %q pod %q (host network %v)", a.ID.Node, a.ID.Pod, a.ID.HostNetwork)
	if err := a.Serve(ctx); err != nil {
		logger.Fatal(err)
	}
}
