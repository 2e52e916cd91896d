package catalog

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/images"
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/weave"
)

func descriptor(t *testing.T, name string) providers.Descriptor {
	t.Helper()
	p, err := Lookup(name)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", name, err)
	}
	return p.Descriptor()
}

func TestAllIsTheGuidePlusKindnetInStableOrder(t *testing.T) {
	want := []string{"kubenet", "cni", "classic", "external", "calico", "canal", "flannel", "kopeio",
		"kuberouter", "romana", "weave", "amazonvpc", "cilium", "lyftvpc", "gce", "kindnet"}
	var got []string
	for _, p := range All() {
		got = append(got, p.Descriptor().Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("All() names = %v\nwant %v", got, want)
	}
}

func TestDescriptorsAreComplete(t *testing.T) {
	seen := map[string]string{}
	for _, p := range All() {
		d := p.Descriptor()
		if d.Name != d.SpecKey {
			t.Errorf("%s: name and spec key differ (%s)", d.Name, d.SpecKey)
		}
		if d.Title == "" || d.Summary == "" || len(d.KopsValues) == 0 {
			t.Errorf("%s: missing title, summary or kops values", d.Name)
		}
		if d.Lifecycle.Status == "" || d.Encapsulation.Kind == "" || d.Kind.Status == "" || d.Kind.Reason == "" {
			t.Errorf("%s: missing lifecycle status, encapsulation or kind support", d.Name)
		}
		if !d.Platforms.AnyCloud && len(d.Platforms.Clouds) == 0 {
			t.Errorf("%s: runs nowhere", d.Name)
		}
		for _, name := range append([]string{d.Name}, d.KopsValueNames()...) {
			if other, dup := seen[name]; dup && other != d.Name {
				t.Errorf("name %q used by %s and %s", name, other, d.Name)
			}
			seen[name] = d.Name
		}
		for _, o := range d.Options {
			if o.Name == "" || o.Type == "" || o.Description == "" || o.Default == "" {
				t.Errorf("%s option %+v: incomplete", d.Name, o)
			}
			if !o.InSpec && o.Source == "" {
				t.Errorf("%s option %s: not in the spec but no source", d.Name, o.Name)
			}
			if o.Type == providers.TypeString && len(o.Enum) > 0 && !slices.Contains(o.Enum, o.Default) {
				t.Errorf("%s option %s: default %q not in enum %v", d.Name, o.Name, o.Default, o.Enum)
			}
		}
		if _, err := json.Marshal(d); err != nil {
			t.Errorf("%s: not JSON-encodable: %v", d.Name, err)
		}
	}
}

func TestDescriptorCallsDoNotShareState(t *testing.T) {
	p, _ := Lookup("cilium")
	a := p.Descriptor()
	a.Options[0].Name = "changed"
	a.KopsValues[1].Presets["etcdManaged"] = "false"
	b := p.Descriptor()
	if b.Options[0].Name == "changed" || b.KopsValues[1].Presets["etcdManaged"] != "true" {
		t.Fatal("modifying one Descriptor changed the next one")
	}
}

func TestLookup(t *testing.T) {
	for in, want := range map[string]string{
		"kubenet":               "kubenet",
		"flannel":               "flannel",
		"flannel-vxlan":         "flannel",
		"flannel-udp":           "flannel",
		"kopeio-vxlan":          "kopeio",
		"kopeio":                "kopeio",
		"kube-router":           "kuberouter",
		"kuberouter":            "kuberouter",
		"amazon-vpc-routed-eni": "amazonvpc",
		"amazonvpc":             "amazonvpc",
		"cilium-eni":            "cilium",
		"cilium-etcd":           "cilium",
		"  Calico ":             "calico",
		"lyftvpc":               "lyftvpc",
		"kindnet":               "kindnet",
	} {
		p, err := Lookup(in)
		if err != nil {
			t.Errorf("Lookup(%q): %v", in, err)
			continue
		}
		if got := p.Descriptor().Name; got != want {
			t.Errorf("Lookup(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestLookupUnknownSuggestsOrListsValidNames(t *testing.T) {
	_, err := Lookup("calcio")
	if err == nil || err.Error() != "unknown provider calcio; did you mean calico?" {
		t.Errorf("a typo gets the nearest name: %v", err)
	}
	_, err = Lookup("nothing-like-it")
	if err == nil {
		t.Fatal("Lookup(nothing-like-it) succeeded")
	}
	for _, want := range []string{`"nothing-like-it"`, "amazon-vpc-routed-eni", "flannel-udp", "kube-router", "weave"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestBySpecKeyIsExact(t *testing.T) {
	if _, ok := BySpecKey("kube-router"); ok {
		t.Error("kube-router is a --networking value, not a spec key")
	}
	if p, ok := BySpecKey("kuberouter"); !ok || p.Descriptor().Name != "kuberouter" {
		t.Error("kuberouter spec key not found")
	}
}

func TestFlannelValuesSelectBackends(t *testing.T) {
	d := descriptor(t, "flannel")
	want := map[string]string{"flannel": "vxlan", "flannel-vxlan": "vxlan", "flannel-udp": "udp"}
	for _, v := range d.KopsValues {
		if v.Presets["backend"] != want[v.Value] {
			t.Errorf("%s selects backend %q, want %q", v.Value, v.Presets["backend"], want[v.Value])
		}
	}
	p, _ := Lookup("flannel")
	if e := providers.EncapsulationOf(p, map[string]any{"backend": "udp"}); e.Kind != providers.EncapUDP || e.Overhead != 28 {
		t.Errorf("udp backend encapsulation = %+v", e)
	}
	if e := providers.EncapsulationOf(p, nil); e.Kind != providers.EncapVXLAN || e.Overhead != 50 {
		t.Errorf("default flannel encapsulation = %+v", e)
	}
}

func TestEncapsulationFollowsOptions(t *testing.T) {
	for _, tc := range []struct {
		provider string
		opts     map[string]any
		kind     providers.EncapKind
		overhead int
	}{
		{"calico", nil, providers.EncapIPIP, 20},
		{"calico", map[string]any{"encapsulationMode": "vxlan"}, providers.EncapVXLAN, 50},
		{"cilium", nil, providers.EncapVXLAN, 50},
		{"cilium", map[string]any{"ipam": "eni"}, providers.EncapNone, 0},
		{"weave", nil, weave.EncapKind, 87},
		{"canal", nil, providers.EncapVXLAN, 50},
		{"kopeio", nil, providers.EncapVXLAN, 50},
		{"kuberouter", nil, providers.EncapIPIP, 20},
		{"kubenet", nil, providers.EncapNone, 0},
		{"amazonvpc", nil, providers.EncapNone, 0},
		{"lyftvpc", nil, providers.EncapNone, 0},
		{"cni", nil, providers.EncapUnknown, 0},
	} {
		p, err := Lookup(tc.provider)
		if err != nil {
			t.Fatal(err)
		}
		e := providers.EncapsulationOf(p, tc.opts)
		if e.Kind != tc.kind || e.Overhead != tc.overhead {
			t.Errorf("%s %v: encapsulation %s/%d, want %s/%d", tc.provider, tc.opts, e.Kind, e.Overhead, tc.kind, tc.overhead)
		}
	}
}

// TestLifecycleFacts pins the facts the issue lists.
func TestLifecycleFacts(t *testing.T) {
	zero := providers.Version{}
	for _, tc := range []struct {
		provider  string
		kops, k8s providers.Version
		want      providers.Status
	}{
		{"classic", providers.V(1, 18), zero, providers.StatusRemoved},
		{"romana", providers.V(1, 18), zero, providers.StatusDeprecated},
		{"romana", providers.V(1, 19), zero, providers.StatusRemoved},
		{"lyftvpc", providers.V(1, 21), zero, providers.StatusSupported},
		{"lyftvpc", providers.V(1, 22), zero, providers.StatusDeprecated},
		{"lyftvpc", providers.V(1, 23), zero, providers.StatusRemoved},
		{"weave", providers.V(1, 27), providers.V(1, 22), providers.StatusDeprecated},
		{"weave", providers.V(1, 27), providers.V(1, 23), providers.StatusUnsupported},
		{"weave", providers.V(1, 28), providers.V(1, 22), providers.StatusRemoved},
		{"canal", zero, providers.V(1, 27), providers.StatusExperimental},
		{"canal", zero, providers.V(1, 28), providers.StatusUnsupported},
		{"cilium", zero, providers.V(1, 30), providers.StatusSupported},
		{"kindnet", zero, zero, providers.StatusExperimental},
	} {
		got := descriptor(t, tc.provider).Lifecycle.At(tc.kops, tc.k8s)
		if got.Status != tc.want {
			t.Errorf("%s with kops %v, Kubernetes %v: %s (%s), want %s", tc.provider, tc.kops, tc.k8s, got.Status, got.Reason, tc.want)
		}
	}
	if !descriptor(t, "cilium").Lifecycle.DefaultAt(providers.V(1, 26)) || descriptor(t, "cilium").Lifecycle.DefaultAt(providers.V(1, 25)) {
		t.Error("cilium must be kops' default from 1.26 on")
	}
	if !descriptor(t, "kubenet").Lifecycle.DefaultAt(providers.V(1, 25)) || descriptor(t, "kubenet").Lifecycle.DefaultAt(providers.V(1, 26)) {
		t.Error("kubenet must be kops' default before 1.26")
	}
}

func TestOptionFacts(t *testing.T) {
	for _, name := range []string{"weave", "calico"} {
		o, ok := descriptor(t, name).Option("mtu")
		if !ok || o.DefaultOnAWS != "8912" || o.Type != providers.TypeInt {
			t.Errorf("%s mtu option = %+v, want an int that kops sets to 8912 on AWS", name, o)
		}
	}
	if o, _ := descriptor(t, "weave").Option("password"); !o.Secret || o.InSpec {
		t.Errorf("weave password must be secret and outside the spec: %+v", o)
	}
	if o, _ := descriptor(t, "calico").Option("crossSubnet"); !slices.Equal(o.OnlyOn, []providers.Cloud{providers.AWS}) {
		t.Errorf("calico crossSubnet must be AWS only: %+v", o)
	}
	for provider, opts := range map[string][]string{
		"calico":    {"mtu", "crossSubnet", "typhaReplicas", "majorVersion"},
		"weave":     {"mtu", "netExtraArgs", "npcExtraArgs", "password"},
		"cilium":    {"ipam", "enableNodePort", "etcdManaged", "disableMasquerade"},
		"amazonvpc": {"env"},
		"lyftvpc":   {"subnetTags"},
		"flannel":   {"iptablesResyncSeconds", "backend"},
	} {
		d := descriptor(t, provider)
		for _, o := range opts {
			if _, ok := d.Option(o); !ok {
				t.Errorf("%s lacks option %s", provider, o)
			}
		}
	}
}

func TestRequirementFacts(t *testing.T) {
	ports := func(d providers.Descriptor) []int {
		var out []int
		for _, p := range d.Requirements.Ports {
			out = append(out, p.Port)
		}
		return out
	}
	if !slices.Contains(ports(descriptor(t, "romana")), 4001) {
		t.Error("romana needs etcd's port 4001")
	}
	for _, name := range []string{"amazonvpc", "lyftvpc", "cilium"} {
		iam := descriptor(t, name).Requirements.IAM
		if len(iam) == 0 || !slices.Contains(iam[0].Actions, "ec2:AssignPrivateIpAddresses") {
			t.Errorf("%s: IAM grants %+v lack ENI address actions", name, iam)
		}
	}
	if r := descriptor(t, "kuberouter").Requirements; r.ReplacesKubeProxy != providers.Always || r.SrcDstCheckDisabled == providers.Never {
		t.Errorf("kube-router replaces kube-proxy and needs src/dst checks off: %+v", r)
	}
	if r := descriptor(t, "calico").Requirements; !strings.Contains(string(r.SrcDstCheckDisabled), "crossSubnet") {
		t.Errorf("calico needs src/dst checks off with crossSubnet: %q", r.SrcDstCheckDisabled)
	}
	cil := descriptor(t, "cilium").Requirements
	var nodePortKernel string
	for _, k := range cil.Kernel {
		if k.MinKernel != "" {
			nodePortKernel = k.MinKernel
		}
	}
	if nodePortKernel != "4.19.57" || cil.EtcdCluster == nil || cil.EtcdCluster.Name != "cilium" {
		t.Errorf("cilium requirements wrong: kernel %q, etcd %+v", nodePortKernel, cil.EtcdCluster)
	}
	for _, name := range []string{"amazonvpc", "lyftvpc"} {
		d := descriptor(t, name)
		if d.Platforms.AnyCloud || !d.Platforms.RunsOn(providers.AWS) || d.Platforms.RunsOn(providers.GCE) {
			t.Errorf("%s must be AWS only: %+v", name, d.Platforms)
		}
	}
}

func TestPolicyAndKindFacts(t *testing.T) {
	policy := map[string]bool{"calico": true, "canal": true, "cilium": true, "kuberouter": true, "weave": true, "flannel": false, "kubenet": false, "kopeio": false}
	for name, want := range policy {
		if got := descriptor(t, name).EnforcesNetworkPolicy; got != want {
			t.Errorf("%s EnforcesNetworkPolicy = %t, want %t", name, got, want)
		}
	}
	for name, want := range map[string]providers.KindStatus{
		"flannel": providers.KindSupported, "kuberouter": providers.KindSupported, "calico": providers.KindSupported,
		"canal": providers.KindSupported, "cilium": providers.KindSupported, "kubenet": providers.KindSupported,
		"weave": providers.KindUpstreamImages, "kopeio": providers.KindUpstreamImages, "kindnet": providers.KindUpstreamImages,
		"amazonvpc": providers.KindNotApplicable, "lyftvpc": providers.KindNotApplicable,
	} {
		if got := descriptor(t, name).Kind.Status; got != want {
			t.Errorf("%s on kind = %s, want %s", name, got, want)
		}
	}
	// Those installed from upstream images name them, say why netconform builds none, and say
	// that the installer never ran here.
	for _, name := range []string{"weave", "kopeio", "kindnet"} {
		k := descriptor(t, name).Kind
		if len(k.Images) == 0 || !strings.Contains(k.NotBuilt, "not served by the Go module proxy") || !strings.Contains(k.Reason, "never ran here") {
			t.Errorf("%s on kind: images %v, not built %q, reason %q", name, k.Images, k.NotBuilt, k.Reason)
		}
	}
}

// TestRegistryIsTheCatalog checks that the Registry value answers as the package functions do,
// so code handed the registry sees the same providers as code calling the catalog.
func TestRegistryIsTheCatalog(t *testing.T) {
	var r providers.Registry = Registry{}
	var got, want []string
	for _, p := range r.All() {
		got = append(got, p.Descriptor().Name)
	}
	for _, p := range All() {
		want = append(want, p.Descriptor().Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Registry.All() = %v, want %v", got, want)
	}
	if p, err := r.Lookup("cilium-eni"); err != nil || p.Descriptor().Name != "cilium" {
		t.Errorf("Registry.Lookup(cilium-eni) = %v, %v; want cilium", p, err)
	}
	if _, err := r.Lookup("calcio"); err == nil || !strings.Contains(err.Error(), "did you mean calico") {
		t.Errorf("Registry.Lookup(calcio) error = %v, want a suggestion of calico", err)
	}
	if p, ok := r.BySpecKey("amazonvpc"); !ok || p.Descriptor().Name != "amazonvpc" {
		t.Errorf("Registry.BySpecKey(amazonvpc) = %v, %v", p, ok)
	}
	if _, ok := r.BySpecKey("Calico"); ok {
		t.Error("Registry.BySpecKey(Calico) found a provider; spec keys are case sensitive")
	}
}

// The registry's kind marks: every provider marked supported on kind installs there, and exactly
// one provider is the default and one the switch target (the Makefile and scripts ask for them).
func TestKindInstallableMatchesKindSupport(t *testing.T) {
	defaults, targets := 0, 0
	for _, p := range All() {
		d := p.Descriptor()
		_, installs := p.(providers.KindInstallable)
		if installs != d.Kind.Installs() {
			t.Errorf("%s: kind status %s, KindInstallable %t", d.Name, d.Kind.Status, installs)
		}
		// Installed from upstream images: the installer says which, as the catalog does, and
		// the default lists (--installable, the matrix) leave it out.
		if d.Kind.Status == providers.KindUpstreamImages {
			in, _, err := p.(providers.KindInstallable).KindInstaller(nil, 0)
			if err != nil {
				t.Errorf("%s: %v", d.Name, err)
				continue
			}
			var refs []string
			for _, img := range providers.ImagesToEnsure(in, nil) {
				refs = append(refs, img.Ref)
			}
			if !slices.Equal(refs, d.Kind.Images) || len(refs) == 0 {
				t.Errorf("%s: installer runs %v, catalog names %v", d.Name, refs, d.Kind.Images)
			}
			if slices.Contains(providers.Installable(Registry{}), d.Name) || d.Kind.Default || d.Kind.SwitchTarget {
				t.Errorf("%s needs images from a registry but is in the default lists", d.Name)
			}
		} else if len(d.Kind.Images) > 0 || d.Kind.NotBuilt != "" {
			t.Errorf("%s: kind status %s names upstream images %v", d.Name, d.Kind.Status, d.Kind.Images)
		}
		if d.Kind.Default {
			defaults++
		}
		if d.Kind.SwitchTarget {
			targets++
		}
		if (d.Kind.Default || d.Kind.SwitchTarget) && !installs {
			t.Errorf("%s is marked default or switch target but does not install on kind", d.Name)
		}
	}
	if defaults != 1 || targets != 1 {
		t.Errorf("%d default and %d switch target providers, want one each", defaults, targets)
	}
}

// The IP families on kind: a provider netconform installs names them (IPv4 always, and what
// its IPv6 lacks when it stops there); one it does not install names none. kubenet, the
// default, does every family.
func TestKindIPFamilies(t *testing.T) {
	for _, p := range All() {
		d := p.Descriptor()
		fams := d.Kind.IPFamilies
		if _, installs := p.(providers.KindInstallable); !installs {
			if len(fams) > 0 || d.Kind.IPv6Gap != "" {
				t.Errorf("%s does not install on kind but names IP families %v (%q)", d.Name, fams, d.Kind.IPv6Gap)
			}
			continue
		}
		if !slices.Contains(fams, ipfamily.IPv4) {
			t.Errorf("%s: IP families %v on kind, want IPv4 among them, named", d.Name, fams)
		}
		if !slices.Contains(fams, ipfamily.IPv6) && d.Kind.IPv6Gap == "" {
			t.Errorf("%s is IPv4 only on kind without saying what its IPv6 would need", d.Name)
		}
		if len(fams) == 1 && d.RefuseIPFamily(ipfamily.Dual) == nil {
			t.Errorf("%s: dual not refused", d.Name)
		}
	}
	if fams := descriptor(t, "kubenet").Kind.IPFamilies; !slices.Equal(fams, ipfamily.All()) {
		t.Errorf("kubenet on kind: %v, want %v", fams, ipfamily.All())
	}
	err := descriptor(t, "flannel").RefuseIPFamily(ipfamily.Dual)
	if err == nil || !strings.HasPrefix(err.Error(), "flannel: --ip-family dual is not supported on kind by netconform yet (IPv4 only: ") {
		t.Errorf("flannel dual: %v", err)
	}
}

// Every installer that runs images declares each one's component and upstream release reference
// (--images upstream runs those; a mirror serves them under their repository): the components of
// a provider netconform builds are the names scripts/provider-images.sh prints for its local
// images, so that --provider-image and --images upstream replace the same things; every
// reference reads as containerd reads it.
func TestUpstreamImagesNameTheLocalComponents(t *testing.T) {
	script, err := os.ReadFile("../../scripts/provider-images.sh")
	if err != nil {
		t.Fatal(err)
	}
	withImages := 0
	for _, p := range All() {
		d := p.Descriptor()
		ki, ok := p.(providers.KindInstallable)
		if !ok {
			continue
		}
		in, _, err := ki.KindInstaller(nil, 0)
		if err != nil {
			t.Errorf("%s: %v", d.Name, err)
			continue
		}
		imgs := providers.UpstreamImages(in)
		if len(imgs) == 0 {
			if d.Name != "kubenet" {
				t.Errorf("%s declares no upstream images", d.Name)
			}
			continue
		}
		withImages++
		for _, img := range imgs {
			if _, err := images.ParseRef(img.Ref); err != nil || img.Name == "" {
				t.Errorf("%s: %+v: %v", d.Name, img, err)
			}
			if d.Kind.Status == providers.KindSupported && !strings.Contains(string(script), `echo "`+img.Name+`=$`) {
				t.Errorf("%s: component %s is not an image scripts/provider-images.sh prints", d.Name, img.Name)
			}
		}
	}
	if withImages < 8 {
		t.Errorf("%d installers declare upstream images", withImages)
	}
}
