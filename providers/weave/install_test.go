package weave

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/internal/golden"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/manifest"
)

const planted = "PLANTED-weave-password-7e3b"

// optionSets are the golden cases, as a user gives them (--provider-option), so that the
// parsing is part of what is compared.
var optionSets = map[string]map[string]string{
	"default.yaml": nil,
	"encrypted.yaml": {
		"password": planted, "mtu": "8912", "connLimit": "100", "noMasqLocal": "0",
		"netExtraArgs": "--log-level=info", "npcExtraArgs": "--log-level=debug",
		"cpuRequest": "100m", "memoryRequest": "256Mi", "cpuLimit": "1", "memoryLimit": "512Mi",
		"npcCPURequest": "20m", "npcMemoryRequest": "64Mi", "npcCPULimit": "200m", "npcMemoryLimit": "128Mi",
	},
	"version.yaml": {"version": "2.8.0"},
}

func render(t *testing.T, kv map[string]string) (Options, []byte) {
	t.Helper()
	o, err := OptionsFrom(kv)
	if err != nil {
		t.Fatal(err)
	}
	o.PodCIDR = "10.244.0.0/16"
	objs, err := o.Objects()
	if err != nil {
		t.Fatal(err)
	}
	y, err := manifest.YAML(objs)
	if err != nil {
		t.Fatal(err)
	}
	return o, y
}

func TestManifestGolden(t *testing.T) {
	for name, kv := range optionSets {
		_, y := render(t, kv)
		golden.Check(t, name, y)
	}
}

// The password reaches the cluster only through the Secret object that is applied: the YAML
// (golden files, anything shown to users), the progress line and every error say nothing of it,
// in plain text or base64.
func TestPasswordNeverInPrintedOutput(t *testing.T) {
	o, y := render(t, optionSets["encrypted.yaml"])
	leaks := []string{planted, base64.StdEncoding.EncodeToString([]byte(planted))}
	printed := map[string]string{"YAML": string(y), "progress line": o.Summary()}
	for _, bad := range []map[string]string{
		{"password": planted, "mtu": "x"},
		{"password": planted, "memoryLimit": "lots"},
		{"password": planted, "colour": "blue"},
	} {
		if _, err := OptionsFrom(bad); err != nil {
			printed["error "+err.Error()] = err.Error()
		} else {
			t.Errorf("%v accepted", bad)
		}
	}
	_, _, err := New().KindInstaller(map[string]string{"password": planted, "mtu": "1400"}, 1300)
	if err == nil {
		t.Error("--mtu 1300 with mtu=1400 accepted")
	} else {
		printed["kind installer error"] = err.Error()
	}
	for what, s := range printed {
		for _, leak := range leaks {
			if strings.Contains(s, leak) {
				t.Errorf("%s shows the password:\n%s", what, s)
			}
		}
	}
	if !strings.Contains(o.Summary(), "encryption on (password from Secret kube-system/weave-net, key network-password)") {
		t.Errorf("progress line: %s", o.Summary())
	}
	// What is applied does carry it, and weave reads it from there.
	objs, _ := o.Objects()
	var secret *corev1.Secret
	var ds *appsv1.DaemonSet
	for _, obj := range objs {
		switch v := obj.(type) {
		case *corev1.Secret:
			secret = v
		case *appsv1.DaemonSet:
			ds = v
		}
	}
	if secret == nil || secret.StringData[SecretKey] != planted {
		t.Fatalf("the Secret applied does not hold the password: %+v", secret)
	}
	var ref *corev1.SecretKeySelector
	for _, e := range ds.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "WEAVE_PASSWORD" && e.ValueFrom != nil {
			ref = e.ValueFrom.SecretKeyRef
		}
	}
	if ref == nil || ref.Name != Name || ref.Key != SecretKey {
		t.Errorf("WEAVE_PASSWORD does not read the Secret: %+v", ref)
	}
}

func TestNoPasswordNoSecret(t *testing.T) {
	_, y := render(t, nil)
	if strings.Contains(string(y), "kind: Secret") || strings.Contains(string(y), "WEAVE_PASSWORD") {
		t.Errorf("unencrypted weave renders a Secret:\n%s", y)
	}
}

