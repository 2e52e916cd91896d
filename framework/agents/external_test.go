package agents

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/probe"
)

// agentServer is a probe agent's control API that answers probes after delay, recording the
// requests it got.
func agentServer(t *testing.T, delay time.Duration, got chan<- probe.Request) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/healthz":
			w.Write([]byte("ok\n"))
		case r.Method == http.MethodGet && r.URL.Path == "/info":
			json.NewEncoder(w).Encode(probe.Info{Node: "external", PathMTUTo: r.URL.Query().Get("mtuTo"), PathMTU: 1500})
		case r.Method == http.MethodPost && r.URL.Path == "/probe":
			var req probe.Request
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if got != nil {
				got <- req
			}
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
			json.NewEncoder(w).Encode(probe.Result{Outcome: probe.OK, From: "external/nc-ext", RTTMS: 1.5})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// An agent with a Control address is asked there, directly: no API server (the fleet's fake
// clientset has no REST client to ask through), no host agent, no Via.
func TestProbeDirect(t *testing.T) {
	got := make(chan probe.Request, 1)
	srv := agentServer(t, 0, got)
	ext, err := ConnectExternal(context.Background(), strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if !ext.Ready || ext.Role != External || ext.Node != "external" || !ext.HostNetwork || ext.IP != "127.0.0.1" || ext.Addr() != ext.Control {
		t.Errorf("external agent %+v", ext)
	}
	f := &Fleet{c: fakeClient(), Namespace: "nc"}
	r := f.Probe(context.Background(), ext, probe.Request{Protocol: probe.TCP, Target: "10.96.0.10:29081", Via: "10.0.0.1:29080"})
	if r.Outcome != probe.OK || r.From != "external/nc-ext" || r.Attempts != 1 {
		t.Errorf("result %+v", r)
	}
	req := <-got
	if req.Via != "" || req.Target != "10.96.0.10:29081" || req.TimeoutMS != int(kube.DefaultTimeouts().Probe/time.Millisecond) {
		t.Errorf("the agent got %+v", req)
	}
	info, err := f.InfoWithPathMTU(context.Background(), ext, "10.244.1.5")
	if err != nil || info.Node != "external" || info.PathMTUTo != "10.244.1.5" {
		t.Errorf("info %+v %v", info, err)
	}

	// Not Ready: not asked.
	down := ext
	down.Ready, down.Why = false, "no answer"
	if r := f.Probe(context.Background(), down, probe.Request{Protocol: probe.TCP, Target: "x:1"}); r.Outcome != probe.AgentUnreachable || !strings.Contains(r.Detail, "external agent at "+ext.Control+" not Ready: no answer") {
		t.Errorf("not Ready: %+v", r)
	}
	// Gone: unreachable, saying where it was asked.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	ext.Control = strings.TrimPrefix(gone.URL, "http://")
	if r := f.Probe(context.Background(), ext, probe.Request{Protocol: probe.TCP, Target: "x:1"}); r.Outcome != probe.AgentUnreachable || !strings.Contains(r.Detail, "ask external agent at "+ext.Control) {
		t.Errorf("gone: %+v", r)
	}
}

// The direct request's deadline is the whole probe's budget (every repetition) plus an API
// call: a repeated probe that takes longer than one repetition is still waited for, and one that
// takes longer than the budget is not.
func TestProbeDirectDeadline(t *testing.T) {
	c := fakeClient()
	c.Timeouts.APICall = 100 * time.Millisecond
	f := &Fleet{c: c, Namespace: "nc"}
	slow := agentServer(t, 400*time.Millisecond, nil)
	ext := Agent{Role: External, Node: "external", Ready: true, Control: strings.TrimPrefix(slow.URL, "http://")}
	// 3 x (100 + 50) ms + 100 ms = 550 ms > 400 ms.
	if r := f.Probe(context.Background(), ext, probe.Request{Protocol: probe.WhoUDP, Target: "x:1", TimeoutMS: 100, Count: 3, IntervalMS: 50}); r.Outcome != probe.OK {
		t.Errorf("repeated probe within its budget: %+v", r)
	}
	// 1 x 100 ms + 100 ms = 200 ms < 400 ms.
	start := time.Now()
	r := f.Probe(context.Background(), ext, probe.Request{Protocol: probe.TCP, Target: "x:1", TimeoutMS: 100})
	if r.Outcome != probe.AgentUnreachable || !strings.Contains(r.Detail, "deadline exceeded") {
		t.Errorf("probe beyond its budget: %+v", r)
	}
	if took := time.Since(start); took > 350*time.Millisecond {
		t.Errorf("took %s, budget 200ms", took)
	}
}

func TestConnectExternalFails(t *testing.T) {
	if _, err := ConnectExternal(context.Background(), "no-port"); err == nil || !strings.Contains(err.Error(), "want HOST:PORT") {
		t.Errorf("no port: %v", err)
	}
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	a, err := ConnectExternal(ctx, strings.TrimPrefix(gone.URL, "http://"))
	if err == nil || a.Ready || a.Why == "" || !strings.Contains(err.Error(), "/healthz") {
		t.Errorf("unreachable: %+v %v", a, err)
	}
	// An answer other than 200 is not healthy.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusServiceUnavailable) }))
	defer bad.Close()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel2()
	if _, err := ConnectExternal(ctx2, strings.TrimPrefix(bad.URL, "http://")); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("503: %v", err)
	}
}

