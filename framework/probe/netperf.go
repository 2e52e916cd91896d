package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/netconform/netconform/framework/perf"
)

// NetserverPort is where a perf agent's netserver listens (netperf's default control port).
const NetserverPort = 12865

// NetperfDataPort is the netserver's data port when a probe fixes it (Request.DataPort): the
// next port up, as a Service in front of a netserver forwards both.
const NetperfDataPort = 12866

// maxNetperfSeconds bounds one test, inside maxProbeTimeout with room for netperf's own setup.
const maxNetperfSeconds = 50

// netperfBinary is the tool a netperf probe runs, found on PATH.
const netperfBinary = "netperf"

// runNetserver runs netserver in the foreground until ctx ends; its exit before that is an error.
func runNetserver(ctx context.Context) error {
	bin, err := exec.LookPath("netserver")
	if err != nil {
		return errors.New("netserver asked for, but not in this agent's image (the perf image has it: scripts/probe-image.sh --perf)")
	}
	out, err := exec.CommandContext(ctx, bin, "-D", "-p", strconv.Itoa(NetserverPort)).CombinedOutput()
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("netserver exited: %v; output: %s", err, tail(out))
}

// probeNetperf runs one netperf test and parses its figures. Only the tests perf knows run, with
// the arguments perf.Args builds: a request cannot make the agent run anything else.
func probeNetperf(ctx context.Context, req Request) Result {
	t := perf.Test(req.Test)
	if !slices.Contains(perf.Tests, t) {
		return Result{Outcome: Error, Detail: fmt.Sprintf("netperf test %q: not one of %v", req.Test, perf.Tests)}
	}
	if req.DataPort < 0 || req.DataPort > 65535 {
		return Result{Outcome: Error, Detail: fmt.Sprintf("netperf data port %d: want 0 (netperf's choice) to 65535", req.DataPort)}
	}
	if req.Seconds < 1 || req.Seconds > maxNetperfSeconds {
		return Result{Outcome: Error, Detail: fmt.Sprintf("netperf for %d s: want 1 to %d", req.Seconds, maxNetperfSeconds)}
	}
	host, port, err := net.SplitHostPort(req.Target)
	if err != nil {
		return Result{Outcome: Error, Detail: fmt.Sprintf("netperf target %q: %v", req.Target, err)}
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return Result{Outcome: Error, Detail: fmt.Sprintf("netperf target %q: port: %v", req.Target, err)}
	}
	bin, err := exec.LookPath(netperfBinary)
	if err != nil {
		return Result{Outcome: Error, Detail: "no netperf in this agent's image (the perf image has it: scripts/probe-image.sh --perf)"}
	}
	out, err := exec.CommandContext(ctx, bin, perf.Args(t, host, p, req.DataPort, req.Seconds)...).CombinedOutput()
	switch {
	case ctx.Err() != nil:
		return Result{Outcome: Timeout, Detail: fmt.Sprintf("netperf %s to %s: %v; output: %s", t, req.Target, ctx.Err(), tail(out))}
	case err != nil:
		return Result{Outcome: netperfOutcome(out, err), Detail: fmt.Sprintf("netperf %s to %s: %v; output: %s", t, req.Target, err, tail(out))}
	}
	s, err := perf.Parse(t, string(out))
	if err != nil {
		return Result{Outcome: WrongAnswer, Detail: err.Error()}
	}
	return Result{Outcome: OK, Perf: &s}
}

// netperfOutcome classifies a failed run by what netperf printed: it reports a control
// connection it could not make in words, not with an errno.
func netperfOutcome(out []byte, err error) Outcome {
	var ee *exec.ExitError
	s := string(out)
	switch {
	case !errors.As(err, &ee):
		return Error
	case strings.Contains(s, "Connection refused"):
		return Refused
	case strings.Contains(s, "timed out") || strings.Contains(s, "Connection timed out"):
		return Timeout
	case strings.Contains(s, "No route to host") || strings.Contains(s, "Network is unreachable"):
		return Unreachable
	}
	return Error
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 400 {
		s = "..." + s[len(s)-400:]
	}
	return s
}
