package switching

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/disruption"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/framework/redact"
	"github.com/netconform/netconform/framework/results"
)

type recordingTransport struct{ reqs []*http.Request }

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.reqs = append(r.reqs, req)
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
}

func TestSwitchViewRestrictsDaemonSetsAndNodes(t *testing.T) {
	next := &recordingTransport{}
	v := &switchView{next: next, label: networkLabel, value: "flannel"}
	body := `{"metadata":{"name":"kube-flannel-ds","namespace":"kube-flannel"},"spec":{"template":{"spec":{"nodeSelector":{"kubernetes.io/os":"linux"}}}}}`
	req, _ := http.NewRequest(http.MethodPost, "https://api/apis/apps/v1/namespaces/kube-flannel/daemonsets", strings.NewReader(body))
	if _, err := v.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	sent, _ := io.ReadAll(next.reqs[0].Body)
	var ds struct {
		Spec struct {
			Template struct {
				Spec struct {
					NodeSelector map[string]string `json:"nodeSelector"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(sent, &ds); err != nil {
		t.Fatal(err)
	}
	sel := ds.Spec.Template.Spec.NodeSelector
	if sel[networkLabel] != "flannel" || sel["kubernetes.io/os"] != "linux" {
		t.Errorf("nodeSelector sent = %v, want the switch label added to the provider's own", sel)
	}
	if got := v.DaemonSets(); len(got) != 1 || got[0] != "kube-flannel/kube-flannel-ds" {
		t.Errorf("DaemonSets() = %v", got)
	}

	req, _ = http.NewRequest(http.MethodGet, "https://api/api/v1/nodes?labelSelector=a%3Db", nil)
	if _, err := v.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if got := next.reqs[1].URL.Query().Get("labelSelector"); got != "a=b,"+networkLabel+"=flannel" {
		t.Errorf("node list selector = %q", got)
	}
	// Deployments are remembered, not restricted: they may run on any node.
	dep := `{"metadata":{"name":"calico-kube-controllers"},"spec":{"template":{"spec":{}}}}`
	req, _ = http.NewRequest(http.MethodPost, "https://api/apis/apps/v1/namespaces/kube-system/deployments", strings.NewReader(dep))
	if _, err := v.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if sent, _ := io.ReadAll(next.reqs[2].Body); string(sent) != dep {
		t.Errorf("Deployment body changed: %s", sent)
	}
	if got := v.Deployments(); len(got) != 1 || got[0] != "kube-system/calico-kube-controllers" {
		t.Errorf("Deployments() = %v", got)
	}
	next.reqs = next.reqs[:2]
	// Other requests pass untouched.
	req, _ = http.NewRequest(http.MethodGet, "https://api/api/v1/nodes/n1", nil)
	v.RoundTrip(req)
	if next.reqs[2].URL.RawQuery != "" {
		t.Errorf("single node get was changed: %q", next.reqs[2].URL.RawQuery)
	}
}

func TestAttemptsLeaveOutRetiredTargetsAndMapNodes(t *testing.T) {
	nodes := []kube.Node{{Name: "cp", PodCIDR: "10.244.0.0/24"}, {Name: "w1", PodCIDR: "10.244.1.0/24"}}
	t0 := time.UnixMilli(1_000_000)
	logs := []proberLog{{Pod: "p0", Node: "cp", Records: []probe.Record{
		{Time: t0.UnixMilli(), Path: probe.LoopPod, To: "10.244.1.5", OK: true},
		{Time: t0.UnixMilli() + 100, Path: probe.LoopPod, To: "10.244.1.5", OK: false, Err: "timeout"}, // after w1's prober left
		{Time: t0.UnixMilli() + 200, Path: probe.LoopPod, To: "10.244.1.9", OK: true},
		{Time: t0.UnixMilli() + 300, Path: probe.LoopService, To: "10.96.0.20:29081", OK: true},
		{Time: t0.UnixMilli() + 300, Path: probe.LoopConn, To: "10.244.1.9", OK: true, Conn: 1},
	}}}
	// A prober whose IP is outside every node pod CIDR (its own IPAM) maps by its log.
	logs = append(logs, proberLog{Pod: "p1", Node: "w1", IP: "192.168.7.9"})
	logs[0].Records = append(logs[0].Records, probe.Record{Time: t0.UnixMilli() + 400, Path: probe.LoopPod, To: "192.168.7.9", OK: true})
	as := attempts(logs, nodes, map[string]time.Time{"10.244.1.5": t0.Add(50 * time.Millisecond)})
	if len(as) != 5 {
		t.Fatalf("attempts = %+v, want 5 (the one to the retired pod left out)", as)
	}
	if as[4].To != "w1" {
		t.Errorf("target by prober IP = %q, want w1", as[4].To)
	}
	if as[0].To != "w1" || as[1].To != "w1" || as[2].To != "service" {
		t.Errorf("targets %q %q %q", as[0].To, as[1].To, as[2].To)
	}
	if as[3].Conn != "p0->10.244.1.9#1" {
		t.Errorf("conn id %q", as[3].Conn)
	}
}

func TestMixedModesByProviderOfEachEnd(t *testing.T) {
	t0 := time.UnixMilli(0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	windows := []rollWindow{{Node: "cp", Start: at(10), End: at(20)}, {Node: "w1", Start: at(30), End: at(40)}}
	as := []disruption.Attempt{
		{Time: at(5), From: "cp", To: "w1", Path: probe.LoopPod, OK: true},   // both A
		{Time: at(15), From: "w1", To: "cp", Path: probe.LoopPod, OK: false}, // cp rolling: left out
		{Time: at(25), From: "cp", To: "w1", Path: probe.LoopPod, OK: false}, // B -> A
		{Time: at(25), From: "w1", To: "cp", Path: probe.LoopPod, OK: true},  // A -> B
		{Time: at(45), From: "w1", To: "cp", Path: probe.LoopPod, OK: true},  // B -> B
		{Time: at(45), From: "w1", To: "dns", Path: probe.LoopDNS, OK: true}, // not pod to pod
	}
	got := mixedModes(as, windows, "kubenet", "flannel")
	want := []mixedMode{{"flannel -> flannel", 1, 1}, {"flannel -> kubenet", 1, 0}, {"kubenet -> flannel", 1, 1}, {"kubenet -> kubenet", 1, 1}}
	if len(got) != len(want) {
		t.Fatalf("mixed = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mixed[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// A path that still fails after the last node came back is connectivity lost for good: the
// disruption check fails and names it; outages that recovered only show in the figures.
func TestDisruptionCheckFailsOnLossForGood(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failFrom int // ms from which w1 -> cp fails (0: never)
		failTo   int // ms at which it answers again (0: never)
		want     results.Status
	}{
		{"recovered", 1000, 2000, results.Passed},
		{"lost for good", 1000, 0, results.Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rec, err := results.NewRecorder(filepath.Join(dir, "result.json"), results.Result{})
			if err != nil {
				t.Fatal(err)
			}
			nodes := []kube.Node{{Name: "cp", PodCIDR: "10.244.0.0/24"}, {Name: "w1", PodCIDR: "10.244.1.0/24"}}
			var recs []probe.Record
			for ms := 0; ms <= 5000; ms += 100 {
				ok := ms < tc.failFrom || (tc.failTo > 0 && ms >= tc.failTo)
				recs = append(recs, probe.Record{Time: int64(ms), Path: probe.LoopPod, To: "10.244.0.7", OK: ok, Err: map[bool]string{false: "timeout"}[ok]})
			}
			s := &Switch{
				cfg: Config{Artifacts: dir, From: "kubenet", To: "flannel"},
				rec: rec, out: io.Discard, nodes: nodes,
				logs:    []proberLog{{Pod: "p1", Node: "w1", Records: recs}},
				windows: []rollWindow{{Node: "cp", Start: time.UnixMilli(500), End: time.UnixMilli(3000)}},
			}
			s.reportDisruption()
			r := rec.Snapshot()
			if len(r.Checks) != 1 || r.Checks[0].Status != tc.want {
				t.Fatalf("checks %+v, want one %s", r.Checks, tc.want)
			}
			if tc.want == results.Failed && !strings.Contains(r.Checks[0].Reason, "pod w1 -> cp lost for good") {
				t.Errorf("reason %q does not name the path", r.Checks[0].Reason)
			}
			if _, err := os.Stat(filepath.Join(dir, "disruption.md")); err != nil {
				t.Error(err)
			}
		})
	}
}

// disruption.json, disruption.md and what is printed of them pass through the run's redactor,
// as result.json does: a probe error that quotes a secret must not keep it in any of them.
func TestDisruptionFilesAreRedacted(t *testing.T) {
	const secret = "s3cret-token-value"
	dir := t.TempDir()
	rec, err := results.NewRecorder(filepath.Join(dir, "result.json"), results.Result{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []probe.Record
	for ms := 0; ms <= 3000; ms += 100 {
		ok := ms < 1000
		recs = append(recs, probe.Record{Time: int64(ms), Path: probe.LoopPod, To: "10.244.0.7", OK: ok, Err: map[bool]string{false: "refused by " + secret}[ok]})
	}
	var printed strings.Builder
	red := redact.New(secret)
	s := &Switch{
		cfg: Config{Artifacts: dir, From: "kubenet", To: "flannel", Redact: red.Bytes},
		rec: rec, out: &printed,
		nodes: []kube.Node{{Name: "cp", PodCIDR: "10.244.0.0/24"}, {Name: "w1", PodCIDR: "10.244.1.0/24"}},
		logs:  []proberLog{{Pod: "p1", Node: "w1", Records: recs}},
	}
	s.reportDisruption()
	for _, f := range []string{"disruption.json", "disruption.md"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "refused by") {
			t.Errorf("%s does not carry the probe error at all; the test proves nothing:\n%s", f, b)
		}
		if strings.Contains(string(b), secret) {
			t.Errorf("%s keeps the secret", f)
		}
	}
	if strings.Contains(printed.String(), secret) {
		t.Error("the printed report keeps the secret")
	}
}

func TestRollCheckNamesNodeAndStep(t *testing.T) {
	rec, err := results.NewRecorder(filepath.Join(t.TempDir(), "result.json"), results.Result{})
	if err != nil {
		t.Fatal(err)
	}
	s := &Switch{cfg: Config{From: "kubenet", To: "flannel"}, rec: rec,
		nodes:   []kube.Node{{Name: "cp"}, {Name: "w1"}, {Name: "w2"}},
		windows: []rollWindow{{Node: "cp"}, {Node: "w1", Err: "drain w1: not done within 2m0s: left: default/web"}}}
	s.reportRolls()
	c := rec.Snapshot().Checks[0]
	if c.Status != results.Failed || !strings.Contains(c.Reason, "not switched: w1, w2") || !strings.Contains(c.Reason, "w1: drain w1") {
		t.Errorf("check %s: %q", c.Status, c.Reason)
	}
}

// A switch check passes only on something observed: a switch over an empty node list proves
// nothing and must fail, whatever the check.
func TestSwitchChecksNeedObservations(t *testing.T) {
	ch := switchCheck(checkRolled, "every node is switched", time.Now())
	if ch.Status == results.Passed {
		t.Fatal("a switch check must not start as passed")
	}
	conclude(&ch, nil)
	if ch.Status != results.Failed || !strings.Contains(ch.Reason, "nothing observed") {
		t.Errorf("empty check: %s %q", ch.Status, ch.Reason)
	}
	ch = switchCheck(checkLeftovers, "nothing left", time.Now())
	ch.Observations = append(ch.Observations, results.Observation{From: "n1", Expected: "absent", Observed: "none of 4 items", OK: true})
	conclude(&ch, nil)
	if ch.Status != results.Passed {
		t.Errorf("observed and clean: %s %q", ch.Status, ch.Reason)
	}
	conclude(&ch, []string{"n1: chain KUBE-X left"})
	if ch.Status != results.Failed || ch.Reason != "n1: chain KUBE-X left" {
		t.Errorf("leftover: %s %q", ch.Status, ch.Reason)
	}
}
