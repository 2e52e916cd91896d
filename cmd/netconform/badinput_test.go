package main

import (
	"fmt"
	"io"
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

// check records the kops --networking value of the provider it was told the cluster runs, in
// the result it writes even when the cluster cannot be reached.
func TestCheckRecordsKopsNetworking(t *testing.T) {
	art := t.TempDir()
	_, code, err := runCLI(t, "check", "--provider", "kuberouter", "--kubeconfig", filepath.Join(t.TempDir(), "nope"), "--probe-image", "x", "--artifacts", art)
	if code != exitCouldNotRun || err == nil {
		t.Fatalf("exit %d, %v; want the refusal", code, err)
	}
	r, err := results.Load(filepath.Join(art, "result.json"))
	if err != nil {
		t.Fatalf("no result written: %v", err)
	}
	if r.Provider != "kuberouter" || r.Networking != "kube-router" {
		t.Errorf("provider %q, networking %q; want kuberouter, kube-router", r.Provider, r.Networking)
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
	stubDocker(t) // weave's images cannot be had: the run is refused before a cluster exists
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

// TestBadInputIsRefusedBeforeAnythingStarts: every kind of bad input ends in under a second
// with exit code 2 and one line naming the bad value and what would be right, before anything
// is created or contacted: no artifacts directory, no result, no plan printed.
func TestBadInputIsRefusedBeforeAnythingStarts(t *testing.T) {
	kubeconfig := writeKubeconfig(t, "https://127.0.0.1:1", "t")
	check := []string{"check", "--kubeconfig", kubeconfig, "--probe-image", "p"}
	kind := []string{"run", "--node-image", "n", "--probe-image", "p"}
	cases := []struct {
		name string
		args []string
		want string // the whole message when it starts with "=", else a part of it
	}{
		// Label filters: ginkgo's own parser, and a filter that selects nothing.
		{"unparsable filter", append(kind, "--label-filter", "(("), "label filter '((' is not valid: Mismatched '('"},
		{"unparsable filter, preflight", append(kind, "--preflight", "--label-filter", "(("), "label filter '((' is not valid"},
		{"unparsable filter, check", append(check, "--label-filter", "dns &&"), "label filter 'dns &&' is not valid"},
		{"empty selection", append(kind, "--label-filter", "nosuch"), "label filter 'nosuch' selects no check; the labels are a-record, aaaa-record, affinity, baseline, bulk,"},
		{"empty selection, check", append(check, "--label-filter", "dns && mtu"), "label filter 'dns && mtu' selects no check; the labels are"},
		{"empty selection, switch", []string{"switch", "--from", "kubenet", "--to", "flannel", "--label-filter", "nosuch"}, "selects no check"},
		// The perf suite's settings.
		{"perf samples", append(kind, "--perf", "--perf-samples", "0"), "=--perf-samples 0: want 1 to 30 (2 or more give a confidence interval)"},
		{"perf duration", append(check, "--perf-duration", "1500ms"), "=--perf-duration 1.5s: want whole seconds from 1s to 50s"},
		{"perf tolerance", append(kind, "--perf-tolerance", "1.5"), "=--perf-tolerance 1.5: want a fraction above 0 and at most 1"},
		{"max pairs", append(check, "--max-pairs", "-1"), "=--max-pairs -1: want 0 (every pair) or more"},
		{"perf without its image", append(kind, "--label-filter", "perf", "--perf-image", ""), "--perf-image is required for the perf checks"},
		// Provider names, in every command that takes one.
		{"provider typo, run", append(kind, "--provider", "calcio"), "=unknown provider calcio; did you mean calico?"},
		{"provider typo, positional", append(kind, "PROVIDER=flanel"), "=unknown provider flanel; did you mean flannel?"},
		{"provider typo, check", append(check, "--provider", "calcio"), "=unknown provider calcio; did you mean calico?"},
		{"provider typo, switch from", []string{"switch", "--from", "kubnet", "--to", "calico"}, "=--from: unknown provider kubnet; did you mean kubenet?"},
		{"provider typo, switch to", []string{"switch", "--from", "kubenet", "--to", "cillium"}, "=--to: unknown provider cillium; did you mean cilium?"},
		{"provider typo, aws plan", []string{"aws", "plan", "PROVIDER=calcio"}, "=unknown provider calcio; did you mean calico?"},
		{"provider typo, aws check", []string{"aws", "check", "--kubeconfig", kubeconfig, "--provider", "calcio"}, "=unknown provider calcio; did you mean calico?"},
		{"provider typo, run aws dry run", []string{"run", "--platform", "aws", "--dry-run", "--provider", "weeve"}, "=unknown provider weeve; did you mean weave?"},
		{"weave password too short to redact", append(kind, "--provider", "weave", "--provider-option", "password=Xq9z"), "=--provider-option: weave option password: 4 characters, want at least 6"},
		{"provider typo, providers", []string{"providers", "calcio"}, "=unknown provider calcio; did you mean calico?"},
		{"no such provider", append(kind, "--provider", "nothing-like-it"), `unknown provider "nothing-like-it"; valid: amazon-vpc-routed-eni,`},
		// Provider options, against the provider's one schema.
		{"option typo", append(kind, "--provider", "flannel", "--provider-option", "bakend=udp"), "=--provider-option: flannel has no option bakend on kind; did you mean backend? options: backend, iptablesResyncSeconds"},
		{"option value", append(kind, "--provider", "flannel", "--provider-option", "backend=ipip"), `=--provider-option: flannel option backend: "ipip" is not one of vxlan, udp, host-gw`},
		{"kind-only value on aws", []string{"aws", "plan", "--provider", "flannel", "--provider-option", "backend=host-gw"}, `flannel option backend: "host-gw" is not one of vxlan, udp`},
		{"option type, check", append(check, "--provider", "calico", "--provider-option", "mtu=big"), `calico option mtu: want an integer, got "big"`},
		{"option without provider, check", append(check, "--provider-option", "backend=udp"), "--provider-option needs --provider"},
		{"option, switch", []string{"switch", "--from", "kubenet", "--to", "calico", "--platform", "aws", "--dry-run", "--provider-option", "typhaReplicas=-1"}, "calico option typhaReplicas: -1 is below the minimum 0"},
		{"option for kubenet", append(kind, "--provider-option", "mtu=1400"), "=--provider-option: kubenet takes no options on kind (got mtu)"},
		{"not KEY=VALUE", append(kind, "--provider", "flannel", "--provider-option", "backend"), `--provider-option "backend": want KEY=VALUE`},
		// A value given twice, differently.
		{"PROVIDER and --provider", append(kind, "PROVIDER=calico", "--provider", "flannel"), "=PROVIDER=calico conflicts with --provider flannel"},
		{"NODES and --nodes", append(kind, "NODES=4", "--nodes", "3"), "=NODES=4 conflicts with --nodes 3"},
		{"PLATFORM and --platform", append(kind, "PLATFORM=aws", "--platform", "kind"), "=PLATFORM=aws conflicts with --platform kind"},
		{"PROVIDER twice", append(kind, "PROVIDER=calico", "PROVIDER=cilium"), "=PROVIDER=cilium conflicts with PROVIDER=calico"},
		{"FROM and --from", []string{"switch", "FROM=calico", "--from", "kubenet", "--to", "cilium"}, "=FROM=calico conflicts with --from kubenet"},
		{"aws plan NODES and --nodes", []string{"aws", "plan", "NODES=5", "--nodes", "4"}, "=NODES=5 conflicts with --nodes 4"},
		{"NODES not a number", append(kind, "NODES=three"), "=NODES=three: want a whole number"},
		// Unknown subcommands.
		{"aws bogus", []string{"aws", "bogus"}, `=unknown command "bogus" for "netconform aws"; valid: check, plan`},
		{"simulate bogus", []string{"simulate", "bogus"}, `=unknown command "bogus" for "netconform simulate"; valid: routes`},
		// --dry-run where it means nothing.
		{"dry run on kind", append(kind, "--dry-run"), "=--dry-run applies to --platform aws only (on kind, run runs; --preflight checks the provider and its options without creating anything)"},
		{"dry run on kind, switch", []string{"switch", "--from", "kubenet", "--to", "calico", "--dry-run"}, "=--dry-run applies to --platform aws only: on kind, switch runs the switch"},
		// Bounds scaled to nothing, or beyond reason.
		{"timeout scale 0", append(kind, "--timeout-scale", "0"), "--timeout-scale: timeout scale 0: want a factor above 0 and at most 100"},
		{"timeout scale on check", append(check, "--timeout-scale", "-1"), "--timeout-scale: timeout scale -1: want a factor above 0"},
		{"policy wait below a second", append(check, "--policy-wait", "100ms"), "--policy-wait: 100ms: want at least 1s"},
		// Node counts the platform would round up.
		{"no nodes", append(kind, "--nodes", "0"), "=--nodes 0: want at least 1: a cluster needs its control plane"},
		{"negative nodes", append(kind, "NODES=-2"), "=--nodes -2: want at least 1: a cluster needs its control plane"},
		{"one node on aws", []string{"run", "--platform", "aws", "--dry-run", "--nodes", "1"}, "=--nodes 1: want at least 2: a kops cluster has the control plane and at least one worker"},
		{"no nodes, aws plan", []string{"aws", "plan", "--nodes", "0"}, "=--nodes 0: want at least 2: a kops cluster has the control plane and at least one worker"},
		{"one node, switch", []string{"switch", "--from", "kubenet", "--to", "calico", "--nodes", "1"}, "=--nodes 1: want at least 2: a switch rolls one node while another carries traffic"},
		// Plan figures that cannot work (framework/platform/aws computes them).
		{"MTU above the underlay", []string{"aws", "plan", "--provider", "calico", "--provider-option", "mtu=99999"}, "calico pod MTU 99999 + 20 bytes of ipip overhead = 100019 does not fit the VPC interfaces' MTU 9001: set mtu to 8981 or lower"},
		{"kubenet above the route quota", []string{"run", "--platform", "aws", "--dry-run", "NODES=60", "--route-quota", "50"}, "kubenet needs 62 routes in one route table (60 nodes + 2 existing routes), above the Routes per route table quota of 50"},
		{"platform", append(kind, "--platform", "gce"), "=--platform gce: want kind or aws"},
		// Kubelet configuration fields for kind's nodes.
		{"kubelet config not a mapping", append(kind, "--kubelet-config", "maxPods"), `=--kubelet-config "maxPods": want KubeletConfiguration fields as YAML, e.g. 'maxPods: 50'`},
		{"kubelet config with kind", append(kind, "--kubelet-config", "kind: KubeletConfiguration\nmaxPods: 50"), "=--kubelet-config: leave out kind (netconform patches the KubeletConfiguration kind writes)"},
		// The agent outside the cluster: a control address the suites could not use.
		{"external target without port", append(kind, "--external-target", "192.0.2.10"), `=--external-target "192.0.2.10": want HOST:PORT, the control address of a probe agent outside the cluster, e.g. 192.0.2.10:29080`},
		{"external target port 0", append(kind, "--external-target", "agent.example:0"), `--external-target "agent.example:0": want HOST:PORT`},
		{"external target without host, check", append(check, "--external-target", ":29080"), `--external-target ":29080": want HOST:PORT`},
		{"external target named port, check", append(check, "--external-target", "agent.example:http"), `--external-target "agent.example:http": want HOST:PORT`},
		// check --remove-agents runs no checks: flags that contradict it are refused, not ignored.
		{"remove and keep agents", append(check, "--remove-agents", "--keep-agents"), "=--remove-agents and --keep-agents contradict each other: --remove-agents removes the agents an earlier check --keep-agents left, and runs no checks"},
		{"remove agents with a filter", append(check, "--remove-agents", "--label-filter", "dns"), "=--remove-agents runs no checks, so --label-filter has nothing to do: remove the agents with check --remove-agents alone, and run checks without it"},
		{"remove agents repeated", append(check, "--repeat", "3", "--remove-agents"), "--remove-agents runs no checks, so --repeat has nothing to do"},
		{"remove agents, repeat 1", append(check, "--remove-agents", "--repeat", "1"), "so --repeat has nothing to do"},
		{"remove agents collecting", append(check, "--remove-agents", "--collect"), "so --collect has nothing to do"},
		// IP families: a value that is none, one the platform does not do, one the provider's
		// kind installer does not configure (each provider saying what its IPv6 lacks).
		{"ip family value", append(kind, "--ip-family", "ipv5"), "=--ip-family ipv5: want ipv4, ipv6 or dual"},
		{"IP_FAMILY value", append(kind, "IP_FAMILY=v6"), "=--ip-family v6: want ipv4, ipv6 or dual"},
		{"IP_FAMILY and --ip-family", append(kind, "IP_FAMILY=dual", "--ip-family", "ipv6"), "=IP_FAMILY=dual conflicts with --ip-family ipv6"},
		{"ip family on aws", []string{"run", "--platform", "aws", "--dry-run", "--ip-family", "dual"}, "=--ip-family dual: AWS is IPv4 only in netconform (use --platform kind for dual stack)"},
		{"ip family on aws, positional", []string{"run", "PLATFORM=aws", "--dry-run", "IP_FAMILY=ipv6"}, "=--ip-family ipv6: AWS is IPv4 only in netconform (use --platform kind for IPv6)"},
		{"flannel dual", append(kind, "--provider", "flannel", "--ip-family", "dual"), "flannel: --ip-family dual is not supported on kind by netconform yet (IPv4 only: flannel's IPv6 needs"},
		{"flannel-udp ipv6, preflight", append(kind, "--preflight", "PROVIDER=flannel-udp", "IP_FAMILY=ipv6"), "flannel: --ip-family ipv6 is not supported on kind by netconform yet (IPv4 only: "},
		{"calico ipv6", append(kind, "--provider", "calico", "--ip-family", "ipv6"), "calico: --ip-family ipv6 is not supported on kind by netconform yet (IPv4 only: Calico's IPv6 needs"},
		{"cilium dual", append(kind, "--provider", "cilium", "--ip-family", "dual"), "cilium: --ip-family dual is not supported on kind by netconform yet (IPv4 only: Cilium's IPv6 needs"},
		{"kube-router dual", append(kind, "--provider", "kube-router", "--ip-family", "dual"), "kuberouter: --ip-family dual is not supported on kind by netconform yet (IPv4 only: kube-router's IPv6 needs"},
		{"canal ipv6", append(kind, "--provider", "canal", "--ip-family", "ipv6"), "canal: --ip-family ipv6 is not supported on kind by netconform yet (IPv4 only: canal's IPv6 needs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			art := filepath.Join(t.TempDir(), "artifacts")
			t.Setenv("ARTIFACTS", art)
			args := c.args
			if cmd, _, err := newRootCmd().Find(args); err == nil && cmd.Flags().Lookup("artifacts") != nil {
				args = append(args, "--artifacts", art)
			}
			start := time.Now()
			out, code, err := runCLI(t, args...)
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %s; bad input must be refused within a second", took)
			}
			if code != exitCouldNotRun || err == nil {
				t.Fatalf("exit %d, err %v; want exit 2\n%s", code, err, out)
			}
			msg := err.Error()
			if want, exact := strings.CutPrefix(c.want, "="); exact && msg != want || !exact && !strings.Contains(msg, c.want) {
				t.Errorf("message\n  %s\nwant\n  %s", msg, c.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			if _, err := os.Stat(art); !os.IsNotExist(err) {
				t.Errorf("bad input created %s (%v)", art, err)
			}
			if strings.Contains(out, "kops create") || strings.Contains(out, "kops get") {
				t.Errorf("a plan was printed:\n%s", out)
			}
		})
	}
}

// TestGoodInputStillPasses keeps the checks above from refusing what is right.
func TestGoodInputStillPasses(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--preflight", "--provider", "flannel", "--provider-option", "backend=host-gw", "--label-filter", "dns || (mtu && !bulk)"},
		{"run", "--preflight", "PROVIDER=flannel-udp", "--provider", "flannel-udp", "NODES=3", "--nodes", "3"},
		{"run", "--preflight", "--provider", "calico", "--provider-option", "encapsulationMode=vxlan"},
		{"run", "--preflight", "--external-target", "192.0.2.10:29080"},
		{"run", "--preflight", "--external-target", "[2001:db8::10]:29080"},
		{"run", "--preflight", "--ip-family", "dual"},
		{"run", "--preflight", "PROVIDER=kubenet", "IP_FAMILY=IPv6"},
		{"run", "--preflight", "--provider", "flannel", "--ip-family", "ipv4"},
		{"run", "--platform", "aws", "--dry-run", "--ip-family", "ipv4", "--run-id", "nc-ok4"},
		{"run", "--platform", "aws", "--dry-run", "--provider", "calico", "--provider-option", "ipipMode=Always", "--run-id", "nc-ok"},
		{"aws", "plan", "--provider", "kubenet", "NODES=498"},
		{"aws"},
	} {
		out, code, err := runCLI(t, args...)
		if code != exitOK {
			t.Errorf("%s: exit %d, %v\n%s", strings.Join(args, " "), code, err, out)
		}
	}
}

// TestPlantedSecretInEveryPlan: a secret provider option (weave's encryption password) given
// to every command that prints a plan or a spec, or writes a result, appears nowhere: not on
// standard output or error, not in any file. The plans show it as [REDACTED].
func TestPlantedSecretInEveryPlan(t *testing.T) {
	const planted = "PLANTED-WEAVE-PASSWORD-9191"
	secret := []string{"--provider-option", "password=" + planted}
	stubDocker(t) // weave's images cannot be had: runs on kind end before a cluster exists
	cases := []struct {
		name     string
		args     []string
		redacted bool // prints a plan that shows the setting masked
	}{
		{"run aws dry run", append([]string{"run", "--platform", "aws", "--dry-run", "--provider", "weave"}, secret...), true},
		{"aws plan", append([]string{"aws", "plan", "PROVIDER=weave"}, secret...), true},
		{"switch aws dry run", append([]string{"switch", "--platform", "aws", "--dry-run", "--from", "kubenet", "--to", "weave"}, secret...), true},
		{"run preflight", append([]string{"run", "--preflight", "--provider", "weave"}, secret...), false},
		{"run on kind", append([]string{"run", "--provider", "weave", "--node-image", "n", "--probe-image", "p"}, secret...), false},
		{"check", append([]string{"check", "--kubeconfig", filepath.Join(t.TempDir(), "none"), "--probe-image", "p", "--provider", "weave"}, secret...), false},
		{"bad option beside it", append([]string{"aws", "plan", "PROVIDER=weave", "--provider-option", "mtu=x"}, secret...), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("ARTIFACTS", dir)
			t.Chdir(dir) // anything written relative to the working directory lands here too
			stderr := captureStderr(t)
			out, _, err := runCLI(t, append(c.args, "--artifacts", dir)...)
			all := out + stderr()
			if err != nil {
				all += err.Error()
			}
			if strings.Contains(all, planted) {
				t.Errorf("the password was printed:\n%s", all)
			}
			if c.redacted && !strings.Contains(out, "weave password = [REDACTED]") {
				t.Errorf("the plan does not show the setting, masked:\n%s", out)
			}
			filepath.Walk(dir, func(path string, info os.FileInfo, _ error) error {
				if info != nil && !info.IsDir() {
					if b, _ := os.ReadFile(path); strings.Contains(string(b), planted) {
						t.Errorf("%s holds the password", path)
					}
				}
				return nil
			})
		})
	}
}

// captureStderr redirects os.Stderr (where a few messages go directly) until the returned
// function is called; it returns what was written.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	restored := false
	restore := func() string {
		if restored {
			return ""
		}
		restored = true
		os.Stderr = orig
		w.Close()
		return <-done
	}
	t.Cleanup(func() { restore() })
	return restore
}
