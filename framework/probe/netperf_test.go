package probe

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeNetperf puts a netperf on a temporary PATH that prints out and exits with code, and
// records its arguments.
func fakeNetperf(t *testing.T, out string, code int) (argsFile string) {
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := "#!/bin/sh\necho \"$@\" > " + argsFile + "\nprintf '%s' '" + out + "'\nexit " + string(rune('0'+code)) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "netperf"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	return argsFile
}

func TestNetperfProbe(t *testing.T) {
	args := fakeNetperf(t, "10384.899,96.24,64,131,567,0\n", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res := probeNetperf(ctx, Request{Protocol: Netperf, Test: "TCP_CRR", Target: "10.244.1.5:12865", Seconds: 3})
	if res.Outcome != OK || res.Perf == nil || res.Perf.TransactionsPerSec != 10384.899 || res.Perf.P99US != 567 {
		t.Fatalf("got %+v", res)
	}
	b, _ := os.ReadFile(args)
	if !strings.HasPrefix(string(b), "-H 10.244.1.5 -p 12865 -l 3 -t TCP_CRR -P 0 --") {
		t.Errorf("netperf ran with %q", b)
	}
}

func TestNetperfProbeRefuses(t *testing.T) {
	fakeNetperf(t, "", 0)
	ctx := context.Background()
	for name, req := range map[string]Request{
		"unknown test": {Test: "SCTP_STREAM", Target: "h:1", Seconds: 1},
		"no seconds":   {Test: "TCP_RR", Target: "h:1"},
		"too long":     {Test: "TCP_RR", Target: "h:1", Seconds: 3600},
		"no port":      {Test: "TCP_RR", Target: "h", Seconds: 1},
	} {
		if res := probeNetperf(ctx, req); res.Outcome != Error {
			t.Errorf("%s: %+v, want an error", name, res)
		}
	}
}

func TestNetperfProbeFailures(t *testing.T) {
	fakeNetperf(t, "establish control: are you sure there is a netserver listening on 10.0.0.1 at port 12865?\nestablish_control could not establish the control connection from 0.0.0.0 port 0 address family AF_INET to 10.0.0.1 port 12865 address family AF_INET: Connection refused\n", 1)
	res := probeNetperf(context.Background(), Request{Test: "TCP_RR", Target: "10.0.0.1:12865", Seconds: 1})
	if res.Outcome != Refused || !strings.Contains(res.Detail, "Connection refused") {
		t.Errorf("refused: %+v", res)
	}
	fakeNetperf(t, "garbage", 0)
	if res := probeNetperf(context.Background(), Request{Test: "TCP_RR", Target: "h:1", Seconds: 1}); res.Outcome != WrongAnswer {
		t.Errorf("garbage: %+v", res)
	}
	t.Setenv("PATH", t.TempDir())
	if res := probeNetperf(context.Background(), Request{Test: "TCP_RR", Target: "h:1", Seconds: 1}); res.Outcome != Error || !strings.Contains(res.Detail, "perf image") {
		t.Errorf("no netperf: %+v", res)
	}
}

func TestRunNetserver(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	if err := runNetserver(context.Background()); err == nil || !strings.Contains(err.Error(), "perf image") {
		t.Errorf("no netserver: %v", err)
	}
	write := func(body string) {
		if err := os.WriteFile(filepath.Join(dir, "netserver"), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("echo bind failed; exit 1")
	if err := runNetserver(context.Background()); err == nil || !strings.Contains(err.Error(), "bind failed") {
		t.Errorf("netserver that exits: %v", err)
	}
	write("exec /bin/sleep 30")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := runNetserver(ctx); err != nil || time.Since(start) > 5*time.Second {
		t.Errorf("netserver until the agent ends: %v after %s", err, time.Since(start))
	}
}