func TestOptionsFrom(t *testing.T) {
	for _, bad := range []map[string]string{
		{"mtu": "big"}, {"mtu": "100"}, {"connLimit": "-1"}, {"noMasqLocal": "yes"}, {"cpuRequest": "fast"},
		{"npcMemoryLimit": "1 GB"}, {"version": "weaveworks/weave-kube:2.8.1"}, {"encapsulation": "vxlan"},
	} {
		if _, err := OptionsFrom(bad); err == nil {
			t.Errorf("OptionsFrom(%v) accepted", bad)
		}
	}
	// Every option the catalog lists for kops is one the installer reads.
	for _, opt := range New().Descriptor().Options {
		v := map[providers.OptionType]string{providers.TypeInt: "1400", providers.TypeString: "100m"}[opt.Type]
		if opt.Name == "version" {
			v = "2.8.1"
		}
		if opt.Name == "password" {
			v = "long-enough-password"
		}
		if _, err := OptionsFrom(map[string]string{opt.Name: v}); err != nil {
			t.Errorf("catalog option %s: %v", opt.Name, err)
		}
	}
}

func TestKindInstallerMTU(t *testing.T) {
	for _, tc := range []struct {
		settings map[string]string
		mtu      int
		want     int
	}{
		{nil, 0, DefaultMTU},
		{nil, 1400, 1400},
		{map[string]string{"mtu": "1300"}, 0, 1300},
		{map[string]string{"mtu": "1300"}, 1300, 1300},
	} {
		in, h, err := New().KindInstaller(tc.settings, tc.mtu)
		if err != nil {
			t.Fatalf("%v --mtu %d: %v", tc.settings, tc.mtu, err)
		}
		if h.PodMTU(1500, 0) != tc.want || in.(Installer).Options.PodMTU() != tc.want || !slices.Equal(h.Devices, []string{Bridge}) || h.NodeRoutes {
			t.Errorf("%v --mtu %d: healthy %+v, want pod MTU %d on the weave bridge", tc.settings, tc.mtu, h, tc.want)
		}
	}
}

// The images the catalog names are the ones the installer runs with default options; a version
// or --provider-image changes them.
func TestUpstreamImages(t *testing.T) {
	in, _, err := New().KindInstaller(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, img := range in.(providers.UpstreamImager).UpstreamImages() {
		refs = append(refs, img.Ref)
	}
	if want := New().Descriptor().Kind.Images; !slices.Equal(refs, want) || !slices.Equal(want, []string{"weaveworks/weave-kube:2.8.1", "weaveworks/weave-npc:2.8.1"}) {
		t.Errorf("installer runs %v, catalog says %v", refs, want)
	}
	in, _, _ = New().KindInstaller(map[string]string{"version": "2.8.0"}, 0)
	if got := in.(providers.UpstreamImager).UpstreamImages(); got[0].Ref != "weaveworks/weave-kube:2.8.0" || got[1].Ref != "weaveworks/weave-npc:2.8.0" {
		t.Errorf("version 2.8.0: %v", got)
	}
	given := providers.ImagesToEnsure(in, map[string]string{NPCImageName: "local/npc:x"})
	if len(given) != 1 || given[0].Name != KubeImageName {
		t.Errorf("an image given with --provider-image is not looked for: %v", given)
	}
}

func TestNodeProblem(t *testing.T) {
	up := kube.Node{Name: "a", Conditions: []corev1.NodeCondition{{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse, Reason: upReason}}}
	if p := NodeProblem(up); p != "" {
		t.Errorf("up node: %s", p)
	}
	other := kube.Node{Name: "b", Conditions: []corev1.NodeCondition{{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse, Reason: "RouteCreated"}}}
	if p := NodeProblem(other); !strings.Contains(p, "want False (WeaveIsUp)") {
		t.Errorf("another provider's condition: %q", p)
	}
	if p := NodeProblem(kube.Node{Name: "c"}); !strings.Contains(p, "no NetworkUnavailable condition") {
		t.Errorf("no condition: %q", p)
	}
}
