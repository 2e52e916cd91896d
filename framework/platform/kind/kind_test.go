package kind

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/ipfamily"
)

func TestNetworkArgs(t *testing.T) {
	aws := Network{MTU: 9001, Subnet: "172.20.32.0/19", Gateway: "172.20.32.1", Reserved: []string{"172.20.32.2", "172.20.32.3"}}
	cases := []struct {
		name string
		n    Network
		ipv6 string
		want string
	}{
		{"subnet, gateway, reserved", aws, "",
			"network create --driver bridge --opt com.docker.network.driver.mtu=9001 --subnet 172.20.32.0/19 --gateway 172.20.32.1" +
				" --aux-address reserved0=172.20.32.2 --aux-address reserved1=172.20.32.3 netconform-c1"},
		{"MTU only", Network{MTU: 9001}, "", "network create --driver bridge --opt com.docker.network.driver.mtu=9001 netconform-c1"},
		// Docker picks the IPv4 subnet; the IPv6 one must be named (docker 20.10 has no IPv6 pools).
		{"IPv6 only asked for", Network{}, "fd12:3456:789a::/64", "network create --driver bridge --ipv6 --subnet fd12:3456:789a::/64 netconform-c1"},
		// The IPv4 gateway and reserved addresses stay with the IPv4 subnet: docker matches them by containment.
		{"IPv4 subnet and IPv6", aws, "fd12:3456:789a::/64",
			"network create --driver bridge --opt com.docker.network.driver.mtu=9001 --subnet 172.20.32.0/19 --gateway 172.20.32.1" +
				" --aux-address reserved0=172.20.32.2 --aux-address reserved1=172.20.32.3 --ipv6 --subnet fd12:3456:789a::/64 netconform-c1"},
	}
	for _, c := range cases {
		if got := strings.Join(networkArgs("netconform-c1", c.n, c.ipv6), " "); got != c.want {
			t.Errorf("%s: docker %s\nwant   %s", c.name, got, c.want)
		}
	}
}

// netconform creates the network itself when it must say how (WithNetwork) and whenever the
// cluster has IPv6; an IPv4 cluster without WithNetwork leaves it to kind, as before.
func TestOwnsNetwork(t *testing.T) {
	for _, c := range []struct {
		opts []Option
		want bool
	}{
		{nil, false},
		{[]Option{WithIPFamily(ipfamily.IPv4)}, false},
		{[]Option{WithIPFamily(ipfamily.IPv6)}, true},
		{[]Option{WithIPFamily(ipfamily.Dual)}, true},
		{[]Option{WithNetwork(Network{MTU: 9001})}, true},
	} {
		if got := New("c1", t.TempDir(), c.opts...).ownsNetwork(); got != c.want {
			t.Errorf("%d options: ownsNetwork %v, want %v", len(c.opts), got, c.want)
		}
	}
}

// The IPv6 subnet of a cluster's docker network is a unique local /64, the same for the same
// network and attempt, another for another network or attempt.
func TestULASubnet(t *testing.T) {
	a, b := ulaSubnet("netconform-c1", 0), ulaSubnet("netconform-c1", 1)
	for _, s := range []string{a, b} {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Bits() != 64 || !p.Addr().Is6() || p.Addr().As16()[0] != 0xfd || p.Masked() != p {
			t.Errorf("%s is not a unique local /64 (%v)", s, err)
		}
	}
	if a != ulaSubnet("netconform-c1", 0) || a == b || a == ulaSubnet("netconform-c2", 0) {
		t.Errorf("not derived from name and attempt: %s %s %s", a, b, ulaSubnet("netconform-c2", 0))
	}
	if !overlapsAny("fd00:10:244:5::/64", []string{DefaultPodSubnet}, []string{DefaultPodSubnetV6}) || overlapsAny(a, []string{DefaultPodSubnetV6, DefaultSvcSubnetV6}) {
		t.Error("overlapsAny")
	}
}

