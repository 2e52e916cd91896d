package images

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseRefReadsAsContainerdDoes(t *testing.T) {
	for ref, want := range map[string]Ref{
		"docker.io/calico/node:v3.28.5":            {Registry: "docker.io", Repository: "calico/node", Tag: "v3.28.5"},
		"weaveworks/weave-kube:2.8.1":              {Registry: "docker.io", Repository: "weaveworks/weave-kube", Tag: "2.8.1"},
		"busybox":                                  {Registry: "docker.io", Repository: "library/busybox", Tag: "latest"},
		"index.docker.io/library/nginx:1":          {Registry: "docker.io", Repository: "library/nginx", Tag: "1"},
		"ghcr.io/flannel-io/flannel:v0.28.10":      {Registry: "ghcr.io", Repository: "flannel-io/flannel", Tag: "v0.28.10"},
		"localhost:5000/a/b:c":                     {Registry: "localhost:5000", Repository: "a/b", Tag: "c"},
		"localhost/a":                              {Registry: "localhost", Repository: "a", Tag: "latest"},
		"registry.k8s.io/pause:3.10":               {Registry: "registry.k8s.io", Repository: "pause", Tag: "3.10"},
		"quay.io/cilium/cilium:v1.15.19@sha256:ab": {Registry: "quay.io", Repository: "cilium/cilium", Tag: "v1.15.19", Digest: "sha256:ab"},
		"quay.io/cilium/cilium@sha256:ab":          {Registry: "quay.io", Repository: "cilium/cilium", Digest: "sha256:ab"},
	} {
		got, err := ParseRef(ref)
		if err != nil || got != want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", ref, got, err, want)
		}
	}
	for _, bad := range []string{"", "ghcr.io/", "a:", "quay.io/x@nodigest", "a//b:1"} {
		if r, err := ParseRef(bad); err == nil {
			t.Errorf("ParseRef(%q) = %+v, want an error", bad, r)
		}
	}
}

// Where an image must be pushed for the mirror to serve it: the repository as the nodes ask for
// it (Docker Hub's library/ included), under the mirror.
func TestInMirror(t *testing.T) {
	for ref, want := range map[string]string{
		"ghcr.io/flannel-io/flannel:v0.28.10": "10.0.0.1:5000/flannel-io/flannel:v0.28.10",
		"weaveworks/weave-npc:2.8.1":          "10.0.0.1:5000/weaveworks/weave-npc:2.8.1",
		"nginx:1":                             "10.0.0.1:5000/library/nginx:1",
		"quay.io/cilium/cilium@sha256:ab":     "10.0.0.1:5000/cilium/cilium@sha256:ab",
	} {
		r, err := ParseRef(ref)
		if err != nil || r.InMirror("10.0.0.1:5000") != want {
			t.Errorf("%s in the mirror = %s (%v), want %s", ref, r.InMirror("10.0.0.1:5000"), err, want)
		}
	}
	if got := Registries([]string{"weaveworks/weave-kube:2.8.1", "docker.io/x/y:1", "ghcr.io/a/b:1", "bad:"}); !slices.Equal(got, []string{"docker.io", "ghcr.io"}) {
		t.Errorf("Registries = %v", got)
	}
}

func TestParseMirror(t *testing.T) {
	for _, ok := range []string{"registry.local", "registry.local:5000", "172.17.0.1:5000", "10.0.0.1", "[fd00::1]:5000", "[::1]", "localhost:1", "a-b.c:65535"} {
		if got, err := ParseMirror(ok); err != nil || got != ok {
			t.Errorf("ParseMirror(%q) = %q, %v", ok, got, err)
		}
	}
	for bad, why := range map[string]string{
		"":                        "empty",
		"http://registry:5000":    "without a scheme",
		"registry:5000/mirror":    "without a path",
		"user:pw@registry":        "without credentials",
		"registry:0":              "port",
		"registry:70000":          "port",
		"registry:http":           "port",
		"registry:":               "empty port",
		":5000":                   "empty host",
		"fd00::1":                 "needs brackets",
		"[fd00::1":                "closing bracket",
		"[10.0.0.1]:5000":         "not an IPv6 address",
		"[fd00::1]5000":           "want [ADDRESS]:PORT",
		"bad_host:5000":           "not a host name",
		"-bad.example":            "not a host name",
		"registry 5000":           "spaces",
		"registry:05000":          "port",
		strings.Repeat("a", 64):   "not a host name",
		"registry.local?x=1":      "without a path",
		"registry.local:5000#top": "without a path",
	} {
		if _, err := ParseMirror(bad); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseMirror(%q) = %v, want an error saying %q", bad, err, why)
		}
	}
}

