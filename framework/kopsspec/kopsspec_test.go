package kopsspec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netconform/netconform/fixtures/kops"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := fs.ReadFile(kops.Files, name)
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return data
}

func parseFixture(t *testing.T, name string) *Set {
	t.Helper()
	set, err := Parse(name, fixture(t, name))
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return set
}

// lineOf returns the 1-based line of the first line in data containing s.
func lineOf(t *testing.T, data []byte, s string) int {
	t.Helper()
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%q not in fixture", s)
	return 0
}

func TestParseV1alpha2Cluster(t *testing.T) {
	const name = "calico-aws-valid.yaml"
	data := fixture(t, name)
	set := parseFixture(t, name)
	if len(set.Clusters) != 1 || len(set.InstanceGroups) != 2 {
		t.Fatalf("got %d clusters, %d instance groups; want 1 and 2", len(set.Clusters), len(set.InstanceGroups))
	}
	c := set.Clusters[0]
	if c.Name != "calico.example.com" || c.APIVersion != "kops.k8s.io/v1alpha2" || c.File != name || c.Doc != 1 {
		t.Errorf("cluster identity = %q %q %q doc %d", c.Name, c.APIVersion, c.File, c.Doc)
	}
	if c.KubernetesVersion.Value != "1.29.3" || c.CloudProvider.Value != "aws" || c.CloudProvider.Path != "spec.cloudProvider" {
		t.Errorf("version/cloud = %+v %+v", c.KubernetesVersion, c.CloudProvider)
	}
	if c.TopologyNodes.Value != "private" || c.TopologyControlPlane.Value != "private" ||
		c.TopologyControlPlane.Line != lineOf(t, data, "masters: private") {
		t.Errorf("topology = %+v %+v", c.TopologyControlPlane, c.TopologyNodes)
	}
	if c.KubeProxyEnabled.Set {
		t.Error("kubeProxy.enabled should be absent")
	}
	var etcd []string
	for _, e := range c.EtcdClusters {
		etcd = append(etcd, e.Value)
	}
	if !slices.Equal(etcd, []string{"main", "events"}) || c.EtcdClustersPath != "spec.etcdClusters" {
		t.Errorf("etcd clusters = %v at %s", etcd, c.EtcdClustersPath)
	}
	if len(c.Subnets) != 2 || c.Subnets[0].Type != "Private" || c.Subnets[1].Name != "utility-eu-west-1a" {
		t.Errorf("subnets = %+v", c.Subnets)
	}
	if len(c.Networking.Providers) != 1 {
		t.Fatalf("providers = %+v", c.Networking.Providers)
	}
	b := c.Networking.Providers[0]
	if b.Key != "calico" || b.Path != "spec.networking.calico" || b.Line != lineOf(t, data, "    calico:") {
		t.Errorf("block = %s at %s line %d", b.Key, b.Path, b.Line)
	}
	if b.Options["mtu"] != 8912 || b.Options["crossSubnet"] != true || b.Options["majorVersion"] != "v3" {
		t.Errorf("options = %#v", b.Options)
	}
	if b.OptionLine("mtu") != lineOf(t, data, "mtu: 8912") || b.OptionPath("mtu") != "spec.networking.calico.mtu" {
		t.Errorf("mtu at %s line %d", b.OptionPath("mtu"), b.OptionLine("mtu"))
	}
	if b.OptionLine("absent") != b.Line {
		t.Error("an absent option should point at its block")
	}
	ig := set.InstanceGroups[1]
	if ig.Name != "nodes-eu-west-1a" || ig.ClusterName != "calico.example.com" || ig.Role.Value != "Node" ||
		ig.MaxSize.Value != 80 || ig.MinSize.Value != 2 || !slices.Equal(ig.Subnets.Value, []string{"eu-west-1a"}) {
		t.Errorf("instance group = %+v", ig)
	}
	if ig.MaxSize.Line != lineOf(t, data, "maxSize: 80") || ig.MaxSize.Path != "spec.maxSize" || ig.Doc != 3 {
		t.Errorf("maxSize at %s line %d, doc %d", ig.MaxSize.Path, ig.MaxSize.Line, ig.Doc)
	}
	if set.InstanceGroups[0].Role.Value != "Master" {
		t.Errorf("control plane role = %q", set.InstanceGroups[0].Role.Value)
	}
}

