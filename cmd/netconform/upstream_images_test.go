package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/providers/catalog"
)

// stubDocker points the upstream-image check at a docker stand-in for the test, so that no test
// pulls from a real registry: `image inspect` knows the images in have; `pull` fails as it does
// without a registry.
func stubDocker(t *testing.T, have ...string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "docker")
	script := `#!/bin/sh
if [ "$1" = image ] && [ "$2" = inspect ]; then
  for r in ` + strings.Join(have, " ") + `; do [ "$r" = "$5" ] && { echo sha256:5eed; exit 0; }; done
  echo "Error: No such image: $5" >&2; exit 1
fi
if [ "$1" = pull ]; then
  echo 'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host' >&2; exit 1
fi
echo "unexpected docker $*" >&2; exit 3
`
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(dockerEnv, path)
}

// make e2e PROVIDER=weave (kopeio, kindnet) where their images cannot be pulled: the preflight
// ends at once, exit 2, one line naming the images, what was tried and that the sources are not
// served; nothing is written.
func TestPreflightRefusesUnpullableUpstreamImages(t *testing.T) {
	stubDocker(t)
	dir := t.TempDir()
	t.Chdir(dir)
	for name, images := range map[string][]string{
		"weave":        {"weaveworks/weave-kube:2.8.1, weaveworks/weave-npc:2.8.1"},
		"kopeio-vxlan": {"kopeio/networking-agent:1.0.20181028"},
		"kindnet":      {"docker.io/kindest/kindnetd:v20260820-69b56db7"},
	} {
		start := time.Now()
		_, code, err := runCLI(t, "run", "--provider", name, "--preflight", "--artifacts", filepath.Join(dir, name))
		if code != exitCouldNotRun || err == nil {
			t.Fatalf("%s: exit %d, %v", name, code, err)
		}
		msg := err.Error()
		for _, want := range append(images, "cannot be pulled", "docker image inspect: not present; docker pull: Error response from daemon", "not served by the Go module proxy", "docker load") {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: the refusal lacks %q: %s", name, want, msg)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: more than one line: %q", name, msg)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %s", name, d)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the preflight wrote %v", entries)
	}
}

// Where the images are in this machine's docker (someone loaded them), the preflight passes and
// a run would go on to load them into the nodes.
func TestPreflightPassesWithLocalUpstreamImages(t *testing.T) {
	stubDocker(t, "weaveworks/weave-kube:2.8.1", "weaveworks/weave-npc:2.8.1")
	out, code, err := runCLI(t, "run", "--provider", "weave", "--preflight")
	if code != exitOK || err != nil {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	for _, want := range []string{"weave: upstream images weaveworks/weave-kube:2.8.1 (in this machine's docker), weaveworks/weave-npc:2.8.1 (in this machine's docker)", "provider weave can be installed on kind"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// One image given with --provider-image is not looked for; the other still is.
	stubDocker(t, "weaveworks/weave-kube:2.8.1")
	out, code, err = runCLI(t, "run", "--provider", "weave", "--preflight", "--provider-image", "weave-npc=local/npc:1")
	if code != exitOK || strings.Contains(out, "weave-npc:2.8.1") {
		t.Errorf("weave-npc given: exit %d, %v\n%s", code, err, out)
	}
}

// A run (not a preflight) refused for its images leaves a result that says why, as every refused
// run does, and creates nothing.
func TestRunRefusedForUpstreamImagesWritesItsResult(t *testing.T) {
	stubDocker(t)
	art := t.TempDir()
	_, code, err := runCLI(t, "run", "--provider", "kindnet", "--node-image", "n", "--probe-image", "p", "--artifacts", art)
	if code != exitCouldNotRun || err == nil {
		t.Fatalf("exit %d, %v", code, err)
	}
	b, rerr := os.ReadFile(filepath.Join(art, "result.json"))
	if rerr != nil || !strings.Contains(string(b), "docker.io/kindest/kindnetd:v20260820-69b56db7") {
		t.Errorf("result: %v\n%s", rerr, b)
	}
}

// Every provider installed from upstream images is checked so, and no other is.
func TestOnlyUpstreamImageProvidersAreChecked(t *testing.T) {
	stubDocker(t)
	for _, p := range catalog.All() {
		d := p.Descriptor()
		if !d.Kind.Installs() {
			continue
		}
		_, code, err := runCLI(t, "run", "--provider", d.Name, "--preflight")
		refused := code == exitCouldNotRun && err != nil && strings.Contains(err.Error(), "cannot be pulled")
		if want := len(d.Kind.Images) > 0; refused != want {
			t.Errorf("%s: refused for its images %t, want %t (%v)", d.Name, refused, want, err)
		}
	}
}