// fakeMirror serves the manifests in have (repository:tag) and records what it was asked.
func fakeMirror(t *testing.T, have ...string) (string, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Accept"))
		mu.Unlock()
		repo, tag, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/")
		if r.Method == http.MethodHead && ok && slices.Contains(have, repo+":"+tag) {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), &asked
}

// The mirror is asked for each manifest where containerd asks for it (the upstream registry in
// ns), with the manifest types containerd accepts; one missing is named with where to push it.
func TestInMirrorAsksForEachManifest(t *testing.T) {
	mirror, asked := fakeMirror(t, "flannel-io/flannel:v0.28.10")
	c := checker("")
	rs, err := c.InMirror(context.Background(), mirror, []string{"ghcr.io/flannel-io/flannel:v0.28.10"})
	if err != nil || rs[0].Found != Mirrored {
		t.Fatalf("%+v, %v", rs, err)
	}
	if len(*asked) != 1 || !strings.HasPrefix((*asked)[0], "HEAD /v2/flannel-io/flannel/manifests/v0.28.10?ns=ghcr.io ") || !strings.Contains((*asked)[0], "application/vnd.oci.image.index.v1+json") {
		t.Errorf("asked %q", *asked)
	}
	rs, err = c.InMirror(context.Background(), mirror, []string{"ghcr.io/flannel-io/flannel:v0.28.10", "docker.io/calico/node:v3.28.5"})
	if err == nil || rs[0].Err != nil || rs[1].Err == nil {
		t.Fatalf("%+v, %v", rs, err)
	}
	for _, want := range []string{"docker.io/calico/node:v3.28.5 (mirror " + mirror + ": not there (HTTP 404 for /v2/calico/node/manifests/v3.28.5?ns=docker.io; push it as " + mirror + "/calico/node:v3.28.5)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// A mirror that is not there, or does not answer, ends the check within Answer.
func TestInMirrorUnreachableOrSilent(t *testing.T) {
	c := checker("")
	_, err := c.InMirror(context.Background(), "127.0.0.1:1", []string{"ghcr.io/a/b:1"})
	if err == nil || !strings.Contains(err.Error(), "mirror 127.0.0.1:1: ") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("closed port: %v", err)
	}
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	start := time.Now()
	_, err = c.InMirror(context.Background(), strings.TrimPrefix(srv.URL, "http://"), []string{"ghcr.io/a/b:1"})
	if err == nil || !strings.Contains(err.Error(), "no answer within 500ms") || time.Since(start) > 3*time.Second {
		t.Errorf("silent mirror: %v after %s", err, time.Since(start))
	}
}

// Pullable stops docker's pull once the registry answered (its first line), downloads nothing,
// and does not take an image in this machine's docker for one the nodes can pull.
func TestPullableStopsAtTheAnswer(t *testing.T) {
	c := checker(fakeDocker(t, []string{"ghcr.io/a/b:1"}, `echo "1: Pulling from a/b"; exec sleep 30`))
	start := time.Now()
	rs, err := c.Pullable(context.Background(), []string{"ghcr.io/a/b:1", "ghcr.io/a/c:1"})
	if err != nil || rs[0].Found != Pullable || rs[1].Found != Pullable {
		t.Fatalf("%+v, %v", rs, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s: the pull was not stopped at the answer", d)
	}
	// No registry: the image in this machine's docker does not count.
	c = checker(fakeDocker(t, []string{"ghcr.io/a/b:1"}, `echo 'Error response from daemon: Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io: no such host' >&2; exit 1`))
	_, err = c.Pullable(context.Background(), []string{"ghcr.io/a/b:1"})
	if err == nil || !strings.Contains(err.Error(), "ghcr.io/a/b:1 (docker pull: Error response from daemon") {
		t.Errorf("no registry: %v", err)
	}
	// A registry that says nothing within Answer.
	c = checker(fakeDocker(t, nil, `echo "Using default tag: latest"; exec sleep 30`))
	start = time.Now()
	_, err = c.Pullable(context.Background(), []string{"ghcr.io/a/b"})
	if err == nil || !strings.Contains(err.Error(), "no answer from the registry within 500ms") || time.Since(start) > 3*time.Second {
		t.Errorf("silent registry: %v after %s", err, time.Since(start))
	}
}