func TestParseV1alpha3Cluster(t *testing.T) {
	const name = "v1alpha3-cilium-valid.yaml"
	data := fixture(t, name)
	c := parseFixture(t, name).Clusters[0]
	if c.CloudProvider.Value != "aws" || c.CloudProvider.Path != "spec.cloudProvider.aws" {
		t.Errorf("cloud = %+v", c.CloudProvider)
	}
	if c.NetworkID.Value != "vpc-0123456789abcdef0" || c.NetworkID.Path != "spec.networking.networkID" {
		t.Errorf("networkID = %+v", c.NetworkID)
	}
	if c.TopologyControlPlane.Value != "private" || c.TopologyControlPlane.Path != "spec.networking.topology.controlPlane" {
		t.Errorf("topology = %+v", c.TopologyControlPlane)
	}
	if !c.KubeProxyEnabled.Set || c.KubeProxyEnabled.Value || c.KubeProxyEnabled.Line != lineOf(t, data, "enabled: false") {
		t.Errorf("kubeProxy.enabled = %+v", c.KubeProxyEnabled)
	}
	if len(c.Networking.Providers) != 1 || c.Networking.Providers[0].Key != "cilium" {
		t.Errorf("layout keys must not count as providers: %+v", c.Networking.Providers)
	}
	if len(c.Subnets) != 2 || c.Subnets[0].Path != "spec.networking.subnets[0]" {
		t.Errorf("subnets = %+v", c.Subnets)
	}
}

func TestParseList(t *testing.T) {
	const name = "list-kubenet-private.yaml"
	data := fixture(t, name)
	set := parseFixture(t, name)
	if len(set.Clusters) != 1 || len(set.InstanceGroups) != 1 {
		t.Fatalf("got %d clusters, %d instance groups", len(set.Clusters), len(set.InstanceGroups))
	}
	b := set.Clusters[0].Networking.Providers[0]
	if b.Path != "items[0].spec.networking.kubenet" || b.Line != lineOf(t, data, "kubenet: {}") {
		t.Errorf("block at %s line %d", b.Path, b.Line)
	}
	if ig := set.InstanceGroups[0]; ig.MaxSize.Path != "items[1].spec.maxSize" || ig.MaxSize.Value != 4 {
		t.Errorf("instance group maxSize = %+v", ig.MaxSize)
	}
}

