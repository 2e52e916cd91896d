package htmlreport

import (
	"bytes"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/framework/results/resultstest"
	"github.com/netconform/netconform/reports"
)

var verdictRE = regexp.MustCompile(`<span id="verdict" data-outcome="([^"]*)">([^<]*)</span>`)

func renderRun(t *testing.T, r *results.Result, opt RunOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := Run(&b, r, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The page shows the verdict results.Judge gives, case by case, with its reason: never PASS for
// a result that did not pass.
func TestRunPageShowsTheVerdict(t *testing.T) {
	for _, tc := range resultstest.Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			r := tc.Result
			r.Provider, r.Platform = "kubenet", "kind"
			page := renderRun(t, &r, RunOptions{})
			m := verdictRE.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no #verdict on the page")
			}
			if m[1] != string(tc.Outcome) || html.UnescapeString(m[2]) != string(tc.Outcome) {
				t.Errorf("verdict shown %q (data-outcome %q), want %q", m[2], m[1], tc.Outcome)
			}
			if tc.Reason != "" && !strings.Contains(html.UnescapeString(page), tc.Reason) {
				t.Errorf("page lacks the reason %q", tc.Reason)
			}
			if tc.Outcome != results.Pass && !strings.Contains(page, `id="reasons"`) {
				t.Errorf("a %s page has no list of reasons", tc.Outcome)
			}
		})
	}
}

// A bare pass and an unknown status are shown as failures in the check table too.
func TestUntrustedPassesAreShownAsFailures(t *testing.T) {
	r := results.Result{Complete: true, Checks: []results.Check{
		{ID: "s/bare", Suite: "s", Name: "bare", Status: results.Passed},
		{ID: "s/odd", Suite: "s", Name: "odd", Status: "flaky", Observations: []results.Observation{{OK: true}}},
	}}
	page := renderRun(t, &r, RunOptions{})
	for _, id := range []string{"s/bare", "s/odd"} {
		if !strings.Contains(page, `id="c-`+id+`" data-status="failed"`) {
			t.Errorf("check %s not shown as failed", id)
		}
	}
	if strings.Contains(page, `data-status="passed"`) {
		t.Errorf("a check is shown as passed")
	}
}

func pairResult() *results.Result {
	obs := func(from, to, proto string, ok bool) results.Observation {
		o := results.Observation{From: from, To: to, Protocol: proto, Expected: "ok", Observed: "ok", OK: ok, RTTMS: 0.4}
		if !ok {
			o.Observed, o.Detail = "timeout", "dial tcp 10.244.2.3:29081: i/o timeout"
		}
		return o
	}
	return &results.Result{Complete: true, Provider: "kubenet", Checks: []results.Check{
		{ID: "connectivity/pod-to-pod", Suite: "connectivity", Name: "pod to pod", Status: results.Failed, Reason: "1 of 4 pairs failed",
			Observations: []results.Observation{obs("c1-control-plane", "c1-worker", "tcp", true), obs("c1-worker", "c1-control-plane", "tcp", false),
				obs("c1-control-plane", "c1-control-plane", "tcp", true), obs("c1-worker", "c1-worker host", "tcp", true)}},
		{ID: "connectivity/service", Suite: "connectivity", Name: "service", Status: results.Passed,
			Observations: []results.Observation{obs("c1-worker", "service 10.96.0.5:80", "tcp", true)}},
	}}
}