func TestExternalDockerArgs(t *testing.T) {
	got := strings.Join(externalRunArgs("netconform-nc-1", "netconform/probe:abc", "netconform-ext-x"), " ")
	want := "run -d --name netconform-ext-x --network netconform-nc-1 --label netconform.io/external=netconform-ext-x " +
		"-e NODE_NAME=external -e POD_NAME=netconform-ext-x -e HOST_NETWORK=true --cap-add NET_RAW netconform/probe:abc"
	if got != want {
		t.Errorf("docker run args\n  %s\nwant\n  %s", got, want)
	}
	ip := externalIPArgs("kind", "netconform-ext-x")
	if strings.Join(ip, "|") != `inspect|-f|{{(index .NetworkSettings.Networks "kind").IPAddress}} {{(index .NetworkSettings.Networks "kind").GlobalIPv6Address}}|netconform-ext-x` {
		t.Errorf("docker inspect args %q", ip)
	}
	for out, want := range map[string][2]string{
		"172.18.0.9 fc00:f853:ccd:e793::9\n": {"172.18.0.9", "fc00:f853:ccd:e793::9"},
		"172.18.0.9 \n":                      {"172.18.0.9", ""},
		"<no value> <no value>\n":            {"", ""},
	} {
		if v4, v6 := externalAddrs(out); v4 != want[0] || v6 != want[1] {
			t.Errorf("externalAddrs(%q) = %q %q, want %q", out, v4, v6, want)
		}
	}
	for out, want := range map[string]string{"bridge kind \n": "kind", "netconform-nc-1 \n": "netconform-nc-1", "bridge \n": "", "": ""} {
		if got := firstNetwork(out); got != want {
			t.Errorf("firstNetwork(%q) = %q, want %q", out, got, want)
		}
	}
	if !noSuchContainer(errors.New("docker rm -f x: exit status 1: Error response from daemon: No such container: x")) || noSuchContainer(errors.New("permission denied")) {
		t.Error("noSuchContainer")
	}
	e := &ExternalContainer{Name: "netconform-ext-x", Network: "kind", Image: "img", IP: "172.18.0.9"}
	if a := e.Agent(); a.Control != "172.18.0.9:29080" || a.Role != External || a.Node != "external" || !a.HostNetwork || !a.Ready || a.Pod != e.Name {
		t.Errorf("container agent %+v", a)
	}
	e.IPv6 = "fc00::9"
	if a := e.Agent(); a.Control != "172.18.0.9:29080" || len(a.IPs) != 2 || a.IPOf(ipfamily.IPv6) != "fc00::9" || a.IPOf(ipfamily.IPv4) != "172.18.0.9" {
		t.Errorf("container agent with IPv6 %+v", a)
	}
}
