package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// writeKubeconfig writes a kubeconfig for server with a bearer token.
func writeKubeconfig(t *testing.T, server, token string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	body := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q, insecure-skip-tls-verify: true}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
users: [{name: u, user: {token: %q}}]
`, server, token)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheckBadInput: every kind of bad input ends within seconds, with exit code 2, a message
// that says what is wrong, and a result file that says the run could not run.
func TestCheckBadInput(t *testing.T) {
	noNodes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/version":
			fmt.Fprint(w, `{"major":"1","minor":"34","gitVersion":"v1.34.4"}`)
		case "/api/v1/nodes":
			fmt.Fprint(w, `{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer noNodes.Close()
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("this: is: not: a kubeconfig\n\t- ["), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, kubeconfig, want string
	}{
		{"missing kubeconfig", filepath.Join(t.TempDir(), "nope"), "no such file"},
		{"unparsable kubeconfig", garbage, "not usable"},
		{"unreachable API server", writeKubeconfig(t, "https://127.0.0.1:1", "PLANTED-TOKEN-BADINPUT"), "does not answer"},
		{"cluster without nodes", writeKubeconfig(t, noNodes.URL, "PLANTED-TOKEN-BADINPUT"), "no nodes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			art := t.TempDir()
			start := time.Now()
			out, code, err := runCLI(t, "check", "--kubeconfig", c.kubeconfig, "--probe-image", "x", "--artifacts", art)
			if took := time.Since(start); took > 15*time.Second {
				t.Errorf("took %s; bad input must end in seconds", took)
			}
			if code != exitCouldNotRun || err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("exit %d, err %v; want exit 2 and %q", code, err, c.want)
			}
			r, lerr := results.Load(filepath.Join(art, "result.json"))
			if lerr != nil {
				t.Fatalf("no result written: %v", lerr)
			}
			if !r.Complete || !strings.Contains(r.Error, c.want) {
				t.Errorf("result: complete=%v error=%q", r.Complete, r.Error)
			}
			if strings.Contains(out, "PLANTED-TOKEN-BADINPUT") || strings.Contains(err.Error(), "PLANTED-TOKEN-BADINPUT") {
				t.Error("the kubeconfig's token was printed")
			}
		})
	}
}

func TestRunUnknownProvider(t *testing.T) {
	_, code, err := runCLI(t, "run", "--provider", "nosuch", "--node-image", "x", "--probe-image", "y", "--artifacts", t.TempDir())
	if code != exitCouldNotRun || err == nil || !strings.Contains(err.Error(), "nosuch") || !strings.Contains(err.Error(), "kubenet") {
		t.Fatalf("exit %d, err %v: want exit 2 naming the provider and the valid ones", code, err)
	}
}

func TestReportPartialResult(t *testing.T) {
	dir := t.TempDir()
	rec, err := results.NewRecorder(filepath.Join(dir, "result.json"), results.Result{RunID: "r", Provider: "kubenet", Platform: "kind"})
	if err != nil {
		t.Fatal(err)
	}
	_ = rec.AddCheck(results.Check{ID: "dns/x", Suite: "dns", Name: "x", Status: results.Passed, Observations: []results.Observation{{Observed: "ok", OK: true}}})
	// No Finish: the run was killed here.
	out, code, err := runCLI(t, "report", filepath.Join(dir, "result.json"), "--junit", filepath.Join(dir, "junit.xml"))
	if code != 0 || err != nil {
		t.Fatalf("report: %d %v", code, err)
	}
	if !strings.Contains(out, "INCOMPLETE") || !strings.Contains(out, "partial result") {
		t.Errorf("a partial result must say so:\n%s", out)
	}
	j, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if !strings.Contains(string(j), "the run did not finish") {
		t.Errorf("junit of a partial result: %s", j)
	}
}

func TestRunAWSDryRunPrintsKopsPlan(t *testing.T) {
	out, code, err := runCLI(t, "run", "--platform", "aws", "--dry-run", "--run-id", "nc-plan", "PROVIDER=calico")
	if code != 0 || err != nil {
		t.Fatalf("exit %d: %v\n%s", code, err, out)
	}
	for _, want := range []string{"kops create cluster", "--networking calico", "mtu: 8912", "kops update cluster", "--yes",
		"kops validate cluster", "kops delete cluster", "netconform.io/run-id=nc-plan"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
}

// TestPlantedProviderSecretStaysOut: a secret provider option (weave's encryption password) is
// in no output file and not in what is printed, also when the run ends before any cluster exists.
func TestPlantedProviderSecretStaysOut(t *testing.T) {
	const planted = "PLANTED-WEAVE-PASSWORD-4242"
	t.Setenv("AWS_SECRET_ACCESS_KEY", "PLANTED-AWS-SECRET-4242")
	art := t.TempDir()
	out, code, err := runCLI(t, "run", "--provider", "weave", "--provider-option", "password="+planted,
		"--node-image", "x", "--probe-image", "y", "--artifacts", art)
	if code != exitCouldNotRun {
		t.Fatalf("weave cannot be installed here: want exit 2, got %d (%v)", code, err)
	}
	if strings.Contains(out, planted) || (err != nil && strings.Contains(err.Error(), planted)) {
		t.Error("the password was printed")
	}
	files := 0
	filepath.Walk(art, func(path string, info os.FileInfo, _ error) error {
		if info == nil || info.IsDir() {
			return nil
		}
		files++
		b, _ := os.ReadFile(path)
		for _, s := range []string{planted, "PLANTED-AWS-SECRET-4242"} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s contains planted secret %s", path, s)
			}
		}
		return nil
	})
	if files == 0 {
		t.Error("no result was written for the refused provider")
	}
}
