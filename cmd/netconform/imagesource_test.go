package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/framework/timeouts"
	"github.com/netconform/netconform/providers/flannel"
)

// Bad --images and --registry-mirror values end run and switch at once, exit 2, one line naming
// the value and what would be right; nothing is written.
func TestImageFlagsBadInput(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--images", "remote"}, `--images "remote": want auto, upstream or local`},
		{[]string{"run", "--images", ""}, `--images "": want auto, upstream or local`},
		{[]string{"run", "--registry-mirror", "http://172.17.0.1:5000"}, `--registry-mirror "http://172.17.0.1:5000": want HOST[:PORT] without a scheme (the nodes speak plain HTTP to the mirror)`},
		{[]string{"run", "--registry-mirror", "mirror.local:5000/v2"}, "without a path"},
		{[]string{"run", "--registry-mirror", "mirror.local:99999"}, `port "99999": want 1 to 65535`},
		{[]string{"run", "--registry-mirror", "fd00::1"}, "needs brackets"},
		{[]string{"run", "--registry-mirror", "bad_name"}, "not a host name"},
		{[]string{"run", "--platform", "aws", "--images", "upstream"}, "--images and --registry-mirror apply to --platform kind"},
		{[]string{"run", "--platform", "aws", "--registry-mirror", "m:5000"}, "--images and --registry-mirror apply to --platform kind"},
		{[]string{"switch", "--from", "kubenet", "--to", "flannel", "--images", "latest"}, `--images "latest": want auto, upstream or local`},
		{[]string{"switch", "--from", "kubenet", "--to", "flannel", "--registry-mirror", "u@m"}, "without credentials"},
	} {
		start := time.Now()
		_, code, err := runCLI(t, c.args...)
		if code != exitCouldNotRun || err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: exit %d, %v; want exit 2 and %q on one line", c.args, code, err, c.want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%v: took %s", c.args, d)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("bad input wrote %v", entries)
	}
}

// mirror is a registry mirror stand-in serving the manifests of have (as the images' upstream
// references), recording the repositories it was asked for.
func mirror(t *testing.T, have ...string) (string, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		repo, tag, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/")
		ref := r.URL.Query().Get("ns") + "/" + repo + ":" + tag
		mu.Lock()
		asked = append(asked, ref)
		mu.Unlock()
		if slices.Contains(have, ref) {
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(asked) }
}

// --images upstream with a mirror that serves the provider's release images: the preflight asks
// the mirror (not docker) and passes; one image missing ends it, exit 2, in one line naming the
// image and where to push it.
func TestUpstreamImagesThroughTheMirror(t *testing.T) {
	stubDocker(t) // any pull would fail: the mirror is asked, not docker
	m, asked := mirror(t, flannel.UpstreamImage, flannel.UpstreamCNIImage)
	out, code, err := runCLI(t, "run", "--provider", "flannel", "--preflight", "--images", "upstream", "--registry-mirror", m)
	if code != exitOK || err != nil {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	want := "images: upstream, pulled by the nodes through the registry mirror " + m + ": " + flannel.UpstreamImage + ", " + flannel.UpstreamCNIImage
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	if got := asked(); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values([]string{flannel.UpstreamImage, flannel.UpstreamCNIImage}))) {
		t.Errorf("the mirror was asked for %v", got)
	}
	// kube-router's image is not in this mirror.
	start := time.Now()
	_, code, err = runCLI(t, "run", "--provider", "kube-router", "--preflight", "--images", "upstream", "--registry-mirror", m)
	if code != exitCouldNotRun || err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("exit %d, %v after %s", code, err, time.Since(start))
	}
	for _, w := range []string{"--images upstream: the nodes could not pull docker.io/cloudnativelabs/kube-router:v2.1.0", "not there (HTTP 404", "push it as " + m + "/cloudnativelabs/kube-router:v2.1.0"} {
		if !strings.Contains(err.Error(), w) || strings.Contains(err.Error(), "\n") {
			t.Errorf("refusal lacks %q or is not one line: %v", w, err)
		}
	}
}

