//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/images"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

// TestRegistryMirror runs a provider from its upstream image names, pulled by the kind nodes
// through a real registry mirror (make e2e-test: NETCONFORM_REGISTRY is distribution's registry,
// built by scripts/registry.sh; NETCONFORM_MIRROR_PROVIDER and NETCONFORM_MIRROR_IMAGES are a
// provider and its locally built images, scripts/provider-images.sh). Nothing can be pulled from
// the internet here, so the local images are pushed into the registry under the provider's
// upstream names first: the registry is then what a user's mirror of the upstream registries
// would be. The run must pass with --images upstream --registry-mirror, the nodes must hold the
// upstream names and not the local ones, and the registry's access log must show every node
// fetching the image's blobs: a run that got its images any other way fails.
func TestRegistryMirror(t *testing.T) {
	registry, provider := os.Getenv("NETCONFORM_REGISTRY"), os.Getenv("NETCONFORM_MIRROR_PROVIDER")
	local := strings.Fields(os.Getenv("NETCONFORM_MIRROR_IMAGES"))
	if registry == "" || provider == "" || len(local) == 0 {
		t.Fatal("NETCONFORM_REGISTRY, NETCONFORM_MIRROR_PROVIDER and NETCONFORM_MIRROR_IMAGES must be set (make e2e-test sets them)")
	}
	upstream := upstreamImages(t, provider)
	localByName := map[string]string{}
	for _, kv := range local {
		name, ref, _ := strings.Cut(kv, "=")
		localByName[name] = ref
	}
	store := t.TempDir()

	// 1. Push: the registry listens on loopback only (docker pushes to 127.0.0.0/8 over plain
	// HTTP without configuration), each local image tagged with its upstream repository.
	push := startRegistry(t, registry, store, "127.0.0.1:"+freePort(t), false)
	start := time.Now()
	for _, img := range upstream {
		src := localByName[img.Name]
		if src == "" {
			t.Fatalf("no local image for %s's component %s in NETCONFORM_MIRROR_IMAGES %v", provider, img.Name, local)
		}
		r, err := images.ParseRef(img.Ref)
		if err != nil {
			t.Fatal(err)
		}
		dst := r.InMirror(push.addr)
		docker(t, "tag", src, dst)
		t.Cleanup(func() { _ = exec.Command("docker", "rmi", dst).Run() })
		docker(t, "push", "--quiet", dst)
	}
	t.Logf("pushed %d images in %s", len(upstream), time.Since(start).Round(time.Second))
	push.stop(t)

	// 2. Serve: read-only, on the default docker bridge's gateway, which the nodes (on their own
	// docker network) reach through the host, as they would a mirror on the local network.
	host := os.Getenv("NETCONFORM_MIRROR_HOST")
	if host == "" {
		host = docker(t, "network", "inspect", "bridge", "-f", "{{(index .IPAM.Config 0).Gateway}}")
	}
	serve := startRegistry(t, registry, store, net.JoinHostPort(host, freePort(t)), true)

	runID := keptClusterName(t, "ncmir")
	art := t.TempDir()
	args := []string{"run", "--provider", provider, "--nodes", "2", "--run-id", runID, "--keep",
		"--images", "upstream", "--registry-mirror", serve.addr,
		"--node-image", nodeImage, "--probe-image", probeImage, "--artifacts", art,
		"--label-filter", "dns || pod-to-pod || devices"}
	// The local images are given as make e2e gives them: upstream must not run them.
	for _, kv := range local {
		args = append(args, "--provider-image", kv)
	}
	start = time.Now()
	out, code := netconform(t, 15*time.Minute, args...)
	t.Logf("run took %s\n%s", time.Since(start).Round(time.Second), out)
	if code != 0 {
		t.Fatalf("run exited %d", code)
	}
	r := loadResult(t, art)
	if r.Images == nil || r.Images.Source != "upstream" || r.Images.Mirror != serve.addr || len(r.Images.Refs) != len(upstream) {
		t.Errorf("result images %+v, want upstream through %s", r.Images, serve.addr)
	}
	if want := "images: upstream, pulled by the nodes through the registry mirror " + serve.addr; !strings.Contains(out, want) {
		t.Errorf("output lacks %q", want)
	}

	// The nodes: the mirror configured, the upstream names present, the local ones never loaded.
	nodes := []string{runID + "-control-plane", runID + "-worker"}
	nodeIPs := map[string]string{}
	for _, n := range nodes {
		nodeIPs[docker(t, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", n)] = n
		r0, _ := images.ParseRef(upstream[0].Ref)
		if hosts := onNode(t, n, "cat", "/etc/containerd/certs.d/"+r0.Registry+"/hosts.toml"); !strings.Contains(hosts, `[host."http://`+serve.addr+`"]`) {
			t.Errorf("%s: hosts.toml of %s:\n%s", n, r0.Registry, hosts)
		}
		have := onNode(t, n, "crictl", "images", "-o", "json")
		for _, img := range upstream {
			if !strings.Contains(have, `"`+img.Ref+`"`) {
				t.Errorf("%s: %s is not in the node's containerd", n, img.Ref)
			}
			if strings.Contains(have, `"`+qualified(localByName[img.Name])+`"`) {
				t.Errorf("%s: the local image %s was loaded", n, localByName[img.Name])
			}
		}
	}
	serve.stop(t)

	// The registry answered every node for each image's manifest, and served the images' content:
	// blobs of more than a MiB (the provider's layers; components that are one image, as flannel's
	// local build serves both of its, are fetched once per node).
	pulls := serve.pulls(t)
	for ip, n := range nodeIPs {
		var bytes int64
		for _, img := range upstream {
			r0, _ := images.ParseRef(img.Ref)
			p := pulls[ip+" "+r0.Repository]
			if p.manifests == 0 {
				t.Errorf("%s (%s) did not ask the mirror for %s's manifest: %+v", n, ip, img.Ref, p)
			}
			bytes += p.bytes
		}
		if bytes < 1<<20 {
			t.Errorf("%s (%s) fetched %d bytes of blobs from the mirror; access log:\n%s", n, ip, bytes, serve.log(t))
		}
	}
	for key := range pulls {
		if ip, _, _ := strings.Cut(key, " "); nodeIPs[ip] == "" {
			t.Errorf("pulls from %s, which is no node of the cluster (%v)", key, nodeIPs)
		}
	}
	// Before anything was created, netconform asked the mirror for each manifest.
	for _, img := range upstream {
		r0, _ := images.ParseRef(img.Ref)
		if want := `"HEAD /v2/` + r0.Repository + `/manifests/` + r0.Tag + `?ns=` + r0.Registry + ` HTTP/1.1" 200 `; !strings.Contains(serve.log(t), want) {
			t.Errorf("the access log lacks netconform's check %s", want)
		}
	}
	t.Logf("registry mirror %s served: %v", serve.addr, pulls)
}

// upstreamImages are the provider's upstream images (the components of its installer).
func upstreamImages(t *testing.T, name string) []providers.Image {
	t.Helper()
	p, err := catalog.Registry{}.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	ki, ok := p.(providers.KindInstallable)
	if !ok {
		t.Fatalf("%s does not install on kind", name)
	}
	in, _, err := ki.KindInstaller(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	imgs := providers.UpstreamImages(in)
	if len(imgs) == 0 {
		t.Fatalf("%s runs no images", name)
	}
	return imgs
}

// qualified is ref as the nodes' containerd names it.
func qualified(ref string) string {
	r, err := images.ParseRef(ref)
	if err != nil {
		return ref
	}
	return r.String()
}

// freePort is a TCP port free on this machine now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// registryProc is a running distribution registry.
type registryProc struct {
	addr    string
	cmd     *exec.Cmd
	logPath string
	done    chan error
}

// startRegistry starts the registry on addr with its storage in store (read-only when readOnly:
// the nodes only pull) and waits until it answers, within 30 s; the test's end stops it.
func startRegistry(t *testing.T, binary, store, addr string, readOnly bool) *registryProc {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %s
  maintenance:
    uploadpurging:
      enabled: false
    readonly:
      enabled: %t
http:
  addr: %s
`, store, readOnly, addr)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &registryProc{addr: addr, logPath: filepath.Join(dir, "access.log"), done: make(chan error, 1)}
	logf, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	errf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(binary, "serve", cfgPath)
	// The access log (one line per request) goes to stdout, the registry's own log to stderr.
	p.cmd.Stdout, p.cmd.Stderr = logf, errf
	p.cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start registry: %v", err)
	}
	go func() { p.done <- p.cmd.Wait(); logf.Close(); errf.Close() }()
	t.Cleanup(func() { p.stop(t) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-p.done:
			b, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("registry on %s exited: %v\n%s", addr, err, b)
		case <-ctx.Done():
			b, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("registry on %s does not answer within 30s: %v\n%s", addr, err, b)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop ends the registry (SIGTERM, then SIGKILL after 10 s); stopping it twice is fine.
func (p *registryProc) stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *registryProc) log(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pull is what one client fetched of one repository: manifests asked for (containerd resolves a
// name with HEAD, and GETs the manifest only when its content store lacks that digest, as for a
// second name of the same image) and blobs fetched, each answered 200, and the bytes of the blobs.
type pull struct {
	manifests, blobs int
	bytes            int64
}

// combined is a line of the access log (Apache's combined format).
var combined = regexp.MustCompile(`^(\S+) \S+ \S+ \[[^\]]+\] "(GET|HEAD) /v2/(\S+)/(manifests|blobs)/(\S+) HTTP/[\d.]+" (\d+) (\d+) "[^"]*" "([^"]*)"`)

// pulls are containerd's successful manifest requests and blob GETs in the access log by client
// address and repository ("IP REPO").
func (p *registryProc) pulls(t *testing.T) map[string]pull {
	t.Helper()
	out := map[string]pull{}
	sc := bufio.NewScanner(strings.NewReader(p.log(t)))
	for sc.Scan() {
		m := combined.FindStringSubmatch(sc.Text())
		// netconform's own check before the run asks for the manifests too (Go's HTTP client,
		// from this machine): only containerd's requests are the nodes' pulls.
		if m == nil || m[6] != "200" || (m[2] == "HEAD" && m[4] == "blobs") || !strings.HasPrefix(m[8], "containerd/") {
			continue
		}
		key := m[1] + " " + m[3]
		pl := out[key]
		if m[4] == "manifests" {
			pl.manifests++
		} else {
			pl.blobs++
			var n int64
			fmt.Sscan(m[7], &n)
			pl.bytes += n
		}
		out[key] = pl
	}
	return out
}
