package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/lint"
	"github.com/netconform/netconform/providers/catalog"
)

// runCLI runs netconform in-process with args and returns stdout and the exit code main
// would use.
func runCLI(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	code := exitOK
	if err != nil {
		code = exitCouldNotRun
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
	}
	return out.String(), code, err
}

func fixturePath(name string) string { return filepath.Join("..", "..", "fixtures", "kops", name) }

func TestLintExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"clean spec", []string{"lint", fixturePath("calico-aws-valid.yaml")}, exitOK, "no findings", ""},
		{"clean split files", []string{"lint", fixturePath("cilium-aws-valid.yaml"), fixturePath("kubenet-public-valid.yaml")}, exitOK, "no findings", ""},
		{"warnings only", []string{"lint", fixturePath("nc015-unknown-key.yaml")}, exitOK, "warning NC015", ""},
		{"error finding", []string{"lint", fixturePath("nc001-kubenet-private.yaml")}, exitChecksFail, "error NC001 spec.networking.kubenet", "1 error-level finding"},
		{"route quota flag", []string{"lint", "--route-quota", "50", fixturePath("nc002-kubenet-routes.yaml")}, exitChecksFail, "kubenet needs 61 routes in one table", ""},
		{"kops version flag", []string{"lint", "--kops-version", "1.17", fixturePath("nc003-romana-removed.yaml")}, exitOK, "no findings", ""},
		{"underlay flag", []string{"lint", "--underlay-mtu", "1500", fixturePath("calico-aws-valid.yaml")}, exitChecksFail, "underlay 1500 (--underlay-mtu)", ""},
		{"malformed YAML", []string{"lint", fixturePath("malformed-indentation.yaml")}, exitCouldNotRun, "", "malformed-indentation.yaml:8: invalid YAML"},
		{"wrong type", []string{"lint", fixturePath("malformed-maxsize-string.yaml")}, exitCouldNotRun, "", "malformed-maxsize-string.yaml:18: spec.maxSize: want an integer"},
		{"missing file", []string{"lint", fixturePath("does-not-exist.yaml")}, exitCouldNotRun, "", "does-not-exist.yaml: cannot open"},
		{"no cluster", []string{"lint", fixturePath("only-instancegroups.yaml")}, exitCouldNotRun, "", "no kops Cluster document"},
		{"no files", []string{"lint"}, exitCouldNotRun, "", "no files given"},
		{"bad output", []string{"lint", "-o", "yaml", fixturePath("calico-aws-valid.yaml")}, exitCouldNotRun, "", `--output "yaml"`},
		{"bad kops version", []string{"lint", "--kops-version", "latest", fixturePath("calico-aws-valid.yaml")}, exitCouldNotRun, "", "--kops-version"},
		{"bad quota", []string{"lint", "--route-quota", "0", fixturePath("calico-aws-valid.yaml")}, exitCouldNotRun, "", "--route-quota 0"},
		{"bad underlay", []string{"lint", "--underlay-mtu", "100", fixturePath("calico-aws-valid.yaml")}, exitCouldNotRun, "", "--underlay-mtu 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code, err := runCLI(t, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d (err %v)\n%s", code, tc.wantCode, err, out)
			}
			if !strings.Contains(out, tc.wantOut) {
				t.Errorf("output lacks %q:\n%s", tc.wantOut, out)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestLintJSON(t *testing.T) {
	out, code, _ := runCLI(t, "lint", "-o", "json", fixturePath("nc010-cilium-nodeport-proxy.yaml"), fixturePath("nc018-calico-no-typha.yaml"))
	if code != exitChecksFail {
		t.Fatalf("exit code %d, want %d", code, exitChecksFail)
	}
	var r lint.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(r.Findings) != 2 || r.Summary.Errors != 1 || r.Summary.Warnings != 1 {
		t.Fatalf("report = %+v", r)
	}
	f := r.Findings[0]
	if f.Rule != "NC010" || f.Path != "spec.networking.cilium.enableNodePort" || f.Line != 43 || f.Fix == "" ||
		!strings.HasSuffix(f.File, "nc010-cilium-nodeport-proxy.yaml") {
		t.Errorf("first finding = %+v", f)
	}
}

func TestLintStdin(t *testing.T) {
	data, err := os.ReadFile(fixturePath("nc012-kuberouter-proxy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(data)
		w.Close()
	}()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old }()
	out, code, _ := runCLI(t, "lint", "-")
	if code != exitChecksFail || !strings.Contains(out, "<stdin>:44: error NC012") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestLintRules(t *testing.T) {
	out, code, err := runCLI(t, "lint", "--rules")
	if code != exitOK || err != nil {
		t.Fatalf("exit %d, %v", code, err)
	}
	rules, err := lint.Rules(catalog.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if !strings.Contains(out, r.ID) {
			t.Errorf("--rules lacks %s", r.ID)
		}
	}
}