// --images auto: upstream when the mirror has the images, else the local ones, saying why; a
// provider that runs no images (kubenet) needs no answer.
func TestAutoImages(t *testing.T) {
	stubDocker(t)
	m, _ := mirror(t, flannel.UpstreamImage, flannel.UpstreamCNIImage)
	out, code, err := runCLI(t, "run", "--provider", "flannel", "--preflight", "--images", "auto", "--registry-mirror", m)
	if code != exitOK || !strings.Contains(out, "images: upstream, pulled by the nodes through the registry mirror") {
		t.Errorf("flannel, mirror has it: exit %d, %v\n%s", code, err, out)
	}
	out, code, err = runCLI(t, "run", "--provider", "kube-router", "--preflight", "--images", "auto", "--registry-mirror", m)
	if code != exitOK || !strings.Contains(out, "images: local (--images auto: the upstream images cannot be pulled through the registry mirror "+m+": docker.io/cloudnativelabs/kube-router:v2.1.0 (mirror ") {
		t.Errorf("kube-router, mirror lacks it: exit %d, %v\n%s", code, err, out)
	}
	// No mirror: docker asks the registry, which (here, in the stand-in) cannot be reached.
	out, code, err = runCLI(t, "run", "--provider", "flannel", "--preflight", "--images", "auto")
	if code != exitOK || !strings.Contains(out, "images: local (--images auto: the upstream images cannot be pulled: ghcr.io/flannel-io/flannel:v0.28.10, ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3 (docker pull: Error response from daemon") {
		t.Errorf("flannel, no registry: exit %d, %v\n%s", code, err, out)
	}
	out, code, err = runCLI(t, "run", "--provider", "kubenet", "--preflight", "--images", "upstream")
	if code != exitOK || strings.Contains(out, "images:") {
		t.Errorf("kubenet: exit %d, %v\n%s", code, err, out)
	}
	// upstream without a registry: refused.
	_, code, err = runCLI(t, "run", "--provider", "flannel", "--preflight", "--images", "upstream")
	if code != exitCouldNotRun || err == nil || !strings.Contains(err.Error(), "--images upstream: the nodes could not pull ghcr.io/flannel-io/flannel:v0.28.10") {
		t.Errorf("upstream, no registry: exit %d, %v", code, err)
	}
}

// weave with --images upstream through a mirror: the nodes pull; this machine's docker is not
// asked (the stand-in has nothing and cannot pull), nothing is loaded.
func TestUpstreamOnlyProviderThroughTheMirror(t *testing.T) {
	stubDocker(t)
	m, _ := mirror(t, "docker.io/weaveworks/weave-kube:2.8.1", "docker.io/weaveworks/weave-npc:2.8.1")
	out, code, err := runCLI(t, "run", "--provider", "weave", "--preflight", "--images", "upstream", "--registry-mirror", m)
	if code != exitOK || !strings.Contains(out, "images: upstream, pulled by the nodes through the registry mirror "+m+": weaveworks/weave-kube:2.8.1, weaveworks/weave-npc:2.8.1") {
		t.Errorf("exit %d, %v\n%s", code, err, out)
	}
	// local (the default) still wants them in this machine's docker.
	if _, code, err := runCLI(t, "run", "--provider", "weave", "--preflight", "--registry-mirror", m); code != exitCouldNotRun || !strings.Contains(err.Error(), "cannot be pulled") {
		t.Errorf("local: exit %d, %v", code, err)
	}
}