// The kind config per family: kind's networking.ipFamily, one pod and one Service subnet per
// family (comma-separated, IPv4 first, as kind takes them), and PodSubnet the primary family's.
func TestConfigPerFamily(t *testing.T) {
	cases := []struct {
		family      ipfamily.Family
		opts        []Option
		pod, svc    string
		podSubnet   string
		podSubnets  []string
		kindFamily  v1alpha4.ClusterIPFamily
		podFamilies ipfamily.Family
	}{
		{ipfamily.IPv4, nil, "10.244.0.0/16", "10.96.0.0/16", "10.244.0.0/16", []string{"10.244.0.0/16"}, v1alpha4.IPv4Family, ipfamily.IPv4},
		{ipfamily.IPv6, nil, "fd00:10:244::/56", "fd00:10:96::/112", "fd00:10:244::/56", []string{"fd00:10:244::/56"}, v1alpha4.IPv6Family, ipfamily.IPv6},
		{ipfamily.Dual, nil, "10.244.0.0/16,fd00:10:244::/56", "10.96.0.0/16,fd00:10:96::/112", "10.244.0.0/16",
			[]string{"10.244.0.0/16", "fd00:10:244::/56"}, v1alpha4.DualStackFamily, ipfamily.Dual},
		// WithPodSubnet replaces the default of its own family only, whatever the order of options.
		{ipfamily.Dual, []Option{WithPodSubnet("10.200.0.0/16")}, "10.200.0.0/16,fd00:10:244::/56", "10.96.0.0/16,fd00:10:96::/112", "10.200.0.0/16",
			[]string{"10.200.0.0/16", "fd00:10:244::/56"}, v1alpha4.DualStackFamily, ipfamily.Dual},
		{ipfamily.IPv4, []Option{WithPodSubnet("10.200.0.0/16")}, "10.200.0.0/16", "10.96.0.0/16", "10.200.0.0/16", []string{"10.200.0.0/16"}, v1alpha4.IPv4Family, ipfamily.IPv4},
	}
	for _, c := range cases {
		t.Run(string(c.family), func(t *testing.T) {
			k := New("c1", t.TempDir(), append(c.opts, WithIPFamily(c.family), WithWorkers(1))...)
			cfg := k.Config()
			n := cfg.Networking
			if n.IPFamily != c.kindFamily || n.PodSubnet != c.pod || n.ServiceSubnet != c.svc || !n.DisableDefaultCNI {
				t.Errorf("networking %+v", n)
			}
			if k.PodSubnet() != c.podSubnet || !slices.Equal(k.PodSubnets(), c.podSubnets) || k.IPFamily() != c.family {
				t.Errorf("PodSubnet %s PodSubnets %v IPFamily %s", k.PodSubnet(), k.PodSubnets(), k.IPFamily())
			}
			// What kind's validation asks: one CIDR per family the cluster has.
			for _, list := range []string{n.PodSubnet, n.ServiceSubnet} {
				if f, ok := ipfamily.OfCIDRs(strings.Split(list, ",")); !ok || f != c.podFamilies {
					t.Errorf("%s: families %s, want %s", list, f, c.podFamilies)
				}
			}
			if len(cfg.Nodes) != 2 || cfg.Nodes[0].Role != v1alpha4.ControlPlaneRole {
				t.Errorf("nodes %+v", cfg.Nodes)
			}
		})
	}
	// The default is IPv4, as every cluster was before --ip-family.
	if n := New("c1", t.TempDir()).Config().Networking; n.IPFamily != v1alpha4.IPv4Family || n.PodSubnet != DefaultPodSubnet {
		t.Errorf("default networking %+v", n)
	}
}

// Delete finds a leftover external agent by the label framework/agents gives it, on the
// cluster's network.
func TestExternalListArgs(t *testing.T) {
	got := strings.Join(externalListArgs(New("c1", t.TempDir()).NetworkName()), " ")
	if want := "ps -aq --filter network=netconform-c1 --filter label=" + agents.ExternalLabel; got != want {
		t.Errorf("docker %s\nwant   %s", got, want)
	}
}

// Without a mirror the kind config patches nothing; with one, containerd's registry
// configuration is pointed at certs.d for both config versions (kind applies the patch whose
// version matches the node's config and skips the other), and each patch is TOML containerd reads.
func TestRegistryMirrorConfig(t *testing.T) {
	if p := New("c1", t.TempDir(), WithNodeImage("n")).Config().ContainerdConfigPatches; p != nil {
		t.Errorf("no mirror, patches %q", p)
	}
	m := Mirror{Host: "172.17.0.1:5000", Registries: []string{"docker.io", "quay.io", "ghcr.io", "registry.k8s.io"}}
	patches := New("c1", t.TempDir(), WithNodeImage("n"), WithRegistryMirror(m)).Config().ContainerdConfigPatches
	if len(patches) != 2 {
		t.Fatalf("patches %q", patches)
	}
	want := map[int64]string{2: "io.containerd.grpc.v1.cri", 3: "io.containerd.cri.v1.images"}
	for _, p := range patches {
		var cfg struct {
			Version int64
			Plugins map[string]struct {
				Registry struct {
					ConfigPath string `toml:"config_path"`
				}
			}
		}
		md, err := toml.Decode(p, &cfg)
		if err != nil {
			t.Fatalf("patch %q: %v", p, err)
		}
		plugin, ok := want[cfg.Version]
		if !ok || len(cfg.Plugins) != 1 || cfg.Plugins[plugin].Registry.ConfigPath != "/etc/containerd/certs.d" || len(md.Undecoded()) != 0 {
			t.Errorf("patch %q: version %d, plugins %+v, undecoded %v", p, cfg.Version, cfg.Plugins, md.Undecoded())
		}
		delete(want, cfg.Version)
	}
}