// Node to node observations make a grid whose failing cell carries the observation; Service
// targets are not nodes and keep the list.
func TestPairGrid(t *testing.T) {
	page := renderRun(t, pairResult(), RunOptions{})
	if n := strings.Count(page, `class="pairgrid" data-check="connectivity/pod-to-pod"`); n != 1 {
		t.Fatalf("pod-to-pod grids: %d, want 1", n)
	}
	if strings.Contains(page, `data-check="connectivity/service"`) {
		t.Errorf("a Service check got a node grid")
	}
	fail := `<td class="pair fail" data-status="fail" data-from="c1-worker" data-to="c1-control-plane" data-protocol="tcp"`
	i := strings.Index(page, fail)
	if i < 0 {
		t.Fatalf("no failing cell worker -> control-plane")
	}
	cell, _, _ := strings.Cut(page[i:], "</td>")
	for _, want := range []string{"timeout", "i/o timeout", "expected"} {
		if !strings.Contains(cell, want) {
			t.Errorf("failing cell lacks %q: %s", want, cell)
		}
	}
	// "c1-worker host" is the worker's host network: still the worker's column.
	if !strings.Contains(page, `data-from="c1-worker" data-to="c1-worker" data-protocol="tcp" tabindex="0"`) {
		t.Errorf("the host-network target was not drawn in its node's cell")
	}
	if got := shortNames([]string{"c1-control-plane", "c1-worker", "c1-worker2"}); strings.Join(got, ",") != "control-plane,worker,worker2" {
		t.Errorf("short names %v", got)
	}
}

// The NetworkPolicy suite's rows become a truth table per port; the cells that differ are
// marked and counted.
func TestPolicyTruthTable(t *testing.T) {
	c := results.Check{ID: "networkpolicy/x", Suite: "networkpolicy", Labels: []string{"policy", "netpol"}, Status: results.Failed, Observations: []results.Observation{
		{From: "n1 x/a", To: "deny", Protocol: "80/TCP", Expected: "-A", Observed: "AA", Detail: "destinations in order: x/b (ok) y/a"},
		{From: "n2 x/b", To: "deny", Protocol: "80/TCP", Expected: "AA", Observed: "AA", OK: true, Detail: "destinations in order: x/a y/a"},
	}}
	tables := policyTables(c)
	if len(tables) != 1 || tables[0].Differ != 1 || strings.Join(tables[0].Destinations, " ") != "x/a x/b y/a" {
		t.Fatalf("tables %+v", tables)
	}
	row := tables[0].Rows[0] // x/a: itself, x/b differs, y/a agrees
	if row.Cells[0].Class != "self" || row.Cells[1].Class != "differ" || row.Cells[2].Class != "" {
		t.Errorf("row x/a cells %+v", row.Cells)
	}
	if !strings.Contains(row.Cells[1].Title, "model blocked, observed admitted") {
		t.Errorf("differing cell title %q", row.Cells[1].Title)
	}
}

// Nothing on any page points outside it, and the page forbids requests itself.
func TestPagesAreSelfContained(t *testing.T) {
	r := pairResult()
	r.Evidence = "evidence.tar.gz"
	sw := testSwitch(t)
	var m bytes.Buffer
	if err := Matrix(&m, reports.BuildMatrix([]reports.Source{{Path: "a/result.json", Result: r}}, time.Now()), []string{"a/report.html"}); err != nil {
		t.Fatal(err)
	}
	external := regexp.MustCompile(`(?i)(src|href|action)\s*=\s*"?\s*(https?:|//|ftp:)|url\(|@import`)
	for name, page := range map[string]string{
		"run": renderRun(t, r, RunOptions{EvidenceHref: "evidence.tar.gz"}), "switch": renderRun(t, r, RunOptions{Switch: sw}), "matrix": m.String(),
	} {
		if loc := external.FindStringIndex(page); loc != nil {
			t.Errorf("%s page refers outside itself: %q", name, page[max(0, loc[0]-40):loc[1]+40])
		}
		if !strings.Contains(page, `content="default-src 'none';`) {
			t.Errorf("%s page has no Content Security Policy", name)
		}
		if strings.Contains(page, "<script src") || strings.Contains(page, "<link") {
			t.Errorf("%s page loads a script or stylesheet", name)
		}
	}
}