func TestInstanceGroupsFor(t *testing.T) {
	set := &Set{}
	for _, f := range []string{"split-cluster.yaml", "split-igs.yaml", "kubenet-public-valid.yaml"} {
		set.Add(parseFixture(t, f))
	}
	if len(set.Clusters) != 2 {
		t.Fatalf("clusters = %d", len(set.Clusters))
	}
	for _, c := range set.Clusters {
		igs := set.InstanceGroupsFor(c)
		if len(igs) != 2 {
			t.Errorf("%s: %d instance groups, want 2", c.Name, len(igs))
		}
		for _, ig := range igs {
			if ig.ClusterName != c.Name {
				t.Errorf("%s got instance group %s of %s", c.Name, ig.Name, ig.ClusterName)
			}
		}
	}
	// Unlabelled instance groups go to the only cluster.
	one, err := Parse("x.yaml", []byte(`apiVersion: kops.k8s.io/v1alpha2
kind: Cluster
metadata: {name: a}
spec: {}
---
apiVersion: kops.k8s.io/v1alpha2
kind: InstanceGroup
metadata: {name: nodes}
spec: {role: Node, maxSize: 3}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := one.InstanceGroupsFor(one.Clusters[0]); len(got) != 1 {
		t.Errorf("unlabelled instance group not assigned: %d", len(got))
	}
}

func TestOtherDocumentsAreKeptApart(t *testing.T) {
	set, err := Parse("mixed.yaml", []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data: {a: b}
---
apiVersion: kops.k8s.io/v1alpha2
kind: SSHCredential
metadata: {name: admin}
spec: {publicKey: "ssh-ed25519 AAAA"}
---
---
apiVersion: kops.k8s.io/v1alpha2
kind: Cluster
metadata: {name: c}
spec: {networking: {kubenet: null}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Others) != 2 || set.Others[0].Kind != "ConfigMap" || set.Others[1].Kind != "SSHCredential" {
		t.Errorf("others = %+v", set.Others)
	}
	if len(set.Clusters) != 1 || set.Clusters[0].Doc != 4 || len(set.Clusters[0].Networking.Providers) != 1 {
		t.Errorf("cluster = %+v", set.Clusters)
	}
}

func TestParseErrors(t *testing.T) {
	type tc struct {
		name     string
		file     string
		data     string
		wantLine int
		wantPath string
		wantMsg  string
	}
	cases := []tc{
		{name: "bad indentation", file: "malformed-indentation.yaml", wantLine: 8, wantMsg: "invalid YAML"},
		{name: "string maxSize", file: "malformed-maxsize-string.yaml", wantLine: 18, wantPath: "spec.maxSize", wantMsg: `want an integer, got the string "three"`},
		{name: "old apiVersion", file: "malformed-apiversion.yaml", wantLine: 1, wantPath: "apiVersion", wantMsg: `unsupported apiVersion "kops.k8s.io/v1alpha1"`},
		{name: "networking scalar", file: "malformed-networking-scalar.yaml", wantLine: 8, wantPath: "spec.networking", wantMsg: `want a mapping, got the string "calico"`},
		{name: "duplicate key", file: "malformed-duplicate-key.yaml", wantLine: 12, wantPath: "spec.networking", wantMsg: "duplicate key (first at line 8)"},
		{name: "root list", file: "malformed-root-list.yaml", wantLine: 1, wantMsg: "want a mapping with apiVersion and kind, got a list"},
		{name: "NUL byte", data: "apiVersion: v1\nkind: \x00", wantLine: 2, wantMsg: "NUL byte"},
		{name: "no kind", data: "apiVersion: kops.k8s.io/v1alpha2\nmetadata: {}\n", wantLine: 1, wantMsg: "no kind"},
		{name: "no apiVersion", data: "kind: Cluster\nspec: {}\n", wantLine: 1, wantMsg: "no apiVersion"},
		{name: "no spec", data: "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata: {name: c}\n", wantLine: 2, wantMsg: `Cluster "c" has no spec`},
		{name: "float version", data: "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nspec:\n  kubernetesVersion: 1.30\n", wantLine: 4, wantPath: "spec.kubernetesVersion", wantMsg: "want a string, got float 1.30 (quote it"},
		{name: "provider scalar", data: "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nspec:\n  networking:\n    cilium: true\n", wantLine: 5, wantPath: "spec.networking.cilium", wantMsg: "want a mapping of options"},
		{name: "kubeProxy string", data: "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nspec:\n  kubeProxy:\n    enabled: \"no\"\n", wantLine: 5, wantPath: "spec.kubeProxy.enabled", wantMsg: "want true or false"},
		{name: "etcdClusters mapping", data: "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nspec:\n  etcdClusters: {main: {}}\n", wantLine: 4, wantPath: "spec.etcdClusters", wantMsg: "want a list"},
		{name: "negative size", data: "apiVersion: kops.k8s.io/v1alpha2\nkind: InstanceGroup\nspec:\n  maxSize: -3\n", wantLine: 4, wantPath: "spec.maxSize", wantMsg: "want a count"},
		{name: "two clouds", data: "apiVersion: kops.k8s.io/v1alpha3\nkind: Cluster\nspec:\n  cloudProvider: {aws: {}, gce: {}}\n", wantLine: 4, wantPath: "spec.cloudProvider", wantMsg: "exactly one cloud"},
		{name: "merge key", data: "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nspec:\n  <<: {a: 1}\n", wantLine: 4, wantPath: "spec", wantMsg: "merge keys"},
		{name: "tab indentation", data: "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nspec:\n\tnetworking: {}\n", wantLine: 4, wantMsg: "invalid YAML"},
		{name: "unterminated quote", data: "apiVersion: \"kops.k8s.io/v1alpha2\nkind: Cluster\n", wantLine: 3, wantMsg: "invalid YAML: found unexpected end of stream"},
		{name: "list item not a mapping", data: "apiVersion: v1\nkind: List\nitems:\n- just a string\n", wantLine: 4, wantPath: "items[0]", wantMsg: "want a mapping"},
		{name: "nested List", data: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n", wantLine: 0, wantMsg: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name, data := c.file, []byte(c.data)
			if c.file != "" {
				data = fixture(t, c.file)
			} else {
				name = "inline.yaml"
			}
			set, err := Parse(name, data)
			if c.wantMsg == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if len(set.Others) != 1 {
					t.Fatalf("a List inside a List should be kept as another document, got %+v", set)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v (%T), want *Error", err, err)
			}
			if pe.File != name || pe.Line != c.wantLine || pe.Path != c.wantPath || !strings.Contains(pe.Msg, c.wantMsg) {
				t.Errorf("error = file %q line %d path %q msg %q\nwant file %q line %d path %q msg containing %q",
					pe.File, pe.Line, pe.Path, pe.Msg, name, c.wantLine, c.wantPath, c.wantMsg)
			}
			if !strings.HasPrefix(pe.Error(), name+":") {
				t.Errorf("Error() = %q, want it to start with the file name", pe.Error())
			}
		})
	}
}

func TestEmptyInputHasNoDocuments(t *testing.T) {
	for _, in := range []string{"", "---\n", "# only a comment\n", "---\n---\n"} {
		set, err := Parse("e.yaml", []byte(in))
		if err != nil || len(set.Clusters)+len(set.InstanceGroups)+len(set.Others) != 0 {
			t.Errorf("Parse(%q) = %+v, %v; want an empty set", in, set, err)
		}
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, want string
	}{
		{missing, "cannot open: no such file or directory"},
		{dir, "is a directory"},
		{big, "larger than"},
	} {
		_, err := ReadFile(tc.path)
		var pe *Error
		if !errors.As(err, &pe) || pe.File != tc.path || !strings.Contains(pe.Msg, tc.want) {
			t.Errorf("ReadFile(%s) = %v, want an *Error for the file containing %q", tc.path, err, tc.want)
		}
	}
	ok := filepath.Join(dir, "ok.yaml")
	if err := os.WriteFile(ok, fixture(t, "kubenet-public-valid.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := ReadFile(ok)
	if err != nil || len(set.Clusters) != 1 || set.Clusters[0].File != ok {
		t.Errorf("ReadFile(%s) = %+v, %v", ok, set, err)
	}
}

func TestAliasesAreBounded(t *testing.T) {
	// A billion-laughs style document must fail (or succeed) quickly, never hang or panic.
	doc := `apiVersion: kops.k8s.io/v1alpha2
kind: Cluster
spec:
  networking:
    calico:
      a: &a ["x","x","x","x","x","x","x","x","x"]
      b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
      c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
      d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
      e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
      f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
      g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
`
	_, err := Parse("laughs.yaml", []byte(doc))
	var pe *Error
	if !errors.As(err, &pe) || !strings.HasPrefix(pe.Path, "spec.networking.calico.") || !strings.Contains(pe.Msg, "excessive aliasing") {
		t.Fatalf("err = %v, want an *Error about excessive aliasing under spec.networking.calico", err)
	}
}

func FuzzRead(f *testing.F) {
	entries, err := fs.ReadDir(kops.Files, ".")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		f.Add(fixture(f, e.Name()))
	}
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- *x\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse("fuzz.yaml", data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if pe.File != "fuzz.yaml" || pe.Line < 0 || pe.Msg == "" {
				t.Fatalf("error without file or message: %+v", pe)
			}
			return
		}
		if set == nil {
			t.Fatal("nil set without error")
		}
		for _, c := range set.Clusters {
			for _, b := range c.Networking.Providers {
				if b.Key == "" || b.Path == "" || b.Options == nil {
					t.Fatalf("incomplete provider block %+v", b)
				}
			}
		}
	})
}
