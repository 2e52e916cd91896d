// Package scripts holds the tests of the shell scripts that build images and drive runs.
package scripts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The Kubernetes versions the README says run here.
var versions = []string{"v1.33.13", "v1.34.4", "v1.35.4", "v1.36.3"}

// checkNodeImage runs node-image.sh --check and returns its exit code and its standard error.
func checkNodeImage(t *testing.T, version string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", "node-image.sh", "--check", version)
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stderr.String()
	}
	t.Fatalf("node-image.sh --check %s: %v\n%s", version, err, stderr.String())
	return 0, ""
}

// kubeadmConstant reads a string constant of version's kubeadm from the module the proxy serves,
// apart from the script, which must have read the same.
func kubeadmConstant(t *testing.T, version, name string) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "k8s.io/kubernetes@"+version).Output()
	if err != nil {
		t.Fatalf("go mod download k8s.io/kubernetes@%s: %v", version, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download k8s.io/kubernetes@%s: no directory in %s (%v)", version, out, err)
	}
	src, err := os.ReadFile(filepath.Join(mod.Dir, "cmd/kubeadm/app/constants/constants.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + name + ` = "([^"]+)"`).FindSubmatch(src)
	if m == nil {
		t.Fatalf("kubeadm %s has no constant %s", version, name)
	}
	return string(m[1])
}

// Each version's node image gets the etcd, CoreDNS and pause images its own kubeadm expects:
// tagged as kubeadm names them, etcd built from a release of the same minor.
func TestNodeImageFollowsKubeadm(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads Kubernetes modules")
	}
	line := regexp.MustCompile(`Kubernetes (\S+): etcd (\S+) \(kubeadm expects (\S+)\), CoreDNS \S+ as (\S+), pause ([^,]+), crictl`)
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			code, stderr := checkNodeImage(t, v)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			m := line.FindStringSubmatch(stderr)
			if m == nil {
				t.Fatalf("no resolution line in:\n%s", stderr)
			}
			etcdTag := kubeadmConstant(t, v, "DefaultEtcdVersion")
			if m[1] != v || m[3] != etcdTag {
				t.Errorf("version %s, etcd tag %s; want %s, %s", m[1], m[3], v, etcdTag)
			}
			if want := strings.Join(strings.Split(etcdTag, ".")[:2], "."); !strings.HasPrefix(m[2], want+".") {
				t.Errorf("etcd %s is not a %s.x release (kubeadm expects %s)", m[2], want, etcdTag)
			}
			if want := kubeadmConstant(t, v, "CoreDNSVersion"); m[4] != want {
				t.Errorf("CoreDNS tagged %s, kubeadm %s expects %s", m[4], v, want)
			}
			if want := kubeadmConstant(t, v, "PauseVersion"); !strings.Contains(" "+m[5]+" ", " "+want+" ") {
				t.Errorf("pause tags %q lack kubeadm's %s", m[5], want)
			}
		})
	}
}

// A version that is no release, or that the proxy does not serve, is refused in one line, exit 2.
func TestNodeImageRefusesBadVersions(t *testing.T) {
	for _, tc := range []struct{ version, want string }{
		{"latest", "is not a Kubernetes release"},
		{"1.34.4", "is not a Kubernetes release"},
		{"v1.31.99", "is not served by the Go module proxy"},
	} {
		code, stderr := checkNodeImage(t, tc.version)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, %d lines %q; want exit 2 and one line with %q", tc.version, code, len(lines), stderr, tc.want)
		}
	}
}