// What a result holds is text on the page, never markup.
func TestResultTextIsEscaped(t *testing.T) {
	r := &results.Result{Complete: true, Provider: `<img src=x onerror=alert(1)>`, Checks: []results.Check{
		{ID: "s/a", Suite: "s", Name: `<script>alert(1)</script>`, Status: results.Failed, Reason: `</pre><script>x()</script>`},
	}}
	page := renderRun(t, r, RunOptions{})
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") || strings.Contains(page, "<script>x()") {
		t.Errorf("result text reached the page as markup")
	}
}

func testSwitch(t *testing.T) *Switch {
	t.Helper()
	dir := t.TempDir()
	rec := `{"from":"flannel","to":"calico","report":{"overall":{"attempts":100,"lost":12,"longestOutageNS":1200000000},
"nodes":[{"node":"c1-worker","start":"2026-12-03T09:36:30Z","end":"2026-12-03T09:36:50Z","attempts":50,"lost":12,"longestOutageNS":1200000000}],
"paths":{"pod":{"attempts":60,"lost":12,"longestOutageNS":1200000000},"dns":{"attempts":40,"lost":0}},
"outages":[{"from":"c1-control-plane","path":"pod","to":"c1-worker","start":"2026-12-03T09:36:40Z","end":"2026-12-03T09:36:41.2Z","lost":12,"recovered":true,"error":"timeout"}],
"connectionsOpened":2,"connectionsBroken":0,"connectionsSurvived":2},
"mixedMode":[{"pair":"calico -> flannel","attempts":10,"ok":0}]}`
	p := filepath.Join(dir, SwitchFileName)
	if err := os.WriteFile(p, []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	sw, err := ReadSwitch(p)
	if err != nil {
		t.Fatal(err)
	}
	return sw
}

// A switch record becomes a timeline per path, each outage a bar, and the outage table.
func TestSwitchPage(t *testing.T) {
	r := &results.Result{Complete: true, Provider: "calico", SwitchFrom: "flannel", Phases: []results.Phase{
		{Name: "c1-worker: drain", Status: results.Passed, Started: time.Date(2026, 12, 3, 9, 36, 31, 0, time.UTC), DurationMS: 3000},
	}, Checks: []results.Check{{ID: "switch/disruption", Suite: "switch", Status: results.Passed, Measurements: []results.Measurement{{Name: "lost", Value: 12}}}}}
	page := renderRun(t, r, RunOptions{Switch: testSwitch(t)})
	for _, want := range []string{`data-page="switch"`, `<section id="switch">`, `<svg class="timeline" data-path="pod"`, `<svg class="timeline" data-path="dns"`,
		`<table id="outages">`, "c1-worker: drain", "12 lost over 1.2 s", "none answered"} {
		if !strings.Contains(page, want) {
			t.Errorf("switch page lacks %q", want)
		}
	}
	if n := strings.Count(page, `class="out"`); n != 1 {
		t.Errorf("outage bars: %d, want 1", n)
	}
}

// WriteRunDir finds the switch record and the evidence beside the result and passes the page
// through the filter (the run's redaction).
func TestWriteRunDir(t *testing.T) {
	dir := t.TempDir()
	r := pairResult()
	r.SwitchFrom, r.Evidence = "flannel", "evidence.tar.gz"
	if err := os.WriteFile(filepath.Join(dir, "evidence.tar.gz"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SwitchFileName), []byte(`{"from":"flannel","to":"calico","report":{"nodes":[],"paths":{}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	redact := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("c1-worker"), []byte("[REDACTED]")) }
	if err := WriteRunDir(dir, r, redact); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<section id="switch">`, `href="evidence.tar.gz"`, "[REDACTED]"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	if bytes.Contains(page, []byte("c1-worker")) {
		t.Errorf("the filter did not reach the page")
	}
	// A damaged record is named, not fatal.
	if err := os.WriteFile(filepath.Join(dir, SwitchFileName), []byte(`{`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteRunDir(dir, r, nil); err != nil {
		t.Fatal(err)
	}
	page, _ = os.ReadFile(filepath.Join(dir, FileName))
	if !bytes.Contains(page, []byte("The switch record could not be read")) {
		t.Errorf("a damaged switch record is not named on the page")
	}
}

// The matrix page has a row per check with the run's status per cell, and skip reasons.
func TestMatrixPage(t *testing.T) {
	a := pairResult()
	b := &results.Result{Complete: true, Provider: "calico", Checks: []results.Check{
		{ID: "connectivity/pod-to-pod", Suite: "connectivity", Status: results.Skipped, Reason: "not-applicable: reasons"},
	}}
	m := reports.BuildMatrix([]reports.Source{{Path: "a", Result: a}, {Path: "b", Result: b}}, time.Now())
	var buf bytes.Buffer
	if err := Matrix(&buf, m, []string{"runs/a.html", ""}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{`data-page="matrix"`, `data-id="connectivity/pod-to-pod"`, `data-statuses="failed skipped"`,
		`data-statuses="passed none"`, "not-applicable: reasons", `<a href="runs/a.html">kubenet</a>`, "not in this run"} {
		if !strings.Contains(page, want) {
			t.Errorf("matrix page lacks %q", want)
		}
	}
}

// The kops --networking value a run recorded is a column of the matrix's runs table and a fact
// of the run's page; a run that recorded none shows no such fact.
func TestNetworkingShown(t *testing.T) {
	a := pairResult()
	a.Provider, a.Networking = "kuberouter", "kube-router"
	b := &results.Result{Complete: true, Provider: "calico"}
	m := reports.BuildMatrix([]reports.Source{{Path: "a", Result: a}, {Path: "b", Result: b}}, time.Now())
	var buf bytes.Buffer
	if err := Matrix(&buf, m, nil); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"<th>kops --networking</th>", "<td>kuberouter</td><td>kube-router</td>", "<td>calico</td><td></td>",
		"kuberouter (kops --networking kube-router) on"} {
		if !strings.Contains(page, want) {
			t.Errorf("matrix page lacks %q", want)
		}
	}
	if run := renderRun(t, a, RunOptions{}); !strings.Contains(run, "<tr><th>kops --networking</th><td>kube-router</td></tr>") {
		t.Errorf("run page lacks the kops --networking fact")
	}
	if run := renderRun(t, b, RunOptions{}); strings.Contains(run, "<th>kops --networking</th>") {
		t.Errorf("a run without a kops value shows the fact")
	}
}

// kops' standing on the run's Kubernetes version is a fact of the run page and a column of the
// matrix's runs table, and absent where it is not known.
func TestKopsStandingShown(t *testing.T) {
	a := pairResult()
	a.Provider, a.Networking, a.KubernetesVersion, a.KopsStanding = "canal", "canal", "v1.36.3", "not supported from Kubernetes 1.28"
	b := &results.Result{Complete: true, Provider: "calico"}
	m := reports.BuildMatrix([]reports.Source{{Path: "a", Result: a}, {Path: "b", Result: b}}, time.Now())
	var buf bytes.Buffer
	if err := Matrix(&buf, m, nil); err != nil {
		t.Fatal(err)
	}
	if page := buf.String(); !strings.Contains(page, "<th>kops on it</th>") || !strings.Contains(page, "<td>v1.36.3</td><td>not supported from Kubernetes 1.28</td>") {
		t.Errorf("matrix page lacks kops' standing")
	}
	if run := renderRun(t, a, RunOptions{}); !strings.Contains(run, "<tr><th>kops on it</th><td>not supported from Kubernetes 1.28</td></tr>") {
		t.Errorf("run page lacks kops' standing")
	}
	if run := renderRun(t, b, RunOptions{}); strings.Contains(run, "<th>kops on it</th>") {
		t.Errorf("a run without kops' standing shows the fact")
	}
}
