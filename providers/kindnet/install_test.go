package kindnet

import (
	"slices"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/internal/golden"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/manifest"
)

// The cases as a user gives them (--provider-option), so that the parsing is compared too.
func TestManifestGolden(t *testing.T) {
	for name, kv := range map[string]map[string]string{
		"default.yaml":  nil,
		"loglevel.yaml": {"logLevel": "4", "networkPolicies": "true", "dnsCaching": "false", "nat64": "false"},
	} {
		o, err := OptionsFrom(kv)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		o.PodSubnet = "10.244.0.0/16"
		objs, err := o.Objects()
		if err != nil {
			t.Fatal(err)
		}
		y, err := manifest.YAML(objs)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, name, y)
	}
}

// kops' options that kind's kindnetd cannot follow are refused, each saying why; those that ask
// for what it does anyway are accepted.
func TestOptionsKindsKindnetdCannotFollow(t *testing.T) {
	for kv, want := range map[[2]string]string{
		{"networkPolicies", "false"}:             "always enforces NetworkPolicy",
		{"adminNetworkPolicies", "true"}:         "has no adminNetworkPolicies",
		{"baselineAdminNetworkPolicies", "true"}: "has no baselineAdminNetworkPolicies",
		{"dnsCaching", "true"}:                   "has no dnsCaching",
		{"nat64", "true"}:                        "has no nat64",
		{"fastPathThreshold", "0"}:               "has no fast path",
		{"version", "v1.0.1"}:                    "registry.k8s.io/networking/kindnet",
		{"logLevel", "-1"}:                       "want a verbosity",
		{"masquerade", "true"}:                   "unknown option",
	} {
		_, err := OptionsFrom(map[string]string{kv[0]: kv[1]})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=%s: %v, want it to say %q", kv[0], kv[1], err, want)
		}
	}
	for _, ok := range []map[string]string{{"networkPolicies": "true"}, {"adminNetworkPolicies": "false"}, {"logLevel": "0"}} {
		if _, err := OptionsFrom(ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	// Every option the catalog lists is one OptionsFrom knows (accepts or refuses by name).
	for _, opt := range New().Descriptor().Options {
		_, err := OptionsFrom(map[string]string{opt.Name: "1"})
		if err != nil && strings.Contains(err.Error(), "unknown option") {
			t.Errorf("catalog option %s is unknown to the installer", opt.Name)
		}
	}
}

func TestKindInstaller(t *testing.T) {
	in, h, err := New().KindInstaller(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !h.NodeRoutes || h.EncapOverhead != 0 || h.PodMTU(1500, 0) != 1500 {
		t.Errorf("healthy %+v: want routes via the peers and the underlay MTU", h)
	}
	imgs := in.(providers.UpstreamImager).UpstreamImages()
	if len(imgs) != 1 || !slices.Equal([]string{imgs[0].Ref}, New().Descriptor().Kind.Images) || imgs[0].Ref != "docker.io/kindest/kindnetd:v20260820-69b56db7" {
		t.Errorf("images %v, catalog %v", imgs, New().Descriptor().Kind.Images)
	}
	if _, _, err := New().KindInstaller(nil, 1400); err == nil {
		t.Error("--mtu accepted")
	}
	o := Options{PodSubnet: "10.244.0.0/16", Image: "local/kindnetd:x"}
	if (Installer{Options: o}).UpstreamImages()[0].Ref != "local/kindnetd:x" {
		t.Error("an image given for the run is not the one run")
	}
}

func TestLogLevelKeepsTheBinary(t *testing.T) {
	n := 3
	objs, err := Options{PodSubnet: "10.244.0.0/16", LogLevel: &n}.Objects()
	if err != nil {
		t.Fatal(err)
	}
	y, _ := manifest.YAML(objs)
	// The image has a CMD and no ENTRYPOINT: flags alone (args) would replace the binary.
	if !strings.Contains(string(y), "command:\n        - /bin/kindnetd\n        - --v=3") || strings.Contains(string(y), "args:") {
		t.Errorf("logLevel must run /bin/kindnetd --v=3:\n%s", y)
	}
}

func TestMissingRoutes(t *testing.T) {
	nodes := []kube.Node{
		{Name: "a", PodCIDR: "10.244.0.0/24", InternalIP: "172.18.0.2"},
		{Name: "b", PodCIDR: "10.244.1.0/24", InternalIP: "172.18.0.3"},
		{Name: "c", PodCIDR: "10.244.2.0/24", InternalIP: "172.18.0.4"},
	}
	routes := "default via 172.18.0.1 dev eth0 \n10.244.1.0/24 via 172.18.0.3 dev eth0 \n10.244.2.0/24 via 172.18.0.9 dev eth0 \n"
	if got := MissingRoutes(routes, "a", nodes); !slices.Equal(got, []string{"10.244.2.0/24 via 172.18.0.4"}) {
		t.Errorf("missing = %v", got)
	}
}