// One hosts.toml per registry: the mirror first, over plain HTTP, for pulls and resolves; the
// registry itself as the server behind it (Docker Hub's is registry-1.docker.io).
func TestHostsTOML(t *testing.T) {
	m := Mirror{Host: "172.17.0.1:5000", Registries: []string{"docker.io", "ghcr.io"}}
	files := m.hostsFiles()
	if len(files) != 2 {
		t.Fatalf("files %v", files)
	}
	golden := map[string]string{
		"/etc/containerd/certs.d/docker.io/hosts.toml": `# netconform --registry-mirror 172.17.0.1:5000
server = "https://registry-1.docker.io"

[host."http://172.17.0.1:5000"]
  capabilities = ["pull", "resolve"]
`,
		"/etc/containerd/certs.d/ghcr.io/hosts.toml": `# netconform --registry-mirror 172.17.0.1:5000
server = "https://ghcr.io"

[host."http://172.17.0.1:5000"]
  capabilities = ["pull", "resolve"]
`,
	}
	for p, want := range golden {
		if files[p] != want {
			t.Errorf("%s:\n%s\nwant\n%s", p, files[p], want)
		}
		// As containerd's hosts loader reads it.
		var h struct {
			Server string
			Host   map[string]struct{ Capabilities []string }
		}
		if _, err := toml.Decode(files[p], &h); err != nil || h.Host["http://172.17.0.1:5000"].Capabilities == nil || !strings.HasPrefix(h.Server, "https://") {
			t.Errorf("%s: %+v, %v", p, h, err)
		}
	}
	// An IPv6 mirror keeps its brackets in the URL.
	if got := HostsTOML("quay.io", "[fd00::1]:5000"); !strings.Contains(got, `[host."http://[fd00::1]:5000"]`) {
		t.Errorf("IPv6 mirror:\n%s", got)
	}
}

// The kubelet of 1.35 and later starts on this cgroup v1 host only with failCgroupV1 false; the
// patch must reach kind as a KubeletConfiguration patch of any API version.
func TestKubeletAllowsCgroupV1(t *testing.T) {
	patches := New("c1", t.TempDir(), WithNodeImage("n")).Config().KubeadmConfigPatches
	var found bool
	for _, p := range patches {
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(p), &doc); err != nil {
			t.Fatalf("patch %q: %v", p, err)
		}
		if doc["kind"] == "KubeletConfiguration" {
			found = true
			if _, ok := doc["apiVersion"]; ok {
				t.Errorf("patch names an apiVersion, so it misses kind's other kubeadm config versions: %q", p)
			}
			if v, ok := doc["failCgroupV1"].(bool); !ok || v {
				t.Errorf("failCgroupV1 = %v, want false", doc["failCgroupV1"])
			}
		}
	}
	if !found {
		t.Fatalf("no KubeletConfiguration patch among %q", patches)
	}
}

// The line kubelet v1.35.4 and v1.36.3 end with on this cgroup v1 host without failCgroupV1
// false (docker run --entrypoint /usr/bin/kubelet on their node images), among lines before it.
func TestKubeletError(t *testing.T) {
	log := `I1203 15:50:14.400000       1 server.go:530] "Kubelet version" kubeletVersion="v1.35.4"
E1203 15:50:14.451693       1 run.go:72] "command failed" err="failed to validate kubelet configuration, error: kubelet is configured to not run on a host using cgroup v1. cgroup v1 support is unsupported and will be removed in a future release, path: &TypeMeta{Kind:,APIVersion:,}"
`
	want := "failed to validate kubelet configuration, error: kubelet is configured to not run on a host using cgroup v1. cgroup v1 support is unsupported and will be removed in a future release, path: &TypeMeta{Kind:,APIVersion:,}"
	if got := kubeletError(log); got != want {
		t.Errorf("kubeletError = %q, want %q", got, want)
	}
	older := "E0101 00:00:00.000000 1 server.go:300] \"Failed\" failed to run Kubelet: invalid configuration: cgroup-root \"/kubelet\" doesn't exist\n"
	if got := kubeletError(older); got != `invalid configuration: cgroup-root "/kubelet" doesn't exist` {
		t.Errorf("kubeletError = %q", got)
	}
	if got := kubeletError("I0101 started\nI0101 serving\n"); got != "" {
		t.Errorf("a kubelet that did not fail: %q, want nothing", got)
	}
}

func TestKubeletConfigPatch(t *testing.T) {
	patches := New("c1", t.TempDir(), WithNodeImage("n"), WithKubeletConfig("maxPods: 50")).Config().KubeadmConfigPatches
	if len(patches) != 2 || patches[1] != "kind: KubeletConfiguration\nmaxPods: 50" {
		t.Errorf("patches %q: want the cgroup v1 one, then maxPods", patches)
	}
}
