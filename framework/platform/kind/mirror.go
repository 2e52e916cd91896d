package kind

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
)

// certsDir is where the nodes' containerd looks for a registry's hosts.toml (its registry
// config_path): /etc/containerd/certs.d/<registry>/hosts.toml.
const certsDir = "/etc/containerd/certs.d"

// Mirror makes the nodes' containerd pull the images of Registries through the registry at Host
// (HOST[:PORT]), spoken to over plain HTTP, as a local registry would be. Each registry's
// upstream stays behind it: what the mirror does not serve containerd asks the registry itself.
type Mirror struct {
	Host       string
	Registries []string
}

// WithRegistryMirror configures every node's containerd to pull m.Registries' images through
// m.Host: kind's containerdConfigPatches point containerd's registry configuration at
// certsDir (for config version 2, containerd 1.x, and version 3, containerd 2.x: kind applies
// the one whose version matches the node's), and Create writes one hosts.toml per registry into
// every node before anything is pulled.
func WithRegistryMirror(m Mirror) Option { return func(k *Kind) { k.mirror = m } }

// containerdPatches are kind's containerdConfigPatches that make containerd read registry hosts
// from certsDir (hosts.toml, supported since containerd 1.5; the older registry.mirrors table is
// deprecated since then and gone from containerd 2's CRI configuration).
func containerdPatches() []string {
	return []string{
		"version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"" + certsDir + "\"\n",
		"version = 3\n[plugins.\"io.containerd.cri.v1.images\".registry]\n  config_path = \"" + certsDir + "\"\n",
	}
}

// upstreamServer is the registry's own endpoint, as containerd would use it without a hosts.toml.
func upstreamServer(registry string) string {
	if registry == "docker.io" {
		return "https://registry-1.docker.io"
	}
	return "https://" + registry
}

// HostsTOML is registry's hosts.toml: pull and resolve through the mirror first, over plain HTTP,
// then the registry itself (server).
func HostsTOML(registry, mirror string) string {
	return fmt.Sprintf("# netconform --registry-mirror %s\nserver = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n",
		mirror, upstreamServer(registry), "http://"+mirror)
}

// hostsFiles are the files Create writes into every node for m: path to content.
func (m Mirror) hostsFiles() map[string]string {
	out := map[string]string{}
	for _, r := range m.Registries {
		out[path.Join(certsDir, r, "hosts.toml")] = HostsTOML(r, m.Host)
	}
	return out
}

// writeMirrorConfig writes m's hosts.toml files into every node. containerd reads them at each
// pull, so nothing restarts; the nodes' own images are preloaded, so nothing was pulled before.
func (k *Kind) writeMirrorConfig(ctx context.Context) error {
	files := k.mirror.hostsFiles()
	ns, err := k.Nodes()
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var wg sync.WaitGroup
	errs := make([]error, len(ns))
	for i, n := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, p := range paths {
				if err := nodeutils.WriteFile(n, p, files[p]); err != nil {
					errs[i] = fmt.Errorf("kind: write %s on %s: %w", p, n, err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("kind: registry mirror configuration: %w", ctx.Err())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintf(k.out, "registry mirror %s (plain HTTP) for %s on %d nodes\n", k.mirror.Host, strings.Join(k.mirror.Registries, ", "), len(ns))
	return nil
}