// The plan: upstream drops the given images of the providers' components (not the manifests
// given the same way) so that the installers run the release images and nothing local is
// loaded; the mirror covers the four registries and those of the images; the result says so.
func TestImagePlan(t *testing.T) {
	stubDocker(t)
	m, _ := mirror(t, "docker.io/calico/node:v3.28.5", "docker.io/calico/cni:v3.28.5", "docker.io/flannel/flannel:v0.24.3", "example.org/x/y:1")
	in, _, err := lookupInstaller("canal", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	given := map[string]string{"calico-node": "netconform/calico-node:x", "calico-cni": "netconform/calico-cni:x", "flannel": "netconform/flannel:x", "flannel-cni-plugin": "netconform/flannel:x", "canal-manifest": "/m/canal.yaml"}
	tm := timeouts.Default()
	o := imageOptions{images: imagesUpstream, mirror: m}
	p, err := o.plan(context.Background(), given, tm, io.Discard, runProvider{"canal", in})
	if err != nil {
		t.Fatal(err)
	}
	// flannel-cni-plugin is not canal's: it stays, as it would be given to a local run.
	if want := map[string]string{"canal-manifest": "/m/canal.yaml", "flannel-cni-plugin": "netconform/flannel:x"}; !mapsEqual(p.refs, want) {
		t.Errorf("refs %v, want %v", p.refs, want)
	}
	if p.load != nil || p.source == nil || p.source.Source != "upstream" || p.source.Mirror != m || len(p.source.Refs) != 3 {
		t.Errorf("load %v, source %+v", p.load, p.source)
	}
	if !slices.Equal(p.mirror.Registries, []string{"docker.io", "quay.io", "ghcr.io", "registry.k8s.io"}) || p.mirror.Host != m || len(p.kindOptions()) != 1 {
		t.Errorf("mirror %+v", p.mirror)
	}
	// local: the given images, the mirror still configured for whatever the nodes pull.
	o.images = imagesLocal
	if p, err = o.plan(context.Background(), given, tm, io.Discard, runProvider{"canal", in}); err != nil || !mapsEqual(p.refs, given) || p.source.Source != "local" || p.source.Refs != nil || p.mirror.Host != m {
		t.Errorf("local: %+v, %v", p, err)
	}
	// kubenet: nothing to decide, nothing recorded.
	kin, _, _ := lookupInstaller("kubenet", 0, nil)
	if p, err = o.plan(context.Background(), nil, tm, io.Discard, runProvider{"kubenet", kin}); err != nil || p.source != nil {
		t.Errorf("kubenet: %+v, %v", p, err)
	}
	// No mirror, no kind option.
	if p, err = (imageOptions{images: imagesLocal}).plan(context.Background(), given, tm, io.Discard, runProvider{"canal", in}); err != nil || p.kindOptions() != nil {
		t.Errorf("no mirror: %+v, %v", p, err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A run refused because its upstream images cannot be pulled leaves a result that says why (and
// no image source: none was chosen).
func TestUpstreamRefusalWritesItsResult(t *testing.T) {
	stubDocker(t)
	m, _ := mirror(t)
	art := t.TempDir()
	_, code, err := runCLI(t, "run", "--provider", "flannel", "--images", "upstream", "--registry-mirror", m, "--node-image", "n", "--probe-image", "p", "--artifacts", art)
	if code != exitCouldNotRun || err == nil {
		t.Fatalf("exit %d, %v", code, err)
	}
	b, rerr := os.ReadFile(filepath.Join(art, "result.json"))
	if rerr != nil || !strings.Contains(string(b), "--images upstream: the nodes could not pull") || strings.Contains(string(b), `"images"`) {
		t.Errorf("result: %v\n%s", rerr, b)
	}
}

// A run's result records the kops --networking value beside the provider as typed: the value
// itself when one was typed, the provider's first for its netconform name ("kuberouter" is
// kops' "kube-router"). The refusal for images the mirror lacks writes the result without a
// cluster.
func TestRunRecordsKopsNetworking(t *testing.T) {
	stubDocker(t)
	m, _ := mirror(t)
	for given, want := range map[string]string{"kuberouter": "kube-router", "kube-router": "kube-router", "flannel": "flannel", "flannel-vxlan": "flannel-vxlan"} {
		art := t.TempDir()
		_, code, err := runCLI(t, "run", "--provider", given, "--images", "upstream", "--registry-mirror", m, "--node-image", "n", "--probe-image", "p", "--artifacts", art)
		if code != exitCouldNotRun || err == nil {
			t.Fatalf("%s: exit %d, %v; want the refusal", given, code, err)
		}
		r, err := results.Load(filepath.Join(art, "result.json"))
		if err != nil {
			t.Fatalf("%s: %v", given, err)
		}
		if r.Provider != given || r.Networking != want {
			t.Errorf("%s: provider %q, networking %q; want %q, %q", given, r.Provider, r.Networking, given, want)
		}
	}
}
